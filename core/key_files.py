"""Secret keys generated once into private files, for a server started without one configured."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def generated_key(path: Path) -> str:
    """Returns the key kept in ``path``, creating it once with a new random key.

    The key is written to a private temporary file that is then linked into place, so a
    process starting at the same moment reads either no file or the whole key, never half.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
                os.link(temporary, path)
        finally:
            temporary.unlink()
    return path.read_text(encoding="utf-8").strip()
