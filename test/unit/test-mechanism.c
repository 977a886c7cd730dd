/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the mechanism layer. The "card" is played by the test with an
 * OpenSSL private key: a DigestInfo input gets PKCS#1 v1.5 type-1 padding and
 * the private-key operation (what the card or the driver + card do), a raw block
 * gets the bare RSA operation. Every signature is then checked twice: by plain
 * OpenSSL against the public key (the real outcome), and by hpki_verify_op_*.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mechanism.h"

struct keys {
	EVP_PKEY *priv;          /* the card's key */
	EVP_PKEY *pub;           /* its public half, as read from a certificate */
	struct hpki_key_caps raw;     /* PSO card: raw RSA */
	struct hpki_key_caps legacy;  /* card that pads PKCS#1 v1.5 itself */
};

/* 2048: the HPKI key size. 1025: modBits ≡ 1 (mod 8), where the PSS encoded
 * message is one byte shorter than the modulus (RFC 8017 §9.1.1, emBits). */
static struct keys k2048, k1025;

static const uint8_t message[] = "Prescription: amoxicillin 250 mg, 3x daily, 7 days. Dr. Tanaka";

/* ---- fixtures ------------------------------------------------------------------ */

static EVP_PKEY *public_only(EVP_PKEY *priv)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_PUBKEY(priv, &der);
	EVP_PKEY *pub;

	assert_true(len > 0);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, len);
	OPENSSL_free(der);
	assert_non_null(pub);
	return pub;
}

static void keys_make(struct keys *keys, unsigned bits)
{
	keys->priv = EVP_RSA_gen(bits);
	assert_non_null(keys->priv);
	keys->pub = public_only(keys->priv);
	keys->raw = (struct hpki_key_caps){ .modulus_bits = bits, .raw_rsa = true, .public_key = keys->pub };
	keys->legacy = (struct hpki_key_caps){ .modulus_bits = bits, .raw_rsa = false, .public_key = keys->pub };
}

static int group_setup(void **state)
{
	keys_make(&k2048, 2048);
	keys_make(&k1025, 1025);
	return 0;
}

static int group_teardown(void **state)
{
	EVP_PKEY_free(k2048.priv);
	EVP_PKEY_free(k2048.pub);
	EVP_PKEY_free(k1025.priv);
	EVP_PKEY_free(k1025.pub);
	return 0;
}

/* ---- helpers -------------------------------------------------------------------- */

static const EVP_MD *md_of(CK_MECHANISM_TYPE hash)
{
	switch (hash) {
	case CKM_SHA_1:
		return EVP_sha1();
	case CKM_SHA256:
		return EVP_sha256();
	case CKM_SHA384:
		return EVP_sha384();
	case CKM_SHA512:
		return EVP_sha512();
	}
	fail_msg("no digest for mechanism 0x%lx", hash);
	return NULL;
}

static CK_RSA_PKCS_MGF_TYPE mgf_of(CK_MECHANISM_TYPE hash)
{
	switch (hash) {
	case CKM_SHA_1:
		return CKG_MGF1_SHA1;
	case CKM_SHA256:
		return CKG_MGF1_SHA256;
	case CKM_SHA384:
		return CKG_MGF1_SHA384;
	default:
		return CKG_MGF1_SHA512;
	}
}

static size_t digest(CK_MECHANISM_TYPE hash, const uint8_t *data, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(data, len, out, &n, md_of(hash), NULL), 1);
	return n;
}

/* The card: PKCS#1 v1.5 type-1 padding on the payload, or raw RSA on the block. */
static void card_sign(EVP_PKEY *priv, enum hpki_sign_input kind, const uint8_t *input, size_t input_len,
		      uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	if (kind == HPKI_SIGN_INPUT_RAW_BLOCK) {
		assert_int_equal(input_len, (size_t)EVP_PKEY_get_size(priv));
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	} else {
		assert_true(input_len <= (size_t)EVP_PKEY_get_size(priv) - 11);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	}
	*sig_len = HPKI_SIGN_INPUT_MAX;
	assert_int_equal(EVP_PKEY_sign(ctx, sig, sig_len, input, input_len), 1);
	EVP_PKEY_CTX_free(ctx);
}

struct pss {
	CK_MECHANISM_TYPE hash;
	int salt_len;
};

/* Plain OpenSSL verification of a hashing mechanism's signature over `message`. */
static int openssl_verify_message(EVP_PKEY *pub, CK_MECHANISM_TYPE hash, const struct pss *pss,
				  const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	assert_non_null(md_ctx);
	assert_int_equal(EVP_DigestVerifyInit(md_ctx, &pctx, md_of(hash), NULL, pub), 1);
	if (pss != NULL) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md_of(pss->hash)), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss->salt_len), 1);
	} else {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
	}
	ok = EVP_DigestVerify(md_ctx, sig, sig_len, msg, msg_len);
	EVP_MD_CTX_free(md_ctx);
	return ok;
}

/* Plain OpenSSL verification of a CKM_RSA_PKCS_PSS signature over a hash. */
static int openssl_verify_pss_hash(EVP_PKEY *pub, const struct pss *pss, const uint8_t *hash, size_t hash_len,
				   const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	int ok;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, md_of(pss->hash)), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md_of(pss->hash)), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, pss->salt_len), 1);
	ok = EVP_PKEY_verify(ctx, sig, sig_len, hash, hash_len);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* Plain OpenSSL: recovers the PKCS#1 v1.5 payload of a CKM_RSA_PKCS signature. */
