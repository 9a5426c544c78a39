# Shared by scripts/serve.sh and scripts/test.sh: Debian packages, then a virtualenv.
# Usage: bootstrap "<debian packages>" "<pip extras>"
bootstrap() {
  local packages=$1 extras=$2 missing=()
  if command -v apt-get >/dev/null 2>&1; then
    for pkg in $packages; do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
        exit 1
      fi
      echo "==> apt-get install ${missing[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "==> python3 -m venv .venv"
    python3 -m venv .venv
  fi
  echo "==> pip install -e .[$extras]"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]"
}
