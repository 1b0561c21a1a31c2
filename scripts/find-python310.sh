#!/usr/bin/env bash
# Prints the path of a working Python 3.10 (PATH first, then pyenv's versions), or nothing.
# pyenv's bare python3.10 shim exists but refuses while the global version is another one,
# so every candidate is actually run.
for candidate in python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
