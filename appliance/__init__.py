"""CARINE core: the site model, render/check/apply, the CLI, the lab, the state store, directory,
sessions, the legal journal and the web base.

Service packages (network, filtering, monitoring) depend on this package, never the reverse."""
