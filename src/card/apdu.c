/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "apdu.h"

#include "hpki/card-defs.h"

#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Header, extended Lc (3), data, extended Le (2). */
#define APDU_OVERHEAD (4 + 3 + 2)

size_t hpki_apdu_encode(const struct hpki_apdu *apdu, uint8_t *out, size_t cap)
{
	size_t nc = apdu->data_len;
	size_t ne = apdu->ne;
	size_t len = 0;

	if (cap < APDU_OVERHEAD + nc || (nc > 0 && apdu->data == NULL))
		return 0;
	out[len++] = apdu->cla;
	out[len++] = apdu->ins;
	out[len++] = apdu->p1;
	out[len++] = apdu->p2;
	if (!apdu->extended) {
		/* ISO 7816-4 §5.1: short Lc 1..255, short Le 1..256 (256 as 00). */
		if (nc > HPKI_APDU_SHORT_MAX_NC || ne > HPKI_APDU_SHORT_MAX_NE)
			return 0;
		if (nc > 0) {
			out[len++] = (uint8_t)nc;
			memcpy(out + len, apdu->data, nc);
			len += nc;
		}
		if (ne > 0)
			out[len++] = (uint8_t)(ne & 0xFF);
		return len;
	}
	/* Extended: a 00 byte, then Lc on 2 bytes and/or Le on 2 bytes (65536 as 0000);
	 * when Lc is present, Le has no leading 00 of its own. */
	if (nc > 65535 || ne > 65536)
		return 0;
	if (nc == 0 && ne == 0)
		return len; /* case 1 has no extended form */
	out[len++] = 0x00;
	if (nc > 0) {
		out[len++] = (uint8_t)(nc >> 8);
		out[len++] = (uint8_t)nc;
		memcpy(out + len, apdu->data, nc);
		len += nc;
	}
	if (ne > 0) {
		out[len++] = (uint8_t)((ne >> 8) & 0xFF);
		out[len++] = (uint8_t)(ne & 0xFF);
	}
	return len;
}

enum hpki_card_status hpki_io_to_status(enum hpki_io_status io)
{
	switch (io) {
	case HPKI_IO_OK:
		return HPKI_CARD_OK;
	case HPKI_IO_NO_CARD:
	case HPKI_IO_NO_READER:
		return HPKI_CARD_REMOVED;
	case HPKI_IO_SHARING:
		return HPKI_CARD_BUSY;
	default:
		return HPKI_CARD_IO_ERROR;
	}
}

/* Another process reset the card: reconnect without touching the card again and
 * tell the token layer that every verified PIN is gone. */
static enum hpki_card_status recover_from_reset(struct hpki_card_link *link)
{
	enum hpki_io_status io = link->ops->reconnect(link->conn);

	link->was_reset = true;
	link->reset_count++;
	hpki_info("card in '%s' was reset by someone else; reconnect: %s", link->reader, hpki_io_status_text(io));
	return io == HPKI_IO_OK ? HPKI_CARD_OK : hpki_io_to_status(io);
}

enum hpki_card_status hpki_apdu_begin(struct hpki_card_link *link)
{
	enum hpki_io_status io;

	if (link->ops == NULL || link->conn == NULL)
		return HPKI_CARD_REMOVED;
	io = link->ops->begin(link->conn);
	if (io == HPKI_IO_CARD_RESET) {
		/* Nothing was sent yet, so beginning again after the reconnect is safe. */
		enum hpki_card_status st = recover_from_reset(link);

		if (st != HPKI_CARD_OK)
			return st;
		io = link->ops->begin(link->conn);
	}
	if (io != HPKI_IO_OK)
		hpki_error("cannot begin a transaction on '%s': %s", link->reader, hpki_io_status_text(io));
	return hpki_io_to_status(io);
}

void hpki_apdu_end(struct hpki_card_link *link)
{
	if (link->ops != NULL && link->conn != NULL)
		link->ops->end(link->conn);
}

/* One command, one response, with trace; *len in: capacity, out: length (SW included). */
static enum hpki_card_status transmit_raw(struct hpki_card_link *link, const uint8_t *cmd, size_t cmd_len,
					  uint8_t *resp, size_t *len)
{
	enum hpki_io_status io;

	hpki_log_apdu('>', cmd, cmd_len);
	link->apdu_count++;
	io = link->ops->transmit(link->conn, cmd, cmd_len, resp, len);
	if (io == HPKI_IO_CARD_RESET) {
		/* The card's state is gone; whatever this command was part of must start over
		 * (or, for VERIFY, be reported: the driver never sends a PIN twice). */
		enum hpki_card_status st = recover_from_reset(link);

		*len = 0;
		return st == HPKI_CARD_OK ? HPKI_CARD_IO_ERROR : st;
	}
	if (io != HPKI_IO_OK) {
		*len = 0;
		return hpki_io_to_status(io);
	}
	hpki_log_apdu('<', resp, *len);
	return HPKI_CARD_OK;
}

