"""Streaming an object to the client: Range (206), ETag (304) and safe headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import anyio
from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from s3files.server.api_error import ApiError
from s3files.server.logs import log_event
from s3files.server.state import AppState
from s3files.store import content_disposition

__all__ = ["INLINE_TYPES", "inline_type", "parse_range", "stream_object"]

# Types a browser may show inline; anything else (HTML, SVG, scripts ...) is an attachment.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "video/mp4",
        "audio/mpeg",
    }
)


def inline_type(content_type: str) -> bool:
    """Whether a browser may show this type inline from the service's origin."""
    return content_type.split(";")[0].strip().lower() in INLINE_TYPES


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_HUGE = 2**63  # stands for any number too long to be a real offset


def _number(text: str) -> int:
    return int(text) if len(text) <= 18 else _HUGE


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range; None to send everything (no header,
    several ranges, or a header that is not a byte range, as RFC 9110 allows)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if first_text:
        first = _number(first_text)
        last = min(_number(last_text), size - 1) if last_text else size - 1
        if first >= size or (last_text and _number(last_text) < first):
            raise ApiError(
                416,
                "invalid_range",
                f"range not satisfiable for {size} bytes",
                {"Content-Range": f"bytes */{size}"},
            )
    else:
        suffix = _number(last_text)
        if suffix == 0:
            raise ApiError(
                416, "invalid_range", "empty suffix range", {"Content-Range": f"bytes */{size}"}
            )
        first, last = max(size - suffix, 0), size - 1
    return first, last


class _ReadAheadStreamingResponse(StreamingResponse):
    """A streaming response that reads the next chunk from the store while the current one
    is sent to the client (one chunk ahead, so at most three are held: being read, waiting,
    being sent). Sequentially, the store's stream and the client's socket took turns, each
    idle while the other worked."""

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        chunks = self.body_iterator
        writer, reader = anyio.create_memory_object_stream[bytes | memoryview](1)

        problem: Exception | None = None  # the store's, raised after the reader is done

        async def read_ahead() -> None:
            nonlocal problem
            try:
                async with writer:
                    async for chunk in chunks:
                        await writer.send(
                            chunk.encode(self.charset) if isinstance(chunk, str) else chunk
                        )
            except anyio.BrokenResourceError:  # the sender below stopped
                pass
            except Exception as exc:
                problem = exc
            finally:  # also when cancelled: the store's stream is closed at once
                close = getattr(chunks, "aclose", None)
                if close is not None:
                    with anyio.CancelScope(shield=True):
                        await close()

        failure: Exception | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(read_ahead)
            try:
                async with reader:
                    async for chunk in reader:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except Exception as exc:  # the client is gone (OSError ...): stop reading the store
                failure = exc  # raised below as it is, not inside an ExceptionGroup
                group.cancel_scope.cancel()
        if failure is not None:
            raise failure
        if problem is not None:
            raise problem  # the response is cut short, as without the read-ahead
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _ReleasingStreamingResponse(_ReadAheadStreamingResponse):
    """Calls ``release`` once the response is over, however it ends (sent, failed, or the
    client gone): a transfer slot is held exactly as long as the bytes flow."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        *,
        status_code: int,
        media_type: str,
        headers: dict[str, str],
        release: Callable[[], None],
    ) -> None:
        super().__init__(content, status_code=status_code, media_type=media_type, headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


async def stream_object(
    state: AppState,
    *,
    key: str,
    size: int,
    content_type: str,
    etag: str | None,
    filename: str,
    as_attachment: bool,
    range_header: str | None,
    if_none_match: str | None,
    file_id: str | None,
    public: bool,
    disposition: str | None = None,
    release: Callable[[], None] | None = None,
) -> Response:
    """A streaming response for ``key``; store errors surface before the status is sent.

    ``release`` (for example, of a transfer slot) is called when the response is over; if
    this raises instead, it is not called (the caller still owns what it holds)."""
    quoted = f'"{etag}"' if etag else None
    headers = {
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "public, max-age=60" if public else "private, no-cache",
    }
    if quoted:
        headers["ETag"] = quoted
        if _matches(if_none_match, quoted):
            if release is not None:
                release()
            return Response(status_code=304, headers=headers)
    inline = not as_attachment and content_type in INLINE_TYPES
    if disposition and disposition.lower().startswith("inline") and not inline_type(content_type):
        disposition = "attachment" + disposition[len("inline") :]  # a signed URL's own ask
    headers["Content-Disposition"] = disposition or content_disposition(
        "inline" if inline else "attachment", filename
    )
    status, offset, length = 200, 0, size
    selected = parse_range(range_header, size)
    if selected is not None:
        first, last = selected
        status, offset, length = 206, first, last - first + 1
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(length)
    chunks = state.files.iter_bytes(key, offset=offset, length=length)
    first_chunk = await anext(chunks, b"")

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        try:
            if first_chunk:
                sent += len(first_chunk)
                yield first_chunk
            async for chunk in chunks:
                sent += len(chunk)
                yield chunk
        finally:
            await chunks.aclose()
            state.metrics.downloaded_bytes.inc(sent)
            log_event(
                "s3_file_downloaded_bytes", file_id=file_id, key=key, bytes=sent, status=status
            )

    if release is None:
        return _ReadAheadStreamingResponse(
            body(), status_code=status, media_type=content_type, headers=headers
        )
    return _ReleasingStreamingResponse(
        body(), status_code=status, media_type=content_type, headers=headers, release=release
    )