static void openssl_recover(EVP_PKEY *pub, const uint8_t *sig, size_t sig_len, uint8_t *out, size_t *out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_verify_recover_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	*out_len = HPKI_SIGN_INPUT_MAX;
	assert_int_equal(EVP_PKEY_verify_recover(ctx, out, out_len, sig, sig_len), 1);
	EVP_PKEY_CTX_free(ctx);
}

static CK_MECHANISM mech(CK_MECHANISM_TYPE type, void *param, size_t param_len)
{
	return (CK_MECHANISM){ .mechanism = type, .pParameter = param, .ulParameterLen = param_len };
}

/* One full signature: prepare (single-part, or in three chunks), the card, and
 * the signature; returns the card input kind. */
static enum hpki_sign_input sign(const struct keys *keys, const struct hpki_key_caps *caps, const CK_MECHANISM *m,
				 const uint8_t *data, size_t len, bool multi_part, uint8_t *input,
				 size_t *input_len, uint8_t *sig, size_t *sig_len)
{
	struct hpki_sign_op *op = NULL;
	enum hpki_sign_input kind;

	assert_int_equal(hpki_sign_op_new(m, caps, &op), CKR_OK);
	assert_int_equal(hpki_sign_op_signature_len(op), (size_t)EVP_PKEY_get_size(keys->priv));
	if (multi_part) {
		size_t a = len / 3, b = len / 2;
		assert_int_equal(hpki_sign_op_update(op, data, a), CKR_OK);
		assert_int_equal(hpki_sign_op_update(op, data + a, 0), CKR_OK);
		assert_int_equal(hpki_sign_op_update(op, data + a, b - a), CKR_OK);
		assert_int_equal(hpki_sign_op_update(op, data + b, len - b), CKR_OK);
		assert_int_equal(hpki_sign_op_prepare(op, NULL, 0, &kind, input, input_len), CKR_OK);
	} else {
		assert_int_equal(hpki_sign_op_prepare(op, data, len, &kind, input, input_len), CKR_OK);
	}
	hpki_sign_op_free(op);
	card_sign(keys->priv, kind, input, *input_len, sig, sig_len);
	return kind;
}

static CK_RV module_verify(const struct hpki_key_caps *caps, EVP_PKEY *pub, const CK_MECHANISM *m,
			   const uint8_t *data, size_t len, bool multi_part, const uint8_t *sig, size_t sig_len)
{
	struct hpki_verify_op *op = NULL;
	CK_RV rv;

	assert_int_equal(hpki_verify_op_new(m, caps, pub, &op), CKR_OK);
	if (multi_part) {
		assert_int_equal(hpki_verify_op_update(op, data, len / 2), CKR_OK);
		assert_int_equal(hpki_verify_op_update(op, data + len / 2, len - len / 2), CKR_OK);
		rv = hpki_verify_op_final(op, NULL, 0, sig, sig_len);
	} else {
		rv = hpki_verify_op_final(op, data, len, sig, sig_len);
	}
	hpki_verify_op_free(op);
	return rv;
}

static bool list_has(const CK_MECHANISM_TYPE *list, size_t count, CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < count; i++)
		if (list[i] == type)
			return true;
	return false;
}

static const CK_MECHANISM_TYPE pss_mechs[] = { CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS,
					       CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS };

/* ---- mechanism list -------------------------------------------------------------- */

static void test_list_differs_for_raw_and_legacy_cards(void **state)
{
	CK_MECHANISM_TYPE raw[32], legacy[32], no_key[32];
	struct hpki_key_caps raw_without_key = k2048.raw;
	size_t raw_n = hpki_mech_list(&k2048.raw, raw, 32);
	size_t legacy_n = hpki_mech_list(&k2048.legacy, legacy, 32);
	size_t no_key_n;

	raw_without_key.public_key = NULL;
	no_key_n = hpki_mech_list(&raw_without_key, no_key, 32);
	assert_int_equal(legacy_n, 9);
	assert_int_equal(raw_n, 14);
	assert_int_equal(no_key_n, 9);
	static const CK_MECHANISM_TYPE always[] = { CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA256_RSA_PKCS,
						    CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS, CKM_SHA_1,
						    CKM_SHA256, CKM_SHA384, CKM_SHA512 };
	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++) {
		assert_true(list_has(raw, raw_n, always[i]));
		assert_true(list_has(legacy, legacy_n, always[i]));
	}
	for (size_t i = 0; i < sizeof pss_mechs / sizeof pss_mechs[0]; i++) {
		assert_true(list_has(raw, raw_n, pss_mechs[i]));
		assert_false(list_has(legacy, legacy_n, pss_mechs[i]));
		assert_false(list_has(no_key, no_key_n, pss_mechs[i]));
	}
}

static void test_list_counts_beyond_max(void **state)
{
	CK_MECHANISM_TYPE list[3] = { 0 };

	assert_int_equal(hpki_mech_list(&k2048.raw, NULL, 0), 14);
	assert_int_equal(hpki_mech_list(&k2048.raw, list, 3), 14);
	assert_int_equal(list[0], CKM_RSA_PKCS);
}

