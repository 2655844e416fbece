#!/usr/bin/env bash
# run.sh - the benchmarks of issues 6 and 7, side by side in one run, in a namespace topology
# made and removed here:
#
#   [bn-pub] bnp0 10.201.1.1 ---- bnp1 10.201.1.2 [bn-brk] bns1 10.201.2.2 ---- bns0 10.201.2.1 [bn-sub]
#   publishers                      brokers / TC programs                          subscribers
#
#   1. MQTT-SN QoS 0 fan-out to 1, 10, 100 subscribers: mqtt-fast's kernel fast path, mqtt-fast's
#      userspace path, a bare recvmmsg/sendmmsg relay and the limit reference (limit.bpf.c):
#      flat out (delivered msgs/s) and at 1000 msgs/s (latency).
#   2. MQTT over TCP, QoS 0 and 1, fan-out 1 -> 1/10/100 and fan-in 100 -> 1, mqtt-fast vs
#      mosquitto (default config plus max_queued_messages raised); latency at 1000 msgs/s.
#   3. 10,000 idle MQTT connections: broker RSS per connection, mqtt-fast vs mosquitto.
#
# Usage: tests/bench/run.sh [--smoke] [--results DIR] [--no-docs]
#   (no option)  the full run (estimated 6-10 minutes): results in build/bench-results/, then
#                tests/bench/report.py rewrites BENCHMARKS.md's result sections and docs/bench/*.png
#   --smoke      seconds-long version of every scenario with small counts; fails if the harness
#                breaks; writes nothing outside --results (the generator runs into it)
# Needs root (namespaces, veth, TC). Binaries from the environment (MQTT_FAST_BIN,
# MQTT_FAST_BENCH, MQTT_FAST_BENCH_LIMIT, MQTT_FAST_CTL) or built here into build/.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SMOKE=0 DOCS=1 RESULTS=""
while (($#)); do
	case $1 in
	--smoke) SMOKE=1 ;;
	--no-docs) DOCS=0 ;;
	--results) RESULTS=$2; shift ;;
	*) echo "run.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
	esac
	shift
done

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then
	say "run.sh: needs root (network namespaces, veth, TC programs); skipped"
	exit 77
fi

# ---- what is measured, full run vs smoke ----
if ((SMOKE)); then
	PFX=bn-t VPFX=bnt NET=10.202 COUNTS=(2) FANIN=3 DUR=0.3 DRAIN=0.3 IDLE=50 HOLD=0.3
	LAT_RATE=200
	RESULTS=${RESULTS:-$SRC/build/bench-smoke}
	DOCS=0
else
	PFX=bn VPFX=bn NET=10.201 COUNTS=(1 10 100) FANIN=100 DUR=5 DRAIN=2 IDLE=10000 HOLD=3
	LAT_RATE=1000
	RESULTS=${RESULTS:-$SRC/build/bench-results}
fi
# Development only (a quick pass over the full counts): shorter cases. BENCHMARKS.md states the
# durations of the run it shows.
DUR=${BENCH_DURATION:-$DUR} DRAIN=${BENCH_DRAIN:-$DRAIN}
NS_PUB=$PFX-pub NS_BRK=$PFX-brk NS_SUB=$PFX-sub
PUB_IP=$NET.1.1 BRK_PUB_IP=$NET.1.2 BRK_SUB_IP=$NET.2.2 SUB_IP=$NET.2.1
MQTT_PORT=1883 SN_PORT=1884 LIMIT_BASE=30000 SIZE=64
SN_TOPIC_ID=1 # the limit reference and the relay forward what arrives: a predefined id

# ---- binaries ----
# Given by the environment (ctest does), or built here (incrementally, so that a run after a
# merge never measures stale binaries).
BUILD=${BENCH_BUILD_DIR:-$SRC/build}
if [[ -z ${MQTT_FAST_BIN:-} || -z ${MQTT_FAST_BENCH:-} ]]; then
	say "run.sh: building into $BUILD"
	bash "$SRC/scripts/deps.sh" || die "scripts/deps.sh failed"
	if [[ ! -f $BUILD/CMakeCache.txt ]]; then
		cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
			die "cmake configure failed"
	fi
	cmake --build "$BUILD" -j2 --target mqtt-fast mqtt-fast-bench >/dev/null || die "build failed"
	# Optional parts: the limit reference needs -DMQTT_FAST_BPF=ON, mqtt-fast-ctl the fast path.
	cmake --build "$BUILD" -j2 --target mqtt-fast-bench-limit >/dev/null 2>&1
	cmake --build "$BUILD" -j2 --target mqtt-fast-ctl >/dev/null 2>&1
