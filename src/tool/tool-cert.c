/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: reading an HPKI certificate for people. Where the fields are
 * (docs: hpki-card-facts §7, test/pki/README.md):
 * - the Japanese (kanji) name is the CN of a directoryName in subjectAltName;
 * - the roman name is the subject CN;
 * - the qualification (hcRole, ISO/TS 17090) is an attribute 1.0.17090.0.1 in
 *   subjectDirectoryAttributes (2.5.29.9): SET { HCActorData ::= SET OF HCActor },
 *   HCActor ::= SEQUENCE { codedData [0] CodedData }, CodedData ::= SET {
 *   codingSchemeReference [0] OID, codeDataValue [1] OPTIONAL, codeDataFreeText [2] },
 *   tags explicit, as in the MEDIS test certificate.
 */
#include "config.h"

#include "tool-cert.h"
#include "tool.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

/* One DER element: its tag class and number, and its contents. */
struct tlv {
	int tag, cls;
	const uint8_t *val;
	long len;
};

/* Takes the next element of [*p, end); false when none or malformed. */
static bool next_tlv(const uint8_t **p, const uint8_t *end, struct tlv *t)
{
	const unsigned char *q = *p;
	int r;

	if (*p >= end)
		return false;
	r = ASN1_get_object(&q, &t->len, &t->tag, &t->cls, end - *p);
	if (r & 0x80 || r == 0x21 /* indefinite: never in DER */)
		return false;
	t->val = q;
	*p = q + t->len;
	return *p <= end;
}

static void copy_text(char *dst, size_t cap, const uint8_t *s, long len)
{
	size_t n = len < 0 ? 0 : (size_t)len;

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* CodedData: the scheme OID ([0]) and the free text ([2]). */
static void read_coded_data(const uint8_t *p, const uint8_t *end, struct hpki_tool_cert *info)
{
	struct tlv t, inner;

	while (next_tlv(&p, end, &t)) {
		const uint8_t *q = t.val;

		if (t.cls != V_ASN1_CONTEXT_SPECIFIC || !next_tlv(&q, t.val + t.len, &inner))
			continue;
		if (t.tag == 0 && inner.tag == V_ASN1_OBJECT && inner.len < 128) {
			uint8_t der[130] = { V_ASN1_OBJECT, (uint8_t)inner.len };
			const unsigned char *o = der;
			ASN1_OBJECT *obj;

			memcpy(der + 2, inner.val, (size_t)inner.len);
			obj = d2i_ASN1_OBJECT(NULL, &o, inner.len + 2);
			if (obj != NULL)
				OBJ_obj2txt(info->role_scheme, sizeof(info->role_scheme), obj, 1);
			ASN1_OBJECT_free(obj);
		} else if (t.tag == 2) {
			copy_text(info->role, sizeof(info->role), inner.val, inner.len);
		}
	}
}

/* Attribute ::= SEQUENCE { type OID, values SET { HCActorData } } */
static void read_hcrole_attribute(const uint8_t *p, const uint8_t *end, struct hpki_tool_cert *info)
{
	static const uint8_t hcrole_oid[] = { 0x28, 0x81, 0x85, 0x42, 0x00, 0x01 }; /* 1.0.17090.0.1 */
	struct tlv type, values, actordata, actor, coded, codedset;

	if (!next_tlv(&p, end, &type) || type.tag != V_ASN1_OBJECT || type.len != sizeof(hcrole_oid) ||
	    memcmp(type.val, hcrole_oid, sizeof(hcrole_oid)) != 0)
		return;
	if (!next_tlv(&p, end, &values))
		return;
	p = values.val;
	if (!next_tlv(&p, values.val + values.len, &actordata))
		return;
	p = actordata.val;
	if (!next_tlv(&p, actordata.val + actordata.len, &actor))
		return;
	p = actor.val;
	if (!next_tlv(&p, actor.val + actor.len, &coded) || coded.cls != V_ASN1_CONTEXT_SPECIFIC || coded.tag != 0)
		return;
	p = coded.val;
	if (!next_tlv(&p, coded.val + coded.len, &codedset))
		return;
	read_coded_data(codedset.val, codedset.val + codedset.len, info);
}

static void read_hcrole(X509 *x, struct hpki_tool_cert *info)
{
	int pos = X509_get_ext_by_NID(x, NID_subject_directory_attributes, -1);
	const ASN1_OCTET_STRING *v;
	const uint8_t *p, *end;
	struct tlv seq, attr;

	if (pos < 0)
		return;
	v = X509_EXTENSION_get_data(X509_get_ext(x, pos));
	p = ASN1_STRING_get0_data(v);
	end = p + ASN1_STRING_length(v);
	if (!next_tlv(&p, end, &seq) || seq.tag != V_ASN1_SEQUENCE)
		return;
	p = seq.val;
	while (next_tlv(&p, seq.val + seq.len, &attr))
		if (attr.tag == V_ASN1_SEQUENCE)
			read_hcrole_attribute(attr.val, attr.val + attr.len, info);
}

static void name_cn(const X509_NAME *name, char *dst, size_t cap)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	int n;

	dst[0] = '\0';
	if (i < 0)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n >= 0)
		copy_text(dst, cap, utf8, n);
	OPENSSL_free(utf8);
}

