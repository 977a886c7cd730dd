/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the ISO 7816-15 codec: round trips, known encodings, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "hpki/cio.h"

static void test_od_round_trip_with_fid_and_sfi_paths(void **state)
{
	struct hpki_od_entry in[3] = { { .kind = HPKI_OD_PRIVATE_KEYS },
				       { .kind = HPKI_OD_CERTIFICATES },
				       { .kind = HPKI_OD_AUTH_OBJECTS } };
	struct hpki_od_entry out[4];
	uint8_t *der = NULL;
	size_t der_len = 0, count = 0;
	uint16_t fid;
	uint8_t sfi;

	hpki_cio_path_set_fid(&in[0].path, 0x0002);
	hpki_cio_path_set_sfi(&in[1].path, 0x15);
	hpki_cio_path_set_fid(&in[2].path, 0x0001);
	assert_int_equal(hpki_cio_encode_od(in, 3, &der, &der_len), HPKI_CIO_OK);
	/* [0] { SEQUENCE { OCTET STRING 00 02 } } — the JMA form (facts §2.2). */
	static const uint8_t first[] = { 0xA0, 0x06, 0x30, 0x04, 0x04, 0x02, 0x00, 0x02 };
	assert_memory_equal(der, first, sizeof first);
	assert_int_equal(hpki_cio_decode_od(der, der_len, out, 4, &count), HPKI_CIO_OK);
	assert_int_equal(count, 3);
	assert_int_equal(out[1].kind, HPKI_OD_CERTIFICATES);
	assert_true(hpki_cio_path_is_sfi(&out[1].path, &sfi));
	assert_int_equal(sfi, 0x15);
	assert_true(hpki_cio_path_is_fid(&out[2].path, &fid));
	assert_int_equal(fid, 0x0001);
	OPENSSL_free(der);
}

static void test_od_stops_at_padding_and_skips_unknown(void **state)
{
	/* [4] path 0004, then an [0] objects form (not a path), then FF padding. */
	static const uint8_t file[] = { 0xA4, 0x06, 0x30, 0x04, 0x04, 0x02, 0x00, 0x04, 0xA0, 0x03, 0xA0, 0x01,
					0x00, 0xFF, 0xFF, 0xFF };
	struct hpki_od_entry out[2];
	size_t count;

	assert_int_equal(hpki_cio_decode_od(file, sizeof file, out, 2, &count), HPKI_CIO_OK);
	assert_int_equal(count, 1);
	assert_int_equal(out[0].kind, HPKI_OD_CERTIFICATES);
}

