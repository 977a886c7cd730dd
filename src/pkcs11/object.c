/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Objects: each certificate on the card, the end-entity public key and the
 * private key, as precomputed attribute arrays built once per card insertion
 * from the DER with OpenSSL. C_GetAttributeValue and C_FindObjects are generic
 * loops over these arrays.
 *
 * CKA_ID links the end-entity certificate, public key and private key (NSS finds
 * the key of a certificate this way, consumer-expectations §4) and is unique per
 * object family on the token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "log.h"
#include "token.h"

/* Handles are never reused within a process, so a stale handle never names a new object. */
static CK_OBJECT_HANDLE next_handle = 1;

struct attr_builder {
	CK_ATTRIBUTE attrs[48];
	size_t count;
	bool failed;
};

static void add_bytes(struct attr_builder *b, CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
{
	CK_ATTRIBUTE *a;

	if (b->failed || b->count == sizeof b->attrs / sizeof b->attrs[0]) {
		b->failed = true;
		return;
	}
	a = &b->attrs[b->count];
	a->type = type;
	a->ulValueLen = (CK_ULONG)len;
	a->pValue = NULL;
	if (len > 0) {
		a->pValue = malloc(len);
		if (a->pValue == NULL) {
			b->failed = true;
			return;
		}
		memcpy(a->pValue, value, len);
	}
	b->count++;
}

static void add_bool(struct attr_builder *b, CK_ATTRIBUTE_TYPE type, bool value)
{
	CK_BBOOL v = value ? CK_TRUE : CK_FALSE;

	add_bytes(b, type, &v, sizeof v);
}

static void add_ulong(struct attr_builder *b, CK_ATTRIBUTE_TYPE type, CK_ULONG value)
{
	add_bytes(b, type, &value, sizeof value);
}

static void add_text(struct attr_builder *b, CK_ATTRIBUTE_TYPE type, const char *text)
{
	add_bytes(b, type, text, strlen(text));
}

/* A DER element of the certificate, as it is on the card (card-cert.c found it). */
static void add_slice(struct attr_builder *b, CK_ATTRIBUTE_TYPE type, const struct hpki_cert *cert,
		      const struct hpki_der_slice *slice)
{
	add_bytes(b, type, cert->der + slice->offset, slice->len);
}

/* The end-entity key's numbers as PKCS#11 big integers (most significant byte
 * first, no sign byte), found once per token for both key objects, from the
 * certificate's DER: asking the EVP_PKEY costs ~60 k instructions a number (issue 11). */
struct rsa_numbers {
	uint8_t modulus[1024], exponent[1024]; /* up to 8192 bits */
	size_t modulus_len, exponent_len;
	bool known;
	CK_ULONG bits;
};

static void rsa_numbers_of(const struct hpki_cert *cert, const EVP_PKEY *key, struct rsa_numbers *n)
{
	n->modulus_len = sizeof n->modulus;
	n->exponent_len = sizeof n->exponent;
	n->known = cert != NULL && hpki_card_cert_rsa_numbers(cert, n->modulus, &n->modulus_len, n->exponent,
							     &n->exponent_len);
	n->bits = key != NULL ? (CK_ULONG)EVP_PKEY_get_bits(key) : 0;
}

static void add_bignum(struct attr_builder *b, CK_ATTRIBUTE_TYPE type, bool known, const uint8_t *value, size_t len)
{
	if (!known)
		b->failed = true;
	else
		add_bytes(b, type, value, len);
}

/* CK_DATE from a certificate's Time (PKCS#11 2.40 §3.3: YYYYMMDD as characters). */
static void add_date(struct attr_builder *b, CK_ATTRIBUTE_TYPE type, const struct hpki_cert *cert,
		     const struct hpki_der_slice *slice)
{
	const unsigned char *p = cert->der + slice->offset;
	ASN1_TIME *t = d2i_ASN1_TIME(NULL, &p, (long)slice->len);
	struct tm tm;
	CK_DATE date;
	char text[16];
	bool ok = t != NULL && ASN1_TIME_to_tm(t, &tm);

	ASN1_TIME_free(t);
	if (!ok) {
		add_bytes(b, type, NULL, 0);
		return;
	}
	snprintf(text, sizeof text, "%04d%02d%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
		 tm.tm_mday % 100);
	memcpy(date.year, text, 4);
	memcpy(date.month, text + 4, 2);
	memcpy(date.day, text + 6, 2);
	add_bytes(b, type, &date, sizeof date);
}

static void add_storage_attrs(struct attr_builder *b, CK_OBJECT_CLASS klass, bool is_private, const char *label)
{
	add_ulong(b, CKA_CLASS, klass);
	add_bool(b, CKA_TOKEN, true);
	add_bool(b, CKA_PRIVATE, is_private);
	add_bool(b, CKA_MODIFIABLE, false);
	add_bool(b, CKA_COPYABLE, false);
	add_bool(b, CKA_DESTROYABLE, false);
	add_text(b, CKA_LABEL, label);
}

static void add_key_attrs(struct attr_builder *b, const struct hpki_token *token, const uint8_t *id, size_t id_len,
			  const struct hpki_cert *cert, const struct rsa_numbers *key)
{
	CK_MECHANISM_TYPE mechs[32], allowed[32];
	size_t n = hpki_mech_list(&token->caps, mechs, 32), i, k = 0;
	CK_MECHANISM_INFO info;

	add_ulong(b, CKA_KEY_TYPE, CKK_RSA);
	add_bytes(b, CKA_ID, id, id_len);
	add_bytes(b, CKA_START_DATE, NULL, 0);
	add_bytes(b, CKA_END_DATE, NULL, 0);
	add_bool(b, CKA_DERIVE, false);
	/* Unknown whether the key was generated on the card. */
	add_bool(b, CKA_LOCAL, false);
	add_ulong(b, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
	for (i = 0; i < n && i < 32; i++)
		if (hpki_mech_info(&token->caps, mechs[i], &info) == CKR_OK && (info.flags & CKF_SIGN))
			allowed[k++] = mechs[i];
	add_bytes(b, CKA_ALLOWED_MECHANISMS, allowed, k * sizeof allowed[0]);
	add_slice(b, CKA_SUBJECT, cert, &cert->subject);
	/* The certificate's own SubjectPublicKeyInfo: i2d_PUBKEY of the EVP_PKEY would run
	 * OpenSSL's provider encoders (issue 11: 6.5 M instructions). */
	add_slice(b, CKA_PUBLIC_KEY_INFO, cert, &cert->spki);
	add_bignum(b, CKA_MODULUS, key->known, key->modulus, key->modulus_len);
	add_bignum(b, CKA_PUBLIC_EXPONENT, key->known, key->exponent, key->exponent_len);
}

static CK_RV finish_object(struct hpki_token *token, struct attr_builder *b, CK_OBJECT_CLASS klass)
{
	struct hpki_object *o;
	size_t i;

	if (b->failed || token->object_count == HPKI_MAX_OBJECTS) {
		for (i = 0; i < b->count; i++)
			free(b->attrs[i].pValue);
		return CKR_HOST_MEMORY;
	}
	o = &token->objects[token->object_count];
	o->attrs = malloc(b->count * sizeof *o->attrs);
	if (o->attrs == NULL) {
		for (i = 0; i < b->count; i++)
			free(b->attrs[i].pValue);
		return CKR_HOST_MEMORY;
	}
	memcpy(o->attrs, b->attrs, b->count * sizeof *o->attrs);
	o->attr_count = b->count;
	o->klass = klass;
	o->handle = next_handle++;
	token->object_count++;
	return CKR_OK;
}

static CK_RV add_certificate(struct hpki_token *token, const struct hpki_cert *cert, const uint8_t *id,
			     size_t id_len, const char *label, bool end_entity)
{
	struct attr_builder b = { .count = 0 };
	unsigned char digest[SHA_DIGEST_LENGTH];
	unsigned int digest_len = 0;

	add_storage_attrs(&b, CKO_CERTIFICATE, false, label);
	add_ulong(&b, CKA_CERTIFICATE_TYPE, CKC_X_509);
	add_bool(&b, CKA_TRUSTED, false);
	/* PKCS#11 2.40 §4.6.2: 1 = token user, 2 = authority. */
	add_ulong(&b, CKA_CERTIFICATE_CATEGORY, end_entity ? 1 : 2);
	EVP_Digest(cert->der, cert->der_len, digest, &digest_len, EVP_sha1(), NULL);
	add_bytes(&b, CKA_CHECK_VALUE, digest, 3);
	add_date(&b, CKA_START_DATE, cert, &cert->not_before);
	add_date(&b, CKA_END_DATE, cert, &cert->not_after);
	/* DER as on the card: what i2d of OpenSSL's parse gives (test-cert compares). */
	add_slice(&b, CKA_SUBJECT, cert, &cert->subject);
	add_bytes(&b, CKA_ID, id, id_len);
	add_slice(&b, CKA_ISSUER, cert, &cert->issuer);
	add_slice(&b, CKA_SERIAL_NUMBER, cert, &cert->serial);
	add_bytes(&b, CKA_VALUE, cert->der, cert->der_len);
	add_bytes(&b, CKA_URL, NULL, 0);
	if (hpki_card_cert_key_digest(cert, digest))
		add_bytes(&b, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, digest, SHA_DIGEST_LENGTH);
	add_ulong(&b, CKA_NAME_HASH_ALGORITHM, CKM_SHA_1);
	add_ulong(&b, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);
	return finish_object(token, &b, CKO_CERTIFICATE);
}

static CK_RV add_public_key(struct hpki_token *token, const struct hpki_cert *cert, const struct rsa_numbers *key,
			    const uint8_t *id, size_t id_len, const char *label)
{
	struct attr_builder b = { .count = 0 };

	add_storage_attrs(&b, CKO_PUBLIC_KEY, false, label);
	add_key_attrs(&b, token, id, id_len, cert, key);
	add_ulong(&b, CKA_MODULUS_BITS, key->bits);
	add_bool(&b, CKA_ENCRYPT, false);
	add_bool(&b, CKA_VERIFY, true);
	add_bool(&b, CKA_VERIFY_RECOVER, false);
	add_bool(&b, CKA_WRAP, false);
	add_bool(&b, CKA_TRUSTED, false);
	return finish_object(token, &b, CKO_PUBLIC_KEY);
}

/*
 * The private key is a private object: CKA_PRIVATE = TRUE (JAHIS G31 table 3,
 * EF.PrKD privateObject), so it is visible only to a logged-in user (PKCS#11
 * 2.40 §4.4, hpki_object_visible). Its certificate and public key stay public,
 * and share its CKA_ID, so an application finds the key after C_Login.
 */
static CK_RV add_private_key(struct hpki_token *token, const struct hpki_cert *cert, const struct rsa_numbers *key,
			     const uint8_t *id, size_t id_len, const char *label)
{
	struct attr_builder b = { .count = 0 };
	CK_RV rv;

	add_storage_attrs(&b, CKO_PRIVATE_KEY, true, label);
	add_key_attrs(&b, token, id, id_len, cert, key);
	add_bool(&b, CKA_SENSITIVE, true);
	add_bool(&b, CKA_DECRYPT, false);
	add_bool(&b, CKA_SIGN, true);
	add_bool(&b, CKA_SIGN_RECOVER, false);
	add_bool(&b, CKA_UNWRAP, false);
	add_bool(&b, CKA_EXTRACTABLE, false);
	add_bool(&b, CKA_ALWAYS_SENSITIVE, true);
	add_bool(&b, CKA_NEVER_EXTRACTABLE, true);
	add_bool(&b, CKA_WRAP_WITH_TRUSTED, false);
	add_bool(&b, CKA_ALWAYS_AUTHENTICATE, token->always_authenticate);
	rv = finish_object(token, &b, CKO_PRIVATE_KEY);
	if (rv == CKR_OK)
		token->private_key = token->objects[token->object_count - 1].handle;
	return rv;
}

/* The end-entity certificate: the one EF.CD links to the key by iD, else the first non-CA one. */
static int end_entity_index(const struct hpki_app *app)
{
	size_t i;

	for (i = 0; app->has_key && i < app->cert_count; i++)
		if (app->certs[i].info.id_len == app->key.id_len && app->key.id_len > 0 &&
		    memcmp(app->certs[i].info.id, app->key.id, app->key.id_len) == 0)
			return (int)i;
	for (i = 0; i < app->cert_count; i++)
		if (!app->certs[i].info.authority)
			return (int)i;
	return -1;
}

/*
 * CKA_LABELs of JAHIS G31 §5.2.2 table 3: applications written from the guideline
 * and the MEDIS sample code find the end-entity certificate and the key by these
 * fixed labels (card-fidelity §1.3, §3 (5)); the holder's name is in the token label.
 */
#define HPKI_LABEL_EE_CERTIFICATE "HPKI END ENTITY CERTIFICATE"
#define HPKI_LABEL_PRIVATE_KEY "Private key of HPKI"
/* Not in table 3 (G31 lists no public-key object): the public key carries its private
 * key's label, so that applications pairing the two by label (GnuTLS p11tool finds
 * the public key from the private key's URI) find it. */
#define HPKI_LABEL_PUBLIC_KEY HPKI_LABEL_PRIVATE_KEY
#define HPKI_LABEL_MHLW_CA "MHLW CA CERTIFICATE"
#define HPKI_LABEL_ROOT_CA "HPKI ROOT CA CERTIFICATE"
#define HPKI_LABEL_CA "HPKI CA CERTIFICATE"

/* The card's own EF.CD label when it is one of table 3's CA labels (G31 B.4.6 spells
 * them with a stray leading space), else NULL. */
static const char *table3_ca_label(const char *card_label)
{
	static const char *const labels[] = { HPKI_LABEL_MHLW_CA, HPKI_LABEL_ROOT_CA, HPKI_LABEL_CA };

	while (*card_label == ' ')
		card_label++;
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (strncasecmp(card_label, labels[i], strlen(labels[i])) == 0 &&
		    strspn(card_label + strlen(labels[i]), " ") == strlen(card_label + strlen(labels[i])))
			return labels[i];
	return NULL;
}

/* A CA certificate's label: the card's when it is a table-3 label; otherwise the
 * self-signed one (issued by itself: its own name and key) is the MHLW root, the
 * anchor of every HPKI chain, any other an issuing CA. */
static const char *ca_label(const struct hpki_cert *cert)
{
	const char *label = table3_ca_label(cert->info.label);

	if (label != NULL)
		return label;
	return hpki_card_cert_issued(cert, cert) ? HPKI_LABEL_MHLW_CA : HPKI_LABEL_CA;
}

/* A CA certificate's CKA_ID must not collide with the key's: fall back to the SHA-1 of its key. */
static size_t ca_cert_id(const struct hpki_cert *cert, const uint8_t *key_id, size_t key_id_len, uint8_t *out)
{
	if (cert->info.id_len > 0 && !(cert->info.id_len == key_id_len && memcmp(cert->info.id, key_id, key_id_len) == 0)) {
		memcpy(out, cert->info.id, cert->info.id_len);
		return cert->info.id_len;
	}
	return hpki_card_cert_key_digest(cert, out) ? SHA_DIGEST_LENGTH : 0;
}

static CK_RV build_certificates(struct hpki_token *token, const struct hpki_app *app, int ee, const uint8_t *key_id,
				size_t key_id_len)
{
	size_t i;
	CK_RV rv = CKR_OK;
	struct rsa_numbers key;

	rsa_numbers_of(ee >= 0 ? &app->certs[ee] : NULL, token->caps.public_key, &key);
	for (i = 0; i < app->cert_count && rv == CKR_OK; i++) {
		const struct hpki_cert *cert = &app->certs[i]; /* its fields found once by the card library */
		uint8_t id[HPKI_CIO_ID_MAX > 20 ? HPKI_CIO_ID_MAX : 20];
		size_t id_len;
		if (!cert->is_x509) {
			hpki_error("certificate %zu of '%s' is not DER X.509; skipped", i, token->reader->name);
			continue;
		}
		if ((int)i == ee) {
			rv = add_certificate(token, cert, key_id, key_id_len, HPKI_LABEL_EE_CERTIFICATE, true);
			if (rv == CKR_OK && app->has_key)
				rv = add_public_key(token, cert, &key, key_id, key_id_len, HPKI_LABEL_PUBLIC_KEY);
			if (rv == CKR_OK && app->has_key)
				rv = add_private_key(token, cert, &key, key_id, key_id_len, HPKI_LABEL_PRIVATE_KEY);
		} else {
			id_len = ca_cert_id(cert, key_id, key_id_len, id);
			rv = add_certificate(token, cert, id, id_len, ca_label(cert), false);
		}
	}
	return rv;
}

CK_RV hpki_objects_build(struct hpki_token *token)
{
	const struct hpki_app *app = &token->reader->card.apps[token->app];
	int ee = end_entity_index(app);
	uint8_t key_id[HPKI_CIO_ID_MAX] = { 0x01 };
	size_t key_id_len = 1;

	if (ee >= 0) {
		/* PSS encoding needs the public key (mechanism.h); kept until the card goes. It
		 * also gives the key objects' modulus and exponent. */
		token->caps.public_key = hpki_card_cert_public_key(&app->certs[ee]);
		if (token->caps.public_key != NULL)
			token->caps.modulus_bits = (unsigned)EVP_PKEY_get_bits(token->caps.public_key);
	}
	if (token->caps.modulus_bits == 0)
		token->caps.modulus_bits = app->key.modulus_bits;
	if (app->has_key && app->key.id_len > 0) {
		memcpy(key_id, app->key.id, app->key.id_len);
		key_id_len = app->key.id_len;
	}
	return build_certificates(token, app, ee, key_id, key_id_len);
}

void hpki_objects_free(struct hpki_token *token)
{
	size_t i, k;

	for (i = 0; i < token->object_count; i++) {
		for (k = 0; k < token->objects[i].attr_count; k++)
			free(token->objects[i].attrs[k].pValue);
		free(token->objects[i].attrs);
	}
	token->object_count = 0;
	EVP_PKEY_free(token->caps.public_key);
	token->caps.public_key = NULL;
}

/* PKCS#11 2.40 §4.4: "private objects" are only visible once the user is logged
 * in to the token; public objects always are. */
bool hpki_object_visible(const struct hpki_token *token, const struct hpki_object *object)
{
	const CK_ATTRIBUTE *a = hpki_object_attribute(object, CKA_PRIVATE);
	bool is_private = a == NULL || a->ulValueLen != sizeof(CK_BBOOL) || *(CK_BBOOL *)a->pValue != CK_FALSE;

	return !is_private || token->logged_in;
}

struct hpki_object *hpki_token_visible_object(struct hpki_token *token, CK_OBJECT_HANDLE handle)
{
	struct hpki_object *object = hpki_token_object(token, handle);

	return object != NULL && hpki_object_visible(token, object) ? object : NULL;
}

const CK_ATTRIBUTE *hpki_object_attribute(const struct hpki_object *object, CK_ATTRIBUTE_TYPE type)
{
	size_t i;

	for (i = 0; i < object->attr_count; i++)
		if (object->attrs[i].type == type)
			return &object->attrs[i];
	return NULL;
}

bool hpki_object_matches(const struct hpki_object *object, const CK_ATTRIBUTE *template, CK_ULONG count)
{
	CK_ULONG i;

	for (i = 0; i < count; i++) {
		const CK_ATTRIBUTE *a = hpki_object_attribute(object, template[i].type);

		if (a == NULL || a->ulValueLen != template[i].ulValueLen)
			return false;
		if (a->ulValueLen > 0 &&
		    (template[i].pValue == NULL || memcmp(a->pValue, template[i].pValue, a->ulValueLen) != 0))
			return false;
	}
	return true;
}

/* Private-key components the card never reveals: CKR_ATTRIBUTE_SENSITIVE, not TYPE_INVALID. */
static bool is_sensitive(const struct hpki_object *object, CK_ATTRIBUTE_TYPE type)
{
	if (object->klass != CKO_PRIVATE_KEY)
		return false;
	switch (type) {
	case CKA_PRIVATE_EXPONENT:
	case CKA_PRIME_1:
	case CKA_PRIME_2:
	case CKA_EXPONENT_1:
	case CKA_EXPONENT_2:
	case CKA_COEFFICIENT:
	case CKA_VALUE:
		return true;
	default:
		return false;
	}
}

/* PKCS#11 2.40 §5.7 C_GetAttributeValue: every attribute is processed; the
 * caller's length is compared before it is overwritten. */
CK_RV hpki_object_get_attributes(const struct hpki_object *object, CK_ATTRIBUTE *template, CK_ULONG count)
{
	CK_RV rv = CKR_OK;
	CK_ULONG i;

	for (i = 0; i < count; i++) {
		const CK_ATTRIBUTE *a = hpki_object_attribute(object, template[i].type);

		if (is_sensitive(object, template[i].type)) {
			template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_SENSITIVE;
		} else if (a == NULL) {
			template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (template[i].pValue == NULL) {
			template[i].ulValueLen = a->ulValueLen;
		} else if (template[i].ulValueLen >= a->ulValueLen) {
			if (a->ulValueLen > 0)
				memcpy(template[i].pValue, a->pValue, a->ulValueLen);
			template[i].ulValueLen = a->ulValueLen;
		} else {
			template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		}
	}
	return rv;
}

CK_ULONG hpki_object_size(const struct hpki_object *object)
{
	CK_ULONG size = 0;
	size_t i;

	for (i = 0; i < object->attr_count; i++)
		size += object->attrs[i].ulValueLen + sizeof(CK_ATTRIBUTE);
	return size;
}
