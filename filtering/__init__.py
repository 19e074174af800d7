"""Filtering for minors (D-FIL-*): the Squid configuration, the UT1 list index and its updates,
the policy helper, the block page, DNS-level filtering, and teachers' openings."""
