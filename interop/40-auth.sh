#!/usr/bin/env bash
# 40-auth: password_file made by the real mosquitto_passwd at test time ($7$ PBKDF2-SHA512 and
# -H sha512 $6$ lines), used by mosquitto_pub/mosquitto_sub with -u/-P over MQTT 3.1.1 and 5:
# the right password connects; a wrong password, an unknown user or a missing password is
# refused with Bad User Name or Password (3.1.1 0x04, 5.0 0x86); anonymous clients with
# allow_anonymous false with Not Authorized (0x05 / 0x87), also checked on raw CONNACK bytes;
# no password reaches the log; a malformed file refuses start-up with file:line; SIGHUP
# re-reads the file and keeps the old one when the new one is broken.
. "$(dirname "$0")/lib.sh"

command -v mosquitto_passwd >/dev/null || fail "mosquitto_passwd not found (mosquitto package)"

PORT=$(iop_port 40)
PWFILE=$IOP_TMP/passwd
# The passwords contain a blank, a ':' and a non-ASCII letter: all bytes of the password.
PW_ALICE='secret one'
PW_BOB='b0b:pässword'
PW_CAROL='hunter2'
mosquitto_passwd -b -c "$PWFILE" alice "$PW_ALICE" >/dev/null || fail "mosquitto_passwd -c failed"
mosquitto_passwd -b "$PWFILE" bob "$PW_BOB" >/dev/null || fail "mosquitto_passwd failed"
mosquitto_passwd -H sha512 -b "$PWFILE" carol "$PW_CAROL" >/dev/null ||
	fail "mosquitto_passwd -H sha512 failed"
grep -q '^alice:\$7\$' "$PWFILE" && grep -q '^carol:\$6\$' "$PWFILE" ||
	fail "unexpected password file: $(cut -c1-12 "$PWFILE" | tr '\n' ' ')"

start_broker "$PORT" "allow_anonymous false" "password_file $PWFILE"

# Connects with mosquitto_sub -E (exit once subscribed) and prints "STATUS|MESSAGE": 0 when
# accepted, else the CONNACK code mosquitto_sub exits with and the reason it prints.
try_connect() { # VERSION [mosquitto_sub ARGS...]
	local v=$1 out rc
	shift
	out=$(timeout -k 1 10 mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -V "$v" -t 40/t -E "$@" 2>&1)
	rc=$?
	echo "$rc|$(echo "$out" | head -n 1)"
}

expect_connect() { # WANT_STATUS WANT_MESSAGE_ERE VERSION ARGS...
	local want=$1 ere=$2 got
	shift 2
	got=$(try_connect "$@")
	[[ ${got%%|*} == "$want" ]] || fail "mosquitto_sub -V $*: status ${got%%|*}, expected $want (${got#*|})"
	assert_match "$ere" "${got#*|}" "message of mosquitto_sub -V $1 ${*:2}"
}

right_passwords() {
	local v
	for v in mqttv311 mqttv5; do
		expect_connect 0 '^$' "$v" -u alice -P "$PW_ALICE"
		expect_connect 0 '^$' "$v" -u bob -P "$PW_BOB"
		expect_connect 0 '^$' "$v" -u carol -P "$PW_CAROL"
	done
	# A password-authenticated client publishes and subscribes as usual.
	sub_start c40-sub -u alice -P "$PW_ALICE" -t 40/data -C 1
	pub -u carol -P "$PW_CAROL" -t 40/data -m hello
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq hello "$SUB_RESULT" "message through authenticated clients"
}

bad_credentials() {
	local bad311='Connection Refused: bad user name or password' bad5='Bad User Name or Password'
	expect_connect 4 "$bad311" mqttv311 -u alice -P 'secret two'
	expect_connect 134 "$bad5" mqttv5 -u alice -P 'secret two'
	expect_connect 4 "$bad311" mqttv311 -u alice -P "$PW_CAROL" # another user's password
	expect_connect 4 "$bad311" mqttv311 -u mallory -P "$PW_ALICE"
	expect_connect 134 "$bad5" mqttv5 -u mallory -P "$PW_ALICE"
	expect_connect 4 "$bad311" mqttv311 -u Alice -P "$PW_ALICE"
	expect_connect 4 "$bad311" mqttv311 -u alice # no password
	expect_connect 134 "$bad5" mqttv5 -u carol -P 'hunter'
	expect_line "$BROKER_LOG" "authentication failed for user 'alice': wrong password"
	expect_line "$BROKER_LOG" "authentication failed for user 'mallory': unknown user"
	expect_line "$BROKER_LOG" "authentication failed for user 'alice': no password"
}

anonymous_refused() {
	expect_connect 5 'Connection Refused: not authori[sz]ed' mqttv311
	expect_connect 135 'Not authorized' mqttv5
	expect_connect 5 'Connection Refused: not authori[sz]ed' mqttv311 -i c40-anon
	expect_line "$BROKER_LOG" 'CONNECT refused: anonymous clients are not allowed'
}

# CONNECT with user name and password (flags c2: both, clean) as raw bytes.
raw_login() { # VERSION ID USER PASS
	raw_open
	raw_send "$RAW_FD" "$(mk_connect "$1" "$2" c2 60 "" "$(mqtt_str "$3") $(mqtt_str "$4")")" ||
		fail "sending CONNECT failed"
}

