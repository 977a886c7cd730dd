/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-tool attend --prove: a PIN-protected challenge signature (see tool-prove.h). */
#include "config.h"

#include "tool-prove.h"
#include "tool-pin.h"
#include "tool.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

/* SHA-256 DigestInfo prefix (RFC 8017 §9.2 note 1). */
static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
					 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

static bool signature_matches(X509 *cert, const uint8_t *challenge, size_t len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) == 1 &&
		  EVP_DigestVerify(md, sig, sig_len, challenge, len) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

void hpki_tool_prove(struct hpki_card *card, size_t app, X509 *cert, int pin_fd, char *out, size_t cap)
{
	uint8_t challenge[32], di[sizeof(sha256_prefix) + 32], sig[1024];
	size_t sig_len = sizeof(sig);
	char pin[HPKI_TOOL_PIN_MAX + 2];
	int tries = -1, pin_len;
	enum hpki_card_status st;

	if (RAND_bytes(challenge, sizeof(challenge)) != 1) {
		snprintf(out, cap, "%s", "not proved: no random challenge");
		return;
	}
	memcpy(di, sha256_prefix, sizeof(sha256_prefix));
	EVP_Digest(challenge, sizeof(challenge), di + sizeof(sha256_prefix), NULL, EVP_sha256(), NULL);
	pin_len = hpki_tool_read_pin(pin_fd, _("Authentication PIN (電子認証用PIN): "), pin, sizeof(pin));
	if (pin_len <= 0) {
		snprintf(out, cap, "%s", "not proved: no PIN");
		return;
	}
	st = hpki_card_verify_pin(card, app, (const uint8_t *)pin, (size_t)pin_len, &tries);
	hpki_tool_wipe(pin, sizeof(pin));
	if (st == HPKI_CARD_OK)
		st = hpki_card_sign(card, app, HPKI_SIGN_INPUT_DIGEST_INFO, di, sizeof(di), sig, &sig_len);
	if (st == HPKI_CARD_PIN_INCORRECT)
		snprintf(out, cap, "not proved: wrong PIN (%d tries left)", tries);
	else if (st != HPKI_CARD_OK)
		snprintf(out, cap, "not proved: %s", hpki_card_status_text(st));
	else if (!signature_matches(cert, challenge, sizeof(challenge), sig, sig_len))
		snprintf(out, cap, "%s", "not proved: the signature does not match the certificate");
	else
		snprintf(out, cap, "%s", "proved: PIN signature ok");
}
