/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the virtual card's APDU transport (issue 2): response modes
 * (61xx, 6Cxx), the blank card, malformed APDUs, injected faults, corrupted
 * files, statistics, and random APDUs that must never crash the card.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "hpki/card-defs.h"
#include "hpki/cio.h"
#include "vcard.h"

#include "vcard-test-helpers.h"

/* ---- response modes -------------------------------------------------------------------- */

static void test_response_mode_get_response(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card;

	(void)state;
	config.response_mode = VCARD_RESPONSE_GET_RESPONSE;
	card = card_with(config);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), 0x6114);
	assert_int_equal(ex.len, 0);
	assert_int_equal(send_hex(card, "00 C0 00 00 14"), HPKI_SW_OK);
	assert_fci(aid_sig);
	/* Case 2 READ BINARY is answered directly. */
	assert_int_equal(select_fid(card, 0x0016), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 00 00 04"), HPKI_SW_OK);
	assert_int_equal(ex.len, 4);
	/* PSO: 6100, then 256 bytes in one GET RESPONSE. */
	assert_int_equal(select_fid(card, 0x000C), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "gr", 256), 0x6100);
	/* A GET RESPONSE in two pieces: 0x80 + 61 80, then the rest. */
	assert_int_equal(send_hex(card, "00 C0 00 00 80"), 0x6180);
	assert_int_equal(ex.len, 128);
	{
		uint8_t sig[256];

		memcpy(sig, ex.data, 128);
		assert_int_equal(send_hex(card, "00 C0 00 00 00"), HPKI_SW_OK);
		assert_int_equal(ex.len, 128);
		memcpy(sig + 128, ex.data, 128);
		assert_true(signature_valid("doctor", "sig.crt.der", "gr", sig, 256));
	}
	/* Nothing pending; any other command discards pending data. */
	assert_int_equal(send_hex(card, "00 C0 00 00 00"), HPKI_SW_CONDITIONS_NOT_SATISFIED);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), 0x6114);
	assert_int_equal(send_hex(card, "00 C0 01 00 00"), HPKI_SW_WRONG_P1P2_DATA);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);
	assert_int_equal(send_hex(card, "00 C0 00 00 00"), HPKI_SW_CONDITIONS_NOT_SATISFIED);
	vcard_free(card);
}

static void test_response_mode_wrong_le(void **state)
{
	static const uint8_t rid[] = { HPKI_RID };
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card;
	size_t len;
	uint8_t *cert = read_pki_file("doctor", "sig.crt.der", &len);
	size_t last = len & ~(size_t)0xFF;

	(void)state;
	config.response_mode = VCARD_RESPONSE_WRONG_LE;
	card = card_with(config);
	assert_int_equal(select_aid(card, rid, 5, 0x00), 0x6C14);
	assert_int_equal(send_apdu(card, 0x00, 0xA4, 0x04, 0x00, rid, 5, 0x14, false), HPKI_SW_OK);
	assert_fci(aid_sig);
	/* A "next" answered 6Cxx did not move on: its repetition finds the auth AP. */
	assert_int_equal(select_aid(card, rid, 5, 0x02), 0x6C14);
	assert_int_equal(send_apdu(card, 0x00, 0xA4, 0x04, 0x02, rid, 5, 0x14, false), HPKI_SW_OK);
	assert_fci(aid_auth);
	/* READ BINARY of the last block with Le=00: 6Cxx, then exactly the rest. */
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(select_fid(card, 0x0016), HPKI_SW_OK);
	assert_int_equal(send_apdu(card, 0x00, 0xB0, (uint8_t)(last >> 8), 0x00, NULL, 0, 0, false),
			 0x6C00 | (len - last));
	assert_int_equal(send_apdu(card, 0x00, 0xB0, (uint8_t)(last >> 8), 0x00, NULL, 0, (long)(len - last), false),
			 HPKI_SW_OK);
	assert_memory_equal(ex.data, cert + last, len - last);
	/* Le smaller than the file rest is no error for READ BINARY. */
	assert_int_equal(send_hex(card, "00 B0 00 00 04"), HPKI_SW_OK);
	/* PSO with a wrong short Le: 6C00, and the verified state is not used up. */
	assert_int_equal(select_fid(card, 0x000C), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);
	{
		uint8_t block[256];

		pkcs1_block("wrong le", block, 256);
		/* An extended Le is never answered 6Cxx: 128 bytes + 6180, the rest by GET RESPONSE. */
		assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block, 256, 0x80, true), 0x6180);
		assert_int_equal(ex.len, 128);
	}
	vcard_free(card);
	free(cert);

	config.extended_length = false;
	card = card_with(config);
	jma_prepare_signature(card, aid_sig, "5678");
	{
		uint8_t block[256];

		pkcs1_block("wrong le", block, 256);
		assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block, 128, -1, false), HPKI_SW_OK);
		assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block + 128, 128, 0x80, false), 0x6C00);
		assert_int_equal(verify_empty(card, 0x88), HPKI_SW_OK); /* not consumed */
		assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block, 128, -1, false), HPKI_SW_OK);
		assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block + 128, 128, 0, false), HPKI_SW_OK);
		assert_true(signature_valid("doctor", "sig.crt.der", "wrong le", ex.data, ex.len));
	}
	vcard_free(card);
}

