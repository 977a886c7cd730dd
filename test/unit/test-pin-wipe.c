/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The APDU buffers that held a PIN are wiped (issue 8 §8). The card driver is
 * linked statically into this program, so its calls to OPENSSL_cleanse come here:
 * each wiped range is recorded, and the test checks that the exact bytes the
 * transport was handed for a VERIFY were wiped after the exchange and before the
 * driver returned. A scripted reader answers SELECT and VERIFY.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "card.h"

#define TEST_PIN "s3cR!x"

static struct {
	const uint8_t *verify_buf; /* what the driver handed the transport for VERIFY */
	size_t verify_len;
	bool verify_sent;
	bool wiped_after_send;     /* a cleanse covered verify_buf..+verify_len after it */
	bool pin_seen_on_wire;
	uint16_t verify_sw;
	unsigned begins, ends;
} rec;

/* Interposes libcrypto's: records the range, then wipes it as the real one does. */
void OPENSSL_cleanse(void *ptr, size_t len)
{
	volatile unsigned char *p = ptr;
	const uint8_t *start = ptr;

	if (rec.verify_sent && start <= rec.verify_buf && start + len >= rec.verify_buf + rec.verify_len)
		rec.wiped_after_send = true;
	while (len-- > 0)
		*p++ = 0;
}

static struct hpki_connection *const the_conn = (struct hpki_connection *)&rec;

static enum hpki_io_status fake_transmit(struct hpki_connection *conn, const uint8_t *cmd, size_t cmd_len,
					 uint8_t *resp, size_t *resp_len)
{
	(void)conn;
	assert_true(*resp_len >= 2);
	*resp_len = 2;
	resp[0] = 0x90, resp[1] = 0x00;
	if (cmd[1] == HPKI_INS_VERIFY && cmd_len > 5) {
		rec.verify_buf = cmd;
		rec.verify_len = cmd_len;
		rec.verify_sent = true;
		rec.pin_seen_on_wire = cmd[4] == strlen(TEST_PIN) && memcmp(cmd + 5, TEST_PIN, strlen(TEST_PIN)) == 0;
		resp[0] = (uint8_t)(rec.verify_sw >> 8), resp[1] = (uint8_t)rec.verify_sw;
	}
	return HPKI_IO_OK;
}

static enum hpki_io_status fake_connect(void *context, const char *reader, struct hpki_connection **conn,
					uint8_t *atr, size_t *atr_len)
{
	static const uint8_t atr_jma[] = { 0x3B, 0x88, 0x80, 0x01, 0x00, 0x4E, 0x00, 0x00, 0xF7, 0x81, 0xD1, 0x00, 0xF8 };

	(void)context, (void)reader;
	*conn = the_conn;
	memcpy(atr, atr_jma, sizeof atr_jma);
	*atr_len = sizeof atr_jma;
	return HPKI_IO_OK;
}

static enum hpki_io_status fake_ok(struct hpki_connection *conn)
{
	(void)conn;
	rec.begins++;
	return HPKI_IO_OK;
}

static void fake_end(struct hpki_connection *conn)
{
	(void)conn;
	rec.ends++;
}

static void fake_disconnect(struct hpki_connection *conn)
{
	(void)conn;
}

static enum hpki_io_status fake_reset(struct hpki_connection *conn)
{
	(void)conn;
	return HPKI_IO_OK;
}

static const struct hpki_transport_ops scripted = {
	.connect = fake_connect,
	.reconnect = fake_reset,
	.reset_card = fake_reset,
	.disconnect = fake_disconnect,
	.begin = fake_ok,
	.end = fake_end,
	.transmit = fake_transmit,
};

static void attach_auth_app(struct hpki_card *card)
{
	static const uint8_t aid[HPKI_AID_LEN] = { HPKI_AID_AUTHENTICATION };

	assert_int_equal(hpki_card_attach(card, &scripted, NULL, "Scripted Reader 00 00"), HPKI_CARD_OK);
	card->app_count = 1;
	memcpy(card->apps[0].aid, aid, HPKI_AID_LEN);
	card->apps[0].aid_len = HPKI_AID_LEN;
	card->apps[0].role = HPKI_ROLE_AUTHENTICATION;
	card->apps[0].pin.pwd_reference = HPKI_JMA_PIN_REFERENCE;
}

static void verify_and_check(uint16_t sw, enum hpki_card_status expected, bool held)
{
	struct hpki_card card;
	int tries;

	memset(&rec, 0, sizeof rec);
	rec.verify_sw = sw;
	attach_auth_app(&card);
	if (held)
		assert_int_equal(hpki_card_verify_pin_held(&card, 0, (const uint8_t *)TEST_PIN, strlen(TEST_PIN), &tries),
				 expected);
	else
		assert_int_equal(hpki_card_verify_pin(&card, 0, (const uint8_t *)TEST_PIN, strlen(TEST_PIN), &tries),
				 expected);
	assert_true(rec.verify_sent);
	assert_true(rec.pin_seen_on_wire);
	assert_true(rec.wiped_after_send);
	/* A held verification keeps its transaction until the next operation or release. */
	assert_int_equal(rec.ends + (card.holding ? 1u : 0u), rec.begins);
	hpki_card_release_hold(&card, false);
	assert_int_equal(rec.ends, rec.begins);
	hpki_card_detach(&card);
}

static void test_verify_buffer_wiped_on_success(void **state)
{
	(void)state;
	verify_and_check(0x9000, HPKI_CARD_OK, false);
}

static void test_verify_buffer_wiped_on_wrong_pin(void **state)
{
	(void)state;
	verify_and_check(0x63CE, HPKI_CARD_PIN_INCORRECT, false);
}

static void test_held_verify_buffer_wiped_and_transaction_kept(void **state)
{
	(void)state;
	verify_and_check(0x9000, HPKI_CARD_OK, true);
	verify_and_check(0x63CE, HPKI_CARD_PIN_INCORRECT, true); /* a refused PIN holds nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_buffer_wiped_on_success),
		cmocka_unit_test(test_verify_buffer_wiped_on_wrong_pin),
		cmocka_unit_test(test_held_verify_buffer_wiped_and_transaction_kept),
	};

	alarm(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
