#!/usr/bin/env bash
# Installs what is missing, builds (release, default compiler) and starts the broker in the
# foreground on mqtt-fast.conf. Extra arguments are passed to the broker (e.g. -v).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

broker=build/broker/mqtt-fast
if [[ ! -x $broker ]]; then
	echo "start.sh: $broker was not built: the broker daemon has not landed yet;" \
		"the codec library and its tests are in build/" >&2
	exit 2
fi
exec "$broker" -c mqtt-fast.conf "$@"
