"""The referent's web console (Flask app factory, a blueprint per area). It edits the site and
the runtime state, never service files. Filled by the access and console issues."""
