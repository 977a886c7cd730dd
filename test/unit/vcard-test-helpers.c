/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the virtual card's unit tests (test-vcard.c, test-vcard-switches.c):
 * cards with a fresh PIN state directory each, APDU exchanges, the test PKI, and
 * signature checks with OpenSSL.
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
#include "vcard.h"

#include "vcard-test-helpers.h"


const uint8_t aid_sig[HPKI_AID_LEN] = { HPKI_AID_SIGNATURE };
const uint8_t aid_auth[HPKI_AID_LEN] = { HPKI_AID_AUTHENTICATION };
const uint8_t sha256_prefix[19] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

static char state_base[] = "/tmp/test-vcard-XXXXXX";
static unsigned state_counter;

struct exchange ex;

/* ---- helpers ------------------------------------------------------------------------------ */

struct vcard_config default_config(enum vcard_profile profile, const char *holder)
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
char *fresh_state_dir(void)
{
	char *dir = malloc(strlen(state_base) + 16);

	assert_non_null(dir);
	sprintf(dir, "%s/%u", state_base, state_counter++);
	assert_int_equal(mkdir(dir, 0700), 0);
	return dir;
}

static char *last_state_dir;

struct vcard *card_with(struct vcard_config config)
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

struct vcard *new_card(enum vcard_profile profile, const char *holder)
{
	return card_with(default_config(profile, holder));
}

uint16_t send_bytes(struct vcard *card, const uint8_t *cmd, size_t len)
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
size_t parse_hex(const char *hex, uint8_t *out, size_t max)
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

uint16_t send_hex(struct vcard *card, const char *hex)
{
	uint8_t cmd[512];

	return send_bytes(card, cmd, parse_hex(hex, cmd, sizeof cmd));
}

/* Builds header + data + Le, short or extended. le < 0: absent. */
uint16_t send_apdu(struct vcard *card, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
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

uint16_t select_aid(struct vcard *card, const uint8_t *aid, size_t len, uint8_t p2)
{
	return send_apdu(card, 0x00, 0xA4, 0x04, p2, aid, len, p2 == 0x0C ? -1 : 0, false);
}

/* The last answer is the FCI "6F 12 84 10 <AID>" (G31 C.2.3). */
void assert_fci(const uint8_t *aid)
{
	assert_int_equal(ex.len, 20);
	assert_int_equal(ex.data[0], 0x6F);
	assert_int_equal(ex.data[1], 18);
	assert_int_equal(ex.data[2], 0x84);
	assert_int_equal(ex.data[3], 16);
	assert_memory_equal(ex.data + 4, aid, 16);
}

uint16_t select_fid(struct vcard *card, uint16_t fid)
{
	uint8_t data[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };

	return send_apdu(card, 0x00, 0xA4, 0x02, 0x0C, data, 2, -1, false);
}

uint16_t verify_pin(struct vcard *card, uint8_t reference, const char *pin)
{
	return send_apdu(card, 0x00, 0x20, 0x00, reference, (const uint8_t *)pin, strlen(pin), -1, false);
}

uint16_t verify_empty(struct vcard *card, uint8_t reference)
{
	return send_apdu(card, 0x00, 0x20, 0x00, reference, NULL, 0, -1, false);
}

uint8_t *read_pki_file(const char *holder, const char *name, size_t *len)
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
size_t read_current_ef_short(struct vcard *card, uint8_t *out)
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
size_t read_sfi_extended(struct vcard *card, uint8_t sfi, uint8_t *out)
{
	uint16_t sw = send_apdu(card, 0x00, 0xB0, (uint8_t)(0x80 | sfi), 0x00, NULL, 0, 0, true);

	assert_int_equal(sw, HPKI_SW_END_OF_FILE);
	memcpy(out, ex.data, ex.len);
	return ex.len;
}

EVP_PKEY *cert_key(const char *holder, const char *name)
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
void pkcs1_block(const char *msg, uint8_t *block, size_t k)
{
	size_t t = sizeof sha256_prefix + 32;

	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, k - t - 3);
	block[k - t - 1] = 0x00;
	memcpy(block + k - t, sha256_prefix, sizeof sha256_prefix);
	assert_int_equal(EVP_Digest(msg, strlen(msg), block + k - 32, NULL, EVP_sha256(), NULL), 1);
}

void digest_info(const char *msg, uint8_t *out)
{
	memcpy(out, sha256_prefix, sizeof sha256_prefix);
	assert_int_equal(EVP_Digest(msg, strlen(msg), out + sizeof sha256_prefix, NULL, EVP_sha256(), NULL), 1);
}

/* True when sig is a valid sha256WithRSAEncryption signature of msg for the certificate. */
bool signature_valid(const char *holder, const char *cert, const char *msg, const uint8_t *sig, size_t len)
{
	EVP_PKEY *key = cert_key(holder, cert);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		  EVP_DigestVerify(ctx, sig, len, (const uint8_t *)msg, strlen(msg)) == 1;

	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

void jma_prepare_signature(struct vcard *card, const uint8_t *aid, const char *pin)
{
	assert_int_equal(select_aid(card, aid, HPKI_AID_LEN, 0x0C), HPKI_SW_OK);
	assert_int_equal(select_fid(card, HPKI_JMA_FID_KEY), HPKI_SW_OK);
	assert_int_equal(send_hex(card, "00 22 41 B6 04 84 02 00 0C"), HPKI_SW_OK);
	assert_int_equal(verify_pin(card, HPKI_JMA_PIN_REFERENCE, pin), HPKI_SW_OK);
}

uint16_t pso_extended(struct vcard *card, const char *msg, size_t k)
{
	uint8_t block[512];

	pkcs1_block(msg, block, k);
	return send_apdu(card, 0x00, 0x2A, 0x9E, 0x9A, block, k, 0, true);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int setup_group(void **state)
{
	(void)state;
	return mkdtemp(state_base) == NULL ? -1 : 0;
}

int teardown_group(void **state)
{
	(void)state;
	free(last_state_dir);
	return nftw(state_base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

