#!/usr/bin/env bash
# Install s3files (Debian packages as root, a virtualenv in .venv) and run the service:
# local disk + SQLite in ./s3files-data, http://127.0.0.1:8000, an admin key on first start.
# Extra arguments go to `s3files serve` (--host, --port, --workers).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_bootstrap.sh
bootstrap "python3 python3-venv libmagic1" "server"
exec .venv/bin/s3files serve "$@"
