/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the virtual card's signatures (issue 2): PSO after MSE per
 * profile, its preconditions, command chaining, RSA-4096 and the jma-2019 card's
 * "80 2A 00 80"; every signature verified with OpenSSL against the certificate.
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

/* ---- signatures -------------------------------------------------------------------------- */

static void test_pso_signature_jma(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");

	(void)state;
	/* Signature AP: the [MIY] sequence, then the signature verifies against the cert. */
	jma_prepare_signature(card, aid_sig, "5678");
	assert_int_equal(pso_extended(card, "document one", 256), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	assert_true(signature_valid("doctor", "sig.crt.der", "document one", ex.data, ex.len));
	/* userConsent: the next signature needs a fresh VERIFY. */
	assert_int_equal(pso_extended(card, "document two", 256), HPKI_SW_SECURITY_STATUS);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "document two", 256), HPKI_SW_OK);
	assert_true(signature_valid("doctor", "sig.crt.der", "document two", ex.data, ex.len));

	/* Authentication AP: verified stays for several signatures. */
	jma_prepare_signature(card, aid_auth, "1234");
	assert_int_equal(pso_extended(card, "challenge 1", 256), HPKI_SW_OK);
	assert_true(signature_valid("doctor", "auth.crt.der", "challenge 1", ex.data, ex.len));
	assert_int_equal(pso_extended(card, "challenge 2", 256), HPKI_SW_OK);
	assert_true(signature_valid("doctor", "auth.crt.der", "challenge 2", ex.data, ex.len));
	assert_false(signature_valid("doctor", "sig.crt.der", "challenge 2", ex.data, ex.len));
	vcard_free(card);
}

static void test_pso_preconditions(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");
	uint8_t block[256];

	(void)state;
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_CONDITIONS_NOT_SATISFIED); /* no application */
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_SECURITY_STATUS);
	assert_int_equal(verify_pin(card, 0x88, "1234"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_CONDITIONS_NOT_SATISFIED); /* no MSE */
	/* MSE variants. */
	assert_int_equal(send_hex(card, "00 22 41 B6 04 81 02 00 0C"), HPKI_SW_WRONG_DATA);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0D"), HPKI_SW_REF_NOT_FOUND);
	assert_int_equal(send_hex(card, "00 22 41 B6 03 84 01 0C"), HPKI_SW_WRONG_DATA);
	assert_int_equal(send_hex(card, "00 22 41 A4 04 84 02 00 0C"), HPKI_SW_WRONG_P1P2_DATA);
	assert_int_equal(send_hex(card, "00 22 F1 B6 04 84 02 00 0C"), HPKI_SW_WRONG_P1P2_DATA);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00"), HPKI_SW_WRONG_LENGTH); /* Lc mismatch */
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	/* Input length must equal the modulus size; input must be below the modulus. */
	pkcs1_block("x", block, 256);
	assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block, 255, 0, true), HPKI_SW_WRONG_LENGTH);
	memset(block, 0xFF, sizeof block);
	assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block, 256, 0, true), HPKI_SW_WRONG_DATA);
	assert_int_equal(send_hex(card, "00 2A 9E 9B 01 00 00"), HPKI_SW_WRONG_P1P2_DATA);
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_OK);
	/* Re-selecting the application clears the security environment (MSE). */
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_CONDITIONS_NOT_SATISFIED);
	/* A jma-profile card does not know the JAHIS file reference form. */
	assert_int_equal(send_hex(card, "00 22 41 B6 04 81 02 00 17"), HPKI_SW_WRONG_DATA);
	vcard_free(card);
}

static void test_pso_jahis(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JAHIS, "doctor");

	(void)state;
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_OK);
	/* G31 A.3.3 / C.5: MSE with tag 81 file reference 0017. */
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_WRONG_DATA);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 81 02 00 17"), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x96, "5678"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "jahis document", 256), HPKI_SW_OK);
	assert_true(signature_valid("doctor", "sig.crt.der", "jahis document", ex.data, ex.len));
	vcard_free(card);
}

/* Short APDUs only: the 256-byte input goes in two chained parts (G31 A.3.3). */
static void test_pso_chaining(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card;
	uint8_t block[256];

	(void)state;
	config.extended_length = false;
	card = card_with(config);
	jma_prepare_signature(card, aid_sig, "5678");
	pkcs1_block("chained", block, 256);
	/* Extended forms are refused. */
	assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block, 256, 0, true), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 B0 00 00 00 00 00"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block, 128, -1, false), HPKI_SW_OK);
	assert_int_equal(ex.len, 0);
	assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block + 128, 128, 0, false), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	assert_true(signature_valid("doctor", "sig.crt.der", "chained", ex.data, ex.len));
	/* A part with another header breaks the chain: 6883. */
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);
	assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block, 128, -1, false), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 20 00 88"), HPKI_SW_LAST_CMD_EXPECTED);
	/* VERIFY in two parts works too. */
	assert_int_equal(send_hex(card, "10 20 00 88 02 35 36"), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 20 00 88 02 37 38"), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_OK);
	vcard_free(card);

	config.command_chaining = false;
	card = card_with(config);
	jma_prepare_signature(card, aid_sig, "5678");
	assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block, 128, -1, false),
			 HPKI_SW_CHAINING_UNSUPPORTED);
	vcard_free(card);
}

