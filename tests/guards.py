"""Test helpers that make a run prove what it does not do."""

from __future__ import annotations

import socket

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
