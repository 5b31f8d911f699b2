#!/usr/bin/env bash
# Writes docs/benchmarks.md: one `faultline-bench` process per race configuration and per kernel
# litmus group (so each row's peak memory is its own). Usage: scripts/bench.sh [BENCH-BINARY] [OUT]
# (the race configurations are listed by the `faultline` binary beside it)
# BENCH_TIMEOUT (default 5) limits dfs and bfs per file; dpor always runs to the end.
set -u
bin=${1:-.build/release/faultline-bench}
faultline=$(dirname "$bin")/faultline
out=${2:-docs/benchmarks.md}
limit=${BENCH_TIMEOUT:-5}
dir=${FAULTLINE_LITMUS_DIR:-../shared/litmus/linux}
tmp=$(mktemp)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -m)). Per race configuration and"
  echo "per kernel litmus group: executions under plain \`dfs\` and under \`dpor\`, the distinct"
  echo "Mazurkiewicz traces among the dpor executions (canonical linearizations), the redundancy"
  echo "(dpor executions per trace: 1.00 means no two explored executions are equivalent), the"
  echo "sleep-blocked partial executions dpor abandoned (and as a share of the complete ones), those of dpor without lock"
  echo "reduction under \`--wakeup-trees\` (whose executions are the 'no lock reduction' column's), distinct states (stateful \`bfs\`), dpor wall"
  echo "time with one worker, steps per second, the process's peak memory right after the dpor run,"
  echo "and the speed-up of \`--jobs 2\`. dfs and bfs are cut at ${limit} s per file (≥N)."
  echo
  "$bin" --header
  "$faultline" list races/ Tests/Bench/nfault-pte-alloc.litmus | while read -r line; do
    case "$line" in races/*|Tests/*) f=${line%% *}; continue;; esac
    cfg=${line%%=>*}; cfg=${cfg% }; [ "$cfg" = "-" ] && cfg=""
    name=$(basename "$f" .litmus | cut -d- -f1)
    "$bin" "$f" $cfg --label "$name ${cfg:--}" --timeout "$limit"
  done
  if [ -d "$dir" ]; then
    for g in tools-memory-model Documentation-litmus-tests herdtools7-catalogue; do
      [ -d "$dir/$g" ] || continue
      "$bin" $(find "$dir/$g" -name '*.litmus' | sort) --label "$g" --timeout "$limit"
    done
    echo
    echo "Under the kernel's memory model (\`faultline-bench --model lkmm\`): the LKMM engine's executions and"
    echo "the candidate executions it checked, its time for the group in one process, the SC answer's"
    echo "time (auto strategy) beside it, and the peak memory."
    echo
    "$bin" --header --model lkmm
    for g in tools-memory-model Documentation-litmus-tests herdtools7-catalogue; do
      [ -d "$dir/$g" ] || continue
      "$bin" --model lkmm $(find "$dir/$g" -name '*.litmus' | sort) --label "$g"
    done
  else
    echo
    echo "(kernel litmus corpus not found at $dir: litmus groups skipped)"
  fi
} > "$tmp"
mv "$tmp" "$out"
echo "bench: wrote $out"
