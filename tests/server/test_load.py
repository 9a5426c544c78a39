"""Load against a real ``s3files serve`` process (127.0.0.1 only, bounded in time): many
concurrent uploads, saturation, slow clients. Every answer is a success or a 503 with
Retry-After (or a 408 for a client too slow); never a 500; /healthz keeps answering."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files import Settings
from tests.server._environment import process_environment
from tests.server.conftest import Service, free_port, make_service

MiB = 1024 * 1024


def serve_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """What makes ``s3files serve`` use the test's store and database."""
    return process_environment(settings, **extra)


@dataclass
class Served:
    """A ``s3files serve`` process and the keys of the service it shares a database with."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    keys: dict[str, str]
    service: Service

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_serve(service: Service, **env: str) -> Served:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service.settings.data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "s3files.cli", "serve", "--port", str(port)],
        env=serve_environment(service.settings, S3FILES_PUBLIC_URL=url, **env),
        cwd=service.settings.data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return Served(url, port, process, service.keys, service)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("s3files serve did not start")


@pytest.fixture(
    params=[("local", "sqlite"), ("s3", "postgres")], ids=["local-sqlite", "s3-postgres"]
)
def base(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """Keys and a migrated database (the in-process service is only their keeper)."""
    store, database = request.param
    yield from make_service(tmp_path, request, store, database)


def payload(seed: int) -> bytes:
    """1-3 MB of text (text is stored under .txt without a signature check)."""
    rng = random.Random(seed)
    line = f"upload {seed} ".encode() + bytes(rng.choice(b"abcdefghij") for _ in range(1000))
    size = rng.randint(1 * MiB, 3 * MiB)
    return (line * (size // len(line) + 1))[:size]


class HealthWatch:
    """Polls /healthz until stopped; records every latency and failure."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status = client.get(f"{self.url}/healthz").status_code
                    if status != 200:
                        self.failures.append(str(status))
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.latencies.append(time.monotonic() - started)
                self._stop.wait(0.05)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(15)


async def _upload(
    client: httpx.AsyncClient, key: str, index: int
) -> tuple[int, bytes, httpx.Response]:
    data = payload(index)
    answer = await client.post(
        "/api/v1/files/upload",
        headers={"Authorization": f"Bearer {key}"},
        files={"file": (f"load-{index}.txt", data, "text/plain")},
    )
    return index, data, answer


async def _many_uploads(url: str, keys: list[str], count: int) -> list[Any]:
    limits = httpx.Limits(max_connections=count + 4, max_keepalive_connections=count + 4)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return await asyncio.gather(
            *(_upload(client, keys[i % len(keys)], i) for i in range(count))
        )


