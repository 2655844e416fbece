#!/usr/bin/env bash
# 12-config: mqtt-fast --test-config on good and bad files - exit status, "FILE: configuration
# OK", and "mqtt-fast: FILE:LINE: reason" for unknown directives, unsupported mosquitto
# directives, out-of-range and malformed values; a bad file also stops a real start-up; bad
# command-line arguments exit 2.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 12)

# Runs mqtt-fast ARGS...; sets RC, OUT (stdout), ERR (stderr). Bounded: a broker that starts
# instead of checking is killed after 5 s.
run_bin() {
	OUT=$(timeout -k 1 5 "$MQTT_FAST_BIN" "$@" 2>"$IOP_TMP/err")
	RC=$?
	ERR=$(cat "$IOP_TMP/err")
}

conf() { # NAME LINE... -> path of a file with those lines
	local f=$IOP_TMP/$1
	shift
	printf '%s\n' "$@" >"$f"
	echo "$f"
}

good_files() {
	local f
	f=$(conf good.conf "# a comment" "" "listener $PORT 127.0.0.1" "allow_anonymous true" \
		"sys_interval 1" "max_queued_messages 5" "retain_available false" "max_keepalive 30" \
		"persistent_client_expiration 2d" "log_type all" "listener $((PORT + 1))" "protocol mqttsn")
	run_bin -c "$f" --test-config
	assert_eq "0|$f: configuration OK|" "$RC|$OUT|$ERR" "--test-config on a good file"
	run_bin -c "$IOP_SRC/mqtt-fast.conf" --test-config
	assert_eq "0|$IOP_SRC/mqtt-fast.conf: configuration OK" "$RC|$OUT" "the shipped mqtt-fast.conf"
	run_bin --test-config
	assert_eq "0|(defaults): configuration OK" "$RC|$OUT" "--test-config without a file"
	f=$(conf empty.conf)
	run_bin -c "$f" --test-config
	assert_eq "0|$f: configuration OK" "$RC|$OUT" "an empty file"
}

# name|lines (';'-separated)|expected stderr after "mqtt-fast: FILE:"
BAD=(
	"unknown|allow_anonymous true;frobnicate 1|2: unknown directive 'frobnicate'"
	"unsupported|listener $PORT;connection bridge1|2: 'connection' is not supported by mqtt-fast yet"
	"range-low|max_keepalive 5|1: max_keepalive: 5 is out of range 10..65535"
	"range-high|sys_interval 1;listener 70000|2: listener: 70000 is out of range 1..65535"
	"range-negative|max_inflight_messages -1|1: max_inflight_messages: -1 is out of range 0..65535"
	"not-a-number|max_queued_messages lots|1: max_queued_messages: 'lots' is not a number"
	"not-a-bool|allow_anonymous yes|1: allow_anonymous: 'yes' is not true or false"
	"missing-value|#c;;sys_interval|3: sys_interval: missing value"
	"hash-not-comment|sys_interval 10 # every ten seconds|1: sys_interval: too many arguments"
	"protocol-first|protocol mqttsn|1: protocol: must follow a listener line"
	"bad-protocol|listener $PORT;protocol http|2: protocol: 'http' is not one of mqtt, mqttsn, websockets"
	"duplicate-listener|listener $PORT;listener $PORT|2: listener $PORT is already defined at line 1"
	"packet-size|max_packet_size 10|1: max_packet_size: 10 is too small (0 for no limit, or at least 20)"
	"duration|persistent_client_expiration 5x|1: persistent_client_expiration: '5x' is not a duration (a number followed by h, d, w, m or y)"
	"per-listener|per_listener_settings true|1: per_listener_settings true is not supported by mqtt-fast yet"
)

bad_file() { # name lines expected
	local f
	IFS=';' read -ra lines <<<"$2"
	f=$(conf "$1.conf" "${lines[@]}")
	run_bin -c "$f" --test-config
	assert_eq "1||mqtt-fast: $f:$3" "$RC|$OUT|$ERR" "--test-config on '$2'"
	# The same file stops a real start-up, with the same message.
	run_bin -c "$f"
	assert_eq "1|mqtt-fast: $f:$3" "$RC|$ERR" "starting the broker on '$2'"
}

missing_file() {
	run_bin -c "$IOP_TMP/nope.conf" --test-config
	assert_eq "1|mqtt-fast: $IOP_TMP/nope.conf: No such file or directory" "$RC|$ERR" \
		"a missing file"
}

bad_arguments() {
	run_bin --frobnicate
	assert_eq 2 "$RC" "exit status for an unknown argument"
	assert_match "unknown argument '--frobnicate'" "$ERR" "message for an unknown argument"
	run_bin -h
	assert_eq 0 "$RC" "exit status of -h"
	assert_match '^usage: mqtt-fast' "$OUT" "usage on stdout"
}

run_case "good files pass --test-config" good_files
for row in "${BAD[@]}"; do
	IFS='|' read -r name lines expected <<<"$row"
	run_case "bad file: $name" bad_file "$name" "$lines" "$expected"
done
run_case "missing file" missing_file
run_case "command-line arguments" bad_arguments
finish
