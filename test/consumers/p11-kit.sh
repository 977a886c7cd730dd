#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/p11-kit.sh: issue 5, scenario 8 — system-wide and remote use through
# p11-kit 0.24 (Debian 12) with the virtual HPKI card.
#
#   make install          puts hpki-pkcs11.so into p11-kit's module directory and
#                         hpki-pkcs11.module ("module: hpki-pkcs11.so") into its module
#                         config directory (pkg-config p11-kit-1); "make uninstall" at the
#                         end. An installation already present is used and left alone.
#   p11-kit list-modules  shows the module and both tokens
#   p11-kit-proxy.so      an application that knows only the proxy (pkcs11-tool --module
#                         p11-kit-proxy.so) sees both tokens and signs with each key;
#                         GnuTLS p11tool without --provider (p11-kit's registry) too
#   p11-kit server        exports one token over a unix socket; p11-kit-client.so with
#                         P11_KIT_SERVER_ADDRESS — in a process that cannot reach pcscd —
#                         lists only that token and signs; OpenSSL verifies the signatures
#                         with the card's certificates
#
# Self-contained: run it as is (it starts test/with-vcard itself) or under
# test/with-vcard. Needs root (with-vcard, make install). Environment: TEST_TIMEOUT
# (whole run, 300 s), KEEP_WORK=1 keeps the temporary directory. Ends with
# "N passed, N failed".
set -u
. "$(dirname "$0")/lib.bash"
need p11-kit p11-kit
need pkg-config pkg-config
need pkcs11-tool opensc
need p11tool gnutls-bin
need openssl openssl
need make make
need timeout coreutils
reexec "$@"
begin

cd "$WORK" || exit 1
MODDIR=$(pkg-config --variable=p11_module_path p11-kit-1)
CONFDIR=$(pkg-config --variable=p11_module_configs p11-kit-1)
PROXY=$(pkg-config --variable=proxy_module p11-kit-1)
CLIENT=$MODDIR/p11-kit-client.so
need "$PROXY" p11-kit-modules
need "$CLIENT" p11-kit-modules
SERVER_PID=
# "p11-kit server" execs p11-kit-server: $! is the server itself.
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill "$SERVER_PID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}

echo "== make install (p11-kit module directory $MODDIR, configs $CONFDIR)"
if [ -e "$MODDIR/hpki-pkcs11.so" ] || [ -e "$CONFDIR/hpki-pkcs11.module" ]; then
	echo "hpki-pkcs11 is already installed: using that installation, leaving it in place"
else
	# "make uninstall" removes files, not directories: remove the data directory
	# (test PKI of the virtual card) too when this test created it.
	PKGDATADIR=$(printf 'print-pkgdatadir:\n\t@echo $(pkgdatadir)\n' |
		make -s --no-print-directory -C "$TOP" -f Makefile -f - print-pkgdatadir)
	[ -n "$PKGDATADIR" ] && [ ! -e "$PKGDATADIR" ] && at_exit '[ -d "$PKGDATADIR" ] && find "$PKGDATADIR" -depth -type d -empty -delete'
	step 300 make -C "$TOP" install >install.log 2>&1
	rc=$?
	at_exit 'step 120 make -C "$TOP" uninstall >uninstall.log 2>&1 || echo "WARNING: make uninstall failed (see $WORK/uninstall.log)"; [ -e "$MODDIR/hpki-pkcs11.so" ] && echo "WARNING: $MODDIR/hpki-pkcs11.so still installed"'
	check "make install exits 0 (rc=$rc)" test "$rc" = 0
	[ "$rc" = 0 ] || tail -n 20 install.log
fi
check "$MODDIR/hpki-pkcs11.so installed" test -f "$MODDIR/hpki-pkcs11.so"
check "$CONFDIR/hpki-pkcs11.module installed, naming the module relative to $MODDIR" \
	grep -qx 'module: hpki-pkcs11.so' "$CONFDIR/hpki-pkcs11.module"

echo "== p11-kit list-modules"
step 60 p11-kit list-modules </dev/null >modules.out 2>&1
rc=$?
sed -n '/^hpki-pkcs11:/,/^[^ ]/p' modules.out | grep -Ev '^ +(flags:|write-protected|login-required|user-pin-initialized|token-initialized)' | sed '$d'
check "p11-kit list-modules exits 0 (rc=$rc)" test "$rc" = 0
check "module 'hpki-pkcs11: hpki-pkcs11.so' listed, library-description 'HPKI 3.0'" sh -c \
	"grep -qx 'hpki-pkcs11: hpki-pkcs11.so' modules.out && sed -n '/^hpki-pkcs11:/,/^[^ ]/p' modules.out | grep -q 'library-description: HPKI 3.0'"
for t in "$AUTH_TOKEN" "$SIGN_TOKEN"; do
	check "token '$t' listed under hpki-pkcs11" sh -c "sed -n '/^hpki-pkcs11:/,/^[^ ]/p' modules.out | grep -qx '    token: $t'"
done

