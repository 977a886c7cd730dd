#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/package-install.sh: the Debian packages, built, installed and removed on
# this machine (as root; Debian 12; after test/setup):
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree (the work tree is untouched);
#   2. lintian on the .debs: no error (warnings are printed; each one kept on purpose
#      is overridden with its reason in debian/*.lintian-overrides);
#   3. dpkg -i both packages: debian/tests/installed-card (the autopkgtest) then checks
#      that p11-kit list-modules shows the virtual card's tokens through the installed
#      hpki-vcard, that pkcs11-tool --module /usr/lib/<triplet>/pkcs11/hpki-pkcs11.so -L
#      works, and that a signature verifies;
#   4. dpkg --purge: every path the packages brought is gone, the paths that existed
#      before are still there, dpkg knows nothing of them, p11-kit lists the modules
#      it listed before.
# Refuses to run when hpki-pkcs11, hpki-vcard or hpki-tool is already installed (it would not
# leave the machine as it found it). Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }
pkgs=(hpki-pkcs11 hpki-vcard hpki-tool)
# dpkg with its lock: another apt or dpkg may hold it; wait (15 min), never break it.
dpkg_wait() {
	local i out rc
	for ((i = 0; i < 900; i++)); do
		out=$(dpkg "$@" 2>&1)
		rc=$?
		case $rc:$out in 0:*) echo "$out"; return 0 ;; *lock*) sleep 1 ;; *) echo "$out"; return $rc ;; esac
	done
	echo "dpkg lock still held after 15 minutes"
	return 1
}

[ "$(id -u)" -eq 0 ] || { fail "needs root (dpkg -i)"; finish; }
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
		fail "$p is already known to dpkg ($(dpkg-query -W -f='${db:Status-Abbrev}' "$p")); remove it first"
		finish
	fi
done

# One version: configure.ac's AC_INIT; debian/changelog must follow it.
ac_version=$(sed -n 's/^AC_INIT(\[hpki-pkcs11\], \[\([^]]*\)\].*/\1/p' configure.ac)
deb_version=$(dpkg-parsechangelog -S Version)
if [ -n "$ac_version" ] && [ "$ac_version" = "$deb_version" ]; then
	pass "debian/changelog version $deb_version is configure.ac's"
else
	fail "debian/changelog version '$deb_version' differs from AC_INIT '$ac_version'"
fi

work=$(mktemp -d /tmp/hpki-package.XXXXXX)
installed=0
cleanup() {
	# A failure between install and removal must not leave the packages behind.
	[ "$installed" = 1 ] && dpkg_wait --purge "${pkgs[@]}" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. build from a copy of the tracked (and new, not ignored) files ------------
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src" 2>/dev/null
t0=$(date +%s)
if (cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b ($(($(date +%s) - t0)) s)"
else
	tail -n 60 "$work/build.log"
	fail "dpkg-buildpackage -us -uc -b"
	finish
fi
arch=$(dpkg --print-architecture)
debs=()
for p in "${pkgs[@]}"; do debs+=("$work/${p}_${deb_version}_$arch.deb"); done
ls -l "${debs[@]}" || { fail "the .debs are not where expected"; finish; }

# ---- 2. lintian ------------------------------------------------------------------
lintian --info --display-info --pedantic "${debs[@]}" "$work/hpki-pkcs11_${deb_version}_$arch.changes" >"$work/lintian.txt" 2>&1
cat "$work/lintian.txt"
if grep -q '^E: ' "$work/lintian.txt"; then
	fail "lintian reports errors"
else
	pass "lintian: no error ($(grep -c '^W: ' "$work/lintian.txt") warnings, $(grep -c '^I: ' "$work/lintian.txt") info)"
fi

# ---- 3. install and use ------------------------------------------------------------
# What the packages ship (directories included), and which of those paths exist now.
for d in "${debs[@]}"; do dpkg-deb -c "$d"; done | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' |
	grep -v '^$' | sort -u >"$work/shipped"
while read -r path; do [ -e "$path" ] && echo "$path"; done <"$work/shipped" >"$work/existing-before"
p11-kit list-modules 2>/dev/null | grep '^[^ ]' | sort >"$work/modules-before"
dpkg-divert --list | sort >"$work/diversions-before"

installed=1
if dpkg_wait -i "${debs[@]}" >"$work/install.log" 2>&1; then
	pass "dpkg -i ${debs[*]##*/}"
else
	cat "$work/install.log"
	fail "dpkg -i (the Depends are installed by test/setup)"
fi
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in hpki-pkcs11.so hpki-sig-pkcs11.so hpki-auth-pkcs11.so; do
	[ -f "/usr/lib/$triplet/pkcs11/$f" ] || fail "/usr/lib/$triplet/pkcs11/$f not installed"
done
if timeout 120 debian/tests/installed-card; then
	pass "debian/tests/installed-card (autopkgtest) on the installed packages"
else
	fail "debian/tests/installed-card (autopkgtest) on the installed packages"
fi

# ---- 4. remove: the machine as it was ------------------------------------------------
if dpkg_wait --purge "${pkgs[@]}" >"$work/purge.log" 2>&1; then
	installed=0
	pass "dpkg --purge ${pkgs[*]}"
else
	cat "$work/purge.log"
	fail "dpkg --purge ${pkgs[*]}"
fi
while read -r path; do [ -e "$path" ] && echo "$path"; done <"$work/shipped" >"$work/existing-after"
if diff -u "$work/existing-before" "$work/existing-after"; then
	pass "no file left behind: of the $(wc -l <"$work/shipped") paths the packages ship, exactly the $(wc -l <"$work/existing-before") that existed before still exist"
else
	fail "paths differ after dpkg --purge (diff above: + left behind, - removed)"
fi
left=$(ls /var/lib/dpkg/info/hpki-pkcs11.* /var/lib/dpkg/info/hpki-pkcs11:*.* /var/lib/dpkg/info/hpki-vcard.* \
	/var/lib/dpkg/info/hpki-tool.* 2>/dev/null)
known=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null | grep -v ' not-installed$')
if [ -z "$left$known" ]; then pass "dpkg has forgotten the packages"; else fail "dpkg still knows: $known $left"; fi
p11-kit list-modules 2>/dev/null | grep '^[^ ]' | sort >"$work/modules-after"
if diff -u "$work/modules-before" "$work/modules-after"; then
	pass "p11-kit lists the modules it listed before"
else
	fail "p11-kit's module list changed"
fi
dpkg-divert --list | sort >"$work/diversions-after"
diff -u "$work/diversions-before" "$work/diversions-after" && pass "dpkg diversions unchanged" ||
	fail "dpkg diversions changed"
finish
