#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/libreoffice-pdf.sh: issue 12, scenario 2 — a doctor exports a referral
# letter as a signed PDF from LibreOffice Writer (File > Export as PDF… > Digital
# Signatures), in a real window on a private X server (Xvfb), keyboard only (xdotool).
#
#   1. NSS database with hpki-sig-pkcs11.so and the test root (Tools > Options >
#      Security > Certificate), fresh profile; a Writer document opened in a window.
#   2. .uno:ExportToPDF (File > Export as PDF…): "PDF Options", tab Digital Signatures,
#      Select…: "Enter Password" (token login, signature PIN), "Select X.509
#      Certificate": the holder's certificate.
#   3. "Certificate password": the signature PIN (LibreOffice hands it to NSS for the
#      per-signature login), Reason; Export; the file dialog: the output path.
# Checked: the card got no PIN before one was typed, exactly 2 VERIFYs with a PIN and
# 1 signature, no try lost, all to the signature application; pdfsig with a database
# that trusts only the test root: "Signature is Valid.", "Certificate is Trusted.",
# signer TEST Taro Yamada, whole document signed; openssl cms -verify of the signed
# byte ranges against the test root, signer = test/pki/doctor/sig.crt.pem.
#
# Screenshots: test/consumers/output/libreoffice-pdf/ (HPKI_TEST_OUTPUT). Self-contained
# (starts test/with-vcard itself); needs root and test/consumers/packages-gui.txt.
# Environment: HPKI_PKCS11_SIG_MODULE, TEST_TIMEOUT, KEEP_WORK=1.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
. "$(dirname "$0")/gui-lib.bash"
. "$(dirname "$0")/libreoffice-lib.bash"
gui_need
lo_need
need pdfsig poppler-utils
need openssl openssl
nss_reexec "$@"
nss_begin
gui_begin libreoffice-pdf
export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$OUT/module.log

lo_setup
lo_start
DOC=$WORK/letter.odt PDF=$HOME/letter.pdf
uno make-doc "$DOC" 'TEST referral letter (fictional)\nTo: TEST Hospital, Department of Cardiology\nPatient: TEST Hanako Suzuki, born 1970-01-01\nPlease see this patient for a follow-up examination.'
uno open "$DOC"
w=$(wait_window '^letter\.odt - LibreOffice Writer$' 30)
check "document open in a window" test -n "$w"

echo "== File > Export as PDF… > Digital Signatures"
"$HPKI_VCARD" ctl stats-reset >/dev/null
lo_dispatch .uno:ExportToPDF
w=$(wait_window '^PDF Options$' 30)
check "'PDF Options' dialog" test -n "$w"
pdf_dialog_to_signatures "$w"
shot pdf-options-signatures-tab
pdf_select_cert "$w"
check "one VERIFY after the token login (verify_pin=$(card_stat verify_pin))" test "$(card_stat verify_pin)" = 1
pdf_password "$w" "$SIGN_PIN"
pdf_field "$w" alt+r "TEST referral (fictional)" # Reason
sleep 0.3
shot pdf-certificate-and-password
key_to "$w" Return # Export
pdf_save_as
for _ in $(seq 150); do kill -0 "$DISPATCH_PID" 2>/dev/null || break; sleep 0.2; done
check "export finished (dispatch returned)" sh -c "! kill -0 $DISPATCH_PID 2>/dev/null"
sleep 0.5
shot after-export
echo "windows: $(windows | tr '\n' ';')"
check "signed PDF written" test -s "$PDF"
stats=$("$HPKI_VCARD" ctl stats)
echo "card: $stats"
check "card: exactly 2 VERIFYs with a PIN (verify_pin=$(card_stat verify_pin))" test "$(card_stat verify_pin)" = 2
check "card: exactly 1 signature (PSO=$(card_stat ins_2A))" test "$(card_stat ins_2A)" = 1
check "no signature-PIN try lost ($("$HPKI_VCARD" ctl tries sig))" test "$("$HPKI_VCARD" ctl tries sig)" = "ok 15"
per_app=$(verify_per_app "$HPKI_PKCS11_DEBUG_FILE")
check "both VERIFYs went to the signature application ($per_app)" test "$per_app" = "auth=0 sign=2"
uno close-all
lo_quit
cp "$PDF" "$OUT/letter-signed.pdf" 2>/dev/null

echo "== pdfsig with a database that trusts only the test root"
nss_db "$WORK/verify-db"
step 30 certutil -A -d "sql:$WORK/verify-db" -n "TEST MHLW HPKI Root CA V2" -t "CT,C,C" -i "$PKI/ca/root.pem"
step 60 pdfsig -nssdir "sql:$WORK/verify-db" "$PDF" >"$OUT/pdfsig.out" 2>&1
rc=$?
cat "$OUT/pdfsig.out"
check "pdfsig exits 0 (rc=$rc)" test "$rc" = 0
check "Signature is Valid" grep -q "Signature Validation: Signature is Valid." "$OUT/pdfsig.out"
check "Certificate is Trusted" grep -q "Certificate Validation: Certificate is Trusted." "$OUT/pdfsig.out"
check "signer is '$HOLDER_CN'" grep -q "Signer Certificate Common Name: $HOLDER_CN\$" "$OUT/pdfsig.out"
check "whole document signed" grep -q "Total document signed" "$OUT/pdfsig.out"

echo "== openssl cms over the signed byte ranges"
(cd "$(dirname "$PDF")" && step 60 pdfsig -dump "$(basename "$PDF")" >/dev/null 2>&1)
ranges=$(sed -n 's/.*Signed Ranges: \[\([0-9]*\) - \([0-9]*\)\], \[\([0-9]*\) - \([0-9]*\)\].*/\1 \2 \3 \4/p' "$OUT/pdfsig.out")
/usr/bin/python3 - "$PDF" "$WORK/signed-content.bin" $ranges <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
a, b, c, d = (int(x) for x in sys.argv[3:7])
open(sys.argv[2], "wb").write(data[a:b] + data[c:d])
EOF
step 30 openssl cms -verify -inform DER -in "$PDF.sig0" -binary \
	-content "$WORK/signed-content.bin" -CAfile "$PKI/ca/root.pem" -purpose any \
	-signer "$WORK/signer.pem" -out /dev/null >"$OUT/cms.out" 2>&1
rc=$?
cat "$OUT/cms.out"
check "openssl cms -verify against the test root (rc=$rc)" test "$rc" = 0
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null || echo "no certificate in $1"; }
check "signer = test/pki/doctor/sig.crt.pem (the signature key)" \
	test "$(fp "$WORK/signer.pem")" = "$(fp "$PKI/doctor/sig.crt.pem")"
echo "(scenario ran $(elapsed) s)"
stop_all
finish
