/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the card-behaviour switches of the virtual card (issue 10,
 * card-fidelity.md §6) and of the profile jma-strict: for every switch, the
 * default answer and each other value, with exact status words and data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hpki/card-defs.h"
#include "hpki/cio.h"
#include "vcard.h"

#include "vcard-test-helpers.h"

#define JMA_PIN_REF HPKI_JMA_PIN_REFERENCE
#define TRIES_FULL (HPKI_SW_PIN_TRIES_LEFT | HPKI_PIN_MAX_TRIES)

static struct vcard *jma_card_switched(const char *name, const char *value)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");

	assert_int_equal(vcard_switch_set(&config, name, value), 0);
	return card_with(config);
}

/* ---- names and values ------------------------------------------------------------------- */

static void assert_switch_value(const struct vcard_config *config, const char *name, const char *expected)
{
	char value[32];

	assert_int_equal(vcard_switch_get(config, name, value, sizeof value), 0);
	assert_string_equal(value, expected);
}

static void test_switch_names_and_defaults(void **state)
{
	static const char *const defaults[][2] = {
		{ "df-select", "honour-p2" },  { "empty-verify", "status" }, { "extended-length", "all" },
		{ "chaining", "yes" },         { "prkd-key-reference", "yes" }, { "mse-errors", "6a88" },
		{ "reselect", "keep-pin" },    { "read-past-eof", "6282" },  { "files", "minimal" },
		{ "response-mode", "direct" }, { "iso-signature", "no" },
	};
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		assert_string_equal(vcard_switch_name(i), defaults[i][0]);
		assert_switch_value(&config, defaults[i][0], defaults[i][1]);
	}
	assert_null(vcard_switch_name(i));
	/* Round trips, the refusal's status word in any case, and bad input. */
	assert_int_equal(vcard_switch_set(&config, "df-select", "refuse-6a81"), 0);
	assert_switch_value(&config, "df-select", "refuse-6A81");
	assert_int_equal(vcard_switch_set(&config, "df-select", "refuse-9000"), -1);
	assert_int_equal(vcard_switch_set(&config, "df-select", "refuse-6A8"), -1);
	assert_int_equal(vcard_switch_set(&config, "df-select", "sometimes"), -1);
	assert_int_equal(vcard_switch_set(&config, "no-such-switch", "yes"), -1);
	assert_switch_value(&config, "df-select", "refuse-6A81");
	assert_int_equal(vcard_switch_set(&config, "extended-length", "none"), 0);
	assert_false(config.extended_length);
	assert_switch_value(&config, "extended-length", "none");
	assert_int_equal(vcard_switch_set(&config, "extended-length", "pso"), 0);
	assert_true(config.extended_length);
	assert_int_equal(config.quirks.extended_scope, VCARD_EXTENDED_PSO_ONLY);
	assert_int_equal(vcard_switch_set(&config, "response-mode", "wrong-le"), 0);
	assert_int_equal(config.response_mode, VCARD_RESPONSE_WRONG_LE);
}

static void test_jma_strict_preset(void **state)
{
	static const char *const strict[][2] = {
		{ "df-select", "always-fci" }, { "empty-verify", "always-63cx" }, { "extended-length", "pso" },
		{ "chaining", "no" },          { "prkd-key-reference", "no" },    { "mse-errors", "by-file" },
		{ "reselect", "clear-pin" },   { "read-past-eof", "ff-9000" },    { "files", "jma" },
		{ "response-mode", "get-response" }, { "iso-signature", "no" },
	};
	struct vcard_config config = default_config(VCARD_PROFILE_JAHIS, "doctor");
	size_t i;

	(void)state;
	vcard_config_set_jma_strict(&config);
	assert_int_equal(config.profile, VCARD_PROFILE_JMA);
	for (i = 0; i < sizeof strict / sizeof strict[0]; i++)
		assert_switch_value(&config, strict[i][0], strict[i][1]);
}

/* ---- df-select (risk 1) ------------------------------------------------------------------ */

