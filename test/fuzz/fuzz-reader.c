/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fuzzers' reader (see fuzz-reader.h): one reader, one card, answers from the
 * fuzz input or from a live card. Linked instead of src/card/transport-pcsc.c.
 */
#include "config.h"

#include "fuzz-reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpki/card-defs.h"

struct hpki_fuzz_counters hpki_fuzz_counters;

static struct {
	unsigned long logins;       /* C_Login calls in this run */
	unsigned long window_start; /* verify_with_data when the last C_Login began */
} pin_rule;

struct hpki_connection {
	int unused;
};

static struct {
	/* replay */
	const uint8_t *data;
	size_t size, pos;
	/* live */
	bool live;
	struct hpki_fuzz_card card;
	bool record;
	uint8_t *rec;
	size_t rec_len, rec_cap;
	bool rec_overflow;
	/* both */
	uint8_t atr[HPKI_ATR_MAX];
	size_t atr_len;
	bool reset_pending;
	struct hpki_connection conn;
	int context; /* its address is the context handle */
} reader;

static void rec_append(const uint8_t *p, size_t n)
{
	if (!reader.record)
		return;
	if (reader.rec_len + n > reader.rec_cap) {
		size_t cap = reader.rec_cap ? reader.rec_cap : 4096;
		uint8_t *grown;

		while (cap < reader.rec_len + n)
			cap *= 2;
		grown = realloc(reader.rec, cap);
		if (grown == NULL) {
			fprintf(stderr, "fuzz-reader: out of memory while recording\n");
			abort();
		}
		reader.rec = grown;
		reader.rec_cap = cap;
	}
	memcpy(reader.rec + reader.rec_len, p, n);
	reader.rec_len += n;
}

static void rec_u16(unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	rec_append(b, 2);
}

static void clear_state(void)
{
	reader.data = NULL;
	reader.size = reader.pos = 0;
	reader.live = false;
	reader.record = false;
	reader.rec_len = 0;
	reader.rec_overflow = false;
	reader.atr_len = 0;
	reader.reset_pending = false;
	memset(&hpki_fuzz_counters, 0, sizeof hpki_fuzz_counters);
	memset(&pin_rule, 0, sizeof pin_rule);
}

void hpki_fuzz_login_begin(void)
{
	hpki_fuzz_check_verifies("the previous login");
	pin_rule.logins++;
	pin_rule.window_start = hpki_fuzz_counters.verify_with_data;
}

void hpki_fuzz_check_verifies(const char *after)
{
	unsigned long in_window = hpki_fuzz_counters.verify_with_data - pin_rule.window_start;

	if (pin_rule.logins == 0 && hpki_fuzz_counters.verify_with_data > 0) {
		fprintf(stderr, "fuzz: PIN rule broken after %s: a VERIFY with a PIN before any C_Login\n", after);
		abort();
	}
	if (in_window > 1) {
		fprintf(stderr, "fuzz: PIN rule broken after %s: %lu VERIFYs with a PIN for one C_Login\n", after,
			in_window);
		abort();
	}
}

void hpki_fuzz_reader_replay(const uint8_t *data, size_t size)
{
	clear_state();
	if (size > 0) {
		size_t n = data[0] % (HPKI_ATR_MAX + 1);

		data++;
		size--;
		if (n > size)
			n = size;
		memcpy(reader.atr, data, n);
		reader.atr_len = n;
		data += n;
		size -= n;
	}
	reader.data = data;
	reader.size = size;
}

void hpki_fuzz_reader_live(const struct hpki_fuzz_card *card, bool record)
{
	uint8_t n;

	clear_state();
	reader.live = true;
	reader.card = *card;
	reader.record = record;
	reader.atr_len = card->atr(card->card, reader.atr, sizeof reader.atr);
	n = (uint8_t)reader.atr_len;
	rec_append(&n, 1);
	rec_append(reader.atr, reader.atr_len);
}

const uint8_t *hpki_fuzz_reader_recording(size_t *len)
{
	if (reader.rec_overflow) {
		fprintf(stderr, "fuzz-reader: a response too long for the replay format was recorded\n");
		abort();
	}
	*len = reader.rec_len;
	return reader.rec;
}

void hpki_fuzz_reader_inject_reset(void)
{
	reader.reset_pending = true;
}

void hpki_fuzz_reader_free(void)
{
	free(reader.rec);
	reader.rec = NULL;
	reader.rec_len = reader.rec_cap = 0;
}

/* ---- the ops table ------------------------------------------------------------------------ */

static enum hpki_io_status fz_open_context(void **context)
{
	*context = &reader.context;
	return HPKI_IO_OK;
}

static void fz_close_context(void *context)
{
	(void)context;
}

/* One reader with a card that never leaves: the card's own answers are what is fuzzed. */
static enum hpki_io_status fz_list_readers(void *context, struct hpki_reader_state *readers, size_t max,
					   size_t *count)
{
	(void)context;
	*count = 0;
	if (max == 0)
		return HPKI_IO_OK;
	memset(&readers[0], 0, sizeof readers[0]);
	snprintf(readers[0].name, sizeof readers[0].name, "%s", HPKI_FUZZ_READER_NAME);
	readers[0].present = true;
	readers[0].event_count = 1;
	memcpy(readers[0].atr, reader.atr, reader.atr_len);
	readers[0].atr_len = reader.atr_len;
	*count = 1;
	return HPKI_IO_OK;
}

