/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO/IEC 7816-15 CIO codec on OpenSSL ASN.1 templates. The ASN.1 below follows
 * ISO 7816-15:2016 §8 as profiled by G31 annex B. Tagging follows what real
 * PKCS#15/7816-15 cards encode: the [0] subclass and [1] type attributes of a
 * CIO, and the CIOChoice alternatives of EF.OD, are EXPLICIT (a tag around a
 * SEQUENCE); field-level tags ([0] label, [0] pwdReference, [0] Path.length) are
 * IMPLICIT.
 */
#include "config.h"

#include "hpki/cio.h"

#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

/* ---- ASN.1 types ----------------------------------------------------------- */

typedef struct {
	ASN1_OCTET_STRING *efid_or_path;
	ASN1_INTEGER *index;
	ASN1_INTEGER *length;
} CIO_PATH;

ASN1_SEQUENCE(CIO_PATH) = {
	ASN1_SIMPLE(CIO_PATH, efid_or_path, ASN1_OCTET_STRING),
	ASN1_OPT(CIO_PATH, index, ASN1_INTEGER),
	ASN1_IMP_OPT(CIO_PATH, length, ASN1_INTEGER, 0),
} static_ASN1_SEQUENCE_END(CIO_PATH)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CIO_PATH)

/* EF.OD entry: CIOChoice, each alternative [n] PathOrObjects (path form only). */
typedef struct {
	int type;
	union {
		CIO_PATH *path;
	} d;
} CIO_OD_ENTRY;

ASN1_CHOICE(CIO_OD_ENTRY) = {
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 0),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 1),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 2),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 3),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 4),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 5),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 6),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 7),
	ASN1_EXP(CIO_OD_ENTRY, d.path, CIO_PATH, 8),
} static_ASN1_CHOICE_END(CIO_OD_ENTRY)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CIO_OD_ENTRY)

/* CommonObjectAttributes (accessControlRules are not used by HPKI cards). */
typedef struct {
	ASN1_UTF8STRING *label;
	ASN1_BIT_STRING *flags;
	ASN1_OCTET_STRING *auth_id;
	ASN1_INTEGER *user_consent;
} CIO_COMMON_OBJECT;