static void test_info_flags_and_sizes(void **state)
{
	const CK_FLAGS forbidden = CKF_ENCRYPT | CKF_DECRYPT | CKF_GENERATE | CKF_GENERATE_KEY_PAIR | CKF_WRAP |
				   CKF_UNWRAP | CKF_DERIVE | CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER | CKF_DIGEST;
	CK_MECHANISM_TYPE list[32];
	CK_MECHANISM_INFO info;
	size_t n = hpki_mech_list(&k2048.raw, list, 32);

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(hpki_mech_info(&k2048.raw, list[i], &info), CKR_OK);
		if (list[i] == CKM_SHA_1 || list[i] == CKM_SHA256 || list[i] == CKM_SHA384 || list[i] == CKM_SHA512) {
			assert_int_equal(info.flags, CKF_DIGEST);
			assert_int_equal(info.ulMinKeySize, 0);
			assert_int_equal(info.ulMaxKeySize, 0);
			continue;
		}
		assert_int_equal(info.flags & forbidden, 0);
		assert_int_equal(info.flags, CKF_HW | CKF_SIGN | CKF_VERIFY);
		assert_int_equal(info.ulMinKeySize, 2048);
		assert_int_equal(info.ulMaxKeySize, 2048);
	}
	assert_int_equal(hpki_mech_info(&k2048.legacy, CKM_RSA_PKCS_PSS, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(hpki_mech_info(&k2048.legacy, CKM_SHA256_RSA_PKCS_PSS, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(hpki_mech_info(&k2048.raw, CKM_RSA_PKCS_OAEP, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(hpki_mech_info(&k2048.raw, CKM_RSA_X_509, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(hpki_mech_info(&k2048.raw, CKM_SHA224, &info), CKR_MECHANISM_INVALID);
}

/* ---- PKCS#1 v1.5 ----------------------------------------------------------------- */

static void check_pkcs1_hashing(const struct keys *keys, const struct hpki_key_caps *caps, CK_MECHANISM_TYPE type,
				CK_MECHANISM_TYPE hash)
{
	CK_MECHANISM m = mech(type, NULL, 0);
	uint8_t in1[HPKI_SIGN_INPUT_MAX], in2[HPKI_SIGN_INPUT_MAX], sig1[HPKI_SIGN_INPUT_MAX],
		sig2[HPKI_SIGN_INPUT_MAX];
	size_t in1_len, in2_len, sig1_len, sig2_len;

	assert_int_equal(sign(keys, caps, &m, message, sizeof message, false, in1, &in1_len, sig1, &sig1_len),
			 HPKI_SIGN_INPUT_DIGEST_INFO);
	assert_int_equal(sign(keys, caps, &m, message, sizeof message, true, in2, &in2_len, sig2, &sig2_len),
			 HPKI_SIGN_INPUT_DIGEST_INFO);
	/* PKCS#1 v1.5 is deterministic: multi-part must give the very same bytes. */
	assert_int_equal(in1_len, in2_len);
	assert_memory_equal(in1, in2, in1_len);
	assert_int_equal(sig1_len, sig2_len);
	assert_memory_equal(sig1, sig2, sig1_len);
	/* The DigestInfo ends with the digest itself. */
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t md_len = digest(hash, message, sizeof message, md);
	assert_memory_equal(in1 + in1_len - md_len, md, md_len);

	assert_int_equal(openssl_verify_message(keys->pub, hash, NULL, message, sizeof message, sig1, sig1_len), 1);
	assert_int_equal(module_verify(caps, keys->pub, &m, message, sizeof message, false, sig1, sig1_len), CKR_OK);
	assert_int_equal(module_verify(caps, keys->pub, &m, message, sizeof message, true, sig1, sig1_len), CKR_OK);
}

static void test_pkcs1_hashing_mechanisms_on_both_card_kinds(void **state)
{
	static const CK_MECHANISM_TYPE types[][2] = { { CKM_SHA1_RSA_PKCS, CKM_SHA_1 },
						      { CKM_SHA256_RSA_PKCS, CKM_SHA256 },
						      { CKM_SHA384_RSA_PKCS, CKM_SHA384 },
						      { CKM_SHA512_RSA_PKCS, CKM_SHA512 } };

	for (size_t i = 0; i < 4; i++) {
		check_pkcs1_hashing(&k2048, &k2048.raw, types[i][0], types[i][1]);
		check_pkcs1_hashing(&k2048, &k2048.legacy, types[i][0], types[i][1]);
	}
	check_pkcs1_hashing(&k1025, &k1025.legacy, CKM_SHA512_RSA_PKCS, CKM_SHA512);
}

/* A DigestInfo as applications (OpenSSH, NSS) build it for CKM_RSA_PKCS. */
static size_t caller_digest_info(uint8_t *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t md_len = digest(CKM_SHA256, message, sizeof message, md);
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *octets;
	uint8_t *p = out;
	int n;

	X509_SIG_getm(sig, &alg, &octets);
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL);
	ASN1_OCTET_STRING_set(octets, md, (int)md_len);
	n = i2d_X509_SIG(sig, &p);
	X509_SIG_free(sig);
	assert_int_equal(n, 51);
	return (size_t)n;
}

static void test_rsa_pkcs_passes_the_caller_data_as_is(void **state)
{
	CK_MECHANISM m = mech(CKM_RSA_PKCS, NULL, 0);
	uint8_t di[64], input[HPKI_SIGN_INPUT_MAX], input2[HPKI_SIGN_INPUT_MAX], sig[HPKI_SIGN_INPUT_MAX],
		rec[HPKI_SIGN_INPUT_MAX];
	size_t di_len = caller_digest_info(di), input_len, input2_len, sig_len, rec_len;

	assert_int_equal(sign(&k2048, &k2048.legacy, &m, di, di_len, false, input, &input_len, sig, &sig_len),
			 HPKI_SIGN_INPUT_DIGEST_INFO);
	assert_int_equal(input_len, di_len);
	assert_memory_equal(input, di, di_len);
	/* A real outcome: a SHA-256 PKCS#1 v1.5 signature of the message. */
	assert_int_equal(openssl_verify_message(k2048.pub, CKM_SHA256, NULL, message, sizeof message, sig, sig_len),
			 1);
	openssl_recover(k2048.pub, sig, sig_len, rec, &rec_len);
	assert_int_equal(rec_len, di_len);
	assert_memory_equal(rec, di, di_len);
	assert_int_equal(module_verify(&k2048.legacy, k2048.pub, &m, di, di_len, false, sig, sig_len), CKR_OK);
	assert_int_equal(module_verify(&k2048.legacy, k2048.pub, &m, di, di_len, true, sig, sig_len), CKR_OK);

	/* Multi-part accumulates to the same input. */
	assert_int_equal(sign(&k2048, &k2048.raw, &m, di, di_len, true, input2, &input2_len, sig, &sig_len),
			 HPKI_SIGN_INPUT_DIGEST_INFO);
	assert_int_equal(input2_len, di_len);
	assert_memory_equal(input2, di, di_len);
}

static void test_rsa_pkcs_length_limit_is_k_minus_11(void **state)
{
	CK_MECHANISM m = mech(CKM_RSA_PKCS, NULL, 0);
	struct hpki_sign_op *op = NULL;
	struct hpki_verify_op *vop = NULL;
	enum hpki_sign_input kind;
	uint8_t data[HPKI_SIGN_INPUT_MAX], input[HPKI_SIGN_INPUT_MAX], sig[256] = { 0 };
	size_t input_len;

	memset(data, 0x5A, sizeof data);
	assert_int_equal(hpki_sign_op_new(&m, &k2048.legacy, &op), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, data, 245, &kind, input, &input_len), CKR_OK);
	assert_int_equal(input_len, 245);
	assert_int_equal(hpki_sign_op_prepare(op, data, 246, &kind, input, &input_len), CKR_DATA_LEN_RANGE);
	/* Multi-part: 200 + 45 fit, one more byte does not. */
	assert_int_equal(hpki_sign_op_update(op, data, 200), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, data, 46, &kind, input, &input_len), CKR_DATA_LEN_RANGE);
	assert_int_equal(hpki_sign_op_update(op, data, 46), CKR_DATA_LEN_RANGE);
	assert_int_equal(hpki_sign_op_update(op, data, 45), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, NULL, 0, &kind, input, &input_len), CKR_OK);
	assert_int_equal(input_len, 245);
	hpki_sign_op_free(op);

	assert_int_equal(hpki_verify_op_new(&m, &k2048.legacy, k2048.pub, &vop), CKR_OK);
	assert_int_equal(hpki_verify_op_final(vop, data, 246, sig, sizeof sig), CKR_DATA_LEN_RANGE);
	hpki_verify_op_free(vop);
}

/* PKCS#11 2.40 §5.2: a call that ends in CKR_BUFFER_TOO_SMALL keeps the operation,
 * so prepare must be repeatable with the same result. */
static void test_prepare_does_not_consume_the_operation(void **state)
{
	CK_MECHANISM m = mech(CKM_SHA256_RSA_PKCS, NULL, 0);
	struct hpki_sign_op *op = NULL;
	enum hpki_sign_input kind;
	uint8_t a[HPKI_SIGN_INPUT_MAX], b[HPKI_SIGN_INPUT_MAX], c[HPKI_SIGN_INPUT_MAX];
	size_t a_len, b_len, c_len;

	assert_int_equal(hpki_sign_op_new(&m, &k2048.raw, &op), CKR_OK);
	assert_int_equal(hpki_sign_op_update(op, message, 10), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, NULL, 0, &kind, a, &a_len), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, NULL, 0, &kind, b, &b_len), CKR_OK);
	assert_int_equal(a_len, b_len);
	assert_memory_equal(a, b, a_len);
	/* And the running hash still continues. */
	assert_int_equal(hpki_sign_op_update(op, message + 10, sizeof message - 10), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, NULL, 0, &kind, c, &c_len), CKR_OK);
	hpki_sign_op_free(op);

	assert_int_equal(hpki_sign_op_new(&m, &k2048.raw, &op), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, message, sizeof message, &kind, a, &a_len), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, message, sizeof message, &kind, b, &b_len), CKR_OK);
	hpki_sign_op_free(op);
	assert_int_equal(a_len, c_len);
	assert_memory_equal(a, c, a_len);
	assert_memory_equal(a, b, a_len);
}

