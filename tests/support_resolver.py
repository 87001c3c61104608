"""A fake name resolver for tests of the webhook host guard (matcher.notify.hosts): no DNS."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

Answers = dict[str, list[str]] | Callable[[str], list[str]]


def fake_resolver(monkeypatch: pytest.MonkeyPatch, answers: Answers) -> list[str]:
    """socket.getaddrinfo answers names from `answers` (a dict, or a function of the name);
    numbers as the C library does; any other name does not resolve. Returns the names asked."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            return real(name, port, *args, **{**kwargs, "flags": socket.AI_NUMERICHOST})
        except socket.gaierror:
            if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
                raise
        asked.append(name)
        got = answers(name) if callable(answers) else answers.get(name)
        if not got:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for a in got:
            if ":" in a:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port or 0, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0)))
        return out

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked
