/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: selecting applications and EFs (G31 C.2), and discovering the
 * HPKI applications by partial AID.
 */
#include "config.h"

#include "card-private.h"
#include "log.h"

#include <string.h>

/* Partial-AID discovery ends after this many SELECT NEXT even if the card goes on. */
#define DISCOVERY_MAX_ROUNDS (HPKI_CARD_MAX_APPS + 4)

static const uint8_t hpki_rid[HPKI_RID_LEN] = { HPKI_RID };


/* ------------------------------------------------------------------------ */
/* BER-TLV walking (FCI), bounds-checked                                     */

/* Next TLV in [*p, end); tags of 1–3 bytes, definite lengths of ≤ 3 bytes. */
static bool tlv_next(const uint8_t **p, const uint8_t *end, unsigned *tag, const uint8_t **value, size_t *len)
{
	const uint8_t *q = *p;
	size_t n;

	if (q >= end)
		return false;
	*tag = *q++;
	if ((*tag & 0x1F) == 0x1F) {
		do {
			if (q >= end || *tag > 0xFFFF)
				return false;
			*tag = (*tag << 8) | *q;
		} while (*q++ & 0x80);
	}
	if (q >= end)
		return false;
	n = *q++;
	if (n & 0x80) {
		size_t bytes = n & 0x7F;

		if (bytes == 0 || bytes > 3 || bytes > (size_t)(end - q))
			return false;
		for (n = 0; bytes > 0; bytes--)
			n = (n << 8) | *q++;
	}
	if (n > (size_t)(end - q))
		return false;
	*value = q;
	*len = n;
	*p = q + n;
	return true;
}


/* Status words with which a card may refuse the FCI of a DF selection. */
static bool refuses_fci(uint16_t sw)
{
	return sw == HPKI_SW_WRONG_P1P2_DATA || sw == HPKI_SW_WRONG_P1P2 || sw == HPKI_SW_FUNC_NOT_SUPPORTED;
}

static enum hpki_card_status fci_aid(const uint8_t *fci, size_t len, uint8_t *aid, size_t *aid_len);

/* The FCI of a full-AID selection must name the AID asked for, when it names one. */
static enum hpki_card_status check_fci(const uint8_t *fci, size_t fci_len, const uint8_t *aid, size_t aid_len)
{
	uint8_t named[HPKI_AID_MAX_LEN];
	size_t named_len;
	enum hpki_card_status st = fci_aid(fci, fci_len, named, &named_len);

	if (st != HPKI_CARD_OK || named_len == 0)
		return st;
	if (named_len != aid_len || memcmp(named, aid, aid_len) != 0) {
		hpki_error("SELECT AID: the FCI names another application (%zu bytes)", named_len);
		return HPKI_CARD_BAD_RESPONSE;
	}
	return HPKI_CARD_OK;
}

/*
 * SELECT DF by full AID asking for the FCI: 00 A4 04 00 Lc AID 00. This is the form
 * every tool that worked on a real HPKI card sends (card-fidelity §1.4); G31 C.2.2
 * defines "no FCI" (P2=0C) only for EF selection. A card that refuses the FCI is
 * asked once more without it, and from then on only so.
 */
enum hpki_card_status hpki_card_select_aid(struct hpki_card *card, const uint8_t *aid, size_t aid_len, uint16_t *sw)
{
	uint8_t fci[HPKI_CARD_SHORT_CHUNK];
	size_t fci_len = 0;
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT,
		.p1 = HPKI_SELECT_P1_DF_NAME, .p2 = HPKI_SELECT_P2_FIRST_FCI,
		.data = aid, .data_len = aid_len, .ne = HPKI_CARD_SHORT_CHUNK, .name = "SELECT AID",
	};
	enum hpki_card_status st;

	card->selected_app = 0; /* whatever answers, the previous application is no longer known current */
	card->mse_set_for = 0;  /* a SELECT of a DF resets its security environment (ISO 7816-4 §5.4) */
	if (!card->select_without_fci) {
		st = hpki_card_exchange(card, &apdu, fci, sizeof(fci), &fci_len, sw);
		if (st != HPKI_CARD_OK || !refuses_fci(*sw))
			return st == HPKI_CARD_OK && *sw == HPKI_SW_OK ? check_fci(fci, fci_len, aid, aid_len) : st;
		hpki_info("card refuses SELECT AID with the FCI (SW %04X); selecting without it from now on", *sw);
		card->select_without_fci = true;
	}
	apdu.p2 = HPKI_SELECT_P2_NO_DATA;
	apdu.ne = 0;
	return hpki_card_exchange(card, &apdu, NULL, 0, NULL, sw);
}

