#!/usr/bin/env bash
# The Flask extension's tests (scripts/test.sh runs this once the servers are up):
# 1. the venv target/python/flask from tests/requirements.txt (rebuilt when that file changes);
# 2. the venvs of the live tests with flask-session-plus 0.6.2 (session-plus/tests/python/setup_venvs.sh);
# 3. one build of the extension into the venv: `maturin develop`, dev profile, the workspace's
#    target directory (no release build);
# 4. pytest, with the arguments given to this script.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(dirname "$here")"
root="$(dirname "$crate")"
python="${PYTHON:-python3}"
venv="$root/target/python/flask"
requirements="$here/requirements.txt"

mkdir -p "$root/target/python"
if [[ ! -x "$venv/bin/python" || ! -f "$venv/.requirements" ]] || ! cmp -s "$requirements" "$venv/.requirements"; then
    echo "creating $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$requirements"
    cp "$requirements" "$venv/.requirements"
fi
bash "$root/session-plus/tests/python/setup_venvs.sh"

echo "building the extension into $venv (maturin develop, dev profile)"
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$venv/bin/maturin" develop --quiet -m "$crate/Cargo.toml"

cd "$crate"
SESSION_PLUS_LEGACY_PYTHON="$root/target/python/legacy/bin/python" \
    PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" tests