ASN1_SEQUENCE(CIO_COMMON_OBJECT) = {
	ASN1_OPT(CIO_COMMON_OBJECT, label, ASN1_UTF8STRING),
	ASN1_OPT(CIO_COMMON_OBJECT, flags, ASN1_BIT_STRING),
	ASN1_OPT(CIO_COMMON_OBJECT, auth_id, ASN1_OCTET_STRING),
	ASN1_OPT(CIO_COMMON_OBJECT, user_consent, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(CIO_COMMON_OBJECT)

/* CommonKeyAttributes. */
typedef struct {
	ASN1_OCTET_STRING *id;
	ASN1_BIT_STRING *usage;
	ASN1_BOOLEAN native;
	ASN1_BIT_STRING *access_flags;
	ASN1_INTEGER *key_reference;
	ASN1_GENERALIZEDTIME *start_date;
	ASN1_GENERALIZEDTIME *end_date;
	STACK_OF(ASN1_INTEGER) *alg_reference;
} CIO_COMMON_KEY;

ASN1_SEQUENCE(CIO_COMMON_KEY) = {
	ASN1_SIMPLE(CIO_COMMON_KEY, id, ASN1_OCTET_STRING),
	ASN1_SIMPLE(CIO_COMMON_KEY, usage, ASN1_BIT_STRING),
	ASN1_OPT(CIO_COMMON_KEY, native, ASN1_TBOOLEAN), /* DEFAULT TRUE */
	ASN1_OPT(CIO_COMMON_KEY, access_flags, ASN1_BIT_STRING),
	ASN1_OPT(CIO_COMMON_KEY, key_reference, ASN1_INTEGER),
	ASN1_OPT(CIO_COMMON_KEY, start_date, ASN1_GENERALIZEDTIME),
	ASN1_IMP_OPT(CIO_COMMON_KEY, end_date, ASN1_GENERALIZEDTIME, 0),
	ASN1_IMP_SEQUENCE_OF_OPT(CIO_COMMON_KEY, alg_reference, ASN1_INTEGER, 1),
} static_ASN1_SEQUENCE_END(CIO_COMMON_KEY)

/* PrivateRSAKeyAttributes: value is ObjectValue, indirect path form. */
typedef struct {
	CIO_PATH *value;
	ASN1_INTEGER *modulus_length;
	ASN1_TYPE *key_info;
} CIO_RSA_PRIVATE_KEY_ATTRS;

ASN1_SEQUENCE(CIO_RSA_PRIVATE_KEY_ATTRS) = {
	ASN1_SIMPLE(CIO_RSA_PRIVATE_KEY_ATTRS, value, CIO_PATH),
	ASN1_SIMPLE(CIO_RSA_PRIVATE_KEY_ATTRS, modulus_length, ASN1_INTEGER),
	ASN1_OPT(CIO_RSA_PRIVATE_KEY_ATTRS, key_info, ASN1_ANY),
} static_ASN1_SEQUENCE_END(CIO_RSA_PRIVATE_KEY_ATTRS)

typedef struct {
	CIO_COMMON_OBJECT *common;
	CIO_COMMON_KEY *key;
	ASN1_TYPE *private_key_attrs;
	CIO_RSA_PRIVATE_KEY_ATTRS *rsa;
} CIO_PRIVATE_RSA_KEY;

ASN1_SEQUENCE(CIO_PRIVATE_RSA_KEY) = {
	ASN1_SIMPLE(CIO_PRIVATE_RSA_KEY, common, CIO_COMMON_OBJECT),
	ASN1_SIMPLE(CIO_PRIVATE_RSA_KEY, key, CIO_COMMON_KEY),
	ASN1_EXP_OPT(CIO_PRIVATE_RSA_KEY, private_key_attrs, ASN1_ANY, 0),
	ASN1_EXP(CIO_PRIVATE_RSA_KEY, rsa, CIO_RSA_PRIVATE_KEY_ATTRS, 1),
} static_ASN1_SEQUENCE_END(CIO_PRIVATE_RSA_KEY)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CIO_PRIVATE_RSA_KEY)

/* CommonCertificateAttributes. */
typedef struct {
	ASN1_OCTET_STRING *id;
	ASN1_BOOLEAN authority;
} CIO_COMMON_CERT;

ASN1_SEQUENCE(CIO_COMMON_CERT) = {
	ASN1_SIMPLE(CIO_COMMON_CERT, id, ASN1_OCTET_STRING),
	ASN1_OPT(CIO_COMMON_CERT, authority, ASN1_FBOOLEAN), /* DEFAULT FALSE */
} static_ASN1_SEQUENCE_END(CIO_COMMON_CERT)

/* X509CertificateAttributes; subject/issuer/serial are optional copies of the cert's. */
typedef struct {
	CIO_PATH *value;
	X509_NAME *subject;
	X509_NAME *issuer;
	ASN1_INTEGER *serial;
} CIO_X509_CERT_ATTRS;

ASN1_SEQUENCE(CIO_X509_CERT_ATTRS) = {
	ASN1_SIMPLE(CIO_X509_CERT_ATTRS, value, CIO_PATH),
	ASN1_OPT(CIO_X509_CERT_ATTRS, subject, X509_NAME),
	ASN1_EXP_OPT(CIO_X509_CERT_ATTRS, issuer, X509_NAME, 0),
	ASN1_OPT(CIO_X509_CERT_ATTRS, serial, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(CIO_X509_CERT_ATTRS)

typedef struct {
	CIO_COMMON_OBJECT *common;
	CIO_COMMON_CERT *cert;
	ASN1_TYPE *sub_class;
	CIO_X509_CERT_ATTRS *x509;
} CIO_X509_CERT;

ASN1_SEQUENCE(CIO_X509_CERT) = {
	ASN1_SIMPLE(CIO_X509_CERT, common, CIO_COMMON_OBJECT),
	ASN1_SIMPLE(CIO_X509_CERT, cert, CIO_COMMON_CERT),
	ASN1_EXP_OPT(CIO_X509_CERT, sub_class, ASN1_ANY, 0),
	ASN1_EXP(CIO_X509_CERT, x509, CIO_X509_CERT_ATTRS, 1),
} static_ASN1_SEQUENCE_END(CIO_X509_CERT)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CIO_X509_CERT)

/* CommonAuthenticationObjectAttributes. */
typedef struct {
	ASN1_OCTET_STRING *auth_id;
	ASN1_INTEGER *auth_reference;
	ASN1_INTEGER *se_identifier;
} CIO_COMMON_AUTH;

ASN1_SEQUENCE(CIO_COMMON_AUTH) = {
	ASN1_OPT(CIO_COMMON_AUTH, auth_id, ASN1_OCTET_STRING),
	ASN1_OPT(CIO_COMMON_AUTH, auth_reference, ASN1_INTEGER),
	ASN1_IMP_OPT(CIO_COMMON_AUTH, se_identifier, ASN1_INTEGER, 0),
} static_ASN1_SEQUENCE_END(CIO_COMMON_AUTH)

typedef struct {
	ASN1_BIT_STRING *flags;
	ASN1_ENUMERATED *type;
	ASN1_INTEGER *min_length;
	ASN1_INTEGER *stored_length;
	ASN1_INTEGER *max_length;
	ASN1_INTEGER *reference;
	ASN1_OCTET_STRING *pad_char;
	ASN1_GENERALIZEDTIME *last_change;
	CIO_PATH *path;
} CIO_PASSWORD_ATTRS;

ASN1_SEQUENCE(CIO_PASSWORD_ATTRS) = {
	ASN1_SIMPLE(CIO_PASSWORD_ATTRS, flags, ASN1_BIT_STRING),
	ASN1_SIMPLE(CIO_PASSWORD_ATTRS, type, ASN1_ENUMERATED),
	ASN1_SIMPLE(CIO_PASSWORD_ATTRS, min_length, ASN1_INTEGER),
	ASN1_SIMPLE(CIO_PASSWORD_ATTRS, stored_length, ASN1_INTEGER),
	ASN1_OPT(CIO_PASSWORD_ATTRS, max_length, ASN1_INTEGER),
	ASN1_IMP_OPT(CIO_PASSWORD_ATTRS, reference, ASN1_INTEGER, 0),
	ASN1_OPT(CIO_PASSWORD_ATTRS, pad_char, ASN1_OCTET_STRING),
	ASN1_OPT(CIO_PASSWORD_ATTRS, last_change, ASN1_GENERALIZEDTIME),
	ASN1_OPT(CIO_PASSWORD_ATTRS, path, CIO_PATH),
} static_ASN1_SEQUENCE_END(CIO_PASSWORD_ATTRS)

typedef struct {
	CIO_COMMON_OBJECT *common;
	CIO_COMMON_AUTH *auth;
	ASN1_TYPE *sub_class;
	CIO_PASSWORD_ATTRS *pwd;
} CIO_PASSWORD;

ASN1_SEQUENCE(CIO_PASSWORD) = {
	ASN1_SIMPLE(CIO_PASSWORD, common, CIO_COMMON_OBJECT),
	ASN1_SIMPLE(CIO_PASSWORD, auth, CIO_COMMON_AUTH),
	ASN1_EXP_OPT(CIO_PASSWORD, sub_class, ASN1_ANY, 0),
	ASN1_EXP(CIO_PASSWORD, pwd, CIO_PASSWORD_ATTRS, 1),
} static_ASN1_SEQUENCE_END(CIO_PASSWORD)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CIO_PASSWORD)

typedef struct {
	ASN1_INTEGER *version;
	ASN1_OCTET_STRING *serial;
	ASN1_UTF8STRING *manufacturer;
	ASN1_UTF8STRING *label;
	ASN1_BIT_STRING *card_flags;
} CIO_CIA_INFO;

ASN1_SEQUENCE(CIO_CIA_INFO) = {
	ASN1_SIMPLE(CIO_CIA_INFO, version, ASN1_INTEGER),
	ASN1_OPT(CIO_CIA_INFO, serial, ASN1_OCTET_STRING),
	ASN1_OPT(CIO_CIA_INFO, manufacturer, ASN1_UTF8STRING),
	ASN1_IMP_OPT(CIO_CIA_INFO, label, ASN1_UTF8STRING, 0),
	ASN1_SIMPLE(CIO_CIA_INFO, card_flags, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CIO_CIA_INFO)
IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(CIO_CIA_INFO)

/* ---- paths ----------------------------------------------------------------- */

bool hpki_cio_path_is_sfi(const struct hpki_cio_path *path, uint8_t *sfi)
{
	/* G31 B.4.3: a 1-byte efidOrPath is the SFI in bits 8..4 (SFI << 3). */
	if (path->len != 1)
		return false;
	if (sfi != NULL)
		*sfi = path->efid_or_path[0] >> 3;
	return true;
}

bool hpki_cio_path_is_fid(const struct hpki_cio_path *path, uint16_t *fid)
{
	if (path->len != 2)
		return false;
	if (fid != NULL)
		*fid = (uint16_t)(path->efid_or_path[0] << 8 | path->efid_or_path[1]);
	return true;
}

void hpki_cio_path_set_sfi(struct hpki_cio_path *path, uint8_t sfi)
{
	path->efid_or_path[0] = (uint8_t)(sfi << 3);
	path->len = 1;
}

void hpki_cio_path_set_fid(struct hpki_cio_path *path, uint16_t fid)
{
	path->efid_or_path[0] = (uint8_t)(fid >> 8);
	path->efid_or_path[1] = (uint8_t)fid;
	path->len = 2;
}

/* ---- conversions between OpenSSL objects and the plain structs --------------- */

static int copy_bytes(const ASN1_STRING *s, uint8_t *out, size_t max, size_t *out_len)
{
	size_t len;

	if (s == NULL) {
		*out_len = 0;
		return HPKI_CIO_OK;
	}
	len = (size_t)ASN1_STRING_length(s);
	if (len > max)
		return HPKI_CIO_TOO_LARGE;
	memcpy(out, ASN1_STRING_get0_data(s), len);
	*out_len = len;
	return HPKI_CIO_OK;
}

static int copy_text(const ASN1_STRING *s, char *out, size_t max_chars)
{
	size_t len = 0;
	int rc = copy_bytes(s, (uint8_t *)out, max_chars, &len);

	out[rc == HPKI_CIO_OK ? len : 0] = '\0';
	return rc;
}

static int copy_path(const CIO_PATH *p, struct hpki_cio_path *out)
{
	int rc = copy_bytes(p->efid_or_path, out->efid_or_path, sizeof out->efid_or_path, &out->len);

	if (rc == HPKI_CIO_OK && out->len == 0)
		return HPKI_CIO_MALFORMED;
	return rc;
}

/* Bounded INTEGER → long; absent → fallback. */
static int get_long(const ASN1_INTEGER *i, long fallback, long min, long max, long *out)
{
	int64_t v;

	if (i == NULL) {
		*out = fallback;
		return HPKI_CIO_OK;
	}
	if (!ASN1_INTEGER_get_int64(&v, i) || v < min || v > max)
		return HPKI_CIO_MALFORMED;
	*out = (long)v;
	return HPKI_CIO_OK;
}

static int get_unsigned(const ASN1_INTEGER *i, unsigned *out)
{
	long v = 0;
	int rc = get_long(i, 0, 0, 0xFFFF, &v);

	*out = (unsigned)v;
	return rc;
}

/* Named-bit BIT STRING: bit n (first bit = 0) ↔ (1u << n). */
static uint32_t bits_to_flags(const ASN1_BIT_STRING *bs)
{
	uint32_t flags = 0;
	int n;

	if (bs == NULL)
		return 0;
	for (n = 0; n < 32; n++)
		if (ASN1_BIT_STRING_get_bit(bs, n))
			flags |= 1u << n;
	return flags;
}

static ASN1_BIT_STRING *flags_to_bits(uint32_t flags)
{
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
	int n;

	if (bs == NULL)
		return NULL;
	for (n = 0; n < 32; n++)
		if ((flags & (1u << n)) && !ASN1_BIT_STRING_set_bit(bs, n, 1)) {
			ASN1_BIT_STRING_free(bs);
			return NULL;
		}
	return bs;
}

static ASN1_OCTET_STRING *new_octets(const uint8_t *data, size_t len)
{
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	if (s != NULL && !ASN1_OCTET_STRING_set(s, data, (int)len)) {
		ASN1_OCTET_STRING_free(s);
		return NULL;
	}
	return s;
}

static ASN1_UTF8STRING *new_text(const char *text)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();

	if (s != NULL && !ASN1_STRING_set(s, text, (int)strlen(text))) {
		ASN1_UTF8STRING_free(s);
		return NULL;
	}
	return s;
}

static ASN1_INTEGER *new_integer(long value)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();

	if (i != NULL && !ASN1_INTEGER_set_int64(i, value)) {
		ASN1_INTEGER_free(i);
		return NULL;
	}
	return i;
}

