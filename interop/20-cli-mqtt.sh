#!/usr/bin/env bash
# 20-cli-mqtt: the command-line clients mqtt-fast-pub / mqtt-fast-sub over MQTT 3.1.1 and 5,
# against mqtt-fast and against a real mosquitto broker, with mosquitto_pub / mosquitto_sub on
# the other end both ways: QoS 0/1/2, retained, -C / -W / -v / -n / -f / -s / -N, wills,
# persistent sessions (-c), -d output, refused connections (exit 1 with the CONNACK reason) and
# bad arguments (exit 1 with the usage).
. "$(dirname "$0")/lib.sh"

MQTT_FAST_PUB=${MQTT_FAST_PUB:-$IOP_SRC/build/tools/mqtt-fast-pub}
MQTT_FAST_SUB=${MQTT_FAST_SUB:-$IOP_SRC/build/tools/mqtt-fast-sub}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
for bin in "$MQTT_FAST_PUB" "$MQTT_FAST_SUB" "$MOSQUITTO"; do
	[[ -x $bin ]] || fail "'$bin' not found (set MQTT_FAST_PUB, MQTT_FAST_SUB, MOSQUITTO)"
done
command -v mosquitto_passwd >/dev/null || fail "mosquitto_passwd not found"

PORT=$(iop_port 20)        # mqtt-fast
MOSQ_PORT=$((PORT + 1))    # mosquitto, anonymous clients allowed
MOSQ_AUTH=$((PORT + 2))    # mosquitto with a password file: anonymous clients refused
DENY_PORT=$((PORT + 3))    # mqtt-fast with allow_anonymous false (started in its case)
FREE_PORT=$((PORT + 9))    # nothing listens there

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts mosquitto with "listener PORT 127.0.0.1" and the given lines, log in
# $IOP_TMP/mosquitto-PORT.log; waits until the port accepts connections.
start_mosquitto() { # PORT [CONFIG LINE...]
	local port=$1 conf=$IOP_TMP/mosquitto-$1.conf log=$IOP_TMP/mosquitto-$1.log pid
	shift
	port_open "$port" && fail "port $port is already in use"
	{
		# As root, mosquitto would switch to the user "mosquitto", who cannot read $IOP_TMP.
		[[ $(id -u) -eq 0 ]] && echo "user root"
		echo "listener $port 127.0.0.1"
		printf '%s\n' "$@"
	} >"$conf"
	"$MOSQUITTO" -c "$conf" -v >"$log" 2>&1 &
	pid=$!
	echo "$pid" >>"$IOP_PIDFILE"
	wait_until 5 port_open "$port" || {
		cat "$log" >&2
		fail "mosquitto not accepting connections on port $port"
	}
}

# Waits until the broker on PORT logged the subscription of client ID.
wait_subscribed() { # PORT ID
	if [[ $1 == "$PORT" ]]; then
		wait_for_line "$BROKER_LOG" "\[$(re_quote "$2") [^]]*\] subscribed to "
	else
		wait_for_line "$IOP_TMP/mosquitto-$1.log" "Sending SUBACK to $(re_quote "$2")\$"
	fi
}

# mosquitto_sub in the background (bounded by timeout); sets MSUB_PID, MSUB_OUT.
msub_start() { # PORT ID ARGS...
	local port=$1 id=$2
	shift 2
	MSUB_OUT=$IOP_TMP/$id.out
	timeout -k 1 20 mosquitto_sub -h 127.0.0.1 -p "$port" -i "$id" "$@" >"$MSUB_OUT" \
		2>"$IOP_TMP/$id.err" &
	MSUB_PID=$!
	CASE_PIDS+=("$MSUB_PID")
	echo "$MSUB_PID" >>"$IOP_PIDFILE"
	wait_subscribed "$port" "$id" || fail "mosquitto_sub $id did not subscribe on port $port"
}

