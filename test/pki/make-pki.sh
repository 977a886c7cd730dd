#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Generates the fictional test PKI of the virtual HPKI card (issue 2) with the
# OpenSSL command line. Every name is fictional and marked TEST. The output is
# checked in, so tests never depend on running this script or on the clock:
# validity dates are fixed (openssl ca -startdate/-enddate, because OpenSSL 3.0's
# "x509" command cannot set notBefore).
#
# The profile follows hpki-card-facts §7 (MEDIS test certificate, decoded):
#   signature EE   keyUsage critical nonRepudiation only, policy 1.2.392.100495.1.5.1.1.0.1
#   auth EE        keyUsage critical digitalSignature + EKU clientAuth, policy …1.5.1.2.0.1
#   both           certificatePolicies critical; hcRole in subjectDirectoryAttributes
#                  (2.5.29.9, attribute 1.0.17090.0.1, coding scheme 1.2.392.100495.1.6.1.1,
#                  role in codeDataFreeText); subjectAltName directoryName in Japanese
#                  (UTF-8, full-width space); subject C, O, CN, serialNumber.
#
# Usage: test/pki/make-pki.sh [OUTDIR]   (default: the directory of this script)
#        test/pki/make-pki.sh --renewed-only [OUTDIR]   (the "renewed" holder alone)
set -eu

