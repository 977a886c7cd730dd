#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/pdfsig.sh: issue 5, scenario 3 — signing a PDF (a referral letter)
# with the signature key through poppler's pdfsig and NSS, then verifying it.
#
#   1. A one-page PDF from test/consumers/mkpdf.py.
#   2. An NSS database with hpki-sig-pkcs11.so, the single-application library of the
#      signature application (token "HPKI Application"). Why not hpki-pkcs11.so: pdfsig
#      logs in to every token that needs a login while it looks for signing
#      certificates, and answers only the first password request with -nss-pwd; the
#      second token's request counts as a wrong password ("Password was not accepted
#      to open the NSS database", rc 2). Checked below, so a change in pdfsig shows up.
#   3. pdfsig -add-signature -nick "HPKI Application:HPKI END ENTITY CERTIFICATE" -nss-pwd PIN
#      -kpw PIN: -nss-pwd logs in to the token, -kpw answers the context-specific
#      login that the key's CKA_ALWAYS_AUTHENTICATE asks for before each signature.
#      pdfsig must exit 0: a crash at exit (C_Finalize from NSS_Shutdown in an atexit
#      handler) is a failure of the module.
#   4. pdfsig on the result with a database that trusts only the test root:
#      "Signature is Valid." and "Certificate is Trusted."
#   5. The signer is the signature certificate (test/pki/doctor/sig.crt.pem; the
#      authentication certificate has the same subject): pdfsig -dump, then
#      openssl cms -verify over the signed byte ranges against the test root.
#   6. Every signature on the card came right after its own VERIFY (signature PIN),
#      and the authentication application saw no PIN at all.
#   7. One flipped byte inside the signed range: "Digest Mismatch".
#
# Self-contained: run it as is (starts test/with-vcard itself) or under with-vcard.
# Needs root (with-vcard), pdfsig (poppler-utils), certutil/modutil (libnss3-tools),
# openssl, python3. Environment: HPKI_PKCS11_SIG_MODULE (default
# .libs/hpki-sig-pkcs11.so), HPKI_PKCS11_MODULE, TEST_TIMEOUT, KEEP_WORK=1.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
need pdfsig poppler-utils
need certutil libnss3-tools
need modutil libnss3-tools
need openssl openssl
need /usr/bin/python3 python3
need timeout coreutils
nss_reexec "$@"
nss_begin
SIG_MODULE=${HPKI_PKCS11_SIG_MODULE:-$TOP/.libs/hpki-sig-pkcs11.so}
[ -r "$SIG_MODULE" ] || { fail "$SIG_MODULE not built (make)"; finish; }
SIG_APP_TOKEN="HPKI Application" # single-application library (Makefile.am, JAHIS G31 §5.2.2)
NICK="$SIG_APP_TOKEN:$EE_LABEL"

export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log
step 10 /usr/bin/python3 "$TOP/test/consumers/mkpdf.py" "$WORK/letter.pdf" \
	"TEST referral letter for TEST Hanako Suzuki (fictional)"
check "made a one-page PDF" test -s "$WORK/letter.pdf"

echo "== NSS database with $SIG_MODULE"
nss_db "$WORK/sign-db"
step 30 modutil -dbdir "sql:$WORK/sign-db" -add "HPKI signature" -libfile "$SIG_MODULE" -force >/dev/null 2>&1
step 60 pdfsig -nssdir "$WORK/sign-db" -nss-pwd "$SIGN_PIN" -list-nicks "$WORK/letter.pdf" \
	>"$WORK/nicks.out" 2>&1
rc=$?
cat "$WORK/nicks.out"
check "pdfsig -list-nicks exits 0 (rc=$rc)" test "$rc" = 0
check "pdfsig offers '$NICK'" grep -qxF "$NICK" "$WORK/nicks.out"

echo "== pdfsig -add-signature with the signature key"
"$HPKI_VCARD" ctl stats-reset >/dev/null
: >"$HPKI_PKCS11_DEBUG_FILE"
t0=$(date +%s%N)
step 60 pdfsig -nssdir "$WORK/sign-db" -nss-pwd "$SIGN_PIN" -kpw "$SIGN_PIN" -add-signature \
	-nick "$NICK" -reason "TEST referral (fictional)" "$WORK/letter.pdf" "$WORK/signed.pdf" \
	>"$WORK/sign.out" 2>&1
