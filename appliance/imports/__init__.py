"""Directory imports (D-DIR-1..3): AAF `ficAlimMENESR` XML (secondary and 1D dialects, full and
delta) and CSV, in three phases: analyse, prepare, apply (all or nothing)."""
