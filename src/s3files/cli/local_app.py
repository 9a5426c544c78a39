"""The local mode's Typer app: the service's own store and database, on the server's
machine. The remote mode's commands are there as clear refusals (exit 2), so the two
modes are never confused (``cli/entry.py`` chooses the app)."""

from __future__ import annotations

from s3files.cli import admin, buckets, files, server, session
from s3files.cli.root import ANY_ARGUMENTS, new_app

__all__ = ["app"]

# local mode ----------------------------------------------------------------------------

app = new_app(
    "This is the local mode's command list (`s3files --help` in remote mode shows its own)."
)
for command in (
    files.upload,
    files.download,
    files.ls,
    files.info,
    files.presign,
    files.cp,
    files.rm,
    files.restore,
    buckets.buckets,
    buckets.bucket_info,
    buckets.objects,
    buckets.search,
):
    app.command()(command)
app.command()(admin.cleanup)
app.command()(admin.doctor)
app.command()(admin.quota)
app.add_typer(admin.bucket_app, name="bucket")
app.add_typer(server.keys_app, name="keys")
app.add_typer(server.db_app, name="db")
for name in ("tree", "sync", "mv", "mkdir", "zip", "usage"):
    app.command(name, context_settings=ANY_ARGUMENTS, hidden=True)(session.remote_only(name))
