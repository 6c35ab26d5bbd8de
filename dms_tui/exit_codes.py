"""Exit codes every headless command uses (documented in `dms-tui --help` and the README)."""

OK = 0  # done; for diff: every table identical; for verify: every check passed
FAILED = 1  # the step ran and failed (or found differences): its output says what
NOT_RUN = 2  # nothing ran: bad input, nothing to run against, not confirmed, a missing binary
INTERRUPTED = 130  # Ctrl+C

# diff's documented contract (issue 7): 0 identical, 1 differences, 2 could not compare.
IDENTICAL = OK
DIFFERENT = FAILED
