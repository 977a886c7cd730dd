#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/openssh.sh: issue 5, scenario 5 — OpenSSH 9.2 with hpki-pkcs11.so and
# the virtual HPKI card, against a private sshd on 127.0.0.1 (random free port).
#
#   ssh-keygen -D         prints the card's keys; the first is the authentication key
#                         (no PIN needed), equal to the key of doctor/auth.crt.pem
#   ssh -I MODULE         logs in with that key; the PIN comes through SSH_ASKPASS
#                         (asked once, for the authentication token only); sshd logs
#                         "Accepted publickey ... RSA SHA256:<the auth key's fingerprint>"
#                         and the remote command's output comes back
#   PKCS11Provider        the same from an ssh_config file
#   ssh-agent / ssh-add -s  the single-application hpki-auth-pkcs11.so in the agent (its
#                         allow-list -P must cover the module's directory; without it
#                         the agent refuses), one PIN, then ssh logs in through the agent
#                         with BatchMode (no prompt at all)
#   wrong PIN             no login; the retry counter recovers with the right PIN
#
# Self-contained: run it as is (it starts test/with-vcard itself) or under
# test/with-vcard. Needs root (with-vcard, sshd). Creates /run/sshd (sshd's privilege
# separation directory) when missing and removes it afterwards. Environment:
# HPKI_PKCS11_MODULE (default .libs/hpki-pkcs11.so), TEST_TIMEOUT (whole run, 300 s),
# KEEP_WORK=1 keeps the temporary directory. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.bash"
SSHD=/usr/sbin/sshd
need ssh openssh-client
need ssh-keygen openssh-client
need ssh-agent openssh-client
need ssh-add openssh-client
need "$SSHD" openssh-server
need openssl openssl
need ss iproute2
need setsid util-linux
need timeout coreutils
reexec "$@"
begin

export HPKI_PKCS11_DEBUG=3 HPKI_PKCS11_DEBUG_FILE=$WORK/module.log
cd "$WORK" || exit 1

verifies_per_app() {
	awk '/apdu: > .* 00 A4 04 0[0C] 10 E8 28 BD 08 0F/ { app = ($0 ~ /00 00 00 00 00 02/) ? "auth" : "sign" }
	     /apdu: > .* 00 20 00 [0-9A-F][0-9A-F] [0-9A-F][0-9A-F] \*\*/ { n[app]++ }
	     END { printf "auth=%d sign=%d\n", n["auth"], n["sign"] }' "$1"
}

# The authentication key as OpenSSH sees it, from the test PKI's certificate.
openssl x509 -in "$PKI/doctor/auth.crt.pem" -pubkey -noout >auth.pub.pem
ssh-keygen -i -m PKCS8 -f auth.pub.pem >auth.pub || { fail "cannot convert the auth certificate's key"; finish; }
auth_blob=$(cut -d' ' -f2 auth.pub)
auth_fp=$(ssh-keygen -l -E sha256 -f auth.pub | cut -d' ' -f2)

echo "== ssh-keygen -D $MODULE"
: >"$HPKI_PKCS11_DEBUG_FILE"
step 30 ssh-keygen -D "$MODULE" </dev/null >keygen.out 2>keygen.err
rc=$?
cut -c1-40,372- keygen.out
check "ssh-keygen -D exits 0 (rc=$rc)" test "$rc" = 0
check "its first key is the authentication key ($auth_fp), labelled '$KEY_LABEL'" \
	test "$(head -n1 keygen.out)" = "ssh-rsa $auth_blob $KEY_LABEL"
