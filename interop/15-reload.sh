#!/usr/bin/env bash
# 15-reload: SIGHUP re-reads the configuration file - a new max_queued_messages bounds the queue
# of a session that is offline at the time; connection_messages follows the file; a listener
# change is logged as needing a restart and not applied; a broken file keeps the whole old
# configuration and logs the error with its file and line.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 15)

# Rewrites the broker's file (listener line and anonymous access kept), sends SIGHUP and waits
# for the broker's answer (a line matching PATTERN).
reload_with() { # PATTERN CONFIG LINE...
	local pattern=$1 mark
	shift
	mark=$(($(log_mark) + 1))
	{
		echo "listener $BROKER_PORT 127.0.0.1"
		echo "allow_anonymous true"
		printf '%s\n' "$@"
	} >"$BROKER_CONF"
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "$pattern" 5 "$mark"
}

# A persistent QoS 1 session ID on TOPIC, then offline (clean DISCONNECT).
make_session() { # ID TOPIC
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -c -i "$1" -q 1 -t "$2" -E \
		>/dev/null 2>&1 || fail "mosquitto_sub -c -E for $1 failed"
}

# Publishes m1..mN at QoS 1 while ID is offline, then reconnects it: prints what it gets
# (what was queued, then a live marker).
queued_after() { # ID TOPIC N EXPECTED_QUEUED
	seq -f "m%g" 1 "$3" | pub -q 1 -t "$2" -l
	sub_start "$1" -c -q 1 -t "$2" -C $(($4 + 1))
	pub -q 1 -t "$2" -m marker
	sub_collect "$SUB_PID" "$SUB_OUT"
}

queue_bound() {
	start_broker "$PORT" "max_queued_messages 5"
	make_session c15-q 15/q
	reload_with "notice reloaded $(re_quote "$BROKER_CONF")" "max_queued_messages 3"
	queued_after c15-q 15/q 8 3
	assert_lines "$(seq -f "m%g" 1 3)
marker" "$SUB_RESULT" "max_queued_messages 3 after the reload: 3 of 8 queued, then live"
	expect_line "$BROKER_LOG" '\[c15-q -\] queue full \(max_queued_messages 3 '
}

connection_messages() {
	start_broker $((PORT + 1)) "connection_messages false"
	raw_session 4 c15-quiet
	raw_send "$RAW_FD" "e0 00"
	raw_expect_eof "$RAW_FD" "after DISCONNECT"
	# conn_close logged (or not) before the socket closed.
	assert_eq 0 "$(grep -c 'c15-quiet.*connected' "$BROKER_LOG")" \
		"connect/disconnect lines with connection_messages false"
	reload_with "notice reloaded" "connection_messages true"
	raw_session 4 c15-loud
	raw_send "$RAW_FD" "e0 00"
	raw_expect_eof "$RAW_FD" "after DISCONNECT"
	expect_line "$BROKER_LOG" '\[c15-loud [^]]*\] connected: MQTT 3.1.1'
	expect_line "$BROKER_LOG" '\[c15-loud [^]]*\] disconnected: client sent DISCONNECT'
}

listener_change() {
	local other=$((PORT + 3))
	start_broker $((PORT + 2))
	reload_with "warning reload: listener changes need a restart; not applied" \
		"listener $other 127.0.0.1"
	if (exec 3<>"/dev/tcp/127.0.0.1/$other") 2>/dev/null; then
		fail "port $other accepts connections after a reload"
	fi
	pub -t 15/x -m "old listener still serves"
	# Changing the settings of the one listener is a listener change as well.
	reload_with "reload: listener changes need a restart" "max_connections 1"
}

broken_file() {
	start_broker $((PORT + 4)) "max_queued_messages 2"
	make_session c15-b 15/b
	reload_with "error reload failed, keeping the old configuration: $(re_quote "$BROKER_CONF"):4: unknown directive 'frobnicate'" \
		"max_queued_messages 6" "frobnicate 1"
	assert_broker_alive
	# Nothing of the broken file was applied: still 2.
	queued_after c15-b 15/b 5 2
	assert_lines "m1
m2
marker" "$SUB_RESULT" "max_queued_messages 2 kept after a failed reload"
	# A later good file is applied again.
	reload_with "notice reloaded" "max_queued_messages 4"
}

run_case "SIGHUP: a new max_queued_messages bounds an offline session's queue" queue_bound
run_case "connection_messages false silences connect/disconnect lines; a reload turns them on" connection_messages
run_case "SIGHUP: a listener change is logged as needing a restart, not applied" listener_change
run_case "SIGHUP with a broken file keeps the old configuration and logs file:line" broken_file
finish
