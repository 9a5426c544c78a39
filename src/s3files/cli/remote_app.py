"""The remote mode's Typer app: every file command goes through ``s3files.client`` to the
service; the local mode's commands are there as clear refusals (exit 2)."""

from __future__ import annotations

from s3files.cli import remote_files, remote_sync, session
from s3files.cli.root import ANY_ARGUMENTS, new_app

__all__ = ["remote_app"]

# remote mode ---------------------------------------------------------------------------

remote_app = new_app(
    "This is the remote mode's command list: every file command goes to the service."
)
for remote_command in (
    remote_files.ls,
    remote_files.tree,
    remote_files.info,
    remote_files.upload,
    remote_files.download,
    remote_sync.sync,
    remote_files.mv,
    remote_files.cp,
    remote_files.rm,
    remote_files.restore,
    remote_files.mkdir,
    remote_files.presign,
    remote_files.zip,
    remote_files.usage,
    remote_files.quota,
):
    remote_app.command()(remote_command)
for name in (
    "keys",
    "db",
    "cleanup",
    "doctor",
    "bucket",
    "buckets",
    "bucket-info",
    "objects",
    "search",
):
    remote_app.command(name, context_settings=ANY_ARGUMENTS)(session.local_only(name))