/* The application is known to be current when this transaction selected it and no
 * reset came in between: selecting it again costs an APDU and, on some cards, the
 * verified PIN (card-fidelity §3 (6)). */
static bool app_is_current(const struct hpki_card *card, size_t index, bool same_transaction)
{
	return card->selected_app == index + 1 && card->selected_reset_count == card->link.reset_count &&
	       (!same_transaction || card->selected_transaction == card->transaction_count);
}

static enum hpki_card_status select_app(struct hpki_card *card, const struct hpki_app *app, bool same_transaction)
{
	size_t index = (size_t)(app - card->apps);
	uint16_t sw;
	enum hpki_card_status st;

	if (app_is_current(card, index, same_transaction))
		return HPKI_CARD_OK;
	st = hpki_card_select_aid(card, app->aid, app->aid_len, &sw);
	if (st == HPKI_CARD_OK)
		st = hpki_sw_to_status("SELECT AID", sw);
	if (st == HPKI_CARD_OK)
		hpki_card_note_selected(card, index);
	return st;
}

enum hpki_card_status hpki_card_select_app(struct hpki_card *card, const struct hpki_app *app)
{
	return select_app(card, app, true);
}

enum hpki_card_status hpki_card_select_app_again_if_needed(struct hpki_card *card, const struct hpki_app *app)
{
	return select_app(card, app, false);
}

void hpki_card_note_selected(struct hpki_card *card, size_t index)
{
	card->selected_app = index + 1;
	card->selected_transaction = card->transaction_count;
	card->selected_reset_count = card->link.reset_count;
}

/* SELECT EF by FID under the current DF, no FCI: 00 A4 02 0C 02 hi lo (G31 C.2.2, facts §1.2). */
enum hpki_card_status hpki_card_select_ef(struct hpki_card *card, uint16_t fid, uint16_t *sw)
{
	uint8_t data[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT,
		.p1 = HPKI_SELECT_P1_EF_UNDER_DF, .p2 = HPKI_SELECT_P2_NO_DATA,
		.data = data, .data_len = sizeof(data), .name = "SELECT EF",
	};

	return hpki_card_exchange(card, &apdu, NULL, 0, NULL, sw);
}


/* ------------------------------------------------------------------------ */
/* Application discovery                                                     */

static bool has_hpki_rid(const uint8_t *aid, size_t len)
{
	return len >= HPKI_RID_LEN && len <= HPKI_AID_MAX_LEN && memcmp(aid, hpki_rid, HPKI_RID_LEN) == 0;
}

/* AID from an FCI `6F L 84 L <AID> …` (G31 C.2); *aid_len = 0 when the card sent no
 * FCI or no tag 84; a malformed FCI is a bad response. */
static enum hpki_card_status fci_aid(const uint8_t *fci, size_t len, uint8_t *aid, size_t *aid_len)
{
	const uint8_t *p = fci, *value, *inner;
	unsigned tag;
	size_t vlen;

