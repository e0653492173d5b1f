"""Runtime checks: what the static graph cannot see, watched while the tests run."""
