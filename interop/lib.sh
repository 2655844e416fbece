# lib.sh - helpers for the interop scenarios (sourced, not run): one broker per script on its own
# port, bounded waits on conditions (never a fixed sleep standing in for readiness), assertions
# that say what differed, mosquitto_pub/mosquitto_sub wrappers, and raw MQTT sessions over bash
# /dev/tcp for checks on exact bytes.
#
# A scenario script looks like:
#   . "$(dirname "$0")/lib.sh"
#   PORT=$(iop_port 1)              # 21000 + N*10
#   start_broker "$PORT" "sys_interval 0"
#   case_one() { ...; assert_eq "$want" "$got" "what"; }
#   run_case "what it checks" case_one
#   finish                          # "N passed, M failed"; exit status 1 when M > 0
#
# Each run_case runs in a subshell: an assertion exits that case only, the script goes on with
# the next case, and the background processes the case started are killed when it ends.
#
# Environment: MQTT_FAST_BIN (the broker binary; default build/broker/mqtt-fast of this tree),
# IOP_VERBOSE=1 (print the broker log even when everything passed), IOP_WAIT (seconds the
# default waits last, default 5).

set -u
set -o pipefail
trap '' PIPE # a write to a socket the broker closed must fail, not kill the script

IOP_NAME=$(basename "$0" .sh)
IOP_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MQTT_FAST_BIN=${MQTT_FAST_BIN:-$IOP_SRC/build/broker/mqtt-fast}
IOP_WAIT=${IOP_WAIT:-5}
IOP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mqtt-fast-$IOP_NAME.XXXXXX") || exit 1
IOP_PIDFILE=$IOP_TMP/pids # every background process, for the final cleanup
: >"$IOP_PIDFILE"
CASE_PIDS=()
BROKER_PID=
BROKER_PORT=
BROKER_LOG=
BROKER_CONF=
IOP_PASSED=0
IOP_FAILED=0
IOP_FAILED_NAMES=()

for tool in mosquitto_pub mosquitto_sub timeout od dd; do
	if ! command -v "$tool" >/dev/null; then
		echo "$IOP_NAME: $tool not found" >&2
		exit 1
	fi
done
if [[ ! -x $MQTT_FAST_BIN ]]; then
	echo "$IOP_NAME: broker binary '$MQTT_FAST_BIN' not found (set MQTT_FAST_BIN)" >&2
	exit 1
fi

