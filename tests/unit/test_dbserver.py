"""The embedded PostgreSQL helper."""

import os
import stat

from portal import dbserver


def test_runtime_dir_is_made_private_when_missing(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    dbserver._private_runtime_dir(tmp_path)
    run = tmp_path / "run"
    assert os.environ["XDG_RUNTIME_DIR"] == str(run)
    assert stat.S_IMODE(run.stat().st_mode) == 0o700


def test_a_shared_runtime_dir_is_replaced(monkeypatch, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    dbserver._private_runtime_dir(tmp_path)
    assert os.environ["XDG_RUNTIME_DIR"] == str(tmp_path / "run")


def test_a_private_runtime_dir_is_kept(monkeypatch, tmp_path):
    private = tmp_path / "mine"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(private))
    dbserver._private_runtime_dir(tmp_path)
    assert os.environ["XDG_RUNTIME_DIR"] == str(private)
