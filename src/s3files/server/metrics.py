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
    """Counts requests by route template (never by raw path, which would explode labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                route: Any = scope.get("route")
                path = getattr(route, "path_format", "unmatched")  # without convertors
                self.metrics.latency.labels(scope["method"], path).observe(
                    time.perf_counter() - started
                )
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            self.metrics.requests.labels(
                scope["method"], getattr(route, "path_format", "unmatched"), str(status["code"])
            ).inc()
