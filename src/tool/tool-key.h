/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: a card key as an OpenSSL EVP_PKEY, so that OpenSSL's own CMS code
 * builds the signature and only the RSA operation goes to the card.
 */
#ifndef HPKI_TOOL_KEY_H
#define HPKI_TOOL_KEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "card.h"

struct hpki_tool_key_ctx {
	struct hpki_card *card;
	size_t app;
	const char *pin;        /* VERIFY right before the signature: the signature key wants a
				 * fresh verification for every signature (userConsent) */
	size_t pin_len;
	int signatures;         /* how many the card made; one PIN, one VERIFY, one signature */
	enum hpki_card_status status; /* of the VERIFY, else of the signature */
	int tries_left;         /* after a wrong PIN */
};

/* The public key of `cert` whose private operation is done by the card. NULL on error. */
EVP_PKEY *hpki_tool_card_key(X509 *cert, struct hpki_tool_key_ctx *ctx);
void hpki_tool_card_key_free(EVP_PKEY *key);

#endif
