/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the virtual card's APDU handling, per profile (issue 2): exact
 * status words, directory files decoded with the project's ISO 7816-15 decoders,
 * certificates compared with the test PKI, PIN try counters across card restarts.
 * main() runs these and the lists of test-vcard-signatures.c (PSO, chaining,
 * jma-2019), test-vcard-transport.c (response modes, faults, random APDUs) and
 * test-vcard-switches.c (the card switches of issue 10) in one group.
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

/* ---- ATR -------------------------------------------------------------------------------- */

static void assert_tck(const uint8_t *atr, size_t len)
{
	uint8_t x = 0;
	size_t i;

	for (i = 1; i < len; i++)
		x ^= atr[i];
	assert_int_equal(x, 0); /* XOR of T0..TCK is 0 when TCK is right */
}

static void test_atr_per_profile(void **state)
{
	static const uint8_t jma[] = { 0x3B, 0x88, 0x80, 0x01, 0x00, 0x4E, 0x00, 0x00, 0xF7, 0x81, 0xD1, 0x00 };
	static const uint8_t jahis[] = { 0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0xC0 };
	struct vcard_config config = default_config(VCARD_PROFILE_JAHIS, "doctor");
	uint8_t atr[33];
	struct vcard *card;
	size_t len;

	(void)state;
	card = new_card(VCARD_PROFILE_JMA, "doctor");
	len = vcard_atr(card, atr, sizeof atr);
	assert_int_equal(len, sizeof jma + 1);
	assert_memory_equal(atr, jma, sizeof jma);
	assert_tck(atr, len);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_JMA_2019, "doctor");
	len = vcard_atr(card, atr, sizeof atr);
	assert_memory_equal(atr, jma, sizeof jma);
	vcard_free(card);

	card = card_with(config);
	len = vcard_atr(card, atr, sizeof atr);
	assert_int_equal(len, sizeof jahis + 1);
	assert_memory_equal(atr, jahis, sizeof jahis);
	assert_tck(atr, len);
	vcard_free(card);

	config.extended_length = false;
	card = card_with(config);
	len = vcard_atr(card, atr, sizeof atr);
	assert_int_equal(atr[8], 0x80); /* chaining only */
	assert_tck(atr, len);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_BLANK, "doctor");
	len = vcard_atr(card, atr, sizeof atr);
	assert_true(len >= 5);
	assert_tck(atr, len);
	vcard_free(card);
}

/* ---- SELECT --------------------------------------------------------------------------- */

