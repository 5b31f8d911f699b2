#!/usr/bin/env bash
# Differential test of Faultline's LKMM answers against the reference herd7 (a development aid:
# not part of `make test`, and nothing in the project depends on herd7).
#
# For every *.litmus file under the arguments, runs herd7 with the kernel's model (from the model
# directory, `-conf linux-kernel.cfg`, under `timeout`) and `faultline explore --model lkmm`, and
# compares the verdict (Observation never/sometimes/always), the set of final states and the
# flags (data-race, ...). Prints one line per file that is not in agreement and the counts:
#   AGREE          same verdict, same final-state set, same flags
#   DIFF           something differs (each difference follows on the line)
#   HERD_TIMEOUT   herd7 did not finish within HERD_LIMIT seconds (not compared)
#   HERD_ERROR     herd7 rejected the file (not compared)
#   FAULTLINE_ERR  faultline did not answer (exit status and first error line follow)
# and the total time each took (herd7 one process per file, as the kernel's scripts run it).
#
# Usage: scripts/compare-herd7.sh DIR_OR_FILE...
#   e.g. scripts/compare-herd7.sh ../shared/litmus/linux/tools-memory-model ../shared/litmus/linux/Documentation-litmus-tests
# Environment: HERD7 (default ../shared/tools/herd7/herd7), MODEL_DIR (default
# ../shared/litmus/linux/model), HERD_LIMIT (default 60 s), LIMIT (faultline, default 60 s),
# FAULTLINE (default .build/release/faultline), VERBOSE=1 (print AGREE lines too), MODEL=sc
# (compare faultline's SC answers instead: shows where the kernel's model allows more).
set -u
[ $# -gt 0 ] || { sed -n 2,22p "$0"; exit 2; }
here=$(pwd)
herd=$(realpath "${HERD7:-../shared/tools/herd7/herd7}")
model=$(realpath "${MODEL_DIR:-../shared/litmus/linux/model}")
bin=$(realpath "${FAULTLINE:-.build/release/faultline}")
hl=${HERD_LIMIT:-60}; fl=${LIMIT:-60}; m=${MODEL:-lkmm}
[ -x "$herd" ] || { echo "compare-herd7: no herd7 at $herd (set HERD7)" >&2; exit 2; }
[ -x "$bin" ] || { echo "compare-herd7: no faultline at $bin (make release, or set FAULTLINE)" >&2; exit 2; }

now() { date +%s.%N; }
# A final state with its bindings sorted, so that both tools' orders compare (herd7 writes a
# memory location as [x] in some states).
norm() { tr -d '\r' | sed 's/; */;/g; s/;$//' | tr ';' '\n' | sed '/^$/d; s/^ *//; s/^\[\([^]]*\)\]=/\1=/' | sort | tr '\n' ';'; echo; }

agree=0; diff=0; htime=0; ftime=0; hto=0; herr=0; ferr=0
while IFS= read -r f; do
  abs=$(realpath "$f")
  t0=$(now)
  hout=$(cd "$model" && timeout "$hl" "$herd" -conf linux-kernel.cfg "$abs" 2>&1); hrc=$?
  t1=$(now)
  fout=$(timeout $((fl + 30)) "$bin" explore "$abs" --model "$m" --format json --no-trace --timeout "$fl" 2>/tmp/compare-herd7.$$); frc=$?
  t2=$(now)
  htime=$(echo "$htime + $t1 - $t0" | bc); ftime=$(echo "$ftime + $t2 - $t1" | bc)
  if [ $hrc -eq 124 ]; then echo "HERD_TIMEOUT $f"; hto=$((hto + 1)); continue; fi
  if ! printf '%s\n' "$hout" | grep -q '^Observation '; then
    echo "HERD_ERROR $f: $(printf '%s\n' "$hout" | grep -v '^$' | head -1)"; herr=$((herr + 1)); continue
  fi
  if [ $frc -ne 0 ] && [ $frc -ne 1 ] || ! printf '%s' "$fout" | grep -q '"complete":true'; then
    echo "FAULTLINE_ERR $f (exit $frc): $(grep -m1 -v '^faultline: .* executions in' /tmp/compare-herd7.$$ || printf '%s' "$fout" | grep -o '"stop_reason":"[^"]*"')"
    ferr=$((ferr + 1)); continue
  fi
  # herd7: the states between "States N" and Ok/No, the Observation verdict, the Flag lines.
  hstates=$(printf '%s\n' "$hout" | awk '/^States /{s=1; next} /^(Ok|No)$/{s=0} s' | while IFS= read -r l; do printf '%s\n' "$l" | norm; done | sort)
  hverdict=$(printf '%s\n' "$hout" | awk '/^Observation /{print tolower($3)}')
  hflags=$(printf '%s\n' "$hout" | awk '/^Flag /{print $2}' | sort | tr '\n' ' ')
  # faultline: the top-level outcomes (the one model's), its exists verdict, its flags.
  outcomes=$(printf '%s' "$fout" | sed 's/.*"outcomes":\[\([^]]*\)\].*/\1/')
  fstates=$(printf '%s' "$outcomes" | grep -o '"state":"[^"]*"' | sed 's/"state":"//; s/"$//' | while IFS= read -r l; do printf '%s\n' "$l" | norm; done | sort)
  # (schema 1: the top-level claim's verdict is the first; keys are sorted, `sc` comes after it)
  fverdict=$(printf '%s' "$fout" | grep -o '"verdict":"[a-z]*"' | head -1 | sed 's/.*:"//; s/"//')
  fflags=$( { printf '%s' "$fout" | grep -o '"flags":\[[^]]*\]' | grep -o '"[a-z-]*"' | grep -v flags | tr -d '"'
              printf '%s' "$fout" | grep -o '"kind":"data-race"' | sed 's/.*:"//; s/"//'; } | sort -u | tr '\n' ' ')
  what=""
  [ "$hverdict" = "${fverdict:-never}" ] || what="$what verdict herd7=$hverdict faultline=${fverdict:--};"
  if [ "$hstates" != "$fstates" ]; then
    only_h=$(comm -23 <(printf '%s\n' "$hstates") <(printf '%s\n' "$fstates") | sed '/^$/d' | wc -l)
    only_f=$(comm -13 <(printf '%s\n' "$hstates") <(printf '%s\n' "$fstates") | sed '/^$/d' | wc -l)
    what="$what states: $only_h only herd7 ($(comm -23 <(printf '%s\n' "$hstates") <(printf '%s\n' "$fstates") | sed '/^$/d' | head -2 | tr '\n' ' ')), $only_f only faultline ($(comm -13 <(printf '%s\n' "$hstates") <(printf '%s\n' "$fstates") | sed '/^$/d' | head -2 | tr '\n' ' '));"
  fi
  [ "$hflags" = "$fflags" ] || what="$what flags herd7=[${hflags% }] faultline=[${fflags% }];"
  if [ -z "$what" ]; then agree=$((agree + 1)); [ "${VERBOSE:-}" = 1 ] && echo "AGREE $f"
  else diff=$((diff + 1)); echo "DIFF $f:$what"; fi
done < <(cd "$here" && find "$@" -name '*.litmus' | sort)
rm -f /tmp/compare-herd7.$$
# The same files in one faultline invocation (how the speed target is measured).
t0=$(now); (cd "$here" && find "$@" -name '*.litmus' | sort | xargs "$bin" explore --model "$m" --format json --no-trace --timeout "$fl" >/dev/null 2>&1); t1=$(now)
total=$((agree + diff))
echo "compare-herd7: $agree of $total compared files agree (verdict, final-state set, flags); $diff differ; not compared: $hto herd7 timeouts, $herr herd7 errors, $ferr faultline errors"
printf 'time: herd7 %.2f s (one process per file); faultline %.2f s (one process per file), %.2f s (one invocation)\n' "$htime" "$ftime" "$(echo "$t1 - $t0" | bc)"
[ $diff -eq 0 ] && [ $ferr -eq 0 ]
