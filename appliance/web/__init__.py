"""The one base for every web face of the appliance (portal, block page, console): the app
factory with its security headers, sessions, CSRF, error pages and French-first i18n."""
