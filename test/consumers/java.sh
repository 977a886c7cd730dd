#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/java.sh: issue 5, scenario 7 — Java (Debian's OpenJDK 17) with
# hpki-pkcs11.so and the virtual HPKI card.
#
#   keytool -list -storetype PKCS11   SunPKCS11 loads the module from a config file
#                         ("slot = 1": the signature token, "slot = 0": authentication;
#                         hpki-sig-pkcs11.so needs no slot line) and lists the holder's
#                         key entry; its certificate is the card's
#   jarsigner             signs a jar through SunPKCS11 with the *authentication* key;
#                         jarsigner -verify: "jar verified", signed by TEST Taro Yamada
#   jarsigner + signature key   fails with CKR_USER_NOT_LOGGED_IN: OpenJDK 17's SunPKCS11
#                         never logs in with CKU_CONTEXT_SPECIFIC, which the signature
#                         key (CKA_ALWAYS_AUTHENTICATE) needs before every signature
#   HpkiSign.java         a short program on the JDK's PKCS#11 wrapper that does that
#                         login signs with the *signature* key; openssl verifies it
#
# Self-contained: run it as is (it starts test/with-vcard itself) or under
# test/with-vcard. Needs root (with-vcard). Environment: HPKI_PKCS11_MODULE (default
# .libs/hpki-pkcs11.so), TEST_TIMEOUT (whole run, 300 s), KEEP_WORK=1 keeps the
# temporary directory. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.bash"
need java openjdk-17-jdk-headless
need javac openjdk-17-jdk-headless
need keytool openjdk-17-jdk-headless
need jarsigner openjdk-17-jdk-headless
need jar openjdk-17-jdk-headless
need openssl openssl
need timeout coreutils
reexec "$@"
begin

export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log
cd "$WORK" || exit 1
java -version 2>&1 | head -n1

printf 'name = HPKI-Sign\nlibrary = %s\nslot = 1\n' "$MODULE" >sign.cfg
printf 'name = HPKI-Auth\nlibrary = %s\nslot = 0\n' "$MODULE" >auth.cfg
printf 'name = HPKI-SignOnly\nlibrary = %s\n' "$SIGN_MODULE" >sign-only.cfg
P11=(-keystore NONE -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11)
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }

for c in sign auth sign-only; do
	case $c in
	auth) pin=$AUTH_PIN crt=auth.crt.pem ;;
	*) pin=$SIGN_PIN crt=sig.crt.pem ;;
	esac
	echo "== keytool -list -storetype PKCS11 ($c.cfg: $(grep library $c.cfg | sed 's/.*= //;s|.*/||') $(grep -h slot $c.cfg))"
	step 60 keytool -list "${P11[@]}" -providerArg "$WORK/$c.cfg" -storepass "$pin" </dev/null >list-$c.out 2>&1
	rc=$?
	grep -E 'entry|Entry|fingerprint|error' list-$c.out
	check "keytool -list exits 0 (rc=$rc)" test "$rc" = 0
	check "one entry: '$EE_LABEL, PrivateKeyEntry'" sh -c \
		"grep -q 'Your keystore contains 1 entry' list-$c.out && grep -q '^$EE_LABEL, PrivateKeyEntry' list-$c.out"
	check "its certificate is the card's $crt" grep -q "(SHA-256): $(fp "$PKI/doctor/$crt")" list-$c.out
done

echo "== jarsigner with the authentication key (SunPKCS11 signs)"
mkdir -p src && printf 'public class Referral { }\n' >src/Referral.java
step 60 javac -d classes src/Referral.java && step 60 jar cf referral.jar -C classes .
step 120 jarsigner "${P11[@]}" -providerArg "$WORK/auth.cfg" -storepass "$AUTH_PIN" \
	-signedjar referral-signed.jar referral.jar "$EE_LABEL" </dev/null >jarsign.out 2>&1
