/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the card driver's whole read path — hpki_card_attach,
 * hpki_card_enumerate (ATR, application discovery, EF.OD/AOD/PrKD/CD and every
 * certificate, sign-method probe) and the PIN status probe — over the fuzzers'
 * reader, whose ATR and every answer come from the input (format: fuzz-reader.h).
 *
 * Besides the sanitizers, it asserts what the layers above rely on: the card's
 * tables stay within their bounds, and the status probe never carries a PIN.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "card.h"
#include "fuzz-mutate.h"
#include "fuzz-targets.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-card: %s\n", what);
		abort();
	}
}

void hpki_fuzz_card_run(void)
{
	struct hpki_card card = { 0 };
	enum hpki_card_status st;
	size_t i, c;

	st = hpki_card_attach(&card, &hpki_transport_pcsc, NULL, HPKI_FUZZ_READER_NAME);
	if (st == HPKI_CARD_OK)
		st = hpki_card_enumerate(&card);
	(void)hpki_card_status_text(st);
	if (st == HPKI_CARD_OK) {
		check(card.app_count <= HPKI_CARD_MAX_APPS, "app_count beyond HPKI_CARD_MAX_APPS");
		for (i = 0; i < card.app_count; i++) {
			const struct hpki_app *app = &card.apps[i];
			bool verified = false;
			int tries = -1;

			check(app->aid_len <= HPKI_AID_MAX_LEN, "AID length");
			check(app->cert_count <= HPKI_APP_MAX_CERTS, "cert_count beyond HPKI_APP_MAX_CERTS");
			for (c = 0; c < app->cert_count; c++)
				check(app->certs[c].der != NULL || app->certs[c].der_len == 0, "certificate without DER");
			/* What C_GetTokenInfo does for the PIN flags: an empty VERIFY only. */
			(void)hpki_card_pin_status(&card, i, &verified, &tries);
		}
		check(hpki_fuzz_counters.verify_with_data == 0, "a VERIFY with data while only reading the card");
	}
	hpki_card_detach(&card);
}

#ifndef HPKI_FUZZ_RECORDER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* Half whole answers, half libFuzzer's byte mutations (fuzz-mutate.c). */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	return hpki_fuzz_mutate_replay(data, size, max_size, seed, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hpki_fuzz_reader_replay(data, size);
	hpki_fuzz_card_run();
	return 0;
}
#endif