static void test_df_select_always_fci(void **state)
{
	struct vcard *card = jma_card_switched("df-select", "always-fci");

	(void)state;
	assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x0C), HPKI_SW_OK);
	assert_fci(aid_sig);
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_fci(aid_auth);
	/* EF selection still honours P2=0C (G31 C.2.2 defines it there). */
	assert_int_equal(select_fid(card, HPKI_JMA_FID_EE_CERT), HPKI_SW_OK);
	assert_int_equal(ex.len, 0);
	vcard_free(card);
}

static void test_df_select_refuses_p2_0c(void **state)
{
	static const char *const values[] = { "refuse-6A86", "refuse-6A81", "refuse-6D00", "refuse-6700" };
	static const uint16_t sws[] = { 0x6A86, 0x6A81, 0x6D00, 0x6700 };
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct vcard *card = jma_card_switched("df-select", values[i]);

		assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x0C), sws[i]);
		assert_int_equal(ex.len, 0);
		/* Nothing was selected: VERIFY finds no PIN reference. */
		assert_int_equal(verify_empty(card, JMA_PIN_REF), HPKI_SW_REF_NOT_FOUND);
		assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
		assert_fci(aid_sig);
		assert_int_equal(verify_empty(card, JMA_PIN_REF), TRIES_FULL);
		vcard_free(card);
	}
}

/* ---- empty VERIFY (risk 2) --------------------------------------------------------------- */

static void test_empty_verify_always_63cx(void **state)
{
	struct vcard *card = jma_card_switched("empty-verify", "always-63cx");

	(void)state;
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), TRIES_FULL);
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "1234"), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), TRIES_FULL); /* verified all the same */
	assert_int_equal(select_fid(card, HPKI_JMA_FID_KEY), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "still logged in", 256), HPKI_SW_OK);
	assert_true(signature_valid("doctor", "auth.crt.der", "still logged in", ex.data, ex.len));
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "0000"), HPKI_SW_PIN_TRIES_LEFT | 14);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), HPKI_SW_PIN_TRIES_LEFT | 14);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_JMA, "doctor"); /* default: 9000 once verified */
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "1234"), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), HPKI_SW_OK);
	vcard_free(card);
}

/* ---- extended length and chaining (risk 3) ---------------------------------------------- */

static void test_extended_length_for_pso_only(void **state)
{
	struct vcard *card = jma_card_switched("extended-length", "pso");

	(void)state;
	assert_int_equal(send_hex(card, "00 A4 04 00 00 00 10 E8 28 BD 08 0F A0 00 00 03 91 00 00 00 00 00 01 00 00"),
			 HPKI_SW_WRONG_LENGTH);
	assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 91 00 00 00 00"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 B0 91 00 00"), HPKI_SW_END_OF_FILE);
	assert_int_equal(ex.len, 64);
	jma_prepare_signature(card, aid_sig, "5678");
	assert_int_equal(pso_extended(card, "extended pso", 256), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	assert_true(signature_valid("doctor", "sig.crt.der", "extended pso", ex.data, ex.len));
	vcard_free(card);
}

static void test_extended_length_none_and_chaining_refused(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card;
	uint8_t block[256];

	(void)state;
	assert_int_equal(vcard_switch_set(&config, "extended-length", "none"), 0);
	assert_int_equal(vcard_switch_set(&config, "chaining", "no"), 0);
	card = card_with(config);
	jma_prepare_signature(card, aid_sig, "5678");
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_WRONG_LENGTH);
	pkcs1_block("x", block, 256);
	assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block, 128, -1, false),
			 HPKI_SW_CHAINING_UNSUPPORTED);
	assert_int_equal(ex.len, 0);
	/* Nothing was kept of the refused part: the next command is on its own. */
	assert_int_equal(verify_empty(card, JMA_PIN_REF), HPKI_SW_OK);
	vcard_free(card);
}

/* ---- EF.PrKD and MSE (risk 4) --------------------------------------------------------------- */

