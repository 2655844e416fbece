#!/usr/bin/env bash
# 18-stalled-subscriber: subscribers that stop reading cannot exhaust the broker. Three QoS 1
# subscribers and one QoS 0 subscriber connect and never read again while a publisher sends
# 125 MiB of QoS 1 messages on their topic. Their queues are bounded by max_queued_bytes (per
# client) and memory_limit (all queues together), their output by the connection's soft output
# limit. The broker's peak RSS (VmHWM) must grow by less than the sum of those bounds plus a
# fixed margin - far below the 125 MiB the queues would hold without them - and a healthy
# subscriber on the same topic still gets every message.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 18)
SIZE=16384
N=8000 # 125 MiB
PY=/usr/bin/python3 # Debian's, with python3-paho-mqtt
# ASan keeps freed blocks in a quarantine (256 MiB by default): the peak RSS would measure it.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:malloc_context_size=2

# An AddressSanitizer build pads every allocation with redzones and shadow memory: its bounds
# are doubled (still far below what unbounded queues would take).
RSS_FACTOR=1
grep -q -a AddressSanitizer "$MQTT_FAST_BIN" && RSS_FACTOR=2

kib_of() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# Connects 3 QoS 1 and 1 QoS 0 subscribers to 18/flood that never read after their SUBACK
# (4 KiB receive buffers so the broker's output backs up at once). Bounded: they exit after
# 60 s.
start_stalled() {
	timeout -k 1 60 "$PY" - "$PORT" >"$IOP_TMP/stalled.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
def s(b): return len(b).to_bytes(2, "big") + b
socks = []
for i, qos in enumerate((1, 1, 1, 0)):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(("127.0.0.1", port))
    cid = ("c18-stalled-%d" % i).encode()
    body = s(b"MQTT") + bytes([4, 2, 0, 60]) + s(cid)
    c.sendall(bytes([0x10, len(body)]) + body)
    assert c.recv(4) == b"\x20\x02\x00\x00", "CONNACK"
    body = b"\x00\x01" + s(b"18/flood") + bytes([qos])
    c.sendall(bytes([0x82, len(body)]) + body)
    assert c.recv(5) == bytes([0x90, 3, 0, 1, qos]), "SUBACK"
    socks.append(c)
print("stalled", flush=True)
time.sleep(60)
PY
	CASE_PIDS+=($!)
	wait_for_line "$IOP_TMP/stalled.out" '^stalled$' 10 ||
		fail "stalled clients: $(cat "$IOP_TMP/stalled.out")"
}

# Publishes N QoS 1 messages of SIZE bytes on 18/flood, at most RATE per second (0: flat
# out), 40 in flight, each acknowledged.
flood() { # RATE
	timeout -k 1 90 "$PY" - "$PORT" "$N" "$SIZE" "$1" <<'PY' || fail "publisher failed"
import sys, time, paho.mqtt.client as mqtt
port, n, size, rate = (int(a) for a in sys.argv[1:5])
c = mqtt.Client(client_id="c18-pub", protocol=mqtt.MQTTv311)
c.max_inflight_messages_set(40)
c.connect("127.0.0.1", port)
c.loop_start()
pending, start = [], time.monotonic()
for i in range(n):
    if rate:
        ahead = start + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    pending.append(c.publish("18/flood", bytes(size), qos=1))
    while len(pending) > 40:
        pending[0].wait_for_publish(30)
        assert pending.pop(0).is_published(), "PUBACK missing"
for p in pending:
    p.wait_for_publish(30)
    assert p.is_published(), "PUBACK missing"
c.disconnect()
c.loop_stop()
PY
}

# Peak RSS growth since BASE (KiB) in MiB must stay under BOUND MiB.
assert_rss_growth() { # BASE BOUND
	local peak growth bound=$(($2 * RSS_FACTOR))
	peak=$(kib_of "$BROKER_PID" VmHWM)
	growth=$(((peak - $1) / 1024))
	note "broker RSS: $1 KiB before, peak $peak KiB: +$growth MiB (bound $bound MiB, $((N * SIZE / 1048576)) MiB published)"
	assert_le "$growth" "$bound" "peak RSS growth in MiB while 4 subscribers stall"
}

per_client_bound() {
	start_broker "$PORT" "max_queued_messages 0" "max_queued_bytes 4000000"
	start_stalled
	SUB_TIMEOUT=60 sub_start c18-healthy -t 18/flood -q 1 -C "$N" -F '%l'
	local healthy=$SUB_PID healthy_out=$SUB_OUT base
	base=$(kib_of "$BROKER_PID" VmRSS)
	# 1000 msgs/s: the healthy subscriber has a 4 MB (250 messages, 250 ms) queue to absorb
	# a stall of its own on a loaded machine.
	flood 1000
	sub_collect "$healthy" "$healthy_out" 60
	assert_eq "$N" "$(grep -c "^$SIZE\$" "$healthy_out")" "messages the healthy subscriber got"
	assert_broker_alive
	# 3 QoS 1 queues of 4 MB and windows of 20 x 16 KiB, the QoS 0 connection's 8 MiB soft
	# output limit, the healthy subscriber's queue: ~25 MiB, plus a 12 MiB margin.
	assert_rss_growth "$base" 37
	expect_line "$BROKER_LOG" '\[c18-stalled-1 -\] queue full \(max_queued_messages 0 / max_queued_bytes 4000000' 5
}

total_bound() {
	start_broker "$PORT" "max_queued_messages 0" "max_queued_bytes 0" "memory_limit 2000000" \
		"sys_interval 1"
	start_stalled
	sub_start c18-sys -t '$SYS/broker/store/messages/bytes' -v
	local sys_out=$SUB_OUT base max
	base=$(kib_of "$BROKER_PID" VmRSS)
	flood 0
	assert_broker_alive
	# memory_limit 2 MB, the QoS 1 windows, the QoS 0 connection's 8 MiB: ~11 MiB + 12.
	assert_rss_growth "$base" 23
	expect_line "$BROKER_LOG" 'queue full .*memory_limit 2000000' 5
	# The queued-bytes count went up, and never above memory_limit.
	wait_until 5 grep -q '^\$SYS/broker/store/messages/bytes [1-9]' "$sys_out" ||
		fail "\$SYS/broker/store/messages/bytes never moved: $(tail -3 "$sys_out")"
	max=$(awk '{ if ($2 > m) m = $2 } END { print m + 0 }' "$sys_out")
	assert_le "$max" 2000000 "\$SYS/broker/store/messages/bytes (max seen)"
}

run_case "max_queued_bytes: 4 stalled subscribers under a 125 MiB flood, RSS bounded, a healthy one gets everything" per_client_bound
run_case "memory_limit: every queue together stays under it, RSS bounded" total_bound
finish
