#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/libreoffice-odf.sh: issue 12, scenario 1 — a doctor signs a referral
# letter in LibreOffice Writer (File > Digital Signatures > Digital Signatures… > Sign
# Document…), in a real window on a private X server (Xvfb), answering both PIN
# dialogs with the keyboard as a user does (xdotool; no screen coordinates).
#
#   1. NSS database with hpki-sig-pkcs11.so and the test root, selected through the
#      LibreOffice certificate-path setting (CertDir) in a fresh profile.
#   2. A Writer document made through UNO and opened in a window; the menu command
#      .uno:Signature dispatched (what File > Digital Signatures > Digital Signatures…
#      runs); "Digital Signatures" dialog, Alt+S (Sign Document…).
#   3. First "Enter Password" dialog (NSS's token login while LibreOffice lists the
#      signing certificates): signature PIN. "Select X.509 Certificate": the holder's
#      certificate, a description, Sign. Second "Enter Password" (the per-signature
#      login the key's CKA_ALWAYS_AUTHENTICATE asks for): signature PIN.
#   4. Close; LibreOffice writes the signature into the .odt.
# Checked: the dialogs came in that order; the card got no PIN before the user typed
# one, exactly 2 VERIFYs with a PIN and 1 signature (PSO), no try lost; the .odt has
# META-INF/documentsignatures.xml; xmlsec1 --verify accepts it with the chain to the
# test root (signer = test/pki/doctor/sig.crt.pem); a changed content.xml is refused;
# LibreOffice's own verifier (UNO) reports the signature valid and the certificate
# valid; reopened in the window, the title says "(Signed)" and the info bar "This
# document is digitally signed and the signature is valid." (read with tesseract);
# the card saw no further VERIFY; LibreOffice and Xvfb are gone afterwards.
#
# Screenshots of every step: test/consumers/output/libreoffice-odf/ (HPKI_TEST_OUTPUT).
# Self-contained (starts test/with-vcard itself). Needs root, the packages of
# test/consumers/packages-gui.txt. Environment: HPKI_PKCS11_SIG_MODULE, TEST_TIMEOUT
# (default 300 s), KEEP_WORK=1. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
. "$(dirname "$0")/gui-lib.bash"
. "$(dirname "$0")/libreoffice-lib.bash"
gui_need
lo_need
need xmlsec1 xmlsec1
need openssl openssl
nss_reexec "$@"
nss_begin
gui_begin libreoffice-odf
export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$OUT/module.log

lo_setup
lo_start
DOC=$WORK/referral.odt
uno make-doc "$DOC" 'TEST referral letter (fictional)\nTo: TEST Hospital, Department of Cardiology\nPatient: TEST Hanako Suzuki, born 1970-01-01\nPlease see this patient for a follow-up examination.'
check "made a Writer document" test -s "$DOC"
uno open "$DOC"
w=$(wait_window '^referral\.odt - LibreOffice Writer$' 30)
check "document open in a window ('referral.odt - LibreOffice Writer')" test -n "$w"
sleep 1
shot document

echo "== File > Digital Signatures > Digital Signatures…"
"$HPKI_VCARD" ctl stats-reset >/dev/null
lo_dispatch .uno:Signature
w=$(wait_window '^Digital Signatures$' 30)
check "'Digital Signatures' dialog" test -n "$w"
sleep 0.5
shot digital-signatures-dialog
key_to "$w" alt+s # Sign Document…

echo "== first PIN dialog: token login to list the certificates"
pw=$(wait_window '^Enter Password' 30)
check "'Enter Password' dialog appears" test -n "$pw"
check "'Select X.509 Certificate' is behind it" sh -c "xdotool search --onlyvisible --name '^Select X.509 Certificate\$' >/dev/null"
sleep 0.5
shot pin-dialog-1-token-login
check "no PIN reached the card before it was typed (verify_pin=$(card_stat verify_pin))" \
	test "$(card_stat verify_pin)" = 0
cert_pin "$pw" "$SIGN_PIN"
check "the PIN dialog closed" wait_no_window '^Enter Password' 15
check "one VERIFY after the first PIN (verify_pin=$(card_stat verify_pin))" test "$(card_stat verify_pin)" = 1

echo "== Select X.509 Certificate: the holder's certificate, a description, Sign"
sw=$(wait_window '^Select X.509 Certificate$' 5)
sleep 0.5
shot certificate-list
describe() { # the certificate row, then a description (proves the keyboard arrived)
	key_to "$1" Down alt+d ctrl+a
	xdotool type --delay 30 "TEST referral (fictional)"
}
check "certificate selected and description typed (the dialog changed)" \
	retry_until_changed "$sw" describe "$sw"
shot certificate-selected
key_to "$sw" Return # Sign is the default button

echo "== second PIN dialog: the per-signature login"
pw=$(wait_window '^Enter Password' 30)
check "'Enter Password' appears a second time (per-signature PIN)" test -n "$pw"
sleep 0.5
shot pin-dialog-2-signature
check "still one VERIFY, no signature yet (verify_pin=$(card_stat verify_pin) PSO=$(card_stat ins_2A))" \
	test "$(card_stat verify_pin)/$(card_stat ins_2A)" = 1/0
