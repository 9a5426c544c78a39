"""A real TCP proxy in front of an HTTP server (the Ceph RGW) that can misbehave on cue.

Stdlib only; runs its own asyncio loop on a background thread, so tests on any event loop
(or none) can use it. It understands just enough HTTP/1.1 to see request boundaries:

* every request is recorded (arrival time, method, target) in :attr:`FaultProxy.requests`;
* :meth:`FaultProxy.fail_next` answers the next N matching requests itself with an S3 XML
  error (default ``503 SlowDown``), keeping the client's connection open;
  :meth:`FaultProxy.respond_next` with any status and body (an answer the upstream
  server cannot give, e.g. a bucket encryption configuration Ceph RGW 16 refuses to store);
* :meth:`FaultProxy.reset_next` forwards the next N matching requests, relays the
  response head and ``after_body_bytes`` bytes of its body, then resets the connection
  (RST) in the middle of the body, or with ``hard=False`` closes it cleanly (FIN);
* :meth:`FaultProxy.drop_next` drops the connection of the next N matching requests
  before any answer (RST, or FIN with ``hard=False``); with ``forward=True`` the request
  reaches the server first (it acts, the client never learns it did);
* anything else is forwarded on a fresh upstream connection and relayed to the end; the
  response's ``Connection`` header is rewritten to ``close`` so the client never reuses a
  connection the proxy is about to close.

Request bodies must have a Content-Length (no chunked uploads); a client that sends
``Expect: 100-continue`` is told to go on by the proxy itself.

    with FaultProxy("127.0.0.1", 7480) as proxy:
        proxy.fail_next(3)                  # three SlowDowns, then the real answer
        client = boto3.client("s3", endpoint_url=proxy.url, ...)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["FaultProxy", "RequestRecord"]

_REASONS = {200: "OK", 500: "Internal Server Error", 503: "Slow Down", 429: "Too Many Requests"}


@dataclass(frozen=True)
class RequestRecord:
    """A request as the proxy saw it arrive (``time.monotonic()`` seconds)."""

    at: float
    method: str
    target: str
    injected: str | None  # "error", "reset" or "drop" if a fault was applied


Match = Callable[[RequestRecord], bool]


@dataclass
class _Fault:
    kind: str  # "error" (an answer of the proxy's own) | "reset" | "drop"
    remaining: int
    match: Match | None
    status: int = 503
    body: bytes = b""
    after_body_bytes: int = 0
    hard: bool = True
    forward: bool = False


def _s3_error(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16]}</RequestId></Error>"
    ).encode()


def _own_response(fault: _Fault, method: str) -> bytes:
    head = (
        f"HTTP/1.1 {fault.status} {_REASONS.get(fault.status, 'Error')}\r\n"
        "Content-Type: application/xml\r\n"
        f"Content-Length: {len(fault.body)}\r\n"
        f"x-amz-request-id: {uuid.uuid4().hex[:16]}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    return head if method == "HEAD" else head + fault.body


def _with_connection_close(head: bytes) -> bytes:
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept = [line for line in lines[1:] if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a crashed peer or middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """Listen on 127.0.0.1 (a free port) and forward to ``upstream_host:upstream_port``."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._faults: list[_Fault] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_url(cls, endpoint_url: str) -> FaultProxy:
        parts = urlsplit(endpoint_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 80)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Control (any thread) ---------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded requests and pending faults."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    def fail_next(
        self,
        count: int,
        *,
        status: int = 503,
        code: str = "SlowDown",
        message: str = "Please reduce your request rate.",
        match: Match | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with this S3 error."""
        self.respond_next(count, status=status, body=_s3_error(code, message), match=match)

    def respond_next(
        self, count: int, *, status: int, body: bytes, match: Match | None = None
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and this XML body."""
        with self._lock:
            self._faults.append(_Fault("error", count, match, status, body))

    def reset_next(
        self,
        count: int = 1,
        *,
        after_body_bytes: int = 0,
        hard: bool = True,
        match: Match | None = None,
    ) -> None:
        """Cut the connection after ``after_body_bytes`` of the next ``count`` matching
        responses' bodies: RST, or FIN with ``hard=False``."""
        fault = _Fault("reset", count, match, after_body_bytes=after_body_bytes, hard=hard)
        with self._lock:
            self._faults.append(fault)

    def drop_next(
        self,
        count: int = 1,
        *,
        hard: bool = True,
        forward: bool = False,
        match: Match | None = None,
    ) -> None:
        """Drop the connection of the next ``count`` matching requests before any answer:
        RST, or FIN with ``hard=False``; ``forward=True`` lets the server act first."""
        with self._lock:
            self._faults.append(_Fault("drop", count, match, hard=hard, forward=forward))

    def _take_fault(self, method: str, target: str) -> _Fault | None:
        with self._lock:
            probe = RequestRecord(time.monotonic(), method, target, None)
            chosen = None
            for fault in self._faults:
                if fault.remaining > 0 and (fault.match is None or fault.match(probe)):
                    fault.remaining -= 1
                    chosen = fault
                    break
            self._faults = [f for f in self._faults if f.remaining > 0]
            self._requests.append(
                RequestRecord(probe.at, method, target, chosen.kind if chosen else None)
            )
            return chosen

    # Lifecycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", 0)
                )
                self.port = int(self._server.sockets[0].getsockname()[1])
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                self._server.close()
                with contextlib.suppress(Exception):
                    loop.run_until_complete(self._server.wait_closed())
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # The proxy itself (its own loop) ----------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one_request(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; True if the client connection stays open for another."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, target, _ = request_line.split(" ", 2)
        length, expects = 0, False
        kept = []
        for line in head.rstrip(b"\r\n").split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            if name.strip().lower() == b"expect":
                expects = b"100-continue" in value.lower()
                continue  # the proxy answers it; the server never sees it
            kept.append(line)
        head = b"\r\n".join(kept) + b"\r\n\r\n"
        fault = self._take_fault(method, target)
        if fault is not None and fault.kind == "error" and expects:
            # the answer instead of "100 Continue": the client will not send its body
            writer.write(_own_response(fault, method))
            await writer.drain()
            return False
        if expects:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        body = await reader.readexactly(length) if length else b""
        if fault is not None and fault.kind == "error":
            writer.write(_own_response(fault, method))
            await writer.drain()
            return True
        if fault is not None and fault.kind == "drop":
            if fault.forward:
                await self._forward(_with_connection_close(head) + body, None, None)
            if fault.hard:
                _reset(writer)
            else:
                writer.close()
            return False
        await self._forward(_with_connection_close(head) + body, writer, fault)
        return False

    async def _forward(
        self, request: bytes, writer: asyncio.StreamWriter | None, fault: _Fault | None
    ) -> None:
        """Send ``request`` upstream and relay the answer (``writer`` None: discard it)."""
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            up_writer.write(request)
            await up_writer.drain()
            head = await up_reader.readuntil(b"\r\n\r\n")
            if writer is None:
                while await up_reader.read(65536):
                    pass
                return
            writer.write(_with_connection_close(head))
            if fault is not None:  # reset mid-body
                if fault.after_body_bytes:
                    writer.write(await up_reader.readexactly(fault.after_body_bytes))
                await writer.drain()
                await asyncio.sleep(0.2)  # let the client read what it got first
                if fault.hard:
                    _reset(writer)
                else:
                    writer.close()
                return
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
            writer.close()
        finally:
            up_writer.close()
