#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/chromium-picker.sh: issue 12, scenario 5 — Chromium without any
# policy, as on a doctor's own PC: when the site asks for a client certificate,
# Chromium shows its certificate picker ("Select a certificate"), which must list the
# holder's authentication certificate and no CA certificate; choosing it works.
# Real window on a private X server (Xvfb), keyboard only (xdotool).
#
# Same set-up as chromium-tls.sh ($HOME/.pki/nssdb with hpki-pkcs11.so) but no policy
# file (the test checks that none is present). s_server -tls1_3 on 127.0.0.1.
# Order on screen, as measured: first "Unlock Security Device" (Chromium logs in to the
# token to find the certificates that have a private key), then the picker.
# Checked: the unlock dialog names the authentication token; the picker (read with
# tesseract) lists exactly one certificate, "TEST Taro Yamada" from the HPKI
# authentication CA, and none of the CA certificates the token also holds (root,
# AuthCA, SignCA); End then Return (the last row, so a second row would be the one
# chosen) sends it: s_server verified the holder's authentication certificate, the
# page shows it, the card saw exactly 1 VERIFY, to the authentication application.
#
# Screenshots: test/consumers/output/chromium-picker/. Self-contained; needs root and
# test/consumers/packages-gui.txt. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
. "$(dirname "$0")/gui-lib.bash"
. "$(dirname "$0")/chromium-lib.bash"
gui_need
chromium_need
nss_reexec "$@"
nss_begin
gui_begin chromium-picker
export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$OUT/module.log
xdotool mousemove 1279 899 # the pointer out of the way (no tooltips in the screenshots)
chromium_setup
left=$(ls /etc/chromium/policies/managed/ /etc/chromium/policies/recommended/ 2>/dev/null | tr '\n' ' ')
check "no Chromium policy present (${left:-none})" test -z "$left"

name=picker
server "$name" -tls1_3
"$HPKI_VCARD" ctl stats-reset >/dev/null
: >"$HPKI_PKCS11_DEBUG_FILE"
t0=$(date +%s)
browse "$name"
unlock_dialog "$name"

echo "== the certificate picker"
text= f=
for _ in $(seq 30); do
	sleep 1
	f=$WORK/poll.png
	import -window root "$f" 2>/dev/null
	text=$(ocr "$f")
	grep -q "Select a certificate" <<<"$text" && break
done
check "$name: 'Select a certificate' picker appears" grep -q "Select a certificate" <<<"$text"
sleep 0.5
shot "$name-picker"
f=$(ls "$OUT"/*-"$name"-picker.png | tail -n 1)
# Black-and-white: the first row is highlighted. A row reads "<subject> <issuer>
# <serial>" (every issuer is an HPKI CA or the root); Chromium also shows the focused
# row's subject as a tooltip (name only, not counted).
text=$(ocr "$f" "" bw)
printf '%s\n' "$text" | grep -v '^ *$' | sed 's/^/   picker (tesseract): /'
rows=$(grep -cE "TEST-HPKI|Root CA|MHLW" <<<"$text")
check "$name: exactly one certificate row (rows read: $rows)" test "$rows" = 1
check "$name: ...'$HOLDER_CN' issued by the HPKI authentication CA (TEST-HPKI-01-Auth…)" \
	grep -q "$HOLDER_CN.*TEST-HPKI-01-Aut" <<<"$text"
no_ca() { ! grep -qE 'Root CA|MHLW|SignCA|AuthCA-for|HPKI-01-Sign' <<<"$text"; }
check "$name: no CA certificate listed (no root, AuthCA or SignCA subject)" no_ca
w=$(xdotool search --onlyvisible --name ' - Chromium$' | head -n 1)
key_to "$w" End Return
wait_page "$name"
echo "($name: $(($(date +%s) - t0)) s from start to page)"
page_checks "$name" TLSv1.3 'Peer signature type: RSA-PSS'
echo "(scenario ran $(elapsed) s)"
stop_all
finish
