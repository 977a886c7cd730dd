/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO/IEC 7816-15 directories from DER to the plain structs of hpki/cio.h. The input
 * comes from an untrusted card: every length and count is bounded, and a value
 * must decode completely.
 */
#include "config.h"

#include "cio-asn1.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>

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
	if (len > 0) /* an empty string's data may be NULL: memcpy(…, NULL, 0) is undefined (C11 §7.24.1) */
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

static int copy_path(const HPKI_ASN1_PATH *p, struct hpki_cio_path *out)
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

static int read_common_object(const HPKI_ASN1_COMMON_OBJECT *c, char *label, bool *private_object,
			      uint8_t *auth_id, size_t *auth_id_len, long *user_consent)
{
	int rc = copy_text(c->label, label, HPKI_CIO_LABEL_MAX);

	if (rc == HPKI_CIO_OK)
		rc = copy_bytes(c->auth_id, auth_id, HPKI_CIO_ID_MAX, auth_id_len);
	if (rc == HPKI_CIO_OK && user_consent != NULL)
		rc = get_long(c->user_consent, 0, 0, INT_MAX, user_consent);
	if (private_object != NULL)
		*private_object = (bits_to_flags(c->flags) & HPKI_ASN1_COMMON_FLAG_PRIVATE) != 0;
	return rc;
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

/*
 * True when there are no bytes to walk, with the answer in *rc: an empty
 * directory is 0 entries, a NULL buffer claiming bytes is malformed. An empty
 * file may come as NULL (the encoder's result for zero entries), and C11 §6.5.6
 * leaves even NULL + 0 undefined, so no decoder computes an end pointer then.
 */
static bool nothing_to_decode(const uint8_t *der, size_t der_len, int *rc)
{
	if (der != NULL && der_len > 0)
		return false;
	*rc = der_len == 0 ? HPKI_CIO_OK : HPKI_CIO_MALFORMED;
	return true;
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

int hpki_cio_decode_cia_info(const uint8_t *der, size_t der_len, struct hpki_cia_info *info)
{
	const uint8_t *cursor = der, *elem;
	size_t elem_len;
	HPKI_ASN1_CIA_INFO *c;
	int rc;

	memset(info, 0, sizeof *info);
	if (nothing_to_decode(der, der_len, &rc))
		return HPKI_CIO_MALFORMED; /* EF.CIAInfo is one value: empty is not one */
	rc = next_element(&cursor, der + der_len, &elem, &elem_len);
	if (rc <= 0)
		return HPKI_CIO_MALFORMED;
	c = (HPKI_ASN1_CIA_INFO *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(HPKI_ASN1_CIA_INFO));
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
	HPKI_ASN1_CIA_INFO_free(c);
	return rc;
}

int hpki_cio_decode_od(const uint8_t *der, size_t der_len, struct hpki_od_entry *entries, size_t max,
		       size_t *count)
{
	const uint8_t *cursor = der, *end, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	if (nothing_to_decode(der, der_len, &rc))
		return rc;
	end = der + der_len;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		HPKI_ASN1_OD_ENTRY *e;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		/* Context tags [0]..[8] constructed; other forms (objects, URLs) are skipped. */
		if (elem[0] < 0xA0 || elem[0] > 0xA8)
			continue;
		e = (HPKI_ASN1_OD_ENTRY *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(HPKI_ASN1_OD_ENTRY));
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
		HPKI_ASN1_OD_ENTRY_free(e);
	}
	return rc;
}

static int password_to_struct(const HPKI_ASN1_PASSWORD *p, struct hpki_aod_pin *pin)
{
	const HPKI_ASN1_PASSWORD_ATTRS *a = p->pwd;
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
	const uint8_t *cursor = der, *end, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	if (nothing_to_decode(der, der_len, &rc))
		return rc;
	end = der + der_len;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		HPKI_ASN1_PASSWORD *p;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		if (!is_universal_sequence(elem))
			continue; /* biometric, authKey, external: not used by HPKI */
		p = (HPKI_ASN1_PASSWORD *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(HPKI_ASN1_PASSWORD));
		if (p == NULL)
			return HPKI_CIO_MALFORMED;
		if (*count == max)
			rc = HPKI_CIO_TOO_MANY;
		else if ((rc = password_to_struct(p, &pins[*count])) == HPKI_CIO_OK)
			(*count)++;
		HPKI_ASN1_PASSWORD_free(p);
	}
	return rc;
}

static int key_to_struct(const HPKI_ASN1_PRIVATE_RSA_KEY *k, struct hpki_prkd_key *key)
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
	const uint8_t *cursor = der, *end, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	if (nothing_to_decode(der, der_len, &rc))
		return rc;
	end = der + der_len;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		HPKI_ASN1_PRIVATE_RSA_KEY *k;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		if (!is_universal_sequence(elem))
			continue; /* EC, DH, … keys: HPKI is RSA only (G31 §5.2.2 (8)) */
		k = (HPKI_ASN1_PRIVATE_RSA_KEY *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(HPKI_ASN1_PRIVATE_RSA_KEY));
		if (k == NULL)
			return HPKI_CIO_MALFORMED;
		if (*count == max)
			rc = HPKI_CIO_TOO_MANY;
		else if ((rc = key_to_struct(k, &keys[*count])) == HPKI_CIO_OK)
			(*count)++;
		HPKI_ASN1_PRIVATE_RSA_KEY_free(k);
	}
	return rc;
}

static int cert_to_struct(const HPKI_ASN1_X509_CERT *c, struct hpki_cd_cert *cert)
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
	const uint8_t *cursor = der, *end, *elem;
	size_t elem_len;
	int more, rc = HPKI_CIO_OK;

	*count = 0;
	if (nothing_to_decode(der, der_len, &rc))
		return rc;
	end = der + der_len;
	while (rc == HPKI_CIO_OK && (more = next_element(&cursor, end, &elem, &elem_len)) != 0) {
		HPKI_ASN1_X509_CERT *c;

		if (more < 0)
			return HPKI_CIO_MALFORMED;
		if (!is_universal_sequence(elem))
			continue; /* attribute certificates, SPKI, …: not HPKI objects */
		c = (HPKI_ASN1_X509_CERT *)decode_exact(elem, elem_len, ASN1_ITEM_rptr(HPKI_ASN1_X509_CERT));
		if (c == NULL)
			return HPKI_CIO_MALFORMED;
		if (*count == max)
			rc = HPKI_CIO_TOO_MANY;
		else if ((rc = cert_to_struct(c, &certs[*count])) == HPKI_CIO_OK)
			(*count)++;
		HPKI_ASN1_X509_CERT_free(c);
	}
	return rc;
}
