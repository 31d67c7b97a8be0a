#!/usr/bin/env bash
# The Flask extension's tests (scripts/test.sh runs this once the servers are up):
# 1. the venv target/python/flask from tests/requirements.txt (rebuilt when that file changes);
# 2. the venvs of the live tests with flask-session-plus 0.6.2 (session-plus/tests/python/setup_venvs.sh);
# 3. the extension into the venv: the workspace's debug build of it (no second build, no release
#    build), laid out as the wheel lays it out;
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

# The extension is the workspace's own debug build of the cdylib: the same features as `cargo test
# --workspace --all-features` (extension-module included), so every dependency is the one that
# command built. `maturin develop` would resolve the crate's features alone and build them all a
# second time (2 to 9 minutes). The layout is the wheel's (pyproject.toml: `python-source`,
# `module-name`), which tests/test_packaging.py checks.
echo "building the extension into $venv (the workspace's debug build)"
(cd "$root" && cargo build --quiet --workspace --all-features --lib)
target="${CARGO_TARGET_DIR:-$root/target}"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$venv/bin/python" -m pip uninstall -y -q --disable-pip-version-check session-plus-flask 2>/dev/null || true
rm -rf "$site/session_plus_flask"
cp -r "$crate/python/session_plus_flask" "$site/"
cp "$target/debug/libsession_plus_flask.so" "$site/session_plus_flask/_core.abi3.so"

cd "$crate"
SESSION_PLUS_LEGACY_PYTHON="$root/target/python/legacy/bin/python" \
    PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" tests