/*
 * Sends an encoded APDU and checks the answer's shape; on 6Cxx (wrong Le) repeats
 * it once with the Le the card asked for. The data lands in `scratch`
 * (HPKI_RESPONSE_MAX bytes).
 */
static enum hpki_card_status transceive(struct hpki_card_link *link, const struct hpki_apdu *apdu, uint8_t *scratch,
					size_t *data_len, uint16_t *sw)
{
	struct hpki_apdu cmd = *apdu;
	size_t buf_cap = APDU_OVERHEAD + apdu->data_len;
	uint8_t *buf = malloc(buf_cap);
	enum hpki_card_status st = HPKI_CARD_OK;
	int attempt;

	if (buf == NULL)
		return HPKI_CARD_NO_MEMORY;
	for (attempt = 0; attempt < 2; attempt++) {
		size_t cmd_len = hpki_apdu_encode(&cmd, buf, buf_cap);
		size_t len = HPKI_RESPONSE_MAX;

		if (cmd_len == 0) {
			hpki_error("%s: cannot encode Nc=%zu Ne=%zu (%s)", apdu->name, cmd.data_len, cmd.ne,
				   cmd.extended ? "extended" : "short");
			st = HPKI_CARD_UNSUPPORTED;
			break;
		}
		st = transmit_raw(link, buf, cmd_len, scratch, &len);
		/* A PIN is never left behind in our buffers (issue 4). */
		OPENSSL_cleanse(buf, cmd_len);
		if (st != HPKI_CARD_OK)
			break;
		if (len < 2) {
			hpki_error("%s: response of %zu byte(s), no status word", apdu->name, len);
			st = HPKI_CARD_BAD_RESPONSE;
			break;
		}
		*data_len = len - 2;
		*sw = (uint16_t)(scratch[len - 2] << 8 | scratch[len - 1]);
		if (*data_len > cmd.ne) {
			hpki_error("%s: %zu data bytes, only %zu requested", apdu->name, *data_len, cmd.ne);
			st = HPKI_CARD_BAD_RESPONSE;
			break;
		}
		if ((*sw & 0xFF00) != HPKI_SW_WRONG_LE)
			break;
		/* 6Cxx: the card wants Le = xx (ISO 7816-4 §5.6). */
		if (attempt > 0 || apdu->sensitive || cmd.extended || cmd.ne == 0) {
			hpki_error("%s: SW %04X cannot be honoured here", apdu->name, *sw);
			st = HPKI_CARD_BAD_RESPONSE;
			break;
		}
		cmd.ne = (*sw & 0xFF) == 0 ? 256 : (*sw & 0xFF);
		hpki_info("%s: card asks for Le=%zu, repeating once", apdu->name, cmd.ne);
	}
	OPENSSL_cleanse(buf, buf_cap);
	free(buf);
	return st;
}

static enum hpki_card_status append(uint8_t *resp, size_t resp_cap, size_t *total, const uint8_t *data,
				    size_t len, const char *name)
{
	if (len > resp_cap - *total || *total + len > HPKI_APDU_MAX_RESPONSE) {
		hpki_error("%s: response exceeds %zu bytes", name, resp_cap < HPKI_APDU_MAX_RESPONSE ?
								 resp_cap : (size_t)HPKI_APDU_MAX_RESPONSE);
		return HPKI_CARD_BAD_RESPONSE;
	}
	memcpy(resp + *total, data, len);
	*total += len;
	return HPKI_CARD_OK;
}

/* One (unchained) command plus its GET RESPONSE rounds. */
static enum hpki_card_status exchange_single(struct hpki_card_link *link, const struct hpki_apdu *apdu,
					     uint8_t *scratch, uint8_t *resp, size_t resp_cap, size_t *resp_len,
					     uint16_t *sw)
{
	enum hpki_card_status st;
	size_t data_len = 0;
	int rounds = 0;

	*resp_len = 0;
	st = transceive(link, apdu, scratch, &data_len, sw);
	if (st == HPKI_CARD_OK)
		st = append(resp, resp_cap, resp_len, scratch, data_len, apdu->name);
	while (st == HPKI_CARD_OK && (*sw & 0xFF00) == HPKI_SW_BYTES_AVAILABLE) {
		struct hpki_apdu get = {
			.cla = HPKI_CLA_ISO,
			.ins = HPKI_INS_GET_RESPONSE,
			.ne = (*sw & 0xFF) == 0 ? 256 : (*sw & 0xFF),
			.name = "GET RESPONSE",
		};

		if (apdu->ne == 0) {
			/* No data was asked for; the card offers some anyway. Nothing to fetch. */
			hpki_info("%s: SW %04X on a command without Le, taken as 9000", apdu->name, *sw);
			*sw = HPKI_SW_OK;
			break;
		}
		/* A card answering 61xx forever must not keep us here (issue 3). */
		if (++rounds > HPKI_APDU_MAX_GET_RESPONSE_ROUNDS) {
			hpki_error("%s: more than %d GET RESPONSE rounds", apdu->name,
				   HPKI_APDU_MAX_GET_RESPONSE_ROUNDS);
			return HPKI_CARD_BAD_RESPONSE;
		}
		st = transceive(link, &get, scratch, &data_len, sw);
		if (st == HPKI_CARD_OK)
			st = append(resp, resp_cap, resp_len, scratch, data_len, apdu->name);
	}
	return st;
}

