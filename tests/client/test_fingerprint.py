"""Dataset fingerprints are deterministic, sensitive to every byte, and refuse to guess."""

from __future__ import annotations

import hashlib
import os

import pytest

from model_ledger_verify.fingerprint import MANIFEST_HEADER, FingerprintError, fingerprint


def _tree(base, files: dict[str, bytes]):
    for name, data in files.items():
        target = base / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return base


FILES = {"b.csv": b"x,y\n1,2\n", "a/part-0.parquet": b"\x00" * 5000, "a/part-1.parquet": b"\x01" * 7, "z": b""}


def test_the_root_follows_the_documented_construction(tmp_path):
    result = fingerprint(_tree(tmp_path / "data", FILES))
    lines = [MANIFEST_HEADER] + [
        f"{hashlib.sha256(FILES[name]).hexdigest()}\t{len(FILES[name])}\t{name}" for name in sorted(FILES)
    ]
    manifest = "\n".join(lines) + "\n"
    assert result.manifest() == manifest
    assert result.root == hashlib.sha256(manifest.encode()).hexdigest()
    assert result.total_bytes == sum(len(v) for v in FILES.values())


def test_creation_order_and_directory_name_do_not_change_the_root(tmp_path):
    first = _tree(tmp_path / "one", FILES)
    second = _tree(tmp_path / "completely-different-name", dict(reversed(list(FILES.items()))))
    assert fingerprint(first).root == fingerprint(second).root


def test_one_changed_byte_changes_the_root(tmp_path):
    data = _tree(tmp_path / "d", FILES)
    before = fingerprint(data).root
    (data / "a/part-0.parquet").write_bytes(b"\x00" * 4999 + b"\x01")
    assert fingerprint(data).root != before


def test_a_renamed_file_changes_the_root(tmp_path):
    data = _tree(tmp_path / "d", FILES)
    before = fingerprint(data).root
    (data / "b.csv").rename(data / "c.csv")
    assert fingerprint(data).root != before


def test_a_single_file_is_its_own_manifest(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes(b"hello")
    result = fingerprint(path)
    assert [f.path for f in result.files] == ["train.csv"]
    assert result.files[0].sha256 == hashlib.sha256(b"hello").hexdigest()


def test_it_refuses_a_missing_path(tmp_path):
    with pytest.raises(FingerprintError, match="No such file"):
        fingerprint(tmp_path / "nope")


def test_it_refuses_an_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FingerprintError, match="empty"):
        fingerprint(tmp_path / "empty")


def test_it_reports_symlinks_instead_of_skipping_them(tmp_path):
    data = _tree(tmp_path / "d", FILES)
    os.symlink(data / "b.csv", data / "link.csv")
    with pytest.raises(FingerprintError, match=r"link\.csv: symbolic link"):
        fingerprint(data)


def test_it_reports_a_symlink_loop(tmp_path):
    data = _tree(tmp_path / "d", FILES)
    os.symlink(data / "loop", data / "loop")
    with pytest.raises(FingerprintError, match="loop"):
        fingerprint(data)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_it_reports_an_unreadable_file(tmp_path):
    data = _tree(tmp_path / "d", FILES)
    (data / "b.csv").chmod(0)
    with pytest.raises(FingerprintError, match=r"b\.csv: Permission denied"):
        fingerprint(data)


def test_progress_reaches_the_total(tmp_path):
    data = _tree(tmp_path / "d", FILES)
    seen = []
    result = fingerprint(data, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (result.total_bytes, result.total_bytes)