static void test_rsa4096(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "rsa4096");
	struct vcard *card = card_with(config);
	uint8_t block[512], sig[512];
	size_t i;

	(void)state;
	jma_prepare_signature(card, aid_sig, "5678");
	assert_int_equal(pso_extended(card, "big key", 512), HPKI_SW_OK);
	assert_int_equal(ex.len, 512);
	assert_true(signature_valid("rsa4096", "sig.crt.der", "big key", ex.data, ex.len));
	vcard_free(card);

	/* Without extended length: 4 chained parts in, 256 bytes + 6100, GET RESPONSE for the rest. */
	config.extended_length = false;
	card = card_with(config);
	jma_prepare_signature(card, aid_auth, "1234");
	pkcs1_block("big key, short APDUs", block, 512);
	for (i = 0; i < 3; i++)
		assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block + 128 * i, 128, -1, false), HPKI_SW_OK);
	assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block + 384, 128, 0, false), 0x6100);
	assert_int_equal(ex.len, 256);
	memcpy(sig, ex.data, 256);
	assert_int_equal(send_hex(card, "00 C0 00 00 00"), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	memcpy(sig + 256, ex.data, 256);
	assert_true(signature_valid("rsa4096", "auth.crt.der", "big key, short APDUs", sig, 512));
	assert_int_equal(send_hex(card, "00 C0 00 00 00"), HPKI_SW_CONDITIONS_NOT_SATISFIED);
	vcard_free(card);
}

/* The 2019 card: "80 2A 00 80 Lc DigestInfo 00" after SELECT EF 000C, short APDUs only. */
static void test_jma_2019(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA_2019, "doctor");
	struct vcard *card = card_with(config); /* extended_length=true is overridden */
	uint8_t di[51];

	(void)state;
	digest_info("legacy document", di);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_INS_NOT_SUPPORTED);
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_WRONG_LENGTH); /* extended form */
	assert_int_equal(send_hex(card, "00 2A 9E 9A 01 00 00"), HPKI_SW_INS_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "80 B0 00 00 00"), HPKI_SW_INS_NOT_SUPPORTED);
	assert_int_equal(send_hex(card, "00 B0 00 00 00 00 00"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_PRKD), HPKI_SW_OK); /* [GEBO] selects 0002 */
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);
	/* The key EF must be current. */
	assert_int_equal(send_apdu(card, 0x80, 0x2A, 0x00, 0x80, di, sizeof di, 0, false),
			 HPKI_SW_CONDITIONS_NOT_SATISFIED);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_KEY), HPKI_SW_OK);
	assert_int_equal(send_apdu(card, 0x80, 0x2A, 0x00, 0x81, di, sizeof di, 0, false), HPKI_SW_WRONG_P1P2_DATA);
	assert_int_equal(send_apdu(card, 0x80, 0x2A, 0x00, 0x80, di, sizeof di, 0, false), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	assert_true(signature_valid("doctor", "sig.crt.der", "legacy document", ex.data, ex.len));
	assert_int_equal(send_apdu(card, 0x80, 0x2A, 0x00, 0x80, di, sizeof di, 0, false), HPKI_SW_SECURITY_STATUS);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);
	{
		uint8_t too_long[246] = { 0 };

		assert_int_equal(send_apdu(card, 0x80, 0x2A, 0x00, 0x80, too_long, 246, 0, false),
				 HPKI_SW_WRONG_LENGTH);
	}
	vcard_free(card);

	/* jma does not know class 80. */
	card = new_card(VCARD_PROFILE_JMA, "doctor");
	assert_int_equal(send_apdu(card, 0x80, 0x2A, 0x00, 0x80, di, sizeof di, 0, false), HPKI_SW_CLA_NOT_SUPPORTED);
	vcard_free(card);
}

const struct CMUnitTest vcard_signature_tests[] = {
	cmocka_unit_test(test_pso_signature_jma),
	cmocka_unit_test(test_pso_preconditions),
	cmocka_unit_test(test_pso_jahis),
	cmocka_unit_test(test_pso_chaining),
	cmocka_unit_test(test_rsa4096),
	cmocka_unit_test(test_jma_2019),
};
const size_t vcard_signature_test_count = sizeof vcard_signature_tests / sizeof vcard_signature_tests[0];
