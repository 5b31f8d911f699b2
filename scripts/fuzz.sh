#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer target Fuzz/FuzzTarget.swift over the whole front end and a
# bounded exploration (every module but the executables, compiled with `swiftc -sanitize=fuzzer`
# into .build/fuzz/), then fuzzes it, seeded from races/ and the kernel litmus corpus, for
# FUZZ_SECONDS (default 600). New inputs go to .build/fuzz/corpus, crashes to
# .build/fuzz/crashes/ (each one: turn it into a regression test under Tests/, then fix it).
#   scripts/fuzz.sh build        only build
#   scripts/fuzz.sh run [ARGS]   only run (ARGS go to libFuzzer, e.g. a crash file to reproduce)
set -eu
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-swiftc}
out=.build/fuzz
litmus=${FAULTLINE_LITMUS_DIR:-../shared/litmus/linux}
modules="FaultlineLanguage FaultlineMachine FaultlineCheck FaultlineExplore FaultlineReport FaultlineCLI"

build() {
  # From a copy of the sources, so that editing the tree during the (long) build cannot mix versions.
  rm -rf "$out/src" && mkdir -p "$out/src" && cp -R Sources Fuzz "$out/src/"
  for m in $modules; do
    # shellcheck disable=SC2046
    "$SWIFTC" -O -wmo -parse-as-library -swift-version 6 -package-name Faultline -sanitize=fuzzer -enforce-exclusivity=unchecked \
      -module-name "$m" -emit-module -emit-module-path "$out/$m.swiftmodule" -I "$out" \
      -c $(find "$out/src/Sources/$m" -name '*.swift' | sort) -o "$out/$m.o"
  done
  "$SWIFTC" -O -parse-as-library -swift-version 6 -package-name Faultline -sanitize=fuzzer -I "$out" "$out/src/Fuzz/FuzzTarget.swift" \
    $(for m in $modules; do echo "$out/$m.o"; done) -o "$out/faultline-fuzz"
  echo "built $out/faultline-fuzz"
}

run() {
  mkdir -p "$out/corpus" "$out/crashes"
  seeds=(races)
  [ -d "$litmus" ] && seeds+=("$litmus")
  if [ $# -gt 0 ]; then
    exec "$out/faultline-fuzz" -timeout=60 -rss_limit_mb=3072 "$@"
  fi
  exec "$out/faultline-fuzz" -max_len=65536 -timeout=60 -rss_limit_mb=3072 -max_total_time="${FUZZ_SECONDS:-600}" \
    -print_final_stats=1 -artifact_prefix="$out/crashes/" "$out/corpus" "${seeds[@]}"
}

case "${1:-all}" in
  build) build ;;
  run) shift; run "$@" ;;
  all) build; run ;;
  *) echo "usage: scripts/fuzz.sh [build|run [ARGS]]" >&2; exit 2 ;;
esac
