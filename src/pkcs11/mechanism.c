/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mechanism layer: the table of what a token offers, parameter checks, and the
 * software half of each operation, all through OpenSSL.
 *
 * Signing splits at the card boundary. The card holds the private key and either
 * does raw RSA on a k-byte block the host built (ISO PSO) or pads a PKCS#1 v1.5
 * payload itself (the older 80 2A 00 80 command). So this file turns the
 * caller's message into one of two inputs (card.h, enum hpki_sign_input):
 *   - a PKCS#1 v1.5 payload (the caller's data for CKM_RSA_PKCS, else a DER
 *     DigestInfo built by OpenSSL), which the driver or the card pads;
 *   - a complete EMSA-PSS block (RFC 8017 §9.1.1), only for raw-RSA cards.
 * Verification and digests never touch the card: OpenSSL on the public key.
 */

/* EMSA-PSS encoding without the private-key step has no EVP interface in
 * OpenSSL 3.0: its PSS encoder only runs inside a private-key signature, and our
 * private key is on the card. RSA_padding_add_PKCS1_PSS_mgf1() (and
 * EVP_PKEY_get1_RSA() to feed it) do exactly RFC 8017 §9.1.1 and remain
 * available in 3.x, only marked deprecated, so silence that for this file. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "config.h"

#include "mechanism.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Smallest modulus we sign with: every DigestInfo we build (SHA-512: 83 bytes)
 * must fit in k − 11 bytes (RFC 8017 §9.2 step 3), and 1024 leaves room for all.
 * Largest: what fits the caller's input buffer (HPKI_SIGN_INPUT_MAX). */
#define MIN_MODULUS_BITS 1024u
#define MAX_MODULUS_BITS (HPKI_SIGN_INPUT_MAX * 8u)

/* PKCS#1 v1.5 signature padding is at least 00 01 FF×8 00 (RFC 8017 §9.2 step 3). */
#define PKCS1_PADDING_OVERHEAD 11u

/* Marks a signature mechanism that signs its input as given (no software hash). */
#define NO_HASH CK_UNAVAILABLE_INFORMATION

/* ---- tables -------------------------------------------------------------------- */

struct hash_alg {
	CK_MECHANISM_TYPE mech;    /* digest mechanism, also the PSS hashAlg value */
	CK_RSA_PKCS_MGF_TYPE mgf;  /* the MGF1 variant over the same hash */
	int nid;
	const EVP_MD *(*md)(void);
};

static const struct hash_alg hash_algs[] = {
	{ CKM_SHA_1, CKG_MGF1_SHA1, NID_sha1, EVP_sha1 },
	{ CKM_SHA256, CKG_MGF1_SHA256, NID_sha256, EVP_sha256 },
	{ CKM_SHA384, CKG_MGF1_SHA384, NID_sha384, EVP_sha384 },
	{ CKM_SHA512, CKG_MGF1_SHA512, NID_sha512, EVP_sha512 },
};

enum rsa_padding {
	PAD_PKCS1, /* RSASSA-PKCS1-v1_5, RFC 8017 §8.2 */
	PAD_PSS,   /* RSASSA-PSS, RFC 8017 §8.1 */
};

struct rsa_mech {
	CK_MECHANISM_TYPE type;
	enum rsa_padding padding;
	CK_MECHANISM_TYPE hash; /* hashed in software first, or NO_HASH */
};

