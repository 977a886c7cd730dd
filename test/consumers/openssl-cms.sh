#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/openssl-cms.sh: issue 5, scenario 4 — an e-prescription style CMS
# signature with OpenSSL 3.0 through libp11's engine (libengine-pkcs11-openssl) and
# a pkcs11: URI, with the virtual HPKI card.
#
#   openssl cms -sign     signs a prescription with the *signature* key (signer and
#                         SignCA certificates embedded); the signature application's
#                         key asks for its PIN before every signature (userConsent,
#                         CKA_ALWAYS_AUTHENTICATE): libp11 0.4.12 logs in with the URI's
#                         pin-value and reads the context-specific PIN from its own
#                         prompt, which we answer on stdin (no terminal: setsid)
#   openssl cms -verify   against the test root only: "Verification successful"
#   openssl dgst -sign    a raw RSA-SHA256 signature, verified with the card's certificate
#   wrong PIN at the      prompt: no signature, CKR_PIN_INCORRECT, retry counter restored
#   signature prompt      by the next correct signature
#   the PINs went to the signature application only (module debug log)
#
# Self-contained: run it as is (it starts test/with-vcard itself) or under
# test/with-vcard. Needs root (with-vcard). Environment: HPKI_PKCS11_MODULE (default
# .libs/hpki-pkcs11.so), TEST_TIMEOUT (whole run, 300 s), KEEP_WORK=1 keeps the
# temporary directory. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.bash"
ENGINE_SO=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
need openssl openssl
need timeout coreutils
need setsid util-linux
need "$ENGINE_SO" libengine-pkcs11-openssl
reexec "$@"
begin

export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log
cd "$WORK" || exit 1

# The engine configuration a user writes (doc/consumers-tools.md). MODULE_PATH: without
# it libp11 loads p11-kit-proxy.so (every registered module). No FORCE_LOGIN: the
# private key is a private object (CKA_PRIVATE, PKCS#11 2.40 §4.4), so libp11 does not
# find it before login and logs in by itself with the URI's PIN.
cat >engine.cnf <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $MODULE
init = 0
EOF
cat >rx.txt <<'EOF'
処方箋 (TEST) / prescription (TEST)
患者: テスト 患者 / patient: TEST Patient
Rp1) TEST drug 5 mg  1 tablet  once daily after breakfast  14 days
医師: TEST Taro Yamada
EOF
openssl x509 -in "$PKI/doctor/sig.crt.pem" -pubkey -noout >sig.pub

sign_cms() { # pin-for-the-signature-prompt output
	printf '%s\n' "$1" | step 60 setsid -w env OPENSSL_CONF=engine.cnf \
		openssl cms -sign -engine pkcs11 -keyform engine \
		-inkey "$SIGN_URI;pin-value=$SIGN_PIN" -signer "$PKI/doctor/sig.crt.pem" \
		-certfile "$PKI/ca/sign-ca.pem" -md sha256 -in rx.txt -binary -outform DER -out "$2"
}
verify_cms() { # file
	OPENSSL_CONF=/dev/null step 30 openssl cms -verify -inform DER -in "$1" -content rx.txt -binary \
		-CAfile "$PKI/ca/root.pem" -out /dev/null
}
verifies_per_app() { # the module log's VERIFY-with-PIN APDUs, by the application selected last
	awk '/apdu: > .* 00 A4 04 0C 10 E8 28 BD 08 0F/ { app = ($0 ~ /00 00 00 00 00 02/) ? "auth" : "sign" }
	     /apdu: > .* 00 20 00 [0-9A-F][0-9A-F] [0-9A-F][0-9A-F] \*\*/ { n[app]++ }
	     END { printf "auth=%d sign=%d\n", n["auth"], n["sign"] }' "$1"
}

