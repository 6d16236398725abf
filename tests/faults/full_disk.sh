#!/usr/bin/env bash
# A tiny tmpfs as a full disk: a full --out or --dump-tensors is refused before any case runs (exit 2,
# one line naming the folder); a disk that fills mid-sweep ends the run with exit 2 and one line naming
# the file, no success line, results.csv whole lines only, results.json parseable; after space is freed,
# --resume finishes with 0 rows lost, rerun or duplicated. Skipped (exit 77) where a tmpfs cannot be mounted.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
mkdir disk
if ! mount -t tmpfs -o size=256k tmpfs disk 2>mount.err; then
  echo "SKIP: cannot mount a 256 KiB tmpfs here (needs root or CAP_SYS_ADMIN): $(cat mount.err)"
  exit 77
fi
trap 'umount "$WORK/disk" 2>/dev/null; rm -rf "$WORK"' EXIT
export ATTNBENCH_GNUPLOT=none
scenario s.yaml fulldisk "[96, 104, 112, 120, 128, 136, 144, 152, 160, 168, 176, 184, 192, 200, 208, 216]"  # 64 cases

# Completely full: the probe refuses before anything runs.
dd if=/dev/zero of=disk/filler bs=1k count=256 2>/dev/null
"$ATTNBENCH" run s.yaml --out disk/out >log 2>&1; rc=$?
cat log
[[ $rc -eq 2 ]] || fail "full --out: exit $rc, expected 2"
grep -Eq "^attnbench: error: disk/out: --out folder cannot be (written|created): No space left on device$" log || fail "full --out: message"
grep -q "\[1/" log && fail "full --out: a case ran"
"$ATTNBENCH" run s.yaml --out out --dump-tensors disk/dump >log 2>&1; rc=$?
cat log
[[ $rc -eq 2 ]] || fail "full --dump-tensors: exit $rc, expected 2"
grep -Eq "^attnbench: error: disk/dump: --dump-tensors folder cannot be (written|created): No space left on device$" log || fail "full --dump-tensors: message"

# Room for the probe and about half of the rows only: the disk fills mid-sweep. The room follows the
# size of this build's results.csv (columns come and go), measured on the normal disk first.
"$ATTNBENCH" run s.yaml --out ref --quiet >log 2>&1 || { cat log; fail "reference run"; }
csv_bytes=$(stat -c %s ref/results.csv)
rm -f disk/filler
avail=$(df --output=avail -B1 disk | tail -1)
# two pages for the folder's other files (scenario copy, probe), then about half of results.csv; tmpfs
# counts whole pages
room=$(( 8192 + (csv_bytes / 2 + 4095) / 4096 * 4096 ))
(( csv_bytes + 8192 > room )) || fail "the sweep's results.csv ($csv_bytes bytes) is too small to fill $room bytes mid-sweep"
head -c $((avail - room)) /dev/zero > disk/filler 2>/dev/null || true
echo "results.csv of the full sweep: $csv_bytes bytes; free on the disk now: $(df --output=avail -B1 disk | tail -1) bytes"
"$ATTNBENCH" run s.yaml --out disk/out --quiet >log 2>&1; rc=$?
cat log
[[ $rc -eq 2 ]] || fail "disk full mid-sweep: exit $rc, expected 2"
[[ $(grep -c "attnbench: error:" log) -eq 1 ]] || fail "expected exactly one error line"
grep -Eq "^attnbench: error: disk/out/results\.(csv|json|json\.tmp|md|md\.tmp)(\.tmp)?: cannot [a-z ()]+: No space left on device$" log || fail "disk full: message"
grep -q "reports in" log && fail "a success line over a full disk"
python3 - <<'PY' || fail "reports left on the full disk"
import csv, json, os
text = open("disk/out/results.csv").read()
assert text.endswith("\n"), "results.csv ends in a cut line"
rows = list(csv.reader(text.splitlines()))
assert all(len(r) == len(rows[0]) for r in rows), "a results.csv row with the wrong cell count"
n = len(rows) - 1
j = len(json.load(open("disk/out/results.json"))["results"]) if os.path.exists("disk/out/results.json") else 0
print(f"disk full after {n} rows in results.csv (results.json parseable, {j} rows)")
assert 0 < n < 64
PY
cp disk/out/results.csv snap1.csv

rm -f disk/filler
"$ATTNBENCH" run s.yaml --out disk/out --quiet --resume >log 2>&1 || { cat log; fail "resume after freeing space"; }
python3 "$HERE/check_rows.py" disk/out 64 snap1.csv || fail "rows lost, rerun or duplicated"
