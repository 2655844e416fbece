#!/usr/bin/env bash
# 42-tls: TLS listeners against mosquitto_pub/mosquitto_sub and the openssl CLI. Certificates are
# made at test time: a CA, a server certificate (CN=localhost, SAN DNS:localhost and
# IP:127.0.0.1), a client certificate from the CA (CN=device-42), one from another CA, and an
# expired one (`openssl ca -startdate/-enddate`: openssl 3.0's `x509 -req` has no way to set a
# past notBefore). TLS 1.2 is forced on the client side with an OPENSSL_CONF whose
# MaxProtocol is TLSv1.2, since mosquitto_pub's --tls-version is a minimum, like the broker's.
#
# Checks: TLS 1.2 and 1.3 with and without client certificates; require_certificate refuses no
# certificate, a certificate of another CA and an expired one, each with one log line naming
# the peer and OpenSSL's reason; tls_version tlsv1.3 refuses a TLS 1.2 client; plaintext MQTT
# and a garbage ClientHello on the TLS port are logged and closed while others are served; a
# stalled handshake ends at the CONNECT timeout without holding anyone up; large and many
# small messages cross TLS intact; use_identity_as_username takes the CN as the user name and
# ignores the CONNECT's (the ACL's %u is the CN); a misconfigured TLS listener stops the start with "file:line: reason";
# SIGHUP re-reads the certificate and key files, and keeps the old ones when they are broken.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 42)     # TLS, no client certificate asked for
P_REQ=$((PORT + 1))     # require_certificate true
P_ID=$((PORT + 2))      # require_certificate + use_identity_as_username
P_13=$((PORT + 3))      # tls_version tlsv1.3
P_PLAIN=$((PORT + 4))   # plain TCP next to them
P_BAD=$((PORT + 5))     # misconfigured listeners (never opened)
command -v openssl >/dev/null || fail "openssl not found"

# ---- certificates -------------------------------------------------------------------------

PKI=$IOP_TMP/pki
mkdir -p "$PKI/db"

gen_key() { # NAME
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$PKI/$1.key" \
		2>/dev/null || fail "openssl genpkey $1"
}

gen_ca() { # NAME CN
	gen_key "$1"
	openssl req -x509 -new -key "$PKI/$1.key" -out "$PKI/$1.crt" -days 30 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || fail "openssl req CA $1"
}

gen_cert() { # NAME CN CA [EXTFILE]
	gen_key "$1"
	openssl req -new -key "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=$2" 2>/dev/null ||
		fail "openssl req $1"
	openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$3.crt" -CAkey "$PKI/$3.key" \
		-CAcreateserial -days 30 ${4:+-extfile "$4"} -out "$PKI/$1.crt" 2>/dev/null ||
		fail "openssl x509 -req $1"
}

gen_ca ca "mqtt-fast test CA"
gen_ca otherca "another CA"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$PKI/server.ext"
gen_cert server localhost ca "$PKI/server.ext"
gen_cert server2 localhost otherca "$PKI/server.ext" # for the SIGHUP case
gen_cert client device-42 ca
gen_cert stranger device-43 otherca
# Expired: valid in 2000 only, signed by the right CA.
: >"$PKI/db/index.txt"
echo 1000 >"$PKI/db/serial"
cat >"$PKI/ca.cnf" <<EOF
[ca]
default_ca = test
[test]
database = $PKI/db/index.txt
serial = $PKI/db/serial
new_certs_dir = $PKI/db
certificate = $PKI/ca.crt
private_key = $PKI/ca.key
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
EOF
gen_key expired
openssl req -new -key "$PKI/expired.key" -out "$PKI/expired.csr" -subj "/CN=expired" \
	2>/dev/null || fail "openssl req expired"
openssl ca -batch -config "$PKI/ca.cnf" -startdate 20000101000000Z -enddate 20010101000000Z \
	-in "$PKI/expired.csr" -out "$PKI/expired.crt" >/dev/null 2>&1 || fail "openssl ca expired"
# The broker's own copies, replaced in the SIGHUP case.
cp "$PKI/server.crt" "$PKI/live.crt"
cp "$PKI/server.key" "$PKI/live.key"
# A client that speaks TLS 1.2 at most (mosquitto_pub --tls-version only sets a minimum).
cat >"$PKI/tls12.cnf" <<'EOF'
openssl_conf = conf_init
[conf_init]
ssl_conf = ssl_init
[ssl_init]
system_default = tls12_only
[tls12_only]
MaxProtocol = TLSv1.2
EOF

# Anonymous clients may use every topic; a client with a user name only devices/USER/#.
printf '%s\n' "topic readwrite #" "pattern readwrite devices/%u/#" >"$PKI/acl"

