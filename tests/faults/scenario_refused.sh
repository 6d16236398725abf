#!/usr/bin/env bash
# A folder holding another scenario's rows is refused (exit 2, one line naming the folder and both
# scenarios), with --resume and without; --append adds to it and keeps every earlier row.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
export ATTNBENCH_GNUPLOT=none
scenario a.yaml alpha "[32]"
scenario b.yaml beta "[48]"
"$ATTNBENCH" run a.yaml --out out --quiet >log 2>&1 || { cat log; fail "first run"; }
cp out/results.csv first.csv
for extra in "--resume" ""; do
  "$ATTNBENCH" run b.yaml --out out --quiet $extra >log 2>&1; rc=$?
  cat log
  [[ $rc -eq 2 ]] || fail "another scenario ${extra:-(plain run)}: exit $rc, expected 2"
  grep -Eq "^attnbench: error: out: the folder holds results of scenario 'alpha' \(out/results.scenario.json\), not of 'beta' \(b.yaml\); choose another --out, or pass --append" log ||
    fail "message"
  cmp -s first.csv out/results.csv || fail "the refused run changed results.csv"
done
# Without the sidecar, results.json's context names the scenario.
rm out/results.scenario.json
"$ATTNBENCH" run b.yaml --out out --quiet --resume >log 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "scenario 'alpha' (out/results.json)" log || { cat log; fail "refusal from results.json"; }
"$ATTNBENCH" run b.yaml --out out --quiet --append >log 2>&1 || { cat log; fail "--append"; }
python3 "$HERE/check_rows.py" out 8 first.csv || fail "--append lost or changed the first scenario's rows"
echo "refused with and without --resume (exit 2, folder unchanged); --append kept the 4 rows and added 4"
