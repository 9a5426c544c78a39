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
packages="python3 python3-venv libmagic1 radosgw ceph-mon ceph-osd postgresql chromium libatomic1 haproxy unzip"
# nodejs npm: the protocol tests run real JavaScript clients (tus-js-client under Node; Uppy
# bundled with esbuild), installed from npm at test time (tests/protocols/npm.py). A machine
# that already has npm on its PATH (NodeSource's nodejs bundles it) keeps its own: Debian's
# npm package would conflict with it.
command -v npm >/dev/null 2>&1 || packages="$packages nodejs npm"
bootstrap "$packages" "dev"
echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
