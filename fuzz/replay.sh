#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer's coverage instrumentation (the flags cargo-fuzz
# passes, without a sanitizer; the dev profile of Cargo.toml, debug assertions on) and replays the
# committed corpora: every file of corpus/<target>/ runs once (-runs=0). A panic or a failed
# assertion fails the script. Needs no cargo-fuzz; `.ci/run` calls it.
#
#   bash fuzz/replay.sh            # every target
#   bash fuzz/replay.sh headers    # one target
set -euo pipefail
cd "$(dirname "$0")"

# What cargo-fuzz adds to RUSTFLAGS (src/project.rs), less -Zsanitizer; `--target` keeps the
# flags off build scripts and proc macros, as cargo-fuzz does.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Cllvm-args=-sanitizer-coverage-stack-depth --cfg fuzzing -Cdebug-assertions"
# Stable Rust accepts these flags; the variable lets the same build also run on a toolchain
# where libfuzzer-sys or a flag needs nightly features.
export RUSTC_BOOTSTRAP=1
triple="$(rustc -vV | sed -n 's/^host: //p')"

targets=("$@")
if [ "${1:-}" = "--build-only" ]; then
  build_only=1
  targets=()
fi
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi

cargo build ${FUZZ_CARGO_FLAGS:---locked} --target "$triple" $(printf -- '--bin %s ' "${targets[@]}")
[ -n "${build_only:-}" ] && exit 0
for t in "${targets[@]}"; do
  n=$(find "corpus/$t" -type f | wc -l)
  printf '%-18s %3d inputs ... ' "$t" "$n"
  if ! "target/$triple/debug/$t" -runs=0 "corpus/$t" >"target/replay-$t.log" 2>&1; then
    echo FAILED
    tail -40 "target/replay-$t.log"
    exit 1
  fi
  # libFuzzer's last line, `#<inputs run> DONE cov: <edges> ...`; no such line is a failure.
  grep -E '^#[0-9]+[[:space:]]+DONE' "target/replay-$t.log" | tail -1
done
