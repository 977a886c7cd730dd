/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: attach and detach, transactions, and the enumeration of the
 * card's applications. References: "G31" = JAHIS HPKI対応ICカードガイドライン Ver.3.1,
 * "facts §n" = docs/hpki-card-facts.md of the project.
 */
#include "config.h"

#include "card-private.h"
#include "log.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t aid_signature[HPKI_AID_LEN] = { HPKI_AID_SIGNATURE };
static const uint8_t aid_authentication[HPKI_AID_LEN] = { HPKI_AID_AUTHENTICATION };


/* ------------------------------------------------------------------------ */
/* Commands                                                                  */

enum hpki_card_status hpki_card_exchange(struct hpki_card *card, const struct hpki_apdu *apdu, uint8_t *resp,
				      size_t cap, size_t *len, uint16_t *sw)
{
	size_t ignored_len;
	uint8_t ignored[1];

	if (resp == NULL) {
		resp = ignored;
		cap = 0;
		len = &ignored_len;
	}
	return hpki_apdu_exchange(&card->link, apdu, resp, cap, len, sw);
}


/* ------------------------------------------------------------------------ */
/* Enumeration                                                               */

void hpki_card_free_apps(struct hpki_card *card)
{
	for (size_t a = 0; a < HPKI_CARD_MAX_APPS; a++) {
		for (size_t c = 0; c < HPKI_APP_MAX_CERTS; c++)
			free(card->apps[a].certs[c].der);
		EVP_PKEY_free(card->apps[a].public_key);
	}
	memset(card->apps, 0, sizeof(card->apps));
	card->app_count = 0;
}

/*
 * The AIDs every known card uses (JMA and the G31 example) are selected directly;
 * each answer that is 9000 leaves the application selected, so it is read at once.
 */
static enum hpki_card_status enumerate_known_aids(struct hpki_card *card)
{
	static const uint8_t *const known[] = { aid_signature, aid_authentication };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint16_t sw;
		enum hpki_card_status st;

		if (!hpki_card_aid_wanted(card, known[i], HPKI_AID_LEN))
			continue; /* its token is hidden: no SELECT, nothing read */
		st = hpki_card_select_aid(card, known[i], HPKI_AID_LEN, &sw);
		if (st != HPKI_CARD_OK)
			return st;
		if (sw != HPKI_SW_OK)
			continue;
		hpki_card_add_app(card, known[i], HPKI_AID_LEN);
		hpki_card_note_selected(card, card->app_count - 1);
		st = hpki_card_read_app(card, &card->apps[card->app_count - 1]);
		if (st != HPKI_CARD_OK)
			return st;
	}
	return HPKI_CARD_OK;
}

/* Discovery finds every application; those whose AID names a hidden role are
 * dropped before anything is read from them. */
static void drop_unwanted_apps(struct hpki_card *card)
{
	size_t kept = 0;

	for (size_t i = 0; i < card->app_count; i++) {
		if (!hpki_card_aid_wanted(card, card->apps[i].aid, card->apps[i].aid_len))
			continue;
		if (kept != i)
			card->apps[kept] = card->apps[i];
		kept++;
	}
	if (kept != card->app_count)
		card->selected_app = 0; /* indices moved; select before reading */
	for (size_t i = kept; i < card->app_count; i++)
		memset(&card->apps[i], 0, sizeof(card->apps[i]));
	card->app_count = kept;
}

/* A card whose applications have other AIDs (G31 A.2.2: partial selection by the
 * HPKI RID finds them all). Only asked when no known AID answers. */
static enum hpki_card_status enumerate_discovered(struct hpki_card *card)
{
	bool partial;
	enum hpki_card_status st = hpki_card_discover_by_partial_aid(card, &partial);

	if (st == HPKI_CARD_OK && partial)
		drop_unwanted_apps(card);
	for (size_t i = 0; st == HPKI_CARD_OK && partial && i < card->app_count; i++) {
		st = hpki_card_select_app(card, &card->apps[i]);
		if (st == HPKI_CARD_OK)
			st = hpki_card_read_app(card, &card->apps[i]);
	}
	return st;
}

static enum hpki_card_status enumerate_in_transaction(struct hpki_card *card)
{
	enum hpki_card_status st;