/* In the order C_GetMechanismList reports them. */
static const struct rsa_mech rsa_mechs[] = {
	{ CKM_RSA_PKCS, PAD_PKCS1, NO_HASH },
	{ CKM_SHA1_RSA_PKCS, PAD_PKCS1, CKM_SHA_1 },
	{ CKM_SHA256_RSA_PKCS, PAD_PKCS1, CKM_SHA256 },
	{ CKM_SHA384_RSA_PKCS, PAD_PKCS1, CKM_SHA384 },
	{ CKM_SHA512_RSA_PKCS, PAD_PKCS1, CKM_SHA512 },
	{ CKM_RSA_PKCS_PSS, PAD_PSS, NO_HASH },
	{ CKM_SHA1_RSA_PKCS_PSS, PAD_PSS, CKM_SHA_1 },
	{ CKM_SHA256_RSA_PKCS_PSS, PAD_PSS, CKM_SHA256 },
	{ CKM_SHA384_RSA_PKCS_PSS, PAD_PSS, CKM_SHA384 },
	{ CKM_SHA512_RSA_PKCS_PSS, PAD_PSS, CKM_SHA512 },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct hash_alg *hash_by_mech(CK_MECHANISM_TYPE mech)
{
	for (size_t i = 0; i < COUNT(hash_algs); i++)
		if (hash_algs[i].mech == mech)
			return &hash_algs[i];
	return NULL;
}

static const struct hash_alg *hash_by_mgf(CK_RSA_PKCS_MGF_TYPE mgf)
{
	for (size_t i = 0; i < COUNT(hash_algs); i++)
		if (hash_algs[i].mgf == mgf)
			return &hash_algs[i];
	return NULL;
}

static size_t hash_len(const struct hash_alg *hash)
{
	return (size_t)EVP_MD_get_size(hash->md());
}

static const struct rsa_mech *rsa_mech_by_type(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < COUNT(rsa_mechs); i++)
		if (rsa_mechs[i].type == type)
			return &rsa_mechs[i];
	return NULL;
}

/* PSS needs a card that signs a host-built block (a card that pads PKCS#1 v1.5
 * itself cannot produce PSS), and the public modulus to encode the block.
 * Advertising PSS without that would break TLS 1.3 later instead of letting the
 * application fall back (issue 4, "Never advertise a mechanism the card cannot
 * honour"). */
static bool pss_available(const struct hpki_key_caps *caps)
{
	return caps->raw_rsa && caps->public_key != NULL;
}

static bool rsa_mech_offered(const struct hpki_key_caps *caps, const struct rsa_mech *mech)
{
	return mech->padding == PAD_PKCS1 || pss_available(caps);
}

static size_t modulus_bytes(unsigned bits)
{
	return (bits + 7u) / 8u;
}

/* ---- mechanism list ------------------------------------------------------------ */

size_t hpki_mech_list(const struct hpki_key_caps *caps, CK_MECHANISM_TYPE *list, size_t max)
{
	size_t count = 0;

	for (size_t i = 0; i < COUNT(rsa_mechs); i++) {
		if (!rsa_mech_offered(caps, &rsa_mechs[i]))
			continue;
		if (count < max)
			list[count] = rsa_mechs[i].type;
		count++;
	}
	for (size_t i = 0; i < COUNT(hash_algs); i++) {
		if (count < max)
			list[count] = hash_algs[i].mech;
		count++;
	}
	return count;
}

CK_RV hpki_mech_info(const struct hpki_key_caps *caps, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	const struct rsa_mech *mech = rsa_mech_by_type(type);

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof *info);
	if (mech != NULL && rsa_mech_offered(caps, mech)) {
		/* RSA key sizes are in bits (PKCS#11 2.40 Current Mechanisms, RSA
		 * mechanisms: "ulMinKeySize and ulMaxKeySize … in bits"). Only sign and
		 * verify: the card key is a signature key and we never decrypt. */
		info->ulMinKeySize = caps->modulus_bits;
		info->ulMaxKeySize = caps->modulus_bits;
		/* CKF_HW: the private-key operation runs on the card (hashing and verification
		 * are host-side, which the flag's one bit cannot say). */
		info->flags = CKF_HW | CKF_SIGN | CKF_VERIFY;
		return CKR_OK;
	}
	if (hash_by_mech(type) != NULL) {
		info->flags = CKF_DIGEST; /* key sizes meaningless for digests: 0 */
		return CKR_OK;
	}
	return CKR_MECHANISM_INVALID;
}

/* ---- mechanism parameters -------------------------------------------------------- */

/* A signature mechanism with its parameters checked. */
struct rsa_setup {
	const struct rsa_mech *mech;
	const struct hash_alg *hash;     /* software hash (NULL: input taken as given) */
	const struct hash_alg *pss_hash; /* PSS: hashAlg */
	const struct hash_alg *pss_mgf;  /* PSS: MGF1 hash */
	size_t salt_len;                 /* PSS: sLen */
};

