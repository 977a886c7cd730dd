# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/chromium-lib.bash: shared by chromium-tls.sh and chromium-picker.sh.
# Sourced after nss-lib.bash and gui-lib.bash. Provides:
#   chromium_need       fails loudly when chromium, openssl or the NSS tools are missing
#   chromium_setup      $HOME/.pki/nssdb (Chromium's NSS database on Linux) with
#                       hpki-pkcs11.so added by modutil, as a user adds it, and the test
#                       TLS root trusted for servers
#   server NAME OPTS... openssl s_server on 127.0.0.1 (free port $PORT) demanding a client
#                       certificate from the HPKI authentication CA, -www status page;
#                       log in $OUT/NAME-s_server.log
#   browse NAME         Chromium (fresh user data directory) in a window on $DISPLAY
#                       opening https://localhost:$PORT/ through chromium-page.py, which
#                       reads the page over the DevTools pipe; $PAGE_PID ends when the
#                       status page with a client certificate is shown (rc 0) or at the
#                       timeout; the page text goes to $OUT/NAME-page.txt
#   unlock_dialog NAME  waits for "Unlock Security Device", checks and photographs it,
#                       types the authentication PIN, Return
#   page_checks NAME PROTOCOL SIGNATURE-REGEX   what the server and the page show
#   policy_install JSON / policy_remove   /etc/chromium/policies/managed/hpki-test.json
#                       (directories created for it are removed again; an existing file
#                       of that name is never overwritten)
# Chromium reaches nothing but 127.0.0.1: every other host goes to a proxy on
# 127.0.0.1:9 (closed), and background services are switched off.

chromium_need() {
	need chromium chromium
	need openssl openssl
	need certutil libnss3-tools
	need modutil libnss3-tools
	need /usr/bin/python3 python3
}

chromium_setup() {
	NSSDB=$HOME/.pki/nssdb
	nss_db "$NSSDB"
	step 30 modutil -dbdir "sql:$NSSDB" -add "HPKI card" -libfile "$MODULE" -force >/dev/null 2>&1 </dev/null
	step 30 certutil -A -d "sql:$NSSDB" -n "TEST TLS Root CA" -t "CT,," -i "$PKI/tls/ca.pem"
	check "hpki-pkcs11.so in \$HOME/.pki/nssdb" grep -q "library=$MODULE" "$NSSDB/pkcs11.txt"
	cat "$PKI/ca/auth-ca.pem" "$PKI/ca/root.pem" >"$WORK/client-ca.pem"
}

server() { # name s_server-options...
	local name=$1 pid
	shift
	PORT=$(free_port)
	spawn pid openssl s_server -accept "127.0.0.1:$PORT" -cert "$PKI/tls/server.pem" \
		-key "$PKI/tls/server.key.pem" -CAfile "$WORK/client-ca.pem" -Verify 1 -www "$@" \
		>"$OUT/$name-s_server.log" 2>&1
	SERVER_PID=$pid
	for _ in $(seq 100); do grep -q ACCEPT "$OUT/$name-s_server.log" 2>/dev/null && break; sleep 0.05; done
	check "$name: s_server $* listens on 127.0.0.1:$PORT" grep -q ACCEPT "$OUT/$name-s_server.log"
}

CHROMIUM_FLAGS=(--no-sandbox --disable-gpu --no-first-run --no-default-browser-check
	--password-store=basic --disable-background-networking --disable-component-update
	--disable-sync --disable-default-apps --disable-domain-reliability
	--disable-client-side-phishing-detection --proxy-server=http://127.0.0.1:9
	--lang=en-US --window-position=0,0 --window-size=1200,850)

browse() { # name
	local name=$1
	rm -f "$WORK/$name.pid" "$OUT/$name-page.txt"
	/usr/bin/python3 "$TOP/test/consumers/chromium-page.py" --pid-file "$WORK/$name.pid" \
		--out "$OUT/$name-page.txt" --expect "Client certificate" --timeout 90 --linger 2 \
		"https://localhost:$PORT/" -- chromium "${CHROMIUM_FLAGS[@]}" \
		--user-data-dir="$WORK/$name-profile" >"$OUT/$name-chromium.log" 2>&1 &
	PAGE_PID=$!
	for _ in $(seq 50); do [ -s "$WORK/$name.pid" ] && break; sleep 0.1; done
	CHROMIUM_PID=$(cat "$WORK/$name.pid" 2>/dev/null)
	[ -n "$CHROMIUM_PID" ] && groups+=("$CHROMIUM_PID")
	check "$name: Chromium started (pid ${CHROMIUM_PID:-none})" test -n "$CHROMIUM_PID"
}

