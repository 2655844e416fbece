#!/usr/bin/env bash
# 43-websockets: MQTT over WebSockets (`protocol websockets`, subprotocol mqtt) against a real
# WebSocket MQTT client, Debian's python3-paho-mqtt with transport="websockets", next to
# mosquitto_pub/mosquitto_sub over plain TCP; over TLS too (wss, a test certificate made here).
#
# Checks: QoS 0 and 1 from mosquitto_pub (TCP) to a paho subscriber (WebSocket), and from a paho
# publisher (WebSocket) to mosquitto_sub (TCP); the same over TLS; a bad handshake gets an HTTP
# 400; plaintext MQTT on the WebSocket port is refused (400, closed, never a CONNACK); the
# broker keeps serving WebSocket and TCP clients afterwards.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 43) # plain MQTT over TCP
P_WS=$((PORT + 1))  # MQTT over WebSockets
P_WSS=$((PORT + 2)) # MQTT over WebSockets over TLS

# paho lives in Debian's python3, which may not be the first python3 on PATH.
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import paho.mqtt.client' 2>/dev/null; then
		PY=$p
		break
	fi
done
[[ -n $PY ]] || fail "python3-paho-mqtt not found (apt-get install python3-paho-mqtt)"
command -v openssl >/dev/null || fail "openssl not found"

PKI=$IOP_TMP/pki
mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$PKI/server.key" -out "$PKI/server.crt" 2>/dev/null || fail "openssl req"

# The WebSocket client: `sub ID TOPIC QOS COUNT` prints "topic payload qos" per message and
# exits after COUNT; `pub ID TOPIC QOS MESSAGE` publishes and waits for the acknowledgement.
cat >"$IOP_TMP/wsclient.py" <<'EOF'
import ssl, sys, threading
import paho.mqtt.client as mqtt

port, tls, mode, cid, topic, qos, arg = sys.argv[1:8]
done = threading.Event()
left = [int(arg)] if mode == "sub" else [0]

def on_connect(c, userdata, flags, rc):
    if rc != 0:
        print("connack", rc, file=sys.stderr)
        sys.exit(2)
    if mode == "sub":
        c.subscribe(topic, int(qos))

def on_message(c, userdata, m):
    print(m.topic, m.payload.decode(), m.qos, flush=True)
    left[0] -= 1
    if left[0] == 0:
        done.set()

c = mqtt.Client(client_id=cid, transport="websockets")
if tls != "-":
    c.tls_set(ca_certs=tls)
c.on_connect = on_connect
c.on_message = on_message
c.connect("127.0.0.1", int(port), keepalive=30)
c.loop_start()
if mode == "pub":
    info = c.publish(topic, arg, qos=int(qos))
    info.wait_for_publish(timeout=10)
    ok = info.is_published()
else:
    ok = done.wait(15)
c.disconnect()
c.loop_stop()
sys.exit(0 if ok else 1)
EOF

start_broker "$PORT" "listener $P_WS 127.0.0.1" "protocol websockets" \
	"listener $P_WSS 127.0.0.1" "protocol websockets" "certfile $PKI/server.crt" \
	"keyfile $PKI/server.key"

# ---- helpers ------------------------------------------------------------------------------

# A paho subscriber over WebSockets in the background; waits until it subscribed. Sets
# WS_PID and WS_OUT.
ws_sub_start() { # PORT CA|- ID TOPIC QOS COUNT
	local mark
	mark=$(($(log_mark) + 1))
	WS_OUT=$IOP_TMP/$3.out
	timeout -k 1 20 "$PY" "$IOP_TMP/wsclient.py" "$1" "$2" sub "$3" "$4" "$5" "$6" \
		>"$WS_OUT" 2>"$IOP_TMP/$3.err" &
	WS_PID=$!
	CASE_PIDS+=("$WS_PID")
	echo "$WS_PID" >>"$IOP_PIDFILE"
	wait_for_line "$BROKER_LOG" "\[$3 [^]]*\] subscribed to " "$IOP_WAIT" "$mark" || {
		cat "$IOP_TMP/$3.err" >&2
		fail "WebSocket subscriber $3 did not subscribe"
	}
}

ws_pub() { # PORT CA|- ID TOPIC QOS MESSAGE
	local out
	out=$(timeout -k 1 15 "$PY" "$IOP_TMP/wsclient.py" "$1" "$2" pub "$3" "$4" "$5" "$6" 2>&1) ||
		fail "WebSocket publish $3 failed: $out"
}

# Everything the broker sends on FD until it closes it.
read_all() { # FD
	timeout -k 1 "$IOP_WAIT" cat <&"$1" 2>/dev/null
}

# ---- cases --------------------------------------------------------------------------------

