# Sourced by the scripts: create .venv with Python 3.11+ and install requirements.txt into it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/pip ]; then
    PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
    if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "QI Tracker needs Python 3.11 or newer; set PYTHON=/path/to/python3.11." >&2
        exit 1
    fi
    echo "Creating .venv with $("$PYTHON" --version)"
    rm -rf .venv
    if ! "$PYTHON" -m venv .venv; then
        echo "Could not create a virtual environment (on Debian or Ubuntu: apt-get install python3-venv)." >&2
        rm -rf .venv
        exit 1
    fi
fi
# Reinstall only when requirements.txt changed since the last successful install.
if ! cmp -s requirements.txt .venv/.installed-requirements 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt .venv/.installed-requirements
fi