static void test_select_full_aid(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");

	(void)state;
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_OK);
	assert_fci(aid_sig);
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(ex.len, 0);
	/* Case 3 without Le: answered as if Le were maximal (T=1 JavaCard behaviour). */
	assert_int_equal(send_apdu(card, 0x00, 0xA4, 0x04, 0x00, aid_auth, 16, -1, false), HPKI_SW_OK);
	assert_fci(aid_auth);
	/* An AID that is longer than any application's, or unknown. */
	assert_int_equal(send_hex(card, "00 A4 04 00 10 E8 28 BD 08 0F A0 00 00 03 91 00 00 00 00 00 03 00"),
			 HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(send_hex(card, "00 A4 04 00 00"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 A4 04 01 05 E8 28 BD 08 0F 00"), HPKI_SW_WRONG_P1P2_DATA);
	assert_int_equal(send_hex(card, "00 A4 08 00 02 3F 00"), HPKI_SW_WRONG_P1P2_DATA);
	vcard_free(card);
}

/* G31 C.2.1: "00 A4 04 00 05 E8 28 BD 08 0F 00" then P2=02 until 6A82 ([GEBO] loop). */
static void test_select_partial_discovery(void **state)
{
	static const uint8_t rid[] = { HPKI_RID };
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");

	(void)state;
	assert_int_equal(select_aid(card, rid, 5, 0x00), HPKI_SW_OK);
	assert_fci(aid_sig);
	assert_int_equal(select_aid(card, rid, 5, 0x02), HPKI_SW_OK);
	assert_fci(aid_auth);
	assert_int_equal(select_aid(card, rid, 5, 0x02), HPKI_SW_FILE_NOT_FOUND);
	vcard_free(card);

	config.apps = VCARD_APPS_AUTHENTICATION_ONLY;
	card = card_with(config);
	assert_int_equal(select_aid(card, rid, 5, 0x00), HPKI_SW_OK);
	assert_fci(aid_auth);
	assert_int_equal(select_aid(card, rid, 5, 0x02), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), HPKI_SW_FILE_NOT_FOUND);
	vcard_free(card);

	config.apps = VCARD_APPS_SIGNATURE_ONLY;
	card = card_with(config);
	assert_int_equal(select_aid(card, rid, 5, 0x00), HPKI_SW_OK);
	assert_fci(aid_sig);
	assert_int_equal(select_aid(card, rid, 5, 0x02), HPKI_SW_FILE_NOT_FOUND);
	vcard_free(card);
}

static void test_select_ef(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");

	(void)state;
	assert_int_equal(select_fid(card, HPKI_JMA_FID_EE_CERT), HPKI_SW_FILE_NOT_FOUND); /* no DF yet */
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_EE_CERT), HPKI_SW_OK);
	assert_int_equal(select_fid(card, 0x1234), HPKI_SW_FILE_NOT_FOUND);
	/* P2=00 returns a minimal FCP: 62 L 80 02 size 82 01 01 83 02 FID. */
	assert_int_equal(send_hex(card, "00 A4 02 00 02 00 16 00"), HPKI_SW_OK);
	assert_int_equal(ex.data[0], 0x62);
	assert_int_equal(ex.data[1], ex.len - 2);
	assert_int_equal(ex.data[2], 0x80);
	assert_int_equal(ex.data[8], 0x01);
	assert_int_equal(ex.data[11], 0x00);
	assert_int_equal(ex.data[12], 0x16);
	assert_int_equal(send_hex(card, "00 A4 02 04 02 00 0C 00"), HPKI_SW_OK);
	assert_int_equal(ex.data[8], 0x09); /* internal EF */
	assert_int_equal(send_hex(card, "00 A4 02 0C 01 00"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(send_hex(card, "00 A4 02 08 02 00 16"), HPKI_SW_WRONG_P1P2_DATA);
	vcard_free(card);
}

/* ---- directory files ------------------------------------------------------------------- */

static void test_jma_directories(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");
	static uint8_t buf[65536];
	struct hpki_od_entry od[8];
	struct hpki_aod_pin pins[2];
	struct hpki_prkd_key keys[2];
	struct hpki_cd_cert certs[4];
	struct hpki_cia_info info;
	uint8_t digest[32];
	size_t len, count, ee_len;
	uint8_t *ee;
	uint16_t fid;
	int app;

	(void)state;
	for (app = 1; app <= 2; app++) {
		bool sig = app == 1;

		assert_int_equal(select_aid(card, sig ? aid_sig : aid_auth, 16, 0x0C), HPKI_SW_OK);
		/* EF.OD by SFI 11 with a short read, as [GEBO] does ("00 B0 91 00 00"). */
		assert_int_equal(send_hex(card, "00 B0 91 00 00"), HPKI_SW_END_OF_FILE);
		assert_int_equal(ex.len % 64, 0); /* padded with 00 */
		assert_int_equal(hpki_cio_decode_od(ex.data, ex.len, od, 8, &count), HPKI_CIO_OK);
		assert_int_equal(count, 5);
		assert_int_equal(od[0].kind, HPKI_OD_PRIVATE_KEYS);
		assert_true(hpki_cio_path_is_fid(&od[0].path, &fid) && fid == 0x0002);
		assert_true(od[1].kind == HPKI_OD_PUBLIC_KEYS && hpki_cio_path_is_fid(&od[1].path, &fid) && fid == 3);
		assert_true(od[2].kind == HPKI_OD_CERTIFICATES && hpki_cio_path_is_fid(&od[2].path, &fid) && fid == 4);
		assert_true(od[3].kind == HPKI_OD_DATA_CONTAINERS && hpki_cio_path_is_fid(&od[3].path, &fid) && fid == 5);
		assert_true(od[4].kind == HPKI_OD_AUTH_OBJECTS && hpki_cio_path_is_fid(&od[4].path, &fid) && fid == 1);
		/* The same by FID 5031. */
		assert_int_equal(select_fid(card, HPKI_FID_OD), HPKI_SW_OK);
		assert_int_equal(read_current_ef_short(card, buf), 64);

		assert_int_equal(select_fid(card, HPKI_JMA_FID_AOD), HPKI_SW_OK);
		len = read_current_ef_short(card, buf);
		assert_int_equal(hpki_cio_decode_aod(buf, len, pins, 2, &count), HPKI_CIO_OK);
		assert_int_equal(count, 1);
		assert_int_equal(pins[0].pwd_reference, 0x88);
		assert_int_equal(pins[0].auth_id_len, 1);
		assert_int_equal(pins[0].auth_id[0], 0x08);
		assert_int_equal(pins[0].min_length, 4);
		assert_int_equal(pins[0].max_length, 16);
		assert_int_equal(pins[0].stored_length, 0);
		assert_int_equal(pins[0].pwd_type, HPKI_PWD_UTF8);
		assert_string_equal(pins[0].label, "PIN");

		assert_int_equal(select_fid(card, HPKI_JMA_FID_PRKD), HPKI_SW_OK);
		len = read_current_ef_short(card, buf);
		assert_int_equal(hpki_cio_decode_prkd(buf, len, keys, 2, &count), HPKI_CIO_OK);
		assert_int_equal(count, 1);
		assert_true(keys[0].has_key_reference);
		assert_int_equal(keys[0].key_reference, 0x0C);
		assert_true(hpki_cio_path_is_fid(&keys[0].path, &fid) && fid == 0x000C);
		assert_int_equal(keys[0].modulus_bits, 2048);
		assert_int_equal(keys[0].user_consent, sig ? 1 : 0);
		assert_int_equal(keys[0].usage, sig ? HPKI_KEY_USAGE_NON_REPUDIATION : HPKI_KEY_USAGE_SIGN);
		assert_int_equal(keys[0].id[0], app);
		assert_int_equal(keys[0].auth_id[0], 0x08);

		assert_int_equal(select_fid(card, HPKI_JMA_FID_CD), HPKI_SW_OK);
		len = read_current_ef_short(card, buf);
		assert_int_equal(hpki_cio_decode_cd(buf, len, certs, 4, &count), HPKI_CIO_OK);
		assert_int_equal(count, 3);
		assert_string_equal(certs[0].label, "HPKI END ENTITY CERTIFICATE");
		assert_false(certs[0].authority);
		assert_int_equal(certs[0].id[0], keys[0].id[0]);
		assert_true(hpki_cio_path_is_fid(&certs[0].path, &fid) && fid == 0x0016);
		assert_true(certs[1].authority && hpki_cio_path_is_fid(&certs[1].path, &fid) && fid == 0x0018);
		assert_true(certs[2].authority && hpki_cio_path_is_fid(&certs[2].path, &fid) && fid == 0x0017);

		/* EF.CIAInfo by SFI 12; serial = SHA-256(EE certificate)[0..8]. */
		assert_int_equal(send_hex(card, "00 B0 92 00 00"), HPKI_SW_END_OF_FILE);
		assert_int_equal(hpki_cio_decode_cia_info(ex.data, ex.len, &info), HPKI_CIO_OK);
		assert_string_equal(info.label, "HPKI Application");
		assert_int_equal(info.version, 1);
		assert_int_equal(info.card_flags, HPKI_CIA_FLAG_AUTH_REQUIRED | HPKI_CIA_FLAG_PRN_GENERATION);
		ee = read_pki_file("doctor", sig ? "sig.crt.der" : "auth.crt.der", &ee_len);
		EVP_Digest(ee, ee_len, digest, NULL, EVP_sha256(), NULL);
		assert_int_equal(info.serial_len, 8);
		assert_memory_equal(info.serial, digest, 8);
		free(ee);

		/* PuKD / DCOD exist and are empty (00 padding). */
		assert_int_equal(select_fid(card, HPKI_JMA_FID_PUKD), HPKI_SW_OK);
		assert_int_equal(hpki_cio_decode_od(buf, read_current_ef_short(card, buf), od, 8, &count), HPKI_CIO_OK);
		assert_int_equal(count, 0);
		assert_int_equal(select_fid(card, HPKI_JMA_FID_DCOD), HPKI_SW_OK);
	}
	vcard_free(card);
}

static void test_jahis_directories(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JAHIS, "doctor");
	static uint8_t buf[65536];
	struct hpki_od_entry od[8];
	struct hpki_aod_pin pins[2];
	struct hpki_prkd_key keys[2];
	struct hpki_cd_cert certs[4];
	struct hpki_cia_info info;
	size_t len, count;
	uint8_t sfi;
	int app;

	(void)state;
	for (app = 1; app <= 2; app++) {
		bool sig = app == 1;

		assert_int_equal(select_aid(card, sig ? aid_sig : aid_auth, 16, 0x00), HPKI_SW_OK);
		len = read_sfi_extended(card, 0x11, buf);
		assert_int_equal(hpki_cio_decode_od(buf, len, od, 8, &count), HPKI_CIO_OK);
		assert_int_equal(count, 3);
		/* SFI paths as 1-byte efidOrPath SFI<<3 (G31 B.4.3): A0 = 14, A8 = 15, 98 = 13. */
		assert_true(od[0].kind == HPKI_OD_PRIVATE_KEYS && od[0].path.len == 1 && od[0].path.efid_or_path[0] == 0xA0);
		assert_true(od[1].kind == HPKI_OD_CERTIFICATES && od[1].path.efid_or_path[0] == 0xA8);
		assert_true(od[2].kind == HPKI_OD_AUTH_OBJECTS && od[2].path.efid_or_path[0] == 0x98);

		len = read_sfi_extended(card, 0x13, buf);
		assert_int_equal(hpki_cio_decode_aod(buf, len, pins, 2, &count), HPKI_CIO_OK);
		assert_int_equal(pins[0].pwd_reference, 0x96);
		assert_int_equal(pins[0].auth_id[0], 0x16);
		assert_int_equal(pins[0].stored_length, 16);

		len = read_sfi_extended(card, 0x14, buf);
		assert_int_equal(hpki_cio_decode_prkd(buf, len, keys, 2, &count), HPKI_CIO_OK);
		assert_string_equal(keys[0].label, "Private key of HPKI");
		assert_int_equal(keys[0].id[0], 0x17);
		assert_true(hpki_cio_path_is_sfi(&keys[0].path, &sfi) && sfi == 0x17);
		assert_false(keys[0].has_key_reference);
		assert_int_equal(keys[0].user_consent, sig ? 1 : 0);

		len = read_sfi_extended(card, 0x15, buf);
		assert_int_equal(hpki_cio_decode_cd(buf, len, certs, 4, &count), HPKI_CIO_OK);
		assert_int_equal(count, 3);
		assert_true(hpki_cio_path_is_sfi(&certs[0].path, &sfi) && sfi == 0x18);
		assert_int_equal(certs[0].id[0], 0x17);
		assert_string_equal(certs[1].label, "MHLW CA CERTIFICATE");
		assert_true(hpki_cio_path_is_sfi(&certs[1].path, &sfi) && sfi == 0x19 && certs[1].id[0] == 0x19);
		assert_string_equal(certs[2].label, "HPKI ROOT CA CERTIFICATE");
		assert_true(hpki_cio_path_is_sfi(&certs[2].path, &sfi) && sfi == 0x1A && certs[2].id[0] == 0x1A);

		len = read_sfi_extended(card, 0x12, buf);
		assert_int_equal(hpki_cio_decode_cia_info(buf, len, &info), HPKI_CIO_OK);
		assert_string_equal(info.label, "HPKI Application");
		/* PIN and key IEFs exist and are never readable. */
		assert_int_equal(send_hex(card, "00 B0 96 00 00"), HPKI_SW_INCOMPATIBLE_FILE);
		assert_int_equal(send_hex(card, "00 B0 97 00 00"), HPKI_SW_INCOMPATIBLE_FILE);
		assert_int_equal(send_hex(card, "00 B0 9B 00 00"), HPKI_SW_FILE_NOT_FOUND);
	}
	vcard_free(card);
}

