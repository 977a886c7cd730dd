/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ISO/IEC 7816-15 ASN.1 types of the codec (src/cio only): the C shapes that
 * OpenSSL's templates in cio.c fill, shared by the encoder and the decoder.
 */
#ifndef HPKI_CIO_ASN1_H
#define HPKI_CIO_ASN1_H

#include "hpki/cio.h"

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/x509.h>

typedef struct {
	ASN1_OCTET_STRING *efid_or_path;
	ASN1_INTEGER *index;
	ASN1_INTEGER *length;
} HPKI_ASN1_PATH;

/* EF.OD entry: CIOChoice, each alternative [n] PathOrObjects (path form only). */
typedef struct {
	int type;
	union {
		HPKI_ASN1_PATH *path;
	} d;
} HPKI_ASN1_OD_ENTRY;

/* CommonObjectAttributes (accessControlRules are not used by HPKI cards). */
typedef struct {
	ASN1_UTF8STRING *label;
	ASN1_BIT_STRING *flags;
	ASN1_OCTET_STRING *auth_id;
	ASN1_INTEGER *user_consent;
} HPKI_ASN1_COMMON_OBJECT;

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
} HPKI_ASN1_COMMON_KEY;

/* PrivateRSAKeyAttributes: value is ObjectValue, indirect path form. */
typedef struct {
	HPKI_ASN1_PATH *value;
	ASN1_INTEGER *modulus_length;
	ASN1_TYPE *key_info;
} HPKI_ASN1_RSA_PRIVATE_KEY_ATTRS;

typedef struct {
	HPKI_ASN1_COMMON_OBJECT *common;
	HPKI_ASN1_COMMON_KEY *key;
	ASN1_TYPE *private_key_attrs;
	HPKI_ASN1_RSA_PRIVATE_KEY_ATTRS *rsa;
} HPKI_ASN1_PRIVATE_RSA_KEY;

/* CommonCertificateAttributes. */
typedef struct {
	ASN1_OCTET_STRING *id;
	ASN1_BOOLEAN authority;
} HPKI_ASN1_COMMON_CERT;

/* X509CertificateAttributes; subject/issuer/serial are optional copies of the cert's. */
typedef struct {
	HPKI_ASN1_PATH *value;
	X509_NAME *subject;
	X509_NAME *issuer;
	ASN1_INTEGER *serial;
} HPKI_ASN1_X509_CERT_ATTRS;

typedef struct {
	HPKI_ASN1_COMMON_OBJECT *common;
	HPKI_ASN1_COMMON_CERT *cert;
	ASN1_TYPE *sub_class;
	HPKI_ASN1_X509_CERT_ATTRS *x509;
} HPKI_ASN1_X509_CERT;

/* CommonAuthenticationObjectAttributes. */
typedef struct {
	ASN1_OCTET_STRING *auth_id;
	ASN1_INTEGER *auth_reference;
	ASN1_INTEGER *se_identifier;
} HPKI_ASN1_COMMON_AUTH;

typedef struct {
	ASN1_BIT_STRING *flags;
	ASN1_ENUMERATED *type;
	ASN1_INTEGER *min_length;
	ASN1_INTEGER *stored_length;
	ASN1_INTEGER *max_length;
	ASN1_INTEGER *reference;
	ASN1_OCTET_STRING *pad_char;
	ASN1_GENERALIZEDTIME *last_change;
	HPKI_ASN1_PATH *path;
} HPKI_ASN1_PASSWORD_ATTRS;

typedef struct {
	HPKI_ASN1_COMMON_OBJECT *common;
	HPKI_ASN1_COMMON_AUTH *auth;
	ASN1_TYPE *sub_class;
	HPKI_ASN1_PASSWORD_ATTRS *pwd;
} HPKI_ASN1_PASSWORD;

typedef struct {
	ASN1_INTEGER *version;
	ASN1_OCTET_STRING *serial;
	ASN1_UTF8STRING *manufacturer;
	ASN1_UTF8STRING *label;
	ASN1_BIT_STRING *card_flags;
} HPKI_ASN1_CIA_INFO;

/* CommonObjectFlags: private(0), modifiable(1). */
#define HPKI_ASN1_COMMON_FLAG_PRIVATE 0x1u

DECLARE_ASN1_ITEM(HPKI_ASN1_PATH)
DECLARE_ASN1_ITEM(HPKI_ASN1_OD_ENTRY)
DECLARE_ASN1_ITEM(HPKI_ASN1_COMMON_OBJECT)
DECLARE_ASN1_ITEM(HPKI_ASN1_COMMON_KEY)
DECLARE_ASN1_ITEM(HPKI_ASN1_RSA_PRIVATE_KEY_ATTRS)
DECLARE_ASN1_ITEM(HPKI_ASN1_PRIVATE_RSA_KEY)
DECLARE_ASN1_ITEM(HPKI_ASN1_COMMON_CERT)
DECLARE_ASN1_ITEM(HPKI_ASN1_X509_CERT_ATTRS)
DECLARE_ASN1_ITEM(HPKI_ASN1_X509_CERT)
DECLARE_ASN1_ITEM(HPKI_ASN1_COMMON_AUTH)
DECLARE_ASN1_ITEM(HPKI_ASN1_PASSWORD_ATTRS)
DECLARE_ASN1_ITEM(HPKI_ASN1_PASSWORD)
DECLARE_ASN1_ITEM(HPKI_ASN1_CIA_INFO)
DECLARE_ASN1_ALLOC_FUNCTIONS(HPKI_ASN1_PATH)
DECLARE_ASN1_ALLOC_FUNCTIONS(HPKI_ASN1_OD_ENTRY)
DECLARE_ASN1_ALLOC_FUNCTIONS(HPKI_ASN1_PRIVATE_RSA_KEY)
DECLARE_ASN1_ALLOC_FUNCTIONS(HPKI_ASN1_X509_CERT)
DECLARE_ASN1_ALLOC_FUNCTIONS(HPKI_ASN1_PASSWORD)
DECLARE_ASN1_ALLOC_FUNCTIONS(HPKI_ASN1_CIA_INFO)

#endif
