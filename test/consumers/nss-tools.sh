#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/nss-tools.sh: issue 5, scenario 2 — the NSS tools (libnss3-tools)
# with hpki-pkcs11.so and the virtual HPKI card.
#
#   modutil -add            registers the module in a fresh NSS database
#   certutil -L -h all      lists the holder's certificates without any PIN, nicknamed
#                           "<token label>:<certificate label>", the two EE certificates
#                           as user certificates (u,u,u: NSS found their private keys)
#   certutil -L -n NICK     finds each EE certificate by nickname; it is the right one
#   certutil -K -h TOKEN    lists the private key after login (PIN from -f FILE), and
#                           the login went to that token's application only
#   -mechanisms FRIENDLY    ("public certificates" slot flag) lets NSS look certificates
#                           up by nickname without logging in
#
# Self-contained: run it as is (it starts test/with-vcard itself) or under
# test/with-vcard. Needs root (with-vcard), certutil and modutil. Environment:
# HPKI_PKCS11_MODULE (default .libs/hpki-pkcs11.so), TEST_TIMEOUT (whole run, 300 s),
# KEEP_WORK=1 keeps the temporary directory. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
need certutil libnss3-tools
need modutil libnss3-tools
need timeout coreutils
need openssl openssl
nss_reexec "$@"
nss_begin

export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log
DB=$WORK/nssdb
printf '%s\n' "$AUTH_PIN" >"$WORK/auth.pin"
printf '%s\n' "$SIGN_PIN" >"$WORK/sign.pin"

echo "== modutil: register $MODULE"
check "new NSS database" nss_db "$DB"
step 30 modutil -dbdir "sql:$DB" -add HPKI -libfile "$MODULE" -force >"$WORK/add.out" 2>&1
rc=$?
cat "$WORK/add.out"
check "modutil -add exits 0 (rc=$rc)" test "$rc" = 0
check "modutil -add says the module was added" grep -q 'Module "HPKI" added' "$WORK/add.out"
# Plain -list: "-list HPKI" also prints the empty slots' details and exits 32 with
# 'Unable to get information about token ""', because C_GetTokenInfo on a slot
# without a card is CKR_TOKEN_NOT_PRESENT (PKCS #11 3.0 §5.5) — vpcd has 2 slots.
step 30 modutil -dbdir "sql:$DB" -list >"$WORK/list.out" 2>&1
rc=$?
sed -n '/slot:/,$p' "$WORK/list.out" | grep -E 'slot:|token:'
check "modutil -list exits 0 (rc=$rc)" test "$rc" = 0
check "modutil -list shows token '$AUTH_TOKEN'" grep -q "token: $AUTH_TOKEN\$" "$WORK/list.out"
check "modutil -list shows token '$SIGN_TOKEN'" grep -q "token: $SIGN_TOKEN\$" "$WORK/list.out"

echo "== certutil -L -h all (no PIN given; stdin closed)"
"$HPKI_VCARD" ctl stats-reset >/dev/null
step 60 certutil -L -d "sql:$DB" -h all </dev/null >"$WORK/L.out" 2>"$WORK/L.err"
rc=$?
cat "$WORK/L.out"
check "certutil -L exits 0 (rc=$rc)" test "$rc" = 0
nick_line() { grep -qE "^$(printf '%s' "$1" | sed 's/[][().*]/\\&/g') +$2 *\$" "$WORK/L.out"; }
check "authentication certificate '$AUTH_TOKEN:$EE_LABEL' is a user cert (u,u,u)" nick_line "$AUTH_TOKEN:$EE_LABEL" 'u,u,u'
check "signature certificate '$SIGN_TOKEN:$EE_LABEL' is a user cert (u,u,u)" nick_line "$SIGN_TOKEN:$EE_LABEL" 'u,u,u'
check "root CA certificate listed from the card, no trust (,,)" \
	nick_line "$AUTH_TOKEN:$ROOT_LABEL" ',,'
check "authentication CA certificate listed from the card" \
	grep -q "^$AUTH_TOKEN:$CA_LABEL " "$WORK/L.out"
check "signature CA certificate listed from the card" \
	grep -q "^$SIGN_TOKEN:$CA_LABEL " "$WORK/L.out"
check "listing needed no PIN: no VERIFY with a PIN reached the card (verify_pin=$(card_stat verify_pin))" \
	test "$(card_stat verify_pin)" = 0