static CIO_PATH *new_path(const struct hpki_cio_path *path)
{
	CIO_PATH *p = CIO_PATH_new();

	if (p == NULL)
		return NULL;
	if (!ASN1_OCTET_STRING_set(p->efid_or_path, path->efid_or_path, (int)path->len)) {
		CIO_PATH_free(p);
		return NULL;
	}
	return p;
}

/* CommonObjectFlags: private(0), modifiable(1). */
#define COMMON_FLAG_PRIVATE 0x1u

static CIO_COMMON_OBJECT *new_common_object(const char *label, bool private_object,
					    const uint8_t *auth_id, size_t auth_id_len, long user_consent)
{
	CIO_COMMON_OBJECT *c = OPENSSL_zalloc(sizeof *c);
	bool ok;

	if (c == NULL)
		return NULL;
	ok = (label[0] == '\0' || (c->label = new_text(label)) != NULL) &&
	     (!private_object || (c->flags = flags_to_bits(COMMON_FLAG_PRIVATE)) != NULL) &&
	     (auth_id_len == 0 || (c->auth_id = new_octets(auth_id, auth_id_len)) != NULL) &&
	     (user_consent <= 0 || (c->user_consent = new_integer(user_consent)) != NULL);
	if (!ok) {
		ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(CIO_COMMON_OBJECT));
		return NULL;
	}
	return c;
}