/* ---- PSS -------------------------------------------------------------------------- */

static CK_RSA_PKCS_PSS_PARAMS pss_params(CK_MECHANISM_TYPE hash, CK_ULONG salt_len)
{
	return (CK_RSA_PKCS_PSS_PARAMS){ .hashAlg = hash, .mgf = mgf_of(hash), .sLen = salt_len };
}

static size_t max_salt(unsigned bits, size_t h_len)
{
	return (bits - 1 + 7) / 8 - h_len - 2;
}

static void check_pss(const struct keys *keys, CK_MECHANISM_TYPE type, CK_MECHANISM_TYPE hash, size_t salt_len)
{
	const struct hpki_key_caps *caps = &keys->raw;
	CK_RSA_PKCS_PSS_PARAMS params = pss_params(hash, salt_len);
	CK_MECHANISM m = mech(type, &params, sizeof params);
	struct pss pss = { .hash = hash, .salt_len = (int)salt_len };
	uint8_t md[EVP_MAX_MD_SIZE], block[HPKI_SIGN_INPUT_MAX], sig[HPKI_SIGN_INPUT_MAX];
	size_t md_len = digest(hash, message, sizeof message, md), block_len, sig_len;
	size_t k = (size_t)EVP_PKEY_get_size(keys->priv);
	bool hashing = type != CKM_RSA_PKCS_PSS;
	const uint8_t *data = hashing ? message : md;
	size_t data_len = hashing ? sizeof message : md_len;

	for (int multi = 0; multi < 2; multi++) {
		assert_int_equal(sign(keys, caps, &m, data, data_len, multi, block, &block_len, sig, &sig_len),
				 HPKI_SIGN_INPUT_RAW_BLOCK);
		assert_int_equal(block_len, k);
		assert_int_equal(block[k - 1], 0xBC); /* RFC 8017 §9.1.1 step 12 trailer */
		if (caps->modulus_bits % 8 == 1)
			assert_int_equal(block[0], 0x00); /* emLen = k − 1: leading zero byte */
		else
			assert_int_equal(block[0] >> (8 - (8 * k - (caps->modulus_bits - 1))), 0);

		if (hashing)
			assert_int_equal(openssl_verify_message(keys->pub, hash, &pss, message, sizeof message, sig,
								sig_len),
					 1);
		assert_int_equal(openssl_verify_pss_hash(keys->pub, &pss, md, md_len, sig, sig_len), 1);
		assert_int_equal(module_verify(caps, keys->pub, &m, data, data_len, false, sig, sig_len), CKR_OK);
		assert_int_equal(module_verify(caps, keys->pub, &m, data, data_len, true, sig, sig_len), CKR_OK);
	}
	/* The verifier really checks the salt length it is given. */
	if (salt_len > 0) {
		CK_RSA_PKCS_PSS_PARAMS other = pss_params(hash, salt_len - 1);
		CK_MECHANISM wrong = mech(type, &other, sizeof other);
		assert_int_equal(module_verify(caps, keys->pub, &wrong, data, data_len, false, sig, sig_len),
				 CKR_SIGNATURE_INVALID);
	}
}

