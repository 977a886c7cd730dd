# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by p11-vendor-a4-*.e2e: the vendor-style A.4 program (test-p11-vendor-a4.c)
# with both single-application libraries on one card profile.
. "$(dirname "$0")/e2e-lib.sh"
libs=$(dirname "${HPKI_MODULE:-$e2e_dir/../../.libs/hpki-pkcs11.so}")
program=${HPKI_P11_TESTS:-$e2e_dir}/test-p11-vendor-a4
run_a4() { # profile options...
	exec "$WITH_VCARD" "$@" -- sh -c '
		HPKI_MODULE="$1/hpki-sig-pkcs11.so" HPKI_A4_APP=sig "$2" || exit 1
		HPKI_MODULE="$1/hpki-auth-pkcs11.so" HPKI_A4_APP=auth "$2"' a4 "$libs" "$program"
}