tcp_to_websocket() {
	local mark
	mark=$(($(log_mark) + 1))
	ws_sub_start "$P_WS" - ws-sub 'ws/#' 1 2
	local sub=$WS_PID out=$WS_OUT
	expect_line "$BROKER_LOG" "\[ws-sub 127\.0\.0\.1:[0-9]+\] connected: MQTT 3\.1\.1" 3 "$mark"
	pub -t ws/a -m zero -q 0
	pub -t ws/b -m one -q 1
	wait_pid "$sub" 10 || fail "WebSocket subscriber: $(cat "$IOP_TMP/ws-sub.err")"
	assert_lines $'ws/a zero 0\nws/b one 1' "$(cat "$out")" "messages over WebSocket"
}

websocket_to_tcp() {
	sub_start tcp-sub -t 'up/#' -C 2 -v -q 1
	local sub=$SUB_PID out=$SUB_OUT
	ws_pub "$P_WS" - ws-pub0 up/0 0 "qos zero"
	ws_pub "$P_WS" - ws-pub1 up/1 1 "qos one"
	sub_collect "$sub" "$out" 10
	assert_lines $'up/0 qos zero\nup/1 qos one' "$SUB_RESULT" "messages from WebSocket"
}

over_tls() {
	local mark big
	mark=$(($(log_mark) + 1))
	ws_sub_start "$P_WSS" "$PKI/server.crt" wss-sub 'sec/#' 1 2
	local wsub=$WS_PID wout=$WS_OUT
	expect_line "$BROKER_LOG" "\[- 127\.0\.0\.1:[0-9]+\] TLS established: TLSv1\.3" 3 "$mark"
	sub_start tls-tcp-sub -t 'sec/#' -C 2 -v
	local sub=$SUB_PID out=$SUB_OUT
	big=$(head -c 30000 /dev/zero | tr '\0' x) # frames with a 16-bit length
	ws_pub "$P_WSS" "$PKI/server.crt" wss-pub sec/1 1 "secure"
	pub -t sec/2 -m "$big" -q 1
	sub_collect "$sub" "$out" 10
	assert_lines $'sec/1 secure\nsec/2 '"$big" "$SUB_RESULT" "TCP subscriber"
	wait_pid "$wsub" 10 || fail "wss subscriber: $(cat "$IOP_TMP/wss-sub.err")"
	assert_lines $'sec/1 secure 1\nsec/2 '"$big"' 1' "$(cat "$wout")" "messages over wss"
}

bad_handshake() {
	local got mark
	mark=$(($(log_mark) + 1))
	raw_open "$P_WS"
	raw_send "$RAW_FD" "$(hex_of $'GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n')"
	got=$(read_all "$RAW_FD" | head -n 1 | tr -d '\r')
	raw_close "$RAW_FD"
	assert_eq "HTTP/1.1 400 Bad Request" "$got" "reply to a handshake without a key"
	expect_line "$BROKER_LOG" "disconnected: WebSocket handshake: bad Sec-WebSocket-Key" 3 \
		"$mark"
}

plaintext_refused() {
	local got out
	out=$(timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$P_WS" -t p/1 -m x 2>&1) &&
		fail "plaintext mosquitto_pub on the WebSocket port succeeded"
	raw_open "$P_WS"
	raw_send "$RAW_FD" "$(mk_connect 4 plain)"
	got=$(read_all "$RAW_FD" | head -n 1 | tr -d '\r')
	raw_close "$RAW_FD"
	assert_eq "HTTP/1.1 400 Bad Request" "$got" "reply to a raw CONNECT"
	assert_broker_alive
}

still_serving() {
	ws_sub_start "$P_WS" - ws-after 'after/#' 0 1
	local sub=$WS_PID out=$WS_OUT
	ws_pub "$P_WS" - ws-after-pub after/1 0 still
	wait_pid "$sub" 10 || fail "WebSocket subscriber after the bad input"
	assert_eq "after/1 still 0" "$(cat "$out")" "WebSocket after the bad input"
	pub -t after/2 -m tcp
	assert_broker_alive
}

run_case "QoS 0 and 1 from mosquitto_pub (TCP) to a paho WebSocket subscriber" tcp_to_websocket
run_case "QoS 0 and 1 from a paho WebSocket publisher to mosquitto_sub (TCP)" websocket_to_tcp
run_case "WebSockets over TLS: paho wss both ways with a TCP subscriber, 30 kB payload" over_tls
run_case "a handshake without Sec-WebSocket-Key gets HTTP 400 and is logged" bad_handshake
run_case "plaintext MQTT on the WebSocket port is refused with 400, never a CONNACK" \
	plaintext_refused
run_case "the broker keeps serving WebSocket and TCP clients" still_serving
finish