check "no PIN was asked or sent ($(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE"))" \
	test "$(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE")" = "auth=0 sign=0"
step 30 ssh-keygen -D "$AUTH_MODULE" </dev/null >keygen-auth.out 2>&1
check "ssh-keygen -D hpki-auth-pkcs11.so: the authentication key first, no signature key" \
	test "$(head -n1 keygen-auth.out | cut -d' ' -f2)" = "$auth_blob" -a "$(grep -c "$KEY_LABEL\$" keygen-auth.out)" = 1

echo "== sshd on 127.0.0.1"
made_run_sshd=
if [ ! -d /run/sshd ]; then
	mkdir -p /run/sshd && chmod 755 /run/sshd && made_run_sshd=1
	at_exit '[ -n "$made_run_sshd" ] && rmdir /run/sshd 2>/dev/null'
fi
mkdir -m 700 ssh
ssh-keygen -q -t ed25519 -N '' -f ssh/hostkey
cp auth.pub ssh/authorized_keys
port=$(free_port) || { fail "no free port"; finish; }
cat >ssh/sshd_config <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $WORK/ssh/hostkey
PidFile $WORK/ssh/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
EOF
"$SSHD" -D -e -f "$WORK/ssh/sshd_config" >sshd.log 2>&1 </dev/null &
sshd_pid=$!
at_exit 'kill $sshd_pid 2>/dev/null; wait $sshd_pid 2>/dev/null'
check "sshd listens on 127.0.0.1:$port" wait_port "$port" 10
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 ssh/hostkey.pub)" >known_hosts

# The PIN dialog: records each prompt, answers by the token it names.
cat >askpass.sh <<EOF
#!/bin/sh
printf '%s\n' "\$1" >>"$WORK/askpass.log"
case \$1 in
*"$AUTH_TOKEN"*|*PKCS#11*) echo "\${FAKE_PIN:-$AUTH_PIN}" ;;
*"$SIGN_TOKEN"*) echo "$SIGN_PIN" ;;
*) exit 1 ;;
esac
EOF
chmod +x askpass.sh
cat >ssh_config <<EOF
Host hpki-test
	HostName 127.0.0.1
	Port $port
	User root
	UserKnownHostsFile $WORK/known_hosts
	StrictHostKeyChecking yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	IdentityAgent none
	IdentityFile none
	ConnectTimeout 10
EOF
cp ssh_config ssh_config_provider
printf '\tPKCS11Provider %s\n' "$MODULE" >>ssh_config_provider

# setsid: no controlling terminal, so ssh must use SSH_ASKPASS.
ssh_run() { # config [ssh options...]
	local cfg=$1
	shift
	SSH_ASKPASS=$WORK/askpass.sh SSH_ASKPASS_REQUIRE=force step 60 setsid -w \
		ssh -F "$cfg" "$@" hpki-test 'echo "SSH-OK as $(id -un)"' </dev/null
}
accepted() { grep -c "Accepted publickey for root from 127.0.0.1 port [0-9]* ssh2: RSA $auth_fp" sshd.log; }

echo "== ssh -I $MODULE (PIN through SSH_ASKPASS)"
: >askpass.log
: >"$HPKI_PKCS11_DEBUG_FILE"
t0=$(date +%s%N)
ssh_run ssh_config -I "$MODULE" >ssh1.out 2>ssh1.err
rc=$?
echo "   ($((($(date +%s%N) - t0) / 1000000)) ms)"
cat ssh1.out ssh1.err
check "ssh -I exits 0 (rc=$rc)" test "$rc" = 0
check "the remote command's output came back (SSH-OK as root)" grep -qx 'SSH-OK as root' ssh1.out
check "sshd: Accepted publickey ... RSA $auth_fp" test "$(accepted)" = 1
grep 'Accepted publickey' sshd.log | tail -n1
check "askpass was asked once, for the authentication token" \
	test "$(cat askpass.log)" = "Enter PIN for '$AUTH_TOKEN': "
