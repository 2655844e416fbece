#!/usr/bin/env bash
# 07-keepalive: a client silent for 1.5 x its Keep Alive is disconnected (3.1.1: closed; 5.0:
# DISCONNECT 0x8D first), measured with a bounded wait; PINGREQ keeps a connection alive; Keep
# Alive 0 disables the check; max_keepalive (Server Keep Alive for 5.0, refusal for 3.1.1).
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 7)
start_broker "$PORT"

# Closed between 1.4 s (1.5 x 1 s, minus timer slack) and 3 s (slack for a loaded machine).
timeout_closes() { # version, DISCONNECT reason code expected before the close ("" = none)
	local t0 t1 ms
	raw_open
	raw_send "$RAW_FD" "$(mk_connect "$1" "k07-$1" 02 1)"
	raw_read_packet "$RAW_FD" || fail "no CONNACK"
	t0=$(now_ms)
	[[ -n $2 ]] && raw_expect_reason "$RAW_FD" e0 "$2" "DISCONNECT 0x8D Keep Alive timeout" \
		"keep alive" 4
	raw_expect_eof "$RAW_FD" "silent client with Keep Alive 1" 4
	t1=$(now_ms)
	ms=$((t1 - t0))
	note "closed after $ms ms"
	# [MQTT-3.1.2-24] (5.0: -22): one and a half times the Keep Alive.
	((ms >= 1400)) || fail "closed after $ms ms, before 1.5 x Keep Alive"
	((ms <= 3000)) || fail "closed after $ms ms, well after 1.5 x Keep Alive"
}

pings_keep_alive() {
	local i
	raw_session 4 k07-ping 02 1
	for ((i = 0; i < 6; i++)); do
		sleep 0.5 # the client's own rhythm: one PINGREQ every half Keep Alive
		raw_send "$RAW_FD" "c0 00" || fail "connection closed after $i PINGREQs"
		raw_expect "$RAW_FD" "d0 00" "PINGRESP $i"
	done
	# Any packet counts, not only PINGREQ [MQTT-3.1.2-23].
	for ((i = 0; i < 3; i++)); do
		sleep 0.5
		raw_send "$RAW_FD" "$(mk_packet 30 "$(mqtt_str 07/traffic) 78")" || fail "closed"
	done
	raw_send "$RAW_FD" "c0 00"
	raw_expect "$RAW_FD" "d0 00" "PINGRESP after 4.5 s of activity"
	raw_close "$RAW_FD"
}

keepalive_zero() {
	raw_session 4 k07-zero 02 0
	raw_expect_silence "$RAW_FD" 2.5 "Keep Alive 0: no timeout"
	raw_send "$RAW_FD" "c0 00"
	raw_expect "$RAW_FD" "d0 00" "PINGRESP after 2.5 s of silence"
	raw_close "$RAW_FD"
}

max_keepalive() {
	start_broker $((PORT + 1)) "max_keepalive 10"
	# 5.0: Server Keep Alive 10 (0x13) in the CONNACK [MQTT-3.2.2-21].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 k07-max5 02 60)"
	raw_expect "$RAW_FD" "20 0c 00 00 09 13 00 0a 21 00 14 22 00 0a" \
		"CONNACK with Server Keep Alive 10 for Keep Alive 60"
	raw_close "$RAW_FD"
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 k07-max5b 02 5)"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK for Keep Alive 5 (within max_keepalive)"
	raw_close "$RAW_FD"
	# 3.1.1 has no Server Keep Alive: mqtt-fast.conf documents "MQTT 3.1.1 clients are
	# disconnected" when they ask for more than max_keepalive (mosquitto 2.0 refuses them with
	# CONNACK 0x02).
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 k07-max4 02 60)"
	raw_read_packet "$RAW_FD" 2 || true
	[[ $RAW_PKT == "20 02 00 00" ]] &&
		fail "3.1.1 CONNECT with Keep Alive 60 > max_keepalive 10 accepted (CONNACK $RAW_PKT)"
	raw_expect_eof "$RAW_FD" "3.1.1 client asking for more than max_keepalive"
}

run_case "3.1.1 Keep Alive 1, silence: closed after 1.5 s" timeout_closes 4 ""
run_case "3.1 Keep Alive 1, silence: closed after 1.5 s" timeout_closes 3 ""
run_case "5.0 Keep Alive 1, silence: DISCONNECT 0x8D after 1.5 s" timeout_closes 5 8d
run_case "PINGREQ and other packets keep the connection" pings_keep_alive
run_case "Keep Alive 0 disables the timeout" keepalive_zero
run_case "max_keepalive 10" max_keepalive
finish
