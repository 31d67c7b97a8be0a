#!/usr/bin/env bash
# Runs the fuzz targets one after another (one libFuzzer process at a time), each for RUNS
# executions, from the committed seeds; logs go to fuzz/logs/<target>.log. See FUZZING.md.
set -u
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/fuzz/target}"
RUNS="${RUNS:-10000000}"
TARGETS="${*:-cookie_header signed_cookie flask_cookie tagged_json msgpack_record private_cookie config}"
mkdir -p fuzz/logs
for t in $TARGETS; do
    mkdir -p "fuzz/corpus/$t"
    cp -n fuzz/seeds/"$t"/* "fuzz/corpus/$t/"
    start=$(date +%s)
    nice -n 10 cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -dict="fuzz/dict/$t.dict" -runs="$RUNS" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"fuzz/logs/$t.log" 2>&1
    rc=$?
    echo "$t exit=$rc wall=$(( $(date +%s) - start ))s" | tee -a fuzz/logs/summary.txt
done