/* ---- certificates ---------------------------------------------------------------------- */

static void check_cert_jma(struct vcard *card, const uint8_t *aid, uint16_t fid, const char *holder,
			   const char *name)
{
	static uint8_t buf[65536];
	size_t expected_len, len;
	uint8_t *expected = read_pki_file(holder, name, &expected_len);

	assert_int_equal(select_aid(card, aid, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(select_fid(card, fid), HPKI_SW_OK);
	/* [MIY]/[GEBO]: 4-byte header first, then 256-byte blocks with P1 = block number. */
	assert_int_equal(send_hex(card, "00 B0 00 00 04"), HPKI_SW_OK);
	assert_int_equal(ex.len, 4);
	assert_int_equal(ex.data[0], 0x30);
	assert_int_equal(ex.data[1], 0x82);
	assert_int_equal((size_t)(ex.data[2] << 8 | ex.data[3]) + 4, expected_len);
	len = read_current_ef_short(card, buf);
	assert_int_equal(len, expected_len);
	assert_memory_equal(buf, expected, len);
	/* One extended READ BINARY of the whole file. */
	assert_int_equal(send_apdu(card, 0x00, 0xB0, 0x00, 0x00, NULL, 0, 0, true), HPKI_SW_END_OF_FILE);
	assert_int_equal(ex.len, expected_len);
	assert_memory_equal(ex.data, expected, expected_len);
	free(expected);
}

static void test_certificates_jma(void **state)
{
	static const char *holders[] = { "doctor", "pharmacist", "nohcrole", "expired", "rsa4096" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof holders / sizeof holders[0]; i++) {
		struct vcard *card = new_card(VCARD_PROFILE_JMA, holders[i]);

		check_cert_jma(card, aid_sig, 0x0016, holders[i], "sig.crt.der");
		check_cert_jma(card, aid_auth, 0x0016, holders[i], "auth.crt.der");
		check_cert_jma(card, aid_sig, 0x0017, "ca", "sign-ca.der");
		check_cert_jma(card, aid_auth, 0x0017, "ca", "auth-ca.der");
		check_cert_jma(card, aid_sig, 0x0018, "ca", "root.der");
		check_cert_jma(card, aid_auth, 0x0018, "ca", "root.der");
		vcard_free(card);
	}
}

static void test_certificates_jahis(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JAHIS, "doctor");
	static uint8_t buf[65536];
	size_t len, expected_len;
	uint8_t *expected = read_pki_file("doctor", "auth.crt.der", &expected_len);

	(void)state;
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	/* G31 A.3.2: "00 B0 98 00 00 00 00". */
	assert_int_equal(send_hex(card, "00 B0 98 00 00 00 00"), HPKI_SW_END_OF_FILE);
	assert_int_equal(ex.len, expected_len);
	assert_memory_equal(ex.data, expected, expected_len);
	/* The SFI read made the EF current: continue with offset reads. */
	len = read_current_ef_short(card, buf);
	assert_int_equal(len, expected_len);
	assert_memory_equal(buf, expected, len);
	free(expected);
	expected = read_pki_file("ca", "auth-ca.der", &expected_len);
	assert_int_equal(read_sfi_extended(card, 0x1A, buf), expected_len);
	assert_memory_equal(buf, expected, expected_len);
	free(expected);
	expected = read_pki_file("ca", "root.der", &expected_len);
	assert_int_equal(read_sfi_extended(card, 0x19, buf), expected_len);
	assert_memory_equal(buf, expected, expected_len);
	free(expected);
	vcard_free(card);
}

static void test_read_binary_errors(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");
	size_t len;
	uint8_t *cert = read_pki_file("doctor", "sig.crt.der", &len);

	(void)state;
	assert_int_equal(send_hex(card, "00 B0 00 00 00"), HPKI_SW_NO_CURRENT_EF);
	assert_int_equal(send_hex(card, "00 B0 91 00 00"), HPKI_SW_FILE_NOT_FOUND); /* no application */
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 00 00 00"), HPKI_SW_NO_CURRENT_EF);
	assert_int_equal(select_fid(card, 0x000C), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 00 00 00"), HPKI_SW_INCOMPATIBLE_FILE);
	assert_int_equal(select_fid(card, 0x0016), HPKI_SW_OK);
	/* Offset at or past the end: 6B00; the last partial block: rest + 6282. */
	assert_int_equal(send_apdu(card, 0x00, 0xB0, (uint8_t)(len >> 8), (uint8_t)len, NULL, 0, 0, false),
			 HPKI_SW_WRONG_P1P2);
	assert_int_equal(send_apdu(card, 0x00, 0xB0, (uint8_t)((len - 10) >> 8), (uint8_t)(len - 10), NULL, 0, 0x20,
				   false),
			 HPKI_SW_END_OF_FILE);
	assert_int_equal(ex.len, 10);
	assert_memory_equal(ex.data, cert + len - 10, 10);
	/* Exactly to the end: 9000. */
	assert_int_equal(send_apdu(card, 0x00, 0xB0, (uint8_t)((len - 10) >> 8), (uint8_t)(len - 10), NULL, 0, 10,
				   false),
			 HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 B0 00 00"), HPKI_SW_WRONG_LENGTH);     /* no Le */
	assert_int_equal(send_hex(card, "00 B0 00 00 01 00 00"), HPKI_SW_WRONG_LENGTH); /* data */
	assert_int_equal(send_hex(card, "00 B0 C1 00 00"), HPKI_SW_WRONG_P1P2_DATA);  /* b7-b6 != 00 */
	assert_int_equal(send_hex(card, "00 B0 80 00 00"), HPKI_SW_WRONG_P1P2_DATA);  /* SFI 0 */
	assert_int_equal(send_hex(card, "00 B0 9E 00 00"), HPKI_SW_FILE_NOT_FOUND);
	/* SFI offset beyond the file. */
	assert_int_equal(send_hex(card, "00 B0 91 FF 00"), HPKI_SW_WRONG_P1P2);
	free(cert);
	vcard_free(card);
}

/* ---- VERIFY and the try counter --------------------------------------------------------- */

static void test_verify(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");

	(void)state;
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_REF_NOT_FOUND); /* no application */
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);
	assert_int_equal(verify_pin(card, 0x88, "0000"), 0x63CE);
	assert_int_equal(vcard_pin_tries_left(card, 2), 14);
	/* Empty VERIFY asks, never costs a try. */
	assert_int_equal(verify_empty(card, 0x88), 0x63CE);
	assert_int_equal(verify_empty(card, 0x88), 0x63CE);
	assert_int_equal(vcard_pin_tries_left(card, 2), 14);
	/* Lengths outside 4..16: 6700, no try. */
	assert_int_equal(verify_pin(card, 0x88, "123"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(verify_pin(card, 0x88, "12345678901234567"), HPKI_SW_WRONG_LENGTH);
	assert_int_equal(vcard_pin_tries_left(card, 2), 14);
	/* The signature PIN does not open the authentication AP. */
	assert_int_equal(verify_pin(card, 0x88, "5678"), 0x63CD);
	assert_int_equal(verify_pin(card, 0x88, "1234"), HPKI_SW_OK);
	assert_int_equal(vcard_pin_tries_left(card, 2), 15);
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_OK);
	/* Prefix of the PIN is wrong; a wrong PIN also drops the verified state. */
	assert_int_equal(verify_pin(card, 0x88, "12345"), 0x63CE);
	assert_int_equal(verify_empty(card, 0x88), 0x63CE);
	assert_int_equal(verify_pin(card, 0x96, "1234"), HPKI_SW_REF_NOT_FOUND);
	assert_int_equal(send_hex(card, "00 20 01 88 04 31 32 33 34"), HPKI_SW_WRONG_P1P2);
	assert_int_equal(send_hex(card, "00 20 00 88 00"), HPKI_SW_WRONG_LENGTH); /* case 2 */
	/* Each application has its own PIN and counter. */
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_OK);
	vcard_free(card);

	card = new_card(VCARD_PROFILE_JAHIS, "doctor");
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_REF_NOT_FOUND);
	assert_int_equal(verify_pin(card, 0x96, "5678"), HPKI_SW_OK);
	vcard_free(card);
}