static void read_prkd(struct vcard *card, struct hpki_prkd_key *key)
{
	static uint8_t buf[4096];
	size_t count = 0, len;

	assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_PRKD), HPKI_SW_OK);
	len = read_current_ef_short(card, buf);
	assert_int_equal(hpki_cio_decode_prkd(buf, len, key, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 1);
}

static void test_prkd_without_key_reference(void **state)
{
	struct vcard *card = jma_card_switched("prkd-key-reference", "no");
	struct hpki_prkd_key key;
	uint16_t fid = 0;

	(void)state;
	read_prkd(card, &key);
	assert_false(key.has_key_reference);
	assert_true(hpki_cio_path_is_fid(&key.path, &fid) && fid == HPKI_JMA_FID_KEY);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_JMA, "doctor");
	read_prkd(card, &key);
	assert_true(key.has_key_reference);
	assert_int_equal(key.key_reference, 0x0C);
	vcard_free(card);
}

static uint16_t mse_key_reference(struct vcard *card, uint16_t value)
{
	uint8_t data[4] = { HPKI_MSE_TAG_KEY_REF, 0x02, (uint8_t)(value >> 8), (uint8_t)value };

	return send_apdu(card, 0x00, 0x22, 0x41, 0xB6, data, sizeof data, -1, false);
}

/* The MIYH scan of card-fidelity.md §1.1, value by value. */
static void test_mse_errors_by_file(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	static const uint16_t not_keys[] = { 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x000F, 0x0016, 0x0017 };
	static const uint16_t absent[] = { 0x0006, 0x0007, 0x000A, 0x000B, 0x0010, 0x0014, 0x0015, 0x001A };
	struct vcard *card;
	size_t i;

	(void)state;
	assert_int_equal(vcard_switch_set(&config, "mse-errors", "by-file"), 0);
	assert_int_equal(vcard_switch_set(&config, "files", "jma"), 0);
	card = card_with(config);
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "1234"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "no mse", 256), HPKI_SW_SECURITY_STATUS); /* MIYH f067407 */
	for (i = 0; i < sizeof not_keys / sizeof not_keys[0]; i++)
		assert_int_equal(mse_key_reference(card, not_keys[i]), HPKI_SW_INCOMPATIBLE_FILE);
	for (i = 0; i < sizeof absent / sizeof absent[0]; i++)
		assert_int_equal(mse_key_reference(card, absent[i]), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(mse_key_reference(card, 0x0008), HPKI_SW_SECURITY_STATUS);
	assert_int_equal(mse_key_reference(card, 0x0009), HPKI_SW_SECURITY_STATUS);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 81 02 00 0C"), HPKI_SW_WRONG_DATA); /* tag 81 */
	assert_int_equal(mse_key_reference(card, 0x000C), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "after mse", 256), HPKI_SW_OK);
	assert_true(signature_valid("doctor", "auth.crt.der", "after mse", ex.data, ex.len));
	vcard_free(card);

	/* Without the JMA file inventory, 0008 and 000F do not exist. */
	card = jma_card_switched("mse-errors", "by-file");
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(mse_key_reference(card, 0x0008), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(mse_key_reference(card, 0x000F), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(mse_key_reference(card, 0x0018), HPKI_SW_INCOMPATIBLE_FILE);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_JMA, "doctor"); /* default: 6A88, PSO without MSE 6985 */
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "1234"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "no mse", 256), HPKI_SW_CONDITIONS_NOT_SATISFIED);
	assert_int_equal(mse_key_reference(card, 0x0016), HPKI_SW_REF_NOT_FOUND);
	vcard_free(card);
}

/* ---- re-SELECT (risk 6) ------------------------------------------------------------------ */

static void test_reselect_clears_pin(void **state)
{
	struct vcard *card = jma_card_switched("reselect", "clear-pin");

	(void)state;
	jma_prepare_signature(card, aid_auth, "1234");
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), TRIES_FULL);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	assert_int_equal(pso_extended(card, "x", 256), HPKI_SW_SECURITY_STATUS);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_JMA, "doctor"); /* default: the same application keeps it */
	jma_prepare_signature(card, aid_auth, "1234");
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), HPKI_SW_OK);
	vcard_free(card);
}

