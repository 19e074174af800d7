"""Filtering for minors: the Squid proxy configuration and, later, the list index, the policy
helper, the block page and DNS-level filtering (D-FIL-*)."""