def test_concurrent_uploads_hold(base: Service) -> None:
    """64 uploads of 1-3 MB at once: each is stored and byte-identical, or a 503 with
    Retry-After; no 500; /healthz answers meanwhile."""
    served = start_serve(base)
    try:
        keys = [base.keys["alice"], base.keys["bob"]]
        started = time.monotonic()
        with HealthWatch(served.url) as health:
            results = asyncio.run(_many_uploads(served.url, keys, 64))
        elapsed = time.monotonic() - started
        stored, busy, other = [], [], []
        for index, data, answer in results:
            if answer.status_code == 201:
                stored.append((index, data, answer.json()))
            elif answer.status_code == 503:
                assert answer.headers.get("Retry-After"), answer.text
                assert answer.json()["error"] == "busy"
                busy.append(index)
            else:
                other.append(f"{answer.status_code} {answer.text[:200]}")
        assert other == [], other
        assert len(stored) >= 32, (len(stored), len(busy))  # the defaults admit 2 x 16
        with httpx.Client(base_url=served.url, timeout=60) as client:
            for index, data, body in stored:
                key = keys[index % len(keys)]
                download = client.get(
                    f"/api/v1/files/{body['id']}/download",
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert download.status_code == 200
                assert hashlib.sha256(download.content).digest() == hashlib.sha256(data).digest()
        assert health.failures == [] and health.latencies, health.failures
        assert max(health.latencies) < 5, max(health.latencies)
        pending = base.db_rows("select count(*) from files where status = 'pending'")
        assert pending == [(0,)]
        assert elapsed < 60
    finally:
        served.stop()


def test_all_admitted_uploads_complete_without_exhausting_the_pool(base: Service) -> None:
    """With limits that admit all 64 at once, every upload is stored: each holds a database
    connection only for its two short transactions."""
    served = start_serve(base, S3FILES_MAX_TRANSFERS="100", S3FILES_MAX_TRANSFERS_PER_OWNER="100")
    try:
        results = asyncio.run(_many_uploads(served.url, [base.keys["alice"]], 64))
        statuses = sorted(answer.status_code for _, _, answer in results)
        assert statuses == [201] * 64, [a.text[:200] for _, _, a in results if a.status_code != 201]
        assert base.db_rows("select count(*) from files where status = 'active'") == [(64,)]
    finally:
        served.stop()


class SlowUploader:
    """A raw socket sending an upload body at 1 byte/s."""

    def __init__(self, port: int, key: str, index: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(
            (
                f"POST /api/v1/files/stream?filename=slow-{index}.txt HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: text/plain\r\nContent-Length: {MiB}\r\n\r\n"
            ).encode()
        )
        self.answer = b""
        self.closed = False

    def drip(self) -> None:
        if self.closed:
            return
        try:
            self.sock.sendall(b"a")
        except OSError:
            self.closed = True

    def read_answer(self) -> bytes:
        self.sock.settimeout(0.2)
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    self.closed = True
                    break
                self.answer += chunk
        except (TimeoutError, OSError):
            pass
        return self.answer

    def close(self) -> None:
        self.sock.close()


def test_slow_clients_do_not_block_a_normal_upload(base: Service) -> None:
    """50 clients sending 1 byte/s: a normal 1 MB upload completes promptly; the slow ones
    are answered 408 (or dropped) once they fall behind, their uploads aborted."""
    served = start_serve(
        base,
        S3FILES_MAX_TRANSFERS="100",
        S3FILES_MAX_TRANSFERS_PER_OWNER="100",
        S3FILES_BODY_GRACE="3",
        S3FILES_BODY_MIN_RATE="1024",
        S3FILES_BODY_READ_TIMEOUT="5",
    )
    slow = [SlowUploader(served.port, base.keys["bob"], index) for index in range(50)]
    try:
        for _ in range(2):
            for uploader in slow:
                uploader.drip()
            time.sleep(0.5)
        data = payload(7)[:MiB]
        started = time.monotonic()
        normal = httpx.post(
            f"{served.url}/api/v1/files/stream",
            params={"filename": "normal.txt"},
            headers={"Authorization": f"Bearer {base.keys['alice']}"},
            content=data,
            timeout=30,
        )
        took = time.monotonic() - started
        assert normal.status_code == 201, normal.text
        assert took < 2, took
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for uploader in slow:
                uploader.drip()
                uploader.read_answer()
            if all(u.closed or u.answer.startswith(b"HTTP/1.1 408") for u in slow):
                break
            time.sleep(0.5)
        assert all(u.closed or u.answer.startswith(b"HTTP/1.1 408") for u in slow), [
            u.answer[:40] for u in slow
        ]
        assert any(u.answer.startswith(b"HTTP/1.1 408") for u in slow)
        assert b'"body_timeout"' in next(u.answer for u in slow if u.answer)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and base.db_rows(
            "select count(*) from files where status = 'pending'"
        ) != [(0,)]:
            time.sleep(0.2)
        assert base.db_rows("select original_filename, status from files") == [
            ("normal.txt", "active")
        ]
        library = base.library()
        assert [info.key for info in library.iter_objects()] == [normal.json()["s3_key"]]
        assert library.list_multipart_uploads() == []
    finally:
        for uploader in slow:
            uploader.close()
        served.stop()


def test_slow_clients_hold_no_transfer_slot(base: Service) -> None:
    """Slow clients of several owners, more than there are transfer slots: they hold no
    slot while they trickle (an upload is admitted once its first bytes are in), so a
    normal upload is neither refused nor delayed, and they end with 408, never 503."""
    served = start_serve(
        base,
        S3FILES_MAX_TRANSFERS="8",
        S3FILES_MAX_TRANSFERS_PER_OWNER="4",
        S3FILES_BODY_GRACE="3",
        S3FILES_BODY_MIN_RATE="1024",
        S3FILES_BODY_READ_TIMEOUT="5",
    )
    owners = ["bob", "root"] * 10
    slow = [SlowUploader(served.port, base.keys[o], i) for i, o in enumerate(owners)]
    try:
        for _ in range(2):
            for uploader in slow:
                uploader.drip()
            time.sleep(0.5)
        started = time.monotonic()
        normal = httpx.post(
            f"{served.url}/api/v1/files/stream",
            params={"filename": "normal.txt"},
            headers={"Authorization": f"Bearer {base.keys['alice']}"},
            content=payload(11)[:MiB],
            timeout=30,
        )
        took = time.monotonic() - started
        assert normal.status_code == 201, normal.text
        assert took < 2, took
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for uploader in slow:
                uploader.drip()
                uploader.read_answer()
            if all(u.closed or u.answer for u in slow):
                break
            time.sleep(0.5)
        answers = [u.answer[:12] for u in slow]
        assert not any(a.startswith(b"HTTP/1.1 503") for a in answers), answers
        assert any(a.startswith(b"HTTP/1.1 408") for a in answers), answers
    finally:
        for uploader in slow:
            uploader.close()
        served.stop()


def test_saturation_answers_503_with_retry_after(base: Service) -> None:
    """Beyond the per-owner and total limits: 503 busy with Retry-After, at once."""
    served = start_serve(
        base,
        S3FILES_MAX_TRANSFERS="3",
        S3FILES_MAX_TRANSFERS_PER_OWNER="2",
        S3FILES_BODY_GRACE="30",
        S3FILES_ADMISSION_BYTES="1",  # a holder is admitted by its first byte
    )
    holders = [
        SlowUploader(served.port, base.keys[who], index)
        for index, who in enumerate(["alice", "alice", "bob"])
    ]
    try:
        for holder in holders:
            holder.drip()
        time.sleep(0.5)
        for who, reason in (("alice", "owner"), ("root", "total")):
            started = time.monotonic()
            answer = httpx.post(
                f"{served.url}/api/v1/files/stream",
                params={"filename": f"{who}.txt"},
                headers={"Authorization": f"Bearer {base.keys[who]}"},
                content=b"hello",
                timeout=30,
            )
            assert (reason, answer.status_code, answer.json()["error"]) == (reason, 503, "busy")
            assert int(answer.headers["Retry-After"]) > 0
            assert time.monotonic() - started < 2
        assert httpx.get(f"{served.url}/healthz").status_code == 200
    finally:
        for holder in holders:
            holder.close()
        served.stop()


@pytest.fixture
def local_base(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(tmp_path, request, "local", "sqlite")


def test_serve_bounds_header_size(local_base: Service) -> None:
    """A header line of many MiB is refused without being buffered whole (the connection
    is closed early); one of 40 KiB gets a 431."""
    served = start_serve(local_base)
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (40 * 1024))
            sock.sendall(b"\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 431")
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
            sent = 0
            try:
                while sent < 64 * MiB:
                    sock.sendall(b"a" * 65536)
                    sent += 65536
            except OSError:
                pass
            answer = b""
            with contextlib.suppress(OSError):
                answer = sock.recv(100)
        assert sent < 16 * MiB, sent  # cut off long before the 64 MiB were sent
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer
        assert httpx.get(f"{served.url}/healthz").status_code == 200
    finally:
        served.stop()