# mqtt-fast-sub -d in the background; ready once it printed "received SUBACK". Sets FSUB_PID,
# FSUB_OUT, FSUB_ERR.
fsub_start() { # PORT ID ARGS...
	local port=$1 id=$2
	shift 2
	FSUB_OUT=$IOP_TMP/$id.out FSUB_ERR=$IOP_TMP/$id.err
	"$MQTT_FAST_SUB" -h 127.0.0.1 -p "$port" -i "$id" -d "$@" >"$FSUB_OUT" 2>"$FSUB_ERR" &
	FSUB_PID=$!
	CASE_PIDS+=("$FSUB_PID")
	echo "$FSUB_PID" >>"$IOP_PIDFILE"
	wait_for_line "$FSUB_ERR" "^Client $(re_quote "$id") received SUBACK" || {
		sed 's/^/  | /' "$FSUB_ERR" >&2
		fail "mqtt-fast-sub $id did not subscribe on port $port"
	}
}

# Waits for a subscriber and checks its exit status; its output in RESULT.
collect() { # PID OUTFILE EXPECTED_STATUS WHAT
	local rc
	wait_pid "$1" 10
	rc=$?
	RESULT=$(cat "$2")
	[[ $rc -eq $3 ]] || fail "$4: exit status $rc, expected $3 (output: $RESULT)"
}

# mqtt-fast-pub; sets FPUB_RC and FPUB_OUT (stdout and stderr).
fpub() { # PORT ARGS...
	local port=$1
	shift
	FPUB_OUT=$(timeout -k 1 20 "$MQTT_FAST_PUB" -h 127.0.0.1 -p "$port" "$@" 2>&1)
	FPUB_RC=$?
}

fpub_ok() { # PORT ARGS...
	fpub "$@"
	[[ $FPUB_RC -eq 0 ]] || fail "mqtt-fast-pub ${*:2} exited $FPUB_RC: $FPUB_OUT"
}

