/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the virtual card's APDU handling, per profile (issue 2): exact
 * status words, directory files decoded with the project's ISO 7816-15 decoders,
 * certificates compared with the test PKI, signatures verified with OpenSSL
 * against the certificate, PIN try counters across card restarts, response
 * modes, chaining, faults, and random APDUs that must never crash the card.
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

#define RESP_MAX 65538

static const uint8_t aid_sig[] = { HPKI_AID_SIGNATURE };
static const uint8_t aid_auth[] = { HPKI_AID_AUTHENTICATION };
static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

static char state_base[] = "/tmp/test-vcard-XXXXXX";
static unsigned state_counter;

/* One APDU exchange: the response data and SW. */
struct exchange {
	uint8_t data[RESP_MAX];
	size_t len;     /* data bytes, SW excluded */
	uint16_t sw;
	size_t raw_len; /* what vcard_process_apdu returned */
};
static struct exchange ex;

/* ---- helpers ------------------------------------------------------------------------------ */

static struct vcard_config default_config(enum vcard_profile profile, const char *holder)
{
	struct vcard_config config = {
		.profile = profile,
		.apps = VCARD_APPS_BOTH,
		.holder = holder,
		.data_dir = TEST_PKI_DIR,
		.extended_length = true,
		.command_chaining = true,
		.response_mode = VCARD_RESPONSE_DIRECT,
	};
	return config;
}

/* Each card gets its own state directory unless the caller passes one. */
static char *fresh_state_dir(void)
{
	char *dir = malloc(strlen(state_base) + 16);

	assert_non_null(dir);
	sprintf(dir, "%s/%u", state_base, state_counter++);
	assert_int_equal(mkdir(dir, 0700), 0);
	return dir;
}

static char *last_state_dir;

static struct vcard *card_with(struct vcard_config config)
{
	const char *error = NULL;
	struct vcard *card;

	if (config.state_dir == NULL) {
		free(last_state_dir);
		last_state_dir = fresh_state_dir();
		config.state_dir = last_state_dir;
	}
	card = vcard_new(&config, &error);
	if (card == NULL)
		fail_msg("vcard_new: %s", error);
	vcard_power_on(card);
	return card;
}

static struct vcard *new_card(enum vcard_profile profile, const char *holder)
{
	return card_with(default_config(profile, holder));
}

static uint16_t send_bytes(struct vcard *card, const uint8_t *cmd, size_t len)
{
	size_t n = vcard_process_apdu(card, cmd, len, ex.data);

	ex.raw_len = n;
	assert_true(n <= RESP_MAX);
	if (n < 2) {
		ex.len = 0;
		ex.sw = 0;
		return 0;
	}
	ex.len = n - 2;
	ex.sw = (uint16_t)(ex.data[n - 2] << 8 | ex.data[n - 1]);
	return ex.sw;
}

/* Hex digits with optional spaces. */
static size_t parse_hex(const char *hex, uint8_t *out, size_t max)
{
	size_t len = 0;
	unsigned byte;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_true(len < max);
		assert_int_equal(sscanf(hex, "%2x", &byte), 1);
		out[len++] = (uint8_t)byte;
		hex += 2;
	}
	return len;
}

static uint16_t send_hex(struct vcard *card, const char *hex)
{
	uint8_t cmd[512];

	return send_bytes(card, cmd, parse_hex(hex, cmd, sizeof cmd));
}

/* Builds header + data + Le, short or extended. le < 0: absent. */
static uint16_t send_apdu(struct vcard *card, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
			  size_t lc, long le, bool extended)
{
	static uint8_t cmd[RESP_MAX + 16];
	size_t n = 0;

	cmd[n++] = cla;
	cmd[n++] = ins;
	cmd[n++] = p1;
	cmd[n++] = p2;
	if (extended && (lc > 0 || le >= 0))
		cmd[n++] = 0x00;
	if (lc > 0) {
		if (extended)
			cmd[n++] = (uint8_t)(lc >> 8);
		cmd[n++] = (uint8_t)lc;
		memcpy(cmd + n, data, lc);
		n += lc;
	}
	if (le >= 0) {
		if (extended)
			cmd[n++] = (uint8_t)(le >> 8);
		cmd[n++] = (uint8_t)le;
	}
	return send_bytes(card, cmd, n);
}

static uint16_t select_aid(struct vcard *card, const uint8_t *aid, size_t len, uint8_t p2)
{
	return send_apdu(card, 0x00, 0xA4, 0x04, p2, aid, len, p2 == 0x0C ? -1 : 0, false);
}

static uint16_t select_fid(struct vcard *card, uint16_t fid)
{
	uint8_t data[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };

	return send_apdu(card, 0x00, 0xA4, 0x02, 0x0C, data, 2, -1, false);
}

static uint16_t verify_pin(struct vcard *card, uint8_t reference, const char *pin)
{
	return send_apdu(card, 0x00, 0x20, 0x00, reference, (const uint8_t *)pin, strlen(pin), -1, false);
}

static uint16_t verify_empty(struct vcard *card, uint8_t reference)
{
	return send_apdu(card, 0x00, 0x20, 0x00, reference, NULL, 0, -1, false);
}

