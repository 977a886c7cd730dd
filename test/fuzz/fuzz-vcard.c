/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtual card behind the fuzzers' reader (fuzz-vcard.h). */
#include "config.h"

#include "fuzz-vcard.h"

#include "card-internal.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * The profiles the seeds are recorded from and the API fuzzer chooses among: every
 * profile, each response mode, short-APDU cards, one-application cards, the
 * RSA-4096 holder (chaining of 512-byte PSO data) and a card that is not HPKI.
 */
const struct hpki_fuzz_variant hpki_fuzz_variants[] = {
	{ "jma", VCARD_PROFILE_JMA, VCARD_APPS_BOTH, "doctor", true, VCARD_RESPONSE_DIRECT },
	{ "jahis", VCARD_PROFILE_JAHIS, VCARD_APPS_BOTH, "doctor", true, VCARD_RESPONSE_DIRECT },
	{ "jma-2019", VCARD_PROFILE_JMA_2019, VCARD_APPS_BOTH, "doctor", false, VCARD_RESPONSE_DIRECT },
	{ "jma-short-getresponse", VCARD_PROFILE_JMA, VCARD_APPS_BOTH, "doctor", false,
	  VCARD_RESPONSE_GET_RESPONSE },
	{ "jahis-wrongle", VCARD_PROFILE_JAHIS, VCARD_APPS_BOTH, "pharmacist", true, VCARD_RESPONSE_WRONG_LE },
	{ "jma-rsa4096", VCARD_PROFILE_JMA, VCARD_APPS_BOTH, "rsa4096", true, VCARD_RESPONSE_DIRECT },
	{ "jahis-short-rsa4096", VCARD_PROFILE_JAHIS, VCARD_APPS_BOTH, "rsa4096", false, VCARD_RESPONSE_DIRECT },
	{ "jma-sign-only", VCARD_PROFILE_JMA, VCARD_APPS_SIGNATURE_ONLY, "nohcrole", true, VCARD_RESPONSE_DIRECT },
	{ "jahis-auth-only", VCARD_PROFILE_JAHIS, VCARD_APPS_AUTHENTICATION_ONLY, "expired", true,
	  VCARD_RESPONSE_GET_RESPONSE },
	{ "blank", VCARD_PROFILE_BLANK, VCARD_APPS_BOTH, "doctor", true, VCARD_RESPONSE_DIRECT },
};
const size_t hpki_fuzz_variant_count = sizeof hpki_fuzz_variants / sizeof hpki_fuzz_variants[0];

struct vcard *hpki_fuzz_vcard_new(const struct hpki_fuzz_variant *variant)
{
	const char *dir = getenv("HPKI_VCARD_DATA_DIR");
	struct vcard_config config = {
		.profile = variant->profile,
		.apps = variant->apps,
		.holder = variant->holder,
		.data_dir = dir != NULL && *dir != '\0' ? dir : HPKI_FUZZ_PKI_DIR,
		.state_dir = NULL, /* counters in memory: every run starts from a fresh card */
		.extended_length = variant->extended_length,
		.command_chaining = true,
		.response_mode = variant->response_mode,
	};
	const char *error = NULL;
	struct vcard *card = vcard_new(&config, &error);

	if (card == NULL) {
		fprintf(stderr, "fuzz: virtual card '%s': %s\n", variant->name, error);
		return NULL;
	}
	vcard_power_on(card);
	return card;
}

struct vcard *hpki_fuzz_vcard_fresh(size_t variant)
{
	static struct vcard *cards[sizeof hpki_fuzz_variants / sizeof hpki_fuzz_variants[0]];
	static const struct vcard_fault no_fault = { .kind = VCARD_FAULT_NONE };
	struct vcard *card;
	size_t a;

	if (variant >= hpki_fuzz_variant_count)
		return NULL;
	if (cards[variant] == NULL)
		cards[variant] = hpki_fuzz_vcard_new(&hpki_fuzz_variants[variant]);
	card = cards[variant];
	if (card == NULL)
		return NULL;
	/* What the previous input may have changed: tries (memory only, no state_dir),
	 * a pending one-shot fault, the volatile state, the counters. */
	for (a = 0; a < card->app_count; a++)
		(void)vcard_pin_set_tries(&card->apps[a].pin, HPKI_PIN_MAX_TRIES);
	vcard_set_fault(card, &no_fault);
	vcard_reset(card);
	vcard_reset_stats(card);
	return card;
}

static size_t process(void *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp)
{
	return vcard_process_apdu(card, cmd, cmd_len, resp);
}

static size_t atr(void *card, uint8_t *out, size_t max)
{
	return vcard_atr(card, out, max);
}

static void reset(void *card)
{
	vcard_reset(card);
}

struct hpki_fuzz_card hpki_fuzz_vcard_reader(struct vcard *card)
{
	struct hpki_fuzz_card c = { .card = card, .process = process, .atr = atr, .reset = reset };

	return c;
}
