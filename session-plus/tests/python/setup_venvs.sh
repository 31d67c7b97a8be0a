#!/usr/bin/env bash
# Creates the three Python environments of tests/flask_live.rs, once:
#   target/python/legacy  flask-session-plus 0.6.2 on Flask 1.1.4, PyMongo 4 (requirements-legacy.txt)
#   target/python/modern  Flask 3.1 + Flask-Session 0.8 (requirements-modern.txt)
#   target/python/firestore  flask-session-plus 0.6.2 with google-cloud-firestore (requirements-firestore.txt)
# Under the workspace's target/, so `cargo clean` removes them. A venv is rebuilt when its
# requirements file changes; otherwise this returns at once. Prints one line per venv created.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
python="${PYTHON:-python3}"
mkdir -p "$root/target/python"
# One setup at a time (two test binaries may start at once).
exec 9>"$root/target/python/.lock"
flock 9
for name in legacy modern firestore; do
    venv="$root/target/python/$name"
    requirements="$here/requirements-$name.txt"
    stamp="$venv/.requirements"
    if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
        continue
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$requirements" >/dev/null
    cp "$requirements" "$stamp"
    echo "created $venv"
done
