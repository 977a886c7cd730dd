/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: PIN status (empty VERIFY) and PIN verification (G31 C.3).
 */
#include "config.h"

#include "card-private.h"
#include "log.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* PIN                                                                       */

struct pin_op {
	size_t app;
	const uint8_t *pin;
	size_t pin_len;
	bool verified;
	int tries_left;
};


/* What a VERIFY taught about the application's counter, kept for this card's stay
 * record (card-stay.c): later processes show it without asking the card. */
static void note_pin_outcome(struct hpki_card *card, size_t app, enum hpki_card_status st, bool verified, int tries)
{
	struct hpki_app *a = &card->apps[app];

	if (st != HPKI_CARD_OK && st != HPKI_CARD_PIN_INCORRECT && st != HPKI_CARD_PIN_LOCKED)
		return;
	a->pin_status_read = true;
	a->pin_locked = st == HPKI_CARD_PIN_LOCKED;
	a->pin_tries_left = a->pin_locked ? 0 : verified ? -1 : tries;
	hpki_card_stay_update(card);
}

/* VERIFY: 00 20 00 <pwdReference> [Lc PIN] (G31 C.3). */
static enum hpki_card_status verify(struct hpki_card *card, const struct hpki_app *app, const uint8_t *pin,
				    size_t pin_len, uint16_t *sw)
{
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_VERIFY, .p1 = 0x00, .p2 = (uint8_t)app->pin.pwd_reference,
		.data = pin, .data_len = pin_len, .sensitive = pin_len > 0,
		.name = pin_len > 0 ? "VERIFY" : "VERIFY (status)",
	};

	return hpki_card_exchange(card, &apdu, NULL, 0, NULL, sw);
}

/* Empty VERIFY on the selected application: *verified on 9000, *tries_left from 63Cx. */
static enum hpki_card_status empty_verify(struct hpki_card *card, const struct hpki_app *app, bool *verified,
					  int *tries_left)
{
	uint16_t sw;
	enum hpki_card_status st = verify(card, app, NULL, 0, &sw);

	if (st != HPKI_CARD_OK)
		return st;
	*verified = sw == HPKI_SW_OK;
	st = hpki_sw_to_status("VERIFY (status)", sw);
	if ((sw & 0xFFF0) == HPKI_SW_PIN_TRIES_LEFT)
		*tries_left = sw & 0x0F;
	if (st == HPKI_CARD_PIN_LOCKED)
		*tries_left = 0;
	if (st == HPKI_CARD_PIN_INCORRECT)
		return HPKI_CARD_OK; /* 63Cx here is a counter, not a failed try (G31 C.3.4) */
	/* Cards that keep the counter to themselves answer 6982/6985 or refuse the
	 * empty VERIFY: not verified, tries unknown. */
	if (st == HPKI_CARD_NOT_AUTHENTICATED || st == HPKI_CARD_UNSUPPORTED || st == HPKI_CARD_DATA_INVALID ||
	    sw == HPKI_SW_CONDITIONS_NOT_SATISFIED)
		return HPKI_CARD_OK;
	return st;
}

static enum hpki_card_status pin_status_op(struct hpki_card *card, void *arg)
{
	struct pin_op *op = arg;
	enum hpki_card_status st = hpki_card_select_app(card, &card->apps[op->app]);

	if (st != HPKI_CARD_OK)
		return st;
	return empty_verify(card, &card->apps[op->app], &op->verified, &op->tries_left);
}

enum hpki_card_status hpki_card_read_pin_counter(struct hpki_card *card, struct hpki_app *app)
{
	bool verified = false;
	int tries = -1;
	enum hpki_card_status st = empty_verify(card, app, &verified, &tries);

	app->pin_status_read = st == HPKI_CARD_OK || st == HPKI_CARD_PIN_LOCKED;
	app->pin_locked = st == HPKI_CARD_PIN_LOCKED;
	app->pin_tries_left = verified ? -1 : tries;
	if (st == HPKI_CARD_IO_ERROR || st == HPKI_CARD_REMOVED || st == HPKI_CARD_BUSY || st == HPKI_CARD_OVER_BUDGET ||
	    st == HPKI_CARD_CANCELLED || st == HPKI_CARD_NO_MEMORY)
		return st;
	return HPKI_CARD_OK; /* an odd answer leaves the counter unknown, the card readable */
}

enum hpki_card_status hpki_card_pin_status(struct hpki_card *card, size_t app, bool *verified, int *tries_left)
{
	struct pin_op op = { .app = app, .tries_left = -1 };
	enum hpki_card_status st;

	if (!hpki_card_app_index_valid(card, app))
		return HPKI_CARD_DATA_INVALID;
	st = hpki_card_run_in_transaction(card, pin_status_op, &op, true);
	*verified = st == HPKI_CARD_OK && op.verified;
	*tries_left = op.tries_left;
	note_pin_outcome(card, app, st, *verified, op.tries_left);
	return st;
}

static enum hpki_card_status verify_pin_op(struct hpki_card *card, void *arg)
{
	struct pin_op *op = arg;
	uint16_t sw;
	enum hpki_card_status st = hpki_card_select_app(card, &card->apps[op->app]);

	if (st != HPKI_CARD_OK)
		return st; /* nothing sent: no try used */
	st = verify(card, &card->apps[op->app], op->pin, op->pin_len, &sw);
	if (st != HPKI_CARD_OK) {
		hpki_error("VERIFY failed in transport (%s); not repeated", hpki_card_status_text(st));
		return st;
	}
	st = hpki_sw_to_status("VERIFY", sw);
	if ((sw & 0xFFF0) == HPKI_SW_PIN_TRIES_LEFT)
		op->tries_left = sw & 0x0F;
	if (st == HPKI_CARD_PIN_LOCKED)
		op->tries_left = 0;
	return st;
}

static enum hpki_card_status verify_pin(struct hpki_card *card, size_t app, const uint8_t *pin, size_t pin_len,
				       int *tries_left, bool hold)
{
	struct pin_op op = { .app = app, .pin = pin, .pin_len = pin_len, .tries_left = -1 };
	enum hpki_card_status st;

	if (!hpki_card_app_index_valid(card, app))
		return HPKI_CARD_DATA_INVALID;
	if (pin == NULL || pin_len == 0 || pin_len > HPKI_APDU_SHORT_MAX_NC)
		return HPKI_CARD_DATA_INVALID;
	st = hold ? hpki_card_run_and_hold(card, verify_pin_op, &op)
		  : hpki_card_run_in_transaction(card, verify_pin_op, &op, false);
	*tries_left = op.tries_left;
	note_pin_outcome(card, app, st, st == HPKI_CARD_OK, op.tries_left);
	return st;
}

enum hpki_card_status hpki_card_verify_pin(struct hpki_card *card, size_t app, const uint8_t *pin, size_t pin_len,
					   int *tries_left)
{
	return verify_pin(card, app, pin, pin_len, tries_left, false);
}

enum hpki_card_status hpki_card_verify_pin_held(struct hpki_card *card, size_t app, const uint8_t *pin,
						size_t pin_len, int *tries_left)
{
	return verify_pin(card, app, pin, pin_len, tries_left, true);
}