/* PKCS#1 v1.5 mechanisms take no parameter (PKCS#11 2.40 Current Mechanisms,
 * "PKCS #1 v1.5 RSA" and "… signature with SHA-1, SHA-256 …": "It does not have a
 * parameter"). */
static CK_RV check_no_parameter(const CK_MECHANISM *mechanism)
{
	if (mechanism->pParameter != NULL || mechanism->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	return CKR_OK;
}

/* CK_RSA_PKCS_PSS_PARAMS (PKCS#11 2.40 Current Mechanisms, "PKCS #1 RSA PSS
 * mechanism parameters"): hashAlg must be the mechanism's own hash when it hashes;
 * sLen ≤ k* − 2 − hLen, k* being emLen = ⌈(modBits − 1)/8⌉ (RFC 8017 §9.1.1 step 3).
 * The MGF1 hash may differ from hashAlg (the spec allows it; OpenSSL handles it). */
static CK_RV check_pss_parameter(const CK_MECHANISM *mechanism, unsigned modulus_bits, struct rsa_setup *setup)
{
	const CK_RSA_PKCS_PSS_PARAMS *params = mechanism->pParameter;
	size_t em_len = modulus_bytes(modulus_bits - 1u);
	size_t h_len;

	if (params == NULL || mechanism->ulParameterLen != sizeof *params)
		return CKR_MECHANISM_PARAM_INVALID;
	setup->pss_hash = hash_by_mech(params->hashAlg);
	setup->pss_mgf = hash_by_mgf(params->mgf);
	if (setup->pss_hash == NULL || setup->pss_mgf == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	if (setup->hash != NULL && setup->hash != setup->pss_hash)
		return CKR_MECHANISM_PARAM_INVALID;
	h_len = hash_len(setup->pss_hash);
	if (em_len < h_len + 2u || params->sLen > em_len - h_len - 2u)
		return CKR_MECHANISM_PARAM_INVALID;
	setup->salt_len = params->sLen;
	return CKR_OK;
}

static CK_RV parse_mechanism(const CK_MECHANISM *mechanism, const struct hpki_key_caps *caps,
			     unsigned modulus_bits, struct rsa_setup *setup)
{
	memset(setup, 0, sizeof *setup);
	if (mechanism == NULL || caps == NULL)
		return CKR_ARGUMENTS_BAD;
	setup->mech = rsa_mech_by_type(mechanism->mechanism);
	if (setup->mech == NULL || !rsa_mech_offered(caps, setup->mech))
		return CKR_MECHANISM_INVALID;
	if (modulus_bits < MIN_MODULUS_BITS || modulus_bits > MAX_MODULUS_BITS)
		return CKR_KEY_SIZE_RANGE;
	if (setup->mech->hash != NO_HASH)
		setup->hash = hash_by_mech(setup->mech->hash);
	if (setup->mech->padding == PAD_PKCS1)
		return check_no_parameter(mechanism);
	return check_pss_parameter(mechanism, modulus_bits, setup);
}

/* ---- the message: hashed, or kept as given ---------------------------------------- */

/* What C_*Update has fed so far. Hashing mechanisms keep a running digest; the
 * others keep the bytes, which are bounded by what the key can sign. */
struct message {
	EVP_MD_CTX *md_ctx; /* hashing mechanisms */
	size_t max;         /* others: most bytes accepted */
	size_t len;
	uint8_t buf[HPKI_SIGN_INPUT_MAX];
};

static CK_RV message_init(struct message *msg, const struct hash_alg *hash, size_t max)
{
	msg->max = max;
	msg->len = 0;
	if (hash == NULL)
		return CKR_OK;
	msg->md_ctx = EVP_MD_CTX_new();
	if (msg->md_ctx == NULL)
		return CKR_HOST_MEMORY;
	if (EVP_DigestInit_ex(msg->md_ctx, hash->md(), NULL) != 1)
		return CKR_GENERAL_ERROR;
	return CKR_OK;
}

static void message_clear(struct message *msg)
{
	EVP_MD_CTX_free(msg->md_ctx);
	msg->md_ctx = NULL;
	OPENSSL_cleanse(msg->buf, sizeof msg->buf);
	msg->len = 0;
}

static CK_RV message_update(struct message *msg, const uint8_t *data, size_t len)
{
	if (data == NULL && len != 0)
		return CKR_ARGUMENTS_BAD;
	if (len == 0)
		return CKR_OK;
	if (msg->md_ctx != NULL)
		return EVP_DigestUpdate(msg->md_ctx, data, len) == 1 ? CKR_OK : CKR_GENERAL_ERROR;
	if (len > msg->max - msg->len)
		return CKR_DATA_LEN_RANGE;
	memcpy(msg->buf + msg->len, data, len);
	msg->len += len;
	return CKR_OK;
}

static CK_RV digest_copy_final(const EVP_MD_CTX *md_ctx, const uint8_t *data, size_t len, uint8_t *out,
			       size_t *out_len)
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned int n = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (copy == NULL)
		return CKR_HOST_MEMORY;
	if (EVP_MD_CTX_copy_ex(copy, md_ctx) == 1 && (len == 0 || EVP_DigestUpdate(copy, data, len) == 1) &&
	    EVP_DigestFinal_ex(copy, out, &n) == 1) {
		*out_len = n;
		rv = CKR_OK;
	}
	EVP_MD_CTX_free(copy);
	return rv;
}

/* The whole message (data appended) or its digest, into out (HPKI_SIGN_INPUT_MAX
 * bytes). Leaves msg untouched, so a call that ends in CKR_BUFFER_TOO_SMALL can be
 * repeated (PKCS#11 2.40 §5.2, output in a variable-length buffer): hashing
 * finishes a copy of the running digest. */
static CK_RV message_peek(const struct message *msg, const uint8_t *data, size_t len, uint8_t *out,
			  size_t *out_len)
{
	if (data == NULL && len != 0)
		return CKR_ARGUMENTS_BAD;
	if (msg->md_ctx != NULL)
		return digest_copy_final(msg->md_ctx, data, len, out, out_len);
	if (len > msg->max - msg->len)
		return CKR_DATA_LEN_RANGE;
	memcpy(out, msg->buf, msg->len);
	if (len != 0)
		memcpy(out + msg->len, data, len);
	*out_len = msg->len + len;
	return CKR_OK;
}

/* Longest input a signature mechanism accepts when it does not hash: PKCS#1 v1.5
 * takes up to k − 11 bytes (PKCS#11 2.40 Current Mechanisms, "PKCS #1 v1.5 RSA"
 * key and data length table); CKM_RSA_PKCS_PSS takes exactly the hash value. */
static size_t raw_input_max(const struct rsa_setup *setup, size_t k)
{
	if (setup->mech->padding == PAD_PSS)
		return hash_len(setup->pss_hash);
	return k - PKCS1_PADDING_OVERHEAD;
}

/* ---- encodings ------------------------------------------------------------------ */

/* DigestInfo ::= SEQUENCE { AlgorithmIdentifier (OID, NULL), OCTET STRING digest }
 * (RFC 8017 §9.2 step 2), which is exactly OpenSSL's X509_SIG; parameters NULL as
 * RFC 8017 appendix B.1 notes for the SHA family. */
static CK_RV digest_info_encode(const struct hash_alg *hash, const uint8_t *digest, size_t digest_len,
				uint8_t *out, size_t max, size_t *out_len)
{
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg = NULL;
	ASN1_OCTET_STRING *octets = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;
	uint8_t *p = out;
	int n;

	if (sig == NULL)
		return CKR_HOST_MEMORY;
	X509_SIG_getm(sig, &alg, &octets);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(hash->nid), V_ASN1_NULL, NULL) != 1 ||
	    ASN1_OCTET_STRING_set(octets, digest, (int)digest_len) != 1)
		goto out;
	n = i2d_X509_SIG(sig, NULL);
	if (n <= 0)
		goto out;
	if ((size_t)n > max) {
		rv = CKR_DATA_LEN_RANGE;
		goto out;
	}
	if (i2d_X509_SIG(sig, &p) != n)
		goto out;
	*out_len = (size_t)n;
	rv = CKR_OK;
