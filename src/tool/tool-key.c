/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: an RSA key whose signature is made by the card. OpenSSL 3 keeps a key
 * with a non-default RSA_METHOD on its legacy code path ("foreign" key), so CMS_final
 * calls our rsa_sign with the digest; we wrap it in a DigestInfo (RFC 8017 §9.2) and
 * let the card driver pad and sign (PKCS#1 v1.5, G31 A.3.3). The RSA_METHOD API is
 * deprecated in OpenSSL 3 but still supported; a provider would be ten times the code.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include "tool-key.h"
#include "tool.h"

#include <string.h>

#include <openssl/rsa.h>
#include <openssl/x509.h>

static RSA_METHOD *card_method;

/* DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING } */
static int digest_info(int nid, const unsigned char *m, unsigned int m_len, unsigned char **der)
{
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *digest;
	int len = -1;

	if (sig == NULL)
		return -1;
	X509_SIG_getm(sig, &alg, &digest);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_NULL, NULL) && ASN1_OCTET_STRING_set(digest, m, (int)m_len))
		len = i2d_X509_SIG(sig, der);
	X509_SIG_free(sig);
	return len;
}

static int card_sign(int type, const unsigned char *m, unsigned int m_len, unsigned char *sigret,
		     unsigned int *siglen, const RSA *rsa)
{
	struct hpki_tool_key_ctx *ctx = RSA_get_app_data(rsa);
	unsigned char *di = NULL;
	int di_len = digest_info(type, m, m_len, &di);
	size_t out_len = (size_t)RSA_size(rsa);

	/* One PIN, one VERIFY, one signature: never a second VERIFY with the same PIN. */
	if (di_len < 0 || ctx == NULL || ctx->signatures > 0) {
		OPENSSL_free(di);
		return 0;
	}
	ctx->status = hpki_card_verify_pin(ctx->card, ctx->app, (const uint8_t *)ctx->pin, ctx->pin_len,
					   &ctx->tries_left);
	if (ctx->status == HPKI_CARD_OK)
		ctx->status = hpki_card_sign(ctx->card, ctx->app, HPKI_SIGN_INPUT_DIGEST_INFO, di, (size_t)di_len,
					     sigret, &out_len);
	OPENSSL_free(di);
	if (ctx->status != HPKI_CARD_OK)
		return 0;
	ctx->signatures++;
	*siglen = (unsigned int)out_len;
	return 1;
}

EVP_PKEY *hpki_tool_card_key(X509 *cert, struct hpki_tool_key_ctx *ctx)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	const RSA *cert_rsa = pub != NULL ? EVP_PKEY_get0_RSA(pub) : NULL;
	RSA *rsa;
	EVP_PKEY *key;

	if (cert_rsa == NULL)
		return NULL;
	if (card_method == NULL) {
		card_method = RSA_meth_dup(RSA_get_default_method());
		if (card_method == NULL)
			return NULL;
		RSA_meth_set1_name(card_method, "hpki-tool card key");
		RSA_meth_set_sign(card_method, card_sign);
	}
	rsa = RSAPublicKey_dup(cert_rsa);
	key = EVP_PKEY_new();
	if (rsa == NULL || key == NULL || !RSA_set_method(rsa, card_method) || !RSA_set_app_data(rsa, ctx) ||
	    !EVP_PKEY_assign_RSA(key, rsa)) {
		RSA_free(rsa);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

void hpki_tool_card_key_free(EVP_PKEY *key)
{
	EVP_PKEY_free(key);
}