echo "== certutil -L -n NICK: the right certificate behind each nickname"
same_cert() { # token nickname pinfile reference.pem
	# -f is used only with -h TOKEN; with "-h all" NSS would log in to every token
	# of the module with the same PIN (and spend a try of the other application).
	step 60 certutil -L -d "sql:$DB" -h "$1" -n "$1:$2" -f "$3" -a </dev/null >"$WORK/one.pem" 2>"$WORK/one.err" ||
		{ cat "$WORK/one.err"; return 1; }
	[ "$(openssl x509 -in "$WORK/one.pem" -noout -fingerprint -sha256)" = \
		"$(openssl x509 -in "$4" -noout -fingerprint -sha256)" ]
}
check "'$AUTH_TOKEN:$EE_LABEL' is test/pki/doctor/auth.crt.pem" \
	same_cert "$AUTH_TOKEN" "$EE_LABEL" "$WORK/auth.pin" "$TOP/test/pki/doctor/auth.crt.pem"
check "'$SIGN_TOKEN:$EE_LABEL' is test/pki/doctor/sig.crt.pem" \
	same_cert "$SIGN_TOKEN" "$EE_LABEL" "$WORK/sign.pin" "$TOP/test/pki/doctor/sig.crt.pem"

echo "== certutil -K -h TOKEN -f PINFILE: keys after login"
keys() { # token pinfile key-id
	"$HPKI_VCARD" ctl stats-reset >/dev/null
	: >"$HPKI_PKCS11_DEBUG_FILE"
	step 60 certutil -K -d "sql:$DB" -h "$1" -f "$2" </dev/null >"$WORK/K.out" 2>&1
	rc=$?
	cat "$WORK/K.out"
	check "certutil -K -h '$1' exits 0 (rc=$rc)" test "$rc" = 0
	check "an RSA private key with CKA_ID $3 labelled '$KEY_LABEL'" \
		grep -qE "^< *0> rsa +$3 +$KEY_LABEL\$" "$WORK/K.out"
}
keys "$AUTH_TOKEN" "$WORK/auth.pin" 02
per_app=$(verify_per_app "$HPKI_PKCS11_DEBUG_FILE")
check "one VERIFY, to the authentication application ($per_app, card verify_pin=$(card_stat verify_pin))" \
	test "$per_app $(card_stat verify_pin)" = "auth=1 sign=0 1"
keys "$SIGN_TOKEN" "$WORK/sign.pin" 01
per_app=$(verify_per_app "$HPKI_PKCS11_DEBUG_FILE")
check "one VERIFY, to the signature application ($per_app, card verify_pin=$(card_stat verify_pin))" \
	test "$per_app $(card_stat verify_pin)" = "auth=0 sign=1 1"

echo "== wrong PIN: refused, nothing listed"
printf '0000\n' >"$WORK/bad.pin"
step 60 certutil -K -d "sql:$DB" -h "$AUTH_TOKEN" -f "$WORK/bad.pin" </dev/null >"$WORK/bad.out" 2>&1
rc=$?
cat "$WORK/bad.out"
check "certutil -K with a wrong PIN fails cleanly (rc=$rc: certutil's error exit 255, not a signal)" test "$rc" = 255
check "...saying the PIN was incorrect" grep -q SEC_ERROR_BAD_PASSWORD "$WORK/bad.out"
check "...and lists no key" sh -c "! grep -q '^< *0> rsa' '$WORK/bad.out'"
# Give the try back: a correct VERIFY resets the counter (ISO 7816-4 VERIFY).
step 60 certutil -K -d "sql:$DB" -h "$AUTH_TOKEN" -f "$WORK/auth.pin" </dev/null >/dev/null 2>&1
check "a correct PIN afterwards restores the retry counter" \
	sh -c '[ "$("$HPKI_VCARD" ctl tries auth)" = "ok 15" ]'

echo "== FRIENDLY (public certificates) slot flag: nickname lookup without a PIN"
DB2=$WORK/nssdb-friendly
nss_db "$DB2"
step 30 modutil -dbdir "sql:$DB2" -add HPKI -libfile "$MODULE" -mechanisms FRIENDLY -force >/dev/null 2>&1
check "pkcs11.txt records slotFlags=PublicCerts" grep -q 'slotFlags=PublicCerts' "$DB2/pkcs11.txt"
"$HPKI_VCARD" ctl stats-reset >/dev/null
check "certutil -L -n '$SIGN_TOKEN:$EE_LABEL' without -f finds it" \
	sh -c "timeout -k 5 60 certutil -L -d 'sql:$DB2' -n '$SIGN_TOKEN:$EE_LABEL' </dev/null >/dev/null 2>&1"
check "...and no PIN reached the card (verify_pin=$(card_stat verify_pin))" test "$(card_stat verify_pin)" = 0

finish
