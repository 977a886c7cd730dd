# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/libreoffice-lib.bash: shared by libreoffice-odf.sh, libreoffice-pdf.sh
# and libreoffice-wrong-pin.sh. Sourced after nss-lib.bash and gui-lib.bash. Provides:
#   lo_need            fails loudly when LibreOffice, python3-uno or a checker is missing
#   lo_setup           NSS database $DB with hpki-sig-pkcs11.so and the test root trusted
#                      (what Tools > Options > Security > Certificate points to), a fresh
#                      LibreOffice profile without first-run dialogs that selects $DB
#   lo_start           LibreOffice Writer in a window on $DISPLAY (pid in $LO_PID),
#                      reachable through UNO on a private pipe
#   uno CMD ARGS...    test/consumers/lo-uno.py against that office
#   lo_dispatch CMD    dispatches CMD (.uno:Signature, .uno:ExportToPDF) in the
#                      background, as the menu does; $DISPATCH_PID ends when the dialog
#                      it opened is closed
#   lo_quit            asks the office to terminate, waits for it
#   cert_pin WIN PIN   types PIN into LibreOffice's password dialog WIN and presses Return
#   pdf_dialog_to_signatures   in the PDF Options dialog: the Digital Signatures tab
#   pdf_select_cert    Select… in that tab: answers the token login (signature PIN),
#                      picks the holder's certificate in "Select X.509 Certificate",
#                      fills Location and waits until it shows (keyboard is back)
#   pdf_password WIN PASSWORD   types the "Certificate password"
#   pdf_save_as        in the "Export" file dialog that follows: saves as $PDF, a file
#                      of $HOME (where the dialog opens); checks the dialog closed
# The signature library hpki-sig-pkcs11.so (one token, "HPKI Application"): LibreOffice
# logs in to every token that needs a PIN while it lists the signing certificates, so
# with hpki-pkcs11.so it would ask for the authentication PIN too.

lo_need() {
	need soffice libreoffice-writer
	need /usr/bin/python3 python3
	/usr/bin/python3 -c 'import uno' 2>/dev/null ||
		{ fail "python3-uno is missing (Debian package python3-uno)"; finish; }
	need certutil libnss3-tools
	need modutil libnss3-tools
	need unzip unzip
}

SIG_MODULE=${HPKI_PKCS11_SIG_MODULE:-$TOP/.libs/hpki-sig-pkcs11.so}
SIG_APP_TOKEN="HPKI Application"

lo_setup() {
	DB=$WORK/nssdb
	PROFILE=$WORK/lo-profile
	nss_db "$DB"
	step 30 modutil -dbdir "sql:$DB" -add "HPKI signature" -libfile "$SIG_MODULE" -force \
		>/dev/null 2>&1 </dev/null
	step 30 certutil -A -d "sql:$DB" -n "TEST MHLW HPKI Root CA V2" -t "CT,C,C" -i "$PKI/ca/root.pem"
	check "NSS database with $(basename "$SIG_MODULE") and the test root" \
		grep -q "library=$SIG_MODULE" "$DB/pkcs11.txt"
	mkdir -p "$PROFILE/user"
	# CertDir is what Tools > Options > Security > Certificate… writes.
	cat >"$PROFILE/user/registrymodifications.xcu" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/Office"><prop oor:name="ooSetupInstCompleted" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Setup/Product"><prop oor:name="ooSetupLastVersion" oor:op="fuse"><value>7.4</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="CertDir" oor:op="fuse"><value>$DB</value></prop></item>
<item oor:path="/org.openoffice.Office.Recovery/RecoveryInfo"><prop oor:name="Enabled" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
EOF
}

uno() { step 60 /usr/bin/python3 "$TOP/test/consumers/lo-uno.py" --pipe "$LO_PIPE" "$@"; }