/* ---- READ BINARY beyond the end ------------------------------------------------------------ */

static bool all_bytes_are(const uint8_t *data, size_t len, uint8_t value)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] != value)
			return false;
	return true;
}

static void test_read_past_eof_pads_with_ff(void **state)
{
	struct vcard *card = jma_card_switched("read-past-eof", "ff-9000");
	size_t cert_len, last_block, tail;
	uint8_t *cert = read_pki_file("doctor", "sig.crt.der", &cert_len);

	(void)state;
	assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	/* EF.OD: 64 bytes of directory (00-padded), then FF up to the 256-byte block. */
	assert_int_equal(send_hex(card, "00 B0 91 00 00"), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	assert_true(all_bytes_are(ex.data + 64, 192, 0xFF));
	/* The certificate's last block, whole, with 9000. */
	last_block = cert_len / 256;
	tail = cert_len % 256;
	assert_true(tail > 0);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_EE_CERT), HPKI_SW_OK);
	assert_int_equal(send_apdu(card, 0x00, 0xB0, (uint8_t)last_block, 0x00, NULL, 0, 0, false), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	assert_memory_equal(ex.data, cert + last_block * 256, tail);
	assert_true(all_bytes_are(ex.data + tail, 256 - tail, 0xFF));
	/* Past the padded size: 6B00; an extended read gets the padded EF, 9000. */
	assert_int_equal(send_apdu(card, 0x00, 0xB0, (uint8_t)(last_block + 1), 0x00, NULL, 0, 0, false),
			 HPKI_SW_WRONG_P1P2);
	assert_int_equal(send_hex(card, "00 B0 00 00 00 00 00"), HPKI_SW_OK);
	assert_int_equal(ex.len, (last_block + 1) * 256);
	assert_memory_equal(ex.data, cert, cert_len);
	free(cert);
	vcard_free(card);
}

/* ---- the JMA file inventory -------------------------------------------------------------- */

static void test_jma_file_inventory(void **state)
{
	struct vcard *card = jma_card_switched("files", "jma");
	static uint8_t buf[8192];
	struct hpki_cd_cert certs[4];
	size_t root_len, count = 0, len;
	uint8_t *root = read_pki_file("ca", "root.der", &root_len);
	uint16_t fid = 0;

	(void)state;
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(select_fid(card, 0x0008), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 00 00 00"), HPKI_SW_INCOMPATIBLE_FILE); /* an IEF */
	assert_int_equal(select_fid(card, 0x0009), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 00 00 00"), HPKI_SW_INCOMPATIBLE_FILE);
	assert_int_equal(select_fid(card, 0x0018), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(select_fid(card, 0x000F), HPKI_SW_OK);
	assert_int_equal(read_current_ef_short(card, buf), root_len);
	assert_memory_equal(buf, root, root_len);
	/* EF.CD names the root CA certificate at 000F. */
	assert_int_equal(select_fid(card, HPKI_JMA_FID_CD), HPKI_SW_OK);
	len = read_current_ef_short(card, buf);
	assert_int_equal(hpki_cio_decode_cd(buf, len, certs, 4, &count), HPKI_CIO_OK);
	assert_int_equal(count, 3);
	assert_true(certs[1].authority && hpki_cio_path_is_fid(&certs[1].path, &fid) && fid == 0x000F);
	free(root);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_JMA, "doctor"); /* default: no 0008/0009/000F */
	assert_int_equal(select_aid(card, aid_auth, HPKI_AID_LEN, 0x00), HPKI_SW_OK);
	assert_int_equal(select_fid(card, 0x0008), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(select_fid(card, 0x0009), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(select_fid(card, 0x000F), HPKI_SW_FILE_NOT_FOUND);
	vcard_free(card);
}

/* ---- jma-2019 with MSE and ISO PSO as well --------------------------------------------------- */

static void test_jma_2019_iso_signature(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA_2019, "doctor");
	struct vcard *card;
	uint8_t block[256], di[51];

	(void)state;
	assert_int_equal(vcard_switch_set(&config, "iso-signature", "yes"), 0);
	card = card_with(config);
	jma_prepare_signature(card, aid_sig, "5678");
	pkcs1_block("iso on 2019", block, 256);
	assert_int_equal(pso_extended(card, "iso on 2019", 256), HPKI_SW_WRONG_LENGTH); /* short APDUs only */
	assert_int_equal(send_apdu(card, 0x10, 0x2A, 0x9E, 0x9A, block, 128, -1, false), HPKI_SW_OK);
	assert_int_equal(send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block + 128, 128, 0, false), HPKI_SW_OK);
	assert_int_equal(ex.len, 256);
	assert_true(signature_valid("doctor", "sig.crt.der", "iso on 2019", ex.data, ex.len));
	/* The proprietary command still works. */
	digest_info("legacy too", di);
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "5678"), HPKI_SW_OK);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_KEY), HPKI_SW_OK);
	assert_int_equal(send_apdu(card, 0x80, 0x2A, 0x00, 0x80, di, sizeof di, 0, false), HPKI_SW_OK);
	assert_true(signature_valid("doctor", "sig.crt.der", "legacy too", ex.data, ex.len));
	vcard_free(card);
}