openssl x509 -in "$PKI/doctor/auth.crt.pem" -pubkey -noout >auth.pub
openssl x509 -in "$PKI/doctor/sig.crt.pem" -pubkey -noout >sig.pub
printf 'TEST e-prescription access log entry, signed through p11-kit\n' >data.txt
key_id() { # token -> CKA_ID in hex, from the certificate labelled EE_LABEL
	step 60 pkcs11-tool --module "$1" --token-label "$2" -O --type cert --label "$EE_LABEL" 2>/dev/null |
		sed -n 's/^ *ID: *//p' | head -n1
}
sign_verify() { # module token pin pubkey name
	local id
	id=$(key_id "$1" "$2")
	rm -f "$5.sig"
	step 60 pkcs11-tool --module "$1" --token-label "$2" --login --pin "$3" --sign -m SHA256-RSA-PKCS \
		--id "$id" -i data.txt -o "$5.sig" </dev/null >"$5.out" 2>&1
	OPENSSL_CONF=/dev/null openssl dgst -sha256 -verify "$4" -signature "$5.sig" data.txt >"$5.v" 2>&1
	grep -q 'Verified OK' "$5.v"
}

echo "== p11-kit-proxy.so: an application that knows only the proxy"
step 60 pkcs11-tool --module "$PROXY" -L </dev/null >proxy-L.out 2>&1
grep -E 'token label' proxy-L.out
for t in "$AUTH_TOKEN" "$SIGN_TOKEN"; do
	check "pkcs11-tool --module p11-kit-proxy.so -L shows '$t'" grep -q "token label *: $t\$" proxy-L.out
done
check "signature through the proxy with the authentication key verifies (openssl, card's certificate)" \
	sign_verify "$PROXY" "$AUTH_TOKEN" "$AUTH_PIN" auth.pub proxy-auth
check "signature through the proxy with the signature key verifies (per-signature PIN handled by pkcs11-tool)" \
	sign_verify "$PROXY" "$SIGN_TOKEN" "$SIGN_PIN" sig.pub proxy-sign
step 60 p11tool --list-tokens </dev/null >p11tool.out 2>&1
check "GnuTLS p11tool (p11-kit registry, no --provider) lists both tokens" sh -c \
	"grep -q 'Label: $AUTH_TOKEN' p11tool.out && grep -q 'Label: $SIGN_TOKEN' p11tool.out"

echo "== p11-kit server exports '$AUTH_TOKEN'; p11-kit-client.so uses it"
mkdir -m 700 srv
p11-kit server -f -s --provider "$MODDIR/hpki-pkcs11.so" -n "$WORK/srv/pkcs11.sock" \
	"pkcs11:token=$(uri_enc "$AUTH_TOKEN")" >server.out 2>server.err </dev/null &
SERVER_PID=$!
at_exit 'stop_server'
for ((i = 0; i < 100; i++)); do [ -S srv/pkcs11.sock ] && break; sleep 0.05; done
cat server.out
check "the server listens on $WORK/srv/pkcs11.sock" test -S srv/pkcs11.sock
check "it prints P11_KIT_SERVER_ADDRESS=unix:path=..." grep -q "P11_KIT_SERVER_ADDRESS=unix:path=$WORK/srv/pkcs11.sock" server.out
# The client: no PC/SC at all (no pcscd socket), only the forwarded socket.
client() { (
	unset PCSCLITE_CSOCK_NAME
	export P11_KIT_SERVER_ADDRESS="unix:path=$WORK/srv/pkcs11.sock"
	"$@"
); }
client step 60 pkcs11-tool --module "$CLIENT" -L </dev/null >client-L.out 2>&1
grep -E 'Slot|token label' client-L.out
check "p11-kit-client.so shows '$AUTH_TOKEN'" grep -q "token label *: $AUTH_TOKEN\$" client-L.out
check "...and only the exported token" test "$(grep -c 'token label' client-L.out)" = 1
check "signature through the forwarded socket verifies with the card's authentication certificate" \
	client sign_verify "$CLIENT" "$AUTH_TOKEN" "$AUTH_PIN" auth.pub client-auth
check "a wrong PIN through the socket is refused" sh -c \
	"! P11_KIT_SERVER_ADDRESS='unix:path=$WORK/srv/pkcs11.sock' timeout 60 pkcs11-tool --module '$CLIENT' --login --pin 0000 -O >/dev/null 2>&1"
check "...and the right one works again" client sign_verify "$CLIENT" "$AUTH_TOKEN" "$AUTH_PIN" auth.pub client-auth2
stop_server

echo "== p11-kit server exports '$SIGN_TOKEN' (CKA_ALWAYS_AUTHENTICATE over the socket)"
p11-kit server -f -s --provider "$MODDIR/hpki-pkcs11.so" -n "$WORK/srv/pkcs11.sock" \
	"pkcs11:token=$(uri_enc "$SIGN_TOKEN")" >server2.out 2>server2.err </dev/null &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do [ -S srv/pkcs11.sock ] && break; sleep 0.05; done
client step 60 pkcs11-tool --module "$CLIENT" -L </dev/null >client-L2.out 2>&1
check "p11-kit-client.so shows only '$SIGN_TOKEN'" sh -c \
	"grep -q 'token label *: $SIGN_TOKEN\$' client-L2.out && test \$(grep -c 'token label' client-L2.out) = 1"
check "signature with the signature key through the socket verifies with the card's signature certificate" \
	client sign_verify "$CLIENT" "$SIGN_TOKEN" "$SIGN_PIN" sig.pub client-sign
stop_server
check "the server removed its socket on exit" test ! -e srv/pkcs11.sock

finish
