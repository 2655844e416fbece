#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite; prints CTest's summary.
#   MQTT_FAST_FUZZ_SECONDS  seconds per fuzzer (default 60)
#   MQTT_FAST_BUILD_DIR     build directory for the instrumented test build (default build-test)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

jobs=$(nproc)
fuzz_seconds=${MQTT_FAST_FUZZ_SECONDS:-60}
build=${MQTT_FAST_BUILD_DIR:-build-test}

# 1. The release build with the default compiler (gcc): must be warning-free too.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null

# 2. The test build: clang with ASan+UBSan, gcov coverage of mqtt/, libFuzzer harnesses.
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMQTT_FAST_SANITIZE=ON \
	-DMQTT_FAST_COVERAGE=ON -DMQTT_FAST_FUZZ=ON -DMQTT_FAST_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null
# Coverage counts only this run.
find "$build" -name '*.gcda' -delete
set +e
ctest --test-dir "$build" --output-on-failure -j"$jobs" | tee "$build/ctest.log"
rc=${PIPESTATUS[0]}
set -e
# CTest hides a passing test's output: show the coverage report of mqtt/, then end with CTest's
# summary line again so it stays the closing line.
echo
grep -h '^coverage: ' "$build/Testing/Temporary/LastTest.log" || echo "coverage: not measured"
grep -E '^[0-9]+% tests passed' "$build/ctest.log" || true
exit "$rc"