static int read_common_object(const CIO_COMMON_OBJECT *c, char *label, bool *private_object,
			      uint8_t *auth_id, size_t *auth_id_len, long *user_consent)
{
	int rc = copy_text(c->label, label, HPKI_CIO_LABEL_MAX);

	if (rc == HPKI_CIO_OK)
		rc = copy_bytes(c->auth_id, auth_id, HPKI_CIO_ID_MAX, auth_id_len);
	if (rc == HPKI_CIO_OK && user_consent != NULL)
		rc = get_long(c->user_consent, 0, 0, INT_MAX, user_consent);
	if (private_object != NULL)
		*private_object = (bits_to_flags(c->flags) & COMMON_FLAG_PRIVATE) != 0;
	return rc;
}

/* ---- encoding helpers ------------------------------------------------------- */

/* Appends the DER of `value` to a growing buffer. */
struct der_buffer {
	uint8_t *data;
	size_t len;
};

static int append_item(struct der_buffer *buf, const ASN1_VALUE *value, const ASN1_ITEM *item)
{
	unsigned char *der = NULL;
	int len = ASN1_item_i2d((ASN1_VALUE *)value, &der, item);
	uint8_t *grown;

	if (len <= 0)
		return HPKI_CIO_MALFORMED;
	grown = OPENSSL_realloc(buf->data, buf->len + (size_t)len);
	if (grown == NULL) {
		OPENSSL_free(der);
		return HPKI_CIO_NO_MEMORY;
	}
	memcpy(grown + buf->len, der, (size_t)len);
	buf->data = grown;
	buf->len += (size_t)len;
	OPENSSL_free(der);
	return HPKI_CIO_OK;
}

