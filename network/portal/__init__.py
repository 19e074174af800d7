"""The captive portal (D-AUT-1, D-AUT-3, D-AUT-5): the firewall gate of portal zones, logins,
charter, vouchers and registered devices, and the sessions they open in the nftables sets."""