/* ISO 7816-4 §5.1.1.1: CLA b5 = 1 on every command of the chain but the last. The
 * parts are made equal in size (256 bytes → 2 × 128) rather than 255 + 1. */
static enum hpki_card_status exchange_chained(struct hpki_card_link *link, const struct hpki_apdu *apdu,
					      uint8_t *scratch, uint8_t *resp, size_t resp_cap, size_t *resp_len,
					      uint16_t *sw)
{
	size_t parts = (apdu->data_len + HPKI_APDU_SHORT_MAX_NC - 1) / HPKI_APDU_SHORT_MAX_NC;
	size_t part_len = (apdu->data_len + parts - 1) / parts;
	size_t offset = 0;

	if (!link->command_chaining) {
		hpki_error("%s: %zu data bytes need extended length or command chaining; the card has neither",
			   apdu->name, apdu->data_len);
		return HPKI_CARD_UNSUPPORTED;
	}
	while (offset < apdu->data_len) {
		struct hpki_apdu part = *apdu;
		size_t len = apdu->data_len - offset < part_len ? apdu->data_len - offset : part_len;
		bool last = offset + len == apdu->data_len;
		enum hpki_card_status st;

		part.data = apdu->data + offset;
		part.data_len = len;
		if (!last) {
			part.cla |= HPKI_CLA_CHAIN;
			part.ne = 0;
		}
		st = exchange_single(link, &part, scratch, resp, resp_cap, resp_len, sw);
		if (st != HPKI_CARD_OK || last)
			return st;
		if (*sw != HPKI_SW_OK)
			return HPKI_CARD_OK; /* the caller judges the SW (e.g. 6884: no chaining) */
		offset += len;
	}
	return HPKI_CARD_OK;
}

enum hpki_card_status hpki_apdu_exchange(struct hpki_card_link *link, const struct hpki_apdu *apdu, uint8_t *resp,
					 size_t resp_cap, size_t *resp_len, uint16_t *sw)
{
	uint8_t *scratch;
	enum hpki_card_status st;

	*resp_len = 0;
	*sw = 0;
	if (link->ops == NULL || link->conn == NULL)
		return HPKI_CARD_REMOVED;
	scratch = malloc(HPKI_RESPONSE_MAX);
	if (scratch == NULL)
		return HPKI_CARD_NO_MEMORY;
	if (!apdu->extended && apdu->data_len > HPKI_APDU_SHORT_MAX_NC)
		st = exchange_chained(link, apdu, scratch, resp, resp_cap, resp_len, sw);
	else
		st = exchange_single(link, apdu, scratch, resp, resp_cap, resp_len, sw);
	free(scratch);
	if (st != HPKI_CARD_OK)
		*resp_len = 0;
	return st;
}

enum hpki_card_status hpki_sw_to_status(const char *command, uint16_t sw)
{
	enum hpki_card_status st;

	if (sw == HPKI_SW_OK)
		return HPKI_CARD_OK;
	if ((sw & 0xFFF0) == HPKI_SW_PIN_TRIES_LEFT)
		st = (sw & 0x0F) == 0 ? HPKI_CARD_PIN_LOCKED : HPKI_CARD_PIN_INCORRECT; /* G31 C.3.4 */
	else {
		switch (sw) {
		case HPKI_SW_AUTH_BLOCKED:
		case HPKI_SW_REF_DATA_BLOCKED:
			st = HPKI_CARD_PIN_LOCKED;
			break;
		case HPKI_SW_SECURITY_STATUS:
			st = HPKI_CARD_NOT_AUTHENTICATED;
			break;
		case HPKI_SW_WRONG_LENGTH:
		case HPKI_SW_WRONG_DATA:
			st = HPKI_CARD_DATA_INVALID;
			break;
		case HPKI_SW_INS_NOT_SUPPORTED:
		case HPKI_SW_CLA_NOT_SUPPORTED:
		case HPKI_SW_FUNC_NOT_SUPPORTED:
		case HPKI_SW_CHAINING_UNSUPPORTED:
		case HPKI_SW_LAST_CMD_EXPECTED:
			st = HPKI_CARD_UNSUPPORTED;
			break;
		default:
			st = HPKI_CARD_BAD_RESPONSE;
			break;
		}
	}
	if (st == HPKI_CARD_BAD_RESPONSE)
		hpki_error("%s: unexpected SW %04X", command, sw);
	else
		hpki_info("%s: SW %04X -> %s", command, sw, hpki_card_status_text(st));
	return st;
}
