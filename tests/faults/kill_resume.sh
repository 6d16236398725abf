#!/usr/bin/env bash
# kill -9 at several points (after 3 rows, after 4 more, inside the atomic results.json rewrite), then
# --resume to the end: every row finished before a kill is in the final CSV unchanged (0 lost, 0 rerun),
# no case twice (0 duplicated), results.json parseable after every kill.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
scenario s.yaml kill "[96, 128, 160, 192, 224]"  # 20 cases
run() { exec "$ATTNBENCH" run s.yaml --out out --quiet "$@" >>log 2>&1; }  # exec: $! is attnbench itself

run & pid=$!
wait_rows out/results.csv 3 $pid || fail "first run"
kill -9 $pid; wait $pid 2>/dev/null
cp out/results.csv snap1.csv
echo "kill 1: $(rows snap1.csv) rows on disk"

run --resume & pid=$!
wait_rows out/results.csv $(($(rows snap1.csv) + 4)) $pid || fail "second run"
kill -9 $pid; wait $pid 2>/dev/null
cp out/results.csv snap2.csv
python3 -c "import json; json.load(open('out/results.json'))" || fail "results.json unparseable after kill 2"
echo "kill 2: $(rows snap2.csv) rows on disk"

# Inside the rewrite: the test hook holds the finished results.json.tmp for 2 s before its rename.
# It stalls at the start too (the JSON of the kept rows): wait for new rows, then the next rewrite.
rm -f out/*.tmp
ATTNBENCH_FAULT_STALL_RENAME=results.json run --resume & pid=$!
wait_rows out/results.csv $(($(rows snap2.csv) + 1)) $pid || fail "third run"
for ((i = 0; i < 500; ++i)); do [[ -f out/results.json.tmp ]] && break; sleep 0.01; done
[[ -f out/results.json.tmp ]] || fail "never saw results.json.tmp"
kill -9 $pid; wait $pid 2>/dev/null
cp out/results.csv snap3.csv
python3 -c "import json; json.load(open('out/results.json'))" || fail "results.json unparseable after a kill inside its rewrite"
echo "kill 3 (inside the results.json rewrite): $(rows snap3.csv) rows on disk"

rm -f log
"$ATTNBENCH" run s.yaml --out out --resume >log 2>&1 || { cat log; fail "final resume"; }
grep -q "resuming: $(rows snap3.csv) rows kept" log || { cat log; fail "resume did not keep the rows on disk"; }
grep -q "^attnbench: 20 rows: 20 ok.* ($((20 - $(rows snap3.csv))) run now)$" log || { cat log; fail "resume ran finished cases again"; }
python3 "$HERE/check_rows.py" out 20 snap1.csv snap2.csv snap3.csv || fail "rows lost, rerun or duplicated"