out:
	X509_SIG_free(sig);
	return rv;
}

/* EMSA-PSS-ENCODE (RFC 8017 §9.1.1) into a k-byte block, with a fresh random salt.
 * emBits = modBits − 1: when modBits ≡ 1 (mod 8) the encoded message is one byte
 * shorter than k, and OpenSSL then writes a leading 00, which is the integer the
 * card's raw RSA must see (RFC 8017 §8.1.1 step 2a, OS2IP). */
static CK_RV pss_encode(RSA *rsa, const struct rsa_setup *setup, const uint8_t *m_hash, size_t m_hash_len,
			uint8_t *out, size_t k)
{
	if (m_hash_len != hash_len(setup->pss_hash))
		return CKR_DATA_LEN_RANGE;
	if ((size_t)RSA_size(rsa) != k)
		return CKR_GENERAL_ERROR;
	if (RSA_padding_add_PKCS1_PSS_mgf1(rsa, out, m_hash, setup->pss_hash->md(), setup->pss_mgf->md(),
					   (int)setup->salt_len) != 1)
		return CKR_GENERAL_ERROR;
	return CKR_OK;
}

/* ---- signing --------------------------------------------------------------------- */

struct hpki_sign_op {
	struct rsa_setup setup;
	size_t k;  /* modulus bytes: signature length */
	RSA *rsa;  /* PSS: the public key, for the modulus */
	struct message msg;
};

