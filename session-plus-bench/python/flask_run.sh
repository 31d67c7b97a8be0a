#!/usr/bin/env bash
# The Flask extension beside what a Flask app uses today: the same app (flask_bench_app.py) on
# flask-session-plus 0.6.2 (Flask 1.1.4: it needs Flask < 2.1), on Flask's own cookie session,
# on Flask-Session 0.8 (Redis) and on session-plus-flask (release wheel), each under gunicorn
# (gthread, 2 workers x 4 threads, 16 connections each), loaded by wrk in interleaved rounds on
# /read, /hit and /csrf, every request as one visitor (one session, which every /hit writes), and
# on /hit again as 64 visitors (visitors.lua: concurrent requests seldom share a session, as on a
# real site).
# Counts how many of the one-session /hit increments each layer kept (the stored counter before
# and after each run). Then the session layer alone, in process (flask_layer.py: open_session +
# the route's calls + save_session), and one bare Redis round trip from Python, for scale.
# Prints three Markdown tables and that line.
#
#   session-plus-bench/python/flask_run.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 5 s)
#
# Needs python3 with venv, cargo, wrk, and Redis on 127.0.0.1:6379 (db 14).
set -euo pipefail
rounds="${1:-3}"
seconds="${2:-5}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
"$root/session-plus/tests/python/setup_venvs.sh"
legacy="$root/target/python/legacy"
modern="$root/target/python/modern"
bench="$root/target/python/bench-flask"
gunicorn_pin=gunicorn==27.0.1
"$legacy/bin/python" -m pip install -q --disable-pip-version-check --no-input "$gunicorn_pin"
"$modern/bin/python" -m pip install -q --disable-pip-version-check --no-input "$gunicorn_pin"
if [[ ! -x "$bench/bin/python" ]]; then
    python3 -m venv "$bench"
    "$bench/bin/python" -m pip install -q --disable-pip-version-check --no-input \
        maturin==1.16.0 Flask==3.1.3 Werkzeug==3.1.9 itsdangerous==2.2.0 redis "$gunicorn_pin"
fi
wheels="$target/wheels-bench"
rm -rf "$wheels"
"$bench/bin/maturin" build --quiet --release -m "$root/session-plus-flask/Cargo.toml" -o "$wheels"
"$bench/bin/python" -m pip install -q --disable-pip-version-check --no-input --force-reinstall --no-deps "$wheels"/*.whl

declare -A venv label
venv[3101]=$legacy; label[3101]="flask-session-plus 0.6.2 (Flask 1.1.4)"
venv[3102]=$modern; label[3102]="Flask's cookie session (Flask 3.1)"
venv[3103]=$modern; label[3103]="Flask-Session 0.8, Redis (Flask 3.1)"
venv[3104]=$bench; label[3104]="session-plus-flask (Flask 3.1)"
venv[3105]=$bench; label[3105]="session-plus-flask, native formats"
declare -A variant=([3101]=fsp [3102]=cookie [3103]=flask-session [3104]=session-plus-flask [3105]=session-plus-flask-native)
ports=(3101 3102 3103 3104 3105)

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for port in "${ports[@]}"; do
    # At most 16 connections per worker, so wrk's 32 are shared evenly: otherwise either worker
    # may accept all of them in a run, and that run measures one process (a third of the rate).
    (cd "$here" && VARIANT="${variant[$port]}" exec "${venv[$port]}/bin/gunicorn" -w 2 -k gthread --threads 4 \
        --worker-connections 16 -b "127.0.0.1:$port" --log-level warning flask_bench_app:app) &
    pids+=($!)
done
for port in "${ports[@]}"; do
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/read" && break; sleep 0.2; done
done

cookies() {  # the session's cookies, as one Cookie header
    curl -si -X POST "http://127.0.0.1:$1/setup" | tr -d '\r' | grep -i '^set-cookie:' |
        sed 's/;.*//; s/^[Ss]et-[Cc]ookie: //' | paste -sd';' | sed 's/;/; /g'
}
declare -A cookie
# The stored counter, which every /hit increments: how many of a run's increments a layer kept.
counter() { curl -s -H "Cookie: ${cookie[$1]}" "http://127.0.0.1:$1/read"; }
for port in "${ports[@]}"; do cookie[$port]="$(cookies "$port")"; done
# "/hit, 64 visitors": 64 sessions per layer, each request one of them (visitors.lua).
visitors="$(mktemp -d)"
for port in "${ports[@]}"; do
    for _ in $(seq 64); do cookies "$port"; done >"$visitors/$port"
done

