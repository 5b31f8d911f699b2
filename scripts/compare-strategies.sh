#!/usr/bin/env bash
# Cross-checks two strategies over litmus files, one comparison per configuration `faultline list`
# names (its -D flags; a plain litmus test has one): where strategy A finishes within LIMIT_A
# seconds, runs B within LIMIT_B; where both finish, compares the final-state sets, the exists
# verdict, the violation kinds and the racing pairs of `data-race` (the two source lines of each).
# Prints one line per configuration (SAME, DIFF, ONLY_A = B did not finish, NOT_A = A did not
# finish or the file is outside its scope) and the counts; COMPARE_FLAGS are passed to both runs,
# B_FLAGS to B only (e.g. B_FLAGS=--no-lock-reduction). Exit status 1 when any DIFF.
# Usage: scripts/compare-strategies.sh A B [LIMIT_A] [LIMIT_B] [DIR_OR_FILES...]
#   e.g. scripts/compare-strategies.sh bfs dpor 30 30 races/          (the catalogue, every configuration)
#        scripts/compare-strategies.sh axiomatic dpor 10 5           (the whole corpus)
#        scripts/compare-strategies.sh dfs dpor 1 30 ../shared/litmus/linux/tools-memory-model
set -u
a=${1:?strategy A}; b=${2:?strategy B}; la=${3:-10}; lb=${4:-10}; shift $(( $# < 4 ? $# : 4 ))
bin=${FAULTLINE:-.build/release/faultline}
[ $# -gt 0 ] || set -- "${FAULTLINE_LITMUS_DIR:-../shared/litmus/linux}"
summary() {  # final states, verdict, violation kinds, racing pairs of one JSON report
  printf '%s' "$1" | grep -o '"state":"[^"]*"' | sort | tr '\n' ' '
  printf '%s' "$1" | grep -o '"observed":"[a-z]*"'
  printf '%s' "$1" | grep -o '"kind":"[a-z-]*"' | sort -u | tr '\n' ' '
  printf '%s' "$1" | grep -o '"kind":"data-race","location":{[^}]*},"message":"[^"]*"' |
    sed -E 's/.*"line":([0-9]+)}.* at [^ ]*:([0-9]+) .*/\1 \2/' |
    while read -r x y; do [ "$x" -le "$y" ] && echo "$x-$y" || echo "$y-$x"; done | sort -u | tr '\n' ' '
}
one() {
  f=${1%%|*}; cfg=${1#*|}
  ra=$(timeout $((la + 20)) "$bin" explore "$f" $cfg $COMPARE_FLAGS --strategy "$a" --timeout "$la" --format json --no-trace 2>/dev/null)
  printf '%s' "$ra" | grep -q '"complete":true' || { echo "NOT_A $f $cfg"; return; }
  rb=$(timeout $((lb + 20)) "$bin" explore "$f" $cfg $COMPARE_FLAGS $B_FLAGS --strategy "$b" --timeout "$lb" --format json --no-trace 2>/dev/null)
  printf '%s' "$rb" | grep -q '"complete":true' || { echo "ONLY_A $f $cfg"; return; }
  if [ "$(summary "$ra")" = "$(summary "$rb")" ]; then echo "SAME $f $cfg"; else echo "DIFF $f $cfg"; fi
}
export -f one summary
export a b la lb bin
export COMPARE_FLAGS=${COMPARE_FLAGS:-} B_FLAGS=${B_FLAGS:-}
# One "file|flags" item per configuration ("-" and a file without expectations: no flags).
configs() {
  find "$@" -name '*.litmus' | sort | while read -r f; do
    "$bin" list "$f" 2>/dev/null | tail -n +2 | while read -r line; do
      cfg=${line%%=>*}; cfg=${cfg% }
      case "$cfg" in -|"(no expectations)") cfg="";; esac
      echo "$f|$cfg"
    done
  done
}
out=$(configs "$@" | xargs -P "$(nproc)" -d '\n' -I{} bash -c 'one "$1"' _ {} | sort -k2)
printf '%s\n' "$out"
echo "compare $a vs $b:"; printf '%s\n' "$out" | cut -d' ' -f1 | sort | uniq -c
! printf '%s\n' "$out" | grep -q '^DIFF'
