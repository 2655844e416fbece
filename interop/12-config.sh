#!/usr/bin/env bash
# 12-config: mqtt-fast --test-config on good and bad files - exit status, "FILE: configuration
# OK", and "mqtt-fast: FILE:LINE: reason" for unknown directives, unsupported mosquitto
# directives, out-of-range and malformed values; a bad file also stops a real start-up; bad
# command-line arguments exit 2. mosquitto 1.x/2.0 directives: obsolete ones pass with a warning,
# `port` / `bind_address` open the default listener on all interfaces, include_dir reads a
# directory's *.conf files, `user` drops root privileges after binding (when run as root).
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
	f=$(conf mosquitto.conf "user mosquitto" "connection_messages false" "persistence true" \
		"persistence_file mosquitto.db" "autosave_interval 600" "autosave_on_changes false" \
		"log_dest syslog" "log_facility 3" "listener $PORT")
	run_bin -c "$f" --test-config
	assert_eq "0|$f: configuration OK|" "$RC|$OUT|$ERR" "mosquitto directives mqtt-fast implements"
}

obsolete_warnings() {
	local f
	f=$(conf obsolete.conf "retry_interval 20" "store_clean_interval 10" \
		"allow_duplicate_messages true" "port $PORT")
	run_bin -c "$f" --test-config
	assert_eq "0|$f: configuration OK" "$RC|$OUT" "--test-config with obsolete directives"
	assert_lines "mqtt-fast: warning: $f:1: retry_interval is obsolete since mosquitto 2.0 (has no effect); ignored
mqtt-fast: warning: $f:2: store_clean_interval is obsolete since mosquitto 2.0 (has no effect); ignored
mqtt-fast: warning: $f:3: allow_duplicate_messages is obsolete since mosquitto 2.0 (duplicate messages are always delivered); ignored
mqtt-fast: warning: $f:4: port is deprecated in mosquitto 2.0; prefer 'listener $PORT'" "$ERR" \
		"warnings on stderr"
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
	"max-qos|listener $PORT;max_qos 1|2: 'max_qos' is not supported by mqtt-fast yet"
	"port-range|port 0|1: port: 0 is out of range 1..65535"
	"port-taken|listener $PORT;port $PORT|2: port $PORT (the default listener) is already used by the listener at line 1"
	"facility|log_facility 8|1: log_facility: 8 is out of range 0..7"
	"autosave|autosave_interval -5|1: autosave_interval: -5 is out of range 0..2147483647"
	"include-missing|include_dir /nonexistent/conf.d|1: include_dir: cannot open '/nonexistent/conf.d': No such file or directory"
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

# Starts the broker on FILE (its own configuration, not start_broker's) and waits until PORT
# accepts connections on 127.0.0.1.
start_conf() { # FILE PORT
	BROKER_CONF=$1
	BROKER_PORT=$2
	BROKER_LOG=$IOP_TMP/$(basename "$1").log
	"$MQTT_FAST_BIN" -c "$1" -v >"$BROKER_LOG" 2>&1 &
	BROKER_PID=$!
	echo "$BROKER_PID" >>"$IOP_PIDFILE"
	CASE_PIDS+=("$BROKER_PID")
	wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null ||
		fail "no listener on port $2: $(cat "$BROKER_LOG")"
}

default_listener() {
	local p=$((PORT + 2)) f
	f=$(conf port.conf "allow_anonymous true" "port $p")
	start_conf "$f" "$p"
	# All interfaces (not mosquitto 2.0's local-only mode), after a deprecation warning.
	expect_line "$BROKER_LOG" "warning $(re_quote "$f"):2: port is deprecated in mosquitto 2.0"
	expect_line "$BROKER_LOG" "listening for MQTT on \* port $p\$"
	pub -t 12/port -m "default listener"
	stop_broker || fail "broker did not stop cleanly"
	f=$(conf bind.conf "allow_anonymous true" "bind_address 127.0.0.1" "port $p")
	start_conf "$f" "$p"
	expect_line "$BROKER_LOG" "listening for MQTT on 127\.0\.0\.1 port $p\$"
	pub -t 12/port -m "default listener on bind_address"
}

include_dir() {
	local p=$((PORT + 3)) d=$IOP_TMP/conf.d f
	mkdir -p "$d"
	printf 'listener %s 127.0.0.1\n' "$p" >"$d/10-listener.conf"
	printf 'allow_anonymous true\n' >"$d/20-security.conf"
	printf 'frobnicate\n' >"$d/README"
	f=$(conf main.conf "sys_interval 0" "include_dir $d")
	start_conf "$f" "$p"
	pub -t 12/include -m "configured from conf.d"
	printf '\nmax_keepalive 1\n' >"$d/30-bad.conf"
	run_bin -c "$f" --test-config
	assert_eq "1|mqtt-fast: $d/30-bad.conf:2: max_keepalive: 1 is out of range 10..65535" \
		"$RC|$ERR" "an error in an included file names it"
}

run_user() {
	if [[ $(id -u) != 0 ]]; then
		note "not root: user is not applied; skipped"
		return 0
	fi
	local p=$((PORT + 4)) f uid
	f=$(conf user.conf "listener $p 127.0.0.1" "allow_anonymous true" "user nobody")
	# LeakSanitizer cannot stop the world of a process that changed its uid: no leak check.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 start_conf "$f" "$p"
	expect_line "$BROKER_LOG" "notice running as user nobody \(uid [0-9]+"
	uid=$(awk '/^Uid:/ {print $2 " " $3 " " $4 " " $5}' "/proc/$BROKER_PID/status")
	assert_eq "$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)" "$uid" \
		"real, effective, saved and fs uid after binding"
	pub -t 12/user -m "served as nobody"
	stop_broker || fail "broker did not stop cleanly"
	f=$(conf nouser.conf "listener $p 127.0.0.1" "user no-such-user-12")
	run_bin -c "$f"
	assert_eq 1 "$RC" "exit status with a user that does not exist"
	assert_match "error user no-such-user-12: no such user" "$ERR" "log line"
	assert_match "mqtt-fast: start-up failed: cannot switch to user no-such-user-12" "$ERR" \
		"start-up error"
}

run_case "good files pass --test-config" good_files
run_case "obsolete and deprecated directives: accepted with a warning" obsolete_warnings
run_case "port / bind_address: mosquitto's default listener" default_listener
run_case "include_dir: the *.conf files of a directory" include_dir
run_case "user: privileges dropped after binding" run_user
for row in "${BAD[@]}"; do
	IFS='|' read -r name lines expected <<<"$row"
	run_case "bad file: $name" bad_file "$name" "$lines" "$expected"
done
run_case "missing file" missing_file
run_case "command-line arguments" bad_arguments
finish
