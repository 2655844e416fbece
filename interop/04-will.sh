#!/usr/bin/env bash
# 04-will: Will messages - published when the client vanishes (kill -9 of mosquitto_sub), on
# keep-alive timeout and on a protocol error; not published after a normal DISCONNECT; kept by
# MQTT 5 DISCONNECT 0x04; retained wills; MQTT 5 Will Delay Interval (raw CONNECT bytes).
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 4)
start_broker "$PORT"

FMT='%r|%q|%t|%p'

# Starts a watcher on the will topic expecting N messages; sets W_PID, W_OUT.
watch_will() { # topic count
	sub_start "w04-${1//\//-}" -q 1 -t "$1" -F "$FMT" -C "$2"
	W_PID=$SUB_PID W_OUT=$SUB_OUT
}

kill9_publishes_will() { # -V value
	local v=$1 t=04/will/$1
	watch_will "$t" 1
	sub_start "victim-$v" -V "$v" -t 04/idle --will-topic "$t" --will-payload "gone $v" --will-qos 1
	kill9_sub "$SUB_PID"
	# [MQTT-3.1.2-8]: the will is published when the connection closes without DISCONNECT.
	sub_collect "$W_PID" "$W_OUT"
	assert_eq "0|1|$t|gone $v" "$SUB_RESULT" "will of a killed $v client"
}

clean_disconnect_no_will() { # -V value
	local v=$1 t=04/nowill/$1 mark
	watch_will "$t" 1
	mark=$(($(log_mark) + 1))
	# -E: subscribe, then DISCONNECT normally; the will is discarded [MQTT-3.1.2-10].
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -V "$v" -i "clean-$v" -E -t 04/idle \
		--will-topic "$t" --will-payload "must not appear" >/dev/null 2>&1 ||
		fail "mosquitto_sub -E failed"
	expect_line "$BROKER_LOG" "\[clean-$v [^]]*\] disconnected: client sent DISCONNECT" 5 "$mark"
	pub -q 1 -t "$t" -m marker
	sub_collect "$W_PID" "$W_OUT"
	assert_eq "0|1|$t|marker" "$SUB_RESULT" "first message on the will topic after a normal DISCONNECT"
}

retained_will() {
	local t=04/will/retained
	watch_will "$t" 1
	sub_start victim-ret -t 04/idle --will-topic "$t" --will-payload dead --will-retain --will-qos 2
	kill9_sub "$SUB_PID"
	sub_collect "$W_PID" "$W_OUT"
	assert_eq "0|1|$t|dead" "$SUB_RESULT" "live delivery of a retained will"
	sub_start w04-later -q 2 -t "$t" -F "$FMT" -C 1
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "1|2|$t|dead" "$SUB_RESULT" "retained will to a later subscriber"
	pub -r -n -t "$t"
}

# Will fields for mk_connect: [props (5.0)] topic payload.
will_payload() { # version topic payload [will props hex]
	local props=""
	[[ $1 == 5 ]] && props="$(hex_varint "$(hex_count "${4:-}")") ${4:-} "
	echo "$props$(mqtt_str "$2") $(mqtt_str "$3")"
}

keepalive_timeout_will() {
	local t=04/will/keepalive
	watch_will "$t" 1
	# Keep alive 1 s, Will QoS 1, then silence: closed after 1.5 s, will published.
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 ka-will 0e 1 "" "$(will_payload 4 "$t" timeout)")"
	raw_expect "$RAW_FD" "20 02 00 00" "CONNACK"
	sub_collect "$W_PID" "$W_OUT" 6
	assert_eq "0|1|$t|timeout" "$SUB_RESULT" "will after a keep-alive timeout"
	raw_expect_eof "$RAW_FD" "connection after the keep-alive timeout"
}

protocol_error_will() {
	local t=04/will/protoerr
	watch_will "$t" 1
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 pe-will 0e 60 "" "$(will_payload 5 "$t" broken)")"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK"
	raw_send "$RAW_FD" "$(mk_packet 36 "$(mqtt_str x) 00 01 00")" # PUBLISH QoS 3
	raw_expect_reason "$RAW_FD" e0 81 "DISCONNECT 0x81 for a PUBLISH with QoS 3"
	sub_collect "$W_PID" "$W_OUT"
	assert_eq "0|1|$t|broken" "$SUB_RESULT" "will after a protocol error closed the connection"
}

disconnect_with_will_v5() {
	local t=04/will/dww
	watch_will "$t" 1
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 dww 0e 60 "" "$(will_payload 5 "$t" asked)")"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK"
	# DISCONNECT 0x04 Disconnect with Will Message keeps the will [MQTT-3.14.4-3].
	raw_send "$RAW_FD" "e0 01 04"
	raw_expect_eof "$RAW_FD" "after DISCONNECT 0x04"
	sub_collect "$W_PID" "$W_OUT"
	assert_eq "0|1|$t|asked" "$SUB_RESULT" "will after DISCONNECT with reason 0x04"
}

will_delay_v5() {
	local t=04/will/delay t0 t1 elapsed
	watch_will "$t" 1
	# Session Expiry 30 s, Will Delay Interval 2 s (property 0x18) [MQTT-3.1.3-9].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 delayed 0e 60 "11 00 00 00 1e" \
		"$(will_payload 5 "$t" late "18 00 00 00 02")")"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK"
	t0=$(now_ms)
	raw_close "$RAW_FD"
	wait_pid "$W_PID" 8 || fail "no delayed will within 8 s"
	t1=$(now_ms)
	elapsed=$((t1 - t0))
	assert_eq "0|1|$t|late" "$(cat "$W_OUT")" "the delayed will"
	((elapsed >= 1900)) || fail "will published after $elapsed ms, before its 2 s delay"
	((elapsed <= 5000)) || fail "will published after $elapsed ms, long after its 2 s delay"
	note "delayed will after $elapsed ms"
}

will_delay_cancelled_v5() {
	local t=04/will/cancel
	watch_will "$t" 1
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 comeback 0e 60 "11 00 00 00 1e" \
		"$(will_payload 5 "$t" never "18 00 00 00 01")")"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK"
	raw_close "$RAW_FD"
	# Back within the delay, without Clean Start: the will is not published [MQTT-3.1.3-9].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 comeback 00 60 "11 00 00 00 1e")"
	raw_expect "$RAW_FD" "20 09 01 00 06 21 00 14 22 00 0a" "CONNACK with Session Present"
	# Wait past the 1 s delay (the broker checks delays once a second), then a marker.
	sleep 2.5
	pub -q 1 -t "$t" -m marker
	sub_collect "$W_PID" "$W_OUT"
	assert_eq "0|1|$t|marker" "$SUB_RESULT" "no will after reconnecting within the delay"
	raw_send "$RAW_FD" "e0 00"
	raw_close "$RAW_FD"
}

for v in mqttv31 mqttv311 mqttv5; do
	run_case "kill -9: will published ($v)" kill9_publishes_will "$v"
	run_case "normal DISCONNECT: no will ($v)" clean_disconnect_no_will "$v"
done
run_case "retained will" retained_will
run_case "will on keep-alive timeout (raw 3.1.1)" keepalive_timeout_will
run_case "will on protocol error (raw 5.0)" protocol_error_will
run_case "MQTT 5 DISCONNECT 0x04 keeps the will (raw)" disconnect_with_will_v5
run_case "MQTT 5 Will Delay Interval 2 s (raw)" will_delay_v5
run_case "MQTT 5 delayed will cancelled by reconnecting (raw)" will_delay_cancelled_v5
finish
