"""Prometheus metrics: request counts and latency per route, index size, model version."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5)
StatsProvider = Callable[[], dict[str, Any] | None]


class EngineCollector(Collector):
    """Reads the engine's stats at scrape time (None while the engine is loading)."""

    def __init__(self, provider: StatsProvider):
        self.provider = provider

    def collect(self) -> Iterator[Any]:
        try:
            stats = self.provider()
        except Exception:  # a scrape must never fail because the engine is busy
            logger.warning("engine stats unavailable for /metrics", exc_info=True)
            stats = None
        ready = GaugeMetricFamily("matcher_ready", "1 when the model and index are loaded")
        ready.add_metric([], 1.0 if stats is not None else 0.0)
        yield ready
        if stats is None:
            return
        size = GaugeMetricFamily(
            "matcher_index_organisations", "Organisations in the database and the index"
        )
        size.add_metric([], float(stats.get("organisations", 0) or 0))
        yield size
        needs = GaugeMetricFamily("matcher_needs", "Needs in the database")
        needs.add_metric([], float(stats.get("needs", 0) or 0))
        yield needs
        generation = GaugeMetricFamily("matcher_index_generation", "Current index generation")
        generation.add_metric([], float(stats.get("generation", 0) or 0))
        yield generation
        info = InfoMetricFamily("matcher_model", "Model and index that serve recommendations")
        info.add_metric(
            [], {"version": str(stats.get("model", "")), "index_kind": str(stats.get("index", ""))}
        )
        yield info


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch_engine(self, provider: StatsProvider) -> None:
        self.registry.register(EngineCollector(provider))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead); labels by route template, not raw path."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - start)
