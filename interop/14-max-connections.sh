#!/usr/bin/env bash
# 14-max-connections: a listener with max_connections 2 - the third TCP connection is closed at
# once and the refusal logged ("refused: max_connections 2 reached on port P"); after one of the
# two leaves, a new connection is accepted; connections that never sent CONNECT count too.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 14)
start_broker "$PORT" "max_connections 2"
# The readiness probe of start_broker was a connection: wait until the broker let it go.
expect_line "$BROKER_LOG" 'disconnected: closed before CONNECT'

refuse_third() {
	raw_session 4 c14-a
	local a=$RAW_FD
	raw_session 4 c14-b
	local b=$RAW_FD mark
	mark=$(($(log_mark) + 1))
	raw_open
	local c=$RAW_FD
	# Closed without a byte: no CONNACK, whatever the client sends.
	raw_send "$c" "$(mk_connect 4 c14-c)"
	raw_expect_eof "$c" "third connection with max_connections 2"
	expect_line "$BROKER_LOG" "refused: max_connections 2 reached on port $PORT\$" 5 "$mark"
	# mosquitto_pub is refused as well.
	if timeout 5 mosquitto_pub -h 127.0.0.1 -p "$PORT" -t 14/x -m x 2>/dev/null; then
		fail "mosquitto_pub connected while 2 connections were open"
	fi
	# The first two still work.
	raw_send "$a" "c0 00" && raw_expect "$a" "d0 00" "PINGRESP on the first connection"
	raw_send "$b" "c0 00" && raw_expect "$b" "d0 00" "PINGRESP on the second connection"

	# One leaves: a new client gets in, and the limit holds again with it.
	mark=$(($(log_mark) + 1))
	raw_send "$a" "e0 00"
	raw_expect_eof "$a" "after DISCONNECT"
	expect_line "$BROKER_LOG" '\[c14-a [^]]*\] disconnected: client sent DISCONNECT' 5 "$mark"
	mark=$(($(log_mark) + 1))
	pub -t 14/x -m "room for one"
	# mosquitto_pub may exit before the broker read its DISCONNECT: wait until its slot is
	# free, or the next connection can race it.
	expect_line "$BROKER_LOG" 'disconnected: client sent DISCONNECT' 5 "$mark"
	raw_session 4 c14-d
	local d=$RAW_FD
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 c14-e)"
	raw_expect_eof "$RAW_FD" "third connection again (b and d open)"
	raw_send "$d" "e0 00"
	raw_send "$b" "e0 00"
}

silent_connections_count() {
	# Two connections that never send CONNECT fill the listener too (until the CONNECT
	# timeout closes them).
	raw_open
	local a=$RAW_FD
	raw_open
	local b=$RAW_FD
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 c14-f)"
	raw_expect_eof "$RAW_FD" "third connection while two silent ones are open"
	raw_close "$a"
	raw_close "$b"
	# Both closures are seen before a new client is admitted.
	expect_line "$BROKER_LOG" 'disconnected: closed before CONNECT' 5 1 3
	pub -t 14/y -m "after the silent ones left"
}

run_case "max_connections 2: the third connection is refused and logged; room again after one leaves" refuse_third
run_case "connections without CONNECT count against max_connections" silent_connections_count
finish