raw_codes() {
	raw_login 4 c40-raw4 alice wrong
	raw_expect "$RAW_FD" "20 02 00 04" "3.1.1 CONNACK 0x04 for a wrong password"
	raw_expect_eof "$RAW_FD" "after the refusing CONNACK"
	raw_login 5 c40-raw5 nobody "$PW_ALICE"
	raw_expect_reason "$RAW_FD" 20 86 "5.0 CONNACK 0x86 for an unknown user" \
		'^bad user name or password$'
	raw_expect_eof "$RAW_FD" "after the refusing CONNACK"
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 c40-raw-anon)"
	raw_expect_reason "$RAW_FD" 20 87 "5.0 CONNACK 0x87 for an anonymous client" 'allow_anonymous'
	raw_login 4 c40-raw-ok alice "$PW_ALICE"
	raw_expect "$RAW_FD" "20 02 00 00" "3.1.1 CONNACK 0 for the right password"
}

no_secrets_logged() {
	local s
	for s in "$PW_ALICE" "$PW_BOB" "$PW_CAROL" 'secret two' "$(cut -d'$' -f4 "$PWFILE" | head -n 1)"; do
		if grep -qF -- "$s" "$BROKER_LOG"; then
			fail "the broker log contains a password or salt ($(grep -cF -- "$s" "$BROKER_LOG") lines)"
		fi
	done
}

# A broker on another port, started on FILE: its exit status and output.
start_with_file() { # PORT FILE
	local conf=$IOP_TMP/bad-$1.conf
	printf 'listener %s 127.0.0.1\npassword_file %s\n' "$1" "$2" >"$conf"
	START_OUT=$(timeout -k 1 10 "$MQTT_FAST_BIN" -c "$conf" 2>&1)
	START_RC=$?
	TEST_OUT=$("$MQTT_FAST_BIN" -c "$conf" --test-config 2>&1)
	TEST_RC=$?
}

malformed_file() {
	local bad=$IOP_TMP/passwd-bad
	{
		head -n 1 "$PWFILE"
		echo "dave:plaintext-password"
	} >"$bad"
	start_with_file $((PORT + 1)) "$bad"
	assert_eq 1 "$START_RC" "exit status of a broker started with a malformed password_file"
	assert_match "$(re_quote "$bad"):2: password is not hashed" "$START_OUT" "start-up error"
	assert_no_match 'plaintext-password' "$START_OUT" "start-up error shows no password"
	assert_eq 1 "$TEST_RC" "--test-config with a malformed password_file"
	assert_match "$(re_quote "$bad"):2: password is not hashed" "$TEST_OUT" "--test-config error"
	start_with_file $((PORT + 1)) "$IOP_TMP/missing"
	assert_eq 1 "$START_RC" "exit status with a missing password_file"
	assert_match "missing: No such file or directory" "$START_OUT" "missing file error"
}

reload() {
	local pw=$IOP_TMP/passwd-reload mark
	cp "$PWFILE" "$pw"
	start_broker $((PORT + 2)) "allow_anonymous false" "password_file $pw"
	expect_connect 0 '^$' mqttv311 -u alice -P "$PW_ALICE"
	# A new password for alice and a new user.
	mosquitto_passwd -b "$pw" alice 'new secret' >/dev/null
	mosquitto_passwd -b "$pw" erin erin-pw >/dev/null
	mark=$(($(log_mark) + 1))
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "reload: password_file $(re_quote "$pw") \(4 users\)" 5 "$mark"
	expect_connect 4 'bad user name or password' mqttv311 -u alice -P "$PW_ALICE"
	expect_connect 0 '^$' mqttv311 -u alice -P 'new secret'
	expect_connect 0 '^$' mqttv5 -u erin -P erin-pw
	# A broken file keeps the old one; the error names the file and line.
	echo "frank" >>"$pw"
	mark=$(($(log_mark) + 1))
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "error reload: password_file $(re_quote "$pw"):5: expected user:hash; keeping the old" 5 "$mark"
	expect_connect 0 '^$' mqttv311 -u erin -P erin-pw
	assert_broker_alive
	# allow_anonymous follows the file on reload too.
	sed -i '$d' "$pw"
	sed -i 's/^allow_anonymous false$/allow_anonymous true/' "$BROKER_CONF"
	mark=$(($(log_mark) + 1))
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "allow_anonymous true" 5 "$mark"
	expect_connect 0 '^$' mqttv5
	expect_connect 134 'Bad User Name or Password' mqttv5 -u erin -P wrong
}

anonymous_allowed() {
	start_broker $((PORT + 3)) "password_file $PWFILE"
	# allow_anonymous true (lib.sh's default) with a password_file: anonymous clients are let
	# in, but a client that gives a user name must still match.
	expect_connect 0 '^$' mqttv311
	expect_connect 0 '^$' mqttv5 -u carol -P "$PW_CAROL"
	expect_connect 4 'bad user name or password' mqttv311 -u carol -P nope
	expect_connect 4 'bad user name or password' mqttv311 -u mallory -P nope
}

run_case "right passwords (\$7\$ and \$6\$) connect over 3.1.1 and 5" right_passwords
run_case "wrong password, unknown user, no password: 0x04 / 0x86" bad_credentials
run_case "anonymous with allow_anonymous false: 0x05 / 0x87" anonymous_refused
run_case "refusals on raw CONNACK bytes" raw_codes
run_case "no password or salt in the broker log" no_secrets_logged
run_case "a malformed password_file refuses start-up with file:line" malformed_file
run_case "SIGHUP re-reads password_file; a broken one keeps the old" reload
run_case "allow_anonymous true with a password_file" anonymous_allowed
finish
