#!/usr/bin/env bash
# 13-shutdown: SIGTERM while clients are connected (with a will, with a persistent session, with
# queued output) stops the broker cleanly: exit status 0 (no crash, no sanitizer report), and no
# will published for clients the broker itself disconnects. (mosquitto_sub keeps retrying after
# the connection is lost, so its exit is not a signal here.)
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 13)

shutdown_with_clients() {
	start_broker "$PORT"
	sub_start "s13-watch-$$" -V mqttv5 -t 13/will -q 1
	local watch_out=$SUB_OUT
	sub_start "s13-will-$$" -V mqttv311 -t 13/x --will-topic 13/will --will-payload gone
	sub_start "s13-persist-$$" -V mqttv311 -c -q 1 -t 13/y
	pub -q 1 -t 13/y -m "queued"
	stop_broker || fail "broker did not exit cleanly on SIGTERM with clients connected"
	expect_line "$BROKER_LOG" "signal 15: shutting down"
	expect_line "$BROKER_LOG" "stopped"
	assert_eq "" "$(cat "$watch_out")" "will published at broker shutdown"
}

run_case "SIGTERM with connected clients" shutdown_with_clients
finish
