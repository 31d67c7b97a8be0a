#!/usr/bin/env bash
# The Python original beside bare axum and session-plus on Redis: flask-session-plus 0.6.2 on
# Flask 1.1.4 under gunicorn (2 workers x 4 threads), the same routes, loaded by wrk in
# interleaved rounds. Prints a Markdown table of median req/s and the ratios to bare axum.
#
#   session-plus-bench/python/run.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 5 s)
#
# Needs python3 with venv, wrk, and Redis on 127.0.0.1:6379 (db 14 for Python, 0 for Rust).
set -euo pipefail
rounds="${1:-3}"
seconds="${2:-5}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/session-plus/tests/python/setup_venvs.sh"
venv="$root/target/python/legacy"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input gunicorn==27.0.1
cargo build -q --release -p session-plus-bench
bench="$root/target/release/session-plus-bench"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
(cd "$here" && exec "$venv/bin/gunicorn" -w 2 -k gthread --threads 4 -b 127.0.0.1:3091 \
    --log-level warning fsp_bench_app:app) &
pids+=($!)
"$bench" serve --variant axum --port 3092 >/dev/null &
pids+=($!)
"$bench" serve --variant sp-redis --port 3093 >/dev/null &
pids+=($!)
for port in 3091 3092 3093; do
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
done

# The session's cookies, as one Cookie header.
cookies() {
    curl -si -X POST "http://127.0.0.1:$1/setup" | tr -d '\r' | grep -i '^set-cookie:' |
        sed 's/;.*//; s/^[Ss]et-[Cc]ookie: //' | paste -sd';' | sed 's/;/; /g'
}
declare -A cookie label
cookie[3091]="$(cookies 3091)"; label[3091]="flask-session-plus 0.6.2 (gunicorn)"
cookie[3092]="$(cookies 3092)"; label[3092]="bare axum"
cookie[3093]="$(cookies 3093)"; label[3093]="session-plus redis"

results="$(mktemp)"
for round in $(seq "$rounds"); do
    for route in /hit /read /csrf; do
        for port in 3092 3093 3091; do
            out="$(wrk -t2 -c32 -d"${seconds}s" -H "Cookie: ${cookie[$port]}" "http://127.0.0.1:$port$route")"
            if echo "$out" | grep -q "Non-2xx"; then
                echo "${label[$port]} answered errors on $route:" >&2
                echo "$out" >&2
                exit 1
            fi
            rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
            echo "round $round $route ${label[$port]}: $rps req/s" >&2
            echo "$route $port $rps" >>"$results"
        done
    done
done

median() { sort -n | awk '{v[NR]=$1} END {printf "%.0f\n", (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "| route | variant | req/s (median of $rounds) | × bare axum |"
echo "|---|---|--:|--:|"
for route in /hit /read /csrf; do
    axum="$(awk -v r="$route" '$1==r && $2==3092 {print $3}' "$results" | median)"
    for port in 3092 3093 3091; do
        m="$(awk -v r="$route" -v p="$port" '$1==r && $2==p {print $3}' "$results" | median)"
        echo "| \`$route\` | ${label[$port]} | $m | $(awk -v a="$m" -v b="$axum" 'BEGIN {printf "%.3f", a/b}') |"
    done
done
rm -f "$results"
