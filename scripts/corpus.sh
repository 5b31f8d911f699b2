#!/usr/bin/env bash
# Runs every litmus test of the kernel corpus through `faultline explore`, one process per file
# (so a crash or a hang is counted, not fatal), with per-file limits, and prints the counts:
# verdict / unsupported (by construct; lkmm-unsupported: outside the LKMM engine, which answers a
# plain herd7 test beside SC by default) / limit reached / input error / crash / hang.
# Usage: scripts/corpus.sh [FAULTLINE_BINARY] — the corpus is $FAULTLINE_LITMUS_DIR or ../shared/litmus/linux.
# CORPUS_MODEL (default sc) is the memory model asked for: sc (the figures in README), lkmm (the
# LKMM engine), or both (explore's default for a plain herd7 test: both answers per file).
set -u
bin=${1:-.build/release/faultline}
dir=${FAULTLINE_LITMUS_DIR:-../shared/litmus/linux}
per_file=${CORPUS_TIMEOUT:-10}
model=${CORPUS_MODEL:-sc}
case $model in sc|lkmm) model_flag="--model $model";; both) model_flag="";; *) echo "corpus: CORPUS_MODEL must be sc, lkmm or both" >&2; exit 2;; esac
out=${CORPUS_OUT:-.build/corpus}
if [ ! -d "$dir" ]; then
  echo "corpus: NO LITMUS CORPUS at '$dir' — set FAULTLINE_LITMUS_DIR to a kernel tree's tools/memory-model/litmus-tests" >&2
  exit 2
fi
mkdir -p "$out"
classify() {
  f=$1
  res=$(timeout $((per_file + 10)) "$bin" explore "$f" $model_flag --format json --timeout "$per_file" --no-trace 2>"$out/err.$$" )
  rc=$?
  err=$(head -c 400 "$out/err.$$" | tr '\n\t' '  ')
  rm -f "$out/err.$$"
  obs=$(printf '%s' "$res" | grep -o '"observed":"[a-z]*"' | head -1 | cut -d'"' -f4)
  states=$(printf '%s' "$res" | grep -o '"state":' | wc -l)
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then cls=hang
  elif [ $rc -eq 0 ] || [ $rc -eq 1 ] || [ $rc -eq 4 ]; then
    # 4: nothing found, the search stopped at a limit (or a verdict decided before it stopped)
    if [ $rc -eq 4 ] || printf '%s' "$res" | grep -q '"complete":false'; then cls=limit; else cls=verdict; fi
  elif [ $rc -eq 2 ]; then
    if printf '%s' "$err" | grep -q 'unsupported under lkmm: '; then cls="lkmm-unsupported:$(printf '%s' "$err" | sed 's/.*unsupported under lkmm: \([^ ]*\).*/\1/')"
    elif printf '%s' "$err" | grep -q 'unsupported: '; then cls="unsupported:$(printf '%s' "$err" | sed 's/.*unsupported: \([^ ]*\).*/\1/')"; else cls=error; fi
  else cls="crash:exit$rc"; fi
  printf '%s\t%s\t%s\t%s\t%s\n' "${f#$dir/}" "$cls" "${obs:--}" "$states" "$err"
}
export -f classify
export bin dir per_file out model_flag
find "$dir" -name '*.litmus' | sort | xargs -P "$(nproc)" -I{} bash -c 'classify "$1"' _ {} | sort > "$out/corpus.tsv"
total=$(wc -l < "$out/corpus.tsv")
echo "corpus: $total files from $dir (model $model, per-file limit ${per_file}s); details in $out/corpus.tsv"
cut -f2 "$out/corpus.tsv" | sed 's/:.*//' | sort | uniq -c | sort -rn
echo "unsupported constructs:"
cut -f2 "$out/corpus.tsv" | grep 'unsupported:' | sort | uniq -c | sort -rn
verdicts=$(cut -f2 "$out/corpus.tsv" | grep -c '^verdict$')
crashes=$(cut -f2 "$out/corpus.tsv" | grep -c '^crash')
hangs=$(cut -f2 "$out/corpus.tsv" | grep -c '^hang$')
echo "verdicts: $verdicts of $total ($(( verdicts * 1000 / total / 10 )).$(( verdicts * 1000 / total % 10 ))%), crashes: $crashes, hangs: $hangs"