static int finish_buffer(struct der_buffer *buf, int rc, uint8_t **der, size_t *der_len)
{
	if (rc != HPKI_CIO_OK) {
		OPENSSL_free(buf->data);
		return rc;
	}
	*der = buf->data;
	*der_len = buf->len;
	return HPKI_CIO_OK;
}

/* ---- decoding helpers ------------------------------------------------------- */

/*
 * Walks the top-level DER values of a directory file. Stops at the end or at
 * 00/FF padding. Returns 1 with the next element in elem and elem_len, 0 at the end,
 * or HPKI_CIO_MALFORMED when a header is broken or overruns the file.
 */
static int next_element(const uint8_t **cursor, const uint8_t *end, const uint8_t **elem, size_t *elem_len)
{
	const unsigned char *p = *cursor;
	long content_len;
	int tag, xclass, flags;

	if (p >= end || *p == 0x00 || *p == 0xFF)
		return 0;
	flags = ASN1_get_object(&p, &content_len, &tag, &xclass, (long)(end - *cursor));
	if (flags & 0x80)
		return HPKI_CIO_MALFORMED;
	if (flags & 0x01) /* indefinite length is not DER */
		return HPKI_CIO_MALFORMED;
	if (content_len < 0 || (size_t)content_len > (size_t)(end - p))
		return HPKI_CIO_MALFORMED;
	*elem = *cursor;
	*elem_len = (size_t)(p - *cursor) + (size_t)content_len;
	*cursor = p + content_len;
	return 1;
}

/* A DER value decodes completely, with no trailing bytes inside the element. */
static ASN1_VALUE *decode_exact(const uint8_t *elem, size_t elem_len, const ASN1_ITEM *item)
{
	const unsigned char *p = elem;
	ASN1_VALUE *value = ASN1_item_d2i(NULL, &p, (long)elem_len, item);

	if (value != NULL && p != elem + elem_len) {
		ASN1_item_free(value, item);
		return NULL;
	}
	return value;
}

/* The untagged SEQUENCE alternative of a CIO CHOICE (RSA key, password, X.509 cert). */
static bool is_universal_sequence(const uint8_t *elem)
{
	return elem[0] == 0x30;
}

/* ---- EF.CIAInfo ------------------------------------------------------------- */

int hpki_cio_encode_cia_info(const struct hpki_cia_info *info, uint8_t **der, size_t *der_len)
{
	CIO_CIA_INFO *c = CIO_CIA_INFO_new();
	struct der_buffer buf = { 0 };
	int rc = HPKI_CIO_NO_MEMORY;

	if (c == NULL)
		return rc;
	ASN1_INTEGER_free(c->version);
	ASN1_BIT_STRING_free(c->card_flags);
	c->version = new_integer(info->version);
	c->card_flags = flags_to_bits(info->card_flags);
	if (c->version != NULL && c->card_flags != NULL &&
	    (info->serial_len == 0 || (c->serial = new_octets(info->serial, info->serial_len)) != NULL) &&
	    (info->manufacturer[0] == '\0' || (c->manufacturer = new_text(info->manufacturer)) != NULL) &&
	    (info->label[0] == '\0' || (c->label = new_text(info->label)) != NULL))
		rc = append_item(&buf, (ASN1_VALUE *)c, ASN1_ITEM_rptr(CIO_CIA_INFO));
	CIO_CIA_INFO_free(c);
	return finish_buffer(&buf, rc, der, der_len);
}

int hpki_cio_decode_cia_info(const uint8_t *der, size_t der_len, struct hpki_cia_info *info)
{
	const uint8_t *cursor = der, *elem;
	size_t elem_len;
	CIO_CIA_INFO *c;
	int rc;

	memset(info, 0, sizeof *info);
	rc = next_element(&cursor, der + der_len, &elem, &elem_len);
	if (rc <= 0)
		return HPKI_CIO_MALFORMED;
	c = (CIO_CIA_INFO *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(CIO_CIA_INFO));
	if (c == NULL)
		return HPKI_CIO_MALFORMED;
	rc = get_long(c->version, 0, 0, 255, &info->version);
	if (rc == HPKI_CIO_OK)
		rc = copy_bytes(c->serial, info->serial, sizeof info->serial, &info->serial_len);
	if (rc == HPKI_CIO_OK)
		rc = copy_text(c->manufacturer, info->manufacturer, HPKI_CIO_LABEL_MAX);
	if (rc == HPKI_CIO_OK)
		rc = copy_text(c->label, info->label, HPKI_CIO_LABEL_MAX);
	info->card_flags = bits_to_flags(c->card_flags);
	CIO_CIA_INFO_free(c);
	return rc;
}

/* ---- EF.OD ------------------------------------------------------------------ */

