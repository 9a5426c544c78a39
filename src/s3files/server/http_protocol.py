"""The HTTP/1.1 protocol ``s3files serve`` runs: uvicorn's httptools parser, with the bytes
of a request's line and headers bounded.

httptools (llhttp) enforces no header size: a client can send a header line of any length
and the server buffers all of it. h11 has a bound (``h11_max_incomplete_event_size``) but
answers fewer requests per second: ``/healthz`` over 8 keep-alive connections on a busy
2-core machine, runs interleaved, gave 1,060-1,650/s with httptools, 1,490/s with this
class and 330-1,000/s with h11. So this keeps httptools and counts what arrives until the
headers are complete: past ``MAX_HEAD_BYTES`` the client gets a 431 ``headers_too_large``
and the connection is closed, without more buffering. Within the bound,
``RequestLimitsMiddleware`` applies the finer limits (count, total size).

It hooks two of uvicorn's parser callbacks (``on_headers_complete``,
``on_message_complete``); ``tests/server/test_load.py`` checks the behaviour against a real
``s3files serve``. What the parser refuses is answered in JSON too (uvicorn's own answer is
text): 400 ``invalid_request``, or 414 ``uri_too_long`` for a request target longer than
httptools can parse (``MAX_URL_BYTES``).
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD_BYTES", "MAX_URL_BYTES", "BoundedHttpToolsProtocol"]

MAX_HEAD_BYTES = 64 * 1024

# httptools.parse_url keeps 16-bit offsets: a longer request target cannot be parsed at all
MAX_URL_BYTES = 65535


def _refusal(status_line: bytes, error: str, detail: str) -> bytes:
    """A whole HTTP response in the service's error shape, closing the connection."""
    body = json.dumps({"error": error, "detail": detail}).encode()
    return (
        b"HTTP/1.1 " + status_line + b"\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


_REFUSAL = _refusal(
    b"431 Request Header Fields Too Large",
    "headers_too_large",
    f"request line and headers larger than {MAX_HEAD_BYTES} bytes",
)
_URI_TOO_LONG = _refusal(
    b"414 URI Too Long", "uri_too_long", f"request target longer than {MAX_URL_BYTES} bytes"
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with at most ``MAX_HEAD_BYTES`` buffered for one request's head.

    Only chunks that arrive while a head is incomplete, and that do not complete one, are
    counted: the tail of a body and the start of the next request never add up to a false
    refusal.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._reading_head = True
        self._heads_done = 0

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, in JSON like every other error
        (a target too long for the parser is 414 ``uri_too_long``)."""
        if len(getattr(self, "url", None) or b"") > MAX_URL_BYTES:
            self.transport.write(_URI_TOO_LONG)
        else:
            self.transport.write(_refusal(b"400 Bad Request", "invalid_request", msg))
        self.transport.close()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        self._heads_done += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True  # a keep-alive connection's next request

    def data_received(self, data: bytes) -> None:
        reading_head, heads_done = self._reading_head, self._heads_done
        super().data_received(data)
        if not (reading_head and self._reading_head and heads_done == self._heads_done):
            return
        if self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD_BYTES:
            self.transport.write(_REFUSAL)
            self.transport.close()