# The port of scenario N (its first two digits): 21000 + N*10; scenarios may use the next 9.
iop_port() { echo $((21000 + 10#$1 * 10)); }

# ---- cleanup ------------------------------------------------------------------------------

iop_kill_pids() {
	local pid
	for pid in "$@"; do
		# Children first: SIGKILL of `timeout` would leave its mosquitto_sub running.
		kill -9 $(ps -o pid= --ppid "$pid") "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null # reaped here, bash does not report "Killed" later
	done
} 2>/dev/null

# Stops the broker with SIGTERM. Returns non-zero when it did not exit cleanly with status 0
# (a crash or a sanitizer report at shutdown is a failure too).
stop_broker() {
	[[ -n $BROKER_PID ]] || return 0
	kill -TERM "$BROKER_PID" 2>/dev/null
	local i status=0
	for ((i = 0; i < 40; i++)); do
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -9 "$BROKER_PID" 2>/dev/null; then
		echo "not ok: broker did not stop within 2 s of SIGTERM"
		status=1
	fi
	wait "$BROKER_PID" 2>/dev/null || status=$?
	[[ $status -eq 0 ]] || echo "not ok: broker exited with status $status after SIGTERM"
	BROKER_PID=
	return "$status"
}

iop_cleanup() {
	local rc=$?
	trap - EXIT
	local pids
	stop_broker || { [[ $rc -eq 0 ]] && rc=1; }
	mapfile -t pids <"$IOP_PIDFILE"
	iop_kill_pids "${pids[@]}"
	if [[ $rc -ne 0 || ${IOP_VERBOSE:-0} == 1 ]] && [[ -n $BROKER_LOG && -s $BROKER_LOG ]]; then
		echo "---- broker log (last 60 lines of $BROKER_LOG) ----"
		tail -n 60 "$BROKER_LOG"
	fi
	rm -rf "$IOP_TMP"
	exit "$rc"
}
trap iop_cleanup EXIT
trap 'exit 130' INT TERM

# ---- reporting and assertions -------------------------------------------------------------

note() { echo "  $*"; }

# Fails the current case (or the script outside a case): prints why, exits 1.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

assert_eq() { # EXPECTED ACTUAL WHAT
	[[ $1 == "$2" ]] && return 0
	{
		echo "FAIL: $3"
		echo "  expected: $(printf '%q' "$1")"
		echo "  observed: $(printf '%q' "$2")"
	} >&2
	exit 1
}

assert_ne() { # UNEXPECTED ACTUAL WHAT
	[[ $1 != "$2" ]] || fail "$3: got $(printf '%q' "$2")"
}

# Compares two multi-line texts; prints a diff on mismatch.
assert_lines() { # EXPECTED ACTUAL WHAT
	[[ $1 == "$2" ]] && return 0
	{
		echo "FAIL: $3"
		diff -u <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed '1,2d; s/^/  /'
		echo "  (- expected, + observed)"
	} >&2
	exit 1
}

assert_match() { # ERE TEXT WHAT
	[[ $2 =~ $1 ]] || fail "$3: $(printf '%q' "$2") does not match /$1/"
}

assert_no_match() { # ERE TEXT WHAT
	[[ ! $2 =~ $1 ]] || fail "$3: $(printf '%q' "$2") matches /$1/"
}

assert_le() { # A B WHAT: integers, A <= B
	(($1 <= $2)) || fail "$3: $1 > $2"
}

assert_broker_alive() {
	kill -0 "$BROKER_PID" 2>/dev/null || fail "the broker process died (see its log)"
}

# Runs one case in a subshell; its background processes are killed when it ends.
run_case() { # DESCRIPTION FUNCTION [ARGS...]
	local what=$1
	shift
	echo "--- $what"
	(
		CASE_PIDS=()
		trap 'iop_kill_pids "${CASE_PIDS[@]}"' EXIT
		"$@"
	)
	local rc=$?
	if [[ $rc -eq 0 ]]; then
		IOP_PASSED=$((IOP_PASSED + 1))
		echo "ok: $what"
	else
		IOP_FAILED=$((IOP_FAILED + 1))
		IOP_FAILED_NAMES+=("$what")
		echo "not ok: $what"
	fi
}

finish() {
	echo "$IOP_NAME: $IOP_PASSED passed, $IOP_FAILED failed"
	local n
	for n in "${IOP_FAILED_NAMES[@]}"; do
		echo "  failed: $n"
	done
	[[ $IOP_FAILED -eq 0 ]]
	exit
}

# ---- waiting ----------------------------------------------------------------------------

# Milliseconds on a monotonic-enough clock.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Polls until `grep -E PATTERN` finds at least COUNT lines in FILE from line FROM on (default
# 1), every 50 ms, for at most TIMEOUT seconds. 0 when found, 1 on timeout.
wait_for_line() { # FILE PATTERN [TIMEOUT] [FROM] [COUNT]
	local file=$1 pattern=$2 timeout=${3:-$IOP_WAIT} from=${4:-1} count=${5:-1}
	local deadline=$(($(now_ms) + ${timeout%.*} * 1000)) n
	while :; do
		n=$(tail -n "+$from" "$file" 2>/dev/null | grep -cE -- "$pattern")
		((n >= count)) && return 0
		(($(now_ms) >= deadline)) && return 1
		sleep 0.05
	done
}

# Like wait_for_line, but fails the case with the file's content on timeout.
expect_line() { # FILE PATTERN [TIMEOUT] [FROM] [COUNT]
	wait_for_line "$@" && return 0
	{
		echo "FAIL: no line /$2/ (x${5:-1}) in $(basename "$1") within ${3:-$IOP_WAIT} s; it holds:"
		sed 's/^/  | /' "$1" | tail -n 30
	} >&2
	exit 1
}

# Polls until COMMAND succeeds, every 50 ms, for at most TIMEOUT seconds.
wait_until() { # TIMEOUT COMMAND...
	local deadline=$(($(now_ms) + ${1%.*} * 1000))
	shift
	while ! "$@"; do
		(($(now_ms) >= deadline)) && return 1
		sleep 0.05
	done
}

# Waits for a background process to end; its exit status, or 124 after TIMEOUT (it is killed).
wait_pid() { # PID [TIMEOUT]
	local pid=$1 deadline=$(($(now_ms) + ${2:-$IOP_WAIT} * 1000))
	while kill -0 "$pid" 2>/dev/null; do
		if (($(now_ms) >= deadline)); then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.05
	done
	wait "$pid"
}

# Escapes a string for use inside an ERE.
re_quote() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

# The number of lines in the broker log now: pass it as FROM to only look at later lines.
log_mark() { wc -l <"$BROKER_LOG"; }

# ---- the broker -------------------------------------------------------------------------

# Writes a configuration (listener PORT on 127.0.0.1, anonymous clients allowed, then one extra
# line per argument), starts $MQTT_FAST_BIN -v on it with its log in $BROKER_LOG, and waits (at
# most 5 s) until the port accepts connections.
start_broker() { # PORT [CONFIG LINE...]
	local port=$1
	shift
	BROKER_PORT=$port
	BROKER_CONF=$IOP_TMP/broker-$port.conf
	BROKER_LOG=$IOP_TMP/broker-$port.log
	{
		echo "listener $port 127.0.0.1"
		echo "allow_anonymous true"
		printf '%s\n' "$@"
	} >"$BROKER_CONF"
	# Something else answering on the port would pass the readiness probe for us.
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		fail "port $port is already in use"
	fi
	"$MQTT_FAST_BIN" -c "$BROKER_CONF" -v >"$BROKER_LOG" 2>&1 &
	BROKER_PID=$!
	echo "$BROKER_PID" >>"$IOP_PIDFILE"
	CASE_PIDS+=("$BROKER_PID") # a broker started inside a case ends with it
	local i
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$BROKER_PID" 2>/dev/null; then
			cat "$BROKER_LOG" >&2
			fail "broker exited at start-up (config: $(tr '\n' ';' <"$BROKER_CONF"))"
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	fail "broker not accepting connections on port $port after 5 s"
}

# ---- mosquitto clients --------------------------------------------------------------------

# Starts `mosquitto_sub -h 127.0.0.1 -p $BROKER_PORT -i ID ARGS...` in the background (bounded
# by `timeout`, default 20 s; set SUB_TIMEOUT), output in $IOP_TMP/ID.out (stderr ID.err), and
# waits until the broker logged NSUBS "subscribed to" lines for ID (NSUBS = number of -t).
# Sets SUB_PID and SUB_OUT.
sub_start() { # ID ARGS...
	local id=$1 a nsubs=0 mark
	shift
	for a in "$@"; do
		[[ $a == -t ]] && nsubs=$((nsubs + 1))
	done
	mark=$(($(log_mark) + 1))
	SUB_OUT=$IOP_TMP/$id.out
	timeout -k 1 "${SUB_TIMEOUT:-20}" mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -i "$id" "$@" \
		>"$SUB_OUT" 2>"$IOP_TMP/$id.err" &
	SUB_PID=$!
	CASE_PIDS+=("$SUB_PID")
	echo "$SUB_PID" >>"$IOP_PIDFILE"
	if ((nsubs > 0)) &&
		! wait_for_line "$BROKER_LOG" "\[$(re_quote "$id") [^]]*\] subscribed to " \
			"$IOP_WAIT" "$mark" "$nsubs"; then
		cat "$IOP_TMP/$id.err" >&2
		fail "mosquitto_sub $id did not subscribe within $IOP_WAIT s ($*)"
	fi
}

# The process `timeout` runs for PID (to signal mosquitto_sub itself, e.g. kill -9).
child_pid() { # PID
	local c i
	for ((i = 0; i < 40; i++)); do
		c=$(ps -o pid= --ppid "$1" | head -n 1 | tr -d ' ')
		[[ -n $c ]] && echo "$c" && return 0
		sleep 0.05
	done
	return 1
}

# kill -9 of the mosquitto_sub that sub_start started as PID (its TCP connection drops without
# DISCONNECT); waits until it is gone.
kill9_sub() { # PID
	local c
	c=$(child_pid "$1") || fail "no mosquitto_sub process under $1"
	kill -9 "$c"
	wait "$1" 2>/dev/null
}

# Waits for a subscriber started with -C to exit 0 and returns its output in SUB_RESULT.
sub_collect() { # PID OUTFILE [TIMEOUT]
	local rc
	wait_pid "$1" "${3:-$IOP_WAIT}"
	rc=$?
	SUB_RESULT=$(cat "$2")
	if [[ $rc -ne 0 ]]; then
		{
			echo "FAIL: subscriber exited with status $rc (124: timed out waiting for messages)"
			echo "  received so far:"
			sed 's/^/  | /' "$2"
		} >&2
		exit 1
	fi
}

# mosquitto_pub to the broker; fails the case when it does not succeed within 10 s.
pub() { # ARGS...
	local out
	out=$(timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" "$@" 2>&1) ||
		fail "mosquitto_pub $* failed: $out"
	PUB_OUTPUT=$out
}

# ---- raw MQTT over /dev/tcp ----------------------------------------------------------------
# Packets are written as lowercase hex bytes separated by spaces ("10 0c 00 04 ...").

hex_of() { # STRING -> hex bytes of its UTF-8 encoding
	[[ -z $1 ]] && return 0
	printf '%s' "$1" | od -An -tx1 -v | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

hex_count() { # HEX -> number of bytes
	local -a b=($1)
	echo "${#b[@]}"
}

hex_u16() { printf '%02x %02x' $(($1 >> 8 & 255)) $(($1 & 255)); }
hex_u32() { printf '%02x %02x %02x %02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }

hex_varint() { # N -> MQTT Variable Byte Integer
	local n=$1 out='' b
	while :; do
		b=$((n % 128))
		n=$((n / 128))
		((n > 0)) && b=$((b | 128))
		out+="$(printf '%02x' "$b") "
		((n > 0)) || break
	done
	echo "${out% }"
}

mqtt_str() { # STRING -> two-byte length + UTF-8 bytes
	local h
	h=$(hex_of "$1")
	echo "$(hex_u16 "$(hex_count "$h")")${h:+ $h}"
}

# A whole packet: first byte, Remaining Length computed from the body.
mk_packet() { # FIRST_BYTE BODY_HEX...
	local first=$1 body
	shift
	body=$(echo "$*" | tr -s ' ')
	body=${body# }
	body=${body% }
	echo "$first $(hex_varint "$(hex_count "$body")")${body:+ $body}"
}

# CONNECT for VERSION 3 (3.1), 4 (3.1.1) or 5. FLAGS default 02 (clean), KEEPALIVE 60, PROPS
# (5 only) the property bytes without their length, PAYLOAD_EXTRA appended after the client id
# (will, user name...).
mk_connect() { # VERSION CLIENT_ID [FLAGS] [KEEPALIVE] [PROPS] [PAYLOAD_EXTRA]
	local v=$1 id=$2 flags=${3:-02} ka=${4:-60} props=${5:-} extra=${6:-} name=MQTT vh
	[[ $v == 3 ]] && name=MQIsdp
	vh="$(mqtt_str "$name") $(printf '%02x' "$v") $flags $(hex_u16 "$ka")"
	if [[ $v == 5 ]]; then
		vh+=" $(hex_varint "$(hex_count "$props")")${props:+ $props}"
	fi
	mk_packet 10 "$vh" "$(mqtt_str "$id")" "$extra"
}

# Opens a TCP connection to the broker; sets RAW_FD.
raw_open() { # [PORT]
	exec {RAW_FD}<>"/dev/tcp/127.0.0.1/${1:-$BROKER_PORT}" ||
		fail "cannot connect to port ${1:-$BROKER_PORT}"
}

raw_close() { # FD
	eval "exec $1>&-" 2>/dev/null
}

# Writes hex bytes to FD. Non-zero when the write failed (connection gone).
raw_send() { # FD HEX
	local fmt='' b
	for b in $2; do
		fmt+="\\x$b"
	done
	# shellcheck disable=SC2059,SC2261 # the format is the data; $1 is a socket fd, not 2
	printf "$fmt" >&"$1" 2>/dev/null
}

# Reads up to N bytes (one read(2) per byte, so nothing past them is consumed), waiting at
# most TIMEOUT seconds in all; prints them as hex. Status: 0 all read, 1 EOF/error before N,
# 124 timeout.
raw_read() { # FD N [TIMEOUT]
	local out rc
	out=$(timeout -k 1 "${3:-$IOP_WAIT}" dd bs=1 count="$2" status=none <&"$1" 2>/dev/null |
		od -An -tx1 -v)
	rc=$?
	out=$(echo $out)
	echo "$out"
	[[ $rc -eq 124 ]] && return 124
	[[ $(hex_count "$out") -eq $2 ]] || return 1
	return 0
}

# Reads one whole MQTT packet into RAW_PKT (hex). 0, or 1 on EOF / timeout (RAW_PKT holds what
# was read, RAW_STATUS "eof" or "timeout").
raw_read_packet() { # FD [TIMEOUT]
	local fd=$1 t=${2:-$IOP_WAIT} b len=0 mul=1 i rc body
	RAW_PKT=
	RAW_STATUS=ok
	b=$(raw_read "$fd" 1 "$t")
	rc=$?
	RAW_PKT=$b
	if [[ $rc -ne 0 ]]; then
		[[ $rc -eq 124 ]] && RAW_STATUS=timeout || RAW_STATUS=eof
		return 1
	fi
	for ((i = 0; i < 4; i++)); do
		b=$(raw_read "$fd" 1 "$t") || {
			RAW_PKT+=" $b"
			RAW_STATUS=eof
			return 1
		}
		RAW_PKT+=" $b"
		len=$((len + (16#$b & 127) * mul))
		mul=$((mul * 128))
		((16#$b & 128)) || break
	done
	if ((len > 0)); then
		body=$(raw_read "$fd" "$len" "$t")
		rc=$?
		RAW_PKT+="${body:+ $body}"
		if [[ $rc -ne 0 ]]; then
			[[ $rc -eq 124 ]] && RAW_STATUS=timeout || RAW_STATUS=eof
			return 1
		fi
	fi
	return 0
}

# Expects the next packet on FD to be exactly HEX.
raw_expect() { # FD HEX WHAT [TIMEOUT]
	local want
	want=$(echo $2)
	raw_read_packet "$1" "${4:-$IOP_WAIT}" || true
	[[ $RAW_PKT == "$want" ]] && return 0
	{
		echo "FAIL: $3"
		echo "  expected packet: $want"
		echo "  observed:        ${RAW_PKT:-(nothing)}${RAW_STATUS:+ [$RAW_STATUS]}"
	} >&2
	exit 1
}

# Expects the next packet on FD to be an MQTT 5 DISCONNECT (FIRST e0) or a refusing CONNACK
# (FIRST 20, Session Present 0) with reason code RC and no property but a non-empty Reason
# String: the broker explains refusals and disconnections (5.0 §3.2.2.3.9, §3.14.2.2.3). The
# string must match TEXT_ERE when given; RAW_REASON holds it.
raw_expect_reason() { # FD FIRST RC WHAT [TEXT_ERE] [TIMEOUT]
	local first=$2 rc=$3 b n at slen i ok=0
	RAW_REASON=
	raw_read_packet "$1" "${6:-$IOP_WAIT}" || true
	read -r -a b <<<"$RAW_PKT"
	n=${#b[@]}
	at=2 # the reason code: after the one-byte Remaining Length (these packets are short)
	[[ $first == 20 ]] && at=3
	if ((n > at + 5)) && [[ ${b[0]} == "$first" && ${b[at]} == "$rc" && ${b[at + 2]} == 1f ]] &&
		[[ $first == e0 || ${b[2]} == 00 ]]; then
		slen=$((16#${b[at + 3]}${b[at + 4]}))
		if ((16#${b[1]} == n - 2 && 16#${b[at + 1]} == n - at - 2 && slen == n - at - 5)); then
			for ((i = at + 5; i < n; i++)); do
				RAW_REASON+=$(printf "\\x${b[i]}")
			done
			ok=1
		fi
	fi
	if ((ok)) && [[ -z ${5:-} || $RAW_REASON =~ $5 ]]; then
		return 0
	fi
	{
		echo "FAIL: $4"
		echo "  expected: packet $first, reason code $rc, a Reason String${5:+ matching $5}"
		echo "  observed: ${RAW_PKT:-(nothing)}${RAW_STATUS:+ [$RAW_STATUS]}${RAW_REASON:+ (\"$RAW_REASON\")}"
	} >&2
	exit 1
}

# Expects the broker to close FD (EOF or reset) within TIMEOUT seconds with nothing more sent.
raw_expect_eof() { # FD WHAT [TIMEOUT]
	local got rc
	got=$(raw_read "$1" 1 "${3:-$IOP_WAIT}")
	rc=$?
	[[ $rc -eq 1 && -z $got ]] && return 0
	if [[ $rc -eq 124 ]]; then
		fail "$2: connection still open after ${3:-$IOP_WAIT} s"
	fi
	# Show the whole unexpected packet.
	local more
	more=$(raw_read "$1" 64 1)
	fail "$2: expected the connection closed, received bytes: $got${more:+ $more}"
}

# Expects nothing on FD for SECONDS (the connection stays open and silent).
raw_expect_silence() { # FD SECONDS WHAT
	local got rc
	got=$(raw_read "$1" 1 "$2")
	rc=$?
	[[ $rc -eq 124 ]] && return 0
	if [[ $rc -eq 1 && -z $got ]]; then
		fail "$3: the broker closed the connection"
	fi
	local more
	more=$(raw_read "$1" 64 1)
	fail "$3: unexpected bytes: $got${more:+ $more}"
}

# Opens a raw session: connects, sends CONNECT (mk_connect arguments), expects CONNACK bytes
# (default: the plain success CONNACK of that version with this broker's default limits).
# Sets RAW_FD.
raw_session() { # VERSION CLIENT_ID [FLAGS] [KEEPALIVE] [PROPS] [PAYLOAD_EXTRA]
	raw_open
	raw_send "$RAW_FD" "$(mk_connect "$@")" || fail "sending CONNECT failed"
	raw_read_packet "$RAW_FD" || fail "no CONNACK for $2 (${RAW_PKT:-nothing}, $RAW_STATUS)"
	case $RAW_PKT in
	"20 02 00 00" | "20 02 01 00") ;;
	"20 "*" 00 00"* | "20 "*" 01 00"*) [[ $1 == 5 ]] || fail "CONNACK for $2: $RAW_PKT" ;;
	*) fail "CONNECT of $2 refused: $RAW_PKT" ;;
	esac
}

# The success CONNACK this broker sends an MQTT 5 client with the default configuration:
# Receive Maximum 20 (max_inflight_messages), Topic Alias Maximum 10 (max_topic_alias).
CONNACK_V5_OK="20 09 00 00 06 21 00 14 22 00 0a"