static void test_pss_all_mechanisms_and_salt_lengths(void **state)
{
	static const CK_MECHANISM_TYPE types[][2] = { { CKM_SHA1_RSA_PKCS_PSS, CKM_SHA_1 },
						      { CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256 },
						      { CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384 },
						      { CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512 },
						      { CKM_RSA_PKCS_PSS, CKM_SHA_1 },
						      { CKM_RSA_PKCS_PSS, CKM_SHA256 },
						      { CKM_RSA_PKCS_PSS, CKM_SHA384 },
						      { CKM_RSA_PKCS_PSS, CKM_SHA512 } };

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t h_len = (size_t)EVP_MD_get_size(md_of(types[i][1]));
		check_pss(&k2048, types[i][0], types[i][1], 0);
		check_pss(&k2048, types[i][0], types[i][1], 32);
		check_pss(&k2048, types[i][0], types[i][1], h_len);
		check_pss(&k2048, types[i][0], types[i][1], max_salt(2048, h_len));
	}
}

/* modBits ≡ 1 (mod 8): emLen = k − 1 and the block starts with a zero byte. */
static void test_pss_modulus_one_bit_past_a_byte(void **state)
{
	check_pss(&k1025, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, 0);
	check_pss(&k1025, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, 32);
	check_pss(&k1025, CKM_RSA_PKCS_PSS, CKM_SHA512, max_salt(1025, 64));
}

/* With sLen = 0, EMSA-PSS is deterministic: multi-part must equal single-part. */
static void test_pss_multi_part_equals_single_part(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS params = pss_params(CKM_SHA384, 0);
	CK_MECHANISM m = mech(CKM_SHA384_RSA_PKCS_PSS, &params, sizeof params);
	uint8_t a[HPKI_SIGN_INPUT_MAX], b[HPKI_SIGN_INPUT_MAX], sa[HPKI_SIGN_INPUT_MAX], sb[HPKI_SIGN_INPUT_MAX];
	size_t a_len, b_len, sa_len, sb_len;

	sign(&k2048, &k2048.raw, &m, message, sizeof message, false, a, &a_len, sa, &sa_len);
	sign(&k2048, &k2048.raw, &m, message, sizeof message, true, b, &b_len, sb, &sb_len);
	assert_int_equal(a_len, b_len);
	assert_memory_equal(a, b, a_len);
	assert_memory_equal(sa, sb, sa_len);
}

