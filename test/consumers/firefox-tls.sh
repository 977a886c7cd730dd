#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/firefox-tls.sh: issue 5, scenario 1 — a doctor logs in to a regional
# medical network: Firefox ESR (headless) with hpki-pkcs11.so authenticates to an HTTPS
# server with the HPKI authentication certificate (TLS client authentication).
#
# Set-up, the ways a user or an administrator does it, each in a fresh profile whose NSS
# database trusts the test TLS root; security.default_personal_cert = "Select
# Automatically" (no certificate chooser):
#   A. hpki-pkcs11.so added with plain modutil -add, as Security Devices -> Load does.
#      In a browser process the module shows only the authentication token (a browser
#      logs in to every token with certificates; HPKI_PKCS11_TOKENS=all overrides), so
#      Firefox asks for the authentication PIN only; TLS 1.2 and TLS 1.3.
#   B. hpki-auth-pkcs11.so (authentication application only, token "HPKI Application")
#      through the SecurityDevices enterprise policy in /etc/firefox/policies (written
#      for the run and removed again; the test refuses to touch an existing policy);
#      TLS 1.3.
# The server: openssl s_server on 127.0.0.1 (a free port) demanding a client certificate
# from the HPKI authentication CA (-Verify 1 -CAfile AuthCA + root), -www status page:
#   TLS 1.2: s_server -tls1_2 -client_sigalgs RSA+SHA256:RSA+SHA384:RSA+SHA512 (the
#            CertificateRequest offers PKCS#1 v1.5 only) -> CKM_RSA_PKCS on the card
#   TLS 1.3: s_server -tls1_3 (RFC 8446 §4.4.3: RSA signatures are RSASSA-PSS) ->
#            CKM_RSA_PKCS_PSS, which the module offers because the card signs raw RSA
# The PIN: test/consumers/marionette.py replaces Firefox's prompter and answers the
# dialog "Please authenticate to the security device (<token label>)." with the PIN of
# the token it names; it records every prompt.
# Checked for each run (a fresh Firefox each): the page loaded; s_server verified the
# holder's certificate and the page's "Client certificate" is test/pki/doctor/
# auth.crt.pem; the protocol and the peer signature type; exactly one PIN prompt, for
# the authentication token, none for the signature token; on the card exactly one
# VERIFY with a PIN, to the authentication application (module APDU log), and PSO
# COMPUTE DIGITAL SIGNATURE; Firefox and s_server are gone afterwards.
#
# Self-contained: run as is (starts test/with-vcard itself) or under with-vcard. Needs
# root, firefox-esr, openssl, certutil/modutil (libnss3-tools), python3. Environment:
# HPKI_PKCS11_MODULE, TEST_TIMEOUT (whole run, default 300 s), FIREFOX (default
# firefox-esr), KEEP_WORK=1. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
FIREFOX=${FIREFOX:-firefox-esr}
need "$FIREFOX" firefox-esr
need openssl openssl
need certutil libnss3-tools
need modutil libnss3-tools
need /usr/bin/python3 python3
need setsid util-linux
need timeout coreutils
nss_reexec "$@"
nss_begin

PKI=$TOP/test/pki
export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log
# Firefox must never reach the network: everything below points at 127.0.0.1.
export MOZ_HEADLESS=1 MOZ_CRASHREPORTER_DISABLE=1 MOZ_DISABLE_AUTO_SAFE_MODE=1

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null || echo "no certificate in $1"; }
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Processes we start run in their own process group; the clean-up stops the groups.
groups=()
stop_group() { # pgid
	kill -TERM -- "-$1" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL -- "-$1" 2>/dev/null
	return 0
}
stop_all() {
	local g
	for g in "${groups[@]}"; do stop_group "$g"; done
	groups=()
}
nss_cleanup_hooks+=(stop_all)

# make_profile DIR: NSS database with the test TLS root trusted for servers.
make_profile() {
	nss_db "$1" && step 30 certutil -A -d "sql:$1" -n "TEST TLS Root CA" -t "CT,," -i "$PKI/tls/ca.pem"
}
cat "$PKI/ca/auth-ca.pem" "$PKI/ca/root.pem" >"$WORK/client-ca.pem"

write_prefs() { # profile marionette-port
	cat >"$1/user.js" <<EOF
user_pref("security.default_personal_cert", "Select Automatically");
user_pref("marionette.port", $2);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.startup.page", 0);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.topsites.contile.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.blockedURIs.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.prefetch-next", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.trr.mode", 5);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("security.remote_settings.crlite_filters.enabled", false);
user_pref("security.remote_settings.intermediates.enabled", false);
user_pref("security.OCSP.enabled", 0);
EOF
}