/* ---- jma-strict: the sequence of a real-card tool, with 61xx answers --------------------------- */

static void get_response(struct vcard *card, uint8_t le, uint16_t expected_sw, size_t expected_len)
{
	assert_int_equal(send_apdu(card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, le, false), expected_sw);
	assert_int_equal(ex.len, expected_len);
}

/* [MIY]'s order (facts §4.2): SELECT AP with FCI, SELECT 000C, MSE 84, VERIFY, extended PSO. */
static void test_jma_strict_real_tool_sequence(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card;

	(void)state;
	vcard_config_set_jma_strict(&config);
	card = card_with(config);
	assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x00), 0x6114);
	get_response(card, 0x14, HPKI_SW_OK, 20);
	assert_fci(aid_sig);
	/* P2=0C brings the FCI as well (61 14), and a re-SELECT drops the PIN. */
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "5678"), HPKI_SW_OK);
	assert_int_equal(select_aid(card, aid_sig, HPKI_AID_LEN, 0x0C), 0x6114);
	get_response(card, 0x14, HPKI_SW_OK, 20);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), TRIES_FULL);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_KEY), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, JMA_PIN_REF, "5678"), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, JMA_PIN_REF), TRIES_FULL);
	assert_int_equal(pso_extended(card, "strict document", 256), 0x6100);
	get_response(card, 0x00, HPKI_SW_OK, 256);
	assert_true(signature_valid("doctor", "sig.crt.der", "strict document", ex.data, ex.len));
	/* What today's module tries instead: MSE tag 81 (no keyReference) and chaining. */
	assert_int_equal(send_hex(card, "00 22 41 B6 04 81 02 00 0C"), HPKI_SW_WRONG_DATA);
	assert_int_equal(send_hex(card, "10 2A 9E 9A 01 00"), HPKI_SW_CHAINING_UNSUPPORTED);
	assert_int_equal(send_hex(card, "00 B0 00 00 00 00 00"), HPKI_SW_WRONG_LENGTH);
	vcard_free(card);
}

/* ---- robustness: random commands on cards with the switches on ------------------------------ */

