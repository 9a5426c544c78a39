#!/usr/bin/env bash
# Install what the tests need (Debian packages as root, a virtualenv in .venv) and run them.
# The tests boot their own Ceph RADOS Gateway; set S3FILES_TEST_S3_ENDPOINT (with
# S3FILES_TEST_S3_ACCESS_KEY / S3FILES_TEST_S3_SECRET_KEY) to use another S3 server instead.
# Extra arguments go to pytest: bash scripts/test.sh -k contract -x
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_bootstrap.sh
# libatomic1: the Node.js in the playwright wheel (the browser tests' driver) links libatomic.so.1,
# which Debian's chromium does not pull in. haproxy: the load balancer in front of the replica
# tests' several `s3files serve` processes (tests/harness/haproxy.py).
bootstrap "python3 python3-venv libmagic1 radosgw ceph-mon ceph-osd postgresql chromium libatomic1 haproxy unzip" "dev"
echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
