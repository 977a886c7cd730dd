# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the tool-*.e2e scripts (hpki-tool, issue 13) after e2e-lib.sh.
# Each script runs its own parts under test/with-vcard by calling itself with
# "--inner PART ARGS"; every part prints PASS:/FAIL: lines and ends with its status.
# Paths: HPKI_TOOL, else next to the module "make check" names (HPKI_MODULE), else
# the in-tree build.
if [ -n "${HPKI_MODULE:-}" ]; then
	top_build=$(cd "$(dirname "$HPKI_MODULE")/.." && pwd)
else
	top_build=$(cd "$e2e_dir/../.." && pwd)
fi
TOOL=${HPKI_TOOL:-$top_build/hpki-tool}
HOLD_LOGIN=${HPKI_HOLD_LOGIN:-$top_build/test/tool/hold-login}
PKI=$(cd "$e2e_dir/../pki" && pwd)
export TOOL HOLD_LOGIN PKI e2e_dir WITH_VCARD
# The tests compare dates: UTC, and English messages.
export TZ=UTC LC_ALL=C.UTF-8 LANG=C.UTF-8
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # description command...
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}
# Runs PART under a fresh test bed: with_card "with-vcard options" PART ARGS...
with_card() {
	local opts=$1
	shift
	# shellcheck disable=SC2086
	timeout 120 "$WITH_VCARD" $opts -- bash "$0" --inner "$@"
}
# A part works in a scratch directory of its own (rx.txt, report.txt...), removed when
# the part ends: the suite runs hundreds of parts, /tmp must not keep them.
enter_scratch() {
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/hpki-tool-part.XXXXXX") || exit 1
	trap 'cd / && rm -rf "$scratch"' EXIT
	cd "$scratch" || exit 1
}
# Adds the PASS/FAIL lines of a part's output to the counters.
tally() {
	local out=$1
	echo "$out"
	passed=$((passed + $(grep -c '^PASS:' <<<"$out")))
	failed=$((failed + $(grep -c '^FAIL:' <<<"$out")))
	grep -q '^PASS:\|^FAIL:' <<<"$out" || fail "a part printed no result"
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}
tries() { "$HPKI_VCARD" ctl tries "$1" | sed 's/^ok //'; }
stat_of() { "$HPKI_VCARD" ctl stats | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
# A field of the JSON document in $1, by a Python expression on `d`.
jq_py() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print("null" if v is None else v)' "$1" "$2"; }
