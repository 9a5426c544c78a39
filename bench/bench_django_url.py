"""``S3FilesStorage.url()`` against django-storages' ``S3Storage.url()``: presigned GET URLs
per second, both storages on the same Django settings (bucket, region, endpoint, keys,
expiry, key prefix).

    pip install django-storages          # for this benchmark only; not a dependency
    flock /tmp/s3files-bench.lock .venv/bin/python bench/bench_django_url.py

Before timing, one URL of each storage is fetched from a real S3 server (a Ceph RGW booted
for the run, or ``S3FILES_TEST_S3_ENDPOINT``): both must return the object's bytes, and a
tampered signature must be refused, so a broken signer is never timed. Then each storage
signs ``--count`` URLs (names that differ, as a page of thumbnails would) in 5 batches
taken in turn after a warm-up; the best batch of each counts. One process, no I/O while
timing. The exit status is 1 only when a URL does not work.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence

import httpx
from _common import Row, S3Endpoint, boto3_client, load_note, machine_note, print_table, s3_server

LOCATION = "media"


def configure_django(server: S3Endpoint, bucket: str, expiry: int) -> None:
    """One settings module for both storages: the names each reads."""
    import django
    from django.conf import settings

    settings.configure(
        USE_TZ=True,
        INSTALLED_APPS=["s3files.contrib.django"],
        # s3files (its own names) and django-storages (AWS_S3_* / AWS_STORAGE_*) alike
        AWS_ACCESS_KEY_ID=server.access_key,
        AWS_SECRET_ACCESS_KEY=server.secret_key,
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_REGION_NAME=server.region,
        AWS_S3_ENDPOINT_URL=server.endpoint_url,
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_S3_SIGNATURE_VERSION="s3v4",
        AWS_QUERYSTRING_AUTH=True,
        AWS_QUERYSTRING_EXPIRE=expiry,
        AWS_LOCATION=LOCATION,
    )
    django.setup()


def rate(sign: Callable[[str], str], names: Sequence[str], batches: int = 5) -> float:
    """URLs per second of the best of ``batches`` batches over ``names``."""
    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter()
        for name in names:
            sign(name)
        best = min(best, time.perf_counter() - start)
    return len(names) / best


def check(url: str, body: bytes, who: str) -> list[str]:
    """The URL returns the bytes; the same URL with a tampered signature is refused."""
    problems = []
    answer = httpx.get(url, timeout=30)
    if answer.status_code != 200 or answer.content != body:
        problems.append(f"{who}: GET {answer.status_code}, {len(answer.content)} bytes")
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    if httpx.get(forged, timeout=30).status_code != 403:
        problems.append(f"{who}: a tampered signature was accepted")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=20_000, help="URLs per batch and storage")
    parser.add_argument("--expiry", type=int, default=3600, help="seconds the URLs stay valid")
    options = parser.parse_args(argv)
    before = os.getloadavg()
    with s3_server() as server:
        client = boto3_client(server)
        bucket = f"bench-django-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        body = b"a small object\n"
        client.put_object(Bucket=bucket, Key=f"{LOCATION}/photos/one.txt", Body=body)
        configure_django(server, bucket, options.expiry)

        from storages.backends.s3 import S3Storage

        from s3files.contrib.django.storage import S3FilesStorage

        ours = S3FilesStorage(location=LOCATION, querystring_expire=options.expiry)
        theirs = S3Storage()  # every option from the AWS_* settings above
        problems = check(ours.url("photos/one.txt"), body, "S3FilesStorage")
        problems += check(theirs.url("photos/one.txt"), body, "django-storages S3Storage")
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        names = [f"photos/2026/12/{uuid.uuid4()}.jpg" for _ in range(options.count)]
        for sign in (ours.url, theirs.url):  # warm-up: clients, caches, signing keys
            for name in names[:200]:
                sign(name)
        ours_rate = rate(ours.url, names)
        theirs_rate = rate(theirs.url, names)
        import django
        import storages

        print(machine_note(server))
        print(f"Django {django.get_version()}, django-storages {storages.__version__}")
        print(load_note(before))
        print(f"{options.count} URLs per batch, best of 5 batches, expiry {options.expiry} s")
        print_table(
            [Row("url() presigned GET", ours_rate, theirs_rate, "URLs/s", "higher")],
            alternative="django-storages",
        )
        print(
            f"per call: S3FilesStorage {1e6 / ours_rate:.1f} µs, "
            f"S3Storage {1e6 / theirs_rate:.1f} µs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
