#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/wrong-pin.sh: issue 8 §1 and §2 through the real programs.
#
# A wrong PIN, given once by the user and repeated by the application for ever
# (pdfsig answers every NSS password request with -kpw / -nss-pwd; NSS calls C_Login
# again for as long as the module says CKR_PIN_INCORRECT), costs the card exactly one
# try: the module refuses the repeat with CKR_PIN_INVALID before anything reaches the
# card, which makes NSS stop. Per scenario: tries lost (from the virtual card's
# counter), time until the program gives up (< 5 s), the module's log line saying why,
# and the right PIN working at once afterwards.
#
#   1. pdfsig -kpw WRONG (context-specific login of the signature key)
#   2. pdfsig -nss-pwd WRONG (token login)
#   3. an NSS program whose password callback always answers the same wrong PIN,
#      for CKU_USER and for CKU_CONTEXT_SPECIFIC (nss-same-pin.c, built here)
#   4. OpenSSL + libp11 with a wrong pin-value
#   5. logout means logout: pkcs11-tool logs in and exits (C_Logout/C_Finalize), then
#      opensc-tool's SELECT, MSE, PSO get 69 82; with HPKI_PKCS11_LOGOUT_RESET=0 the
#      login stays on the card (the old behaviour, for sites that want it).
# ssh with a wrong PIN through SSH_ASKPASS is in openssh.sh ("wrong PIN").
#
# Self-contained (starts test/with-vcard itself). Needs root, pdfsig, certutil, modutil,
# cc + libnss3-dev, openssl + libengine-pkcs11-openssl, pkcs11-tool + opensc-tool.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/nss-lib.bash"
ENGINE_SO=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
need pdfsig poppler-utils
need certutil libnss3-tools
need modutil libnss3-tools
need cc gcc
need pkg-config pkg-config
need /usr/include/nss/pk11pub.h libnss3-dev
need openssl openssl
need "$ENGINE_SO" libengine-pkcs11-openssl
need pkcs11-tool opensc
need opensc-tool opensc
need /usr/bin/python3 python3
need timeout coreutils
need setsid util-linux
nss_reexec "$@"
nss_begin
cd "$WORK" || exit 1
SIG_MODULE=$(dirname "$MODULE")/hpki-sig-pkcs11.so
NICK="HPKI Application:$EE_LABEL"
WRONG=9999
export HPKI_PKCS11_DEBUG=1 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log

