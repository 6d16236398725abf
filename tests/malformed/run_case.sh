#!/usr/bin/env bash
# Runs one malformed-input case (a .case file) against attnbench and checks the refusal:
# the exit code, exactly one output line, the words it must contain, and no crash text.
# usage: run_case.sh CASE_FILE ATTNBENCH_BINARY WORK_DIR   (run from the source root)
#
# A .case file is a header of "key: value" lines, then optionally "---" and a body:
#   file: NAME        the body is written to WORK_DIR/NAME ({file} in args)
#   args: ...         attnbench's arguments; {file}, {work} and {src} are substituted; split on spaces,
#                     a 'single-quoted' argument may hold spaces
#   exit: N           expected exit code (2 for bad input)
#   expect: WORDS     a fixed string the message must contain (repeatable)
#   reject: WORDS     a fixed string the message must not contain (repeatable)
# Lines starting with '#' are comments (the first says what the case is).
set -u
case_file=$1
binary=$2
work=$3
src=$(pwd)

rm -rf "$work" && mkdir -p "$work"
file="" args="" exit_expected=2 expects=() rejects=() in_body=0 body=""
while IFS= read -r line || [[ -n $line ]]; do
  if ((in_body)); then
    body+="$line"$'\n'
    continue
  fi
  case $line in
    "---") in_body=1 ;;
    "#"* | "") ;;
    file:*) file=${line#file:}; file=${file# } ;;
    args:*) args=${line#args:}; args=${args# } ;;
    exit:*) exit_expected=${line#exit:}; exit_expected=${exit_expected# } ;;
    expect:*) v=${line#expect:}; expects+=("${v# }") ;;
    reject:*) v=${line#reject:}; rejects+=("${v# }") ;;
    *) echo "run_case.sh: $case_file: unknown header line: $line" >&2; exit 3 ;;
  esac
done <"$case_file"

path=""
if [[ -n $file ]]; then
  path="$work/$file"
  printf '%s' "$body" >"$path"
fi
args=${args//\{file\}/$path}
args=${args//\{work\}/$work}
args=${args//\{src\}/$src}
# Split on spaces, keeping 'quoted words' whole.
argv=()
while [[ -n $args ]]; do
  args=${args# }
  [[ -z $args ]] && break
  if [[ $args == "'"* ]]; then
    rest=${args#\'}
    argv+=("${rest%%\'*}")
    args=${rest#*\'}
  else
    argv+=("${args%% *}")
    [[ $args == *" "* ]] && args=${args#* } || args=""
  fi
done

output=$(cd "$work" && timeout 20 "$binary" "${argv[@]}" 2>&1)
rc=$?
printf 'attnbench %s\n%s\n' "${argv[*]}" "$output"
status=0
fail() { echo "run_case.sh: FAIL: $*" >&2; status=1; }
[[ $rc -eq $exit_expected ]] || fail "exit code $rc, expected $exit_expected"
lines=$(grep -c . <<<"$output")
if [[ $exit_expected -eq 2 && $lines -ne 1 ]]; then fail "$lines output lines, expected one error line"; fi
for bad in "terminate called" "filesystem error" "what():" "Aborted" "core dumped" "Segmentation" "bad_alloc"; do
  grep -qF -- "$bad" <<<"$output" && fail "output contains '$bad'"
done
for w in "${expects[@]}"; do
  grep -qF -- "$w" <<<"$output" || fail "message lacks '$w'"
done
for w in "${rejects[@]}"; do
  grep -qF -- "$w" <<<"$output" && fail "message contains '$w'"
done
exit $status
