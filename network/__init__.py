"""Network services of the appliance: the nftables ruleset, DHCP/DNS (dnsmasq), time (chrony),
the captive portal (``portal``), RADIUS/802.1X (``radius``) and the access points (``wifi``)."""