tries() { "$HPKI_VCARD" ctl tries "$1" | cut -d' ' -f2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The right PIN at once, by another program: the counter is back to 15.
right_pin_works() { # app pin token
	local module=$MODULE
	[ "$3" = "HPKI Application" ] && module=$SIG_MODULE
	step 30 pkcs11-tool --module "$module" --token-label "$3" --login --pin "$2" -O >right.out 2>&1 &&
		test "$(tries "$1")" = 15
}

# scenario NAME APP TOKEN PIN EXPECT_RC(nonzero|0) COMMAND...
scenario() {
	local name=$1 app=$2 token=$3 pin=$4 expect=$5 before after t0 ms rc
	shift 5
	echo "== $name"
	before=$(tries "$app")
	: >"$HPKI_PKCS11_DEBUG_FILE"
	t0=$(now_ms)
	step 30 "$@" >out.txt 2>&1
	rc=$?
	ms=$(($(now_ms) - t0))
	after=$(tries "$app")
	tail -n 3 out.txt
	echo "   (rc=$rc, $ms ms, $app tries $before -> $after)"
	if [ "$expect" = 0 ]; then check "$name: the program reports the failure (rc=$rc)" test "$rc" = 0
	else check "$name: the program fails (rc=$rc)" test "$rc" != 0; fi
	check "$name: the card lost exactly one try ($before -> $after)" test "$((before - after))" = 1
	check "$name: gave up within 5 s ($ms ms)" test "$ms" -lt 5000
	check "$name: the module's log says why" grep -q "PIN incorrect\|not sent again" "$HPKI_PKCS11_DEBUG_FILE"
	grep -m2 "PIN incorrect\|not sent again" "$HPKI_PKCS11_DEBUG_FILE" | sed 's/^/   log: /'
	check "$name: the right PIN works at once afterwards" right_pin_works "$app" "$pin" "$token"
}

step 10 /usr/bin/python3 "$TOP/test/consumers/mkpdf.py" letter.pdf "TEST referral letter (fictional)"
nss_db "$WORK/sign-db"
step 30 modutil -dbdir "sql:$WORK/sign-db" -add "HPKI signature" -libfile "$SIG_MODULE" -force >/dev/null 2>&1
step 60 cc -std=c11 -o nss-same-pin "$TOP/test/consumers/nss-same-pin.c" $(pkg-config --cflags --libs nss)
check "built nss-same-pin" test -x nss-same-pin

scenario "pdfsig -kpw $WRONG" sig "HPKI Application" "$SIGN_PIN" nonzero \
	pdfsig -nssdir "$WORK/sign-db" -nss-pwd "$SIGN_PIN" -kpw "$WRONG" -add-signature -nick "$NICK" \
	letter.pdf signed1.pdf
check "...and wrote no signed PDF" test ! -s signed1.pdf
scenario "pdfsig -nss-pwd $WRONG" sig "HPKI Application" "$SIGN_PIN" nonzero \
	pdfsig -nssdir "$WORK/sign-db" -nss-pwd "$WRONG" -kpw "$SIGN_PIN" -add-signature -nick "$NICK" \
	letter.pdf signed2.pdf
scenario "NSS callback always $WRONG (CKU_USER)" sig "HPKI Application" "$SIGN_PIN" 0 \
	./nss-same-pin "sql:$WORK/sign-db" user "HPKI Application" "$WRONG"
grep -o 'callback=.*' out.txt | sed 's/^/   /'
scenario "NSS callback always $WRONG (CKU_CONTEXT_SPECIFIC)" sig "HPKI Application" "$SIGN_PIN" 0 \
	./nss-same-pin "sql:$WORK/sign-db" context "HPKI Application" "$SIGN_PIN" "$WRONG"
grep -o 'callback=.*' out.txt | sed 's/^/   /'

cat >engine.cnf <<EOC
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $MODULE
FORCE_LOGIN = EMPTY
init = 0
EOC
echo "TEST prescription" >rx.txt
scenario "openssl + libp11, pin-value=$WRONG" sig "$SIGN_TOKEN" "$SIGN_PIN" nonzero \
	setsid -w env OPENSSL_CONF=engine.cnf openssl cms -sign -engine pkcs11 -keyform engine \
	-inkey "$SIGN_URI;pin-value=$WRONG" -signer "$PKI/doctor/sig.crt.pem" -in rx.txt -binary \
	-outform DER -out rx.p7s </dev/null

echo "== logout means logout (opensc-tool after pkcs11-tool)"
SEL_AUTH="00 A4 04 0C 10 E8 28 BD 08 0F A0 00 00 03 91 00 00 00 00 00 02"
MSE="00 22 41 B6 04 84 02 00 0C"
# A 256-byte block by command chaining (opensc-tool sends no extended APDUs).
PSO1="10 2A 9E 9A FF 00$(printf ' 01%.0s' $(seq 254))"
PSO2="00 2A 9E 9A 01 01 00"
other_signs() { # prints the PSO's status word
	step 30 opensc-tool -s "$SEL_AUTH" -s "$MSE" -s "$PSO1" -s "$PSO2" 2>&1 |
		grep -o 'SW1=0x[0-9a-f]*, SW2=0x[0-9a-f]*' | tail -n1
}
: >"$HPKI_PKCS11_DEBUG_FILE"
HPKI_PKCS11_DEBUG=2 step 30 pkcs11-tool --module "$MODULE" --token-label "$AUTH_TOKEN" --login --pin "$AUTH_PIN" -O \
	>p11tool.out 2>&1
sw=$(other_signs)
echo "   PSO after pkcs11-tool logged in and exited: $sw"
check "after process A's logout/finalize, another program's PSO gets 69 82 ($sw)" test "$sw" = "SW1=0x69, SW2=0x82"
check "...because the module reset the card" grep -q "reset the card" "$HPKI_PKCS11_DEBUG_FILE"
HPKI_PKCS11_LOGOUT_RESET=0 step 30 pkcs11-tool --module "$MODULE" --token-label "$AUTH_TOKEN" --login \
	--pin "$AUTH_PIN" -O >p11tool0.out 2>&1
sw=$(other_signs)
echo "   PSO with HPKI_PKCS11_LOGOUT_RESET=0: $sw"
check "HPKI_PKCS11_LOGOUT_RESET=0 keeps the old behaviour: the login stays on the card ($sw)" \
	test "$sw" = "SW1=0x90, SW2=0x00"
# (Reading the card selects both applications, which ends a login on a one-channel
# card by itself; what is checked here is that the exit resets nothing.)
: >"$HPKI_PKCS11_DEBUG_FILE"
HPKI_PKCS11_DEBUG=2 step 30 pkcs11-tool --module "$MODULE" -L >list.out 2>&1
check "a process that did not log in (pkcs11-tool -L) does not reset the card at exit" \
	sh -c "grep -q finalised '$HPKI_PKCS11_DEBUG_FILE' && ! grep -q 'reset the card' '$HPKI_PKCS11_DEBUG_FILE'"
check "no try was lost on the way" test "$(tries auth)" = 15
finish