int hpki_cio_encode_od(const struct hpki_od_entry *entries, size_t count, uint8_t **der, size_t *der_len)
{
	struct der_buffer buf = { 0 };
	int rc = HPKI_CIO_OK;
	size_t i;

	for (i = 0; i < count && rc == HPKI_CIO_OK; i++) {
		CIO_OD_ENTRY *e = CIO_OD_ENTRY_new();

		if (e == NULL || (unsigned)entries[i].kind > HPKI_OD_AUTH_OBJECTS) {
			CIO_OD_ENTRY_free(e);
			rc = e == NULL ? HPKI_CIO_NO_MEMORY : HPKI_CIO_MALFORMED;
			break;
		}
		e->type = (int)entries[i].kind;
		e->d.path = new_path(&entries[i].path);
		rc = e->d.path == NULL ? HPKI_CIO_NO_MEMORY
				       : append_item(&buf, (ASN1_VALUE *)e, ASN1_ITEM_rptr(CIO_OD_ENTRY));
		CIO_OD_ENTRY_free(e);
	}
	return finish_buffer(&buf, rc, der, der_len);
}

int hpki_cio_decode_od(const uint8_t *der, size_t der_len, struct hpki_od_entry *entries, size_t max,
		       size_t *count)
{
	const uint8_t *cursor = der, *end = der + der_len, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		CIO_OD_ENTRY *e;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		/* Context tags [0]..[8] constructed; other forms (objects, URLs) are skipped. */
		if (elem[0] < 0xA0 || elem[0] > 0xA8)
			continue;
		e = (CIO_OD_ENTRY *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(CIO_OD_ENTRY));
		if (e == NULL)
			continue; /* e.g. [n] objects form: not a path, nothing to follow */
		if (*count == max)
			rc = HPKI_CIO_TOO_MANY;
		else {
			entries[*count].kind = (enum hpki_od_kind)e->type;
			rc = copy_path(e->d.path, &entries[*count].path);
			if (rc == HPKI_CIO_OK)
				(*count)++;
		}
		CIO_OD_ENTRY_free(e);
	}
	return rc;
}

/* ---- EF.AOD ----------------------------------------------------------------- */

static CIO_PASSWORD *password_from_struct(const struct hpki_aod_pin *pin)
{
	CIO_PASSWORD *p = CIO_PASSWORD_new();
	CIO_PASSWORD_ATTRS *a;

	if (p == NULL)
		return NULL;
	ASN1_item_free((ASN1_VALUE *)p->common, ASN1_ITEM_rptr(CIO_COMMON_OBJECT));
	p->common = new_common_object(pin->label, pin->private_object, NULL, 0, 0);
	a = p->pwd;
	ASN1_BIT_STRING_free(a->flags);
	ASN1_INTEGER_free(a->min_length);
	ASN1_INTEGER_free(a->stored_length);
	a->flags = flags_to_bits(pin->pwd_flags);
	a->min_length = new_integer(pin->min_length);
	a->stored_length = new_integer(pin->stored_length);
	if (p->common == NULL || a->flags == NULL || a->min_length == NULL || a->stored_length == NULL ||
	    !ASN1_ENUMERATED_set(a->type, pin->pwd_type) ||
	    (pin->auth_id_len > 0 && (p->auth->auth_id = new_octets(pin->auth_id, pin->auth_id_len)) == NULL) ||
	    (pin->max_length > 0 && (a->max_length = new_integer(pin->max_length)) == NULL) ||
	    (pin->pwd_reference > 0 && (a->reference = new_integer(pin->pwd_reference)) == NULL) ||
	    (pin->has_pad_char && (a->pad_char = new_octets(&pin->pad_char, 1)) == NULL)) {
		CIO_PASSWORD_free(p);
		return NULL;
	}
	return p;
}

int hpki_cio_encode_aod(const struct hpki_aod_pin *pins, size_t count, uint8_t **der, size_t *der_len)
{
	struct der_buffer buf = { 0 };
	int rc = HPKI_CIO_OK;
	size_t i;

	for (i = 0; i < count && rc == HPKI_CIO_OK; i++) {
		CIO_PASSWORD *p = password_from_struct(&pins[i]);

		rc = p == NULL ? HPKI_CIO_NO_MEMORY : append_item(&buf, (ASN1_VALUE *)p, ASN1_ITEM_rptr(CIO_PASSWORD));
		CIO_PASSWORD_free(p);
	}
	return finish_buffer(&buf, rc, der, der_len);
}

