#!/usr/bin/env bash
# Cross-checks two strategies over litmus files: for every file where strategy A finishes within
# LIMIT_A seconds, runs B within LIMIT_B; where both finish, compares the final-state sets, the
# exists verdict and the violation kinds. Prints one line per file (SAME, DIFF, ONLY_A = B did not
# finish, NOT_A = A did not finish or the file is outside its scope) and the counts.
# Usage: scripts/compare-strategies.sh A B [LIMIT_A] [LIMIT_B] [DIR_OR_FILES...]
#   e.g. scripts/compare-strategies.sh axiomatic dpor 10 5           (the whole corpus)
#        scripts/compare-strategies.sh dfs dpor 1 30 ../shared/litmus/linux/tools-memory-model
set -u
a=${1:?strategy A}; b=${2:?strategy B}; la=${3:-10}; lb=${4:-10}; shift $(( $# < 4 ? $# : 4 ))
bin=${FAULTLINE:-.build/release/faultline}
[ $# -gt 0 ] || set -- "${FAULTLINE_LITMUS_DIR:-../shared/litmus/linux}"
summary() {  # final states, verdict, violation kinds of one JSON report
  printf '%s' "$1" | grep -o '"state":"[^"]*"' | sort | tr '\n' ' '
  printf '%s' "$1" | grep -o '"observed":"[a-z]*"'
  printf '%s' "$1" | grep -o '"kind":"[a-z-]*"' | sort -u | tr '\n' ' '
}
one() {
  f=$1
  ra=$(timeout $((la + 20)) "$bin" explore "$f" --strategy "$a" --timeout "$la" --format json --no-trace 2>/dev/null)
  printf '%s' "$ra" | grep -q '"complete":true' || { echo "NOT_A $f"; return; }
  rb=$(timeout $((lb + 20)) "$bin" explore "$f" --strategy "$b" --timeout "$lb" --format json --no-trace 2>/dev/null)
  printf '%s' "$rb" | grep -q '"complete":true' || { echo "ONLY_A $f"; return; }
  if [ "$(summary "$ra")" = "$(summary "$rb")" ]; then echo "SAME $f"; else echo "DIFF $f"; fi
}
export -f one summary
export a b la lb bin
out=$(find "$@" -name '*.litmus' | sort | xargs -P "$(nproc)" -I{} bash -c 'one "$1"' _ {} | sort -k2)
printf '%s\n' "$out"
echo "compare $a vs $b:"; printf '%s\n' "$out" | cut -d' ' -f1 | sort | uniq -c
