"""Read-your-writes across processes: a write answers `X-Change-Seq` (the change-log seq it
committed); a request carrying `min_seq=N` (query parameter) or `X-Min-Seq: N` waits, bounded
by `min_seq_wait_ms`, until this process has applied change N (matcher.replica), and gets 503
with Retry-After if it has not by then."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response
from matcher.store import changes

if TYPE_CHECKING:
    from api.state import AppState

MAX_SEQ = 2**63 - 1


def _min_seq(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-min-seq":
            return str(value.decode("latin-1"))
    query = scope.get("query_string", b"").decode("latin-1")
    if "min_seq" not in query:
        return None
    values = parse_qs(query).get("min_seq")
    return values[-1] if values else None


class ChangeSeqMiddleware:
    def __init__(self, app: ASGIApp, state: AppState):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _min_seq(scope)
        if raw is not None:
            refused = await self._wait(raw)
            if refused is not None:
                await refused(scope, receive, send)
                return
        written: list[int] = []
        token = changes.written_seqs.set(written)

        async def send_seq(message: Message) -> None:
            if message["type"] == "http.response.start" and written:
                headers = list(message.get("headers", []))
                headers.append((b"x-change-seq", str(max(written)).encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_seq)
        finally:
            changes.written_seqs.reset(token)

    async def _wait(self, raw: str) -> Response | None:
        """None when the request may go on; else the problem response to send."""
        try:
            seq = int(raw)
            if not 0 <= seq <= MAX_SEQ:
                raise ValueError
        except ValueError:
            return problem_response(
                None, 422, f"min_seq must be a non-negative integer, not {raw[:40]!r}"
            )
        follower = self.state.follower
        if follower is None or seq == 0:
            return None
        wait = self.state.api.min_seq_wait_ms / 1000.0
        if await anyio.to_thread.run_sync(follower.wait_for, seq, wait):
            return None
        return problem_response(
            None,
            503,
            f"this process has not applied change {seq} yet; retry shortly",
            headers={"Retry-After": "1"},
        )