	hpki_card_free_apps(card);
	card->from_cache = false;
	if (card->cache_dir != NULL) {
		/* A cached card proves itself by its certificates (doc/card-cache.md). */
		st = hpki_card_cache_confirm(card, &card->from_cache);
		if (st != HPKI_CARD_OK || card->from_cache)
			return st;
	}
	st = enumerate_known_aids(card);
	if (st != HPKI_CARD_OK || card->app_count > 0)
		return st;
	hpki_info("no known HPKI AID answers: looking for applications by the HPKI RID");
	return enumerate_discovered(card);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */

/*
 * Budgets (issue 8 §3; pkcs11-spec/README.md "Card budgets"). The largest real
 * layout we know (facts §2, §9): two applications, each with EF.OD, AOD, PrKD, CD,
 * an end-entity certificate and up to three CA certificates of 1.4–2.1 KB (RSA-4096),
 * read with short APDUs only: about 60 APDUs per application, 125 for the card; a
 * card that answers 6Cxx to every read doubles it (250), four applications
 * (HPKI_CARD_MAX_APPS) double it again (500). 1000 APDUs is twice that. Time: a
 * contactless reader takes 30–100 ms per APDU (facts §5), so 250 APDUs take up to
 * 25 s; 30 s. Every other operation (PIN status, VERIFY, signature) is at most a
 * SELECT, a key SELECT, MSE, a chained PSO in three parts and two GET RESPONSEs,
 * each possibly repeated after 6Cxx: 16; 32 with margin. An RSA-4096 signature takes
 * up to ~5 s on slow cards; 20 s.
 */
const struct hpki_apdu_budget hpki_card_budget_enumeration = { .apdus = 1000, .seconds = 30.0 };
const struct hpki_apdu_budget hpki_card_budget_operation = { .apdus = 32, .seconds = 20.0 };

/*
 * begin → op → end. When another process resets the card in the middle, the op is
 * run once more from the start (it re-selects its application) if it is safe to
 * repeat; VERIFY never is (issue 4: a PIN is sent once).
 */
static enum hpki_card_status run_with_budget(struct hpki_card *card, hpki_card_op op, void *arg, bool repeatable,
					     const struct hpki_apdu_budget *budget)
{
	enum hpki_card_status st = HPKI_CARD_IO_ERROR;

	if (card->holding) {
		/* Inside the transaction a verification left open: nobody else can have
		 * touched the card, so the op runs once and the hold ends with it. */
		st = op(card, arg);
		hpki_card_release_hold(card, false);
		return st;
	}

	for (int attempt = 0; attempt < 2; attempt++) {
		unsigned long resets;

		hpki_apdu_set_budget(&card->link, budget);
		st = hpki_apdu_begin(&card->link);
		if (st != HPKI_CARD_OK)
			return st;
		card->transaction_count++;
		resets = card->link.reset_count;
		st = op(card, arg);
		hpki_apdu_end(&card->link);
		if (card->link.reset_count == resets || !repeatable)
			break;
		hpki_info("card reset during the operation; running it again");
	}
	return st;
}

enum hpki_card_status hpki_card_run_in_transaction(struct hpki_card *card, hpki_card_op op, void *arg, bool repeatable)
{
	enum hpki_card_status st;

	if (card->holding) {
		/* Inside the transaction a verification left open: nobody else can have
		 * touched the card, so the op runs once and the hold ends with it. */
		hpki_apdu_set_budget(&card->link, &hpki_card_budget_operation);
		st = op(card, arg);
		hpki_card_release_hold(card, false);
		return st;
	}
	return run_with_budget(card, op, arg, repeatable, &hpki_card_budget_operation);
}

enum hpki_card_status hpki_card_run_and_hold(struct hpki_card *card, hpki_card_op op, void *arg)
{
	enum hpki_card_status st;

	if (card->holding)
		hpki_card_release_hold(card, false);
	hpki_apdu_set_budget(&card->link, &hpki_card_budget_operation);
	st = hpki_apdu_begin(&card->link);
	if (st != HPKI_CARD_OK)
		return st;
	card->transaction_count++;
	st = op(card, arg);
	if (st == HPKI_CARD_OK)
		card->holding = true;
	else
		hpki_apdu_end(&card->link);
	return st;
}

void hpki_card_release_hold(struct hpki_card *card, bool reset)
{
	if (!card->holding)
		return;
	card->holding = false;
	if (reset)
		(void)hpki_card_reset(card);
	hpki_apdu_end(&card->link);
}

enum hpki_card_status hpki_card_probe_reset(struct hpki_card *card)
{
	enum hpki_card_status st;

	if (card->holding)
		return HPKI_CARD_OK;
	st = hpki_apdu_begin(&card->link);
	if (st == HPKI_CARD_OK)
		hpki_apdu_end(&card->link);
	return st;
}

enum hpki_card_status hpki_card_reset(struct hpki_card *card)
{
	enum hpki_io_status io;

	if (card->link.ops == NULL || card->link.conn == NULL)
		return HPKI_CARD_REMOVED;
	if (card->link.ops->reset_card == NULL)
		return HPKI_CARD_UNSUPPORTED;
	io = card->link.ops->reset_card(card->link.conn);
	hpki_info("reset the card in '%s' to end its logins: %s", card->link.reader, hpki_io_status_text(io));
	return hpki_io_to_status(io);
}

static enum hpki_card_status enumerate_op(struct hpki_card *card, void *arg)
{
	(void)arg;
	return enumerate_in_transaction(card);
}

enum hpki_card_status hpki_card_enumerate_roles(struct hpki_card *card, unsigned roles)
{
	card->roles_wanted = roles;
	return hpki_card_enumerate(card);
}

enum hpki_card_status hpki_card_enumerate(struct hpki_card *card)
{
	unsigned long before = card->link.apdu_count;
	uint8_t mark[HPKI_STAY_MARK_LEN];
	bool marked = card->cache_dir != NULL && hpki_card_stay_mark(card, mark);
	enum hpki_card_status st;

