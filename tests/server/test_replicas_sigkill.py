"""One of three replicas gets SIGKILL in the middle of a mixed load through HAProxy: clients
that retry (uploads with an ``Idempotency-Key``) get every file stored exactly once and
byte-identical, the other replicas keep serving, and ``cleanup`` finds nothing left over."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.harness.haproxy import ReplicatedService
from tests.server._replicas import cli, cluster_settings, db_rows, new_key, replica_env

LEASE = 3  # S3FILES_IDEMPOTENCY_LEASE of the replicas: how long a dead upload holds its key
LOAD_SECONDS = 10.0
KILL_AFTER = 3.0
RETRY_DEADLINE = 40.0  # one operation, all its retries included
WORKERS = 4
RETRIED_STATUSES = {502, 503, 504}


@dataclass
class Tally:
    """What the clients did, checked after the load."""

    uploads: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (id, sha256)
    downloads: int = 0
    listings: int = 0
    retries: int = 0
    in_progress_answers: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def with_retries(tally: Tally, send: Callable[[], httpx.Response]) -> httpx.Response:
    """What a careful client does: retry when the connection broke, the balancer had no
    replica (502/503/504) or the upload's key is busy (409, after Retry-After)."""
    deadline = time.monotonic() + RETRY_DEADLINE
    while True:
        try:
            response = send()
        except httpx.TransportError as exc:
            outcome = f"{type(exc).__name__}"
            wait = 0.2
        else:
            busy = response.status_code == 409 and (
                response.json().get("error") == "idempotency_in_progress"
            )
            if not busy and response.status_code not in RETRIED_STATUSES:
                return response
            outcome = f"{response.status_code} {response.text[:100]}"
            wait = min(float(response.headers.get("retry-after", "0.2")), LEASE)
            if busy:
                with tally.lock:
                    tally.in_progress_answers += 1
        with tally.lock:
            tally.retries += 1
        if time.monotonic() > deadline:
            raise AssertionError(f"still failing after {RETRY_DEADLINE} s: {outcome}")
        time.sleep(wait)


def upload_once(client: httpx.Client, tally: Tally, content: bytes, name: str) -> None:
    key = str(uuid.uuid4())
    response = with_retries(
        tally,
        lambda: client.post(
            "/api/v1/files/stream",
            params={"filename": name},
            content=content,
            headers={"Idempotency-Key": key},
        ),
    )
    assert response.status_code in (200, 201), response.text
    with tally.lock:
        tally.uploads[key] = (response.json()["id"], hashlib.sha256(content).hexdigest())


@pytest.fixture
def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ReplicatedService]:
    settings = cluster_settings(tmp_path, request, "s3")
    env = replica_env(settings, S3FILES_IDEMPOTENCY_LEASE=str(LEASE))
    running = ReplicatedService(3, env, tmp_path / "cluster")
    running.settings = settings  # type: ignore[attr-defined]
    try:
        yield running.start()
    finally:
        running.stop()


