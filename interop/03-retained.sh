#!/usr/bin/env bash
# 03-retained: retained messages - stored and sent with RETAIN=1 to later subscribers, RETAIN=0
# on live delivery, replaced, cleared by an empty retained publish, matched by wildcards at
# min(stored, granted) QoS; MQTT 5 Retain Handling 0/1/2 and Retain As Published (raw
# SUBSCRIBE bytes, since mosquitto_sub 2.0.11 has no option for them); retain_available false.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 3)
start_broker "$PORT"

FMT='%r|%q|%t|%p'

retained_basic() { # -V value
	local v=$1 t=03/$1/basic
	pub -V "$v" -q 1 -r -t "$t" -m keep
	sub_start "r03-$v" -V "$v" -q 1 -t "$t" -F "$FMT" -C 1
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "1|1|$t|keep" "$SUB_RESULT" "retained message to a later $v subscriber [MQTT-3.3.1-6]"
}

live_retain_flag() { # -V value
	local v=$1 t=03/$1/live
	sub_start "l03-$v" -V "$v" -q 1 -t "$t" -F "$FMT" -C 2
	pub -V "$v" -q 1 -r -t "$t" -m first
	pub -V "$v" -q 1 -t "$t" -m second
	sub_collect "$SUB_PID" "$SUB_OUT"
	# RETAIN is 0 towards an established subscription (3.1.1 [MQTT-3.3.1-9], 5.0
	# [MQTT-3.3.1-12] with Retain As Published 0).
	assert_lines "0|1|$t|first
0|1|$t|second" "$SUB_RESULT" "live delivery of a retained publish ($v)"
}

replace_and_clear() {
	local t=03/rc
	pub -q 1 -r -t "$t" -m v1
	pub -q 1 -r -t "$t" -m v2
	# Only the latest retained message is kept [MQTT-3.3.1-5].
	sub_start r03-replace -q 1 -t "$t" -F "$FMT" -C 2
	pub -q 1 -t "$t" -m marker
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_lines "1|1|$t|v2
0|1|$t|marker" "$SUB_RESULT" "the replaced retained message"

	# An empty retained publish clears it [MQTT-3.3.1-10] and is delivered to current
	# subscribers as a normal message [MQTT-3.3.1-11 (3.1.1)].
	sub_start r03-clear-live -q 1 -t "$t" -F "$FMT" -C 3
	local live_pid=$SUB_PID live_out=$SUB_OUT
	pub -q 1 -r -n -t "$t"
	sub_start r03-clear-later -q 1 -t "$t" -F "$FMT" -C 1
	local later_pid=$SUB_PID later_out=$SUB_OUT
	pub -q 1 -t "$t" -m marker2
	sub_collect "$live_pid" "$live_out"
	assert_lines "1|1|$t|v2
0|1|$t|
0|1|$t|marker2" "$SUB_RESULT" "the clearing publish at an existing subscriber"
	sub_collect "$later_pid" "$later_out"
	assert_eq "0|1|$t|marker2" "$SUB_RESULT" "nothing retained after clearing"
}

wildcards_and_qos() {
	pub -q 0 -r -t 03/w/a -m qos0
	pub -q 1 -r -t 03/w/b -m qos1
	pub -q 2 -r -t 03/w/c/d -m qos2
	local sq exp
	for sq in 0 1 2; do
		sub_start "r03-w$sq" -q "$sq" -t '03/w/#' -F "$FMT" -C 3
		sub_collect "$SUB_PID" "$SUB_OUT"
		exp="1|0|03/w/a|qos0
1|$((sq < 1 ? sq : 1))|03/w/b|qos1
1|$((sq < 2 ? sq : 2))|03/w/c/d|qos2"
		assert_lines "$exp" "$(LC_ALL=C sort <<<"$SUB_RESULT")" \
			"retained messages under 03/w/# at min(stored QoS, granted QoS $sq)"
	done
	sub_start r03-plus -t '03/w/+' -F "$FMT" -C 3
	pub -t 03/w/x/y -m not-matching
	pub -t 03/w/end -m end
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_lines "0|0|03/w/end|end
1|0|03/w/a|qos0
1|0|03/w/b|qos1" "$(LC_ALL=C sort <<<"$SUB_RESULT")" "retained messages under 03/w/+"
}