lo_start() {
	LO_PIPE=hpki-lo-$$
	# gen: LibreOffice's own X11 toolkit (no GTK/Qt needed, no accessibility bus)
	export SAL_USE_VCLPLUGIN=gen
	spawn LO_PID soffice "-env:UserInstallation=file://$PROFILE" --norestore --nologo \
		--nodefault "--accept=pipe,name=$LO_PIPE;urp;" >"$OUT/soffice.log" 2>&1
	check "LibreOffice answers on its UNO pipe" uno ping
}

lo_dispatch() {
	/usr/bin/python3 "$TOP/test/consumers/lo-uno.py" --pipe "$LO_PIPE" dispatch "$1" \
		>"$OUT/dispatch-${1#.uno:}.log" 2>&1 &
	DISPATCH_PID=$!
}

lo_quit() {
	uno quit >/dev/null 2>&1
	for _ in $(seq 100); do kill -0 "$LO_PID" 2>/dev/null || break; sleep 0.1; done
	check "LibreOffice quit" sh -c "! kill -0 $LO_PID 2>/dev/null"
	stop_group "$LO_PID"
}

cert_pin() { # window pin
	answer "$1" '^Enter Password' "$2"
}

pdf_dialog_to_signatures() { # window of "PDF Options"
	# General, Initial View, User Interface, Links, Security, Digital Signatures
	key_to "$1" ctrl+Next ctrl+Next ctrl+Next ctrl+Next ctrl+Next
	sleep 0.3
}

pdf_select_cert() { # window of "PDF Options"
	local w
	key_to "$1" alt+s # "Select..."
	w=$(wait_window '^Enter Password' 20)
	check "token login dialog 'Enter Password' appears (list the signing certificates)" test -n "$w"
	shot pdf-token-login-dialog
	check "no PIN sent before the user typed one (verify_pin=$(card_stat verify_pin))" \
		test "$(card_stat verify_pin)" = 0
	cert_pin "$w" "$SIGN_PIN"
	wait_no_window '^Enter Password' 10
	w=$(wait_window '^Select X.509 Certificate$' 20)
	check "'Select X.509 Certificate' lists the certificates" test -n "$w"
	sleep 0.5
	shot pdf-select-certificate
	key_to "$w" Down Return
	check "certificate picked, 'Select X.509 Certificate' closed" \
		wait_no_window '^Select X.509 Certificate$' 10
	# LibreOffice gives the keyboard back to "PDF Options" a moment later; keys sent
	# before that are lost (and a Return would then press "Select…" again). So first
	# a Location (digits and '-' only: no letter can hit a button's mnemonic), until
	# the dialog shows a change.
	sleep 1
	check "PDF Options takes keyboard input again (Location '$PDF_LOCATION' typed)" \
		retry_until_changed "$1" pdf_location "$1"
}
PDF_LOCATION=100-0013 # a postal code
pdf_field() { # window alt-key text: replace the field's text
	key_to "$1" "$2" ctrl+a
	xdotool type --delay 60 "$3"
}
pdf_password() { # window password: the "Certificate password" field
	# Four dots change too few pixels to tell from the blinking cursor, so this is not
	# checked on screen; the card's VERIFY count shows whether it arrived.
	pdf_field "$1" alt+p "$2"
}
pdf_location() { # window
	key_to "$1" alt+l ctrl+a
	xdotool type --delay 60 "$PDF_LOCATION"
}
pdf_save_as() {
	local fw
	fw=$(wait_window '^Export$' 30)
	check "file dialog 'Export'" test -n "$fw"
	[ -n "$fw" ] || return 1
	# Only the file name is typed, into the folder the dialog opens in ($HOME, a fresh
	# directory): with a full path the field autocompletes each directory on the way
	# against /tmp, which holds hundreds of entries late in a full test run — the likely
	# (not proven) cause of an export that once never started there. Typed slowly:
	# fast keys arrive out of order under load.
	key_to "$fw" ctrl+a
	sleep 0.3
	xdotool type --delay 120 "$(basename "$PDF")"
	shot pdf-file-dialog
	PDF_SAVE_T0=$(date +%s%N) # the export starts with this key
	key_to "$fw" Return
	check "file dialog closed on Return (saving as $PDF)" wait_no_window '^Export$' 10
}
