"""Limits applied to every request before the app parses or authenticates anything.

The outermost ASGI middleware of the service:

- headers: more than ``max_headers`` lines or ``max_header_bytes`` in all: 431
  ``headers_too_large`` (the HTTP server in front bounds what it buffers; see ``serve``);
- bodies of routes that are not uploads (JSON ...): a ``Content-Length`` over
  ``max_body_bytes`` is 413 ``body_too_large`` at once, unread; a body without one is
  counted as it arrives and cut off at the limit. Such bodies are read here, then replayed
  to the app, so that the app never sees more than the limit;
- every body, uploads included: a read timeout (no byte for ``body_read_timeout``) and a
  minimum average rate (``body_min_rate`` bytes/s after ``body_grace`` seconds), counted
  over the time spent waiting for the client only. A client that falls behind gets 408
  ``body_timeout`` and the connection is closed; an upload it was sending is aborted.

Only the upload routes (``UPLOAD_ROUTES``) may send large bodies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from s3files.server.api_error import ApiError
from s3files.server.limits import ServiceLimits

__all__ = ["UPLOAD_ROUTES", "RequestLimitsMiddleware", "is_upload_route"]

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


def _files_upload(method: str, path: str) -> bool:
    return method in ("POST", "PUT") and path in ("/api/v1/files/upload", "/api/v1/files/stream")


def _local_store_upload(method: str, path: str) -> bool:
    return (method == "POST" and path == "/store-upload") or (
        method == "PUT" and path.startswith("/store/")
    )


def _tus_upload(method: str, path: str) -> bool:
    return method in ("POST", "PATCH") and path.startswith("/api/v1/tus")


# The routes whose bodies are files: the files API's two uploads, the local store's form
# and part routes (what S3 would receive in a direct upload) and tus's POST and PATCH.
UPLOAD_ROUTES: tuple[Callable[[str, str], bool], ...] = (
    _files_upload,
    _local_store_upload,
    _tus_upload,
)


def is_upload_route(method: str, path: str) -> bool:
    return any(matches(method, path) for matches in UPLOAD_ROUTES)


def _app_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


async def _answer(
    send: Send, status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ] + [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def body_timeout() -> ApiError:
    return ApiError(
        408, "body_timeout", "the request body arrived too slowly", {"Connection": "close"}
    )


class _PacedReceive:
    """``receive`` with a read timeout and a minimum average rate (module docstring).

    Only time spent inside ``receive`` counts: when the app is slow to read (the store is
    slow), the client is not blamed for it.
    """

    def __init__(self, receive: Receive, limits: ServiceLimits) -> None:
        self._receive = receive
        self._limits = limits
        self.received = 0
        self._waited = 0.0
        self.body_done = False

    def _budget(self) -> float:
        """Seconds this call may wait before the client falls behind the rules."""
        limits = self._limits
        allowed = limits.body_grace + self.received / limits.body_min_rate
        return min(limits.body_read_timeout, allowed - self._waited)

    async def __call__(self) -> Message:
        if self.body_done:  # after the body: waits for the disconnect, no limits
            return await self._receive()
        budget = self._budget()
        if budget <= 0:
            raise body_timeout()
        started = time.monotonic()
        message: Message | None = None
        with anyio.move_on_after(budget):
            message = await self._receive()
        self._waited += time.monotonic() - started
        if message is None:
            raise body_timeout()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.body_done = not message.get("more_body", False)
        return message


class RequestLimitsMiddleware:
    """The limits of the module docstring, in front of everything else."""

    def __init__(self, app: ASGIApp, limits: ServiceLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        if len(headers) > limits.max_headers:
            await _answer(
                send, 431, "headers_too_large", f"more than {limits.max_headers} header lines"
            )
            return
        # one pass over the headers (this runs on every request)
        size = 0
        length_text: bytes | None = None
        chunked = False
        for name, value in headers:
            size += len(name) + len(value)
            if name == b"content-length":
                length_text = value if length_text is None else length_text
            elif name == b"transfer-encoding":
                chunked = True
        if size > limits.max_header_bytes:
            await _answer(
                send,
                431,
                "headers_too_large",
                f"headers larger than {limits.max_header_bytes} bytes",
            )
            return
        method: str = scope.get("method", "GET")
        if length_text is None and not chunked and method in _NO_BODY_METHODS:
            await self.app(scope, receive, send)  # no body: nothing to limit or pace
            return
        paced = _PacedReceive(receive, limits)
        if is_upload_route(method, _app_path(scope)):
            await self.app(scope, paced, send)  # the upload counts its own size limit
            return
        if length_text is not None:
            if not length_text.isdigit():
                await _answer(send, 400, "invalid_request", "Content-Length is not a number")
                return
            if int(length_text) > limits.max_body_bytes:
                await _answer(send, 413, "body_too_large", self._too_large())
                return
        await self._buffered(scope, paced, receive, send)

    def _too_large(self) -> str:
        return f"request body larger than {self.limits.max_body_bytes} bytes"

    async def _buffered(
        self, scope: Scope, paced: _PacedReceive, receive: Receive, send: Send
    ) -> None:
        """Read the (small) body here, within the limits, then hand it to the app."""
        body = bytearray()
        try:
            while True:
                message = await paced()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                if len(body) > self.limits.max_body_bytes:
                    await _answer(send, 413, "body_too_large", self._too_large())
                    return
                if not message.get("more_body", False):
                    break
        except ApiError as exc:  # too slow
            await _answer(send, exc.status, exc.error, exc.detail)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)
