/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO/IEC 7816-15 directories from the plain structs of hpki/cio.h to DER (the
 * virtual card and the tests write what a card would hold).
 */
#include "config.h"

#include "cio-asn1.h"

#include <string.h>

#include <openssl/crypto.h>

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

static HPKI_ASN1_PATH *new_path(const struct hpki_cio_path *path)
{
	HPKI_ASN1_PATH *p = HPKI_ASN1_PATH_new();

	if (p == NULL)
		return NULL;
	if (!ASN1_OCTET_STRING_set(p->efid_or_path, path->efid_or_path, (int)path->len)) {
		HPKI_ASN1_PATH_free(p);
		return NULL;
	}
	return p;
}

static HPKI_ASN1_COMMON_OBJECT *new_common_object(const char *label, bool private_object,
					    const uint8_t *auth_id, size_t auth_id_len, long user_consent)
{
	HPKI_ASN1_COMMON_OBJECT *c = OPENSSL_zalloc(sizeof *c);
	bool ok;

	if (c == NULL)
		return NULL;
	ok = (label[0] == '\0' || (c->label = new_text(label)) != NULL) &&
	     (!private_object || (c->flags = flags_to_bits(HPKI_ASN1_COMMON_FLAG_PRIVATE)) != NULL) &&
	     (auth_id_len == 0 || (c->auth_id = new_octets(auth_id, auth_id_len)) != NULL) &&
	     (user_consent <= 0 || (c->user_consent = new_integer(user_consent)) != NULL);
	if (!ok) {
		ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(HPKI_ASN1_COMMON_OBJECT));
		return NULL;
	}
	return c;
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

/* ---- EF.CIAInfo ------------------------------------------------------------- */

int hpki_cio_encode_cia_info(const struct hpki_cia_info *info, uint8_t **der, size_t *der_len)
{
	HPKI_ASN1_CIA_INFO *c = HPKI_ASN1_CIA_INFO_new();
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
		rc = append_item(&buf, (ASN1_VALUE *)c, ASN1_ITEM_rptr(HPKI_ASN1_CIA_INFO));
	HPKI_ASN1_CIA_INFO_free(c);
	return finish_buffer(&buf, rc, der, der_len);
}

/* ---- EF.OD ------------------------------------------------------------------ */

int hpki_cio_encode_od(const struct hpki_od_entry *entries, size_t count, uint8_t **der, size_t *der_len)
{
	struct der_buffer buf = { 0 };
	int rc = HPKI_CIO_OK;
	size_t i;

	for (i = 0; i < count && rc == HPKI_CIO_OK; i++) {
		HPKI_ASN1_OD_ENTRY *e = HPKI_ASN1_OD_ENTRY_new();

		if (e == NULL || (unsigned)entries[i].kind > HPKI_OD_AUTH_OBJECTS) {
			HPKI_ASN1_OD_ENTRY_free(e);
			rc = e == NULL ? HPKI_CIO_NO_MEMORY : HPKI_CIO_MALFORMED;
			break;
		}
		e->type = (int)entries[i].kind;
		e->d.path = new_path(&entries[i].path);
		rc = e->d.path == NULL ? HPKI_CIO_NO_MEMORY
				       : append_item(&buf, (ASN1_VALUE *)e, ASN1_ITEM_rptr(HPKI_ASN1_OD_ENTRY));
		HPKI_ASN1_OD_ENTRY_free(e);
	}
	return finish_buffer(&buf, rc, der, der_len);
}

/* ---- EF.AOD ----------------------------------------------------------------- */