# run_case NAME PROFILE AUTH-TOKEN-LABEL PROTOCOL EXPECTED-PROTOCOL EXPECTED-SIGNATURE
#          [S_SERVER OPTIONS...]: one fresh Firefox against one s_server.
run_case() {
	local name=$1 profile=$2 auth_token=$3 proto=$4 expect_proto=$5 expect_sig=$6
	shift 6
	local port mport dir=$WORK/$name s_pid ff_pid rc
	mkdir -p "$dir"
	echo "== $name: Firefox -> openssl s_server $proto $*"
	port=$(free_port)
	setsid openssl s_server -accept "127.0.0.1:$port" -cert "$PKI/tls/server.pem" \
		-key "$PKI/tls/server.key.pem" -CAfile "$WORK/client-ca.pem" -Verify 1 -www \
		"$proto" "$@" >"$dir/s_server.log" 2>&1 </dev/null &
	s_pid=$!
	groups+=("$s_pid")
	for _ in $(seq 100); do
		grep -q ACCEPT "$dir/s_server.log" 2>/dev/null && break
		sleep 0.05
	done
	check "$name: s_server listens on 127.0.0.1:$port" grep -q ACCEPT "$dir/s_server.log"

	mport=$(free_port)
	write_prefs "$profile" "$mport"
	"$HPKI_VCARD" ctl stats-reset >/dev/null
	: >"$HPKI_PKCS11_DEBUG_FILE"
	local t0=$(date +%s%N)
	setsid "$FIREFOX" --headless --no-remote --marionette -remote-allow-system-access \
		--profile "$profile" about:blank >"$dir/firefox.log" 2>&1 </dev/null &
	ff_pid=$!
	groups+=("$ff_pid")
	step 120 /usr/bin/python3 "$TOP/test/consumers/marionette.py" --port "$mport" --timeout 100 \
		--url "https://localhost:$port/" --out "$dir/page.html" --prompts "$dir/prompts.json" \
		--pin "$auth_token=$AUTH_PIN" --pin "$SIGN_TOKEN=$SIGN_PIN"
	rc=$?
	echo "($name: Firefox start to quit $((($(date +%s%N) - t0) / 1000000)) ms)"
	check "$name: Marionette session ran and the page loaded (rc=$rc)" test "$rc" = 0
	# Firefox quits on Marionette:Quit; give it a moment, then make sure.
	for _ in $(seq 100); do kill -0 "$ff_pid" 2>/dev/null || break; sleep 0.1; done
	check "$name: Firefox exited after Quit" sh -c "! kill -0 $ff_pid 2>/dev/null"
	stop_group "$ff_pid"
	stop_group "$s_pid"

	# What the server saw.
	echo "-- s_server log:"
	grep -E 'depth=|verify|error|alert' "$dir/s_server.log" | head -n 12
	echo "-- status page:"
	grep -E 'Protocol|Cipher is|Peer signature|Peer signing|Client certificate|subject=|issuer=' \
		"$dir/page.html" | head -n 12
	check "$name: s_server verified the holder's certificate (depth=0 ... CN = $HOLDER_CN)" \
		grep -q "depth=0 .*CN = $HOLDER_CN" "$dir/s_server.log"
	check "$name: status page shows the client certificate" grep -q "Client certificate" "$dir/page.html"
	sed 's/<[^>]*>//g' "$dir/page.html" | sed -n '/Client certificate/,$p' |
		sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' >"$dir/client.pem"
	check "$name: it is the authentication certificate (test/pki/doctor/auth.crt.pem)" \
		test "$(fp "$dir/client.pem")" = "$(fp "$PKI/doctor/auth.crt.pem")"
	check "$name: protocol $expect_proto" grep -q "$expect_proto" "$dir/page.html"
	check "$name: client signature $expect_sig" grep -qE "$expect_sig" "$dir/page.html"

	# What the user was asked.
	echo "-- PIN prompts:"
	cat "$dir/prompts.json"
	echo
	local n_auth n_sign n_all
	n_all=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$dir/prompts.json" 2>/dev/null)
	n_auth=$(/usr/bin/python3 -c 'import json,sys; print(sum(p["token"] == sys.argv[2] for p in json.load(open(sys.argv[1]))))' \
		"$dir/prompts.json" "$auth_token" 2>/dev/null)
	n_sign=$(/usr/bin/python3 -c 'import json,sys; print(sum(p["token"] == sys.argv[2] for p in json.load(open(sys.argv[1]))))' \
		"$dir/prompts.json" "$SIGN_TOKEN" 2>/dev/null)
	check "$name: authentication PIN asked exactly once (prompts for '$auth_token': ${n_auth:-?})" test "${n_auth:-x}" = 1
	check "$name: signature PIN never asked (prompts for '$SIGN_TOKEN': ${n_sign:-?})" test "${n_sign:-x}" = 0
	check "$name: no other prompt (all prompts: ${n_all:-?})" test "${n_all:-x}" = 1

	# What the card saw.
	local per_app
	per_app=$(verify_per_app "$HPKI_PKCS11_DEBUG_FILE")
	echo "-- card: $("$HPKI_VCARD" ctl stats)"
	check "$name: card got one VERIFY with a PIN (verify_pin=$(card_stat verify_pin))" test "$(card_stat verify_pin)" = 1
	check "$name: ...to the authentication application ($per_app)" test "$per_app" = "auth=1 sign=0"
	check "$name: the card signed the handshake (PSO: $(card_stat ins_2A))" test "$(card_stat ins_2A)" -ge 1
}