echo "== openssl cms -sign with $SIGN_URI"
"$HPKI_VCARD" ctl stats-reset >/dev/null
: >"$HPKI_PKCS11_DEBUG_FILE"
t0=$(date +%s%N)
sign_cms "$SIGN_PIN" rx.p7s >sign.out 2>&1
rc=$?
echo "   ($((($(date +%s%N) - t0) / 1000000)) ms)"
cat sign.out
check "cms -sign exits 0 (rc=$rc)" test "$rc" = 0
check "libp11 asked for the signature PIN at the signature (context-specific login)" \
	grep -q 'Enter PKCS#11 key PIN for' sign.out
check "a DER CMS SignedData was written" sh -c 'openssl cms -cmsout -inform DER -in rx.p7s -print -noout 2>/dev/null | grep -q "contentType: pkcs7-signedData"'
per_app=$(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE")
check "two PIN verifications (login + before the signature), both to the signature application ($per_app)" \
	test "$per_app" = "auth=0 sign=2"

echo "== openssl cms -verify against the test root only"
verify_cms rx.p7s >verify.out 2>&1
rc=$?
cat verify.out
check "cms -verify exits 0 (rc=$rc)" test "$rc" = 0
check "CMS Verification successful" grep -q 'Verification successful' verify.out
OPENSSL_CONF=/dev/null openssl cms -verify -inform DER -in rx.p7s -content rx.txt -binary \
	-CAfile "$PKI/ca/root.pem" -out /dev/null -signer signer.pem >/dev/null 2>&1
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null; }
check "the signer is the holder's signature certificate ($(fp signer.pem | cut -c1-30)...)" \
	test -n "$(fp signer.pem)" -a "$(fp signer.pem)" = "$(fp "$PKI/doctor/sig.crt.pem")"
printf 'tampered\n' >>rx.txt
verify_cms rx.p7s >tampered.out 2>&1
check "a changed prescription does not verify" sh -c "! grep -q 'Verification successful' tampered.out"
sed -i '$d' rx.txt

echo "== openssl dgst -sha256 -sign (raw PKCS#1 v1.5 signature)"
printf '%s\n' "$SIGN_PIN" | step 60 setsid -w env OPENSSL_CONF=engine.cnf openssl dgst -sha256 \
	-engine pkcs11 -keyform engine -sign "$SIGN_URI;pin-value=$SIGN_PIN" -out rx.sig rx.txt >dgst.out 2>&1
rc=$?
check "dgst -sign exits 0 (rc=$rc)" test "$rc" = 0
OPENSSL_CONF=/dev/null openssl dgst -sha256 -verify sig.pub -signature rx.sig rx.txt >dgstv.out 2>&1
cat dgstv.out
check "the signature verifies with the card's signature certificate" grep -q 'Verified OK' dgstv.out

echo "== -passin instead of pin-value"
printf '%s\n' "$SIGN_PIN" | step 60 setsid -w env OPENSSL_CONF=engine.cnf openssl cms -sign \
	-engine pkcs11 -keyform engine -inkey "$SIGN_URI" -passin "pass:$SIGN_PIN" \
	-signer "$PKI/doctor/sig.crt.pem" -certfile "$PKI/ca/sign-ca.pem" -md sha256 \
	-in rx.txt -binary -outform DER -out rx2.p7s >passin.out 2>&1
rc=$?
check "cms -sign with -passin exits 0 (rc=$rc)" test "$rc" = 0
check "...and verifies" verify_cms rx2.p7s

echo "== wrong PIN at the signature prompt"
sign_cms 0000 bad.p7s >bad.out 2>&1
rc=$?
tail -n 3 bad.out
check "cms -sign fails (rc=$rc)" test "$rc" != 0
check "...with CKR_PIN_INCORRECT from the module" grep -q 'PIN incorrect' bad.out
check "...and writes no signature" test ! -s bad.p7s
sign_cms "$SIGN_PIN" rx3.p7s >again.out 2>&1
check "the right PIN afterwards signs again" verify_cms rx3.p7s

finish
