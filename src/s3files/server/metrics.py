"""Prometheus metrics in a registry of the app's own (no global state)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "MetricsMiddleware"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "s3files_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "s3files_http_request_seconds",
            "Time to the response start",
            ["method", "route"],
            registry=self.registry,
        )
        self.uploaded_bytes = Counter(
            "s3files_uploaded_bytes", "Bytes stored by uploads", registry=self.registry
        )
        self.downloaded_bytes = Counter(
            "s3files_downloaded_bytes", "Bytes streamed to clients", registry=self.registry
        )
        self.files_uploaded = Counter(
            "s3files_files_uploaded", "Files uploaded", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts requests by route template (never by raw path, which would explode labels).

    The labelled series are looked up once and kept (``labels()`` takes a lock and builds
    its key on every call, on every request); at most ``_CACHED`` of each are kept, past
    that they are looked up each time."""

    _CACHED = 1024

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._latency: dict[tuple[str, str], Any] = {}
        self._requests: dict[tuple[str, str, int], Any] = {}

    def _latency_of(self, method: str, path: str) -> Any:
        key = (method, path)
        series = self._latency.get(key)
        if series is None:
            series = self.metrics.latency.labels(method, path)
            if len(self._latency) < self._CACHED:
                self._latency[key] = series
        return series

    def _requests_of(self, method: str, path: str, status: int) -> Any:
        key = (method, path, status)
        series = self._requests.get(key)
        if series is None:
            series = self.metrics.requests.labels(method, path, str(status))
            if len(self._requests) < self._CACHED:
                self._requests[key] = series
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route: Any = scope.get("route")
                path = getattr(route, "path_format", "unmatched")  # without convertors
                self._latency_of(scope["method"], path).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path_format", "unmatched")
            self._requests_of(scope["method"], path, status).inc()