static int password_to_struct(const CIO_PASSWORD *p, struct hpki_aod_pin *pin)
{
	const CIO_PASSWORD_ATTRS *a = p->pwd;
	size_t pad_len = 0;
	long type = 0, reference = 0;
	int rc;

	uint8_t protector_id[HPKI_CIO_ID_MAX]; /* authId of whatever protects this PIN: unused */
	size_t protector_len;

	memset(pin, 0, sizeof *pin);
	rc = read_common_object(p->common, pin->label, &pin->private_object, protector_id, &protector_len,
				NULL);
	/* The authId that keys point to is CommonAuthenticationObjectAttributes.authId. */
	if (rc == HPKI_CIO_OK)
		rc = copy_bytes(p->auth->auth_id, pin->auth_id, HPKI_CIO_ID_MAX, &pin->auth_id_len);
	pin->pwd_flags = bits_to_flags(a->flags);
	if (rc == HPKI_CIO_OK) {
		type = ASN1_ENUMERATED_get(a->type);
		if (type < 0 || type > 4)
			rc = HPKI_CIO_MALFORMED;
		pin->pwd_type = (enum hpki_pwd_type)type;
	}
	if (rc == HPKI_CIO_OK)
		rc = get_unsigned(a->min_length, &pin->min_length);
	if (rc == HPKI_CIO_OK)
		rc = get_unsigned(a->stored_length, &pin->stored_length);
	if (rc == HPKI_CIO_OK)
		rc = get_unsigned(a->max_length, &pin->max_length);
	if (rc == HPKI_CIO_OK)
		rc = get_long(a->reference, 0, 0, 0xFF, &reference); /* VERIFY P2 is one byte */
	pin->pwd_reference = (unsigned)reference;
	if (rc == HPKI_CIO_OK && a->pad_char != NULL) {
		rc = copy_bytes(a->pad_char, &pin->pad_char, 1, &pad_len);
		pin->has_pad_char = pad_len == 1;
	}
	return rc;
}

int hpki_cio_decode_aod(const uint8_t *der, size_t der_len, struct hpki_aod_pin *pins, size_t max, size_t *count)
{
	const uint8_t *cursor = der, *end = der + der_len, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		CIO_PASSWORD *p;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		if (!is_universal_sequence(elem))
			continue; /* biometric, authKey, external: not used by HPKI */
		p = (CIO_PASSWORD *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(CIO_PASSWORD));
		if (p == NULL)
			return HPKI_CIO_MALFORMED;
		if (*count == max)
			rc = HPKI_CIO_TOO_MANY;
		else if ((rc = password_to_struct(p, &pins[*count])) == HPKI_CIO_OK)
			(*count)++;
		CIO_PASSWORD_free(p);
	}
	return rc;
}

/* ---- EF.PrKD ---------------------------------------------------------------- */

static CIO_PRIVATE_RSA_KEY *key_from_struct(const struct hpki_prkd_key *key)
{
	CIO_PRIVATE_RSA_KEY *k = CIO_PRIVATE_RSA_KEY_new();

	if (k == NULL)
		return NULL;
	ASN1_item_free((ASN1_VALUE *)k->common, ASN1_ITEM_rptr(CIO_COMMON_OBJECT));
	k->common = new_common_object(key->label, key->private_object, key->auth_id, key->auth_id_len,
				      key->user_consent);
	ASN1_BIT_STRING_free(k->key->usage);
	k->key->usage = flags_to_bits(key->usage);
	k->key->native = 1;
	CIO_PATH_free(k->rsa->value);
	k->rsa->value = new_path(&key->path);
	ASN1_INTEGER_free(k->rsa->modulus_length);
	k->rsa->modulus_length = new_integer(key->modulus_bits);
	if (k->common == NULL || k->key->usage == NULL || k->rsa->value == NULL ||
	    k->rsa->modulus_length == NULL || !ASN1_OCTET_STRING_set(k->key->id, key->id, (int)key->id_len) ||
	    (key->has_key_reference && (k->key->key_reference = new_integer(key->key_reference)) == NULL)) {
		CIO_PRIVATE_RSA_KEY_free(k);
		return NULL;
	}
	return k;
}

int hpki_cio_encode_prkd(const struct hpki_prkd_key *keys, size_t count, uint8_t **der, size_t *der_len)
{
	struct der_buffer buf = { 0 };
	int rc = HPKI_CIO_OK;
	size_t i;

	for (i = 0; i < count && rc == HPKI_CIO_OK; i++) {
		CIO_PRIVATE_RSA_KEY *k = key_from_struct(&keys[i]);

		rc = k == NULL ? HPKI_CIO_NO_MEMORY
			       : append_item(&buf, (ASN1_VALUE *)k, ASN1_ITEM_rptr(CIO_PRIVATE_RSA_KEY));
		CIO_PRIVATE_RSA_KEY_free(k);
	}
	return finish_buffer(&buf, rc, der, der_len);
}

static int key_to_struct(const CIO_PRIVATE_RSA_KEY *k, struct hpki_prkd_key *key)
{
	long bits = 0;
	int rc;

	memset(key, 0, sizeof *key);
	rc = read_common_object(k->common, key->label, &key->private_object, key->auth_id, &key->auth_id_len,
				&key->user_consent);
	if (rc == HPKI_CIO_OK)
		rc = copy_bytes(k->key->id, key->id, sizeof key->id, &key->id_len);
	key->usage = bits_to_flags(k->key->usage);
	if (rc == HPKI_CIO_OK && k->key->key_reference != NULL) {
		rc = get_long(k->key->key_reference, 0, 0, 0xFFFF, &key->key_reference);
		key->has_key_reference = true;
	}
	if (rc == HPKI_CIO_OK)
		rc = copy_path(k->rsa->value, &key->path);
	/* RSA moduli in HPKI: 2048, 4096 allowed (G31 §5.2.2 (20)); reject nonsense. */
	if (rc == HPKI_CIO_OK)
		rc = get_long(k->rsa->modulus_length, 0, 512, 16384, &bits);
	key->modulus_bits = (unsigned)bits;
	return rc;
}