TLS12="New, TLSv1.2," TLS13="New, TLSv1.3,"
PKCS1='Peer signature type: RSA$|Peer signature type: RSA[^-]' PSS='Peer signature type: RSA-PSS'
PKCS1_ONLY="RSA+SHA256:RSA+SHA384:RSA+SHA512"

echo "== A. hpki-pkcs11.so registered with plain modutil -add (Security Devices -> Load)"
# Firefox logs in to every token with certificates before it picks one
# (FindClientCertificatesWithPrivateKeys); in a browser the module shows only the
# authentication token, so the signature PIN is never asked.
PA=$WORK/profile-a
make_profile "$PA"
step 30 modutil -dbdir "sql:$PA" -add "HPKI" -libfile "$MODULE" -force >/dev/null 2>&1
check "A: module registered in the profile (pkcs11.txt)" grep -q "library=$MODULE" "$PA/pkcs11.txt"
run_case A-tls12 "$PA" "$AUTH_TOKEN" -tls1_2 "$TLS12" "$PKCS1" -client_sigalgs "$PKCS1_ONLY"
run_case A-tls13 "$PA" "$AUTH_TOKEN" -tls1_3 "$TLS13" "$PSS"

echo "== B. hpki-auth-pkcs11.so through the SecurityDevices enterprise policy"
# What an administrator deploys (and what Security Devices -> Load does: no flags).
# The authentication-only library shows one token, "HPKI Application", so Firefox
# cannot ask for the signature PIN. Firefox reads /etc/firefox/policies/policies.json
# (its SysConfD is /etc/firefox, also for firefox-esr); removed afterwards.
AUTH_MODULE=${HPKI_PKCS11_AUTH_MODULE:-$TOP/.libs/hpki-auth-pkcs11.so}
POLICY_DIR=/etc/firefox/policies
policy_restore() {
	[ -e "$POLICY_DIR/.hpki-test-owned" ] || return 0
	rm -f "$POLICY_DIR/policies.json" "$POLICY_DIR/.hpki-test-owned"
	rmdir "$POLICY_DIR" /etc/firefox 2>/dev/null
	return 0
}
if [ ! -r "$AUTH_MODULE" ]; then
	fail "B: $AUTH_MODULE not built (make)"
elif [ -e "$POLICY_DIR/policies.json" ]; then
	fail "B: $POLICY_DIR/policies.json exists already; not overwriting a real policy"
else
	nss_cleanup_hooks+=(policy_restore)
	mkdir -p "$POLICY_DIR" && touch "$POLICY_DIR/.hpki-test-owned"
	cat >"$POLICY_DIR/policies.json" <<EOF
{"policies": {
  "SecurityDevices": {"Add": {"HPKI authentication": "$AUTH_MODULE"}},
  "Preferences": {"security.default_personal_cert": {"Value": "Select Automatically", "Status": "default"}},
  "DisableTelemetry": true, "DisableAppUpdate": true}}
EOF
	PB=$WORK/profile-b
	make_profile "$PB"
	run_case B-tls13 "$PB" "HPKI Application" -tls1_3 "$TLS13" "$PSS"
	check "B: the policy registered the module in the profile" grep -q "library=$AUTH_MODULE" "$PB/pkcs11.txt"
	policy_restore
	check "B: policy removed again" test ! -e "$POLICY_DIR/policies.json"
fi

stop_all
left=$(pgrep -f -- "--profile $WORK/" || true)
check "no Firefox process of this test left (${left:-none})" test -z "$left"
finish