fi
MQTT_FAST_BIN=${MQTT_FAST_BIN:-$BUILD/broker/mqtt-fast}
MQTT_FAST_BENCH=${MQTT_FAST_BENCH:-$BUILD/tools/mqtt-fast-bench}
MQTT_FAST_BENCH_LIMIT=${MQTT_FAST_BENCH_LIMIT:-$BUILD/tests/mqtt-fast-bench-limit}
MQTT_FAST_CTL=${MQTT_FAST_CTL:-$BUILD/tools/mqtt-fast-ctl}
for b in "$MQTT_FAST_BIN" "$MQTT_FAST_BENCH"; do
	[[ -x $b ]] || die "'$b' not found"
done
command -v mosquitto >/dev/null || die "mosquitto not installed (scripts/deps.sh installs it)"

mkdir -p "$RESULTS" || die "cannot create $RESULTS"
rm -f "$RESULTS"/*.json "$RESULTS"/*.txt "$RESULTS"/*.err "$RESULTS"/*.res "$RESULTS"/*.log \
	"$RESULTS"/*.unverified
WORK=$(mktemp -d /tmp/mqtt-fast-bench.XXXXXX) || die "mktemp failed"
PIDS=()
FAILURES=0
OLD_BACKLOG=""

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ns in "$NS_PUB" "$NS_BRK" "$NS_SUB"; do
		ip netns del "$ns" 2>/dev/null
	done
	[[ -n $OLD_BACKLOG ]] && sysctl -qw net.core.netdev_max_backlog="$OLD_BACKLOG"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- topology ----
topology_up() {
	local ns
	for ns in "$NS_PUB" "$NS_BRK" "$NS_SUB"; do
		ip netns del "$ns" 2>/dev/null
		ip netns add "$ns" || die "cannot create namespace $ns"
		ip -n "$ns" link set lo up
	done
	ip link add "${VPFX}p0" netns "$NS_PUB" type veth peer name "${VPFX}p1" netns "$NS_BRK" &&
		ip link add "${VPFX}s0" netns "$NS_SUB" type veth peer name "${VPFX}s1" netns "$NS_BRK" ||
		die "cannot create veth pairs"
	ip -n "$NS_PUB" addr add "$PUB_IP/24" dev "${VPFX}p0"
	ip -n "$NS_BRK" addr add "$BRK_PUB_IP/24" dev "${VPFX}p1"
	ip -n "$NS_BRK" addr add "$BRK_SUB_IP/24" dev "${VPFX}s1"
	ip -n "$NS_SUB" addr add "$SUB_IP/24" dev "${VPFX}s0"
	ip -n "$NS_PUB" link set "${VPFX}p0" up
	ip -n "$NS_BRK" link set "${VPFX}p1" up
	ip -n "$NS_BRK" link set "${VPFX}s1" up
	ip -n "$NS_SUB" link set "${VPFX}s0" up
	# Hosts compute their UDP checksums as a NIC would: a local socket over veth otherwise
	# leaves them to "hardware" (CHECKSUM_PARTIAL), which the fast path does not trust and
	# passes up. The same for every system measured.
	ip netns exec "$NS_PUB" ethtool -K "${VPFX}p0" tx off >/dev/null &&
		ip netns exec "$NS_SUB" ethtool -K "${VPFX}s0" tx off >/dev/null ||
		die "ethtool -K tx off failed (scripts/deps.sh installs ethtool)"
	ip -n "$NS_PUB" route add default via "$BRK_PUB_IP"
	ip -n "$NS_SUB" route add default via "$BRK_SUB_IP"
	# Copies from the limit reference keep the publisher's source address: no reverse-path
	# filter on the subscriber host. Idle clients need more than the default port range; the
	# ports of the relay's and the limit's subscribers are kept out of it.
	ip netns exec "$NS_SUB" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf."${VPFX}s0".rp_filter=0 net.ipv4.ip_local_port_range="10000 60999" \
		net.ipv4.ip_local_reserved_ports="$LIMIT_BASE-$((LIMIT_BASE + 1023))"
	ip netns exec "$NS_BRK" sysctl -qw net.ipv4.ip_forward=1 net.core.somaxconn=4096
	# Clones queue on the backlog of the publisher's CPU (issue 6): 64 packets x 100 copies.
	# A machine-wide setting: put back at exit.
	OLD_BACKLOG=$(sysctl -n net.core.netdev_max_backlog)
	sysctl -qw net.core.netdev_max_backlog=10000 2>/dev/null ||
		say "run.sh: cannot raise net.core.netdev_max_backlog (clones may fail under bursts)"
}

# ---- brokers ----
BROKER_PID="" BROKER_LOG=""

# Waits until the broker accepts TCP connections on MQTT_PORT in its namespace (5 s).
broker_wait() { # NAME
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$BROKER_PID" 2>/dev/null || return 1
		ip netns exec "$NS_BRK" bash -c "exec 3<>/dev/tcp/127.0.0.1/$MQTT_PORT" 2>/dev/null &&
			return 0
		sleep 0.05
	done
	return 1
}

broker_start() { # NAME CONF
	BROKER_LOG=$RESULTS/broker-$1.log
	case $1 in
	mosquitto) ip netns exec "$NS_BRK" mosquitto -c "$2" >"$BROKER_LOG" 2>&1 & ;;
	*) ip netns exec "$NS_BRK" "$MQTT_FAST_BIN" -c "$2" >"$BROKER_LOG" 2>&1 & ;;
	esac
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	broker_wait "$1"
}

broker_stop() {
	local i
	[[ -n $BROKER_PID ]] || return 0
	kill "$BROKER_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=""
}

mqtt_fast_conf() { # FILE [EXTRA LINES...]
	local f=$1
	shift
	{
		echo "listener $MQTT_PORT"
		echo "max_connections -1"
		echo "listener $SN_PORT"
		echo "protocol mqttsn"
		echo "allow_anonymous true"
		echo "max_queued_messages 1000000"
		echo "sn_predefined_topic $SN_TOPIC_ID bench/0"
		printf '%s\n' "$@"
	} >"$f"
}

mosquitto_conf() { # FILE
	{
		echo "listener $MQTT_PORT"
		echo "allow_anonymous true"
		echo "max_queued_messages 1000000" # default 1000: raised so QoS 0 is not dropped
		echo "log_dest stderr"
	} >"$1"
}

# Sum of the fields of /proc/stat's "cpu" line: busy (all but idle and iowait) and softirq,
# in seconds: where a kernel fan-out's cost shows up, since no process owns it.
cpu_sample() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu / {
		busy = $2 + $3 + $4 + $7 + $8 + $9; printf "%.4f %.4f\n", busy / hz, $8 / hz; exit }' /proc/stat
}

record_failure() { # LABEL REASON
	FAILURES=$((FAILURES + 1))
	say "run.sh: $1: FAILED: $2"
	printf '%s\t%s\n' "$1" "$2" >>"$RESULTS/failures.txt"
}

# run_case LABEL BROKER_PID COMMON... -- SUB_ARGS... -- PUB_ARGS...
# Subscribers in the subscriber namespace, publishers in the publisher namespace, results merged
# into LABEL.json with the machine's busy and softirq seconds over the run.
run_case() {
	local label=$1 bpid=$2 f=${1//:/_}
	shift 2
	local common=() sub=() pub=() part=0 a
	for a in "$@"; do
		if [[ $a == -- ]]; then
			part=$((part + 1))
			continue
		fi
		case $part in
		0) common+=("$a") ;;
		1) sub+=("$a") ;;
		*) pub+=("$a") ;;
		esac
	done
	local pidarg=()
	[[ $bpid != - ]] && pidarg=(--broker-pid "$bpid")
	local ready=$WORK/$f.ready limit_s
	limit_s=$(awk -v d="$DUR" -v r="$DRAIN" 'BEGIN { printf "%d", d + r + 45 }')
	rm -f "$ready"
	timeout -k 2 "$limit_s" ip netns exec "$NS_SUB" "$MQTT_FAST_BENCH" --role sub "${common[@]}" \
		"${sub[@]}" "${pidarg[@]}" --ready-file "$ready" --out "$RESULTS/$f.sub.res" \
		>"$RESULTS/$f.sub.txt" 2>"$RESULTS/$f.sub.err" &
	local spid=$! i
	PIDS+=("$spid")
	for ((i = 0; i < 800; i++)); do
		[[ -e $ready ]] && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	if [[ ! -e $ready ]]; then
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		record_failure "$label" "subscribers not ready: $(tail -n 1 "$RESULTS/$f.sub.err")"
		return 1
	fi
	local cpu0 cpu1
	cpu0=$(cpu_sample)
	if ! timeout -k 2 "$limit_s" ip netns exec "$NS_PUB" "$MQTT_FAST_BENCH" --role pub \
		"${common[@]}" "${pub[@]}" --out "$RESULTS/$f.pub.res" \
		>"$RESULTS/$f.pub.txt" 2>"$RESULTS/$f.pub.err"; then
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		record_failure "$label" "publishers failed: $(tail -n 1 "$RESULTS/$f.pub.err")"
		return 1
	fi
	if ! wait "$spid"; then
		record_failure "$label" "subscribers failed: $(tail -n 1 "$RESULTS/$f.sub.err")"
		return 1
	fi
	cpu1=$(cpu_sample)
	"$MQTT_FAST_BENCH" --merge --json --label "$label" "${common[@]}" "$RESULTS/$f.sub.res" \
		"$RESULTS/$f.pub.res" >"$RESULTS/$f.json.tmp" 2>"$RESULTS/$f.merge.err" || {
		record_failure "$label" "merge failed: $(tail -n 1 "$RESULTS/$f.merge.err")"
		return 1
	}
	# The machine's CPU over the run goes in as two more fields.
	read -r b0 s0 <<<"$cpu0"
	read -r b1 s1 <<<"$cpu1"
	sed '$ s/}$//' "$RESULTS/$f.json.tmp" >"$RESULTS/$f.json"
	awk -v b="$b0" -v B="$b1" -v s="$s0" -v S="$s1" 'BEGIN {
		printf ", \"machine_busy_s\": %.3f, \"softirq_s\": %.3f}\n", B - b, S - s }' \
		>>"$RESULTS/$f.json"
	rm -f "$RESULTS/$f.json.tmp"
	printf '  %-30s %s\n' "$label" "$("$MQTT_FAST_BENCH" --merge "${common[@]}" \
		"$RESULTS/$f.sub.res" "$RESULTS/$f.pub.res" | head -n 2 | tr '\n' ' ')" >&2
}

unavailable() { # SYSTEM REASON
	say "run.sh: $1: not available: $2"
	printf '%s\t%s\n' "$1" "$2" >>"$RESULTS/unavailable.txt"
}

# ---- scenario 1: MQTT-SN QoS 0 fan-out ----
sn_cases() { # SYSTEM BROKER_PID(or -) PASSIVE(0/1)
	local sys=$1 bpid=$2 passive=$3 n sub pub
	for n in "${COUNTS[@]}"; do
		sub=(-h "$BRK_SUB_IP" --bind "$SUB_IP")
		pub=(-h "$BRK_PUB_IP" --bind "$PUB_IP")
		if ((passive)); then
			# No broker: publishers send QoS -1 on a predefined id (MQTT-SN 1.2 §6.8) and
			# subscribers only listen on ports LIMIT_BASE + i.
			sub+=(--sn-port-base "$LIMIT_BASE")
			pub+=(-q -1 --sn-topic-id "$SN_TOPIC_ID")
		fi
		if [[ $sys == limit ]] && ! limit_start "$n"; then
			return 1
		fi
		if [[ $sys == relay ]] && ! relay_start "$n"; then
			return 1
		fi
		[[ $sys == relay ]] && bpid=$BROKER_PID
		run_case "sn:flat:$sys:$n" "$bpid" --sn -p "$SN_PORT" --pubs 1 --subs "$n" \
			--size "$SIZE" --duration "$DUR" --drain "$DRAIN" -- "${sub[@]}" -- "${pub[@]}"
		run_case "sn:lat:$sys:$n" "$bpid" --sn -p "$SN_PORT" --pubs 1 --subs "$n" \
			--size "$SIZE" --duration "$DUR" --drain "$DRAIN" --rate "$LAT_RATE" -- \
			"${sub[@]}" -- "${pub[@]}"
		[[ $sys == limit ]] && limit_stop "$n"
		[[ $sys == relay ]] && broker_stop
	done
	return 0
}

LIMIT_PID=""
limit_start() { # N
	local mac i
	if [[ ! -x $MQTT_FAST_BENCH_LIMIT ]]; then
		unavailable limit "'$MQTT_FAST_BENCH_LIMIT' not built (needs -DMQTT_FAST_BPF=ON)"
		return 1
	fi
	mac=$(ip netns exec "$NS_SUB" cat "/sys/class/net/${VPFX}s0/address")
	ip netns exec "$NS_BRK" "$MQTT_FAST_BENCH_LIMIT" --in "${VPFX}p1" --out "${VPFX}s1" \
		--dst-ip "$SUB_IP" --dst-mac "$mac" --match-port "$SN_PORT" --base-port "$LIMIT_BASE" \
		--subs "$1" --timeout 600 >"$RESULTS/limit-$1.txt" 2>"$RESULTS/limit-$1.err" &
	LIMIT_PID=$!
	PIDS+=("$LIMIT_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q '^ready' "$RESULTS/limit-$1.txt" 2>/dev/null && return 0
		kill -0 "$LIMIT_PID" 2>/dev/null || break
		sleep 0.05
	done
	record_failure "sn:limit:$1" "the TC program did not attach: $(tail -n 1 "$RESULTS/limit-$1.err")"
	return 1
}

limit_stop() { # N
	kill "$LIMIT_PID" 2>/dev/null
	wait "$LIMIT_PID" 2>/dev/null
	say "    limit N=$1 kernel counters: $(grep -v ready "$RESULTS/limit-$1.txt" | tr '\n' ' ')"
}

relay_start() { # N
	local i ready=$WORK/relay.ready
	rm -f "$ready"
	ip netns exec "$NS_BRK" "$MQTT_FAST_BENCH" --role relay --sn --bind "$BRK_PUB_IP" \
		-p "$SN_PORT" -h "$SUB_IP" --subs "$1" --sn-port-base "$LIMIT_BASE" --duration 300 \
		--ready-file "$ready" 2>"$RESULTS/relay-$1.err" &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	for ((i = 0; i < 100; i++)); do
		[[ -e $ready ]] && return 0
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	record_failure "sn:relay:$1" "the relay did not start: $(tail -n 1 "$RESULTS/relay-$1.err")"
	return 1
}

# Kernel copies the fast path made so far: the "clones" line of `mqtt-fast-ctl stats`
# ("clones N packets M bytes"); empty when the control socket does not answer.
fastpath_clones() {
	ip netns exec "$NS_BRK" "$MQTT_FAST_CTL" -s "$WORK/ctl.sock" stats 2>/dev/null |
		awk '$1 == "clones" { print $2; exit }'
}

scenario_sn() {
	local conf=$WORK/sn.conf c0 c1 f
	say "== MQTT-SN QoS 0 fan-out (N = ${COUNTS[*]})"
	mqtt_fast_conf "$conf"
	if broker_start mqtt-fast "$conf"; then
		sn_cases userspace "$BROKER_PID" 0
	else
		record_failure sn:userspace "mqtt-fast did not start: $(tail -n 1 "$BROKER_LOG")"
	fi
	broker_stop

	# The fast path: the broker's own directives (issue 6). Until that work is merged the
	# broker refuses them, and the column says why instead of showing a figure.
	mqtt_fast_conf "$conf" "fastpath_interface ${VPFX}p1" "fastpath_interface ${VPFX}s1" \
		"fastpath_mode auto" "fastpath bench/#" "control_socket $WORK/ctl.sock"
	if ! broker_start fastpath "$conf"; then
		unavailable fastpath "mqtt-fast refused the fast-path configuration: $(grep -v '^$' \
			"$BROKER_LOG" | tail -n 1)"
	elif [[ ! -x $MQTT_FAST_CTL ]]; then
		unavailable fastpath "mqtt-fast-ctl not built: the kernel counters cannot prove the fast path served the run"
	else
		c0=$(fastpath_clones)
		sn_cases fastpath "$BROKER_PID" 0
		c1=$(fastpath_clones)
		if [[ -z $c1 || ${c1:-0} -le ${c0:-0} ]]; then
			# The broker says why it fell back to userspace, if it did.
			local why
			why=$(grep -m 1 'fast path unavailable' "$BROKER_LOG")
			unavailable fastpath "mqtt-fast-ctl stats shows no kernel clones (${c0:-?} -> ${c1:-?}): the runs went through userspace${why:+ ($why)}"
			for f in "$RESULTS"/sn_*_fastpath_*.json; do
				[[ -e $f ]] && mv "$f" "$f.unverified"
			done
		else
			say "    fast path kernel clones: $c0 -> $c1"
		fi
	fi
	broker_stop

	sn_cases relay - 1
	sn_cases limit - 1
}

# ---- scenario 2: MQTT over TCP ----
tcp_cases() { # SYSTEM
	local sys=$1 q n sub=(-h "$BRK_SUB_IP" --bind "$SUB_IP") pub=(-h "$BRK_PUB_IP" --bind "$PUB_IP")
	for q in 0 1; do
		for n in "${COUNTS[@]}"; do
			run_case "tcp:out:q$q:$sys:$n" "$BROKER_PID" --mqtt -p "$MQTT_PORT" -q "$q" \
				--pubs 1 --subs "$n" --size "$SIZE" --duration "$DUR" --drain "$DRAIN" -- \
				"${sub[@]}" -- "${pub[@]}"
		done
		run_case "tcp:in:q$q:$sys:$FANIN" "$BROKER_PID" --mqtt -p "$MQTT_PORT" -q "$q" \
			--pubs "$FANIN" --subs 1 --size "$SIZE" --duration "$DUR" --drain "$DRAIN" -- \
			"${sub[@]}" -- "${pub[@]}"
	done
	for n in "${COUNTS[@]}"; do
		run_case "tcp:lat:q0:$sys:$n" "$BROKER_PID" --mqtt -p "$MQTT_PORT" -q 0 --pubs 1 \
			--subs "$n" --size "$SIZE" --duration "$DUR" --drain "$DRAIN" --rate "$LAT_RATE" \
			-- "${sub[@]}" -- "${pub[@]}"
	done
}

scenario_tcp() {
	local sys conf
	say "== MQTT over TCP, QoS 0 and 1, fan-out 1 -> ${COUNTS[*]}, fan-in $FANIN -> 1"
	for sys in mqtt-fast mosquitto; do
		conf=$WORK/$sys-tcp.conf
		if [[ $sys == mosquitto ]]; then mosquitto_conf "$conf"; else mqtt_fast_conf "$conf"; fi
		if broker_start "$sys" "$conf"; then
			tcp_cases "$sys"
		else
			record_failure "tcp:$sys" "$sys did not start: $(tail -n 1 "$BROKER_LOG")"
		fi
		broker_stop
	done
}

# ---- scenario 3: idle connections ----
scenario_idle() {
	local sys conf
	say "== $IDLE idle MQTT connections"
	for sys in mqtt-fast mosquitto; do
		conf=$WORK/$sys-idle.conf
		if [[ $sys == mosquitto ]]; then mosquitto_conf "$conf"; else mqtt_fast_conf "$conf"; fi
		if ! broker_start "$sys" "$conf"; then
			record_failure "idle:$sys" "$sys did not start: $(tail -n 1 "$BROKER_LOG")"
			continue
		fi
		if timeout -k 2 120 ip netns exec "$NS_SUB" "$MQTT_FAST_BENCH" --role idle --mqtt \
			-h "$BRK_SUB_IP" -p "$MQTT_PORT" --bind "$SUB_IP" --conns "$IDLE" --hold "$HOLD" \
			--broker-pid "$BROKER_PID" --json --label "idle:$sys:$IDLE" \
			>"$RESULTS/idle_$sys.json" 2>"$RESULTS/idle_$sys.err"; then
			say "  idle:$sys $(grep -oE '"conns": [0-9]+|"rss_per_conn_bytes": [0-9.]+' \
				"$RESULTS/idle_$sys.json" | tr '\n' ' ')"
		else
			rm -f "$RESULTS/idle_$sys.json"
			record_failure "idle:$sys" "$(tail -n 1 "$RESULTS/idle_$sys.err")"
		fi
		broker_stop
	done
}

# ---- smoke only: MQTT over TLS keeps working in the tool ----
scenario_tls() {
	local conf=$WORK/tls.conf dir=$WORK/tls pub sub
	say "== MQTT over TLS (smoke)"
	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
		-days 1 -subj "/CN=bench" -addext "subjectAltName=IP:$BRK_PUB_IP,IP:$BRK_SUB_IP" \
		2>/dev/null || { record_failure tls "openssl cannot make a test certificate"; return; }
	mqtt_fast_conf "$conf" "listener 8883" "certfile $dir/cert.pem" "keyfile $dir/key.pem"
	if broker_start mqtt-fast "$conf"; then
		sub=(-h "$BRK_SUB_IP" --bind "$SUB_IP") pub=(-h "$BRK_PUB_IP" --bind "$PUB_IP")
		run_case "tls:out:q1:mqtt-fast:${COUNTS[0]}" "$BROKER_PID" --mqtt -p 8883 \
			--cafile "$dir/cert.pem" -V 5 -q 1 --pubs 1 --subs "${COUNTS[0]}" --size "$SIZE" \
			--duration "$DUR" --drain "$DRAIN" -- "${sub[@]}" -- "${pub[@]}"
	else
		record_failure tls "mqtt-fast did not start: $(tail -n 1 "$BROKER_LOG")"
	fi
	broker_stop
}

# ---- the run ----
# Every idle connection is a descriptor in the client and one in the broker (both inherit this).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" ||
	die "cannot raise RLIMIT_NOFILE"
(($(ulimit -n) >= IDLE + 1000)) ||
	die "RLIMIT_NOFILE is $(ulimit -n) (hard limit): $IDLE idle connections need $((IDLE + 1000))"
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
T0=$(date +%s)
topology_up
scenario_sn
scenario_tcp
scenario_idle
((SMOKE)) && scenario_tls
T1=$(date +%s)

# What the generator prints about the run: the command, the machine, the date.
{
	printf '{"command": "tests/bench/run.sh%s", "date": "%s", "seconds": %d,\n' \
		"$( ((SMOKE)) && echo ' --smoke')" "$START" $((T1 - T0))
	printf ' "kernel": "%s", "cpu": "%s", "cpus": %d, "mem_kb": %d,\n' "$(uname -srm)" \
		"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr -s ' ')" \
		"$(nproc)" "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
	printf ' "mosquitto": "%s", "mqtt_fast": "%s", "smoke": %s,\n' \
		"$(mosquitto -h 2>/dev/null | head -n 1 | tr -d '"')" \
		"$(git -C "$SRC" describe --always --dirty 2>/dev/null || echo unknown)" \
		"$( ((SMOKE)) && echo true || echo false)"
	printf ' "duration_s": %s, "drain_s": %s, "latency_rate": %s, "size": %s, "counts": [%s], "fanin": %s, "idle": %s}\n' \
		"$DUR" "$DRAIN" "$LAT_RATE" "$SIZE" "$(IFS=,; echo "${COUNTS[*]}")" "$FANIN" "$IDLE"
} >"$RESULTS/meta.json"

gen=(python3 "$SRC/tests/bench/report.py" --results "$RESULTS")
if ((SMOKE)); then
	gen+=(--markdown "$RESULTS/BENCHMARKS.md" --plots "$RESULTS/plots" --check)
elif ((DOCS)); then
	gen+=(--markdown "$SRC/BENCHMARKS.md" --plots "$SRC/docs/bench")
fi
"${gen[@]}" || die "the report generator failed"
say "run.sh: $((T1 - T0)) s, results in $RESULTS"
((FAILURES == 0)) || die "$FAILURES case(s) failed (see $RESULTS/failures.txt)"