RENEWED_ONLY=
if [ "${1:-}" = --renewed-only ]; then RENEWED_ONLY=1; shift; fi
if [ "${2:-}" = --renewed-only ]; then RENEWED_ONLY=1; fi
OUT=${1:-$(dirname "$0")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM
# The configuration names these; "openssl req" reads it too, so give defaults.
CA_DB=/nonexistent CA_CERT=/dev/null CA_KEY=/dev/null
export CA_DB CA_CERT CA_KEY

# Fixed validity windows (see above).
CA_START=20100101000000Z
CA_END=20491231235959Z
GOOD_START=20250101000000Z
GOOD_END=20450101000000Z
EXPIRED_START=20150101000000Z
EXPIRED_END=20200101000000Z

genkey() { # bits file
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2" 2>/dev/null
}

# One "openssl ca" database per issuing key, so serial numbers are predictable.
init_ca_db() { # name first-serial
	mkdir -p "$WORK/db/$1"
	: >"$WORK/db/$1/index.txt"
	echo "$2" >"$WORK/db/$1/serial"
}

# Writes the openssl.cnf used for every issuance; the extension sections differ.
write_config() {
	cat >"$WORK/openssl.cnf" <<'EOF'
[ ca ]
default_ca = test_ca

[ test_ca ]
dir             = $ENV::CA_DB
database        = $dir/index.txt
serial          = $dir/serial
new_certs_dir   = $dir
certificate     = $ENV::CA_CERT
private_key     = $ENV::CA_KEY
default_md      = sha256
policy          = any_name
unique_subject  = no
copy_extensions = none
preserve        = yes
email_in_dn     = no
string_mask     = utf8only

[ any_name ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
serialNumber           = optional

[ req ]
distinguished_name = req_dn
string_mask        = utf8only
utf8               = yes
prompt             = no
[ req_dn ]
CN = unused

# ---- CA certificates --------------------------------------------------------
[ root_ext ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash

[ sign_ca_ext ]
basicConstraints       = critical,CA:TRUE,pathlen:0
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
certificatePolicies    = critical,1.2.392.100495.1.5.1.1.3.1
crlDistributionPoints  = URI:http://hpki.test.invalid/repository/sarl2.crl

[ auth_ca_ext ]
basicConstraints       = critical,CA:TRUE,pathlen:0
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
certificatePolicies    = critical,1.2.392.100495.1.5.1.2.3.1
crlDistributionPoints  = URI:http://hpki.test.invalid/repository/sarl2.crl

# ---- end-entity certificates (holder sections are appended below) ------------
[ sig_policy ]
policyIdentifier = 1.2.392.100495.1.5.1.1.0.1
CPS.1            = http://hpki.test.invalid/sign/cps/

[ auth_policy ]
policyIdentifier = 1.2.392.100495.1.5.1.2.0.1
CPS.1            = http://hpki.test.invalid/auth/cps/

# ---- TLS test CA (unrelated to HPKI; for TLS client-authentication tests) ----
[ tls_ca_ext ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash

[ tls_server_ext ]
basicConstraints       = CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
}

# Appends the extension sections of one holder's EE certificates.
#   holder, Japanese organization, Japanese name, hcRole ("" = no hcRole)
write_holder_sections() {
	holder=$1 org_ja=$2 name_ja=$3 role=$4
	for kind in sig auth; do
		{
			echo "[ ${holder}_${kind}_ext ]"
			if [ "$kind" = sig ]; then
				# facts §7: keyUsage critical nonRepudiation only, no EKU.
				echo "keyUsage = critical,nonRepudiation"
				echo "certificatePolicies = critical,@sig_policy"
				echo "crlDistributionPoints = URI:http://hpki.test.invalid/sign/crl-sign2.crl"
			else
				# clientAuth lets the authentication key do TLS client authentication.
				echo "keyUsage = critical,digitalSignature"
				echo "extendedKeyUsage = clientAuth"
				echo "certificatePolicies = critical,@auth_policy"
				echo "crlDistributionPoints = URI:http://hpki.test.invalid/auth/crl-auth2.crl"
			fi
			echo "subjectKeyIdentifier = hash"
			echo "authorityKeyIdentifier = keyid:always,issuer:always"
			# directoryName [4] is EXPLICIT (Name is a CHOICE); built with ASN1 so the
			# Japanese strings stay UTF-8 (dirName: would read them as Latin-1).
			echo "subjectAltName = ASN1:SEQUENCE:${holder}_san"
			[ -n "$role" ] && echo "2.5.29.9 = ASN1:SEQUENCE:${holder}_sda"
		} >>"$WORK/openssl.cnf"
	done
	cat >>"$WORK/openssl.cnf" <<EOF
[ ${holder}_san ]
dirname = EXP:4,SEQUENCE:${holder}_jname
[ ${holder}_jname ]
c = SET:${holder}_rdn_c
o = SET:${holder}_rdn_o
cn = SET:${holder}_rdn_cn
[ ${holder}_rdn_c ]
atv = SEQUENCE:${holder}_atv_c
[ ${holder}_atv_c ]
type = OID:countryName
value = PRINTABLESTRING:JP
[ ${holder}_rdn_o ]
atv = SEQUENCE:${holder}_atv_o
[ ${holder}_atv_o ]
type = OID:organizationName
value = FORMAT:UTF8,UTF8String:${org_ja}
[ ${holder}_rdn_cn ]
atv = SEQUENCE:${holder}_atv_cn
[ ${holder}_atv_cn ]
type = OID:commonName
value = FORMAT:UTF8,UTF8String:${name_ja}
EOF
	[ -z "$role" ] && return 0
	# SubjectDirectoryAttributes ::= SEQUENCE OF Attribute; the hcRole attribute
	# 1.0.17090.0.1 holds SET { HCActorData }, HCActorData ::= SET OF HCActor,
	# HCActor ::= SEQUENCE { codedData [0] CodedData }, CodedData ::= SET {
	# codingSchemeReference [0] OID, codeDataFreeText [2] DirectoryString } — all
	# tags explicit, exactly as in the MEDIS test certificate (facts §7).
	cat >>"$WORK/openssl.cnf" <<EOF
[ ${holder}_sda ]
attribute = SEQUENCE:${holder}_hcrole
[ ${holder}_hcrole ]
type = OID:1.0.17090.0.1
values = SET:${holder}_hcvalues
[ ${holder}_hcvalues ]
actordata = SET:${holder}_hcactordata
[ ${holder}_hcactordata ]
actor = SEQUENCE:${holder}_hcactor
[ ${holder}_hcactor ]
coded = EXP:0,SET:${holder}_codeddata
[ ${holder}_codeddata ]
scheme = EXP:0,OID:1.2.392.100495.1.6.1.1
text = EXP:2,UTF8String:${role}
EOF
}

# issue CA_NAME CA_CERT CA_KEY EXT_SECTION CSR OUT_PEM START END [-selfsign]
issue() {
	CA_DB="$WORK/db/$1" CA_CERT=$2 CA_KEY=$3
	export CA_DB CA_CERT CA_KEY
	ext=$4 csr=$5 out=$6 start=$7 end=$8
	shift 8
	openssl ca -batch -notext -utf8 -config "$WORK/openssl.cnf" \
		-extensions "$ext" -startdate "$start" -enddate "$end" \
		-in "$csr" -out "$out" "$@" 2>"$WORK/ca.log" || { cat "$WORK/ca.log" >&2; exit 1; }
}

csr() { # key subject out
	openssl req -new -config "$WORK/openssl.cnf" -utf8 -key "$1" -subj "$2" -out "$3"
}

to_der() { # pem der
	openssl x509 -in "$1" -outform DER -out "$2"
}

make_cas() {
	mkdir -p "$OUT/ca"
	genkey 2048 "$OUT/ca/root.key.pem"
	genkey 2048 "$OUT/ca/sign-ca.key.pem"
	genkey 2048 "$OUT/ca/auth-ca.key.pem"
	init_ca_db root 01
	init_ca_db sign 1001
	init_ca_db auth 2001

	csr "$OUT/ca/root.key.pem" \
		"/C=JP/O=TEST Ministry of Health, Labour and Welfare/OU=TEST Director-General for Policy Planning and Evaluation/OU=TEST MHLW HPKI Root CA V2/CN=TEST MHLW HPKI Root CA V2" \
		"$WORK/root.csr"
	issue root /dev/null "$OUT/ca/root.key.pem" root_ext "$WORK/root.csr" "$OUT/ca/root.pem" \
		$CA_START $CA_END -selfsign
	csr "$OUT/ca/sign-ca.key.pem" \
		"/C=JP/O=TEST HPKI Issuer/OU=TEST HPKI CA/CN=TEST-HPKI-01-SignCA-forNonRepudiation" "$WORK/sign-ca.csr"
	issue root "$OUT/ca/root.pem" "$OUT/ca/root.key.pem" sign_ca_ext "$WORK/sign-ca.csr" "$OUT/ca/sign-ca.pem" $CA_START $CA_END
	csr "$OUT/ca/auth-ca.key.pem" \
		"/C=JP/O=TEST HPKI Issuer/OU=TEST HPKI CA/CN=TEST-HPKI-01-AuthCA-forAuthentication-forIndividual" \
		"$WORK/auth-ca.csr"
	issue root "$OUT/ca/root.pem" "$OUT/ca/root.key.pem" auth_ca_ext "$WORK/auth-ca.csr" "$OUT/ca/auth-ca.pem" $CA_START $CA_END
	for c in root sign-ca auth-ca; do to_der "$OUT/ca/$c.pem" "$OUT/ca/$c.der"; done
}

# holder BITS "O (romaji)" "CN (romaji)" serialNumber "O (ja)" "name (ja)" role start end
make_holder() {
	holder=$1 bits=$2 org=$3 cn=$4 serial=$5 org_ja=$6 name_ja=$7 role=$8 start=$9 end=${10}
	dir="$OUT/$holder"
	mkdir -p "$dir"
	write_holder_sections "$holder" "$org_ja" "$name_ja" "$role"
	for kind in sig auth; do
		genkey "$bits" "$dir/$kind.key.pem"
		csr "$dir/$kind.key.pem" "/C=JP/O=$org/CN=$cn/serialNumber=$serial" "$WORK/$holder-$kind.csr"
		if [ "$kind" = sig ]; then ca=sign; else ca=auth; fi
		issue "$ca" "$OUT/ca/$ca-ca.pem" "$OUT/ca/$ca-ca.key.pem" "${holder}_${kind}_ext" "$WORK/$holder-$kind.csr" "$dir/$kind.crt.pem" "$start" "$end"
		to_der "$dir/$kind.crt.pem" "$dir/$kind.crt.der"
	done
}

make_tls() {
	dir="$OUT/tls"
	mkdir -p "$dir"
	genkey 2048 "$dir/ca.key.pem"
	genkey 2048 "$dir/server.key.pem"
	init_ca_db tls 01
	csr "$dir/ca.key.pem" "/C=JP/O=TEST hpki-pkcs11/CN=TEST TLS Root CA" "$WORK/tls-ca.csr"
	issue tls /dev/null "$dir/ca.key.pem" tls_ca_ext "$WORK/tls-ca.csr" "$dir/ca.pem" $GOOD_START $GOOD_END -selfsign
	csr "$dir/server.key.pem" "/C=JP/O=TEST hpki-pkcs11/CN=localhost" "$WORK/tls-server.csr"
	issue tls "$dir/ca.pem" "$dir/ca.key.pem" tls_server_ext "$WORK/tls-server.csr" "$dir/server.pem" $GOOD_START $GOOD_END
}

# "renewed": the doctor's card two years on (HPKI certificates are renewed every two
# years, the card every six): same subject, new keys, new serial numbers and validity,
# from the same CAs. Made alone, from the CA keys already here, by
# "make-pki.sh --renewed-only" (issue 11: the cache must notice a renewed certificate).
RENEWED_START=20260101000000Z
RENEWED_END=20460101000000Z
make_renewed() {
	init_ca_db sign 1101
	init_ca_db auth 2101
	make_holder renewed 2048 "TEST Clinic" "TEST Taro Yamada" TEST0001 \
		"テスト診療所" "テスト　太郎" "Medical Doctor" $RENEWED_START $RENEWED_END
}

if [ -n "$RENEWED_ONLY" ]; then
	write_config
	make_renewed
	echo "renewed holder written to $OUT/renewed"
	exit 0
fi

write_config
make_cas
make_holder doctor 2048 "TEST Clinic" "TEST Taro Yamada" TEST0001 \
	"テスト診療所" "テスト　太郎" "Medical Doctor" $GOOD_START $GOOD_END
make_holder pharmacist 2048 "TEST Pharmacy" "TEST Hanako Suzuki" TEST0002 \
	"テスト薬局" "テスト　花子" "Pharmacist" $GOOD_START $GOOD_END
make_holder nohcrole 2048 "TEST Hospital" "TEST Jiro Sato" TEST0003 \
	"テスト病院" "テスト　次郎" "" $GOOD_START $GOOD_END
make_holder expired 2048 "TEST Clinic" "TEST Saburo Tanaka" TEST0004 \
	"テスト診療所" "テスト　三郎" "Medical Doctor" $EXPIRED_START $EXPIRED_END
make_holder rsa4096 4096 "TEST Clinic" "TEST Shiro Ito" TEST0005 \
	"テスト診療所" "テスト　四郎" "Medical Doctor" $GOOD_START $GOOD_END
make_renewed
make_tls
echo "test PKI written to $OUT"