static void test_pss_raw_input_must_be_the_hash_length(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS params = pss_params(CKM_SHA256, 32);
	CK_MECHANISM m = mech(CKM_RSA_PKCS_PSS, &params, sizeof params);
	struct hpki_sign_op *op = NULL;
	struct hpki_verify_op *vop = NULL;
	enum hpki_sign_input kind;
	uint8_t data[64] = { 1 }, input[HPKI_SIGN_INPUT_MAX], sig[256] = { 0 };
	size_t input_len;

	assert_int_equal(hpki_sign_op_new(&m, &k2048.raw, &op), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, data, 31, &kind, input, &input_len), CKR_DATA_LEN_RANGE);
	assert_int_equal(hpki_sign_op_prepare(op, data, 33, &kind, input, &input_len), CKR_DATA_LEN_RANGE);
	assert_int_equal(hpki_sign_op_prepare(op, data, 20, &kind, input, &input_len), CKR_DATA_LEN_RANGE);
	assert_int_equal(hpki_sign_op_update(op, data, 30), CKR_OK);
	assert_int_equal(hpki_sign_op_update(op, data, 3), CKR_DATA_LEN_RANGE);
	assert_int_equal(hpki_sign_op_prepare(op, NULL, 0, &kind, input, &input_len), CKR_DATA_LEN_RANGE);
	assert_int_equal(hpki_sign_op_update(op, data, 2), CKR_OK);
	assert_int_equal(hpki_sign_op_prepare(op, NULL, 0, &kind, input, &input_len), CKR_OK);
	assert_int_equal(kind, HPKI_SIGN_INPUT_RAW_BLOCK);
	assert_int_equal(input_len, 256);
	hpki_sign_op_free(op);

	assert_int_equal(hpki_verify_op_new(&m, &k2048.raw, k2048.pub, &vop), CKR_OK);
	assert_int_equal(hpki_verify_op_final(vop, data, 31, sig, sizeof sig), CKR_DATA_LEN_RANGE);
	hpki_verify_op_free(vop);
}

/* ---- parameter and mechanism checks --------------------------------------------- */

static CK_RV sign_new_rv(const struct hpki_key_caps *caps, CK_MECHANISM_TYPE type, void *param, size_t len)
{
	CK_MECHANISM m = mech(type, param, len);
	struct hpki_sign_op *op = (struct hpki_sign_op *)&m; /* must be reset to NULL on failure */
	CK_RV rv = hpki_sign_op_new(&m, caps, &op);

	if (rv != CKR_OK)
		assert_null(op);
	hpki_sign_op_free(op);
	return rv;
}

static CK_RV verify_new_rv(const struct hpki_key_caps *caps, CK_MECHANISM_TYPE type, void *param, size_t len)
{
	CK_MECHANISM m = mech(type, param, len);
	struct hpki_verify_op *op = NULL;
	CK_RV rv = hpki_verify_op_new(&m, caps, k2048.pub, &op);

	hpki_verify_op_free(op);
	return rv;
}

/* Both halves answer alike: what sign refuses, verify refuses with the same code. */
static void expect_new(const struct hpki_key_caps *caps, CK_MECHANISM_TYPE type, void *param, size_t len,
		       CK_RV expected)
{
	assert_int_equal(sign_new_rv(caps, type, param, len), expected);
	assert_int_equal(verify_new_rv(caps, type, param, len), expected);
}

