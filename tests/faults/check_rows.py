#!/usr/bin/env python3
"""Compares a folder's final results.csv/results.json with snapshots of results.csv taken before kills.

usage: check_rows.py OUT EXPECTED_ROWS [SNAPSHOT.csv ...]
A row is identified by its case key (the key columns); a snapshot row counts as lost when its key is
missing from the final CSV, as rerun when the final row of its key differs in any cell (timings would).
Prints lost/rerun/duplicated and exits 1 unless all are 0 and the CSV and JSON hold EXPECTED_ROWS keys.
"""
import csv, io, json, sys

KEY = ["backend", "strategy", "world_size", "mask", "mask_params", "seed", "batch", "heads_q", "heads_kv",
       "seqlen_q", "seqlen_k", "head_dim", "dtype", "pass"]


def csv_rows(path):
    text = open(path).read()
    text = text[: text.rfind("\n") + 1]  # a line cut by a kill is not a row
    return list(csv.DictReader(io.StringIO(text)))


def key(r):
    return tuple(str(r.get(k, "")) for k in KEY if k in r)


out, expected, snapshots = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
final = csv_rows(out + "/results.csv")
by_key = {}
duplicated = 0
for r in final:
    duplicated += key(r) in by_key
    by_key[key(r)] = r
lost = rerun = before = 0
for snap in snapshots:
    for r in csv_rows(snap):
        before += 1
        f = by_key.get(key(r))
        if f is None:
            lost += 1
        elif f != r:
            rerun += 1
doc = json.load(open(out + "/results.json"))  # parseable, and the same cases
SHORT = ["backend", "strategy", "mask", "seqlen_q", "seqlen_k", "dtype", "pass"]
json_keys = {tuple(str(r[k]) for k in SHORT) for r in doc["results"]}
csv_keys = {tuple(r[k] for k in SHORT) for r in final}
json_count = len(doc["results"]) if json_keys == csv_keys else -1  # -1: the JSON holds other cases
print(f"rows: final {len(final)} (json {json_count}), expected {expected}; snapshot rows {before}: "
      f"lost {lost}, rerun {rerun}, duplicated {duplicated}")
ok = lost == 0 and rerun == 0 and duplicated == 0 and len(by_key) == expected and json_count == expected
sys.exit(0 if ok else 1)