cert_pin "$pw" "$SIGN_PIN"
check "the PIN dialog closed" wait_no_window '^Enter Password' 15
sleep 1.5
shot signed-dialog
stats=$("$HPKI_VCARD" ctl stats)
echo "card: $stats"
check "card: exactly 2 VERIFYs with a PIN (verify_pin=$(card_stat verify_pin))" test "$(card_stat verify_pin)" = 2
check "card: exactly 1 signature (PSO COMPUTE DIGITAL SIGNATURE=$(card_stat ins_2A))" test "$(card_stat ins_2A)" = 1
check "no signature-PIN try lost ($("$HPKI_VCARD" ctl tries sig))" test "$("$HPKI_VCARD" ctl tries sig)" = "ok 15"
per_app=$(verify_per_app "$HPKI_PKCS11_DEBUG_FILE")
check "both VERIFYs went to the signature application ($per_app)" test "$per_app" = "auth=0 sign=2"

echo "== Close: the signature is written into the document"
key_to "$(wait_window '^Digital Signatures$' 5)" alt+c
for _ in $(seq 50); do kill -0 "$DISPATCH_PID" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$DISPATCH_PID" 2>/dev/null; then # the first Close can be swallowed
	w=$(wait_window '^Digital Signatures$' 2) && key_to "$w" alt+c
	for _ in $(seq 50); do kill -0 "$DISPATCH_PID" 2>/dev/null || break; sleep 0.2; done
fi
check "the dialog closed (dispatch returned)" sh -c "! kill -0 $DISPATCH_PID 2>/dev/null"
w=$(wait_window '^referral\.odt \(Signed\) - LibreOffice Writer$' 15)
check "window title 'referral.odt (Signed) - LibreOffice Writer'" test -n "$w"
sleep 1
shot signed-document
uno close-all

echo "== the signed file"
unzip -l "$DOC" | grep -E 'META-INF|content.xml'
check "the .odt carries META-INF/documentsignatures.xml" \
	sh -c "unzip -l '$DOC' | grep -q 'META-INF/documentsignatures.xml'"
X=$WORK/unpacked
mkdir -p "$X" && (cd "$X" && unzip -q "$DOC")
cp "$X/META-INF/documentsignatures.xml" "$OUT/documentsignatures.xml" 2>/dev/null
# xmlsec1 resolves the references (content.xml, styles.xml, ...) relative to the
# signature file, so it runs at the package root.
xmlverify() { # signature file inside $X
	(cd "$X" && step 60 xmlsec1 --verify --enabled-reference-uris same-doc,local,remote \
		--id-attr:Id SignatureProperty \
		--id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" \
		--trusted-pem "$PKI/ca/root.pem" --untrusted-pem "$PKI/ca/sign-ca.pem" "$1")
}
cp "$X/META-INF/documentsignatures.xml" "$X/sig.xml"
xmlverify sig.xml >"$OUT/xmlsec1.out" 2>&1
rc=$?
cat "$OUT/xmlsec1.out"
check "xmlsec1 --verify: OK with the chain to the test root (rc=$rc)" test "$rc" = 0
check "xmlsec1: every reference verified" grep -qE 'SignedInfo References \(ok/all\): ([0-9]+)/\1$' "$OUT/xmlsec1.out"
grep -o 'SignatureMethod Algorithm="[^"]*"' "$X/sig.xml" | head -n 1
# The certificate in KeyInfo, as DER (base64 with line breaks and &#13; entities).
/usr/bin/python3 - "$X/sig.xml" "$WORK/signer.der" <<'EOF'
import base64, re, sys
xml = open(sys.argv[1]).read()
b64 = re.search(r"<X509Certificate>(.*?)</X509Certificate>", xml, re.S).group(1)
b64 = re.sub(r"&#1[03];|\s", "", b64)
open(sys.argv[2], "wb").write(base64.b64decode(b64))
EOF
fp() { openssl x509 -in "$1" -inform "$2" -noout -fingerprint -sha256 2>/dev/null || echo "no certificate in $1"; }
check "signer is test/pki/doctor/sig.crt.pem (the signature key)" \
	test "$(fp "$WORK/signer.der" DER)" = "$(fp "$PKI/doctor/sig.crt.pem" PEM)"
sed -i 's/Please see this patient/Please SEE this patient/' "$X/content.xml"
xmlverify sig.xml >"$OUT/xmlsec1-tampered.out" 2>&1
rc=$?
check "a changed content.xml is refused by xmlsec1 (rc=$rc)" test "$rc" != 0

echo "== LibreOffice's own verification"
uno signatures "$DOC" | tee "$OUT/lo-signatures.txt"
check "LibreOffice: one signature, valid, certificate valid (CertificateValidity 0)" \
	sh -c "test \$(wc -l <'$OUT/lo-signatures.txt') = 1 && grep -q '^valid=1 cert_status=0 .*subject=serialNumber=TEST0001,CN=$HOLDER_CN,' '$OUT/lo-signatures.txt'"
"$HPKI_VCARD" ctl stats-reset >/dev/null
uno open "$DOC"
w=$(wait_window '^referral\.odt \(Signed\) - LibreOffice Writer$' 30)
check "reopened: title 'referral.odt (Signed) - LibreOffice Writer'" test -n "$w"
sleep 1.5
shot reopened
ocr "$(ls "$OUT"/*-reopened.png)" 1280x60+0+70 | tee "$WORK/infobar.txt"
check "reopened: info bar 'This document is digitally signed and the signature is valid.'" \
	grep -q 'digitally signed and the signature is valid' "$WORK/infobar.txt"
check "reopening needed no PIN (verify_pin=$(card_stat verify_pin))" test "$(card_stat verify_pin)" = 0
uno close-all
lo_quit
echo "(scenario ran $(elapsed) s)"
stop_all
finish
