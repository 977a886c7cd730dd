#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/system-pcscd.sh: after test/setup, the machine's own pcscd does not listen
# on the network (issue 8 §7). vsmartcard-vpcd's /etc/reader.conf.d/vpcd would make
# it listen on 0.0.0.0:35963; test/setup diverts that file with a local dpkg diversion.
#
# The system pcscd is started as Debian's pcscd.service starts it (pcscd --foreground
# --auto-exit, default configuration /etc/reader.conf.d), but in a private mount
# namespace (its /run/pcscd, so a real system pcscd and the private test beds are
# not disturbed) and a private network namespace, where `ss -ltn` shows what it
# listens on. A control run proves the check can fail: the same pcscd given the
# diverted vpcd file listens on 35963. Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PATH=$PATH:/usr/sbin:/sbin

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

VPCD_CONF=/etc/reader.conf.d/vpcd
[ "$(id -u)" -eq 0 ] || { fail "needs root (namespaces)"; finish; }
for tool in pcscd unshare nsenter ss dpkg-divert; do
	command -v "$tool" >/dev/null || { fail "$tool missing (run test/setup)"; finish; }
done

work=$(mktemp -d /tmp/hpki-syspcscd.XXXXXX)
pid=
stop() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}
trap 'stop; rm -rf "$work"' EXIT

# The diversion: in place, local, and the package's file is where it points.
diverted=$(dpkg-divert --truename "$VPCD_CONF")
if [ "$(dpkg-divert --listpackage "$VPCD_CONF")" = LOCAL ] && [ "$diverted" != "$VPCD_CONF" ] &&
	[ ! -e "$VPCD_CONF" ] && [ -f "$diverted" ] && [ "${diverted#/etc/reader.conf.d/}" = "$diverted" ]; then
	pass "$VPCD_CONF is diverted (local) to $diverted, outside pcscd's configuration directory"
else
	fail "$VPCD_CONF not diverted as test/setup does ($(dpkg-divert --list "$VPCD_CONF"))"
	finish
fi

# pcscd [ARGS...] in private namespaces; sets $pid; listeners in $work/ss.txt.
# Waits for its socket, then for the readers of its configuration to be started
# (vpcd opens its port when pcscd starts the reader, before pcscd reports it).
run_pcscd() {
	local log=$1; shift
	rm -f "$work/ss.txt"
	mkdir -p "$work/run-$log"
	unshare --mount --net sh -c "ip link set lo up 2>/dev/null; mount -t tmpfs tmpfs /run && mkdir /run/pcscd \
		&& mount --bind '$work/run-$log' /run/pcscd && exec pcscd --foreground --auto-exit $*" \
		>"$work/$log.log" 2>&1 </dev/null &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$work/run-$log/pcscd.comm" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -S "$work/run-$log/pcscd.comm" ] || { cat "$work/$log.log"; return 1; }
	# Give the reader threads time to start; the control run shows 1 s is enough.
	sleep 1
	nsenter -t "$pid" -n ss -ltnH >"$work/ss.txt"
}

# 1. Control: the undiverted file would open a port (the check can fail).
mkdir "$work/conf-undiverted"
cp -p /etc/reader.conf.d/* "$work/conf-undiverted/" 2>/dev/null
cp "$diverted" "$work/conf-undiverted/vpcd"
if run_pcscd control -c "$work/conf-undiverted" && grep -q ':35963\b' "$work/ss.txt"; then
	pass "control: a pcscd given vsmartcard-vpcd's file listens on $(awk '{ print $4 }' "$work/ss.txt" | tr '\n' ' ')"
else
	cat "$work/ss.txt" 2>/dev/null
	fail "control: a pcscd given vsmartcard-vpcd's file did not listen on 35963 (the check below proves nothing)"
fi
stop

# 2. The system pcscd, default configuration: no TCP listener at all.
if run_pcscd system; then
	if [ -s "$work/ss.txt" ]; then
		cat "$work/ss.txt"
		fail "the system pcscd (configuration /etc/reader.conf.d) listens on TCP"
	else
		pass "the system pcscd (pcscd --foreground --auto-exit, /etc/reader.conf.d) has no TCP listener (ss -ltn)"
	fi
else
	fail "the system pcscd did not start"
fi
stop

# 3. Nothing on this machine's own network listens on vpcd's port.
if ss -ltnH 'sport = :35963' | grep -q .; then
	ss -ltnp 'sport = :35963'
	fail "something listens on port 35963 in this machine's network namespace"
else
	pass "no listener on port 35963 in this machine's network namespace"
fi

# 4. A package upgrade (here: reinstall) does not bring the file back. Stale package
# lists (test/setup updates them only when it installs something) get one update.
reinstall() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install --reinstall -y -qq \
		-o Dpkg::Options::=--force-confold vsmartcard-vpcd >>"$work/reinstall.log" 2>&1
}
if reinstall || { apt-get -o DPkg::Lock::Timeout=900 update -qq >>"$work/reinstall.log" 2>&1 && reinstall; }; then
	if [ ! -e "$VPCD_CONF" ] && [ -f "$diverted" ]; then
		pass "after reinstalling vsmartcard-vpcd, $VPCD_CONF is still diverted"
	else
		fail "reinstalling vsmartcard-vpcd brought $VPCD_CONF back"
	fi
else
	tail -n 20 "$work/reinstall.log"
	fail "apt-get install --reinstall vsmartcard-vpcd"
fi

# 5. The private test bed, which brings its own reader configuration, still works.
if test/with-vcard -- sh -c 'pkcs11-tool --module "$1" -L | grep -q "HPKI Auth TEST Taro Yamada"' sh \
	"$top/.libs/hpki-pkcs11.so"; then
	pass "test/with-vcard still shows the virtual card"
else
	fail "test/with-vcard no longer works"
fi
finish