start_broker "$PORT" "acl_file $PKI/acl" "certfile $PKI/live.crt" "keyfile $PKI/live.key" \
	"listener $P_REQ 127.0.0.1" "certfile $PKI/live.crt" "keyfile $PKI/live.key" \
	"cafile $PKI/ca.crt" "require_certificate true" \
	"listener $P_ID 127.0.0.1" "certfile $PKI/live.crt" "keyfile $PKI/live.key" \
	"cafile $PKI/ca.crt" "require_certificate true" "use_identity_as_username true" \
	"listener $P_13 127.0.0.1" "certfile $PKI/live.crt" "keyfile $PKI/live.key" \
	"tls_version tlsv1.3" \
	"listener $P_PLAIN 127.0.0.1"

# ---- helpers ------------------------------------------------------------------------------

# mosquitto_pub over TLS to PORT, trusting the test CA; TLS_RC and TLS_OUT say how it went.
tls_pub() { # PORT ARGS...
	local port=$1
	shift
	TLS_OUT=$(timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$port" --cafile "$PKI/ca.crt" \
		"$@" 2>&1)
	TLS_RC=$?
}

expect_pub_ok() { # WHAT PORT ARGS...
	local what=$1
	shift
	tls_pub "$@"
	[[ $TLS_RC -eq 0 ]] || fail "$what: mosquitto_pub failed ($TLS_RC): $TLS_OUT"
}

expect_pub_refused() { # WHAT PORT ARGS...
	local what=$1
	shift
	tls_pub "$@"
	[[ $TLS_RC -ne 0 ]] || fail "$what: mosquitto_pub succeeded"
}

cert() { echo --cert "$PKI/$1.crt" --key "$PKI/$1.key"; }

# Reads FD until the broker closes it (a TLS alert may come first; unread input makes the close
# a reset). Fails after TIMEOUT s.
expect_closed() { # FD WHAT [TIMEOUT]
	timeout -k 1 "${3:-$IOP_WAIT}" cat <&"$1" >/dev/null 2>&1
	[[ $? -ne 124 ]] || fail "$2: connection still open after ${3:-$IOP_WAIT} s"
}

# ---- cases --------------------------------------------------------------------------------

tls13_and_tls12() {
	local mark
	mark=$(($(log_mark) + 1))
	sub_start tls-sub -t tls/# -C 2 -v --cafile "$PKI/ca.crt" -p "$PORT"
	local sub=$SUB_PID out=$SUB_OUT
	expect_pub_ok "TLS 1.3 publish" "$PORT" -i pub13 --tls-version tlsv1.3 -t tls/a -m one
	OPENSSL_CONF=$PKI/tls12.cnf expect_pub_ok "TLS 1.2 publish" "$PORT" -i pub12 \
		--tls-version tlsv1.2 -t tls/b -m two -V 5
	sub_collect "$sub" "$out"
	assert_lines $'tls/a one\ntls/b two' "$SUB_RESULT" "messages over TLS 1.3 and 1.2"
	expect_line "$BROKER_LOG" "TLS established: TLSv1\.3 .*" 2 "$mark"
	expect_line "$BROKER_LOG" "TLS established: TLSv1\.2 " 2 "$mark"
}

client_certificates() {
	local mark
	mark=$(($(log_mark) + 1))
	expect_pub_ok "client certificate on require_certificate" "$P_REQ" $(cert client) \
		-t c/1 -m x
	expect_line "$BROKER_LOG" "TLS established: .*client certificate CN=device-42" 2 "$mark"
	OPENSSL_CONF=$PKI/tls12.cnf expect_pub_ok "client certificate over TLS 1.2" "$P_REQ" \
		$(cert client) -t c/1 -m x
	expect_pub_ok "client certificate where none is asked for" "$PORT" $(cert client) \
		-t c/1 -m x

	mark=$(($(log_mark) + 1))
	expect_pub_refused "no client certificate" "$P_REQ" -t c/1 -m x
	expect_line "$BROKER_LOG" \
		"notice \[- 127\.0\.0\.1:[0-9]+\] TLS handshake failed: error:[0-9A-F]+:.*peer did not return a certificate" \
		3 "$mark"
	mark=$(($(log_mark) + 1))
	expect_pub_refused "certificate of another CA" "$P_REQ" $(cert stranger) -t c/1 -m x
	expect_line "$BROKER_LOG" \
		"\[- 127\.0\.0\.1:[0-9]+\] TLS handshake failed: .*certificate verify failed \(unable to get local issuer certificate\)" \
		3 "$mark"
	mark=$(($(log_mark) + 1))
	OPENSSL_CONF=$PKI/tls12.cnf expect_pub_refused "expired certificate over TLS 1.2" \
		"$P_REQ" $(cert expired) -t c/1 -m x
	expect_line "$BROKER_LOG" "TLS handshake failed: .*certificate verify failed \(certificate has expired\)" \
		3 "$mark"
	mark=$(($(log_mark) + 1))
	expect_pub_refused "expired certificate" "$P_REQ" $(cert expired) -t c/1 -m x
	expect_line "$BROKER_LOG" "TLS handshake failed: .*\(certificate has expired\)" 3 "$mark"
	mark=$(($(log_mark) + 1))
	expect_pub_refused "server not trusted by the client" "$PORT" --cafile "$PKI/otherca.crt" \
		-t c/1 -m x
	expect_line "$BROKER_LOG" "TLS handshake failed: " 3 "$mark"
	assert_broker_alive
}

tls13_only() {
	local mark
	mark=$(($(log_mark) + 1))
	OPENSSL_CONF=$PKI/tls12.cnf expect_pub_refused "TLS 1.2 client on tls_version tlsv1.3" \
		"$P_13" --tls-version tlsv1.2 -t v/1 -m x
	expect_line "$BROKER_LOG" "TLS handshake failed: .*unsupported protocol" 3 "$mark"
	expect_pub_ok "TLS 1.3 client on tls_version tlsv1.3" "$P_13" --tls-version tlsv1.3 \
		-t v/1 -m x
	# The openssl CLI agrees: no TLS 1.2 handshake on this port.
	if echo | timeout -k 1 5 openssl s_client -connect "127.0.0.1:$P_13" -tls1_2 \
		-CAfile "$PKI/ca.crt" >/dev/null 2>&1; then
		fail "openssl s_client -tls1_2 completed a handshake on the tlsv1.3 listener"
	fi
}

identity_as_username() {
	local mark
	mark=$(($(log_mark) + 1))
	expect_pub_ok "use_identity_as_username" "$P_ID" $(cert client) -i idclient \
		-u mallory -P secret -t id/1 -m x
	expect_line "$BROKER_LOG" \
		"\[- 127\.0\.0\.1:[0-9]+\] use_identity_as_username: user device-42 from the client certificate" \
		3 "$mark"
	expect_line "$BROKER_LOG" "\[idclient 127\.0\.0\.1:[0-9]+\] connected: " 3 "$mark"
	assert_no_match "mallory" "$(tail -n "+$mark" "$BROKER_LOG")" \
		"the CONNECT user name is ignored"
	# The ACL sees the CN: devices/device-42/# is the client's, devices/mallory/# is not.
	sub_start id-watch -t devices/# -C 1 -v -p "$P_PLAIN"
	local sub=$SUB_PID out=$SUB_OUT
	expect_pub_ok "publish under the CONNECT user name" "$P_ID" $(cert client) -u mallory \
		-t devices/mallory/t -m stolen
	expect_pub_ok "publish under the CN" "$P_ID" $(cert client) -u mallory \
		-t devices/device-42/t -m mine
	sub_collect "$sub" "$out"
	assert_eq "devices/device-42/t mine" "$SUB_RESULT" "what the ACL let through"
}

bad_input() {
	local mark fd
	# Plaintext MQTT on the TLS port.
	mark=$(($(log_mark) + 1))
	out=$(timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" -t p/1 -m x 2>&1) &&
		fail "plaintext mosquitto_pub on the TLS port succeeded"
	expect_line "$BROKER_LOG" \
		"notice \[- 127\.0\.0\.1:[0-9]+\] TLS handshake failed: error:[0-9A-F]+:SSL routines::" \
		3 "$mark"
	# A raw CONNECT the same way, over /dev/tcp: closed, never answered with MQTT.
	raw_open "$PORT"
	raw_send "$RAW_FD" "$(mk_connect 4 plain)"
	expect_closed "$RAW_FD" "plaintext CONNECT on the TLS port"
	raw_close "$RAW_FD"
	# A garbage ClientHello: a handshake record whose message is nonsense.
	mark=$(($(log_mark) + 1))
	raw_open "$PORT"
	raw_send "$RAW_FD" "16 03 01 00 0a 01 00 00 06 ff ff ff ff ff ff"
	expect_closed "$RAW_FD" "garbage ClientHello"
	raw_close "$RAW_FD"
	expect_line "$BROKER_LOG" "TLS handshake failed: error:" 3 "$mark"
	# Random bytes.
	raw_open "$PORT"
	raw_send "$RAW_FD" "$(head -c 300 /dev/urandom | od -An -tx1 -v | tr -s ' \n' '  ')"
	expect_closed "$RAW_FD" "random bytes"
	raw_close "$RAW_FD"
	assert_broker_alive
	expect_pub_ok "a TLS client after the bad input" "$PORT" -t p/1 -m x
	pub -p "$P_PLAIN" -t p/1 -m x
}

stalled_handshake() {
	local mark
	mark=$(($(log_mark) + 1))
	# Half a record header, then nothing: the broker must not wait for it.
	raw_open "$PORT"
	raw_send "$RAW_FD" "16 03 01"
	sub_start stall-sub -t s/# -C 1 --cafile "$PKI/ca.crt" -p "$PORT"
	local sub=$SUB_PID out=$SUB_OUT
	expect_pub_ok "publish while a handshake stalls" "$PORT" -t s/1 -m through
	sub_collect "$sub" "$out"
	assert_eq through "$SUB_RESULT" "message while a handshake stalls"
	# The CONNECT timeout (10 s) ends it.
	expect_line "$BROKER_LOG" \
		"\[- 127\.0\.0\.1:[0-9]+\] disconnected: TLS handshake not completed in time" 13 "$mark"
	expect_closed "$RAW_FD" "stalled handshake" 2
	raw_close "$RAW_FD"
}

large_and_many() {
	local big=$IOP_TMP/big.bin n=3000
	head -c 1500000 /dev/urandom | base64 -w 0 >"$big" # ~2 MB, one line
	SUB_TIMEOUT=30 sub_start big-sub -t big/# -C 1 -q 1 $(cert client) --cafile "$PKI/ca.crt" \
		-p "$P_REQ"
	local sub=$SUB_PID out=$SUB_OUT
	expect_pub_ok "2 MB publish over TLS" "$P_REQ" $(cert client) -q 1 -t big/1 -f "$big"
	sub_collect "$sub" "$out" 20
	assert_eq "$(sha256sum <"$big" | cut -d' ' -f1)" \
		"$(printf '%s' "$SUB_RESULT" | sha256sum | cut -d' ' -f1)" "the 2 MB payload intact"

	# A subscriber that stops reading: the broker's SSL_write blocks (WANT_WRITE) with 20 MB
	# queued (more than the loopback socket buffers hold), and resumes with the same bytes once
	# it reads again.
	SUB_TIMEOUT=40 sub_start slow-sub -t slow/# -C 20 -q 1 --cafile "$PKI/ca.crt" -p "$PORT"
	sub=$SUB_PID
	out=$SUB_OUT
	local child
	child=$(child_pid "$sub") || fail "no mosquitto_sub under $sub"
	kill -STOP "$child"
	head -c 750000 /dev/urandom | base64 -w 0 >"$big" # ~1 MB
	local i
	for ((i = 1; i <= 20; i++)); do
		expect_pub_ok "1 MB publish $i to a stopped subscriber" "$PORT" -q 1 -t slow/1 -f "$big"
	done
	kill -CONT "$child"
	sub_collect "$sub" "$out" 30
	assert_eq "$(for ((i = 1; i <= 20; i++)); do cat "$big"; echo; done | sha256sum)" \
		"$(printf '%s\n' "$SUB_RESULT" | sha256sum)" "20 x 1 MB to a subscriber that paused"

	# Many small messages: coalesced into records, order kept.
	SUB_TIMEOUT=30 sub_start many-sub -t many/# -C "$n" --cafile "$PKI/ca.crt" -p "$PORT"
	sub=$SUB_PID
	out=$SUB_OUT
	seq 1 "$n" | timeout -k 1 20 mosquitto_pub -h 127.0.0.1 -p "$P_PLAIN" -t many/1 -l ||
		fail "mosquitto_pub -l failed"
	sub_collect "$sub" "$out" 20
	assert_eq "$(seq 1 "$n" | sha256sum)" "$(printf '%s\n' "$SUB_RESULT" | sha256sum)" \
		"$n small messages in order"
}

misconfigured() {
	local f rc err
	run_conf() { # LINES... -> RC, ERR
		f=$IOP_TMP/bad.conf
		printf '%s\n' "listener $P_BAD 127.0.0.1" "allow_anonymous true" "$@" >"$f"
		err=$(timeout -k 1 5 "$MQTT_FAST_BIN" -c "$f" 2>&1)
		rc=$?
	}
	run_conf "certfile $PKI/server.crt"
	assert_ne 0 "$rc" "exit status without keyfile"
	assert_match "$(re_quote "$f"):1: listener $P_BAD: TLS settings need both certfile and keyfile \(keyfile is missing\)" \
		"$err" "missing keyfile"
	run_conf "cafile $PKI/ca.crt" "require_certificate true"
	assert_ne 0 "$rc" "exit status without certfile"
	assert_match "$(re_quote "$f"):1: listener $P_BAD: TLS settings need both certfile and keyfile \(certfile is missing\)" \
		"$err" "missing certfile"
	run_conf "certfile $PKI/nonexistent.crt" "keyfile $PKI/server.key"
	assert_ne 0 "$rc" "exit status with a missing certfile"
	assert_match "$(re_quote "$f"):1: listener $P_BAD: certfile $(re_quote "$PKI")/nonexistent\.crt: No such file or directory" \
		"$err" "unreadable certfile"
	run_conf "certfile $PKI/server.crt" "keyfile $PKI/client.key"
	assert_ne 0 "$rc" "exit status with a key of another certificate"
	assert_match "$(re_quote "$f"):1: listener $P_BAD: keyfile .*client\.key .*(does not match|mismatch)" \
		"$err" "key not matching the certificate"
	run_conf "certfile $PKI/server.crt" "keyfile $PKI/server.ext"
	assert_ne 0 "$rc" "exit status with a keyfile that is no key"
	assert_match "$(re_quote "$f"):1: listener $P_BAD: keyfile .*server\.ext cannot be loaded" \
		"$err" "keyfile that is no key"
	run_conf "certfile $PKI/server.crt" "keyfile $PKI/server.key" "tls_version tlsv9"
	assert_ne 0 "$rc" "exit status with tls_version tlsv9"
	assert_match "listener $P_BAD: tls_version 'tlsv9' is not one of" "$err" "bad tls_version"
	run_conf "certfile $PKI/server.crt" "keyfile $PKI/server.key" "require_certificate true"
	assert_ne 0 "$rc" "exit status with require_certificate and no cafile"
	assert_match "listener $P_BAD: require_certificate true needs cafile or capath" "$err" \
		"require_certificate without cafile"
	run_conf "certfile $PKI/server.crt" "keyfile $PKI/server.key" "ciphers NO-SUCH-CIPHER"
	assert_ne 0 "$rc" "exit status with an unknown cipher"
	assert_match "listener $P_BAD: ciphers 'NO-SUCH-CIPHER' selects no usable cipher" "$err" \
		"unknown ciphers"
}

sighup_reload() {
	local mark
	# New files at the same paths (a server certificate of the other CA): re-read on SIGHUP.
	cp "$PKI/server2.crt" "$PKI/live.crt"
	cp "$PKI/server2.key" "$PKI/live.key"
	mark=$(($(log_mark) + 1))
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "reload: TLS listener port $PORT certificates re-read" 3 "$mark"
	expect_pub_refused "old CA after the reload" "$PORT" -t r/1 -m x
	tls_pub "$PORT" --cafile "$PKI/otherca.crt" -t r/1 -m x
	[[ $TLS_RC -eq 0 ]] || fail "the new certificate is not served after SIGHUP: $TLS_OUT"
	# A broken key: the listener keeps what it has.
	echo garbage >"$PKI/live.key"
	mark=$(($(log_mark) + 1))
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "error .*:1: listener $PORT: keyfile .*cannot be loaded" 3 "$mark"
	expect_line "$BROKER_LOG" "reload: TLS listener port $PORT keeps its previous certificate" \
		3 "$mark"
	tls_pub "$PORT" --cafile "$PKI/otherca.crt" -t r/1 -m x
	[[ $TLS_RC -eq 0 ]] || fail "the listener lost its certificate to a broken reload: $TLS_OUT"
	assert_broker_alive
}

run_case "TLS 1.3 and TLS 1.2 (mosquitto_pub/sub --cafile), MQTT 3.1.1 and 5" tls13_and_tls12
run_case "require_certificate: CA-signed accepted; none, other CA, expired refused and logged" \
	client_certificates
run_case "tls_version tlsv1.3 refuses a TLS 1.2 client" tls13_only
run_case "use_identity_as_username: the certificate's CN is the user name" identity_as_username
run_case "plaintext MQTT, a garbage ClientHello, random bytes: logged, closed, others served" \
	bad_input
run_case "a stalled handshake ends at the CONNECT timeout, others unaffected" stalled_handshake
run_case "a 2 MB payload, 20 MB to a paused reader, 3000 small messages over TLS" large_and_many
run_case "a misconfigured TLS listener stops the start with file:line: reason" misconfigured
run_case "SIGHUP re-reads certificate and key; broken files keep the old ones" sighup_reload
finish
