# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/nss-lib.bash: shared by the NSS consumer tests (firefox-tls.sh,
# nss-tools.sh, pdfsig.sh). Sourced, not run. Provides:
#   nss_reexec "$@"     re-runs the calling script under test/with-vcard unless it
#                       already runs there (HPKI_VCARD_CONTROL set), bounded by
#                       $TEST_TIMEOUT seconds (default 300)
#   need PROG PACKAGE   fails loudly (counted, exit 1) when PROG is missing
#   check NAME CMD...   runs CMD, prints "PASS: NAME" or "FAIL: NAME", counts
#   pass/fail NAME      count a result computed by the caller
#   step SECONDS CMD... CMD under timeout(1), killed (KILL after 5 s more) if late
#   card_stat KEY       a value of "$HPKI_VCARD ctl stats" (verify_pin, ins_2A, ...)
#   verify_per_app LOG  "auth=N sign=M": VERIFY-with-PIN APDUs per application,
#                       counted in a module debug log (HPKI_PKCS11_DEBUG=3)
#   nss_begin           after nss_reexec: makes $WORK, installs the clean-up trap
#   nss_db DIR          a fresh NSS database with an empty password
#   finish              prints "N passed, N failed", exits 0 only without failures
# Variables: TOP (source tree), MODULE (hpki-pkcs11.so), AUTH_TOKEN, SIGN_TOKEN,
# AUTH_PIN, SIGN_PIN, EE_LABEL, WORK (temporary directory, removed on exit unless
# KEEP_WORK is set); nss_cleanup_hooks+=("command") runs at exit before the removal.

. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

# The AIDs' last byte tells the applications apart in the module's APDU log
# (E8 28 BD 08 0F A0 00 00 03 91 00 00 00 00 00 0N; hpki-card-facts.md).
AUTH_AID_TAIL="00 02"
SIGN_AID_TAIL="00 01"

nss_reexec() { reexec "$@"; }

card_stat() {
	"$HPKI_VCARD" ctl stats | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# Each VERIFY with a PIN ("00 20 00 xx Lc **", the module redacts the PIN) is
# attributed to the application selected last by AID.
verify_per_app() {
	awk -v a="$AUTH_AID_TAIL" -v s="$SIGN_AID_TAIL" '
		/apdu: > .* 00 A4 04 0[0C] 10 E8 28 BD 08 0F/ {
			app = "?"
			if (index($0, "00 00 00 00 " a) > 0) app = "auth"
			if (index($0, "00 00 00 00 " s) > 0) app = "sign"
		}
		/apdu: > .* 00 20 00 [0-9A-F][0-9A-F] [0-9A-F][0-9A-F] \*\*/ { n[app]++ }
		END { printf "auth=%d sign=%d\n", n["auth"], n["sign"] }' "$1"
}

nss_db() {
	mkdir -p "$1" && step 30 certutil -N -d "sql:$1" --empty-password
}

# nss_cleanup_hooks+=("command") runs at exit, before $WORK is removed.
nss_cleanup_hooks=()
run_nss_cleanup_hooks() {
	local h
	for h in "${nss_cleanup_hooks[@]}"; do eval "$h"; done
}

nss_begin() {
	begin
	at_exit run_nss_cleanup_hooks
}
