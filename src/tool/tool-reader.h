/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: readers and cards through the card library (src/card): the PC/SC
 * context, the reader list, and a card read as the module reads it.
 */
#ifndef HPKI_TOOL_READER_H
#define HPKI_TOOL_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "card.h"

#define HPKI_TOOL_MAX_READERS 16

struct hpki_tool_pcsc {
	void *context;
	struct hpki_reader_state readers[HPKI_TOOL_MAX_READERS];
	size_t count;
};

/* Opens the PC/SC context and lists the readers with their presence. */
enum hpki_io_status hpki_tool_pcsc_open(struct hpki_tool_pcsc *pcsc);
void hpki_tool_pcsc_close(struct hpki_tool_pcsc *pcsc);

/* Connects (exclusively when asked: see hpki_transport_pcsc_exclusive) and reads the
 * card's applications and certificates: all of them (HPKI_ROLE_UNKNOWN), or only the
 * application with that role (hpki_card_enumerate_role: about half the APDUs). On
 * failure the card is detached. */
enum hpki_card_status hpki_tool_card_read(struct hpki_tool_pcsc *pcsc, const char *reader, bool exclusive,
					  enum hpki_app_role role, struct hpki_card *card);

/* Index of the application with that role, or -1. */
int hpki_tool_find_app(const struct hpki_card *card, enum hpki_app_role role);
/* The application's own (end-entity) certificate, or NULL. */
const struct hpki_cert *hpki_tool_ee_cert(const struct hpki_app *app);

/* The first reader with a card whose applications (or the one with `role`) read;
 * *card attached. Prints why not on stderr and returns false. `reader` NULL: any. */
bool hpki_tool_open_first_card(struct hpki_tool_pcsc *pcsc, const char *reader, enum hpki_app_role role,
			       struct hpki_card *card);

#endif
