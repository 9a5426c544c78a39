#!/usr/bin/env bash
# Install s3files (Debian packages as root, a virtualenv in .venv) and run the main job.
# Extra arguments go to the s3files command.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_bootstrap.sh
bootstrap "python3 python3-venv libmagic1" "server"
exec .venv/bin/s3files "$@"
