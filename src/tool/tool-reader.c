/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-tool: readers and cards, through the card library only (issue 13). */
#include "config.h"

#include "tool-reader.h"
#include "tool.h"

#include <string.h>

enum hpki_io_status hpki_tool_pcsc_open(struct hpki_tool_pcsc *pcsc)
{
	enum hpki_io_status io;

	memset(pcsc, 0, sizeof(*pcsc));
	io = hpki_transport_pcsc.open_context(&pcsc->context);
	if (io != HPKI_IO_OK) {
		pcsc->context = NULL;
		return io;
	}
	io = hpki_transport_pcsc.list_readers(pcsc->context, pcsc->readers, HPKI_TOOL_MAX_READERS, &pcsc->count);
	/* No reader at all is not an error of ours: the caller says "no reader". */
	if (io == HPKI_IO_NO_READER) {
		pcsc->count = 0;
		io = HPKI_IO_OK;
	}
	return io;
}

void hpki_tool_pcsc_close(struct hpki_tool_pcsc *pcsc)
{
	if (pcsc->context != NULL)
		hpki_transport_pcsc.close_context(pcsc->context);
	pcsc->context = NULL;
}

enum hpki_card_status hpki_tool_card_read(struct hpki_tool_pcsc *pcsc, const char *reader, bool exclusive,
					  enum hpki_app_role role, struct hpki_card *card)
{
	const struct hpki_transport_ops *ops = exclusive ? &hpki_transport_pcsc_exclusive : &hpki_transport_pcsc;
	enum hpki_card_status st = hpki_card_attach(card, ops, pcsc->context, reader);

	if (st == HPKI_CARD_OK)
		st = role == HPKI_ROLE_UNKNOWN ? hpki_card_enumerate(card) : hpki_card_enumerate_role(card, role);
	if (st != HPKI_CARD_OK)
		hpki_card_detach(card);
	return st;
}

int hpki_tool_find_app(const struct hpki_card *card, enum hpki_app_role role)
{
	for (size_t i = 0; i < card->app_count; i++)
		if (card->apps[i].role == role)
			return (int)i;
	return -1;
}

const struct hpki_cert *hpki_tool_ee_cert(const struct hpki_app *app)
{
	for (size_t i = 0; i < app->cert_count; i++)
		if (!app->certs[i].info.authority && app->certs[i].der != NULL)
			return &app->certs[i];
	return NULL;
}

bool hpki_tool_open_first_card(struct hpki_tool_pcsc *pcsc, const char *reader, enum hpki_app_role role,
			       struct hpki_card *card)
{
	enum hpki_io_status io = hpki_tool_pcsc_open(pcsc);
	enum hpki_card_status last = HPKI_CARD_REMOVED;

	if (io != HPKI_IO_OK) {
		hpki_tool_error(_("cannot reach the PC/SC service: %s"), hpki_io_status_text(io));
		return false;
	}
	for (size_t i = 0; i < pcsc->count; i++) {
		if (reader != NULL && strcmp(reader, pcsc->readers[i].name) != 0)
			continue;
		if (!pcsc->readers[i].present)
			continue;
		last = hpki_tool_card_read(pcsc, pcsc->readers[i].name, false, role, card);
		if (last == HPKI_CARD_OK)
			return true;
	}
	if (last == HPKI_CARD_REMOVED)
		hpki_tool_error(reader != NULL ? _("no card in the reader") : _("no card in any reader"));
	else
		hpki_tool_error(_("no HPKI card could be read: %s"), hpki_card_status_text(last));
	hpki_tool_pcsc_close(pcsc);
	return false;
}
