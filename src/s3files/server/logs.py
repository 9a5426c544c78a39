"""Structured logs: one JSON object per line, each with a stable event name for log queries.

    log_event("s3_file_uploaded", file_id=..., size=...)

Secrets, signatures and presigned URLs are never passed here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "log_event"]

logger = logging.getLogger("s3files.events")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("s3files")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def log_event(event: str, **fields: Any) -> None:
    logger.info(event, extra={"fields": fields})