static void test_pin_lock_persists(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card;
	char *dir = fresh_state_dir();
	int i;

	(void)state;
	config.state_dir = dir;
	card = card_with(config);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "0000"), 0x63CE);
	assert_int_equal(verify_pin(card, 0x88, "0000"), 0x63CD);
	vcard_free(card);

	/* A restarted card remembers the counter (one file per holder + application). */
	card = card_with(config);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), 0x63CD);
	assert_int_equal(vcard_pin_tries_left(card, 1), 13);
	assert_int_equal(vcard_pin_tries_left(card, 2), 15);
	for (i = 12; i >= 0; i--)
		assert_int_equal(verify_pin(card, 0x88, "0000"), 0x63C0 | i);
	/* Blocked: everything answers 6983, the right PIN too. */
	assert_int_equal(verify_pin(card, 0x88, "0000"), HPKI_SW_AUTH_BLOCKED);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_AUTH_BLOCKED);
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_AUTH_BLOCKED);
	vcard_free(card);

	card = card_with(config);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "5678"), HPKI_SW_AUTH_BLOCKED);
	assert_int_equal(vcard_pin_tries_left(card, 1), 0);
	/* The other application is not affected; another holder neither. */
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "1234"), HPKI_SW_OK);
	vcard_free(card);
	config.holder = "pharmacist";
	card = card_with(config);
	assert_int_equal(vcard_pin_tries_left(card, 1), 15);
	vcard_free(card);
	free(dir);
}