mpub() { # PORT ARGS...
	local port=$1 out
	shift
	out=$(timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$port" "$@" 2>&1) ||
		fail "mosquitto_pub $* failed: $out"
}

start_broker "$PORT"
start_mosquitto "$MOSQ_PORT" "allow_anonymous true"
mosquitto_passwd -c -b "$IOP_TMP/passwd" alice secret >/dev/null 2>&1 ||
	fail "mosquitto_passwd failed"
start_mosquitto "$MOSQ_AUTH" "allow_anonymous false" "password_file $IOP_TMP/passwd"

# ---- interop both ways ----------------------------------------------------------------

fpub_to_mosquitto_sub() { # PORT VERSION
	local port=$1 v=$2 t=20/fp/$1/$2 q
	msub_start "$port" "ms-$port-$v" -V "$v" -q 2 -C 3 -t "$t" -F '%q %t %p'
	for q in 0 1 2; do
		fpub_ok "$port" -V "$v" -q "$q" -t "$t" -m "m $v $q"
	done
	collect "$MSUB_PID" "$MSUB_OUT" 0 "mosquitto_sub"
	assert_lines "0 $t m $v 0
1 $t m $v 1
2 $t m $v 2" "$RESULT" "mqtt-fast-pub -V $v QoS 0/1/2 -> mosquitto_sub on port $port"
}

mosquitto_pub_to_fsub() { # PORT VERSION
	local port=$1 v=$2 t=20/mp/$1/$2 q id=fs-$1-$2
	fsub_start "$port" "$id" -V "$v" -q 2 -C 3 -v -t "$t"
	for q in 0 1 2; do
		mpub "$port" -V "$v" -q "$q" -t "$t" -m "m $v $q"
	done
	collect "$FSUB_PID" "$FSUB_OUT" 0 "mqtt-fast-sub"
	assert_lines "$t m $v 0
$t m $v 1
$t m $v 2" "$RESULT" "mosquitto_pub -V $v QoS 0/1/2 -> mqtt-fast-sub on port $port"
	# Each message arrives at the QoS it was published with (subscription QoS 2).
	for q in 0 1 2; do
		expect_line "$FSUB_ERR" "^Client $id received PUBLISH \(d0, q$q, r0, m[0-9]+, '$t', \.\.\. \($((${#v} + 4)) bytes\)\)"
	done
	expect_line "$FSUB_ERR" "^Client $id sending PUBCOMP"
	expect_line "$FSUB_ERR" "^Client $id sending DISCONNECT"
}

fpub_to_fsub_mixed_versions() {
	fsub_start "$PORT" fs-mixed -V 311 -q 1 -C 1 -t 20/mixed
	fpub_ok "$PORT" -V 5 -q 1 -t 20/mixed -m "from v5"
	collect "$FSUB_PID" "$FSUB_OUT" 0 "mqtt-fast-sub"
	assert_eq "from v5" "$RESULT" "mqtt-fast-pub v5 -> mqtt-fast-sub v3.1.1"
}

retained() { # PORT
	local port=$1 t=20/ret/$1 rc
	fpub_ok "$port" -r -q 1 -t "$t" -m kept
	fsub_start "$port" "fs-ret-$port" -C 1 -v -t "$t"
	collect "$FSUB_PID" "$FSUB_OUT" 0 "mqtt-fast-sub"
	assert_eq "$t kept" "$RESULT" "retained message -> mqtt-fast-sub"
	msub_start "$port" "ms-ret-$port" -C 1 -F '%r %p' -t "$t"
	collect "$MSUB_PID" "$MSUB_OUT" 0 "mosquitto_sub"
	assert_eq "1 kept" "$RESULT" "retained message from mqtt-fast-pub -> mosquitto_sub"
	# -r -n clears it: a new subscriber gets nothing and -W ends it with status 27.
	fpub_ok "$port" -r -n -t "$t"
	fsub_start "$port" "fs-ret2-$port" -W 1 -t "$t"
	collect "$FSUB_PID" "$FSUB_OUT" 27 "mqtt-fast-sub -W 1 after the retained message was cleared"
	assert_eq "" "$RESULT" "nothing retained after -r -n"
}

# ---- output format and message sources ------------------------------------------------

verbose_null_like_mosquitto() {
	local t=20/null
	msub_start "$MOSQ_PORT" ms-null -C 3 -v -t "$t"
	fsub_start "$MOSQ_PORT" fs-null -C 3 -v -t "$t"
	fpub_ok "$MOSQ_PORT" -n -t "$t"
	fpub_ok "$MOSQ_PORT" -m "x y" -t "$t"
	fpub_ok "$MOSQ_PORT" -s -t "$t" < <(printf 'from stdin')
	collect "$MSUB_PID" "$MSUB_OUT" 0 "mosquitto_sub"
	collect "$FSUB_PID" "$FSUB_OUT" 0 "mqtt-fast-sub"
	assert_lines "$t (null)
$t x y
$t from stdin" "$RESULT" "mqtt-fast-sub -v output"
	assert_lines "$(cat "$MSUB_OUT")" "$RESULT" "mqtt-fast-sub -v prints what mosquitto_sub -v prints"
}

file_binary_no_newline() { # PORT
	local f=$IOP_TMP/bin.dat
	for i in $(seq 0 255); do printf "\\x$(printf %02x "$i")"; done >"$f"
	cat "$f" "$f" "$f" >"$f.3"
	fsub_start "$1" "fs-file-$1" -N -C 1 -t 20/file
	fpub_ok "$1" -q 1 -f "$f.3" -t 20/file
	wait_pid "$FSUB_PID" 10 || fail "mqtt-fast-sub -N -C 1 did not exit 0"
	cmp -s "$f.3" "$FSUB_OUT" || fail "-f of 768 binary bytes -> -N output differs"
}

count_stops() {
	local i
	fsub_start "$PORT" fs-count -q 1 -C 3 -t 20/count
	for i in 1 2 3 4 5; do
		mpub "$PORT" -q 1 -t 20/count -m "n$i"
	done
	collect "$FSUB_PID" "$FSUB_OUT" 0 "mqtt-fast-sub -C 3"
	assert_lines $'n1\nn2\nn3' "$RESULT" "-C 3 prints three messages and exits 0"
}

timeout_27() {
	local t0 rc err
	t0=$(now_ms)
	err=$("$MQTT_FAST_SUB" -h 127.0.0.1 -p "$PORT" -t 20/quiet -W 1 2>&1 >/dev/null)
	rc=$?
	assert_eq 27 "$rc" "exit status when -W expires (mosquitto_sub: 27)"
	assert_eq "Timed out" "$err" "message when -W expires"
	assert_le $(($(now_ms) - t0)) 3000 "-W 1 returns within 3 s (ms)"
}

debug_output() {
	fpub_ok "$MOSQ_PORT" -d -i dbg -q 1 -t 20/dbg -m hi
	assert_lines "Client dbg sending CONNECT
Client dbg received CONNACK (0)
Client dbg sending PUBLISH (d0, q1, r0, m1, '20/dbg', ... (2 bytes))
Client dbg received PUBACK (Mid: 1, RC:0)
Client dbg sending DISCONNECT" "$FPUB_OUT" "mqtt-fast-pub -d"
}

# ---- session features ---------------------------------------------------------------------

will_on_kill() { # PORT VERSION
	local port=$1 v=$2 t=20/will/$1/$2
	msub_start "$port" "ms-will-$port-$v" -C 1 -F '%q %t %p' -q 1 -t "$t"
	fsub_start "$port" "fs-will-$port-$v" -V "$v" -t 20/idle --will-topic "$t" \
		--will-payload "gone $v" --will-qos 1
	{
		kill -9 "$FSUB_PID"
		wait "$FSUB_PID"
	} 2>/dev/null # no "Killed" line from bash
	collect "$MSUB_PID" "$MSUB_OUT" 0 "will watcher"
	assert_eq "1 $t gone $v" "$RESULT" "will of a killed mqtt-fast-sub -V $v on port $port"
}

persistent_session() { # PORT VERSION
	local port=$1 v=$2 id=fs-persist-$1-$2 t=20/persist/$1/$2
	fsub_start "$port" "$id" -V "$v" -c -q 1 -W 1 -t "$t"
	collect "$FSUB_PID" "$FSUB_OUT" 27 "first mqtt-fast-sub -c"
	fpub_ok "$port" -V "$v" -q 1 -t "$t" -m offline
	"$MQTT_FAST_SUB" -h 127.0.0.1 -p "$port" -V "$v" -i "$id" -c -q 1 -C 1 -W 5 -t "$t" \
		>"$IOP_TMP/$id.2" 2>&1 || fail "second mqtt-fast-sub -c: $(cat "$IOP_TMP/$id.2")"
	assert_eq offline "$(cat "$IOP_TMP/$id.2")" \
		"message queued while away, -V $v, port $port"
}

credentials() {
	fsub_start "$MOSQ_AUTH" fs-auth -u alice -P secret -C 1 -t 20/auth
	fpub_ok "$MOSQ_AUTH" -V 5 -u alice -P secret -q 1 -t 20/auth -m "with password"
	collect "$FSUB_PID" "$FSUB_OUT" 0 "mqtt-fast-sub -u -P"
	assert_eq "with password" "$RESULT" "-u/-P accepted by mosquitto"
}

# ---- failures -------------------------------------------------------------------------------

refused() {
	fpub "$MOSQ_AUTH" -t 20/x -m y
	assert_eq 1 "$FPUB_RC" "anonymous v3.1.1 to mosquitto with a password file"
	assert_eq "mqtt-fast-pub: Connection Refused: not authorised (return code 5)" "$FPUB_OUT" \
		"message of a 3.1.1 refusal"
	fpub "$MOSQ_AUTH" -V 5 -t 20/x -m y
	assert_eq 1 "$FPUB_RC" "anonymous v5 to mosquitto with a password file"
	assert_eq "mqtt-fast-pub: Connection Refused: Not authorized (reason code 0x87)" \
		"$FPUB_OUT" "message of a 5.0 refusal"
	fpub "$MOSQ_AUTH" -u alice -P wrong -t 20/x -m y
	assert_eq 1 "$FPUB_RC" "wrong password"
	assert_match "Connection Refused: not authorised" "$FPUB_OUT" "wrong password message"
	"$MQTT_FAST_SUB" -p "$MOSQ_AUTH" -V 5 -t 20/x -W 5 >/dev/null 2>"$IOP_TMP/refused.err"
	assert_eq 1 "$?" "mqtt-fast-sub refused"
	assert_match "Connection Refused: Not authorized" "$(cat "$IOP_TMP/refused.err")" \
		"mqtt-fast-sub refusal message"
	# mqtt-fast with allow_anonymous false.
	start_broker "$DENY_PORT" "allow_anonymous false"
	fpub "$DENY_PORT" -t 20/x -m y
	assert_eq 1 "$FPUB_RC" "anonymous v3.1.1 to mqtt-fast with allow_anonymous false"
	assert_match "Connection Refused: not authorised \(return code 5\)" "$FPUB_OUT" \
		"mqtt-fast refusal message (3.1.1)"
	fpub "$DENY_PORT" -V 5 -t 20/x -m y
	assert_eq 1 "$FPUB_RC" "anonymous v5 to mqtt-fast with allow_anonymous false"
	assert_match "Connection Refused: .*\(reason code 0x8[67]\)" "$FPUB_OUT" \
		"mqtt-fast refusal message (5.0)"
	# Nothing listening: exit 1 at once.
	fpub "$FREE_PORT" -t 20/x -m y
	assert_eq 1 "$FPUB_RC" "no listener"
	assert_match "cannot connect to 127\.0\.0\.1 port $FREE_PORT: Connection refused" \
		"$FPUB_OUT" "no listener message"
}

bad_args_case() { # WHAT ERE TOOL ARGS...
	local what=$1 re=$2 tool=$3 out rc
	shift 3
	out=$(timeout 5 "$tool" -p "$FREE_PORT" "$@" 2>&1 >/dev/null)
	rc=$?
	assert_eq 1 "$rc" "$what: exit status"
	assert_match "$re" "$out" "$what: message"
	assert_match "Usage: mqtt-fast-(pub|sub)" "$out" "$what: usage printed"
}

bad_arguments() {
	local P=$MQTT_FAST_PUB S=$MQTT_FAST_SUB out
	bad_args_case "pub without -t" "error: no topic given" "$P" -m x
	bad_args_case "pub without a message" "error: no message given" "$P" -t a
	bad_args_case "pub -m and -n" "only one of -m, -f, -n, -s" "$P" -t a -m x -n
	bad_args_case "pub -q 3" "-q needs an integer in -1\.\.2, not '3'" "$P" -t a -m x -q 3
	bad_args_case "pub -q -1 over TCP" "QoS -1 exists only for mqtt-fast-pub --sn" "$P" -t a -m x -q -1
	bad_args_case "pub wildcard topic" "invalid topic name 'a/#'" "$P" -t 'a/#' -m x
	bad_args_case "pub -V 4" "unknown protocol version '4'" "$P" -t a -m x -V 4
	bad_args_case "pub unknown option" "unknown option or missing argument: '--bogus'" "$P" --bogus
	bad_args_case "pub -f missing file" "cannot open the message file" "$P" -t a -f "$IOP_TMP/none"
	bad_args_case "pub --cafile (no TLS)" "unknown option" "$P" -t a -m x --cafile x
	bad_args_case "sub -m (publisher option)" "unknown option" "$S" -t a -m x
	bad_args_case "sub without -t" "error: no topic given" "$S"
	bad_args_case "sub -C 0" "-C needs an integer" "$S" -t a -C 0
	bad_args_case "sub bad filter" "invalid topic filter 'a/#/b'" "$S" -t 'a/#/b'
	bad_args_case "sub -c without -i" "-c needs a client id" "$S" -t a -c
	bad_args_case "sub --sleep without --sn" "--sleep needs --sn" "$S" -t a --sleep 5
	bad_args_case "sn pub -q -1 to a long topic" "-q -1 needs --sn-topic-id" "$P" --sn -q -1 -t abc -m x
	out=$("$P" --help)
	assert_eq 0 "$?" "--help exit status"
	assert_match "^Usage: mqtt-fast-pub" "$out" "--help prints the usage on stdout"
}

run_case "mqtt-fast-pub -> mosquitto_sub, mqtt-fast, 3.1.1" fpub_to_mosquitto_sub "$PORT" 311
run_case "mqtt-fast-pub -> mosquitto_sub, mqtt-fast, 5" fpub_to_mosquitto_sub "$PORT" 5
run_case "mqtt-fast-pub -> mosquitto_sub, mosquitto, 3.1.1" fpub_to_mosquitto_sub "$MOSQ_PORT" 311
run_case "mqtt-fast-pub -> mosquitto_sub, mosquitto, 5" fpub_to_mosquitto_sub "$MOSQ_PORT" 5
run_case "mosquitto_pub -> mqtt-fast-sub, mqtt-fast, 3.1.1" mosquitto_pub_to_fsub "$PORT" 311
run_case "mosquitto_pub -> mqtt-fast-sub, mqtt-fast, 5" mosquitto_pub_to_fsub "$PORT" 5
run_case "mosquitto_pub -> mqtt-fast-sub, mosquitto, 3.1.1" mosquitto_pub_to_fsub "$MOSQ_PORT" 311
run_case "mosquitto_pub -> mqtt-fast-sub, mosquitto, 5" mosquitto_pub_to_fsub "$MOSQ_PORT" 5
run_case "mqtt-fast-pub v5 -> mqtt-fast-sub v3.1.1" fpub_to_fsub_mixed_versions
run_case "retained set and cleared, mqtt-fast" retained "$PORT"
run_case "retained set and cleared, mosquitto" retained "$MOSQ_PORT"
run_case "-v and -n print like mosquitto_sub; -s" verbose_null_like_mosquitto
run_case "-f binary file, -N, mqtt-fast" file_binary_no_newline "$PORT"
run_case "-f binary file, -N, mosquitto" file_binary_no_newline "$MOSQ_PORT"
run_case "-C 3 exits after three messages" count_stops
run_case "-W expires: exit 27" timeout_27
run_case "-d prints the packets" debug_output
run_case "will of a killed mqtt-fast-sub, mqtt-fast, 3.1.1" will_on_kill "$PORT" 311
run_case "will of a killed mqtt-fast-sub, mosquitto, 5" will_on_kill "$MOSQ_PORT" 5
run_case "-c persistent session, mqtt-fast, 3.1.1" persistent_session "$PORT" 311
run_case "-c persistent session, mqtt-fast, 5" persistent_session "$PORT" 5
run_case "-c persistent session, mosquitto, 3.1.1" persistent_session "$MOSQ_PORT" 311
run_case "-c persistent session, mosquitto, 5" persistent_session "$MOSQ_PORT" 5
run_case "-u/-P with mosquitto's password file" credentials
run_case "refused connections: exit 1 with the reason" refused
run_case "bad arguments: exit 1 with the usage" bad_arguments
finish
