/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared inside the HPKI card driver only (src/card/card-*.c): the steps every
 * public operation of card.h is built from. Nothing outside src/card includes it.
 */
#ifndef HPKI_CARD_PRIVATE_H
#define HPKI_CARD_PRIVATE_H

#include "apdu.h"
#include "card.h"

/* Largest file or response we accept from a card; also bounds every allocation. */
#define HPKI_CARD_FILE_MAX HPKI_APDU_MAX_RESPONSE
#define HPKI_CARD_SHORT_CHUNK 256

/* card.c: one exchange (resp may be NULL when no data is wanted). */
enum hpki_card_status hpki_card_exchange(struct hpki_card *card, const struct hpki_apdu *apdu, uint8_t *resp,
					 size_t cap, size_t *len, uint16_t *sw);

/* card.c: begin → op → end; an op interrupted by another process's card reset is run
 * once more when `repeatable` (never a VERIFY: a PIN is sent once). */
typedef enum hpki_card_status (*hpki_card_op)(struct hpki_card *card, void *arg);
enum hpki_card_status hpki_card_run_in_transaction(struct hpki_card *card, hpki_card_op op, void *arg,
						   bool repeatable);
/* begin → op; on success the transaction stays open (card->holding), else end. */
enum hpki_card_status hpki_card_run_and_hold(struct hpki_card *card, hpki_card_op op, void *arg);
bool hpki_card_app_index_valid(const struct hpki_card *card, size_t app);

/* card-atr.c: extended length and chaining from the ATR's card capabilities. */
void hpki_card_atr_capabilities(struct hpki_card *card);

/* card-select.c */
enum hpki_card_status hpki_card_select_aid(struct hpki_card *card, const uint8_t *aid, size_t aid_len,
					   uint16_t *sw);
/* Selects the application unless this transaction already did (no reset since). */
enum hpki_card_status hpki_card_select_app(struct hpki_card *card, const struct hpki_app *app);
/* The same, trusting a selection made in an earlier transaction: only for commands
 * whose result is checked afterwards (a signature verified with the certificate's
 * key), since another program may have selected something else in between. */
enum hpki_card_status hpki_card_select_app_again_if_needed(struct hpki_card *card, const struct hpki_app *app);
void hpki_card_note_selected(struct hpki_card *card, size_t index);
enum hpki_card_status hpki_card_select_ef(struct hpki_card *card, uint16_t fid, uint16_t *sw);
void hpki_card_add_app(struct hpki_card *card, const uint8_t *aid, size_t len);
/* *supported false when the card does not answer a partial-AID SELECT. */
enum hpki_card_status hpki_card_discover_by_partial_aid(struct hpki_card *card, bool *supported);

/* card-file.c: how a directory or certificate names its EF. */
struct hpki_ef_ref {
	bool by_sfi;
	uint8_t sfi;
	uint16_t fid;
};
bool hpki_ef_ref_from_path(const struct hpki_cio_path *path, struct hpki_ef_ref *ref);
/* Reads an EF up to the end of its DER content (one value when `single`); *found
 * false when the card has no such file. *out is malloc'd. */
enum hpki_card_status hpki_card_read_ef(struct hpki_card *card, const struct hpki_ef_ref *ref, bool single,
					uint8_t **out, size_t *out_len, bool *found);

/* card-directories.c: the role an AID names (…0001 signature, …0002 authentication,
 * G31 A.2.2), HPKI_ROLE_UNKNOWN otherwise. */
enum hpki_app_role hpki_card_role_from_aid(const uint8_t *aid, size_t aid_len);
/* True when the caller shows the application of this AID, or its role is unknown yet. */
bool hpki_card_aid_wanted(const struct hpki_card *card, const uint8_t *aid, size_t aid_len);
/* card-directories.c: the certificate of the application's key (same iD, G31 B.4.6). */
const struct hpki_cert *hpki_card_key_certificate(const struct hpki_app *app);
/* card-cert.c: cert->is_x509 and the slices, from cert->der. */
void hpki_card_parse_cert(struct hpki_cert *cert);
/* card-directories.c: the key's public key from its certificate, and its size. */
void hpki_card_settle_modulus(struct hpki_app *app);
/* card.c: frees every application read or loaded. */
void hpki_card_free_apps(struct hpki_card *card);
/* card-directories.c: everything about one application, which is selected on entry. */
enum hpki_card_status hpki_card_read_app(struct hpki_card *card, struct hpki_app *app);

/* card-pin.c: the PIN counter of the selected application into app->pin_*, by an
 * empty VERIFY (no try used, G31 C.3.4); only I/O errors are returned. */
enum hpki_card_status hpki_card_read_pin_counter(struct hpki_card *card, struct hpki_app *app);

/* card-cache.c (doc/card-cache.md). */
/* Inside the enumeration's transaction: when a cache entry names this card, confirms
 * it on the card and installs it (*hit true). Anything unproven: *hit false and the
 * card is read in full. Only card I/O errors are returned. */
enum hpki_card_status hpki_card_cache_confirm(struct hpki_card *card, bool *hit);

/* After a full read: stores what was read (atomically; failures only logged) and
 * names the entry in card->cache_entry. */
void hpki_card_cache_store(struct hpki_card *card);
/* Installs entry `name` with no APDU when its content digest is `digest` (the entry
 * proven on this stay of the card, card-stay.c); false when it is not. */
bool hpki_card_cache_install_proven(struct hpki_card *card, const char *name, const uint8_t digest[32]);

/* card-stay.c: warm start (doc/card-cache.md "Warm start"). Before an enumeration,
 * with the stay mark now: true when a process of this user proved a cache entry on
 * this very stay of the card in the reader, and the entry is now installed (no APDU
 * sent). */
bool hpki_card_stay_start(struct hpki_card *card, const uint8_t now[HPKI_STAY_MARK_LEN]);
/* After a successful enumeration that read or confirmed the card: records the proof
 * for later processes, when the stay mark did not change during the enumeration. */
void hpki_card_stay_proven(struct hpki_card *card, const uint8_t mark_before[HPKI_STAY_MARK_LEN], bool marked);
/* The card's PIN counters changed (VERIFY), or its cache entry was stored again with
 * what a signature taught: the record of this stay follows, for later processes. */
void hpki_card_stay_update(struct hpki_card *card);
/* The stay mark now; false when the transport cannot tell. */
bool hpki_card_stay_mark(struct hpki_card *card, uint8_t mark[HPKI_STAY_MARK_LEN]);

#endif