static void test_custom_pins(void **state)
{
	struct vcard_config config = default_config(VCARD_PROFILE_JMA, "doctor");
	struct vcard *card;
	const char *error = NULL;

	(void)state;
	config.auth_pin = "abcdEFGH";
	config.sign_pin = "0123456789abcdef";
	card = card_with(config);
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "abcdefgh"), 0x63CE); /* case-sensitive */
	assert_int_equal(verify_pin(card, 0x88, "abcdEFGH"), HPKI_SW_OK);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "0123456789abcdef"), HPKI_SW_OK);
	vcard_free(card);

	config.sign_pin = "123";
	assert_null(vcard_new(&config, &error));
	assert_non_null(error);
	config = default_config(VCARD_PROFILE_JMA, "nobody");
	assert_null(vcard_new(&config, &error));
	assert_non_null(strstr(error, "key"));
	config.data_dir = "/nonexistent";
	assert_null(vcard_new(&config, &error));
}

/* ---- security state ---------------------------------------------------------------------- */

static void test_security_state_per_application(void **state)
{
	struct vcard *card = new_card(VCARD_PROFILE_JMA, "doctor");

	(void)state;
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, 0x88, "1234"), HPKI_SW_OK);
	/* Re-selecting the same application keeps the state. */
	assert_int_equal(select_aid(card, aid_auth, 16, 0x00), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_OK);
	/* Selecting the other application drops it (G31 §4.4.2 (3)). */
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);
	/* A failed SELECT keeps the current application and its state. */
	assert_int_equal(verify_pin(card, 0x88, "1234"), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 A4 04 00 05 01 02 03 04 05 00"), HPKI_SW_FILE_NOT_FOUND);
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_OK);
	/* Reset and power cycle drop everything, including the selection. */
	vcard_reset(card);
	assert_int_equal(verify_empty(card, 0x88), HPKI_SW_REF_NOT_FOUND);
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);
	assert_int_equal(verify_pin(card, 0x88, "1234"), HPKI_SW_OK);
	vcard_power_off(card);
	vcard_power_on(card);
	assert_int_equal(select_aid(card, aid_auth, 16, 0x0C), HPKI_SW_OK);
	assert_int_equal(verify_empty(card, 0x88), 0x63CF);
	vcard_free(card);
}

