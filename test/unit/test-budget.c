/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A hostile or broken card cannot hold an operation for long (issue 8 §3): the APDU
 * layer's budget, the GET RESPONSE rule and cancellation, against a reader whose
 * answers come from a function rather than a script (the card loops forever).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "apdu.h"
#include "card.h"

struct hpki_connection {
	int unused;
};

static struct hpki_connection the_connection;

/* How the fake card answers every command. */
static struct {
	enum { TRICKLE, STALL } mode;
	unsigned delay_ms;
	unsigned long sent;
} fake;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* TRICKLE: one byte and "61 01" to everything (never ends); STALL: "61 00", no data. */
static enum hpki_io_status fake_transmit(struct hpki_connection *conn, const uint8_t *cmd, size_t cmd_len,
					 uint8_t *resp, size_t *resp_len)
{
	(void)conn;
	(void)cmd;
	(void)cmd_len;
	fake.sent++;
	if (fake.delay_ms > 0)
		sleep_ms(fake.delay_ms);
	if (fake.mode == TRICKLE) {
		resp[0] = 0x42;
		resp[1] = 0x61;
		resp[2] = 0x01;
		*resp_len = 3;
	} else {
		resp[0] = 0x61;
		resp[1] = 0x00;
		*resp_len = 2;
	}
	return HPKI_IO_OK;
}

static enum hpki_io_status fake_connect(void *context, const char *reader, struct hpki_connection **conn,
					uint8_t *atr, size_t *atr_len)
{
	static const uint8_t atr_jma[] = { 0x3B, 0x88, 0x80, 0x01, 0x00, 0x4E, 0x00, 0x00, 0xF7, 0x81, 0xD1, 0x00, 0xF8 };

	(void)context;
	(void)reader;
	*conn = &the_connection;
	memcpy(atr, atr_jma, sizeof atr_jma);
	*atr_len = sizeof atr_jma;
	return HPKI_IO_OK;
}

static enum hpki_io_status fake_ok(struct hpki_connection *conn)
{
	(void)conn;
	return HPKI_IO_OK;
}

static void fake_void(struct hpki_connection *conn)
{
	(void)conn;
}

static const struct hpki_transport_ops looping_reader = {
	.connect = fake_connect,
	.reconnect = fake_ok,
	.disconnect = fake_void,
	.begin = fake_ok,
	.end = fake_void,
	.transmit = fake_transmit,
};

static int reset(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof fake);
	return 0;
}

static enum hpki_card_status read_binary(struct hpki_card *card)
{
	static uint8_t resp[HPKI_APDU_MAX_RESPONSE];
	struct hpki_apdu apdu = { .cla = 0, .ins = 0xB0, .ne = 256, .name = "READ BINARY" };
	size_t len;
	uint16_t sw;

	return hpki_apdu_exchange(&card->link, &apdu, resp, sizeof resp, &len, &sw);
}

/* A card that hands out one byte per GET RESPONSE: the operation stops at its APDU
 * budget, exactly (here 50; the per-command cap of GET RESPONSE rounds is higher). */
static void test_trickling_card_stops_at_apdu_budget(void **state)
{
	const struct hpki_apdu_budget small = { .apdus = 50, .seconds = 100 };
	struct hpki_card card;

	(void)state;
	fake.mode = TRICKLE;
	assert_int_equal(hpki_card_attach(&card, &looping_reader, NULL, "Fake"), HPKI_CARD_OK);
	hpki_apdu_set_budget(&card.link, &small);
	assert_int_equal(read_binary(&card), HPKI_CARD_OVER_BUDGET);
	assert_int_equal(fake.sent, 50);
	hpki_card_detach(&card);
}

/* The same card during an enumeration: over after at most one budget's worth of
 * APDUs (the per-command cap of 300 rounds may end it first), no retry inside. */
static void test_trickling_card_enumeration_is_bounded(void **state)
{
	struct hpki_card card;
	enum hpki_card_status st;

	(void)state;
	fake.mode = TRICKLE;
	assert_int_equal(hpki_card_attach(&card, &looping_reader, NULL, "Fake"), HPKI_CARD_OK);
	st = hpki_card_enumerate(&card);
	assert_true(st == HPKI_CARD_OVER_BUDGET || st == HPKI_CARD_BAD_RESPONSE);
	assert_true(fake.sent <= hpki_card_budget_enumeration.apdus);
	hpki_card_detach(&card);
}

/* 61 00 without data in answer to GET RESPONSE is a bad response at once. */
static void test_stalling_card_is_bad_response(void **state)
{
	struct hpki_card card;

	(void)state;
	fake.mode = STALL;
	assert_int_equal(hpki_card_attach(&card, &looping_reader, NULL, "Fake"), HPKI_CARD_OK);
	assert_int_equal(read_binary(&card), HPKI_CARD_BAD_RESPONSE);
	assert_int_equal(fake.sent, 2); /* the command and one GET RESPONSE */
	hpki_card_detach(&card);
}

/* A slow card: the operation ends once its seconds are spent (here 0.2 s at 30 ms
 * per APDU), within one APDU's time of the deadline. */
static void test_slow_card_stops_at_time_budget(void **state)
{
	const struct hpki_apdu_budget small = { .apdus = 100000, .seconds = 0.2 };
	struct hpki_card card;
	double start;

	(void)state;
	fake.mode = TRICKLE;
	fake.delay_ms = 30;
	assert_int_equal(hpki_card_attach(&card, &looping_reader, NULL, "Fake"), HPKI_CARD_OK);
	hpki_apdu_set_budget(&card.link, &small);
	start = hpki_apdu_clock();
	assert_int_equal(read_binary(&card), HPKI_CARD_OVER_BUDGET);
	assert_true(hpki_apdu_clock() - start < 0.2 + 0.1);
	assert_in_range(fake.sent, 5, 8);
	hpki_card_detach(&card);
}

/* Once the owner sets the cancel flag, nothing more reaches the card. */
static void test_cancel_stops_before_the_next_apdu(void **state)
{
	static atomic_bool cancel;
	struct hpki_card card;

	(void)state;
	fake.mode = TRICKLE;
	assert_int_equal(hpki_card_attach(&card, &looping_reader, NULL, "Fake"), HPKI_CARD_OK);
	card.link.cancel = &cancel;
	atomic_store(&cancel, true);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_CANCELLED);
	assert_int_equal(fake.sent, 0);
	hpki_card_detach(&card);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_trickling_card_stops_at_apdu_budget, reset),
		cmocka_unit_test_setup(test_trickling_card_enumeration_is_bounded, reset),
		cmocka_unit_test_setup(test_stalling_card_is_bad_response, reset),
		cmocka_unit_test_setup(test_slow_card_stops_at_time_budget, reset),
		cmocka_unit_test_setup(test_cancel_stops_before_the_next_apdu, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
