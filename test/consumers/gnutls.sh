#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/gnutls.sh: issue 5, scenario 6 — GnuTLS p11tool (gnutls-bin) with
# hpki-pkcs11.so and the virtual HPKI card.
#
#   p11tool --list-tokens      both tokens, with URIs carrying token label, serial,
#                              manufacturer and model (RFC 7512, consumer-expectations §5.3)
#   p11tool --list-all-certs   per token URI, without a PIN: the holder's certificate and
#                              the CA certificates; --export gives back the card's DER
#   p11tool --list-privkeys    after login: the key, CKA_PRIVATE / sensitive
#   p11tool --test-sign        both keys, PKCS#1 v1.5 and RSA-PSS: GnuTLS signs, then verifies
#                              against the certificate's and the token's public key; the
#                              signature key's context-specific login reuses the PIN
#   the PIN goes to the right application only (module debug log)
#
# Self-contained: run it as is (it starts test/with-vcard itself) or under
# test/with-vcard. Needs root (with-vcard). Environment: HPKI_PKCS11_MODULE (default
# .libs/hpki-pkcs11.so), TEST_TIMEOUT (whole run, 300 s), KEEP_WORK=1 keeps the
# temporary directory. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.bash"
need p11tool gnutls-bin
need openssl openssl
need timeout coreutils
reexec "$@"
begin

export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log
cd "$WORK" || exit 1
P11TOOL=(step 60 p11tool --provider "$MODULE")

verifies_per_app() {
	awk '/apdu: > .* 00 A4 04 0[0C] 10 E8 28 BD 08 0F/ { app = ($0 ~ /00 00 00 00 00 02/) ? "auth" : "sign" }
	     /apdu: > .* 00 20 00 [0-9A-F][0-9A-F] [0-9A-F][0-9A-F] \*\*/ { n[app]++ }
	     END { printf "auth=%d sign=%d\n", n["auth"], n["sign"] }' "$1"
}

echo "== p11tool --list-tokens"
"${P11TOOL[@]}" --list-tokens </dev/null >tokens.out 2>&1
rc=$?
grep -E 'URL:|Label:|Serial:' tokens.out
check "--list-tokens exits 0 (rc=$rc)" test "$rc" = 0
for t in "$AUTH_TOKEN" "$SIGN_TOKEN"; do
	check "token '$t' listed with a URI naming label, serial, manufacturer and model" \
		grep -Eq "URL: pkcs11:model=ISO%207816-15%3A2016;manufacturer=JAHIS%20HPKI%20card;serial=[0-9A-F]{16};token=$(uri_enc "$t")\$" tokens.out
done
"${P11TOOL[@]}" --list-token-urls </dev/null >urls.out 2>&1
check "--list-token-urls gives two distinct URIs" test "$(sort -u urls.out | grep -c '^pkcs11:')" = 2

for which in auth sign; do
	if [ "$which" = auth ]; then tok=$AUTH_TOKEN; crt=auth.crt.pem
	else tok=$SIGN_TOKEN; crt=sig.crt.pem; fi
	turi="pkcs11:token=$(uri_enc "$tok")"
	echo "== p11tool --list-all-certs '$turi' (no PIN)"
	: >"$HPKI_PKCS11_DEBUG_FILE"
	"${P11TOOL[@]}" --list-all-certs "$turi" </dev/null >certs-$which.out 2>&1
	rc=$?
	grep -E 'URL:' certs-$which.out
	check "--list-all-certs exits 0 (rc=$rc)" test "$rc" = 0
	check "the holder's certificate is listed (object=$(uri_enc "$EE_LABEL");type=cert)" \
		grep -q "token=$(uri_enc "$tok");id=%0[12];object=$(uri_enc "$EE_LABEL");type=cert" certs-$which.out
	check "the issuing CA ('$CA_LABEL') is listed" grep -q "object=$(uri_enc "$CA_LABEL");type=cert" certs-$which.out
	check "the root CA is listed" grep -q "object=$(uri_enc "$ROOT_LABEL");type=cert" certs-$which.out
	check "no PIN was sent to the card ($(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE"))" \
		test "$(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE")" = "auth=0 sign=0"
	"${P11TOOL[@]}" --export "$turi;object=$(uri_enc "$EE_LABEL");type=cert" </dev/null >ee-$which.pem 2>/dev/null
	check "--export of the certificate gives the card's $crt" \
		test "$(openssl x509 -in ee-$which.pem -outform DER 2>/dev/null | sha256sum)" = \
		"$(openssl x509 -in "$PKI/doctor/$crt" -outform DER | sha256sum)"
done

for which in auth sign; do
	if [ "$which" = auth ]; then uri=$AUTH_URI pin=$AUTH_PIN want_one="auth=1 sign=0"
	else uri=$SIGN_URI pin=$SIGN_PIN; fi
	echo "== p11tool --list-privkeys --login (${which})"
	: >"$HPKI_PKCS11_DEBUG_FILE"
	"${P11TOOL[@]}" --login --set-pin="$pin" --list-privkeys "${uri%;object=*}" </dev/null >keys-$which.out 2>&1
	rc=$?
	grep -E 'URL:|Flags:' keys-$which.out
	check "--list-privkeys exits 0 (rc=$rc)" test "$rc" = 0
	check "one RSA-2048 private key labelled '$KEY_LABEL', CKA_PRIVATE, sensitive" sh -c \
		"grep -q 'Type: Private key (RSA-2048)' keys-$which.out && grep -q 'Label: $KEY_LABEL' keys-$which.out && grep -q 'Flags: CKA_PRIVATE;.*CKA_SENSITIVE' keys-$which.out && test \$(grep -c 'type=private' keys-$which.out) = 1"

	for params in "" RSA-PSS; do
		echo "== p11tool --login --test-sign ${params:+--sign-params $params }'$uri'"
		: >"$HPKI_PKCS11_DEBUG_FILE"
		"${P11TOOL[@]}" --login --set-pin="$pin" ${params:+--sign-params "$params"} --test-sign "$uri" \
			</dev/null >sign-$which$params.out 2>&1
		rc=$?
		cat sign-$which$params.out
		check "--test-sign ($which${params:+, $params}) exits 0 (rc=$rc)" test "$rc" = 0
		check "...signed and verified against the private key parameters and the token's public key" sh -c \
			"grep -q '^Signing using RSA-${params:+PSS-}SHA256... ok' sign-$which$params.out && grep -q 'Verifying against private key parameters... ok' sign-$which$params.out && grep -q 'Verifying against public key in the token... ok' sign-$which$params.out"
		got=$(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE")
		if [ "$which" = auth ]; then
			check "one login, to the authentication application ($got)" test "$got" = "$want_one"
		else
			# CKA_ALWAYS_AUTHENTICATE: GnuTLS logs in, then C_Login(CKU_CONTEXT_SPECIFIC) with
			# the same PIN before the signature — all on the signature application.
			check "PINs to the signature application only, at least one per signature ($got)" \
				sh -c "case '$got' in 'auth=0 sign='[2-9]) exit 0;; esac; exit 1"
		fi
	done
done

echo "== wrong PIN"
"${P11TOOL[@]}" --login --set-pin=0000 --test-sign "$AUTH_URI" </dev/null >wrong.out 2>&1
rc=$?
tail -n 2 wrong.out
check "--test-sign with a wrong PIN fails (rc=$rc)" test "$rc" != 0
"${P11TOOL[@]}" --login --set-pin="$AUTH_PIN" --test-sign "$AUTH_URI" </dev/null >right.out 2>&1
check "the right PIN afterwards works again" grep -q 'Verifying against public key in the token... ok' right.out

finish
