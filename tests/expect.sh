#!/usr/bin/env bash
# Runs a command, then checks its exit code and that its output (stdout + stderr) matches every pattern.
# usage: expect.sh EXIT_CODE PATTERN... -- COMMAND [ARGS...]   (patterns: grep -E, each must match a line)
set -u
expected_rc=$1
shift
patterns=()
while [[ $# -gt 0 && $1 != "--" ]]; do
  patterns+=("$1")
  shift
done
shift  # the "--"

output=$("$@" 2>&1)
rc=$?
printf '%s\n' "$output"
status=0
if [[ $rc -ne $expected_rc ]]; then
  echo "expect.sh: exit code $rc, expected $expected_rc" >&2
  status=1
fi
for p in "${patterns[@]}"; do
  if ! grep -Eq -- "$p" <<<"$output"; then
    echo "expect.sh: no output line matches: $p" >&2
    status=1
  fi
done
exit $status
