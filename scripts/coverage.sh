#!/usr/bin/env bash
# Prints line coverage of mqtt/ from the .gcda files of a coverage build's test run and fails
# when it is below the bar. Usage: coverage.sh BUILD_DIR [MIN_PERCENT]
set -euo pipefail
build=$(cd "$1" && pwd)
min=${2:-90}
root=$(cd "$(dirname "$0")/.." && pwd)

compiler=$(sed -n 's/^CMAKE_C_COMPILER_ID:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[[ -n $compiler ]] || compiler=$(grep -m1 -o 'CMAKE_C_COMPILER_ID "[A-Za-z]*"' \
	"$build"/CMakeFiles/*/CMakeCCompiler.cmake | sed 's/.*"\(.*\)"/\1/')
gcov=gcov
if [[ $compiler == Clang ]]; then
	version=$(clang -dumpversion | cut -d. -f1)
	gcov="llvm-cov-$version gcov"
fi

# The library's object files live under $build/mqtt; only sources in mqtt/ count.
gcovr --root "$root" --filter "$root/mqtt/" --gcov-executable "$gcov" \
	--object-directory "$build/mqtt" --print-summary --fail-under-line "$min" \
	"$build/mqtt" | sed 's/^/coverage: /'