	if (marked && hpki_card_stay_start(card, mark))
		return HPKI_CARD_OK; /* logged there; nothing was sent */
	st = run_with_budget(card, enumerate_op, NULL, true, &hpki_card_budget_enumeration);
	if (st == HPKI_CARD_OK && card->app_count == 0)
		st = HPKI_CARD_NOT_HPKI;
	if (st != HPKI_CARD_OK)
		hpki_card_free_apps(card);
	else if (!card->from_cache)
		hpki_card_cache_store(card);
	if (st == HPKI_CARD_OK)
		hpki_card_stay_proven(card, mark, marked);
	hpki_info("enumeration of '%s': %s, %zu application(s), %lu APDUs", card->link.reader, hpki_card_status_text(st),
		  card->app_count, card->link.apdu_count - before);
	return st;
}

/* One application only (hpki-tool's attendance reads the authentication
 * certificate alone): the role mask of hpki_card_enumerate_roles. */
enum hpki_card_status hpki_card_enumerate_role(struct hpki_card *card, enum hpki_app_role role)
{
	if (role != HPKI_ROLE_SIGNATURE && role != HPKI_ROLE_AUTHENTICATION)
		return HPKI_CARD_DATA_INVALID;
	return hpki_card_enumerate_roles(card, HPKI_ROLE_BIT(role));
}

/* ------------------------------------------------------------------------ */
/* Attach / detach                                                           */

enum hpki_card_status hpki_card_attach(struct hpki_card *card, const struct hpki_transport_ops *ops,
				       void *context, const char *reader)
{
	enum hpki_io_status io;

	memset(card, 0, sizeof(*card));
	if (strlen(reader) >= sizeof(card->link.reader))
		return HPKI_CARD_REMOVED;
	card->link.ops = ops;
	card->link.context = context;
	hpki_apdu_set_budget(&card->link, &hpki_card_budget_operation);
	strcpy(card->link.reader, reader);
	card->atr_len = sizeof(card->atr);
	io = ops->connect(context, reader, &card->link.conn, card->atr, &card->atr_len);
	if (io != HPKI_IO_OK) {
		card->link.conn = NULL;
		card->atr_len = 0;
		return hpki_io_to_status(io);
	}
	if (card->atr_len > sizeof(card->atr))
		card->atr_len = sizeof(card->atr);
	/* Until told otherwise: short APDUs, and chaining for long data, which G31 A.3.3
	 * prescribes for cards without extended length. */
	card->link.command_chaining = true;
	hpki_card_atr_capabilities(card);
	return HPKI_CARD_OK;
}

void hpki_card_detach(struct hpki_card *card)
{
	/* A verification held for a signature must not outlive us on the card. */
	hpki_card_release_hold(card, true);
	if (card->link.ops != NULL && card->link.conn != NULL)
		card->link.ops->disconnect(card->link.conn);
	card->link.conn = NULL;
	hpki_card_free_apps(card);
}
bool hpki_card_app_index_valid(const struct hpki_card *card, size_t app)
{
	if (app < card->app_count)
		return true;
	hpki_error("no application %zu (card has %zu)", app, card->app_count);
	return false;
}


const char *hpki_card_status_text(enum hpki_card_status status)
{
	switch (status) {
	case HPKI_CARD_OK:
		return "ok";
	case HPKI_CARD_REMOVED:
		return "card removed";
	case HPKI_CARD_NOT_HPKI:
		return "not an HPKI card";
	case HPKI_CARD_PIN_INCORRECT:
		return "PIN incorrect";
	case HPKI_CARD_PIN_LOCKED:
		return "PIN locked";
	case HPKI_CARD_NOT_AUTHENTICATED:
		return "security status not satisfied";
	case HPKI_CARD_BAD_RESPONSE:
		return "bad response from the card";
	case HPKI_CARD_UNSUPPORTED:
		return "not supported by the card";
	case HPKI_CARD_DATA_INVALID:
		return "input invalid";
	case HPKI_CARD_IO_ERROR:
		return "reader I/O error";
	case HPKI_CARD_BUSY:
		return "card in exclusive use elsewhere";
	case HPKI_CARD_NO_MEMORY:
		return "out of memory";
	case HPKI_CARD_OVER_BUDGET:
		return "card operation over its budget (looping or too slow card)";
	case HPKI_CARD_CANCELLED:
		return "card I/O cancelled";
	}
	return "unknown card status";
}