/* The public half must be an RSA key of the card key's size, or the PSS block
 * would be built for another modulus (inconsistent token data, not a caller
 * error). */
static CK_RV sign_op_take_public_key(struct hpki_sign_op *op, const struct hpki_key_caps *caps)
{
	if (EVP_PKEY_get_base_id(caps->public_key) != EVP_PKEY_RSA)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((unsigned)EVP_PKEY_get_bits(caps->public_key) != caps->modulus_bits)
		return CKR_GENERAL_ERROR;
	op->rsa = EVP_PKEY_get1_RSA(caps->public_key);
	return op->rsa != NULL ? CKR_OK : CKR_GENERAL_ERROR;
}

CK_RV hpki_sign_op_new(const CK_MECHANISM *mechanism, const struct hpki_key_caps *caps,
		       struct hpki_sign_op **op)
{
	struct hpki_sign_op *o;
	CK_RV rv;

	if (op == NULL)
		return CKR_ARGUMENTS_BAD;
	*op = NULL;
	o = calloc(1, sizeof *o);
	if (o == NULL)
		return CKR_HOST_MEMORY;
	rv = parse_mechanism(mechanism, caps, caps != NULL ? caps->modulus_bits : 0, &o->setup);
	if (rv != CKR_OK)
		goto fail;
	o->k = modulus_bytes(caps->modulus_bits);
	if (o->setup.mech->padding == PAD_PSS && (rv = sign_op_take_public_key(o, caps)) != CKR_OK)
		goto fail;
	rv = message_init(&o->msg, o->setup.hash, raw_input_max(&o->setup, o->k));
	if (rv != CKR_OK)
		goto fail;
	*op = o;
	return CKR_OK;
fail:
	hpki_sign_op_free(o);
	return rv;
}

void hpki_sign_op_free(struct hpki_sign_op *op)
{
	if (op == NULL)
		return;
	message_clear(&op->msg);
	RSA_free(op->rsa);
	free(op);
}

size_t hpki_sign_op_signature_len(const struct hpki_sign_op *op)
{
	return op->k;
}

CK_RV hpki_sign_op_update(struct hpki_sign_op *op, const uint8_t *data, size_t len)
{
	return message_update(&op->msg, data, len);
}

static CK_RV sign_input_pkcs1(const struct hpki_sign_op *op, const uint8_t *m, size_t m_len, uint8_t *input,
			      size_t *input_len)
{
	size_t max = op->k - PKCS1_PADDING_OVERHEAD;

	if (op->setup.hash != NULL)
		return digest_info_encode(op->setup.hash, m, m_len, input, max, input_len);
	/* CKM_RSA_PKCS: the caller's bytes (usually its own DigestInfo) as they are. */
	if (m_len > max)
		return CKR_DATA_LEN_RANGE;
	memcpy(input, m, m_len);
	*input_len = m_len;
	return CKR_OK;
}