# Raw MQTT 5 SUBSCRIBE of one filter with options byte OPTS (packet id PID); expects the SUBACK.
raw_sub5() { # FD PID FILTER OPTS GRANTED
	raw_send "$1" "$(mk_packet 82 "$(hex_u16 "$2") 00 $(mqtt_str "$3") $4")"
	raw_expect "$1" "90 04 $(hex_u16 "$2") 00 $5" "SUBACK for $3 (options $4)"
}

retain_handling_v5() {
	local t=03/rh pubhex
	pub -q 0 -r -t "$t" -m kept
	pubhex=$(mk_packet 31 "$(mqtt_str "$t") 00 $(hex_of kept)")
	raw_session 5 r03-rh
	# Retain Handling 0: sent at every subscribe [MQTT-3.3.1-9].
	raw_sub5 "$RAW_FD" 1 "$t" 00 00
	raw_expect "$RAW_FD" "$pubhex" "retained message after subscribing with Retain Handling 0"
	raw_sub5 "$RAW_FD" 2 "$t" 00 00
	raw_expect "$RAW_FD" "$pubhex" "retained message after re-subscribing with Retain Handling 0"
	# Retain Handling 1: only when the subscription did not exist [MQTT-3.3.1-10].
	raw_sub5 "$RAW_FD" 3 "$t" 10 00
	raw_expect_silence "$RAW_FD" 0.5 "re-subscribing with Retain Handling 1"
	raw_sub5 "$RAW_FD" 4 03/rh/# 10 00
	raw_expect "$RAW_FD" "$pubhex" "new subscription with Retain Handling 1"
	# Retain Handling 2: never [MQTT-3.3.1-11].
	raw_sub5 "$RAW_FD" 5 03/+ 20 00
	raw_expect_silence "$RAW_FD" 0.5 "new subscription with Retain Handling 2"
	raw_close "$RAW_FD"

	# Retain As Published: live delivery keeps RETAIN=1 [MQTT-3.3.1-13]; the flag is also
	# set on the retained copy sent at subscribe time.
	raw_session 5 r03-rap
	raw_sub5 "$RAW_FD" 1 03/rap 28 00 # RAP, Retain Handling 2
	pub -q 0 -r -t 03/rap -m asis
	raw_expect "$RAW_FD" "$(mk_packet 31 "$(mqtt_str 03/rap) 00 $(hex_of asis)")" \
		"live retained publish with Retain As Published"
	pub -q 0 -t 03/rap -m plain
	raw_expect "$RAW_FD" "$(mk_packet 30 "$(mqtt_str 03/rap) 00 $(hex_of plain)")" \
		"live non-retained publish with Retain As Published"
	raw_close "$RAW_FD"
	pub -r -n -t 03/rap
}

retain_unavailable() {
	start_broker $((PORT + 1)) "retain_available false"
	# MQTT 5: CONNACK says Retain Available 0 (0x25) [MQTT-3.2.2-13]; a retained PUBLISH is
	# answered with DISCONNECT 0x9A Retain not supported [MQTT-3.3.1-?, 5.0 §3.3.1.3].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 r03-noretain)"
	raw_expect "$RAW_FD" "20 0b 00 00 08 21 00 14 22 00 0a 25 00" "CONNACK with Retain Available 0"
	raw_send "$RAW_FD" "$(mk_packet 31 "$(mqtt_str 03/x) 00 $(hex_of r)")"
	raw_expect_reason "$RAW_FD" e0 9a "retained PUBLISH when retain_available is false"
	raw_expect_eof "$RAW_FD" "retained PUBLISH when retain_available is false"
	# A non-retained publish still flows.
	sub_start r03-nr-sub -t 03/x -C 1
	pub -t 03/x -m plain
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq plain "$SUB_RESULT" "non-retained publish with retain_available false"
}

for v in mqttv31 mqttv311 mqttv5; do
	run_case "retained message to a later subscriber ($v)" retained_basic "$v"
	run_case "RETAIN=0 on live delivery ($v)" live_retain_flag "$v"
done
run_case "replacing and clearing (empty payload, -r -n)" replace_and_clear
run_case "wildcard filters and QoS of retained messages" wildcards_and_qos
run_case "MQTT 5 Retain Handling 0/1/2 and Retain As Published (raw)" retain_handling_v5
run_case "retain_available false" retain_unavailable
finish