/* ---- main ------------------------------------------------------------------------------------ */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atr_per_profile),
		cmocka_unit_test(test_select_full_aid),
		cmocka_unit_test(test_select_partial_discovery),
		cmocka_unit_test(test_select_ef),
		cmocka_unit_test(test_jma_directories),
		cmocka_unit_test(test_jahis_directories),
		cmocka_unit_test(test_certificates_jma),
		cmocka_unit_test(test_certificates_jahis),
		cmocka_unit_test(test_read_binary_errors),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_pin_lock_persists),
		cmocka_unit_test(test_custom_pins),
		cmocka_unit_test(test_security_state_per_application),
	};

	const struct {
		const struct CMUnitTest *tests;
		size_t count;
	} parts[] = {
		{ tests, sizeof tests / sizeof tests[0] },
		{ vcard_signature_tests, vcard_signature_test_count },
		{ vcard_transport_tests, vcard_transport_test_count },
		{ vcard_switch_tests, vcard_switch_test_count },
	};
	size_t total = 0, i;
	struct CMUnitTest *all;
	int failed;

	for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
		total += parts[i].count;
	all = calloc(total, sizeof *all);
	if (all == NULL)
		return 1;
	for (total = 0, i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		memcpy(all + total, parts[i].tests, parts[i].count * sizeof *all);
		total += parts[i].count;
	}
	failed = _cmocka_run_group_tests("test-vcard", all, total, setup_group, teardown_group);
	free(all);
	return failed;
}