CK_RV hpki_sign_op_prepare(struct hpki_sign_op *op, const uint8_t *data, size_t len, enum hpki_sign_input *kind,
			   uint8_t *input, size_t *input_len)
{
	uint8_t m[HPKI_SIGN_INPUT_MAX];
	size_t m_len = 0;
	CK_RV rv;

	if (op == NULL || kind == NULL || input == NULL || input_len == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = message_peek(&op->msg, data, len, m, &m_len);
	if (rv == CKR_OK && op->setup.mech->padding == PAD_PKCS1) {
		*kind = HPKI_SIGN_INPUT_DIGEST_INFO;
		rv = sign_input_pkcs1(op, m, m_len, input, input_len);
	} else if (rv == CKR_OK) {
		*kind = HPKI_SIGN_INPUT_RAW_BLOCK;
		rv = pss_encode(op->rsa, &op->setup, m, m_len, input, op->k);
		if (rv == CKR_OK)
			*input_len = op->k;
	}
	if (rv != CKR_OK)
		OPENSSL_cleanse(input, op->k); /* at most k bytes were written */
	OPENSSL_cleanse(m, sizeof m);
	return rv;
}

/* ---- verification ------------------------------------------------------------------ */

struct hpki_verify_op {
	struct rsa_setup setup;
	EVP_PKEY *key;
	size_t k;
	struct message msg;
};

CK_RV hpki_verify_op_new(const CK_MECHANISM *mechanism, const struct hpki_key_caps *caps, EVP_PKEY *public_key,
			 struct hpki_verify_op **op)
{
	struct hpki_verify_op *o;
	CK_RV rv;

	if (op == NULL || public_key == NULL)
		return CKR_ARGUMENTS_BAD;
	*op = NULL;
	if (EVP_PKEY_get_base_id(public_key) != EVP_PKEY_RSA)
		return CKR_KEY_TYPE_INCONSISTENT;
	o = calloc(1, sizeof *o);
	if (o == NULL)
		return CKR_HOST_MEMORY;
	/* The limits (salt length, data length) follow the key that verifies. */
	rv = parse_mechanism(mechanism, caps, (unsigned)EVP_PKEY_get_bits(public_key), &o->setup);
	if (rv != CKR_OK)
		goto fail;
	o->k = (size_t)EVP_PKEY_get_size(public_key);
	rv = message_init(&o->msg, o->setup.hash, raw_input_max(&o->setup, o->k));
	if (rv != CKR_OK)
		goto fail;
	if (EVP_PKEY_up_ref(public_key) != 1) {
		rv = CKR_GENERAL_ERROR;
		goto fail;
	}
	o->key = public_key;
	*op = o;
	return CKR_OK;
fail:
	hpki_verify_op_free(o);
	return rv;
}

void hpki_verify_op_free(struct hpki_verify_op *op)
{
	if (op == NULL)
		return;
	message_clear(&op->msg);
	EVP_PKEY_free(op->key);
	free(op);
}

CK_RV hpki_verify_op_update(struct hpki_verify_op *op, const uint8_t *data, size_t len)
{
	return message_update(&op->msg, data, len);
}

/* An EVP_PKEY_verify context set up as the mechanism says. With a signature
 * digest set, OpenSSL compares against the DigestInfo (PKCS#1 v1.5) or the mHash
 * (PSS) of the digest we pass; without one (CKM_RSA_PKCS) against the raw data. */
static EVP_PKEY_CTX *verify_ctx_new(const struct hpki_verify_op *op)
{
	const struct rsa_setup *s = &op->setup;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(op->key, NULL);
	bool ok;

	if (ctx == NULL)
		return NULL;
	ok = EVP_PKEY_verify_init(ctx) == 1;
	if (ok && s->mech->padding == PAD_PKCS1) {
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		     (s->hash == NULL || EVP_PKEY_CTX_set_signature_md(ctx, s->hash->md()) == 1);
	} else if (ok) {
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(ctx, s->pss_hash->md()) == 1 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, s->pss_mgf->md()) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)s->salt_len) == 1;
	}
	if (!ok) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static CK_RV verify_message(const struct hpki_verify_op *op, const uint8_t *m, size_t m_len,
			    const uint8_t *signature, size_t signature_len)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if (op->setup.mech->padding == PAD_PSS && m_len != hash_len(op->setup.pss_hash))
		return CKR_DATA_LEN_RANGE;
	ctx = verify_ctx_new(op);
	if (ctx == NULL)
		return CKR_GENERAL_ERROR;
	ok = EVP_PKEY_verify(ctx, signature, signature_len, m, m_len);
	EVP_PKEY_CTX_free(ctx);
	/* 0 and negative values both mean "not a valid signature" here: the
	 * context is set up and the length checked, so what remains is the
	 * signature's content (bad padding, wrong digest). */
	return ok == 1 ? CKR_OK : CKR_SIGNATURE_INVALID;
}

