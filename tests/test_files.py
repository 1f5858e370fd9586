"""Atomic writes: a file is whole or untouched, and no temporary is left behind."""

from __future__ import annotations

import pytest

from scslab.files import atomic_write_bytes, atomic_write_text, remove_temporaries


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.parquet"
    atomic_write_text(target, "old")

    def boom(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write_bytes(target, boom)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.parquet"]


def test_leftover_temporaries_are_removed(tmp_path):
    (tmp_path / ".a.json.tmp-1234abcd").write_text("x")
    (tmp_path / "shard-00001.npz.tmp-dead").write_text("x")
    (tmp_path / "keep.json").write_text("x")
    remove_temporaries(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]
