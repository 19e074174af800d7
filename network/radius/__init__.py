"""RADIUS and 802.1X: the FreeRADIUS configuration rendered from the site, the backend it calls
in our directory, the appliance's CA and client certificates, accounting into sessions."""
