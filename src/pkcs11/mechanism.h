/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mechanisms: which ones a token offers, their parameter checks, and the
 * software half of every operation (hashing, DigestInfo, PSS encoding, software
 * verification, digests), all through OpenSSL. The card half of a signature is
 * the token layer's: it hands the prepared input to hpki_card_sign().
 *
 * Nothing here touches the card or the locks; every function is pure given its
 * arguments, so the token layer calls it under its own lock.
 */
#ifndef HPKI_MECHANISM_H
#define HPKI_MECHANISM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "card.h"

/* What a token's key can do, from the card's signing method (card.h). */
struct hpki_key_caps {
	unsigned modulus_bits;
	bool raw_rsa; /* the card signs a host-built block: PKCS#1 v1.5 and PSS; else PKCS#1 v1.5 only */
	/* The key's public half (from its certificate), borrowed: the caller keeps it
	 * alive while ops made from these caps exist (a sign op takes its own
	 * reference). PSS encoding needs the modulus (OpenSSL encodes EMSA-PSS from the
	 * RSA key), so PSS is offered only when raw_rsa and public_key != NULL. */
	EVP_PKEY *public_key;
};

/* Mechanisms offered by a token with this key. Returns the count; fills at most max. */
size_t hpki_mech_list(const struct hpki_key_caps *caps, CK_MECHANISM_TYPE *list, size_t max);
/* CKR_MECHANISM_INVALID when the token does not offer `type`. */
CK_RV hpki_mech_info(const struct hpki_key_caps *caps, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);

/* ---- signing (card) --------------------------------------------------------- */
struct hpki_sign_op;

/* Validates mechanism and parameters against the key (CKR_MECHANISM_INVALID,
 * CKR_MECHANISM_PARAM_INVALID, CKR_KEY_SIZE_RANGE …) before any card I/O.
 * CKR_KEY_TYPE_INCONSISTENT / CKR_GENERAL_ERROR when caps->public_key is not an
 * RSA key of caps->modulus_bits (PSS only: token data gone wrong). *op is NULL
 * on failure. */
CK_RV hpki_sign_op_new(const CK_MECHANISM *mechanism, const struct hpki_key_caps *caps,
		       struct hpki_sign_op **op);
void hpki_sign_op_free(struct hpki_sign_op *op);
/* Length of the signature: the modulus in bytes. */
size_t hpki_sign_op_signature_len(const struct hpki_sign_op *op);
/* Multi-part: only hashing mechanisms; raw CKM_RSA_PKCS(_PSS) accumulate up to the
 * single-part limit (PKCS#11 2.40 §5.11 allows C_SignUpdate for them when the
 * mechanism table says so; we report CKR_DATA_LEN_RANGE past it). */
CK_RV hpki_sign_op_update(struct hpki_sign_op *op, const uint8_t *data, size_t len);
/* Builds what the card signs: for single-part pass data (update never called),
 * for C_SignFinal pass NULL/0. Sets *kind and the input (DigestInfo or raw block)
 * in `input` (capacity ≥ HPKI_SIGN_INPUT_MAX bytes; at most the modulus length is
 * written). Errors: CKR_DATA_LEN_RANGE (input too long for the key; for
 * CKM_RSA_PKCS_PSS not exactly the hash length). Does not consume the op, so
 * CKR_BUFFER_TOO_SMALL paths can call it again (each PSS call draws a new salt). */
#define HPKI_SIGN_INPUT_MAX 1024
CK_RV hpki_sign_op_prepare(struct hpki_sign_op *op, const uint8_t *data, size_t len, enum hpki_sign_input *kind,
			   uint8_t *input, size_t *input_len);

/* ---- verification (software, on the public key) ------------------------------ */
struct hpki_verify_op;

/* `public_key` is borrowed (the op takes its own reference); not RSA →
 * CKR_KEY_TYPE_INCONSISTENT. Offers exactly the mechanisms hpki_mech_list(caps)
 * lists, with the same checks as signing; size limits follow public_key. */
CK_RV hpki_verify_op_new(const CK_MECHANISM *mechanism, const struct hpki_key_caps *caps, EVP_PKEY *public_key,
			 struct hpki_verify_op **op);
void hpki_verify_op_free(struct hpki_verify_op *op);
CK_RV hpki_verify_op_update(struct hpki_verify_op *op, const uint8_t *data, size_t len);
/* data NULL for C_VerifyFinal. CKR_OK, CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE
 * (checked first), or CKR_DATA_LEN_RANGE for raw mechanisms (CKM_RSA_PKCS data
 * over k−11 bytes, CKM_RSA_PKCS_PSS data not the hash length). Does not consume
 * the op. */
CK_RV hpki_verify_op_final(struct hpki_verify_op *op, const uint8_t *data, size_t len, const uint8_t *signature,
			   size_t signature_len);

/* ---- digests (software) ------------------------------------------------------ */
struct hpki_digest_op;

CK_RV hpki_digest_op_new(const CK_MECHANISM *mechanism, struct hpki_digest_op **op);
void hpki_digest_op_free(struct hpki_digest_op *op);
size_t hpki_digest_op_len(const struct hpki_digest_op *op);
CK_RV hpki_digest_op_update(struct hpki_digest_op *op, const uint8_t *data, size_t len);
/* Finishes into out (≥ hpki_digest_op_len bytes); the op cannot be used afterwards
 * (update/final then give CKR_OPERATION_NOT_INITIALIZED). */
CK_RV hpki_digest_op_final(struct hpki_digest_op *op, uint8_t *out);

#endif