rc=$?
grep -E 'jar signed|error' jarsign.out
check "jarsigner exits 0 (rc=$rc)" test "$rc" = 0
step 60 jarsigner -verify -verbose -certs referral-signed.jar >jarverify.out 2>&1
rc=$?
grep -E 'Signed by|jar verified' jarverify.out
check "jarsigner -verify: 'jar verified.' (rc=$rc)" grep -q '^jar verified\.' jarverify.out
check "...signed by the holder (CN=$HOLDER_CN)" grep -q "Signed by \".*CN=$HOLDER_CN" jarverify.out
# The signature block is CMS: check it against the test root with OpenSSL too.
mkdir -p x && (cd x && jar xf ../referral-signed.jar META-INF)
OPENSSL_CONF=/dev/null openssl cms -verify -inform DER -in x/META-INF/*.RSA -content x/META-INF/*.SF -binary \
	-CAfile "$PKI/ca/root.pem" -certfile "$PKI/ca/auth-ca.pem" -purpose any -out /dev/null >cmsv.out 2>&1
cat cmsv.out
check "openssl cms -verify of the jar's signature block (META-INF/*.RSA) against the test root" \
	grep -q 'Verification successful' cmsv.out

echo "== jarsigner with the signature key: the keystore login authorises its one signature"
# OpenJDK 17's SunPKCS11 has no context-specific login; the VERIFY of its
# C_Login(CKU_USER) is the consent for the next signature (as for JAHIS G31 A.4
# software), and for that one only.
: >"$HPKI_PKCS11_DEBUG_FILE"
"$HPKI_VCARD" ctl stats-reset >/dev/null
step 120 jarsigner "${P11[@]}" -providerArg "$WORK/sign.cfg" -storepass "$SIGN_PIN" \
	-signedjar referral-sig.jar referral.jar "$EE_LABEL" </dev/null >jarsign2.out 2>&1
rc=$?
grep -E 'jarsigner|error' jarsign2.out | head -n 2
check "jarsigner with the signature key exits 0 (rc=$rc)" test "$rc" = 0
check "...one VERIFY with a PIN and one signature on the card" \
	test "$("$HPKI_VCARD" ctl stats | tr " " "\n" | sed -n "s/^verify_pin=//p")/$("$HPKI_VCARD" ctl stats | tr " " "\n" | sed -n "s/^ins_2A=//p")" = 1/1
step 60 jarsigner -verify -verbose -certs referral-sig.jar >jarverify2.out 2>&1
check "...jar verified, signed by the holder (CN=$HOLDER_CN)" \
	sh -c "grep -q '^jar verified' jarverify2.out && grep -q 'Signed by \".*CN=$HOLDER_CN' jarverify2.out"

echo "== HpkiSign.java: the signature key with a context-specific login"
JOPTS=(--add-modules jdk.crypto.cryptoki --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED)
step 120 javac "${JOPTS[@]}" -d hs "$TOP/test/consumers/HpkiSign.java" >javac.out 2>&1
check "HpkiSign.java compiles" test -f hs/HpkiSign.class
printf "紹介状 (TEST) / referral letter (TEST): TEST Patient to TEST Hospital\n" >referral.txt
: >"$HPKI_PKCS11_DEBUG_FILE"
step 120 java "${JOPTS[@]}" -cp hs HpkiSign "$MODULE" "$SIGN_TOKEN" "$SIGN_PIN" referral.txt referral.sig \
	</dev/null >hs.out 2>&1
rc=$?
cat hs.out
check "HpkiSign exits 0 (rc=$rc)" test "$rc" = 0
check "...logged in again before the signature (CKA_ALWAYS_AUTHENTICATE)" grep -q 'context-specific login' hs.out
openssl x509 -in "$PKI/doctor/sig.crt.pem" -pubkey -noout >sig.pub
OPENSSL_CONF=/dev/null openssl dgst -sha256 -verify sig.pub -signature referral.sig referral.txt >hsv.out 2>&1
cat hsv.out
check "openssl verifies the signature with the card's signature certificate" grep -q 'Verified OK' hsv.out

finish