static void read_kanji_name(X509 *x, struct hpki_tool_cert *info)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_DIRNAME) {
			name_cn(gn->d.directoryName, info->name_kanji, sizeof(info->name_kanji));
			break;
		}
	}
	GENERAL_NAMES_free(names);
}

static void read_serial(X509 *x, struct hpki_tool_cert *info)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(info->serial, sizeof(info->serial), "%s", hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

static time_t asn1_time_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static void read_validity(X509 *x, time_t now, struct hpki_tool_cert *info)
{
	info->not_before = asn1_time_to_time(X509_get0_notBefore(x));
	info->not_after = asn1_time_to_time(X509_get0_notAfter(x));
	info->expired = now > info->not_after;
	info->not_yet_valid = now < info->not_before;
	/* Whole days, rounded down while valid (23 h left is "0 days"), up once expired. */
	info->days_left = (long)((info->not_after - now) / 86400);
	if (info->expired && (info->not_after - now) % 86400 != 0)
		info->days_left -= 1;
	info->renewal_due = !info->expired && info->days_left < HPKI_TOOL_RENEWAL_DAYS;
}

bool hpki_tool_cert_describe(X509 *x, time_t now, struct hpki_tool_cert *info)
{
	EVP_PKEY *key;

	memset(info, 0, sizeof(*info));
	if (x == NULL)
		return false;
	name_cn(X509_get_subject_name(x), info->name_roman, sizeof(info->name_roman));
	name_cn(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
	read_kanji_name(x, info);
	read_hcrole(x, info);
	read_serial(x, info);
	read_validity(x, now, info);
	key = X509_get0_pubkey(x);
	info->key_bits = key != NULL ? EVP_PKEY_get_bits(key) : 0;
	return true;
}

bool hpki_tool_cert_describe_der(const uint8_t *der, size_t len, time_t now, struct hpki_tool_cert *info)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	bool ok = hpki_tool_cert_describe(x, now, info);

	X509_free(x);
	return ok;
}

void hpki_tool_date(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d", &tm);
}

void hpki_tool_date_human(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	localtime_r(&t, &tm);
	/* TRANSLATORS: a strftime(3) date format; ja: %Y年%m月%d日 */
	/* xgettext:no-c-format */
	strftime(buf, cap, _("%Y-%m-%d"), &tm);
}

void hpki_tool_timestamp(time_t t, char *buf, size_t cap)
{
	struct tm tm;
	char zone[8];

	localtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm); /* +0900 → +09:00 (ISO 8601 extended) */
	if (strlen(zone) == 5 && strlen(buf) + 7 <= cap)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%.3s:%.2s", zone, zone + 3);
}
