"""A streaming ``multipart/form-data`` reader: the file part flows through as it arrives
(no temporary file, no whole-body buffer); the small text fields are collected.

    form = StreamingForm(request.headers["content-type"], request.stream())
    await form.start()                 # reads up to the file part: filename, early fields
    async for chunk in form.file_chunks():
        ...                            # the file's bytes
    form.fields                        # every text field, also those after the file

A field sent twice is refused (400 ``duplicate_field``) rather than one silently winning.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from s3files.server.api_error import ApiError

__all__ = ["StreamingForm"]

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32


def _bad(detail: str, error: str = "invalid_form") -> ApiError:
    return ApiError(400, error, detail)


class StreamingForm:
    """Reads one file part (named ``file_field``) and text fields from a request stream."""

    def __init__(
        self, content_type: str | None, stream: AsyncIterator[bytes], *, file_field: str = "file"
    ) -> None:
        kind, params = parse_options_header(content_type or "")
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise ApiError(
                415, "unsupported_media_type", "send multipart/form-data with a 'file' part"
            )
        self._stream = stream
        self._file_field = file_field
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_content_type: str | None = None
        self._file_done = False
        self._ended = False
        self._pending: list[bytes] = []
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._part_name: str | None = None
        self._part_is_file = False
        self._field_value = bytearray()
        self._seen_file = False
        callbacks: Any = {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_end": self._on_end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)
        except FormParserError as exc:  # for example a boundary over 256 characters
            raise _bad(f"unusable multipart boundary: {exc}") from None

    # Parser callbacks ----------------------------------------------------------------

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._part_name = None
        self._part_is_file = False
        self._field_value = bytearray()

    def _on_header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise _bad("a form part has no name")
        self._part_name = name.decode("utf-8", "replace")
        if self._part_name == self._file_field:
            if self._seen_file:
                raise _bad("send one file per request", "one_file_per_request")
            self._seen_file = True
            self._part_is_file = True
            raw = options.get(b"filename") or b""
            # browsers escape these three in filenames (HTML's multipart/form-data encoding)
            self.filename = (
                raw.decode("utf-8", "replace")
                .replace("%22", '"')
                .replace("%0D", "\r")
                .replace("%0A", "\n")
            )
            part_type = self._headers.get("content-type")
            self.file_content_type = part_type.decode("latin-1") if part_type else None
        elif self._part_name in self.fields:
            raise _bad(f"form field {self._part_name!r} is sent twice", "duplicate_field")
        elif len(self.fields) >= MAX_FIELDS:
            raise _bad(f"more than {MAX_FIELDS} form fields")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part_is_file:
            self._pending.append(data[start:end])
            return
        self._field_value.extend(data[start:end])
        if len(self._field_value) > MAX_FIELD_BYTES:
            raise _bad(f"form field {self._part_name!r} is longer than {MAX_FIELD_BYTES} bytes")

    def _on_part_end(self) -> None:
        if self._part_is_file:
            self._file_done = True
        elif self._part_name is not None:
            try:
                self.fields[self._part_name] = self._field_value.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad(f"form field {self._part_name!r} is not UTF-8") from None

    def _on_end(self) -> None:
        self._ended = True

    # Driving ---------------------------------------------------------------------------

    async def _feed_one(self) -> bool:
        """Parse the next chunk of the body; False once the body is exhausted."""
        try:
            chunk = await self._stream.__anext__()
        except StopAsyncIteration:
            if not self._ended:
                raise _bad("the form ended early (truncated body?)") from None
            return False
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise _bad(f"malformed multipart body: {exc}") from None
        return True

    async def start(self) -> None:
        """Read until the file part's data begins (or the form ends)."""
        while not self._seen_file and await self._feed_one():
            pass
        if not self._seen_file:
            raise ApiError(400, "file_required", f"the form has no '{self._file_field}' part")
        if not self.filename:
            raise ApiError(400, "filename_required", "the file part has no filename")

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive; afterwards the rest of the form is read too."""
        while True:
            if self._pending:
                data = b"".join(self._pending)
                self._pending = []
                if data:
                    yield data
            if self._file_done:
                break
            if not await self._feed_one():
                break
        while await self._feed_one():
            pass