/* ---- other cards, malformed APDUs ---------------------------------------------------------- */

static void test_blank_card(void **state)
{
	static const uint8_t rid[] = { HPKI_RID };
	struct vcard_config config = default_config(VCARD_PROFILE_BLANK, NULL);
	struct vcard *card;

	(void)state;
	config.data_dir = NULL;
	card = card_with(config);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(select_aid(card, rid, 5, 0x00), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(select_fid(card, 0x0016), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(send_hex(card, "00 B0 00 00 00"), HPKI_SW_NO_CURRENT_EF);
	assert_int_equal(send_hex(card, "00 B0 91 00 00"), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_REF_NOT_FOUND);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_REF_NOT_FOUND);
	assert_int_equal(send_hex(card, "00 2A 9E 9A 01 00 00"), HPKI_SW_CONDITIONS_NOT_SATISFIED);
	assert_int_equal(send_hex(card, "00 84 00 00 08"), HPKI_SW_INS_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "A0 A4 04 00 00"), HPKI_SW_CLA_NOT_SUPPORTED);
	assert_int_equal(vcard_pin_tries_left(card, 1), -1);
	vcard_free(card);
}

static void test_malformed_apdus(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");

	(void)state;
	assert_int_equal(send_bytes(card, (const uint8_t *)"", 0), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 A4 04"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 A4 04 00 05 E8 28"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 A4 04 00 02 E8 28 00 00"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 B0 00 00 00 00"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 A4 04 00 00 00 00 00"), HPKI_SW_WRONG_LENGTH); /* extended Lc 0 */
	assert_int_equal(send_hex(card, "00 A4 04 00 00 00 02 E8"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 12 00 00"), HPKI_SW_INS_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "00 B1 00 00 00"), HPKI_SW_INS_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "00 84 00 00 08"), HPKI_SW_INS_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "FF CA 00 00 00"), HPKI_SW_CLA_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "01 A4 04 00 02 E8 28"), HPKI_SW_CLA_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "0C A4 04 00 02 E8 28"), HPKI_SW_CLA_NOT_SUPPORTED);
	/* Extended APDUs that are well formed. */
	assert_int_equal(send_hex(card, "00 A4 04 00 00 00 10 E8 28 BD 08 0F A0 00 00 03 91 00 00 00 00 00 02 00 00"),
			 HPKI_SW_OK);
	assert_fci(aid_auth);
	vcard_free(card);
}

/* ---- faults, corruption, statistics ---------------------------------------------------------- */

static void test_faults(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");
	struct vcard_fault fault = { .kind = VCARD_FAULT_STATUS_WORD, .sw = 0x6F00, .count = 2 };

	(void)state;
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	vcard_set_fault(card, &fault);
	/* The command does not run: a wrong PIN costs nothing. */
	assert_int_equal(verify_pin(card, 0x88, "0000"), 0x6F00);
	assert_int_equal(verify_pin(card, 0x88, "0000"), 0x6F00);
	assert_int_equal(vcard_pin_tries_left(card, 1), 15);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);

	fault = (struct vcard_fault){ .kind = VCARD_FAULT_TRUNCATE, .size = 3 };
	vcard_set_fault(card, &fault);
	select_aid(card, aid_sig, 16, 0x00);
	assert_int_equal(ex.raw_len, 3);
	assert_int_equal(ex.data[0], 0x6F);
	fault.size = 100;
	vcard_set_fault(card, &fault);
	select_aid(card, aid_sig, 16, 0x00);
	assert_int_equal(ex.raw_len, 21); /* FCI + SW1 */

	fault = (struct vcard_fault){ .kind = VCARD_FAULT_OVERSIZE, .size = 5 };
	vcard_set_fault(card, &fault);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_OK);
	assert_int_equal(ex.raw_len, 20 + 5 + 2);
	assert_memory_equal(ex.data, ((uint8_t[]){ 0x6F, 0x12, 0x84, 0x10 }), 4);

	fault = (struct vcard_fault){ .kind = VCARD_FAULT_GARBAGE, .size = 10 };
	vcard_set_fault(card, &fault);
	send_hex(card, "00 B0 91 00 00");
	assert_int_equal(ex.raw_len, 10);

	fault = (struct vcard_fault){ .kind = VCARD_FAULT_MUTE };
	vcard_set_fault(card, &fault);
	assert_int_equal(vcard_process_apdu(card, (const uint8_t *)"\x00\xA4\x04\x00", 4, ex.data), 0);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_OK);

	fault = (struct vcard_fault){ .kind = VCARD_FAULT_GET_RESPONSE_LOOP };
	vcard_set_fault(card, &fault);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), 0x61FF);
	assert_int_equal(send_hex(card, "00 C0 00 00 FF"), 0x61FF);
	assert_int_equal(send_hex(card, "00 C0 00 00 FF"), 0x61FF);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 C0 00 00 FF"), 0x61FF);
	vcard_reset(card);
	assert_int_equal(send_hex(card, "00 C0 00 00 FF"), HPKI_SW_CONDITIONS_NOT_SATISFIED);

	/* Clearing a pending fault. */
	fault = (struct vcard_fault){ .kind = VCARD_FAULT_STATUS_WORD, .sw = 0x6581, .count = 5 };
	vcard_set_fault(card, &fault);
	fault.kind = VCARD_FAULT_NONE;
	vcard_set_fault(card, &fault);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	vcard_free(card);
}

