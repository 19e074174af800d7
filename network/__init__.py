"""Network services of the appliance: the nftables ruleset, DHCP/DNS (dnsmasq), time (chrony).

Later: captive portal, RADIUS/802.1X and access points."""
