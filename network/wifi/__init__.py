"""Wi-Fi access points: hostapd configuration, vendor settings sheets, radio schedules and the
control of the radios (hostapd's control interface, locally or over SSH with pinned keys)."""