check "one PIN verification, on the authentication application ($(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE"))" \
	test "$(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE")" = "auth=1 sign=0"

echo "== PKCS11Provider in ssh_config"
: >askpass.log
ssh_run ssh_config_provider >ssh2.out 2>ssh2.err
rc=$?
cat ssh2.out
check "ssh with PKCS11Provider exits 0 (rc=$rc)" test "$rc" = 0
check "...and logs in with the card's key" sh -c "grep -qx 'SSH-OK as root' ssh2.out && test \$(grep -c 'Accepted publickey.*$auth_fp' sshd.log) = 2"

echo "== wrong PIN"
: >askpass.log
: >"$HPKI_PKCS11_DEBUG_FILE"
tries_before=$("$HPKI_VCARD" ctl tries auth | cut -d' ' -f2)
t0=$(date +%s%N)
FAKE_PIN=0000 ssh_run ssh_config -I "$MODULE" >ssh3.out 2>ssh3.err
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
tries_after=$("$HPKI_VCARD" ctl tries auth | cut -d' ' -f2)
tail -n 2 ssh3.err
echo "   ($ms ms, $(wc -l <askpass.log) PIN prompt(s), auth tries $tries_before -> $tries_after)"
check "ssh with a wrong PIN fails (rc=$rc)" test "$rc" != 0
check "...within 5 s ($ms ms)" test "$ms" -lt 5000
check "...losing exactly one try ($tries_before -> $tries_after)" test "$((tries_before - tries_after))" = 1
check "...and the module's log says why" grep -q "C_Login(CKU_USER): PIN incorrect" "$HPKI_PKCS11_DEBUG_FILE"
check "...and sshd accepted nothing new" test "$(accepted)" = 2
ssh_run ssh_config -I "$MODULE" >ssh4.out 2>&1
check "the right PIN afterwards logs in again" grep -qx 'SSH-OK as root' ssh4.out

echo "== ssh-agent with hpki-auth-pkcs11.so"
agent_out=$(step 10 ssh-agent -s -a "$WORK/agent.sock" -P "$(dirname "$AUTH_MODULE")/*") ||
	{ fail "ssh-agent did not start"; finish; }
eval "$agent_out" >/dev/null
at_exit 'kill $SSH_AGENT_PID 2>/dev/null'
# The agent loads the module itself: it needs the test bed's pcscd socket in *its*
# environment, which it inherited from us (PCSCLITE_CSOCK_NAME).
: >askpass.log
: >"$HPKI_PKCS11_DEBUG_FILE"
SSH_ASKPASS=$WORK/askpass.sh SSH_ASKPASS_REQUIRE=force step 60 setsid -w ssh-add -s "$AUTH_MODULE" \
	</dev/null >add.out 2>&1
rc=$?
cat add.out
check "ssh-add -s exits 0 (rc=$rc)" test "$rc" = 0
check "the agent asked for the PIN once ('Enter passphrase for PKCS#11: ')" \
	test "$(cat askpass.log)" = "Enter passphrase for PKCS#11: "
step 10 ssh-add -l >list.out 2>&1
cat list.out
check "ssh-add -l lists the authentication key ($auth_fp)" grep -q "$auth_fp" list.out
SSH_AUTH_SOCK=$WORK/agent.sock step 60 ssh -F ssh_config -o IdentityAgent="$WORK/agent.sock" -o BatchMode=yes \
	hpki-test 'echo "SSH-AGENT-OK"' </dev/null >agent.out 2>&1
rc=$?
cat agent.out
check "ssh through the agent with BatchMode exits 0 (rc=$rc)" test "$rc" = 0
check "...and runs the command (SSH-AGENT-OK)" grep -qx 'SSH-AGENT-OK' agent.out
check "sshd accepted the card's key again" test "$(accepted)" = 4
check "the PIN went to the authentication application only ($(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE"))" \
	test "$(verifies_per_app "$HPKI_PKCS11_DEBUG_FILE")" = "auth=1 sign=0"
step 10 ssh-add -e "$AUTH_MODULE" >/dev/null 2>&1
check "ssh-add -e removes the card's key" sh -c "! ssh-add -l 2>/dev/null | grep -q '$auth_fp'"
kill "$SSH_AGENT_PID" 2>/dev/null

echo "== ssh-agent's default allow-list refuses a module outside /usr/lib*/*, /usr/local/lib*/*"
eval "$(step 10 ssh-agent -s -a "$WORK/agent2.sock")" >/dev/null
at_exit 'kill $SSH_AGENT_PID 2>/dev/null'
SSH_ASKPASS=$WORK/askpass.sh SSH_ASKPASS_REQUIRE=force step 60 setsid -w ssh-add -s "$AUTH_MODULE" \
	</dev/null >refused.out 2>&1
rc=$?
cat refused.out
case $AUTH_MODULE in
/usr/lib*/* | /usr/local/lib*/*) check "ssh-add -s of an installed module is accepted (rc=$rc)" test "$rc" = 0 ;;
*) check "ssh-add -s of $AUTH_MODULE is refused without -P (rc=$rc)" test "$rc" != 0 ;;
esac
kill "$SSH_AGENT_PID" 2>/dev/null

finish
