"""Rendering one thumbnail (blocking; run on a worker thread): Pillow for images, pypdfium2
for a PDF's first page. EXIF orientation is applied, metadata is not carried over, and an
image with more pixels than ``MAX_PIXELS`` is refused before it is decoded."""

from __future__ import annotations

import io
import threading
import warnings
from typing import IO

from s3files.server.api_error import ApiError

__all__ = [
    "IMAGE_TYPES",
    "MAX_PIXELS",
    "MAX_SOURCE_BYTES",
    "PDF_TYPES",
    "can_preview",
    "render_thumbnail",
]

MAX_PIXELS = 50_000_000  # 50 megapixels: a 24 MP photo passes, a decompression bomb does not
MAX_SOURCE_BYTES = 128 * 1024 * 1024
IMAGE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "image/avif",
        "image/heic",
        "image/heif",
    }
)
PDF_TYPES = frozenset({"application/pdf"})
_PDFIUM = threading.Lock()  # PDFium is not thread-safe: one document at a time per process
_HEIF_READY = False


def can_preview(content_type: str) -> bool:
    return content_type in IMAGE_TYPES or content_type in PDF_TYPES


def too_large(width: int, height: int) -> ApiError:
    return ApiError(
        422,
        "image_too_large",
        f"the image is {width}x{height} pixels, more than the {MAX_PIXELS} a preview is made of",
    )


def _unreadable(content_type: str) -> ApiError:
    """No preview of a file that does not decode (it is a property of the file, not a
    malformed request: 404 ``no_preview``, as for a type without previews)."""
    return ApiError(404, "no_preview", f"this {content_type} file could not be decoded")


def _register_heif() -> None:
    global _HEIF_READY
    if _HEIF_READY:
        return
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # optional: HEIC previews only where the plugin is installed
        _HEIF_READY = True
        return
    register_heif_opener()
    _HEIF_READY = True


def _encode(image: object, size: int) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = image.mode in ("LA", "PA", "P") and "transparency" in image.info
        image = image.convert("RGBA" if has_alpha or image.mode == "LA" else "RGB")
    out = io.BytesIO()
    # a new file from the pixels only: no EXIF, ICC profile, XMP or comments are passed on
    image.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()


def _image(source: IO[bytes], content_type: str, size: int) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if content_type in ("image/heic", "image/heif"):
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise too_large(width, height)
            if image.format == "JPEG":
                image.draft("RGB", (size * 2, size * 2))  # decode at 1/2 .. 1/8 scale
            image.seek(0)  # the first frame of an animation
            image.load()
            oriented = ImageOps.exif_transpose(image)
            return _encode(oriented, size)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ApiError(422, "image_too_large", str(exc)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _unreadable(content_type) from exc


def _pdf(source: IO[bytes], size: int) -> bytes:
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(source)
        except pdfium.PdfiumError as exc:
            raise _unreadable("PDF") from exc
        try:
            if len(document) == 0:
                raise _unreadable("PDF")
            page = document[0]
            width, height = page.get_size()
            scale = size / max(width, height, 1.0)
            if width * scale * height * scale > MAX_PIXELS:
                raise too_large(int(width * scale), int(height * scale))
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil()
            page.close()
        except pdfium.PdfiumError as exc:
            raise _unreadable("PDF") from exc
        finally:
            document.close()
    return _encode(image, size)


def render_thumbnail(source: IO[bytes], content_type: str, size: int) -> bytes:
    """A WebP at most ``size`` pixels on its longer side; ``ApiError`` (422) if refused."""
    if content_type in PDF_TYPES:
        return _pdf(source, size)
    return _image(source, content_type, size)