static void test_pss_parameter_errors(void **state)
{
	const struct hpki_key_caps *caps = &k2048.raw;
	CK_RSA_PKCS_PSS_PARAMS p = pss_params(CKM_SHA256, 32);

	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p, CKR_OK);
	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, NULL, 0, CKR_MECHANISM_PARAM_INVALID);
	expect_new(caps, CKM_RSA_PKCS_PSS, NULL, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p - 1, CKR_MECHANISM_PARAM_INVALID);
	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p + 1, CKR_MECHANISM_PARAM_INVALID);

	/* hashAlg must be the mechanism's hash when the mechanism hashes. */
	p = pss_params(CKM_SHA384, 32);
	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	expect_new(caps, CKM_RSA_PKCS_PSS, &p, sizeof p, CKR_OK);
	p.hashAlg = CKM_MD5;
	expect_new(caps, CKM_RSA_PKCS_PSS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	p.hashAlg = CKM_SHA224;
	expect_new(caps, CKM_RSA_PKCS_PSS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);

	/* MGF1 over one of our hashes (it may differ from hashAlg). */
	p = pss_params(CKM_SHA256, 32);
	p.mgf = CKG_MGF1_SHA224;
	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	p.mgf = 0;
	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	p.mgf = CKG_MGF1_SHA1;
	expect_new(caps, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p, CKR_OK);

	/* sLen ≤ emLen − hLen − 2. */
	p = pss_params(CKM_SHA512, max_salt(2048, 64));
	expect_new(caps, CKM_SHA512_RSA_PKCS_PSS, &p, sizeof p, CKR_OK);
	p.sLen++;
	expect_new(caps, CKM_SHA512_RSA_PKCS_PSS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	p.sLen = (CK_ULONG)-1;
	expect_new(caps, CKM_SHA512_RSA_PKCS_PSS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	p = pss_params(CKM_SHA512, max_salt(1025, 64) + 1);
	assert_int_equal(sign_new_rv(&k1025.raw, CKM_RSA_PKCS_PSS, &p, sizeof p), CKR_MECHANISM_PARAM_INVALID);
	p.sLen--;
	assert_int_equal(sign_new_rv(&k1025.raw, CKM_RSA_PKCS_PSS, &p, sizeof p), CKR_OK);
}

static void test_pss_refused_on_a_card_that_pads(void **state)
{
	/* hashAlg for each entry of pss_mechs (any hash for CKM_RSA_PKCS_PSS). */
	static const CK_MECHANISM_TYPE hashes[] = { CKM_SHA256, CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512 };
	struct hpki_key_caps no_key = k2048.raw;

	no_key.public_key = NULL;
	for (size_t i = 0; i < sizeof pss_mechs / sizeof pss_mechs[0]; i++) {
		CK_RSA_PKCS_PSS_PARAMS p = pss_params(hashes[i], 20);

		expect_new(&k2048.raw, pss_mechs[i], &p, sizeof p, CKR_OK);
		expect_new(&k2048.legacy, pss_mechs[i], &p, sizeof p, CKR_MECHANISM_INVALID);
		/* Invalid parameters do not change that answer: the mechanism comes first. */
		expect_new(&k2048.legacy, pss_mechs[i], NULL, 0, CKR_MECHANISM_INVALID);
		assert_int_equal(sign_new_rv(&no_key, pss_mechs[i], &p, sizeof p), CKR_MECHANISM_INVALID);
	}
}

static void test_pkcs1_and_unknown_mechanism_errors(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS p = pss_params(CKM_SHA256, 32);
	uint8_t junk[4] = { 0 };

	expect_new(&k2048.legacy, CKM_RSA_PKCS, NULL, 0, CKR_OK);
	expect_new(&k2048.legacy, CKM_SHA256_RSA_PKCS, &p, sizeof p, CKR_MECHANISM_PARAM_INVALID);
	expect_new(&k2048.legacy, CKM_RSA_PKCS, junk, sizeof junk, CKR_MECHANISM_PARAM_INVALID);
	expect_new(&k2048.legacy, CKM_SHA1_RSA_PKCS, NULL, 4, CKR_MECHANISM_PARAM_INVALID);
	expect_new(&k2048.raw, CKM_RSA_X_509, NULL, 0, CKR_MECHANISM_INVALID);
	expect_new(&k2048.raw, CKM_MD5_RSA_PKCS, NULL, 0, CKR_MECHANISM_INVALID);
	expect_new(&k2048.raw, CKM_SHA224_RSA_PKCS, NULL, 0, CKR_MECHANISM_INVALID);
	expect_new(&k2048.raw, CKM_RSA_PKCS_OAEP, NULL, 0, CKR_MECHANISM_INVALID);
	expect_new(&k2048.raw, CKM_SHA256, NULL, 0, CKR_MECHANISM_INVALID);
	expect_new(&k2048.raw, CKM_ECDSA, NULL, 0, CKR_MECHANISM_INVALID);
}

static void test_key_checks(void **state)
{
	struct hpki_key_caps tiny = { .modulus_bits = 512, .raw_rsa = false };
	struct hpki_key_caps wrong_key = k2048.raw;
	CK_RSA_PKCS_PSS_PARAMS p = pss_params(CKM_SHA256, 32);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	struct hpki_verify_op *op = NULL;
	CK_MECHANISM m = mech(CKM_SHA256_RSA_PKCS, NULL, 0);

	assert_int_equal(sign_new_rv(&tiny, CKM_SHA256_RSA_PKCS, NULL, 0), CKR_KEY_SIZE_RANGE);
	/* A certificate that does not match the card's key is token data gone wrong. */
	wrong_key.public_key = k1025.pub;
	assert_int_equal(sign_new_rv(&wrong_key, CKM_SHA256_RSA_PKCS_PSS, &p, sizeof p), CKR_GENERAL_ERROR);
	assert_non_null(ec);
	assert_int_equal(hpki_verify_op_new(&m, &k2048.raw, ec, &op), CKR_KEY_TYPE_INCONSISTENT);
	assert_null(op);
	EVP_PKEY_free(ec);
}

/* ---- verification ------------------------------------------------------------------ */

static void check_verify_rejects(const CK_MECHANISM *m, const uint8_t *data, size_t data_len)
{
	uint8_t input[HPKI_SIGN_INPUT_MAX], sig[HPKI_SIGN_INPUT_MAX], longer[HPKI_SIGN_INPUT_MAX];
	size_t input_len, sig_len;
	const struct hpki_key_caps *caps = &k2048.raw;

	sign(&k2048, caps, m, data, data_len, false, input, &input_len, sig, &sig_len);
	assert_int_equal(module_verify(caps, k2048.pub, m, data, data_len, false, sig, sig_len), CKR_OK);

	for (size_t bit = 0; bit < 8 * sig_len; bit += 509) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(module_verify(caps, k2048.pub, m, data, data_len, false, sig, sig_len),
				 CKR_SIGNATURE_INVALID);
		assert_int_equal(module_verify(caps, k2048.pub, m, data, data_len, true, sig, sig_len),
				 CKR_SIGNATURE_INVALID);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* Other data under a good signature. */
	uint8_t other[HPKI_SIGN_INPUT_MAX];
	memcpy(other, data, data_len);
	other[data_len - 1] ^= 0x01;
	assert_int_equal(module_verify(caps, k2048.pub, m, other, data_len, false, sig, sig_len),
			 CKR_SIGNATURE_INVALID);

	memcpy(longer, sig, sig_len);
	longer[sig_len] = 0;
	assert_int_equal(module_verify(caps, k2048.pub, m, data, data_len, false, sig, sig_len - 1),
			 CKR_SIGNATURE_LEN_RANGE);
	assert_int_equal(module_verify(caps, k2048.pub, m, data, data_len, false, longer, sig_len + 1),
			 CKR_SIGNATURE_LEN_RANGE);
	assert_int_equal(module_verify(caps, k2048.pub, m, data, data_len, false, sig, 0), CKR_SIGNATURE_LEN_RANGE);
}

static void test_verify_rejects_flipped_bits_and_wrong_lengths(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS pss = pss_params(CKM_SHA256, 32), raw_pss = pss_params(CKM_SHA512, 64);
	CK_MECHANISM pkcs1 = mech(CKM_SHA256_RSA_PKCS, NULL, 0), raw = mech(CKM_RSA_PKCS, NULL, 0),
		     pss_m = mech(CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof pss),
		     raw_pss_m = mech(CKM_RSA_PKCS_PSS, &raw_pss, sizeof raw_pss);
	uint8_t di[64], md[EVP_MAX_MD_SIZE];
	size_t di_len = caller_digest_info(di), md_len = digest(CKM_SHA512, message, sizeof message, md);

	check_verify_rejects(&pkcs1, message, sizeof message);
	check_verify_rejects(&raw, di, di_len);
	check_verify_rejects(&pss_m, message, sizeof message);
	check_verify_rejects(&raw_pss_m, md, md_len);
}

/* A signature made by OpenSSL alone verifies through the module, too. */
static void test_verify_accepts_openssl_signatures(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS params = pss_params(CKM_SHA384, 48);
	CK_MECHANISM m = mech(CKM_SHA384_RSA_PKCS_PSS, &params, sizeof params);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t sig[512];
	size_t sig_len = sizeof sig;

	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha384(), NULL, k2048.priv), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, message, sizeof message), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(module_verify(&k2048.raw, k2048.pub, &m, message, sizeof message, true, sig, sig_len),
			 CKR_OK);
}

