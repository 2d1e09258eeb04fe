"""Form definitions and submissions. This first version knows the pass/fail checklist."""
