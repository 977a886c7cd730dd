# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/lib.bash: shared by every consumer test (nss-lib.bash adds the NSS
# helpers on top). Sourced, not run.
#   need PROG PACKAGE   fails loudly (counted, exit 1) when PROG is missing: CI installs
#                       test/consumers/packages*.txt, so missing means broken setup
#   reexec "$@"         re-runs the calling script under test/with-vcard unless it already
#                       runs there (HPKI_VCARD_CONTROL set), bounded by $TEST_TIMEOUT s
#   begin               after reexec: makes $WORK and the clean-up trap
#   at_exit "CMD"       runs CMD at exit (last registered first), before $WORK goes
#   check NAME CMD...   runs CMD, prints "PASS: NAME" or "FAIL: NAME" and counts it
#   pass/fail NAME      counts a result the caller computed
#   step SECONDS CMD... CMD under timeout(1) (KILL 5 s later)
#   free_port           prints a free TCP port on 127.0.0.1 (random, 20000-59999)
#   wait_port PORT [S]  waits until something listens on 127.0.0.1:PORT
#   finish              prints "N passed, N failed"; exit status 0 only without failures
# Variables: TOP, MODULE (hpki-pkcs11.so), AUTH_MODULE / SIGN_MODULE (the single-
# application libraries), AUTH_TOKEN, SIGN_TOKEN, AUTH_PIN, SIGN_PIN, EE_LABEL, PKI,
# AUTH_URI / SIGN_URI (the tokens' private keys as RFC 7512 URIs), WORK.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODULE=${HPKI_PKCS11_MODULE:-$TOP/.libs/hpki-pkcs11.so}
AUTH_MODULE=$(dirname "$MODULE")/hpki-auth-pkcs11.so
SIGN_MODULE=$(dirname "$MODULE")/hpki-sig-pkcs11.so
PKI=$TOP/test/pki
# The default holder of the test PKI ("doctor", test/pki/README.md): token labels are
# "HPKI Auth " / "HPKI Sign " + the certificate's CN; object labels are those of JAHIS
# G31 table 3 (pkcs11-spec/README.md).
HOLDER_CN="TEST Taro Yamada"
EE_LABEL="HPKI END ENTITY CERTIFICATE"
KEY_LABEL="Private key of HPKI"
ROOT_LABEL="MHLW CA CERTIFICATE"
CA_LABEL="HPKI CA CERTIFICATE"
AUTH_TOKEN="HPKI Auth $HOLDER_CN"
SIGN_TOKEN="HPKI Sign $HOLDER_CN"
AUTH_PIN=1234
SIGN_PIN=5678
uri_enc() { printf '%s' "$1" | sed 's/%/%25/g; s/ /%20/g; s/;/%3B/g; s/:/%3A/g'; }
AUTH_URI="pkcs11:token=$(uri_enc "$AUTH_TOKEN");object=$(uri_enc "$KEY_LABEL");type=private"
SIGN_URI="pkcs11:token=$(uri_enc "$SIGN_TOKEN");object=$(uri_enc "$KEY_LABEL");type=private"

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}

need() { # program-or-file debian-package
	case $1 in
	/*) [ -e "$1" ] && return 0 ;;
	*) command -v "$1" >/dev/null 2>&1 && return 0 ;;
	esac
	fail "required program '$1' is missing (Debian package $2; test/consumers/packages*.txt)"
	finish
}

step() { # seconds command...
	local t=$1
	shift
	timeout -k 5 "$t" "$@"
}

reexec() {
	if [ -z "${HPKI_VCARD_CONTROL:-}" ]; then
		[ -x "$TOP/test/with-vcard" ] || { fail "$TOP/test/with-vcard missing"; finish; }
		exec timeout -k 10 "${TEST_TIMEOUT:-300}" "$TOP/test/with-vcard" -- "$0" "$@"
	fi
}

exit_hooks=()
at_exit() { exit_hooks=("$1" "${exit_hooks[@]}"); }
run_exit_hooks() {
	local h
	trap - EXIT
	for h in "${exit_hooks[@]}"; do eval "$h"; done
	if [ -n "${KEEP_WORK:-}" ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}

begin() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/hpki-tools.XXXXXX") || exit 1
	chmod 755 "$WORK"
	trap 'rc=$?; run_exit_hooks; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for m in "$MODULE" "$AUTH_MODULE" "$SIGN_MODULE"; do
		[ -r "$m" ] || { fail "module $m not built (make)"; finish; }
	done
}

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 40000))
		port_busy "$p" || { echo "$p"; return 0; }
	done
	return 1
}
wait_port() { # port [seconds]
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		port_busy "$1" && return 0
		sleep 0.05
	done
	return 1
}