unlock_dialog() { # name
	local name=$1 w f text
	w=$(wait_window '^Unlock Security Device$' 45)
	check "$name: 'Unlock Security Device' dialog appears" test -n "$w"
	[ -n "$w" ] || return 1
	sleep 0.7
	shot "$name-unlock-dialog"
	f=$(ls "$OUT"/*-"$name"-unlock-dialog.png | tail -n 1)
	text=$(ocr "$f" | tr -s '\n' ' ')
	echo "   dialog text (tesseract): $text"
	check "$name: it asks for '$AUTH_TOKEN' (the authentication token)" \
		grep -q "unlock $AUTH_TOKEN to authenticate to localhost" <<<"$text"
	check "$name: no PIN reached the card before it was typed (verify_pin=$(card_stat verify_pin))" \
		test "$(card_stat verify_pin)" = 0
	answer "$w" '^Unlock Security Device$' "$AUTH_PIN"
	check "$name: the dialog closed" wait_no_window '^Unlock Security Device$' 15
}

wait_page() { # name
	local name=$1 rc
	for _ in $(seq 900); do
		[ -s "$OUT/$name-page.txt" ] && break
		kill -0 "$PAGE_PID" 2>/dev/null || break
		sleep 0.1
	done
	check "$name: no second 'Unlock Security Device' dialog (only one PIN asked)" \
		sh -c "! xdotool search --onlyvisible --name '^Unlock Security Device\$' >/dev/null"
	shot "$name-page"
	wait "$PAGE_PID"
	rc=$?
	check "$name: the page loaded in Chromium (chromium-page.py rc=$rc)" test "$rc" = 0
	for _ in $(seq 50); do kill -0 "$CHROMIUM_PID" 2>/dev/null || break; sleep 0.1; done
	check "$name: Chromium closed" sh -c "! kill -0 $CHROMIUM_PID 2>/dev/null"
	stop_group "$CHROMIUM_PID"
	stop_group "$SERVER_PID"
}

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null || echo "no certificate in $1"; }

page_checks() { # name protocol signature-regex
	local name=$1 proto=$2 sig=$3 page=$OUT/$1-page.txt log=$OUT/$1-s_server.log per_app
	echo "-- s_server log:"
	grep -E 'depth=|error|alert' "$log" | head -n 8
	echo "-- page (from Chromium):"
	grep -E '^complete|Protocol|New, |Peer signature|Peer signing|Client certificate|subject=|issuer=' "$page" | head -n 10
	check "$name: s_server verified the holder's certificate (depth=0 ... CN = $HOLDER_CN)" \
		grep -q "depth=0 .*CN = $HOLDER_CN" "$log"
	sed -n '/Client certificate/,$p' "$page" |
		sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' >"$WORK/$name-client.pem"
	check "$name: the page shows the client certificate = test/pki/doctor/auth.crt.pem" \
		test "$(fp "$WORK/$name-client.pem")" = "$(fp "$PKI/doctor/auth.crt.pem")"
	check "$name: protocol $proto" grep -q "New, $proto," "$page"
	check "$name: client signature /$sig/" grep -qE "$sig" "$page"
	echo "-- card: $("$HPKI_VCARD" ctl stats)"
	per_app=$(verify_per_app "$HPKI_PKCS11_DEBUG_FILE")
	check "$name: card got exactly 1 VERIFY with a PIN (verify_pin=$(card_stat verify_pin))" \
		test "$(card_stat verify_pin)" = 1
	check "$name: ...to the authentication application; signature PIN never asked ($per_app)" \
		test "$per_app" = "auth=1 sign=0"
	check "$name: the card signed the handshake (PSO=$(card_stat ins_2A))" test "$(card_stat ins_2A)" -ge 1
	check "$name: no authentication-PIN try lost ($("$HPKI_VCARD" ctl tries auth))" \
		test "$("$HPKI_VCARD" ctl tries auth)" = "ok 15"
}

POLICY_DIR=/etc/chromium/policies/managed
POLICY_FILE=$POLICY_DIR/hpki-test.json
policy_created=()
policy_install() { # json
	local d
	if [ -e "$POLICY_FILE" ]; then
		fail "$POLICY_FILE exists already; not overwriting it"
		return 1
	fi
	for d in /etc/chromium /etc/chromium/policies "$POLICY_DIR"; do
		[ -d "$d" ] || { mkdir "$d" && policy_created=("$d" "${policy_created[@]}"); }
	done
	nss_cleanup_hooks+=(policy_remove)
	printf '%s\n' "$1" >"$POLICY_FILE"
	cp "$POLICY_FILE" "$OUT/policy.json"
}
policy_remove() {
	local d
	[ -e "$POLICY_FILE" ] && rm -f "$POLICY_FILE"
	for d in "${policy_created[@]}"; do rmdir "$d" 2>/dev/null; done
	policy_created=()
	return 0
}