/* A command of the card's instructions with random parameters and length fields. */
static size_t random_command(uint8_t *cmd, unsigned *seed)
{
	static const uint8_t classes[] = { 0x00, 0x10, 0x80 };
	static const uint8_t instructions[] = { 0xA4, 0xB0, 0x20, 0x22, 0x2A, 0xC0 };
	size_t len, i;

	cmd[0] = classes[rand_r(seed) % 3];
	cmd[1] = instructions[rand_r(seed) % 6];
	cmd[2] = (uint8_t)(rand_r(seed) % 4 ? rand_r(seed) % 0x20 : rand_r(seed));
	cmd[3] = (uint8_t)(rand_r(seed) % 2 ? rand_r(seed) % 0x10 : rand_r(seed));
	switch (rand_r(seed) % 4) {
	case 0:
		return 4;
	case 1: /* short Le */
		cmd[4] = (uint8_t)rand_r(seed);
		return 5;
	case 2: /* extended Le */
		cmd[4] = 0;
		cmd[5] = (uint8_t)(rand_r(seed) % 2 ? 0 : rand_r(seed));
		cmd[6] = (uint8_t)rand_r(seed);
		return 7;
	default: /* short data, Le or not */
		len = (size_t)(rand_r(seed) % 255) + 1;
		cmd[4] = (uint8_t)len;
		for (i = 0; i < len; i++)
			cmd[5 + i] = (uint8_t)(rand_r(seed) % 3 ? rand_r(seed) % 0x20 : rand_r(seed));
		return 5 + len + (size_t)(rand_r(seed) % 2);
	}
}

static void test_random_commands_on_switched_cards(void **state)
{
	static const char *const switched[][2] = {
		{ "df-select", "always-fci" }, { "df-select", "refuse-6D00" }, { "empty-verify", "always-63cx" },
		{ "extended-length", "pso" },  { "mse-errors", "by-file" },    { "reselect", "clear-pin" },
		{ "read-past-eof", "ff-9000" }, { "files", "jma" },            { "iso-signature", "yes" },
	};
	static uint8_t cmd[300];
	unsigned seed = 20261201;
	size_t i, round;

	(void)state;
	for (i = 0; i <= sizeof switched / sizeof switched[0]; i++) {
		struct vcard_config config = default_config(i % 2 ? VCARD_PROFILE_JMA_2019 : VCARD_PROFILE_JMA, "doctor");
		struct vcard *card;

		if (i == sizeof switched / sizeof switched[0])
			vcard_config_set_jma_strict(&config);
		else
			assert_int_equal(vcard_switch_set(&config, switched[i][0], switched[i][1]), 0);
		card = card_with(config);
		for (round = 0; round < 2000; round++) {
			size_t n;

			if (round % 40 == 0) { /* an application and a verified PIN, so deep paths run */
				select_aid(card, round % 80 ? aid_sig : aid_auth, HPKI_AID_LEN, 0x00);
				verify_pin(card, JMA_PIN_REF, round % 80 ? "5678" : "1234");
			}
			n = vcard_process_apdu(card, cmd, random_command(cmd, &seed), ex.data);
			assert_true(n >= 2 && n <= RESP_MAX);
		}
		vcard_free(card);
	}
}

const struct CMUnitTest vcard_switch_tests[] = {
	cmocka_unit_test(test_switch_names_and_defaults),
	cmocka_unit_test(test_jma_strict_preset),
	cmocka_unit_test(test_df_select_always_fci),
	cmocka_unit_test(test_df_select_refuses_p2_0c),
	cmocka_unit_test(test_empty_verify_always_63cx),
	cmocka_unit_test(test_extended_length_for_pso_only),
	cmocka_unit_test(test_extended_length_none_and_chaining_refused),
	cmocka_unit_test(test_prkd_without_key_reference),
	cmocka_unit_test(test_mse_errors_by_file),
	cmocka_unit_test(test_reselect_clears_pin),
	cmocka_unit_test(test_read_past_eof_pads_with_ff),
	cmocka_unit_test(test_jma_file_inventory),
	cmocka_unit_test(test_jma_2019_iso_signature),
	cmocka_unit_test(test_jma_strict_real_tool_sequence),
	cmocka_unit_test(test_random_commands_on_switched_cards),
};
const size_t vcard_switch_test_count = sizeof vcard_switch_tests / sizeof vcard_switch_tests[0];
