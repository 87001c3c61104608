"""What the HTTP layer costs per request, apart from ranking: each middleware, auth, the rate
limit, the registry check, and the whole of `POST /v1/recommendations` with a canned ranking.

    python scripts/bench_middleware.py --data-dir var            # figures in ms per request

Each middleware wraps a trivial ASGI app and is called in process (no sockets), so the figure
is its own CPU cost; the dependencies are timed as the route calls them. The end-to-end figure
replays one real recommendation through the ASGI app (routing, body parsing and validation,
auth, rate limit, the record write, serialising the response), with the engine's ranking
replaced by the canned answer: the server's cost per request for everything but ranking.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.types import Message, Receive, Scope, Send  # noqa: E402


async def _inner(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _scope() -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/recommendations",
        "raw_path": b"/v1/recommendations",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "root_path": "",
        "http_version": "1.1",
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"{}", "more_body": False}


async def _send(message: Message) -> None:
    return None


def _per_call_ms(fn: Callable[[], Any], n: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1000


async def _asgi_ms(app: Any, n: int) -> float:
    await app(_scope(), _receive, _send)
    t0 = time.perf_counter()
    for _ in range(n):
        await app(_scope(), _receive, _send)
    return (time.perf_counter() - t0) / n * 1000


def middleware_costs(n: int) -> dict[str, float]:
    from api.bodylimit import BodySizeLimitMiddleware
    from api.main import SecurityHeadersMiddleware
    from api.metrics import Metrics, MetricsMiddleware
    from api.nulguard import NulGuardMiddleware
    from api.web.errors import PageErrorsMiddleware

    metrics = Metrics()
    wrapped: dict[str, Any] = {
        "metrics": MetricsMiddleware(_inner, metrics=metrics),
        "security headers": SecurityHeadersMiddleware(_inner),
        "page errors": PageErrorsMiddleware(_inner),
        "NUL guard": NulGuardMiddleware(_inner),
        "body size limit": BodySizeLimitMiddleware(_inner, max_bytes=256 * 1024),
    }
    stack: Any = _inner
    stack = BodySizeLimitMiddleware(stack, max_bytes=256 * 1024)
    stack = NulGuardMiddleware(stack)
    stack = PageErrorsMiddleware(stack)
    stack = SecurityHeadersMiddleware(stack)
    stack = MetricsMiddleware(stack, metrics=metrics)

    async def run() -> dict[str, float]:
        bare = await _asgi_ms(_inner, n)
        out = {name: await _asgi_ms(app, n) - bare for name, app in wrapped.items()}
        out["all five"] = await _asgi_ms(stack, n) - bare
        return out

    return asyncio.run(run())


def dependency_costs(data_dir: Path, n: int) -> dict[str, float]:
    from api.keys import KeyRing
    from api.ratelimit import RateLimits
    from matcher.settings import Settings
    from matcher.store.db import Database
    from training.registry import load_published

    settings = Settings(data_dir=data_dir)
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    ring = KeyRing(db, cache_seconds=30)
    key, *_ = ring.create("bench_middleware", "reader")
    assert ring.authenticate(key) is not None
    limits = RateLimits(
        enabled=True,
        key_per_minute=1e9,
        key_burst=10**9,
        anonymous_per_minute=60,
        anonymous_burst=20,
    )

    class _Engine:  # load_published only reads and compares the registry's CURRENT
        model_version = "bench"
        weights_name = "default-weights"

        def use_default_weights(self) -> None: ...
        def use_history_model(self, _model: object) -> None: ...

    fake = _Engine()
    out = {
        "auth (cached key)": _per_call_ms(lambda: ring.cached(key), n),
        "rate limit": _per_call_ms(lambda: limits.check("k", "127.0.0.1"), n),
        "registry check": _per_call_ms(lambda: load_published(fake, data_dir), n),
    }
    db.dispose()
    return out


def end_to_end(data_dir: Path, n: int) -> dict[str, float]:
    """POST /v1/recommendations called on the ASGI app in process (no client, no sockets) with
    a canned ranking: the server's CPU for everything but ranking."""
    from api.config import ApiSettings
    from api.keys import KeyRing
    from api.main import create_app
    from matcher.domain import Need
    from matcher.engine import Engine
    from matcher.settings import Settings

    settings = Settings(data_dir=data_dir)
    engine = Engine.open(settings)
    need = {"text": "Food bank needs refrigerated vans and volunteers", "city": "Leeds"}
    canned = engine.recommend(Need.model_validate(need), limit=10)
    engine.recommend = lambda *a, **k: canned  # type: ignore[method-assign]
    api = ApiSettings(bootstrap_admin_key=False, bootstrap_sample=False, key_burst=10**6)
    app = create_app(settings, api, engine=engine)
    body = json.dumps(need).encode()
    answers: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        answers.append(message)

    async def run() -> dict[str, float]:
        async with app.router.lifespan_context(app):
            ring: KeyRing = app.state.api.keys
            key = ring.create("bench_middleware e2e", "reader")[0]
            scope = _scope()
            scope["headers"] = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-api-key", key.encode()),
            ]
            for _ in range(20):
                await app(dict(scope), receive, send)
            assert answers[0]["status"] == 200, answers
            cpu0, t0 = time.process_time(), time.perf_counter()
            for _ in range(n):
                await app(dict(scope), receive, send)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
            assert {m["status"] for m in answers if "status" in m} == {200}
            size = len(answers[-1]["body"])
        engine.close()
        return {
            "wall ms/request": wall / n * 1000,
            "CPU ms/request (all threads)": cpu / n * 1000,
            "response bytes": size,
        }

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path("var"))
    p.add_argument("-n", type=int, default=20_000, help="calls per middleware measurement")
    p.add_argument("--requests", type=int, default=500, help="end-to-end requests")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = {
        "middleware_ms": middleware_costs(args.n),
        "dependency_ms": dependency_costs(args.data_dir, args.n),
        "post_recommendations_without_ranking": end_to_end(args.data_dir, args.requests),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    for section, figures in result.items():
        print(section)
        for name, value in figures.items():
            print(f"  {name:32s} {value:10.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