static HPKI_ASN1_PASSWORD *password_from_struct(const struct hpki_aod_pin *pin)
{
	HPKI_ASN1_PASSWORD *p = HPKI_ASN1_PASSWORD_new();
	HPKI_ASN1_PASSWORD_ATTRS *a;

	if (p == NULL)
		return NULL;
	ASN1_item_free((ASN1_VALUE *)p->common, ASN1_ITEM_rptr(HPKI_ASN1_COMMON_OBJECT));
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
		HPKI_ASN1_PASSWORD_free(p);
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
		HPKI_ASN1_PASSWORD *p = password_from_struct(&pins[i]);

		rc = p == NULL ? HPKI_CIO_NO_MEMORY : append_item(&buf, (ASN1_VALUE *)p, ASN1_ITEM_rptr(HPKI_ASN1_PASSWORD));
		HPKI_ASN1_PASSWORD_free(p);
	}
	return finish_buffer(&buf, rc, der, der_len);
}

/* ---- EF.PrKD ---------------------------------------------------------------- */

static HPKI_ASN1_PRIVATE_RSA_KEY *key_from_struct(const struct hpki_prkd_key *key)
{
	HPKI_ASN1_PRIVATE_RSA_KEY *k = HPKI_ASN1_PRIVATE_RSA_KEY_new();

	if (k == NULL)
		return NULL;
	ASN1_item_free((ASN1_VALUE *)k->common, ASN1_ITEM_rptr(HPKI_ASN1_COMMON_OBJECT));
	k->common = new_common_object(key->label, key->private_object, key->auth_id, key->auth_id_len,
				      key->user_consent);
	ASN1_BIT_STRING_free(k->key->usage);
	k->key->usage = flags_to_bits(key->usage);
	k->key->native = 1;
	HPKI_ASN1_PATH_free(k->rsa->value);
	k->rsa->value = new_path(&key->path);
	ASN1_INTEGER_free(k->rsa->modulus_length);
	k->rsa->modulus_length = new_integer(key->modulus_bits);
	if (k->common == NULL || k->key->usage == NULL || k->rsa->value == NULL ||
	    k->rsa->modulus_length == NULL || !ASN1_OCTET_STRING_set(k->key->id, key->id, (int)key->id_len) ||
	    (key->has_key_reference && (k->key->key_reference = new_integer(key->key_reference)) == NULL)) {
		HPKI_ASN1_PRIVATE_RSA_KEY_free(k);
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
		HPKI_ASN1_PRIVATE_RSA_KEY *k = key_from_struct(&keys[i]);

		rc = k == NULL ? HPKI_CIO_NO_MEMORY
			       : append_item(&buf, (ASN1_VALUE *)k, ASN1_ITEM_rptr(HPKI_ASN1_PRIVATE_RSA_KEY));
		HPKI_ASN1_PRIVATE_RSA_KEY_free(k);
	}
	return finish_buffer(&buf, rc, der, der_len);
}

/* ---- EF.CD ------------------------------------------------------------------ */

static HPKI_ASN1_X509_CERT *cert_from_struct(const struct hpki_cd_cert *cert)
{
	HPKI_ASN1_X509_CERT *c = HPKI_ASN1_X509_CERT_new();

	if (c == NULL)
		return NULL;
	ASN1_item_free((ASN1_VALUE *)c->common, ASN1_ITEM_rptr(HPKI_ASN1_COMMON_OBJECT));
	c->common = new_common_object(cert->label, false, NULL, 0, 0);
	c->cert->authority = cert->authority ? 1 : 0;
	HPKI_ASN1_PATH_free(c->x509->value);
	c->x509->value = new_path(&cert->path);
	if (c->common == NULL || c->x509->value == NULL ||
	    !ASN1_OCTET_STRING_set(c->cert->id, cert->id, (int)cert->id_len)) {
		HPKI_ASN1_X509_CERT_free(c);
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
		HPKI_ASN1_X509_CERT *c = cert_from_struct(&certs[i]);

		rc = c == NULL ? HPKI_CIO_NO_MEMORY : append_item(&buf, (ASN1_VALUE *)c, ASN1_ITEM_rptr(HPKI_ASN1_X509_CERT));
		HPKI_ASN1_X509_CERT_free(c);
	}
	return finish_buffer(&buf, rc, der, der_len);
}
