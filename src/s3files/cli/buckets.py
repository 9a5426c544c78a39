"""Bucket commands over the async connector: ``buckets``, ``bucket-info``, ``objects``,
``search``. They reach every bucket the configured S3 credentials can (S3_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, or the default AWS chain)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
import typer
from rich.table import Table

from s3files.cli._common import command, console, human_size, print_json

if TYPE_CHECKING:  # the connector (botocore) loads when a bucket command runs, not at start
    from s3files.connector import S3Connector, S3Object

_T = TypeVar("_T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
LimitOption = Annotated[int, typer.Option(min=1, help="At most this many objects.")]


def run_connected(work: Callable[[S3Connector], Awaitable[_T]]) -> _T:
    """Connect with the configured credentials, run ``work``, disconnect."""
    from s3files._config import load_settings
    from s3files.connector import S3Connector, credentials_from_settings

    credentials = credentials_from_settings(load_settings())

    async def main() -> _T:
        async with S3Connector() as connector:
            await connector.connect(credentials)
            return await work(connector)

    return anyio.run(main)


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _object_table(items: list[S3Object], *, with_bucket: bool) -> Table:
    table = Table(box=None)
    if with_bucket:
        table.add_column("bucket")
    table.add_column("key", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("last modified")
    table.add_column("storage class")
    for item in items:
        cells = [item.key, human_size(item.size), _when(item.last_modified), item.storage_class]
        table.add_row(*([item.bucket_name] if with_bucket else []), *cells)
    return table


def _summary(count: int, more: bool) -> None:
    suffix = " (more exist: raise --limit)" if more else ""
    console.print(f"{count} object(s){suffix}", style="dim", highlight=False)


@command
def buckets(as_json: JsonOption = False) -> None:
    """List every bucket the credentials can reach, with region and creation date.

    Example: s3files buckets
    """
    found = sorted(run_connected(lambda c: c.list_buckets()), key=lambda b: b.name)
    if as_json:
        print_json([b.as_dict() for b in found])
        return
    table = Table(box=None)
    table.add_column("name")
    table.add_column("region")
    table.add_column("created")
    for bucket in found:
        table.add_row(bucket.name, bucket.region or "?", _when(bucket.creation_date))
    console.print(table)
    console.print(f"{len(found)} bucket(s)", style="dim", highlight=False)


@command
def bucket_info(
    name: Annotated[str, typer.Argument(help="The bucket's name.")], as_json: JsonOption = False
) -> None:
    """Show a bucket's region, versioning, encryption, policy, CORS, lifecycle and tags.

    Example: s3files bucket-info my-bucket
    """
    metadata = run_connected(lambda c: c.get_bucket_metadata(name))
    if as_json:
        print_json(metadata.as_dict())
        return
    table = Table(box=None, show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for field, value in metadata.as_dict().items():
        if field == "unreadable" and not value:
            continue
        text: Any = "-" if value is None else value
        if isinstance(text, dict | list):
            text = json.dumps(text, ensure_ascii=False)
        table.add_row(field, str(text))
    console.print(table, highlight=False)


@command
def objects(
    bucket: Annotated[str, typer.Argument(help="The bucket's name.")],
    prefix: Annotated[str, typer.Option(help="Only keys starting with this.")] = "",
    limit: LimitOption = 1000,
    as_json: JsonOption = False,
) -> None:
    """List a bucket's objects in key order (page by page, any number of them).

    Example: s3files objects my-bucket --prefix logs/2025/ --limit 50
    """

    async def first(connector: S3Connector) -> list[S3Object]:
        found: list[S3Object] = []
        page_size = min(1000, limit + 1)
        async for item in connector.iter_bucket_objects(bucket, prefix, page_size=page_size):
            found.append(item)
            if len(found) > limit:
                break
        return found

    found = run_connected(first)
    more = len(found) > limit
    found = found[:limit]
    if as_json:
        print_json([item.as_dict() for item in found])
        return
    console.print(_object_table(found, with_bucket=False))
    _summary(len(found), more)


@command
def search(
    query: Annotated[str, typer.Argument(help="The start of the keys to find.")],
    bucket: Annotated[str | None, typer.Option(help="Search only this bucket.")] = None,
    limit: LimitOption = 1000,
    as_json: JsonOption = False,
) -> None:
    """Find objects whose key starts with QUERY, in one bucket or in all of them.

    Example: s3files search reports/2025 --bucket my-bucket
    """
    found = run_connected(lambda c: c.search_objects(query, bucket, max_results=limit + 1))
    more = len(found) > limit
    found = found[:limit]
    if as_json:
        print_json([item.as_dict() for item in found])
        return
    console.print(_object_table(found, with_bucket=bucket is None))
    _summary(len(found), more)