def test_sigkill_of_a_replica_under_mixed_load_loses_and_doubles_nothing(
    cluster: ReplicatedService,
) -> None:
    settings = cluster.settings  # type: ignore[attr-defined]
    key = new_key(settings, "loader")
    auth = {"Authorization": f"Bearer {key}"}
    tally = Tally()
    victim = cluster.replicas[1]
    stop = threading.Event()

    def client() -> httpx.Client:
        return httpx.Client(base_url=cluster.url, headers=auth, timeout=30)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with client() as http:
                step = 0
                while not stop.is_set():
                    step += 1
                    content = rng.randbytes(rng.randint(16, 512) * 1024).hex().encode()
                    upload_once(http, tally, content, f"w{seed}-{step}.txt")
                    with tally.lock:
                        known = list(tally.uploads.values())
                    file_id, digest = rng.choice(known)
                    path = f"/api/v1/files/{file_id}/download"
                    got = with_retries(tally, lambda path=path: http.get(path))  # type: ignore[misc]
                    assert got.status_code == 200, got.text
                    assert hashlib.sha256(got.content).hexdigest() == digest
                    listed = with_retries(tally, lambda: http.get("/api/v1/files?limit=20"))
                    assert listed.status_code == 200 and listed.json()["items"], listed.text
                    with tally.lock:
                        tally.downloads += 1
                        tally.listings += 1
        except BaseException as exc:  # reported by the main thread
            with tally.lock:
                tally.failures.append(f"worker {seed}: {exc!r}")

    # one upload certainly in flight on the replica that dies: sent to it directly, slowly;
    # its client then retries through HAProxy with the same key
    dead_key = str(uuid.uuid4())
    dead_content = b"sent to the replica that dies\n" * 4096
    body_started, killed = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield dead_content[:1024]
        body_started.set()
        killed.wait(KILL_AFTER + 10)
        yield dead_content[1024:]  # to a dead socket: the client notices at once

    def victim_client() -> None:
        try:
            with httpx.Client(base_url=victim.url, headers=auth, timeout=30) as direct:
                direct.post(
                    "/api/v1/files/stream",
                    params={"filename": "dead.txt"},
                    content=slow_body(),
                    headers={"Idempotency-Key": dead_key},
                )
            raise AssertionError("the upload to the killed replica answered")
        except httpx.TransportError:
            pass  # the replica died under it: retry through HAProxy, same key
        except BaseException as exc:
            with tally.lock:
                tally.failures.append(f"victim: {exc!r}")
            return
        with client() as http:
            retried = with_retries(
                tally,
                lambda: http.post(
                    "/api/v1/files/stream",
                    params={"filename": "dead.txt"},
                    content=dead_content,
                    headers={"Idempotency-Key": dead_key},
                ),
            )
        with tally.lock:
            if retried.status_code in (200, 201):
                tally.uploads[dead_key] = (
                    retried.json()["id"],
                    hashlib.sha256(dead_content).hexdigest(),
                )
            else:
                tally.failures.append(f"victim retry: {retried.status_code} {retried.text}")

    with client() as http:  # something to download from the first step on
        upload_once(http, tally, b"seed file\n" * 100, "seed.txt")
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    threads.append(threading.Thread(target=victim_client))
    for thread in threads:
        thread.start()
    assert body_started.wait(10), "the slow upload did not start"
    time.sleep(KILL_AFTER)
    victim.kill()  # SIGKILL: no shutdown code runs
    killed.set()
    assert cluster.haproxy is not None
    cluster.haproxy.wait_status([victim.name], "DOWN", timeout=10)
    time.sleep(LOAD_SECONDS - KILL_AFTER)
    stop.set()
    for thread in threads:
        thread.join(RETRY_DEADLINE + 10)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    print(
        f"uploads {len(tally.uploads)}, downloads {tally.downloads}, listings {tally.listings}, "
        f"retries {tally.retries} ({tally.in_progress_answers} answered in progress)"
    )
    assert tally.failures == []
    assert dead_key in tally.uploads, "the upload cut by the kill was stored on retry"
    assert tally.in_progress_answers >= 1, "the retry met the dead upload's claim first"
    assert len(tally.uploads) > 10 and tally.downloads > 5
    assert [r.alive() for r in cluster.replicas] == [True, False, True]

    # exactly once: one active record per key, nothing else for this owner
    rows = db_rows(
        settings,
        "select idempotency_key, id, status, sha256 from files where owner = 'loader'",
    )
    assert sorted(row[0] for row in rows) == sorted(tally.uploads), "one record per upload"
    for idempotency_key, file_id, status, sha256 in rows:
        expected_id, expected_sha = tally.uploads[idempotency_key]
        assert (str(file_id).replace("-", ""), status, sha256) == (
            expected_id.replace("-", ""),
            "active",
            expected_sha,
        )
    with httpx.Client(base_url=cluster.url, headers=auth, timeout=30) as http:
        for file_id, digest in tally.uploads.values():
            got = http.get(f"/api/v1/files/{file_id}/download")
            assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == digest

    report_run = cli(
        replica_env(settings),
        "cleanup",
        "--json",
        "--grace-minutes",
        "0",
        cwd=settings.data_dir,
    )
    out, err = report_run.communicate(timeout=60)
    assert report_run.returncode == 0, err
    report = json.loads(out)
    leftovers = {name: value for name, value in report.items() if name != "fixed" and value}
    assert leftovers == {}, "no orphan, no unfinished upload, no record without its object"
