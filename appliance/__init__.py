"""CARINE core: the site model, the render/check pipeline, the CLI and the lab.

Service packages (network, filtering, monitoring) depend on this package, never the reverse."""