/* ---- digests ------------------------------------------------------------------------ */

static void test_digests_match_openssl(void **state)
{
	static const CK_MECHANISM_TYPE types[] = { CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512 };
	static const size_t lens[] = { 20, 32, 48, 64 };

	for (size_t i = 0; i < 4; i++) {
		CK_MECHANISM m = mech(types[i], NULL, 0);
		struct hpki_digest_op *op = NULL;
		uint8_t expected[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];

		assert_int_equal(digest(types[i], message, sizeof message, expected), lens[i]);
		/* single-part */
		assert_int_equal(hpki_digest_op_new(&m, &op), CKR_OK);
		assert_int_equal(hpki_digest_op_len(op), lens[i]);
		assert_int_equal(hpki_digest_op_update(op, message, sizeof message), CKR_OK);
		assert_int_equal(hpki_digest_op_final(op, got), CKR_OK);
		assert_memory_equal(got, expected, lens[i]);
		assert_int_equal(hpki_digest_op_final(op, got), CKR_OPERATION_NOT_INITIALIZED);
		hpki_digest_op_free(op);
		/* multi-part */
		assert_int_equal(hpki_digest_op_new(&m, &op), CKR_OK);
		assert_int_equal(hpki_digest_op_update(op, message, 7), CKR_OK);
		assert_int_equal(hpki_digest_op_update(op, NULL, 0), CKR_OK);
		assert_int_equal(hpki_digest_op_update(op, message + 7, sizeof message - 7), CKR_OK);
		assert_int_equal(hpki_digest_op_final(op, got), CKR_OK);
		assert_memory_equal(got, expected, lens[i]);
		hpki_digest_op_free(op);
	}
}

static void test_digest_errors(void **state)
{
	struct hpki_digest_op *op = NULL;
	uint8_t junk[4] = { 0 };
	CK_MECHANISM md5 = mech(CKM_MD5, NULL, 0), sign_mech = mech(CKM_SHA256_RSA_PKCS, NULL, 0),
		     sha224 = mech(CKM_SHA224, NULL, 0), params = mech(CKM_SHA256, junk, sizeof junk);

	assert_int_equal(hpki_digest_op_new(&md5, &op), CKR_MECHANISM_INVALID);
	assert_int_equal(hpki_digest_op_new(&sign_mech, &op), CKR_MECHANISM_INVALID);
	assert_int_equal(hpki_digest_op_new(&sha224, &op), CKR_MECHANISM_INVALID);
	assert_int_equal(hpki_digest_op_new(&params, &op), CKR_MECHANISM_PARAM_INVALID);
	assert_null(op);
	hpki_digest_op_free(NULL);
	hpki_sign_op_free(NULL);
	hpki_verify_op_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_differs_for_raw_and_legacy_cards),
		cmocka_unit_test(test_list_counts_beyond_max),
		cmocka_unit_test(test_info_flags_and_sizes),
		cmocka_unit_test(test_pkcs1_hashing_mechanisms_on_both_card_kinds),
		cmocka_unit_test(test_rsa_pkcs_passes_the_caller_data_as_is),
		cmocka_unit_test(test_rsa_pkcs_length_limit_is_k_minus_11),
		cmocka_unit_test(test_prepare_does_not_consume_the_operation),
		cmocka_unit_test(test_pss_all_mechanisms_and_salt_lengths),
		cmocka_unit_test(test_pss_modulus_one_bit_past_a_byte),
		cmocka_unit_test(test_pss_multi_part_equals_single_part),
		cmocka_unit_test(test_pss_raw_input_must_be_the_hash_length),
		cmocka_unit_test(test_pss_parameter_errors),
		cmocka_unit_test(test_pss_refused_on_a_card_that_pads),
		cmocka_unit_test(test_pkcs1_and_unknown_mechanism_errors),
		cmocka_unit_test(test_key_checks),
		cmocka_unit_test(test_verify_rejects_flipped_bits_and_wrong_lengths),
		cmocka_unit_test(test_verify_accepts_openssl_signatures),
		cmocka_unit_test(test_digests_match_openssl),
		cmocka_unit_test(test_digest_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
