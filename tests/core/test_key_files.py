"""Keys generated into files: one key however many processes start at once, private to its owner."""

from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from core.key_files import generated_key


def test_processes_starting_together_share_one_whole_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"
    with ProcessPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(generated_key, [path] * 32))
    assert len(keys) == 1
    assert len(keys.pop()) == 64  # 48 random bytes, URL-safe base64
    assert [entry.name for entry in path.parent.iterdir()] == ["secret.key"]  # no temporary left


def test_the_key_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    generated_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("kept-key\n")
    assert generated_key(path) == "kept-key"