static void test_corrupt_file(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");
	static uint8_t buf[65536];
	size_t len;
	uint8_t *cert = read_pki_file("doctor", "auth.crt.der", &len);

	(void)state;
	assert_int_equal(vcard_corrupt_file(card, 2, 0x0016, "truncate"), 0);
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(select_fid(card, 0x0016), HPKI_SW_OK);
	assert_int_equal(read_current_ef_short(card, buf), len / 2);
	assert_memory_equal(buf, cert, len / 2);

	assert_int_equal(vcard_corrupt_file(card, 1, 0x0016, "huge-length"), 0);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(select_fid(card, 0x0016), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 00 00 06"), HPKI_SW_OK);
	assert_memory_equal(ex.data, ((uint8_t[]){ 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF }), 6);

	assert_int_equal(vcard_corrupt_file(card, 1, 0x0004, "garbage"), 0);
	assert_int_equal(vcard_corrupt_file(card, 1, 0x000C, "garbage"), -1); /* key IEF */
	assert_int_equal(vcard_corrupt_file(card, 1, 0x9999, "garbage"), -1);
	assert_int_equal(vcard_corrupt_file(card, 3, 0x0016, "garbage"), -1);
	assert_int_equal(vcard_corrupt_file(card, 1, 0x0016, "melt"), -1);
	free(cert);
	vcard_free(card);
}

static void test_stats(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");
	const struct vcard_stats *stats = vcard_get_stats(card);

	(void)state;
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_OK); /* 22 in, 22 out */
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);                  /* 4 in, 2 out */
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);        /* 9 in, 2 out */
	assert_int_equal(send_hex(card, "00 B0 91 00 04"), HPKI_SW_OK);       /* 5 in, 6 out */
	assert_int_equal(stats->apdus, 4);
	assert_int_equal(stats->per_ins[0xA4], 1);
	assert_int_equal(stats->per_ins[0x20], 2);
	assert_int_equal(stats->per_ins[0xB0], 1);
	assert_int_equal(stats->verify_with_data, 1);
	assert_int_equal(stats->bytes_in, 22 + 4 + 9 + 5);
	assert_int_equal(stats->bytes_out, 22 + 2 + 2 + 6);
	vcard_reset_stats(card);
	assert_int_equal(stats->apdus, 0);
	assert_int_equal(stats->per_ins[0xA4], 0);
	vcard_free(card);
}

