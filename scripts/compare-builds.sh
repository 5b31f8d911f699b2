#!/usr/bin/env bash
# Runs two builds of faultline over the same inputs and diffs their JSON reports, for reshaping
# that must not change behaviour: every catalogue configuration (`faultline list races/`) and the
# 91 core kernel litmus tests, under the default strategy and under each of STRATEGIES (random and
# pct with fixed seeds, dfs/bfs with an execution limit, so every run is deterministic), plus
# `check races/ --format json`. Prints one line per differing report and exits 1 if any differ.
#   scripts/compare-builds.sh OLD-BINARY NEW-BINARY [OUT-DIR]
#   STRATEGIES="auto random pct dfs bfs" (default) selects the runs; LITMUS=DIR the litmus root.
set -u
old=$1 new=$2 out=${3:-$(mktemp -d)}
litmus=${LITMUS:-${FAULTLINE_LITMUS_DIR:-../shared/litmus/linux}}
strategies=${STRATEGIES:-auto random pct dfs bfs}
mkdir -p "$out/old" "$out/new"
flags() {
  case $1 in
    auto) echo "";;
    random) echo "--strategy random --seed 7 --runs 300";;
    pct) echo "--strategy pct --seed 7 --runs 300 --depth 3";;
    dfs) echo "--strategy dfs --max-executions 3000";;
    bfs) echo "--strategy bfs --max-executions 20000";;
    *) echo "--strategy $1";;
  esac
}
# One job per line: NAME<TAB>ARGS (ARGS word-split, no spaces inside a word).
jobs=$out/jobs
: > "$jobs"
"$old" list races/ --format json | python3 -c '
import sys, json
for line in sys.stdin:
    if not line.strip(): continue
    d = json.loads(line)
    for i, c in enumerate(d["configurations"]):
        print(d["file"], i, " ".join(c["defines"]), sep="\t")
' | while IFS=$'\t' read -r file i defines; do
  for s in $strategies; do
    printf '%s\t%s\n' "$(basename "$file" .litmus).$i.$s" "explore $file $defines --format json $(flags "$s")" >> "$jobs"
  done
done
for f in $(find "$litmus/tools-memory-model" "$litmus/Documentation-litmus-tests" "$litmus/herdtools7-catalogue" -name '*.litmus' | sort); do
  for s in $strategies; do
    if [ "$s" = auto ]; then a=""; else a="--model sc $(flags "$s")"; fi
    printf '%s\t%s\n' "core.$(basename "$f" .litmus).$s" "explore $f --format json $a" >> "$jobs"
  done
done
printf '%s\t%s\n' "check" "check races/ --format json --jobs 1" >> "$jobs"
diffs=0
while IFS=$'\t' read -r name cmd; do
  # shellcheck disable=SC2086
  "$old" $cmd > "$out/old/$name.json" 2>/dev/null; echo "rc $?" >> "$out/old/$name.json"
  # shellcheck disable=SC2086
  "$new" $cmd > "$out/new/$name.json" 2>/dev/null; echo "rc $?" >> "$out/new/$name.json"
  if ! cmp -s "$out/old/$name.json" "$out/new/$name.json"; then echo "DIFFERS $name: faultline $cmd"; diffs=$((diffs + 1)); fi
done < "$jobs"
echo "$(wc -l < "$jobs") reports compared, $diffs differ ($out)"
[ "$diffs" -eq 0 ]