results="$(mktemp)"
for round in $(seq "$rounds"); do
    for route in /read /hit /csrf /hit-visitors; do
        for port in "${ports[@]}"; do
            if [[ $route == /hit-visitors ]]; then
                out="$(VISITORS="$visitors/$port" wrk -t2 -c32 -d"${seconds}s" -s "$here/visitors.lua" "http://127.0.0.1:$port/hit")"
            else
                [[ $route == /hit ]] && before="$(counter "$port")"
                out="$(wrk -t2 -c32 -d"${seconds}s" -H "Cookie: ${cookie[$port]}" "http://127.0.0.1:$port$route")"
            fi
            if echo "$out" | grep -q "Non-2xx"; then
                echo "${label[$port]} answered errors on $route:" >&2
                echo "$out" >&2
                exit 1
            fi
            rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
            echo "round $round $route ${label[$port]}: $rps req/s" >&2
            echo "$route $port $rps" >>"$results"
            if [[ $route == /hit && ${variant[$port]} != cookie ]]; then
                sleep 0.3  # requests wrk left in flight land before the count
                answered="$(echo "$out" | awk '/requests in/ {print $1}')"
                echo "kept $port $answered $(($(counter "$port") - before))" >>"$results"
            fi
        done
    done
done
kill "${pids[@]}" 2>/dev/null || true

median() { sort -n | awk '{v[NR]=$1} END {printf "%.0f\n", (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "| route | session layer | req/s (median of $rounds) | × flask-session-plus | × Flask-Session |"
echo "|---|---|--:|--:|--:|"
for route in /read /hit /csrf /hit-visitors; do
    fsp="$(awk -v r="$route" '$1==r && $2==3101 {print $3}' "$results" | median)"
    fs="$(awk -v r="$route" '$1==r && $2==3103 {print $3}' "$results" | median)"
    for port in "${ports[@]}"; do
        m="$(awk -v r="$route" -v p="$port" '$1==r && $2==p {print $3}' "$results" | median)"
        shown="\`$route\`"
        [[ $route == /hit-visitors ]] && shown="\`/hit\`, 64 visitors"
        echo "| $shown | ${label[$port]} | $m | $(awk -v a="$m" -v b="$fsp" 'BEGIN {printf "%.2f", a/b}') | $(awk -v a="$m" -v b="$fs" 'BEGIN {printf "%.2f", a/b}') |"
    done
done

# Eight threads in two processes increment one stored counter: how many increments each layer
# kept (Flask's cookie session keeps none: wrk sends the same cookie each time, so it is left out).
echo
echo "| \`/hit\`, one session | requests answered (all rounds) | increments kept | kept | kept increments/s (median) | × Flask-Session |"
echo "|---|--:|--:|--:|--:|--:|"
kept_rate() {  # the median over rounds of req/s × the share of increments kept
    paste -d' ' <(awk -v p="$1" '$1=="/hit" && $2==p {print $3}' "$results") \
        <(awk -v p="$1" '$1=="kept" && $2==p {print $4 / $3}' "$results") | awk '{print $1 * $2}' | median
}
fs_kept="$(kept_rate 3103)"
for port in "${ports[@]}"; do
    [[ ${variant[$port]} == cookie ]] && continue
    read -r answered kept < <(awk -v p="$port" '$1=="kept" && $2==p {a+=$3; k+=$4} END {print a, k}' "$results")
    rate="$(kept_rate "$port")"
    echo "| ${label[$port]} | $answered | $kept | $(awk -v k="$kept" -v a="$answered" 'BEGIN {printf "%.1f %%", 100*k/a}') | $rate | $(awk -v a="$rate" -v b="$fs_kept" 'BEGIN {printf "%.2f", a/b}') |"
done
rm -rf "$results" "$visitors"

echo
echo "| route | session layer | µs per request, in process (wall) | × flask-session-plus | CPU µs | × flask-session-plus |"
echo "|---|---|--:|--:|--:|--:|"
layer="$(mktemp)"
for port in "${ports[@]}"; do
    (cd "$here" && VARIANT="${variant[$port]}" "${venv[$port]}/bin/python" flask_layer.py 2000) >>"$layer"
done
for route in /read /hit /csrf; do
    fsp_wall="$(awk -v r="$route" '$2=="fsp" && $3==r {print $4}' "$layer")"
    fsp_cpu="$(awk -v r="$route" '$2=="fsp" && $3==r {print $5}' "$layer")"
    for port in "${ports[@]}"; do
        read -r wall cpu < <(awk -v v="${variant[$port]}" -v r="$route" '$2==v && $3==r {print $4, $5}' "$layer")
        ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a/b}'; }
        echo "| \`$route\` | ${label[$port]} | $wall | $(ratio "$fsp_wall" "$wall") | $cpu | $(ratio "$fsp_cpu" "$cpu") |"
    done
done
rm -f "$layer"
read -r _ _ rt_wall rt_cpu < <(cd "$here" && "$bench/bin/python" flask_layer.py --round-trip 2000)
echo
echo "One Redis round trip from Python, for scale (a bare redis-py \`GET\`, Flask-Session's client; a"
echo "layer's \`/read\` makes one round trip, its \`/hit\` two): $rt_wall µs wall, $rt_cpu µs CPU."