CK_RV hpki_verify_op_final(struct hpki_verify_op *op, const uint8_t *data, size_t len, const uint8_t *signature,
			   size_t signature_len)
{
	uint8_t m[HPKI_SIGN_INPUT_MAX];
	size_t m_len = 0;
	CK_RV rv;

	if (op == NULL || (signature == NULL && signature_len != 0))
		return CKR_ARGUMENTS_BAD;
	/* PKCS#11 2.40 §5.12 C_Verify: a signature of the wrong length is
	 * CKR_SIGNATURE_LEN_RANGE, not a mere mismatch. */
	if (signature_len != op->k)
		return CKR_SIGNATURE_LEN_RANGE;
	rv = message_peek(&op->msg, data, len, m, &m_len);
	if (rv == CKR_OK) {
		/* Keep OpenSSL's error queue as the application had it: a failed
		 * verification is an answer, not an error to report later. */
		ERR_set_mark();
		rv = verify_message(op, m, m_len, signature, signature_len);
		ERR_pop_to_mark();
	}
	OPENSSL_cleanse(m, sizeof m);
	return rv;
}

/* ---- digests ------------------------------------------------------------------------ */

struct hpki_digest_op {
	EVP_MD_CTX *ctx;
	size_t len;
};

CK_RV hpki_digest_op_new(const CK_MECHANISM *mechanism, struct hpki_digest_op **op)
{
	const struct hash_alg *hash;
	struct hpki_digest_op *o;
	CK_RV rv;

	if (mechanism == NULL || op == NULL)
		return CKR_ARGUMENTS_BAD;
	*op = NULL;
	hash = hash_by_mech(mechanism->mechanism);
	if (hash == NULL)
		return CKR_MECHANISM_INVALID;
	/* The SHA mechanisms have no parameter (PKCS#11 2.40 Current Mechanisms,
	 * SHA-1 / SHA-256 / SHA-384 / SHA-512 digest). */
	rv = check_no_parameter(mechanism);
	if (rv != CKR_OK)
		return rv;
	o = calloc(1, sizeof *o);
	if (o == NULL)
		return CKR_HOST_MEMORY;
	o->ctx = EVP_MD_CTX_new();
	if (o->ctx == NULL || EVP_DigestInit_ex(o->ctx, hash->md(), NULL) != 1) {
		rv = o->ctx == NULL ? CKR_HOST_MEMORY : CKR_GENERAL_ERROR;
		hpki_digest_op_free(o);
		return rv;
	}
	o->len = hash_len(hash);
	*op = o;
	return CKR_OK;
}

void hpki_digest_op_free(struct hpki_digest_op *op)
{
	if (op == NULL)
		return;
	EVP_MD_CTX_free(op->ctx);
	free(op);
}

size_t hpki_digest_op_len(const struct hpki_digest_op *op)
{
	return op->len;
}

CK_RV hpki_digest_op_update(struct hpki_digest_op *op, const uint8_t *data, size_t len)
{
	if (data == NULL && len != 0)
		return CKR_ARGUMENTS_BAD;
	if (op->ctx == NULL)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (len == 0)
		return CKR_OK;
	return EVP_DigestUpdate(op->ctx, data, len) == 1 ? CKR_OK : CKR_GENERAL_ERROR;
}

CK_RV hpki_digest_op_final(struct hpki_digest_op *op, uint8_t *out)
{
	unsigned int n = 0;
	CK_RV rv;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if (op->ctx == NULL)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = EVP_DigestFinal_ex(op->ctx, out, &n) == 1 && n == op->len ? CKR_OK : CKR_GENERAL_ERROR;
	/* The op is spent either way (header contract); a later call says so. */
	EVP_MD_CTX_free(op->ctx);
	op->ctx = NULL;
	return rv;
}