/* Never blocks: a fuzz run must not hang in C_WaitForSlotEvent. */
static enum hpki_io_status fz_wait_readers(void *context, struct hpki_reader_state *readers, size_t count,
					   uint32_t timeout_ms)
{
	(void)context;
	(void)readers;
	(void)count;
	return timeout_ms == 0 ? HPKI_IO_TIMEOUT : HPKI_IO_CANCELLED;
}

static void fz_cancel_wait(void *context)
{
	(void)context;
}

static enum hpki_io_status fz_connect(void *context, const char *name, struct hpki_connection **conn,
				      uint8_t *atr, size_t *atr_len)
{
	(void)context;
	(void)name;
	*conn = &reader.conn;
	memcpy(atr, reader.atr, reader.atr_len);
	*atr_len = reader.atr_len;
	return HPKI_IO_OK;
}

static enum hpki_io_status fz_reconnect(struct hpki_connection *conn)
{
	(void)conn;
	return HPKI_IO_OK;
}

static void fz_disconnect(struct hpki_connection *conn)
{
	(void)conn;
}

static enum hpki_io_status fz_begin(struct hpki_connection *conn)
{
	(void)conn;
	hpki_fuzz_counters.transactions++;
	return HPKI_IO_OK;
}

static void fz_end(struct hpki_connection *conn)
{
	(void)conn;
}

static enum hpki_io_status io_from_mark(unsigned mark)
{
	return (enum hpki_io_status)(1 + (mark & 0xFFu) % 9u);
}

static enum hpki_io_status replay_transmit(uint8_t *resp, size_t *resp_len)
{
	unsigned len;

	if (reader.size - reader.pos < 2) {
		reader.pos = reader.size;
		return HPKI_IO_NO_CARD;
	}
	len = (unsigned)reader.data[reader.pos] << 8 | reader.data[reader.pos + 1];
	reader.pos += 2;
	if (len >= HPKI_FUZZ_IO_MARK)
		return io_from_mark(len);
	if (len > reader.size - reader.pos)
		len = (unsigned)(reader.size - reader.pos);
	if (len > *resp_len) {
		/* What pcsc-lite does with SCARD_E_INSUFFICIENT_BUFFER. */
		reader.pos += len;
		return HPKI_IO_FAILED;
	}
	memcpy(resp, reader.data + reader.pos, len);
	reader.pos += len;
	*resp_len = len;
	return HPKI_IO_OK;
}

static enum hpki_io_status live_transmit(const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	static uint8_t answer[HPKI_RESPONSE_MAX];
	size_t n = reader.card.process(reader.card.card, cmd, cmd_len, answer);

	if (n == 0) {
		rec_u16(HPKI_FUZZ_IO_MARK + (HPKI_IO_UNRESPONSIVE - 1));
		return HPKI_IO_UNRESPONSIVE;
	}
	if (n >= HPKI_FUZZ_IO_MARK)
		reader.rec_overflow = reader.record;
	rec_u16((unsigned)n);
	rec_append(answer, n);
	if (n > *resp_len)
		return HPKI_IO_FAILED;
	memcpy(resp, answer, n);
	*resp_len = n;
	return HPKI_IO_OK;
}

static enum hpki_io_status fz_transmit(struct hpki_connection *conn, const uint8_t *cmd, size_t cmd_len,
				       uint8_t *resp, size_t *resp_len)
{
	(void)conn;
	hpki_fuzz_counters.apdus++;
	/* A VERIFY with Lc carries a PIN (the empty VERIFY of a status probe is 4 bytes). */
	if (cmd_len > 5 && cmd[1] == HPKI_INS_VERIFY)
		hpki_fuzz_counters.verify_with_data++;
	if (reader.reset_pending) {
		reader.reset_pending = false;
		if (reader.live && reader.card.reset != NULL)
			reader.card.reset(reader.card.card);
		rec_u16(HPKI_FUZZ_IO_MARK + (HPKI_IO_CARD_RESET - 1));
		return HPKI_IO_CARD_RESET;
	}
	if (reader.live)
		return live_transmit(cmd, cmd_len, resp, resp_len);
	return replay_transmit(resp, resp_len);
}

/* The symbol module.c uses: the fuzz targets link this file instead of transport-pcsc.c. */
const struct hpki_transport_ops hpki_transport_pcsc = {
	.open_context = fz_open_context,
	.close_context = fz_close_context,
	.list_readers = fz_list_readers,
	.wait_readers = fz_wait_readers,
	.cancel_wait = fz_cancel_wait,
	.connect = fz_connect,
	.reconnect = fz_reconnect,
	.disconnect = fz_disconnect,
	.begin = fz_begin,
	.end = fz_end,
	.transmit = fz_transmit,
};

const char *hpki_io_status_text(enum hpki_io_status status)
{
	static const char *const names[] = { "ok", "no card", "card reset", "no reader", "no service",
					     "sharing violation", "timeout", "cancelled", "unresponsive",
					     "failed" };

	if ((unsigned)status < sizeof names / sizeof names[0])
		return names[status];
	return "unknown I/O status";
}
