"""A/B updates of the image: a signed bundle (root file system, kernel, initrd) written to the
inactive root slot, booted with systemd-boot boot counting, blessed only once CARINE is healthy."""
