"""Test helpers that make a run prove what it does not do."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest


class NetworkBlocked(RuntimeError):
    pass


def block_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every way of opening a connection raise; returns the attempts made.

    needsmap must run offline (council laptops, locked-down networks); a run that tries
    to connect fails the test even if it would have recovered from the error.
    """
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[1:2] or args[:1]))
        msg = "needsmap tried to use the network during a run"
        raise NetworkBlocked(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "sendto", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def fake_output(out: Path, files: dict[str, str]) -> Path:
    """A folder as a run leaves it: ``files`` and a run.json listing them by SHA-256."""
    from needsmap.integrity import manifest

    out.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    record = {"sha256": manifest(out, [out / rel for rel in files])}
    (out / "run.json").write_text(json.dumps(record))
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its bytes, by relative path: equal snapshots
    mean nothing was written, deleted or changed."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def strays(parent: Path) -> list[str]:
    """Hidden entries in ``parent``: where a run's staging or previous folders would be."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))
