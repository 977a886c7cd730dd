#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/chromium-tls.sh: issue 12, scenario 4 — a doctor opens a regional
# medical network portal in Chromium (Chrome and Edge share its NSS path on Linux),
# which asks for the HPKI authentication certificate (TLS client authentication).
# Chromium runs in a real window on a private X server (Xvfb): headless Chromium cannot
# show the token's PIN dialog and hangs (see doc/consumers-browser-and-documents.md).
#
# Set-up as a user and an administrator do it:
#   - hpki-pkcs11.so in $HOME/.pki/nssdb (modutil -add; a HOME of the test's own), the
#     test TLS root trusted there for servers;
#   - the enterprise policy AutoSelectCertificateForUrls for https://localhost:PORT in
#     /etc/chromium/policies/managed/hpki-test.json (written for the run, removed again;
#     directories the test created are removed too): no certificate picker.
# Two cases, a fresh Chromium each, against openssl s_server on 127.0.0.1 demanding a
# certificate from the HPKI authentication CA:
#   tls13: -tls1_3 (RSA signatures are RSA-PSS, CKM_RSA_PKCS_PSS on the card)
#   tls12: -tls1_2 -client_sigalgs RSA+SHA256:RSA+SHA384:RSA+SHA512 (PKCS #1 v1.5)
# The "Unlock Security Device" dialog ("Please unlock HPKI Auth TEST Taro Yamada to
# authenticate to localhost with your certificate.") is answered once with the
# authentication PIN, typed with xdotool.
# Checked per case: the dialog names the authentication token (tesseract), the card got
# no PIN before it was typed; the page loaded in Chromium (read over the DevTools pipe
# by chromium-page.py) and shows the protocol, the client signature type and the
# holder's authentication certificate (= test/pki/doctor/auth.crt.pem); s_server
# verified that certificate; the card saw exactly 1 VERIFY with a PIN, to the
# authentication application (module APDU log), the signature PIN was never asked;
# Chromium and s_server stopped. At the end the policy is gone.
#
# Screenshots: test/consumers/output/chromium-tls/. Self-contained (starts
# test/with-vcard itself); needs root and test/consumers/packages-gui.txt.
# Environment: HPKI_PKCS11_MODULE, TEST_TIMEOUT, KEEP_WORK=1. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
. "$(dirname "$0")/gui-lib.bash"
. "$(dirname "$0")/chromium-lib.bash"
gui_need
chromium_need
nss_reexec "$@"
nss_begin
gui_begin chromium-tls
export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$OUT/module.log
xdotool mousemove 1279 899 # the pointer out of the way (no tooltips in the screenshots)
chromium_setup

run_case() { # name protocol signature-regex s_server-options...
	local name=$1 proto=$2 sig=$3
	shift 3
	echo "== $name: Chromium -> openssl s_server $*"
	server "$name" "$@"
	policy_install '{"AutoSelectCertificateForUrls": ["{\"pattern\":\"https://localhost:'"$PORT"'\",\"filter\":{}}"]}' || return
	"$HPKI_VCARD" ctl stats-reset >/dev/null
	: >"$HPKI_PKCS11_DEBUG_FILE"
	local t0=$(date +%s)
	browse "$name"
	unlock_dialog "$name"
	wait_page "$name"
	echo "($name: $(($(date +%s) - t0)) s from start to page)"
	policy_remove
	page_checks "$name" "$proto" "$sig"
}

run_case tls13 TLSv1.3 'Peer signature type: RSA-PSS' -tls1_3
run_case tls12 TLSv1.2 'Peer signature type: RSA$|Peer signature type: RSA[^-]' \
	-tls1_2 -client_sigalgs RSA+SHA256:RSA+SHA384:RSA+SHA512
check "the policy file is removed again" test ! -e "$POLICY_FILE"
echo "(scenario ran $(elapsed) s)"
stop_all
finish