static void test_aod_round_trip_keeps_pin_reference(void **state)
{
	struct hpki_aod_pin pin = { .label = "PIN",
				    .private_object = true,
				    .auth_id = { 0x08 },
				    .auth_id_len = 1,
				    .pwd_flags = HPKI_PWD_FLAG_CASE_SENSITIVE | HPKI_PWD_FLAG_LOCAL |
						 HPKI_PWD_FLAG_INITIALIZED,
				    .pwd_type = HPKI_PWD_UTF8,
				    .min_length = 4,
				    .stored_length = 0,
				    .max_length = 16,
				    .pwd_reference = 0x88 };
	struct hpki_aod_pin out;
	uint8_t *der = NULL;
	size_t der_len, count;

	assert_int_equal(hpki_cio_encode_aod(&pin, 1, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(hpki_cio_decode_aod(der, der_len, &out, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 1);
	assert_string_equal(out.label, "PIN");
	assert_true(out.private_object);
	assert_int_equal(out.auth_id_len, 1);
	assert_int_equal(out.auth_id[0], 0x08);
	assert_int_equal(out.pwd_flags, pin.pwd_flags);
	assert_int_equal(out.pwd_type, HPKI_PWD_UTF8);
	assert_int_equal(out.min_length, 4);
	assert_int_equal(out.max_length, 16);
	assert_int_equal(out.pwd_reference, 0x88);
	assert_false(out.has_pad_char);
	OPENSSL_free(der);
}

static void test_prkd_round_trip_with_user_consent(void **state)
{
	struct hpki_prkd_key key = { .label = "Private key of HPKI",
				     .private_object = true,
				     .auth_id = { 0x08 },
				     .auth_id_len = 1,
				     .user_consent = 1,
				     .id = { 0x01 },
				     .id_len = 1,
				     .usage = HPKI_KEY_USAGE_NON_REPUDIATION,
				     .has_key_reference = true,
				     .key_reference = 0x0C,
				     .modulus_bits = 2048 };
	struct hpki_prkd_key out;
	uint8_t *der = NULL;
	size_t der_len, count;
	uint16_t fid;

	hpki_cio_path_set_fid(&key.path, 0x000C);
	assert_int_equal(hpki_cio_encode_prkd(&key, 1, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(hpki_cio_decode_prkd(der, der_len, &out, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 1);
	assert_string_equal(out.label, key.label);
	assert_int_equal(out.user_consent, 1);
	assert_int_equal(out.usage, HPKI_KEY_USAGE_NON_REPUDIATION);
	assert_true(out.has_key_reference);
	assert_int_equal(out.key_reference, 0x0C);
	assert_int_equal(out.modulus_bits, 2048);
	assert_true(hpki_cio_path_is_fid(&out.path, &fid));
	assert_int_equal(fid, 0x000C);
	OPENSSL_free(der);
}

static void test_cd_round_trip_authority_flag(void **state)
{
	struct hpki_cd_cert certs[2] = {
		{ .label = "HPKI END ENTITY CERTIFICATE", .id = { 0x17 }, .id_len = 1 },
		{ .label = "HPKI ROOT CA CERTIFICATE", .id = { 0x1A }, .id_len = 1, .authority = true },
	};
	struct hpki_cd_cert out[2];
	uint8_t *der = NULL;
	size_t der_len, count;

	hpki_cio_path_set_sfi(&certs[0].path, 0x18);
	hpki_cio_path_set_sfi(&certs[1].path, 0x1A);
	assert_int_equal(hpki_cio_encode_cd(certs, 2, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(hpki_cio_decode_cd(der, der_len, out, 2, &count), HPKI_CIO_OK);
	assert_int_equal(count, 2);
	assert_false(out[0].authority);
	assert_true(out[1].authority);
	assert_string_equal(out[1].label, "HPKI ROOT CA CERTIFICATE");
	assert_int_equal(out[1].path.efid_or_path[0], 0xD0); /* SFI 1A << 3 (G31 B.4.6) */
	assert_int_equal(hpki_cio_decode_cd(der, der_len, out, 1, &count), HPKI_CIO_TOO_MANY);
	OPENSSL_free(der);
}

static void test_cia_info_round_trip(void **state)
{
	struct hpki_cia_info info = { .version = 1,
				      .serial = { 0x12, 0x34, 0x56, 0x78 },
				      .serial_len = 4,
				      .label = "HPKI Application",
				      .card_flags = HPKI_CIA_FLAG_AUTH_REQUIRED | HPKI_CIA_FLAG_PRN_GENERATION };
	struct hpki_cia_info out;
	uint8_t *der = NULL;
	size_t der_len;

	assert_int_equal(hpki_cio_encode_cia_info(&info, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(hpki_cio_decode_cia_info(der, der_len, &out), HPKI_CIO_OK);
	assert_int_equal(out.version, 1);
	assert_int_equal(out.serial_len, 4);
	assert_memory_equal(out.serial, info.serial, 4);
	assert_string_equal(out.label, "HPKI Application");
	assert_int_equal(out.card_flags, info.card_flags);
	OPENSSL_free(der);
}

static void test_malformed_inputs_are_rejected(void **state)
{
	/* A length field claiming 4 GiB, a truncated value, and a broken inner structure. */
	static const uint8_t huge[] = { 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 };
	static const uint8_t truncated[] = { 0x30, 0x10, 0x30, 0x03 };
	static const uint8_t wrong_inner[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const uint8_t od_truncated[] = { 0xA8, 0x06, 0x30, 0x04, 0x04 };
	struct hpki_prkd_key keys[1];
	struct hpki_cd_cert certs[1];
	struct hpki_od_entry od[1];
	struct hpki_cia_info info;
	size_t count;

	assert_int_equal(hpki_cio_decode_prkd(huge, sizeof huge, keys, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_cd(truncated, sizeof truncated, certs, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_cd(wrong_inner, sizeof wrong_inner, certs, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_od(od_truncated, sizeof od_truncated, od, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_cia_info(truncated, 0, &info), HPKI_CIO_MALFORMED);
}

static void test_empty_and_padding_only_files_decode_to_nothing(void **state)
{
	static const uint8_t padding[] = { 0x00, 0x00, 0x00 };
	struct hpki_cd_cert certs[1];
	size_t count = 99;

	assert_int_equal(hpki_cio_decode_cd(padding, sizeof padding, certs, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
	assert_int_equal(hpki_cio_decode_cd(padding, 0, certs, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
}

/*
 * Asked for zero entries the encoders give an empty file, which may be a NULL
 * buffer; every decoder takes it as an empty directory without computing on the
 * NULL pointer (UBSan: "applying zero offset to null pointer"), and refuses a
 * NULL buffer that claims to hold bytes.
 */
static void test_zero_entries_round_trip_without_null_arithmetic(void **state)
{
	struct hpki_od_entry od[1];
	struct hpki_aod_pin pins[1];
	struct hpki_prkd_key keys[1];
	struct hpki_cd_cert certs[1];
	struct hpki_cia_info info;
	uint8_t *der;
	size_t der_len, count;

	der = (uint8_t *)"x", der_len = 99, count = 99;
	assert_int_equal(hpki_cio_encode_od(od, 0, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(der_len, 0);
	assert_int_equal(hpki_cio_decode_od(der, der_len, od, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
	OPENSSL_free(der);
	der = (uint8_t *)"x", der_len = 99, count = 99;
	assert_int_equal(hpki_cio_encode_aod(pins, 0, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(der_len, 0);
	assert_int_equal(hpki_cio_decode_aod(der, der_len, pins, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
	OPENSSL_free(der);
	der = (uint8_t *)"x", der_len = 99, count = 99;
	assert_int_equal(hpki_cio_encode_prkd(keys, 0, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(der_len, 0);
	assert_int_equal(hpki_cio_decode_prkd(der, der_len, keys, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
	OPENSSL_free(der);
	der = (uint8_t *)"x", der_len = 99, count = 99;
	assert_int_equal(hpki_cio_encode_cd(certs, 0, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(der_len, 0);
	assert_int_equal(hpki_cio_decode_cd(der, der_len, certs, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
	OPENSSL_free(der);
	/* The NULL buffer itself, as a card read of an empty file may hand it over. */
	count = 99;
	assert_int_equal(hpki_cio_decode_od(NULL, 0, od, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
	assert_int_equal(hpki_cio_decode_aod(NULL, 0, pins, 1, &count), HPKI_CIO_OK);
	assert_int_equal(hpki_cio_decode_prkd(NULL, 0, keys, 1, &count), HPKI_CIO_OK);
	assert_int_equal(hpki_cio_decode_cd(NULL, 0, certs, 1, &count), HPKI_CIO_OK);
	assert_int_equal(count, 0);
	/* EF.CIAInfo is one value: an empty file is malformed, not a crash. */
	assert_int_equal(hpki_cio_decode_cia_info(NULL, 0, &info), HPKI_CIO_MALFORMED);
	/* A NULL buffer that claims bytes is refused, never read. */
	assert_int_equal(hpki_cio_decode_od(NULL, 8, od, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_aod(NULL, 8, pins, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_prkd(NULL, 8, keys, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_cd(NULL, 8, certs, 1, &count), HPKI_CIO_MALFORMED);
	assert_int_equal(hpki_cio_decode_cia_info(NULL, 8, &info), HPKI_CIO_MALFORMED);
}

static void test_oversized_label_is_too_large(void **state)
{
	struct hpki_cd_cert cert = { .id = { 1 }, .id_len = 1 };
	struct hpki_cd_cert out;
	uint8_t *der = NULL;
	size_t der_len, count;

	memset(cert.label, 'A', HPKI_CIO_LABEL_MAX);
	hpki_cio_path_set_fid(&cert.path, 0x0016);
	assert_int_equal(hpki_cio_encode_cd(&cert, 1, &der, &der_len), HPKI_CIO_OK);
	assert_int_equal(hpki_cio_decode_cd(der, der_len, &out, 1, &count), HPKI_CIO_OK);
	assert_int_equal(strlen(out.label), HPKI_CIO_LABEL_MAX);
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_od_round_trip_with_fid_and_sfi_paths),
		cmocka_unit_test(test_od_stops_at_padding_and_skips_unknown),
		cmocka_unit_test(test_aod_round_trip_keeps_pin_reference),
		cmocka_unit_test(test_prkd_round_trip_with_user_consent),
		cmocka_unit_test(test_cd_round_trip_authority_flag),
		cmocka_unit_test(test_cia_info_round_trip),
		cmocka_unit_test(test_malformed_inputs_are_rejected),
		cmocka_unit_test(test_empty_and_padding_only_files_decode_to_nothing),
		cmocka_unit_test(test_zero_entries_round_trip_without_null_arithmetic),
		cmocka_unit_test(test_oversized_label_is_too_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
