"""The CLI in remote mode against a real ``s3files serve`` (local disk and Ceph RGW): every
command, its --json, its errors and exit codes, a big upload interrupted and resumed, sync
both ways, and the two modes refusing to be confused."""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from s3files.cli.entry import select_app
from s3files.client import Client
from tests.client._serve import Served, bytes_of, serve, unique
from tests.server._environment import process_environment
from tests.server.conftest import free_port


@pytest.fixture(scope="module", params=["local", "s3"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    yield from serve(
        request.param,
        tmp_path_factory.mktemp(f"cli-{request.param}"),
        request,
        S3_MAX_FILE_SIZE_MB="14",
        S3_ALLOWED_EXTENSIONS="txt,bin,md,csv,json",
    )


class Cli:
    """``s3files ARGS`` run in this process as a user's shell would (its environment)."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = home
        self.monkeypatch = monkeypatch
        for name in ("S3FILES_URL", "S3FILES_API_KEY", "S3FILES_DATA_DIR", "S3FILES_DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
        monkeypatch.setenv("COLUMNS", "80")
        monkeypatch.chdir(home)

    def __call__(self, *args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(select_app(list(args)), list(args), catch_exceptions=False)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self(*args, "--json", code=code).stdout)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: Served) -> Cli:
    runner = Cli(tmp_path, monkeypatch)
    runner("login", served.url, "--key", served.keys["alice"])
    return runner


def _one_line(text: str) -> str:
    """Standard error as one line (the console wraps it at 80 columns)."""
    return " ".join(text.split())


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_login_saves_a_private_profile_and_the_modes_never_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: Served
) -> None:
    cli = Cli(tmp_path, monkeypatch)
    # no profile: local mode, which refuses to create a data folder where it happens to run
    refused = cli("ls", code=2)
    assert "local mode" in refused.stderr and not (tmp_path / "s3files-data").exists()
    assert "works through a service" in cli("tree", code=2).stderr
    assert cli.json("status")["mode"] == "local"
    wrong = _one_line(cli("login", served.url, "--key", "s3f_wrong", code=1).stderr)
    assert f"error: {served.url}: invalid or revoked API key (key from --key)" in wrong
    cli("login", served.url, "--key", served.keys["alice"])
    profile = tmp_path / "config" / "s3files" / "profiles.json"
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert served.keys["alice"] in profile.read_text()
    status = cli.json("status")
    assert (status["mode"], status["owner"], status["url"]) == ("remote", "alice", served.url)
    for local_only in (["keys", "list"], ["cleanup"], ["db", "upgrade"], ["doctor"]):
        message = cli(*local_only, code=2).stderr
        assert "local mode" in message and "--local" in message
    assert cli.json("--local", "status")["mode"] == "local"
    assert "contradict" in cli("--local", "--profile", "default", "ls", code=2).stderr
    assert "no profile 'work'" in cli("--profile", "work", "ls", code=2).stderr
    cli("login", served.url, "--key", served.keys["bob"], "--profile", "work", "--not-default")
    assert cli.json("--profile", "work", "status")["owner"] == "bob"
    monkeypatch.setenv("S3FILES_API_KEY", served.keys["bob"])
    assert cli.json("status")["owner"] == "bob"  # the environment overrides the profile's key
    monkeypatch.setenv("S3FILES_URL", served.url)
    assert cli.json("status")["source"] == "S3FILES_URL"
    listed = cli.json("profiles")
    assert {p["name"] for p in listed} == {"default", "work"} and "api_key" not in listed[0]
    cli("logout", "--profile", "work")
    assert "--profile" in cli("--help").stdout and "remote mode" in cli("--help").stdout


def test_upload_list_tree_info_download(cli: Cli, tmp_path: Path) -> None:
    top = unique("up")
    long_name = "a-really-long-file-name-" + "x" * 80 + "-end.txt"
    _tree(tmp_path / "album", {"one.txt": b"1", "sub/two.txt": b"22", long_name: b"333"})
    (tmp_path / "single.md").write_bytes(b"# single\n")
    uploaded = cli.json("upload", "album", "single.md", "--to", top)
    assert sorted(f["path"] for f in uploaded) == sorted(
        [
            f"{top}/album/one.txt",
            f"{top}/album/sub/two.txt",
            f"{top}/album/{long_name}",
            f"{top}/single.md",
        ]
    )
    contents = cli.json("upload", "album/", "--to", f"{top}/flat")  # trailing slash: contents
    assert f"{top}/flat/one.txt" in {f["path"] for f in contents}
    listing = cli("ls", top).stdout.splitlines()
    assert listing[:2] == ["album/", "flat/"] and listing[2:] == ["single.md"]  # folders first
    wide = cli("ls", f"{top}/album", "-l").stdout.splitlines()
    assert all(len(line) <= 80 for line in wide) and any("…" in line for line in wide)
    assert any(line.endswith("nd.txt") and "…" in line for line in wide)  # end kept
    assert all(len(part) == 36 for line in wide[1:-1] for part in line.split()[4:5])  # full ids
    recursive = cli.json("ls", top, "-R")
    assert len(recursive["files"]) == 7 and recursive["folders"] == []
    tree = cli("tree", top).stdout
    assert "├── album/" in tree and "two.txt" in tree and "7 file(s)" in tree
    info = cli.json("info", f"{top}/album/sub/two.txt")
    assert (info["file_size"], info["path"]) == (2, f"{top}/album/sub/two.txt")
    assert cli.json("info", info["id"])["id"] == info["id"]
    cli("download", f"{top}/album/sub/two.txt", "-o", "deep/er/x.txt")
    assert (tmp_path / "deep/er/x.txt").read_bytes() == b"22"
    assert cli("download", info["id"], "-o", "-").stdout == "22"
    got = cli.json("download", "-r", f"{top}/album", "-o", "back")
    assert len(got) == 3 and (tmp_path / "back/album/sub/two.txt").read_bytes() == b"22"
    missing = cli("download", f"{top}/nope.txt", f"{top}/single.md", "-o", "out/", code=1)
    assert f"{top}/nope.txt" in missing.stderr and (tmp_path / "out/single.md").exists()
    assert f"{top}/nope.txt" in cli("info", f"{top}/nope.txt", code=1).stderr


def test_every_page_is_listed(cli: Cli, served: Served) -> None:
    folder = unique("pages")
    with Client(served.url, served.keys["alice"]) as client:
        for n in range(205):
            client.upload(b"x", filename=f"f{n:03}.txt", folder=folder)
    assert len(cli("ls", folder).stdout.splitlines()) == 205


def test_change_commands(cli: Cli, tmp_path: Path) -> None:
    top = unique("ops")
    (tmp_path / "a.txt").write_bytes(b"alpha")
    (tmp_path / "b.txt").write_bytes(b"beta")
    cli("upload", "a.txt", "b.txt", "--to", top)
    assert cli.json("mkdir", f"{top}/archive")[0]["path"] == f"{top}/archive"
    moved = cli.json("mv", f"{top}/a.txt", f"{top}/archive/")
    assert moved["moved"][0]["to"] == f"{top}/archive/a.txt"
    cli("mv", f"{top}/archive/a.txt", f"{top}/archive/renamed.txt")
    copied = cli.json("cp", f"{top}/b.txt", f"{top}/copies/b-copy.txt")
    assert copied["copied"][0]["path"] == f"{top}/copies/b-copy.txt"
    cli("mv", f"{top}/copies", f"{top}/kept")
    assert cli.json("ls", f"{top}/kept")["files"][0]["original_filename"] == "b-copy.txt"
    link = cli.json("presign", f"{top}/b.txt", "--expiry", "60")
    assert httpx.get(link["url"]).content == b"beta"
    cli("zip", top, "-o", "all.zip")
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert len(archive.namelist()) == 3
    removed = cli("rm", f"{top}/b.txt", f"{top}/missing.txt", code=1)
    assert "moved to the trash" in removed.stdout and f"{top}/missing.txt" in removed.stderr
    assert "is a folder (use rm -r)" in cli("rm", f"{top}/kept", code=1).stderr
    trash = cli.json("ls", "--trash")
    assert f"{top}/b.txt" in {f["path"] for f in trash["files"]}
    cli("restore", f"{top}/b.txt")
    assert cli.json("rm", "-r", f"{top}/kept", "--hard")["done"][0]["files"] == 1
    usage = cli.json("usage")
    assert usage["owner"] == "alice" and usage["files"] >= 3
    assert "needs an admin" in cli("quota", "bob", "--files", "5", code=1).stderr
    cli("mv", f"{top}/b.txt", code=2)


def test_quota_as_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: Served) -> None:
    cli = Cli(tmp_path, monkeypatch)
    cli("login", served.url, "--key", served.keys["root"])
    assert cli.json("quota", "bob", "--files", "500")["quota"]["max_files"] == 500


def test_limits_of_the_service_hold(cli: Cli, tmp_path: Path) -> None:
    big = tmp_path / "toolarge.txt"
    big.write_bytes(bytes_of(14 * 1024 * 1024 + 100_000))
    failed = cli("upload", "toolarge.txt", code=1)
    assert "toolarge.txt" in failed.stderr and "file_too_large" in failed.stderr
    assert "14.0 MiB" in failed.stderr
    (tmp_path / "tool.exe").write_bytes(b"MZ binary")
    assert "unsupported_file_type" in cli("upload", "tool.exe", code=1).stderr


def test_big_upload_interrupted_then_resumed(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(bytes_of(12 * 1024 * 1024, seed=7))
    folder = unique("big")
    original = httpx.AsyncClient.put
    parts: list[str] = []

    async def interrupted(self: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
        parts.append(url)
        if "partNumber=2" in url:
            if parts.count(url) == 1:
                await asyncio.sleep(1.0)  # part 1 is in the store by then
            raise httpx.ReadError("connection reset")  # the network goes, retries too
        return await original(self, url, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "put", interrupted)
    failed = cli("upload", "big.bin", "--to", folder, code=1)
    assert "big.bin part 2" in failed.stderr and "unreachable" in failed.stderr
    assert list((tmp_path / "cache" / "s3files" / "uploads").iterdir())
    parts.clear()
    monkeypatch.setattr(
        httpx.AsyncClient,
        "put",
        lambda self, url, **kw: (parts.append(url), original(self, url, **kw))[1],
    )
    stored = cli.json("upload", "big.bin", "--to", folder)
    assert len(parts) == 1  # only the part that was missing
    assert stored[0]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert len(cli.json("ls", folder)["files"]) == 1


def test_sync_both_ways(cli: Cli, tmp_path: Path) -> None:
    remote = unique("sync")
    local = tmp_path / "tree"
    _tree(local, {"a.txt": b"a", "d/b.txt": b"bb", "d/e/c.txt": b"ccc", "skip.tmp": b"t"})
    plan = cli.json("sync", "tree", f":{remote}", "--dry-run", "--exclude", "*.tmp")
    assert sorted(p["path"] for p in plan["send"]) == ["a.txt", "d/b.txt", "d/e/c.txt"]
    assert "no such folder" in cli("ls", remote, code=1).stderr  # a dry run changes nothing
    shown = cli("sync", "tree", f":{remote}", "--exclude", "*.tmp").stdout
    assert "upload d/e/c.txt (new)" in shown and "3 to upload" in shown
    assert (
        "0 to upload, 0 to delete, 3 unchanged"
        in cli("sync", "tree", f":{remote}", "--exclude", "*.tmp").stdout
    )
    (local / "a.txt").write_bytes(b"A changed")
    (local / "d/b.txt").unlink()
    result = cli.json("sync", "tree", f":{remote}", "--delete", "--exclude", "*.tmp")
    assert result["send"] == [{"path": "a.txt", "why": "changed"}] and result["delete"] == [
        "d/b.txt"
    ]
    assert sorted(f["path"] for f in cli.json("ls", remote, "-R")["files"]) == [
        f"{remote}/a.txt",
        f"{remote}/d/e/c.txt",
    ]
    assert cli("download", f"{remote}/a.txt", "-o", "-").stdout == "A changed"
    back = tmp_path / "back"
    _tree(back, {"extra.txt": b"x", "a.txt": b"old"})
    dry = cli.json("sync", f":{remote}", "back", "--delete", "-n")
    assert dry["delete"] == ["extra.txt"] and (back / "extra.txt").exists()
    cli("sync", f":{remote}", "back", "--delete")
    assert sorted(p.relative_to(back).as_posix() for p in back.rglob("*") if p.is_file()) == [
        "a.txt",
        "d/e/c.txt",
    ]
    assert (back / "a.txt").read_bytes() == b"A changed"
    assert "one side must be" in cli("sync", "tree", "back", code=2).stderr


def test_paths_that_name_several_files_or_no_folder_are_refused(
    cli: Cli, tmp_path: Path, served: Served
) -> None:
    top = unique("dups")
    with Client(served.url, served.keys["alice"]) as client:
        first = client.upload(b"one", filename="same.txt", folder=top)
        second = client.upload(b"two", filename="same.txt", folder=top)
        client.upload(b"single", filename="single.txt", folder=top)
    ids = {str(first.id), str(second.id)}
    for args in (
        ["info", f"{top}/same.txt"],
        ["download", f"{top}/same.txt", "-o", "out/"],
        ["rm", f"{top}/same.txt"],
        ["mv", f"{top}/same.txt", f"{top}/moved.txt"],
        ["presign", f"{top}/same.txt"],
    ):
        refused = _one_line(cli(*args, code=1).stderr)
        assert "2 files have this path" in refused and all(i in refused for i in ids), args
    assert not (tmp_path / "out").exists()
    assert len(cli.json("ls", top)["files"]) == 3  # nothing moved or trashed
    assert {f["id"] for f in cli.json("ls", f"{top}/same.txt")["files"]} == ids  # ls shows both
    assert cli("download", str(first.id), "-o", "-").stdout == "one"  # an id is one file
    (tmp_path / "down").mkdir()
    plan = cli.json("sync", f":{top}", "down")
    assert [p["path"] for p in plan["send"]] == ["single.txt"]
    assert [(s["path"], set(s["ids"])) for s in plan["skipped"]] == [("same.txt", ids)]
    assert sorted(p.name for p in (tmp_path / "down").iterdir()) == ["single.txt"]
    shown = cli("sync", f":{top}", "down", "-n").stdout
    assert "skip same.txt" in shown and "1 skipped" in shown
    # a remote folder that does not exist is an error, never "0 to download" or "delete all"
    _tree(tmp_path / "photos2", {"keep.txt": b"k"})
    missing = _one_line(cli("sync", f":{top}-typo", "photos2", "--delete", code=1).stderr)
    assert f":{top}-typo: no such folder" in missing
    assert (tmp_path / "photos2" / "keep.txt").exists()
    cli("mkdir", f"{top}-empty")
    assert "0 to download" in cli("sync", f":{top}-empty", "photos3").stdout  # created: fine
    assert "received" in cli("sync", f":{top}", "down2").stdout


def test_output_fits_the_terminal_and_messages_say_what_happened(
    cli: Cli, tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = unique("fit")
    emoji = "🎉" * 30 + " party plan " + "🎈" * 20 + ".txt"
    _tree(tmp_path / "party", {emoji: b"fun", "sub/x.txt": b"x"})
    cli("upload", "party/", "--to", top)
    for args in (["ls", top], ["ls", top, "-l"], ["tree", top]):
        lines = cli(*args).stdout.splitlines()
        assert lines and all(cell_len(line) <= 80 for line in lines), (args, lines)
    long_lines = cli("ls", top, "-l").stdout.splitlines()
    shown_id = next(line for line in long_lines if "🎉" in line).split()[4]
    assert cli.json("info", shown_id)["original_filename"] == emoji  # ls -l's id works
    assert "exists already" in cli("mkdir", f"{top}/sub").stdout
    assert "created" in cli("mkdir", f"{top}/new").stdout
    copied = _one_line(cli("cp", f"{top}/sub", "x/", code=1).stderr)
    assert f"{top}/sub is a folder: cp copies files" in copied
    usage = cli("usage").stdout
    assert "quota   no limit" in usage and "no limit files" not in usage
    # presigned downloads keep the name as /download does (RFC 5987 filename*)
    (tmp_path / "🎉 party plan.txt").write_bytes(b"plan")
    cli("upload", "🎉 party plan.txt", "--to", top)
    url = cli("presign", f"{top}/🎉 party plan.txt", "--download").stdout.strip()
    disposition = httpx.get(url).headers["content-disposition"]
    assert "filename*=UTF-8''%F0%9F%8E%89%20party%20plan.txt" in disposition, disposition
    # local mode's ls fits 80 columns too
    local_env = process_environment(served.settings)
    for name in ("S3FILES_DATA_DIR", "S3FILES_DATABASE_URL", "S3FILES_STORAGE_URL"):
        monkeypatch.setenv(name, local_env[name])
    local = cli("--local", "ls", "--all", "--limit", "200").stdout.splitlines()
    assert any(shown_id in line for line in local), local
    assert all(cell_len(line) <= 80 for line in local), local
    # help screens: placeholders, never Python types
    for args in (["upload", "--help"], ["sync", "--help"], ["ls", "--help"], ["login", "--help"]):
        text = cli(*args).stdout
        for python_type in ("<bool>", "<str>", "<list[str]>", "{paths}", "<int", "``"):
            assert python_type not in text, (args, python_type)
    assert "[default: default]" not in cli("login", "--help").stdout


def test_key_and_connection_errors_name_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: Served
) -> None:
    cli = Cli(tmp_path, monkeypatch)
    cli("login", served.url, "--key", served.keys["alice"])
    monkeypatch.setenv("S3FILES_API_KEY", "s3f_revoked_or_wrong")
    refused = _one_line(cli("ls", "docs", code=1).stderr)
    assert "'default', key from S3FILES_API_KEY)" in refused  # the banner does not hide it
    assert f"error: {served.url}: invalid or revoked API key (key from S3FILES_API_KEY)" in refused
    (tmp_path / "a.txt").write_bytes(b"a")
    assert f"{served.url}: invalid or revoked" in _one_line(cli("upload", "a.txt", code=1).stderr)
    monkeypatch.delenv("S3FILES_API_KEY")
    monkeypatch.setenv("S3FILES_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("S3FILES_API_KEY", served.keys["alice"])
    gone = _one_line(cli("ls", code=1).stderr)
    assert "error: http://127.0.0.1:" in gone and "no answer from the service" in gone
    assert "error: /:" not in gone