rc=$?
echo "(pdfsig took $((($(date +%s%N) - t0) / 1000000)) ms)"
cat "$WORK/sign.out"
check "pdfsig -add-signature exits 0 (rc=$rc; 139 would be a crash at exit)" test "$rc" = 0
check "signed PDF written" test -s "$WORK/signed.pdf"
stats=$("$HPKI_VCARD" ctl stats)
echo "card: $stats"
per_app=$(verify_per_app "$HPKI_PKCS11_DEBUG_FILE")
pso=$(card_stat ins_2A)
check "the card signed (PSO COMPUTE DIGITAL SIGNATURE: $pso)" test "${pso:-0}" -ge 1
# Each PSO preceded, since the previous PSO, by a VERIFY with the PIN of the
# signature application (CKU_CONTEXT_SPECIFIC login, PKCS #11 3.0 §4.9 / §5.5).
each_sign_authorised() {
	awk '/apdu: > .* 00 20 00 [0-9A-F][0-9A-F] [0-9A-F][0-9A-F] \*\*/ { v = 1 }
		/apdu: > .* 00 2A 9E 9A/ { if (!v) bad++; v = 0; n++ }
		END { exit (n > 0 && bad == 0) ? 0 : 1 }' "$HPKI_PKCS11_DEBUG_FILE"
}
check "every signature had its own signature-PIN VERIFY just before it" each_sign_authorised
check "no PIN went to the authentication application ($per_app)" test "${per_app%% *}" = "auth=0"

echo "== verify with a database that trusts only the test root"
nss_db "$WORK/verify-db"
step 30 certutil -A -d "sql:$WORK/verify-db" -n "TEST MHLW HPKI Root CA V2" -t "CT,C,C" \
	-i "$TOP/test/pki/ca/root.pem"
step 60 pdfsig -nssdir "$WORK/verify-db" "$WORK/signed.pdf" >"$WORK/verify.out" 2>&1
rc=$?
cat "$WORK/verify.out"
check "pdfsig (verify) exits 0 (rc=$rc)" test "$rc" = 0
check "Signature is Valid" grep -q "Signature Validation: Signature is Valid." "$WORK/verify.out"
check "Certificate is Trusted" grep -q "Certificate Validation: Certificate is Trusted." "$WORK/verify.out"
check "signer is 'TEST Taro Yamada'" grep -q "Signer Certificate Common Name: $HOLDER_CN\$" "$WORK/verify.out"
check "whole document signed" grep -q "Total document signed" "$WORK/verify.out"

echo "== the signer certificate is the signature certificate (openssl cms)"
(cd "$WORK" && step 60 pdfsig -dump signed.pdf >/dev/null 2>&1)
check "pdfsig -dump wrote the CMS signature" test -s "$WORK/signed.pdf.sig0"
ranges=$(sed -n 's/.*Signed Ranges: \[\([0-9]*\) - \([0-9]*\)\], \[\([0-9]*\) - \([0-9]*\)\].*/\1 \2 \3 \4/p' \
	"$WORK/verify.out")
/usr/bin/python3 - "$WORK/signed.pdf" "$WORK/signed-content.bin" $ranges <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
a, b, c, d = (int(x) for x in sys.argv[3:7])
open(sys.argv[2], "wb").write(data[a:b] + data[c:d])
EOF
cat "$TOP/test/pki/ca/root.pem" >"$WORK/root.pem"
step 30 openssl cms -verify -inform DER -in "$WORK/signed.pdf.sig0" -binary \
	-content "$WORK/signed-content.bin" -CAfile "$WORK/root.pem" -purpose any \
	-signer "$WORK/signer.pem" -out /dev/null >"$WORK/cms.out" 2>&1
rc=$?
cat "$WORK/cms.out"
check "openssl cms -verify of the signed byte ranges against the test root (rc=$rc)" test "$rc" = 0
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null; }
check "signer = test/pki/doctor/sig.crt.pem (signature key), not the authentication cert" \
	test "$(fp "$WORK/signer.pem")" = "$(fp "$TOP/test/pki/doctor/sig.crt.pem")"

echo "== one flipped byte in the signed range"
/usr/bin/python3 - "$WORK/signed.pdf" "$WORK/tampered.pdf" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = data.index(b"TEST referral letter")
data[i] ^= 0x01  # "TEST" -> "UEST"
open(sys.argv[2], "wb").write(data)
EOF
step 60 pdfsig -nssdir "$WORK/verify-db" "$WORK/tampered.pdf" >"$WORK/tampered.out" 2>&1
grep 'Signature Validation' "$WORK/tampered.out"
check "tampered copy: Digest Mismatch" grep -q "Digest Mismatch" "$WORK/tampered.out"

echo "== the combined library hpki-pkcs11.so with pdfsig (documents the pdfsig limit)"
nss_db "$WORK/both-db"
step 30 modutil -dbdir "sql:$WORK/both-db" -add HPKI -libfile "$MODULE" -force >/dev/null 2>&1
"$HPKI_VCARD" ctl stats-reset >/dev/null
step 60 pdfsig -nssdir "$WORK/both-db" -nss-pwd "$SIGN_PIN" -kpw "$SIGN_PIN" -add-signature \
	-nick "$SIGN_TOKEN:$EE_LABEL" "$WORK/letter.pdf" "$WORK/both.pdf" >"$WORK/both.out" 2>&1
rc=$?
cat "$WORK/both.out"
check "pdfsig with both tokens refuses cleanly (rc=$rc, expected 2: one -nss-pwd for two PIN tokens)" \
	test "$rc" = 2
check "...without a wrong PIN reaching the card (auth tries left: $("$HPKI_VCARD" ctl tries auth))" \
	test "$("$HPKI_VCARD" ctl tries auth)" = "ok 15"

finish
