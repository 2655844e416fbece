#!/usr/bin/env bash
# 05-persistent-session: sessions that outlive their connection - QoS 1/2 messages published
# while the client is away are delivered, in order, when it comes back with the same id and
# clean session off (mosquitto_sub -c -i ID -q 1); QoS 0 is not queued; Session Present;
# Clean Session / Clean Start discards the session; MQTT 5 Session Expiry; max_queued_messages.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 5)
start_broker "$PORT"

FMT='%q|%t|%p'

# Creates the persistent session ID subscribed to TOPIC at QoS Q, then disconnects normally.
make_session() { # -V value, id, topic, qos
	local mark
	mark=$(($(log_mark) + 1))
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -V "$1" -c -i "$2" -q "$4" -t "$3" -E \
		>/dev/null 2>"$IOP_TMP/$2.make.err" || fail "mosquitto_sub -c -E for $2 failed"
	expect_line "$BROKER_LOG" "\[$2 [^]]*\] disconnected: client sent DISCONNECT" 5 "$mark"
}

offline_queue() { # -V value
	local v=$1 id=p05-$1 t=05/$1/q
	make_session "$v" "$id" "$t" 2
	seq -f "m%g" 1 10 | pub -V "$v" -q 1 -t "$t" -l
	pub -V "$v" -q 0 -t "$t" -m "qos0 not queued" # [MQTT-3.1.2-5]: QoS 0 may be dropped
	pub -V "$v" -q 2 -t "$t" -m "qos2 last"
	sub_start "$id" -V "$v" -c -q 2 -t "$t" -F "$FMT" -C 11
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_lines "$(seq -f "1|$t|m%g" 1 10)
2|$t|qos2 last" "$SUB_RESULT" "messages queued for $id while it was offline, in order"
	# Delivered once: nothing is left for the next connection.
	sub_start "$id" -V "$v" -c -q 2 -t "$t" -F "$FMT" -C 1
	pub -V "$v" -q 1 -t "$t" -m fresh
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "1|$t|fresh" "$SUB_RESULT" "first message of the third connection"
}

# Many messages while offline: they leave through the in-flight window (20) in order.
offline_many() {
	local id=p05-many t=05/many
	make_session mqttv311 "$id" "$t" 1
	seq 1 200 | pub -q 1 -t "$t" -l
	sub_start "$id" -c -q 1 -t "$t" -C 200
	sub_collect "$SUB_PID" "$SUB_OUT" 10
	assert_lines "$(seq 1 200)" "$SUB_RESULT" "200 queued QoS 1 messages in order"
}

session_present() {
	# 3.1.1: Session Present reflects a stored session [MQTT-3.2.2-2], [MQTT-3.2.2-3]; Clean
	# Session 1 always answers 0 and discards it [MQTT-3.2.2-1], [MQTT-3.1.2-6].
	local c
	for c in "00:20 02 00 00:first connection" "00:20 02 01 00:resumed" \
		"02:20 02 00 00:clean session" "00:20 02 00 00:after the clean session"; do
		IFS=: read -r flags want what <<<"$c"
		raw_open
		raw_send "$RAW_FD" "$(mk_connect 4 p05-present "$flags")"
		raw_expect "$RAW_FD" "$want" "CONNACK, $what"
		raw_send "$RAW_FD" "e0 00"
		raw_expect_eof "$RAW_FD" "after DISCONNECT"
	done
}

clean_discards() { # -V value
	local v=$1 id=p05-clean-$1 t=05/clean/$1
	make_session "$v" "$id" "$t" 1
	pub -V "$v" -q 1 -t "$t" -m "queued then discarded"
	# A clean connection with the same id drops the session and its queue.
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -V "$v" -i "$id" -q 1 -t 05/other -E \
		>/dev/null 2>&1 || fail "clean mosquitto_sub -E failed"
	# The subscription went with it: publish, then resubscribe and check the first message.
	pub -V "$v" -q 1 -t "$t" -m "published while not subscribed"
	sub_start "$id" -V "$v" -c -q 1 -t "$t" -F "$FMT" -C 1
	pub -V "$v" -q 1 -t "$t" -m marker
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "1|$t|marker" "$SUB_RESULT" "first message after the session was cleaned ($v)"
}

session_expiry_v5() {
	# Session Expiry Interval 1 s (property 0x11): gone after it elapsed [MQTT-3.1.2-23].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 p05-exp 00 60 "11 00 00 00 01")"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK, new session"
	raw_send "$RAW_FD" "e0 00"
	raw_expect_eof "$RAW_FD" "after DISCONNECT"
	expect_line "$BROKER_LOG" "\[p05-exp [^]]*\] session expired" 5
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 p05-exp 00 60 "11 00 00 00 3c")"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK after the session expired (Session Present 0)"
	raw_send "$RAW_FD" "e0 00"
	raw_expect_eof "$RAW_FD" "after DISCONNECT"
	# Still there within its 60 s.
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 p05-exp 00 60 "11 00 00 00 3c")"
	raw_expect "$RAW_FD" "20 09 01 00 06 21 00 14 22 00 0a" "CONNACK with Session Present 1"
	raw_send "$RAW_FD" "e0 00"
	# A 5.0 session without Session Expiry ends with the connection [MQTT-3.1.2-23 (0 = end)].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 p05-exp0 00 60)"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK"
	raw_send "$RAW_FD" "e0 00"
	raw_expect_eof "$RAW_FD" "after DISCONNECT"
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 p05-exp0 00 60)"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK after a session without expiry (not present)"
	raw_close "$RAW_FD"
}

queue_limit() {
	start_broker $((PORT + 1)) "max_queued_messages 5"
	local id=p05-limit t=05/limit
	make_session mqttv311 "$id" "$t" 1
	seq -f "m%g" 1 8 | pub -q 1 -t "$t" -l
	sub_start "$id" -c -q 1 -t "$t" -C 6
	pub -q 1 -t "$t" -m marker
	sub_collect "$SUB_PID" "$SUB_OUT"
	# mosquitto keeps the oldest and drops what does not fit.
	assert_lines "$(seq -f "m%g" 1 5)
marker" "$SUB_RESULT" "max_queued_messages 5: the first 5 of 8 queued, then live traffic"
}

for v in mqttv311 mqttv5; do
	run_case "QoS 1/2 queued while offline, delivered in order ($v)" offline_queue "$v"
done
run_case "200 queued QoS 1 messages in order" offline_many
run_case "Session Present flag (raw 3.1.1)" session_present
for v in mqttv311 mqttv5; do
	run_case "clean session discards the stored session ($v)" clean_discards "$v"
done
run_case "MQTT 5 Session Expiry Interval (raw)" session_expiry_v5
run_case "max_queued_messages bounds the offline queue" queue_limit
finish
