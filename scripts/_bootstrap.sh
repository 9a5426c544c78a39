# Shared by scripts/serve.sh and scripts/test.sh: Debian packages, then a virtualenv.
# Usage: bootstrap "<debian packages>" "<pip extras>"
# pip runs only when pyproject.toml or the extras changed since the last install into .venv
# (a stamp per extras set, .venv/.s3files-installed-<extras>, holds their hash); the install
# is editable, so changes to the code itself need none.
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
  local stamp=".venv/.s3files-installed-${extras//[^A-Za-z0-9]/_}" wanted
  wanted=$({ cat pyproject.toml; echo "extras=$extras"; .venv/bin/python -VV; } | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x .venv/bin/s3files ]; then
    echo "==> s3files[$extras] already installed in .venv (pyproject.toml unchanged)"
  else
    echo "==> pip install -e .[$extras]"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]"
    echo "$wanted" >"$stamp"
  fi
}