static uint8_t *read_pki_file(const char *holder, const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *data = malloc(65536);

	snprintf(path, sizeof path, "%s/%s/%s", TEST_PKI_DIR, holder, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	*len = fread(data, 1, 65536, f);
	fclose(f);
	return data;
}

/* Reads the current EF with short READ BINARYs of 256 until the end (6282 or 6B00). */
static size_t read_current_ef_short(struct vcard *card, uint8_t *out)
{
	size_t total = 0;

	for (;;) {
		uint16_t sw = send_apdu(card, 0x00, 0xB0, (uint8_t)(total >> 8), (uint8_t)total, NULL, 0, 0, false);

		if (sw == HPKI_SW_WRONG_P1P2)
			return total;
		assert_true(sw == HPKI_SW_OK || sw == HPKI_SW_END_OF_FILE);
		memcpy(out + total, ex.data, ex.len);
		total += ex.len;
		if (sw == HPKI_SW_END_OF_FILE)
			return total;
	}
}

/* Reads a whole EF by SFI with one extended READ BINARY "00 B0 8s 00 00 00 00". */
static size_t read_sfi_extended(struct vcard *card, uint8_t sfi, uint8_t *out)
{
	uint16_t sw = send_apdu(card, 0x00, 0xB0, (uint8_t)(0x80 | sfi), 0x00, NULL, 0, 0, true);

	assert_int_equal(sw, HPKI_SW_END_OF_FILE);
	memcpy(out, ex.data, ex.len);
	return ex.len;
}

static EVP_PKEY *cert_key(const char *holder, const char *name)
{
	size_t len;
	uint8_t *der = read_pki_file(holder, name, &len);
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *key;

	assert_non_null(cert);
	key = X509_get_pubkey(cert);
	X509_free(cert);
	free(der);
	return key;
}

/* EMSA-PKCS1-v1_5 block 00 01 FF… 00 DigestInfo(SHA-256(msg)) of k bytes (RFC 8017 §9.2). */
static void pkcs1_block(const char *msg, uint8_t *block, size_t k)
{
	size_t t = sizeof sha256_prefix + 32;

	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, k - t - 3);
	block[k - t - 1] = 0x00;
	memcpy(block + k - t, sha256_prefix, sizeof sha256_prefix);
	assert_int_equal(EVP_Digest(msg, strlen(msg), block + k - 32, NULL, EVP_sha256(), NULL), 1);
}

static void digest_info(const char *msg, uint8_t *out)
{
	memcpy(out, sha256_prefix, sizeof sha256_prefix);
	assert_int_equal(EVP_Digest(msg, strlen(msg), out + sizeof sha256_prefix, NULL, EVP_sha256(), NULL), 1);
}

/* True when sig is a valid sha256WithRSAEncryption signature of msg for the certificate. */
static bool signature_valid(const char *holder, const char *cert, const char *msg, const uint8_t *sig, size_t len)
{
	EVP_PKEY *key = cert_key(holder, cert);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		  EVP_DigestVerify(ctx, sig, len, (const uint8_t *)msg, strlen(msg)) == 1;

	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

static void jma_prepare_signature(struct vcard *card, const uint8_t *aid, const char *pin)
{
	assert_int_equal(select_aid(card, aid, HPKI_AID_LEN, 0x0C), HPKI_SW_OK);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_KEY), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, HPKI_JMA_PIN_REFERENCE, pin), HPKI_SW_OK);
}

static uint16_t pso_extended(struct vcard *card, const char *msg, size_t k)
{
	uint8_t block[512];

	pkcs1_block(msg, block, k);
	return send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block, k, 0, true);
}

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

static void assert_fci(const uint8_t *aid)
{
	assert_int_equal(ex.len, 20);
	assert_int_equal(ex.data[0], 0x6F);
	assert_int_equal(ex.data[1], 18);
	assert_int_equal(ex.data[2], 0x84);
	assert_int_equal(ex.data[3], 16);
	assert_memory_equal(ex.data + 4, aid, 16);
}

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

	/* Slow and looping (issue 8 §3): 61 00 without data; one byte per 3rd GET
	 * RESPONSE; a mode that outlives resets until "fault none". */
	fault = (struct vcard_fault){ .kind = VCARD_FAULT_TRICKLE, .size = 3 };
	vcard_set_fault(card, &fault);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x00), 0x6100);
	assert_int_equal(ex.len, 0);
	assert_int_equal(send_hex(card, "00 C0 00 00 00"), 0x6100);
	assert_int_equal(ex.len, 0);
	assert_int_equal(send_hex(card, "00 C0 00 00 00"), 0x6100);
	assert_int_equal(ex.len, 0);
	assert_int_equal(send_hex(card, "00 C0 00 00 00"), 0x6100);
	assert_int_equal(ex.len, 1);
	vcard_reset(card);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), 0x6100);
	fault = (struct vcard_fault){ .kind = VCARD_FAULT_NONE };
	vcard_set_fault(card, &fault);
	assert_int_equal(select_aid(card, aid_sig, 16, 0x0C), HPKI_SW_OK);

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

/* ---- main ------------------------------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup_group(void **state)
{
	(void)state;
	return mkdtemp(state_base) == NULL ? -1 : 0;
}

static int teardown_group(void **state)
{
	(void)state;
	free(last_state_dir);
	return nftw(state_base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

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
		cmocka_unit_test(test_pso_signature_jma),
		cmocka_unit_test(test_pso_preconditions),
		cmocka_unit_test(test_pso_jahis),
		cmocka_unit_test(test_pso_chaining),
		cmocka_unit_test(test_rsa4096),
		cmocka_unit_test(test_jma_2019),
		cmocka_unit_test(test_response_mode_get_response),
		cmocka_unit_test(test_response_mode_wrong_le),
		cmocka_unit_test(test_blank_card),
		cmocka_unit_test(test_malformed_apdus),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_corrupt_file),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_random_apdus_never_crash),
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
