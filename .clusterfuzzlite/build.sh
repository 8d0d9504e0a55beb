#!/bin/bash -eu
# Builds every cargo-fuzz target with the sanitizer ClusterFuzzLite asks for
# (cargo fuzz reads $SANITIZER via the OSS-Fuzz environment) and ships each
# with its seed corpus and the shared header dictionary.
cd "$SRC/sigconform"
cargo fuzz build -O --fuzz-dir fuzz
release="fuzz/target/x86_64-unknown-linux-gnu/release"
for source in fuzz/fuzz_targets/*.rs; do
  target=$(basename "${source%.rs}")
  cp "$release/$target" "$OUT/"
  cp fuzz/headers.dict "$OUT/$target.dict"
  if [ -d "fuzz/corpus/$target" ]; then
    (cd "fuzz/corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
