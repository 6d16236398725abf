#!/usr/bin/env bash
# SIGTERM mid-sweep: exit 143 after the current case, results.csv/json/md complete and parseable with the
# same rows; SIGINT: 130; a second SIGTERM exits at once; then --resume finishes with 0 lost, 0 rerun.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
scenario s.yaml sigterm "[96, 128, 160, 192, 224]"  # 20 cases

"$ATTNBENCH" run s.yaml --out out --quiet >log 2>&1 & pid=$!
wait_rows out/results.csv 3 $pid || fail "run"
kill -TERM $pid; wait $pid; rc=$?
cat log
[[ $rc -eq 143 ]] || fail "SIGTERM: exit $rc, expected 143"
grep -q "interrupted by SIGTERM: stopped at a case boundary" log || fail "no interruption line"
grep -q "reports in" log && fail "a success line after SIGTERM"
python3 - <<'PY' || fail "reports after SIGTERM"
import csv, json
rows = list(csv.DictReader(open("out/results.csv")))
doc = json.load(open("out/results.json"))
md = open("out/results.md").read()
assert open("out/results.csv").read().endswith("\n"), "results.csv ends in a cut line"
assert len(doc["results"]) == len(rows) >= 3, (len(doc["results"]), len(rows))
assert "| 96 |" in md, "results.md lacks the finished rows"
print(f"SIGTERM: exit 143, {len(rows)} rows in results.csv and results.json, results.md written")
PY
cp out/results.csv snap1.csv

"$ATTNBENCH" run s.yaml --out out --quiet --resume >log 2>&1 & pid=$!
wait_rows out/results.csv $(($(rows snap1.csv) + 2)) $pid || fail "resume run"
kill -INT $pid; wait $pid; rc=$?
[[ $rc -eq 130 ]] || { cat log; fail "SIGINT: exit $rc, expected 130"; }
echo "SIGINT: exit 130, $(rows out/results.csv) rows"
cp out/results.csv snap2.csv

# Two signals in a row: the second exits at once (128+15), results.csv still whole lines.
"$ATTNBENCH" run s.yaml --out out --quiet --resume >log 2>&1 & pid=$!
wait_rows out/results.csv $(($(rows snap2.csv) + 1)) $pid || fail "third run"
kill -TERM $pid; kill -TERM $pid; wait $pid; rc=$?
[[ $rc -eq 143 ]] || { cat log; fail "double SIGTERM: exit $rc, expected 143"; }
[[ $(tail -c 1 out/results.csv | od -An -c | tr -d ' ') == '\n' ]] || fail "results.csv cut after a double SIGTERM"
echo "double SIGTERM: exit 143, $(rows out/results.csv) rows"
cp out/results.csv snap3.csv

"$ATTNBENCH" run s.yaml --out out --quiet --resume >log 2>&1 || { cat log; fail "final resume"; }
python3 "$HERE/check_rows.py" out 20 snap1.csv snap2.csv snap3.csv || fail "rows lost, rerun or duplicated"
