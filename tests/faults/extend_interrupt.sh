#!/usr/bin/env bash
# Extend a finished sweep (more seqlens) and interrupt the --resume run (kill -9, then SIGTERM): the first
# run's rows stay in results.csv and results.json, unchanged; a last --resume completes the extended sweep.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
export ATTNBENCH_GNUPLOT=none
scenario s.yaml extend "[96, 128]"  # 8 cases
"$ATTNBENCH" run s.yaml --out out --quiet >log 2>&1 || { cat log; fail "first run"; }
cp out/results.csv first.csv
scenario s.yaml extend "[96, 128, 160, 192, 224]"  # 20 cases: 12 new

"$ATTNBENCH" run s.yaml --out out --quiet --resume >log 2>&1 & pid=$!
wait_rows out/results.csv 10 $pid || fail "extended run"
kill -9 $pid; wait $pid 2>/dev/null
python3 - <<'PY' || fail "kill -9 during the extended run dropped first rows"
import csv, json
first = list(csv.DictReader(open("first.csv")))
now = list(csv.DictReader(open("out/results.csv")))
doc = json.load(open("out/results.json"))
assert all(r in now for r in first), "a first-run row is missing or changed in results.csv"
keys = {(r["mask"], int(r["seqlen_q"]), r["pass"]) for r in doc["results"]}
assert all((r["mask"], int(r["seqlen_q"]), r["pass"]) in keys for r in first), "results.json lost first-run rows"
print(f"after kill -9: results.csv {len(now)} rows, results.json {len(doc['results'])}, all 8 first rows kept")
PY
cp out/results.csv snap1.csv

"$ATTNBENCH" run s.yaml --out out --quiet --resume >log 2>&1 & pid=$!
wait_rows out/results.csv $(($(rows snap1.csv) + 1)) $pid || fail "second extended run"
kill -TERM $pid; wait $pid; rc=$?
[[ $rc -eq 143 ]] || { cat log; fail "SIGTERM: exit $rc"; }
python3 - <<'PY' || fail "SIGTERM during the extended run dropped first rows"
import csv, json
first = list(csv.DictReader(open("first.csv")))
now = list(csv.DictReader(open("out/results.csv")))
doc = json.load(open("out/results.json"))
assert all(r in now for r in first)
assert len(doc["results"]) == len(now), (len(doc["results"]), len(now))
print(f"after SIGTERM: results.csv and results.json {len(now)} rows, all 8 first rows kept")
PY
cp out/results.csv snap2.csv
"$ATTNBENCH" run s.yaml --out out --quiet --resume >log 2>&1 || { cat log; fail "last resume"; }
python3 "$HERE/check_rows.py" out 20 first.csv snap1.csv snap2.csv || fail "rows lost, rerun or duplicated"
