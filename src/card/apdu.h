/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command APDUs for the HPKI card driver: encoding (ISO 7816-4 §5.1 short and
 * extended Lc/Le), command chaining, GET RESPONSE and wrong-Le recovery, response
 * sanity checks, transactions and card-reset recovery. Internal to the driver.
 */
#ifndef HPKI_APDU_H
#define HPKI_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card-status.h"
#include "transport.h"

/* Bounds on what a card may make us fetch with 61xx (see hpki_apdu_exchange). */
#define HPKI_APDU_MAX_RESPONSE 65536
#define HPKI_APDU_MAX_GET_RESPONSE_ROUNDS 300
/* Short-APDU limits (ISO 7816-4 §5.1): Nc ≤ 255, Ne ≤ 256. */
#define HPKI_APDU_SHORT_MAX_NC 255
#define HPKI_APDU_SHORT_MAX_NE 256

/*
 * One reader connection as the APDU layer sees it: where commands go, what the
 * card accepts for long data, and what happened on the way. The driver embeds it
 * in struct hpki_card; nothing here knows of card applications.
 */
struct hpki_card_link {
	const struct hpki_transport_ops *ops;
	void *context;
	struct hpki_connection *conn;
	char reader[HPKI_READER_NAME_MAX];
	bool command_chaining; /* data over 255 bytes goes by chaining (ISO 7816-4 §5.1.1.1) */
	/*
	 * Set whenever the link had to reconnect after HPKI_IO_CARD_RESET (another
	 * process reset the card): every PIN verification on the card is gone. The token
	 * layer reads it after each call, drops its logged-in state, and clears it.
	 */
	bool was_reset;
	unsigned long reset_count; /* reconnects after a reset since attach */
	unsigned long apdu_count;  /* APDUs sent since attach (benchmarks, tests) */
};

struct hpki_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t data_len;  /* Nc */
	size_t ne;        /* expected response bytes: 0 = no Le; 256 = short Le 00; 65536 = extended 0000 */
	bool extended;    /* encode Lc/Le in extended form */
	bool sensitive;   /* data is a PIN: never sent twice (no 6Cxx repeat) */
	const char *name; /* for log lines, e.g. "READ BINARY" */
};

/* Encodes the APDU; returns its length, 0 when it cannot be encoded as asked. */
size_t hpki_apdu_encode(const struct hpki_apdu *apdu, uint8_t *out, size_t cap);

/*
 * Sends one command and returns the card's final answer: the data in resp
 * (*resp_len bytes, at most resp_cap) and the status word in *sw.
 * - data longer than 255 bytes without `extended` is sent by command chaining
 *   (CLA|0x10, ISO 7816-4 §5.1.1.1) when the card offers it, else HPKI_CARD_UNSUPPORTED;
 * - 61xx is followed by GET RESPONSE until the data is complete (bounded);
 * - 6Cxx is answered by repeating the command once with Le = xx (never for sensitive);
 * - a response with no status word, or with more data than requested, is
 *   HPKI_CARD_BAD_RESPONSE.
 * The status word itself is not judged here: HPKI_CARD_OK means "the card answered".
 */
enum hpki_card_status hpki_apdu_exchange(struct hpki_card_link *link, const struct hpki_apdu *apdu, uint8_t *resp,
					 size_t resp_cap, size_t *resp_len, uint16_t *sw);

/* Begins a PC/SC transaction; reconnects (and sets link->was_reset) after a reset. */
enum hpki_card_status hpki_apdu_begin(struct hpki_card_link *link);
void hpki_apdu_end(struct hpki_card_link *link);

/* The one mapping of status words to driver results; logs the command and SW. */
enum hpki_card_status hpki_sw_to_status(const char *command, uint16_t sw);
enum hpki_card_status hpki_io_to_status(enum hpki_io_status io);

#endif
