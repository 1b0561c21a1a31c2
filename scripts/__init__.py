"""Project scripts, importable so that tests can reuse their functions."""