	*aid_len = 0;
	if (len == 0)
		return HPKI_CARD_OK;
	if (!tlv_next(&p, fci + len, &tag, &value, &vlen) || (tag != 0x6F && tag != 0x62 && tag != 0x64)) {
		hpki_error("malformed FCI (%zu bytes)", len);
		return HPKI_CARD_BAD_RESPONSE;
	}
	for (inner = value; inner < value + vlen;) {
		const uint8_t *v;
		size_t n;

		if (!tlv_next(&inner, value + vlen, &tag, &v, &n)) {
			hpki_error("malformed FCI content");
			return HPKI_CARD_BAD_RESPONSE;
		}
		if (tag == 0x84) {
			if (n == 0 || n > HPKI_AID_MAX_LEN) {
				hpki_error("FCI DF name of %zu bytes", n);
				return HPKI_CARD_BAD_RESPONSE;
			}
			memcpy(aid, v, n);
			*aid_len = n;
			return HPKI_CARD_OK;
		}
	}
	return HPKI_CARD_OK;
}

static bool app_known(const struct hpki_card *card, const uint8_t *aid, size_t len)
{
	for (size_t i = 0; i < card->app_count; i++)
		if (card->apps[i].aid_len == len && memcmp(card->apps[i].aid, aid, len) == 0)
			return true;
	return false;
}

void hpki_card_add_app(struct hpki_card *card, const uint8_t *aid, size_t len)
{
	struct hpki_app *app;

	if (card->app_count >= HPKI_CARD_MAX_APPS) {
		hpki_error("more than %d HPKI applications; ignoring the rest", HPKI_CARD_MAX_APPS);
		return;
	}
	app = &card->apps[card->app_count++];
	memcpy(app->aid, aid, len);
	app->aid_len = len;
}

/*
 * Partial DF-name selection by the RID, first then next occurrence, until the card
 * answers other than 9000 (G31 C.2.1–C.2.2, A.2.2). *supported is false when the
 * card does not do partial selection (or sends no FCI to learn the AID from).
 */
enum hpki_card_status hpki_card_discover_by_partial_aid(struct hpki_card *card, bool *supported)
{
	uint8_t fci[HPKI_CARD_SHORT_CHUNK];
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT, .p1 = HPKI_SELECT_P1_DF_NAME,
		.p2 = HPKI_SELECT_P2_FIRST_FCI, .data = hpki_rid, .data_len = HPKI_RID_LEN,
		.ne = HPKI_CARD_SHORT_CHUNK, .name = "SELECT partial AID",
	};

	*supported = false;
	card->selected_app = 0;
	for (int round = 0; round < DISCOVERY_MAX_ROUNDS; round++) {
		uint8_t aid[HPKI_AID_MAX_LEN];
		size_t fci_len, aid_len;
		uint16_t sw;
		enum hpki_card_status st = hpki_card_exchange(card, &apdu, fci, sizeof(fci), &fci_len, &sw);

		if (st != HPKI_CARD_OK)
			return st;
		if (sw != HPKI_SW_OK) {
			if (round == 0)
				hpki_info("partial AID selection answered %04X: trying the known AIDs", sw);
			return HPKI_CARD_OK;
		}
		st = fci_aid(fci, fci_len, aid, &aid_len);
		if (st != HPKI_CARD_OK)
			return st;
		if (aid_len == 0) {
			hpki_info("partial AID selection gives no DF name: trying the known AIDs");
			card->app_count = 0;
			*supported = false;
			return HPKI_CARD_OK;
		}
		*supported = true;
		if (!has_hpki_rid(aid, aid_len))
			hpki_info("ignoring a non-HPKI application found by partial selection");
		else if (app_known(card, aid, aid_len)) {
			hpki_info("partial selection repeats an application: discovery done");
			return HPKI_CARD_OK;
		} else {
			hpki_card_add_app(card, aid, aid_len);
			hpki_card_note_selected(card, card->app_count - 1);
		}
		apdu.p2 = HPKI_SELECT_P2_NEXT_FCI;
	}
	hpki_error("partial AID selection does not end after %d rounds", DISCOVERY_MAX_ROUNDS);
	return HPKI_CARD_OK;
}