/* ---- random APDUs --------------------------------------------------------------------------- */

/* A command that is sometimes random bytes and sometimes a random but plausible APDU
 * with a known INS, so that the handlers' parameter checks get exercised too. */
static size_t random_apdu(uint8_t *cmd, unsigned *seed)
{
	static const uint8_t ins[] = { 0xA4, 0xB0, 0x20, 0x22, 0x2A, 0xC0, 0x00, 0xB1 };
	static const uint8_t cla[] = { 0x00, 0x10, 0x80, 0x90, 0x0C, 0xFF };
	size_t len, i;

	if (rand_r(seed) % 4 == 0) {
		len = (size_t)rand_r(seed) % 300;
		for (i = 0; i < len; i++)
			cmd[i] = (uint8_t)rand_r(seed);
		return len;
	}
	cmd[0] = cla[rand_r(seed) % sizeof cla];
	cmd[1] = ins[rand_r(seed) % sizeof ins];
	cmd[2] = (uint8_t)(rand_r(seed) % 3 == 0 ? rand_r(seed) : (rand_r(seed) % 2 ? 0x04 : 0x00));
	cmd[3] = (uint8_t)(rand_r(seed) % 3 == 0 ? rand_r(seed) : 0x00);
	switch (rand_r(seed) % 4) {
	case 0:
		return 4;
	case 1:
		cmd[4] = (uint8_t)rand_r(seed);
		return 5;
	case 2: /* short with data */
		len = (size_t)(rand_r(seed) % 255) + 1;
		cmd[4] = (uint8_t)len;
		for (i = 0; i < len; i++)
			cmd[5 + i] = (uint8_t)(rand_r(seed) % 2 ? rand_r(seed) : 0xE8);
		return 5 + len + (size_t)(rand_r(seed) % 3);
	default: /* extended with data */
		len = (size_t)(rand_r(seed) % 600) + 1;
		cmd[4] = 0;
		cmd[5] = (uint8_t)(len >> 8);
		cmd[6] = (uint8_t)len;
		for (i = 0; i < len; i++)
			cmd[7 + i] = (uint8_t)rand_r(seed);
		return 7 + len + (size_t)(rand_r(seed) % 3);
	}
}

static void test_random_apdus_never_crash(void **state)
{
	static uint8_t cmd[1024];
	static const char *holders[] = { "doctor", "rsa4096" };
	unsigned seed = 20250101;
	int profile, mode, round;

	(void)state;
	for (profile = VCARD_PROFILE_JMA; profile <= VCARD_PROFILE_BLANK; profile++) {
		for (mode = VCARD_RESPONSE_DIRECT; mode <= VCARD_RESPONSE_WRONG_LE; mode++) {
			struct vcard_config config = default_config((enum vcard_profile)profile, holders[mode % 2]);
			struct vcard *card;

			config.response_mode = (enum vcard_response_mode)mode;
			config.extended_length = mode != VCARD_RESPONSE_WRONG_LE;
			card = card_with(config);
			for (round = 0; round < 3000; round++) {
				size_t len = random_apdu(cmd, &seed);
				size_t n;

				/* Keep an application selected and verified often, so deep paths run. */
				if (round % 50 == 0) {
					select_aid(card, round % 100 ? aid_sig : aid_auth, 16, 0x0C);
					verify_pin(card, profile == VCARD_PROFILE_JAHIS ? 0x96 : 0x88,
						   round % 100 ? "5678" : "1234");
				}
				n = vcard_process_apdu(card, cmd, len, ex.data);
				assert_true(n >= 2 && n <= RESP_MAX);
			}
			vcard_free(card);
		}
	}
}

const struct CMUnitTest vcard_transport_tests[] = {
	cmocka_unit_test(test_response_mode_get_response),
	cmocka_unit_test(test_response_mode_wrong_le),
	cmocka_unit_test(test_blank_card),
	cmocka_unit_test(test_malformed_apdus),
	cmocka_unit_test(test_faults),
	cmocka_unit_test(test_corrupt_file),
	cmocka_unit_test(test_stats),
	cmocka_unit_test(test_random_apdus_never_crash),
};
const size_t vcard_transport_test_count = sizeof vcard_transport_tests / sizeof vcard_transport_tests[0];