int hpki_cio_decode_prkd(const uint8_t *der, size_t der_len, struct hpki_prkd_key *keys, size_t max,
			 size_t *count)
{
	const uint8_t *cursor = der, *end = der + der_len, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		CIO_PRIVATE_RSA_KEY *k;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		if (!is_universal_sequence(elem))
			continue; /* EC, DH, … keys: HPKI is RSA only (G31 §5.2.2 (8)) */
		k = (CIO_PRIVATE_RSA_KEY *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(CIO_PRIVATE_RSA_KEY));
		if (k == NULL)
			return HPKI_CIO_MALFORMED;
		if (*count == max)
			rc = HPKI_CIO_TOO_MANY;
		else if ((rc = key_to_struct(k, &keys[*count])) == HPKI_CIO_OK)
			(*count)++;
		CIO_PRIVATE_RSA_KEY_free(k);
	}
	return rc;
}

/* ---- EF.CD ------------------------------------------------------------------ */

static CIO_X509_CERT *cert_from_struct(const struct hpki_cd_cert *cert)
{
	CIO_X509_CERT *c = CIO_X509_CERT_new();

	if (c == NULL)
		return NULL;
	ASN1_item_free((ASN1_VALUE *)c->common, ASN1_ITEM_rptr(CIO_COMMON_OBJECT));
	c->common = new_common_object(cert->label, false, NULL, 0, 0);
	c->cert->authority = cert->authority ? 1 : 0;
	CIO_PATH_free(c->x509->value);
	c->x509->value = new_path(&cert->path);
	if (c->common == NULL || c->x509->value == NULL ||
	    !ASN1_OCTET_STRING_set(c->cert->id, cert->id, (int)cert->id_len)) {
		CIO_X509_CERT_free(c);
		return NULL;
	}
	return c;
}

int hpki_cio_encode_cd(const struct hpki_cd_cert *certs, size_t count, uint8_t **der, size_t *der_len)
{
	struct der_buffer buf = { 0 };
	int rc = HPKI_CIO_OK;
	size_t i;

	for (i = 0; i < count && rc == HPKI_CIO_OK; i++) {
		CIO_X509_CERT *c = cert_from_struct(&certs[i]);

		rc = c == NULL ? HPKI_CIO_NO_MEMORY : append_item(&buf, (ASN1_VALUE *)c, ASN1_ITEM_rptr(CIO_X509_CERT));
		CIO_X509_CERT_free(c);
	}
	return finish_buffer(&buf, rc, der, der_len);
}

static int cert_to_struct(const CIO_X509_CERT *c, struct hpki_cd_cert *cert)
{
	uint8_t unused_auth_id[HPKI_CIO_ID_MAX];
	size_t unused_len;
	int rc;

	memset(cert, 0, sizeof *cert);
	rc = read_common_object(c->common, cert->label, NULL, unused_auth_id, &unused_len, NULL);
	if (rc == HPKI_CIO_OK)
		rc = copy_bytes(c->cert->id, cert->id, sizeof cert->id, &cert->id_len);
	cert->authority = c->cert->authority > 0;
	if (rc == HPKI_CIO_OK)
		rc = copy_path(c->x509->value, &cert->path);
	return rc;
}

int hpki_cio_decode_cd(const uint8_t *der, size_t der_len, struct hpki_cd_cert *certs, size_t max, size_t *count)
{
	const uint8_t *cursor = der, *end = der + der_len, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		CIO_X509_CERT *c;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		if (!is_universal_sequence(elem))
			continue; /* attribute certificates, SPKI, …: not HPKI objects */
		c = (CIO_X509_CERT *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(CIO_X509_CERT));
		if (c == NULL)
			return HPKI_CIO_MALFORMED;
		if (*count == max)
			rc = HPKI_CIO_TOO_MANY;
		else if ((rc = cert_to_struct(c, &certs[*count])) == HPKI_CIO_OK)
			(*count)++;
		CIO_X509_CERT_free(c);
	}
	return rc;
}

const char *hpki_cio_status_text(int status)
{
	switch (status) {
	case HPKI_CIO_OK:
		return "ok";
	case HPKI_CIO_MALFORMED:
		return "malformed ISO 7816-15 DER";
	case HPKI_CIO_TOO_MANY:
		return "more directory entries than supported";
	case HPKI_CIO_NO_MEMORY:
		return "out of memory";
	case HPKI_CIO_TOO_LARGE:
		return "directory field larger than supported";
	default:
		return "unknown";
	}
}
