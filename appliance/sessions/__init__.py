"""Who is behind each client address right now: the sessions opened by the captive portal,
802.1X accounting, registered devices and guest vouchers, and the fast lookup the filter uses."""
