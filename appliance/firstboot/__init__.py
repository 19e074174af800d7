"""The image's first boot (``carine firstboot``): find the site file, validate it, create the box's
secrets, apply it, and show the box's state on the local screen (tty1)."""
