/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Card driver against a scripted reader: every test lists the exact APDUs it
 * expects and the answers the "card" gives; any other command fails the test.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "apdu.h"
#include "card.h"
#include "hpki/card-defs.h"
#include "hpki/cio.h"

/* ------------------------------------------------------------------------ */
/* Scripted reader                                                           */

#define MAX_STEPS 800

struct step {
	uint8_t *cmd;
	size_t cmd_len;
	uint8_t *resp;
	size_t resp_len;
	enum hpki_io_status io;
};

struct hpki_connection {
	int unused;
};

static struct {
	struct step steps[MAX_STEPS];
	size_t count, pos;
	int begins, ends, reconnects;
	enum hpki_io_status begin_io; /* one-shot answer of the next begin */
	uint8_t atr[HPKI_ATR_MAX];
	size_t atr_len;
	unsigned verify_with_data;
} script;

static struct hpki_connection the_connection;

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex != '\0'; hex++) {
		int v;

		if (*hex == ' ')
			continue;
		v = *hex >= '0' && *hex <= '9' ? *hex - '0' : (*hex | 0x20) - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len > 0 ? len : 1);

	assert_non_null(d);
	if (len > 0)
		memcpy(d, p, len);
	return d;
}

static void expect_bytes(const uint8_t *cmd, size_t cmd_len, const uint8_t *resp, size_t resp_len)
{
	struct step *s;

	assert_true(script.count < MAX_STEPS);
	s = &script.steps[script.count++];
	s->cmd = dup_bytes(cmd, cmd_len);
	s->cmd_len = cmd_len;
	s->resp = dup_bytes(resp, resp_len);
	s->resp_len = resp_len;
	s->io = HPKI_IO_OK;
}

static void expect(const char *cmd_hex, const char *resp_hex)
{
	static uint8_t cmd[HPKI_RESPONSE_MAX], resp[HPKI_RESPONSE_MAX];

	expect_bytes(cmd, unhex(cmd_hex, cmd, sizeof(cmd)), resp, unhex(resp_hex, resp, sizeof(resp)));
}

/* The command with data given separately (long data), answered by data + SW. */
static void expect_with(const char *header_hex, const uint8_t *data, size_t data_len, const char *trailer_hex,
			const uint8_t *resp_data, size_t resp_data_len, uint16_t sw)
{
	uint8_t *cmd = malloc(16 + data_len), *resp = malloc(resp_data_len + 2);
	size_t n;

	assert_non_null(cmd);
	assert_non_null(resp);
	n = unhex(header_hex, cmd, 16);
	if (data_len > 0)
		memcpy(cmd + n, data, data_len);
	n += data_len;
	n += unhex(trailer_hex, cmd + n, 8);
	if (resp_data_len > 0)
		memcpy(resp, resp_data, resp_data_len);
	resp[resp_data_len] = (uint8_t)(sw >> 8);
	resp[resp_data_len + 1] = (uint8_t)sw;
	expect_bytes(cmd, n, resp, resp_data_len + 2);
	free(cmd);
	free(resp);
}

static void expect_io(const char *cmd_hex, enum hpki_io_status io)
{
	expect(cmd_hex, "");
	script.steps[script.count - 1].io = io;
}

static void print_hex(const char *what, const uint8_t *p, size_t len)
{
	fprintf(stderr, "%s (%zu):", what, len);
	for (size_t i = 0; i < len && i < 48; i++)
		fprintf(stderr, " %02X", p[i]);
	fprintf(stderr, len > 48 ? " …\n" : "\n");
}

static enum hpki_io_status fake_transmit(struct hpki_connection *conn, const uint8_t *cmd, size_t cmd_len,
					 uint8_t *resp, size_t *resp_len)
{
	struct step *s;

	(void)conn;
	if (cmd_len > 5 && cmd[1] == HPKI_INS_VERIFY)
		script.verify_with_data++;
	if (script.pos >= script.count) {
		print_hex("unexpected command after the script", cmd, cmd_len);
		fail();
	}
	s = &script.steps[script.pos++];
	if (s->cmd_len != cmd_len || memcmp(s->cmd, cmd, cmd_len) != 0) {
		fprintf(stderr, "step %zu:\n", script.pos - 1);
		print_hex("  expected", s->cmd, s->cmd_len);
		print_hex("  got     ", cmd, cmd_len);
		fail();
	}
	if (s->io != HPKI_IO_OK)
		return s->io;
	assert_true(s->resp_len <= *resp_len);
	memcpy(resp, s->resp, s->resp_len);
	*resp_len = s->resp_len;
	return HPKI_IO_OK;
}

static enum hpki_io_status fake_connect(void *context, const char *reader, struct hpki_connection **conn,
					uint8_t *atr, size_t *atr_len)
{
	(void)context;
	(void)reader;
	*conn = &the_connection;
	memcpy(atr, script.atr, script.atr_len);
	*atr_len = script.atr_len;
	return HPKI_IO_OK;
}

static enum hpki_io_status fake_reconnect(struct hpki_connection *conn)
{
	(void)conn;
	script.reconnects++;
	return HPKI_IO_OK;
}

static void fake_disconnect(struct hpki_connection *conn)
{
	(void)conn;
}

static enum hpki_io_status fake_begin(struct hpki_connection *conn)
{
	enum hpki_io_status io = script.begin_io;

	(void)conn;
	script.begin_io = HPKI_IO_OK;
	if (io == HPKI_IO_OK)
		script.begins++;
	return io;
}

static void fake_end(struct hpki_connection *conn)
{
	(void)conn;
	script.ends++;
}

static const struct hpki_transport_ops scripted_reader = {
	.connect = fake_connect,
	.reconnect = fake_reconnect,
	.disconnect = fake_disconnect,
	.begin = fake_begin,
	.end = fake_end,
	.transmit = fake_transmit,
};

/* ATRs: the JMA contactless historical bytes (no card capabilities, facts §5), and
 * compact-TLV card capabilities 80 73 00 00 <b3> (ISO 7816-4 §8.1.1.2.7). */
static void set_atr(const char *hex)
{
	script.atr_len = unhex(hex, script.atr, sizeof(script.atr));
}
#define ATR_JMA "3B 88 80 01 00 4E 00 00 F7 81 D1 00 F8"
#define ATR_EXT_CHAIN "3B 85 80 01 80 73 00 00 C0 B2"
#define ATR_CHAIN_ONLY "3B 85 80 01 80 73 00 00 80 F2"
#define ATR_NOTHING "3B 85 80 01 80 73 00 00 00 72"

static int reset_script(void **state)
{
	(void)state;
	for (size_t i = 0; i < script.count; i++) {
		free(script.steps[i].cmd);
		free(script.steps[i].resp);
	}
	memset(&script, 0, sizeof(script));
	set_atr(ATR_JMA);
	return 0;
}

/* Every test consumes its whole script and balances its transactions. */
static void script_done(void)
{
	if (script.pos != script.count)
		print_hex("script step not reached", script.steps[script.pos].cmd, script.steps[script.pos].cmd_len);
	assert_int_equal(script.pos, script.count);
	assert_int_equal(script.begins, script.ends);
}

static void attach(struct hpki_card *card)
{
	assert_int_equal(hpki_card_attach(card, &scripted_reader, NULL, "Scripted Reader 00 00"), HPKI_CARD_OK);
}

/* ------------------------------------------------------------------------ */
/* Card content                                                              */

static const uint8_t aid_sig[] = { HPKI_AID_SIGNATURE };
static const uint8_t aid_auth[] = { HPKI_AID_AUTHENTICATION };
#define AID_SIG_HEX "E8 28 BD 08 0F A0 00 00 03 91 00 00 00 00 00 01"
#define AID_AUTH_HEX "E8 28 BD 08 0F A0 00 00 03 91 00 00 00 00 00 02"
/* SELECT of a full AID with its FCI, as every tool that worked on a real card does
 * (card-fidelity §1.4), and the card's answer. */
#define SELECT_SIG "00 A4 04 00 10 " AID_SIG_HEX " 00"
#define SELECT_AUTH "00 A4 04 00 10 " AID_AUTH_HEX " 00"
#define FCI_SIG "6F 12 84 10 " AID_SIG_HEX " 90 00"
#define FCI_AUTH "6F 12 84 10 " AID_AUTH_HEX " 90 00"

static uint8_t *cert_der;
static size_t cert_len;

/* A real RSA-2048 certificate, so that key sizes can be taken from it. */
static int make_certificate(void **state)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	unsigned char *p;
	int len;

	(void)state;
	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x15E);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"Test Doctor, a name long enough", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	len = i2d_X509(x, NULL);
	cert_der = malloc((size_t)len);
	p = cert_der;
	i2d_X509(x, &p);
	cert_len = (size_t)len;
	X509_free(x);
	EVP_PKEY_free(key);
	assert_true(cert_len > 512 && cert_len < 768); /* three short reads */
	return 0;
}

static int free_certificate(void **state)
{
	(void)state;
	free(cert_der);
	reset_script(NULL);
	return 0;
}

struct blob {
	uint8_t *der;
	size_t len;
};

static void blob_free(struct blob *b)
{
	OPENSSL_free(b->der);
	b->der = NULL;
}

enum layout { LAYOUT_JMA, LAYOUT_JAHIS };

static void path_for(struct hpki_cio_path *path, enum layout layout, uint16_t fid, uint8_t sfi)
{
	if (layout == LAYOUT_JAHIS)
		hpki_cio_path_set_sfi(path, sfi);
	else
		hpki_cio_path_set_fid(path, fid);
}

static struct blob make_od(enum layout layout)
{
	struct hpki_od_entry od[3] = { { .kind = HPKI_OD_PRIVATE_KEYS },
				       { .kind = HPKI_OD_CERTIFICATES },
				       { .kind = HPKI_OD_AUTH_OBJECTS } };
	struct blob b;

	path_for(&od[0].path, layout, HPKI_JMA_FID_PRKD, 0x14);
	path_for(&od[1].path, layout, HPKI_JMA_FID_CD, 0x15);
	path_for(&od[2].path, layout, HPKI_JMA_FID_AOD, 0x13);
	assert_int_equal(hpki_cio_encode_od(od, 3, &b.der, &b.len), HPKI_CIO_OK);
	return b;
}

static struct blob make_aod(enum layout layout)
{
	struct hpki_aod_pin pin = {
		.label = "PIN", .private_object = true, .auth_id = { 0x08 }, .auth_id_len = 1,
		.pwd_flags = HPKI_PWD_FLAG_CASE_SENSITIVE | HPKI_PWD_FLAG_LOCAL | HPKI_PWD_FLAG_INITIALIZED,
		.pwd_type = HPKI_PWD_UTF8, .min_length = 4, .max_length = 16,
		.pwd_reference = layout == LAYOUT_JAHIS ? HPKI_JAHIS_PIN_REFERENCE : HPKI_JMA_PIN_REFERENCE,
	};
	struct blob b;

	assert_int_equal(hpki_cio_encode_aod(&pin, 1, &b.der, &b.len), HPKI_CIO_OK);
	return b;
}

static struct blob make_prkd(enum layout layout, bool signature)
{
	struct hpki_prkd_key key = {
		.label = "Private key of HPKI", .private_object = true, .auth_id = { 0x08 }, .auth_id_len = 1,
		.user_consent = signature ? 1 : 0, .id = { 0x17 }, .id_len = 1,
		.usage = signature ? HPKI_KEY_USAGE_NON_REPUDIATION : HPKI_KEY_USAGE_SIGN,
		.has_key_reference = layout == LAYOUT_JMA, .key_reference = HPKI_JMA_FID_KEY,
		.modulus_bits = 2048,
	};
	struct blob b;

	path_for(&key.path, layout, HPKI_JMA_FID_KEY, 0x17);
	assert_int_equal(hpki_cio_encode_prkd(&key, 1, &b.der, &b.len), HPKI_CIO_OK);
	return b;
}

static struct blob make_cd(enum layout layout)
{
	struct hpki_cd_cert certs[2] = {
		{ .label = "HPKI END ENTITY CERTIFICATE", .id = { 0x17 }, .id_len = 1 },
		{ .label = "HPKI ROOT CA CERTIFICATE", .id = { 0x19 }, .id_len = 1, .authority = true },
	};
	struct blob b;

	path_for(&certs[0].path, layout, HPKI_JMA_FID_EE_CERT, 0x18);
	path_for(&certs[1].path, layout, 0x0017, 0x19);
	assert_int_equal(hpki_cio_encode_cd(certs, 2, &b.der, &b.len), HPKI_CIO_OK);
	return b;
}

/* Reads answered the way a card does: whole file (extended) or per chunk. */
static void expect_read_extended(const char *p1p2, const uint8_t *data, size_t len)
{
	char header[32];

	snprintf(header, sizeof(header), "00 B0 %s", p1p2);
	expect_with(header, NULL, 0, "00 00 00", data, len, HPKI_SW_END_OF_FILE);
}

/* Short reads guided by the DER length: 256 first, then exactly what is left. */
static void expect_read_short(const char *first_p1p2, const uint8_t *data, size_t len)
{
	size_t offset = 0;

	while (offset < len) {
		size_t chunk = len - offset < 256 ? len - offset : 256;
		char header[32];
		char le[4];

		if (offset == 0)
			snprintf(header, sizeof(header), "00 B0 %s", first_p1p2);
		else
			snprintf(header, sizeof(header), "00 B0 %02X %02X", (unsigned)(offset >> 8),
				 (unsigned)(offset & 0xFF));
		/* The first read asks 256; the rest ask exactly what the DER says is left. */
		snprintf(le, sizeof(le), "%02X", offset == 0 ? 0 : (unsigned)(chunk & 0xFF));
		expect_with(header, NULL, 0, le, data + offset, chunk,
			    offset == 0 && chunk < 256 ? HPKI_SW_END_OF_FILE : HPKI_SW_OK);
		offset += chunk;
	}
}

/* One JMA application (FIDs 0001–0004/0016/0017), extended reads. */
static void expect_jma_app_extended(const char *aid_hex, bool signature)
{
	struct blob od = make_od(LAYOUT_JMA), prkd = make_prkd(LAYOUT_JMA, signature);
	struct blob aod = make_aod(LAYOUT_JMA), cd = make_cd(LAYOUT_JMA);
	char select[80];

	char fci[80];

	snprintf(select, sizeof(select), "00 A4 04 00 10 %s 00", aid_hex);
	snprintf(fci, sizeof(fci), "6F 12 84 10 %s 90 00", aid_hex);
	expect(select, fci);
	expect_read_extended("91 00", od.der, od.len);
	expect("00 A4 02 0C 02 00 02", "90 00");
	expect_read_extended("00 00", prkd.der, prkd.len);
	expect("00 A4 02 0C 02 00 01", "90 00");
	expect_read_extended("00 00", aod.der, aod.len);
	expect("00 A4 02 0C 02 00 04", "90 00");
	expect_read_extended("00 00", cd.der, cd.len);
	expect("00 A4 02 0C 02 00 16", "90 00");
	expect_read_extended("00 00", cert_der, cert_len);
	expect("00 A4 02 0C 02 00 17", "90 00");
	expect_read_extended("00 00", cert_der, cert_len);
	expect("00 20 00 88", "63 CF"); /* PIN counter, inside the enumeration */
	/* No MSE probe: the signing method is learnt at the first signature (issue 11). */
	blob_free(&od);
	blob_free(&prkd);
	blob_free(&aod);
	blob_free(&cd);
}

/* ------------------------------------------------------------------------ */
/* Enumeration                                                               */

static void test_atr_capabilities(void **state)
{
	struct hpki_card card;

	(void)state;
	set_atr(ATR_EXT_CHAIN);
	attach(&card);
	assert_true(card.capabilities_known && card.extended_length && card.link.command_chaining);
	hpki_card_detach(&card);
	set_atr(ATR_NOTHING);
	attach(&card);
	assert_true(card.capabilities_known);
	assert_false(card.extended_length || card.link.command_chaining);
	hpki_card_detach(&card);
	set_atr(ATR_JMA); /* category 00, its "TLV" 4E overruns: nothing learnt */
	attach(&card);
	assert_false(card.capabilities_known || card.extended_length);
	hpki_card_detach(&card);
	set_atr("3B 8F 80"); /* announces 15 historical bytes and TD1, has neither */
	attach(&card);
	assert_false(card.capabilities_known);
	hpki_card_detach(&card);
	assert_int_equal(card.link.apdu_count, 0);
}

static void test_enumerate_jma_extended(void **state)
{
	struct hpki_card card;

	(void)state;
	/* The known AIDs are selected directly; no discovery. The JMA ATR declares
	 * nothing: the first READ BINARY is extended and teaches us. */
	expect_jma_app_extended(AID_SIG_HEX, true);
	expect_jma_app_extended(AID_AUTH_HEX, false);
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	assert_int_equal(script.begins, 1); /* one transaction */
	print_message("jma, extended length: %lu APDUs for both applications\n", card.link.apdu_count);
	assert_int_equal(card.link.apdu_count, 2 * 13);
	assert_true(card.extended_length);
	assert_int_equal(card.app_count, 2);
	assert_int_equal(card.apps[0].role, HPKI_ROLE_SIGNATURE);
	assert_int_equal(card.apps[1].role, HPKI_ROLE_AUTHENTICATION);
	for (size_t i = 0; i < 2; i++) {
		const struct hpki_app *app = &card.apps[i];

		assert_true(app->from_directories);
		assert_int_equal(app->pin.pwd_reference, 0x88);
		assert_true(app->has_key && app->key.has_key_reference);
		assert_int_equal(app->key.key_reference, 0x000C);
		assert_int_equal(app->key.modulus_bits, 2048);
		assert_int_equal(app->cert_count, 2);
		assert_int_equal(app->certs[0].der_len, cert_len);
		assert_memory_equal(app->certs[0].der, cert_der, cert_len);
		assert_true(app->certs[1].info.authority);
		/* Learnt at the first signature, not probed (issue 11). */
		assert_int_equal(app->sign_method, HPKI_SIGN_METHOD_UNKNOWN);
	}
	assert_int_equal(card.apps[0].key.user_consent, 1);
	hpki_card_detach(&card);
}

/* Issue 11: a hidden token's application is neither selected nor read. */
static void test_enumerate_shown_roles_only(void **state)
{
	struct hpki_card card;

	(void)state;
	expect_jma_app_extended(AID_AUTH_HEX, false);
	attach(&card);
	assert_int_equal(hpki_card_enumerate_roles(&card, HPKI_ROLE_BIT(HPKI_ROLE_AUTHENTICATION)), HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.link.apdu_count, 13); /* half of the 26 for both */
	assert_int_equal(card.app_count, 1);
	assert_int_equal(card.apps[0].role, HPKI_ROLE_AUTHENTICATION);
	assert_true(card.apps[0].pin_status_read); /* 63CF, read inside the enumeration */
	assert_int_equal(card.apps[0].pin_tries_left, 15);
	hpki_card_detach(&card);

	reset_script(NULL);
	expect_jma_app_extended(AID_SIG_HEX, true);
	attach(&card);
	assert_int_equal(hpki_card_enumerate_roles(&card, HPKI_ROLE_BIT(HPKI_ROLE_SIGNATURE)), HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.link.apdu_count, 13);
	assert_int_equal(card.app_count, 1);
	assert_int_equal(card.apps[0].role, HPKI_ROLE_SIGNATURE);
	hpki_card_detach(&card);
}

/* jma-2019: short APDUs only, 80 2A 00 80 signature. */
static void test_enumerate_short_only(void **state)
{
	struct hpki_card card;
	struct blob od = make_od(LAYOUT_JMA), prkd = make_prkd(LAYOUT_JMA, true);
	struct blob aod = make_aod(LAYOUT_JMA), cd = make_cd(LAYOUT_JMA);

	(void)state;
	expect(SELECT_SIG, FCI_SIG);
	/* Extended probe refused once; everything else is short. */
	expect("00 B0 91 00 00 00 00", "67 00");
	expect_read_short("91 00", od.der, od.len);
	expect("00 A4 02 0C 02 00 02", "90 00");
	expect_read_short("00 00", prkd.der, prkd.len);
	expect("00 A4 02 0C 02 00 01", "90 00");
	expect_read_short("00 00", aod.der, aod.len);
	expect("00 A4 02 0C 02 00 04", "90 00");
	expect_read_short("00 00", cd.der, cd.len);
	expect("00 A4 02 0C 02 00 16", "90 00");
	expect_read_short("00 00", cert_der, cert_len);
	expect("00 A4 02 0C 02 00 17", "90 00");
	expect_read_short("00 00", cert_der, cert_len);
	expect("00 20 00 88", "63 CF"); /* PIN counter, inside the enumeration */
	expect(SELECT_AUTH, "6A 82");
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	print_message("short only (one application): %lu APDUs\n", card.link.apdu_count);
	assert_true(card.capabilities_known);
	assert_false(card.extended_length);
	assert_int_equal(card.app_count, 1);
	assert_int_equal(card.apps[0].cert_count, 2);
	assert_memory_equal(card.apps[0].certs[0].der, cert_der, cert_len);
	assert_int_equal(card.apps[0].sign_method, HPKI_SIGN_METHOD_UNKNOWN); /* until it signs */
	hpki_card_detach(&card);
	blob_free(&od);
	blob_free(&prkd);
	blob_free(&aod);
	blob_free(&cd);
}

static void expect_jahis_app(const char *aid_hex, bool signature)
{
	struct blob od = make_od(LAYOUT_JAHIS), prkd = make_prkd(LAYOUT_JAHIS, signature);
	struct blob aod = make_aod(LAYOUT_JAHIS), cd = make_cd(LAYOUT_JAHIS);
	char select[80];

	char fci[80];

	snprintf(select, sizeof(select), "00 A4 04 00 10 %s 00", aid_hex);
	snprintf(fci, sizeof(fci), "6F 12 84 10 %s 90 00", aid_hex);
	expect(select, fci);
	expect_read_extended("91 00", od.der, od.len);
	expect_read_extended("94 00", prkd.der, prkd.len);
	expect_read_extended("93 00", aod.der, aod.len);
	expect_read_extended("95 00", cd.der, cd.len);
	expect_read_extended("98 00", cert_der, cert_len);
	expect_read_extended("99 00", cert_der, cert_len);
	/* No keyReference: tag 81 with the key's SFI as 00 17 (G31 C.5). */
	expect("00 20 00 96", "63 CF"); /* PIN counter, inside the enumeration */
	blob_free(&od);
	blob_free(&prkd);
	blob_free(&aod);
	blob_free(&cd);
}

static void test_enumerate_jahis_sfi(void **state)
{
	struct hpki_card card;

	(void)state;
	set_atr(ATR_EXT_CHAIN);
	expect_jahis_app(AID_SIG_HEX, true);
	expect_jahis_app(AID_AUTH_HEX, false);
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	print_message("jahis (SFI), extended length: %lu APDUs for both applications\n", card.link.apdu_count);
	assert_int_equal(card.link.apdu_count, 2 * 8);
	assert_int_equal(card.apps[0].pin.pwd_reference, 0x96);
	assert_false(card.apps[0].key.has_key_reference);
	assert_int_equal(card.apps[1].cert_count, 2);
	assert_int_equal(card.apps[1].sign_method, HPKI_SIGN_METHOD_UNKNOWN);
	hpki_card_detach(&card);
}

/* Neither known AID answers: the applications are found by the HPKI RID (G31 A.2.2).
 * The one found last is still selected, so only the first is selected again. */
static void test_discovery_when_no_known_aid(void **state)
{
	struct hpki_card card;

	(void)state;
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, "6A 82");
	expect(SELECT_AUTH, "6A 82");
	expect("00 A4 04 00 05 E8 28 BD 08 0F 00", FCI_SIG);
	expect("00 A4 04 02 05 E8 28 BD 08 0F 00", FCI_AUTH);
	expect("00 A4 04 02 05 E8 28 BD 08 0F 00", "6A 82");
	expect_jahis_app(AID_SIG_HEX, true);
	expect_jahis_app(AID_AUTH_HEX, false);
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.app_count, 2);
	assert_int_equal(card.apps[0].role, HPKI_ROLE_SIGNATURE);
	assert_int_equal(card.apps[1].role, HPKI_ROLE_AUTHENTICATION);
	hpki_card_detach(&card);
}

/* One known AID answers: no discovery (a card with the signature application only). */
static void test_one_known_aid_no_discovery(void **state)
{
	struct hpki_card card;

	(void)state;
	set_atr(ATR_EXT_CHAIN);
	expect_jahis_app(AID_SIG_HEX, true);
	expect(SELECT_AUTH, "6A 82");
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.app_count, 1);
	assert_memory_equal(card.apps[0].aid, aid_sig, sizeof(aid_sig));
	assert_int_equal(card.apps[0].role, HPKI_ROLE_SIGNATURE);
	hpki_card_detach(&card);
}

static void test_not_hpki(void **state)
{
	struct hpki_card card;

	(void)state;
	expect(SELECT_SIG, "6A 82");
	expect(SELECT_AUTH, "6A 82");
	expect("00 A4 04 00 05 E8 28 BD 08 0F 00", "6A 82");
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_NOT_HPKI);
	script_done();
	assert_int_equal(card.link.apdu_count, 3);
	assert_int_equal(card.app_count, 0);
	hpki_card_detach(&card);
}

/* No directories at all: the known JMA layout (facts §2.2). */
static void test_fallback_to_jma_layout(void **state)
{
	struct hpki_card card;

	(void)state;
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, "6A 82");
	expect(SELECT_AUTH, FCI_AUTH);
	expect("00 B0 91 00 00 00 00", "6A 82");
	expect("00 A4 02 0C 02 50 31", "6A 82");
	expect("00 A4 02 0C 02 00 02", "6A 82");
	expect("00 A4 02 0C 02 00 01", "6A 82");
	expect("00 A4 02 0C 02 00 04", "6A 82");
	expect("00 A4 02 0C 02 00 16", "90 00");
	expect_read_extended("00 00", cert_der, cert_len);
	expect("00 20 00 88", "63 CF"); /* PIN counter, inside the enumeration */
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.app_count, 1);
	assert_false(card.apps[0].from_directories);
	assert_int_equal(card.apps[0].role, HPKI_ROLE_AUTHENTICATION);
	assert_int_equal(card.apps[0].pin.pwd_reference, 0x88);
	assert_int_equal(card.apps[0].key.key_reference, 0x000C);
	assert_int_equal(card.apps[0].key.user_consent, 0);
	assert_int_equal(card.apps[0].key.modulus_bits, 2048); /* from the certificate */
	assert_int_equal(card.apps[0].cert_count, 1);
	assert_memory_equal(card.apps[0].certs[0].info.id, card.apps[0].key.id, card.apps[0].key.id_len);
	hpki_card_detach(&card);
}

/* A reset by another process mid-enumeration: reconnect, start over, tell the caller. */
static void test_enumerate_restarts_after_reset(void **state)
{
	struct hpki_card card;

	(void)state;
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect_io("00 B0 91 00 00 00 00", HPKI_IO_CARD_RESET);
	expect_jahis_app(AID_SIG_HEX, true);
	expect(SELECT_AUTH, "6A 82");
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	assert_int_equal(script.reconnects, 1);
	assert_true(card.link.was_reset);
	assert_int_equal(card.app_count, 1);
	hpki_card_detach(&card);
}

/* ------------------------------------------------------------------------ */
/* Malicious or broken cards                                                 */

/* One JAHIS application found by its full AID, everything up to the EE certificate. */
static void expect_single_app_until_cert(void)
{
	struct blob od = make_od(LAYOUT_JAHIS), prkd = make_prkd(LAYOUT_JAHIS, true);
	struct blob aod = make_aod(LAYOUT_JAHIS), cd = make_cd(LAYOUT_JAHIS);

	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect_read_extended("91 00", od.der, od.len);
	expect_read_extended("94 00", prkd.der, prkd.len);
	expect_read_extended("93 00", aod.der, aod.len);
	expect_read_extended("95 00", cd.der, cd.len);
	blob_free(&od);
	blob_free(&prkd);
	blob_free(&aod);
	blob_free(&cd);
}

static void enumerate_fails_with(enum hpki_card_status expected)
{
	struct hpki_card card;

	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), expected);
	script_done();
	assert_int_equal(card.app_count, 0);
	hpki_card_detach(&card);
}

static void test_truncated_fci(void **state)
{
	(void)state;
	expect(SELECT_SIG, "6F 12 84 10 E8 28 BD 90 00");
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

/* The FCI of a full-AID selection names another application: not our card's answer. */
static void test_fci_names_another_application(void **state)
{
	(void)state;
	expect(SELECT_SIG, FCI_AUTH);
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

/* A card that refuses the FCI (6A86) is asked without it (P2=0C), and only so from then on;
 * a 9000 without any FCI is accepted. */
static void test_select_without_fci_fallback(void **state)
{
	struct hpki_card card;

	(void)state;
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, "6A 86");
	expect("00 A4 04 0C 10 " AID_SIG_HEX, "90 00");
	expect("00 B0 91 00 00 00 00", "6A 82");
	expect("00 A4 02 0C 02 50 31", "6A 82");
	expect("00 A4 02 0C 02 00 02", "6A 82");
	expect("00 A4 02 0C 02 00 01", "6A 82");
	expect("00 A4 02 0C 02 00 04", "6A 82");
	expect("00 A4 02 0C 02 00 16", "90 00");
	expect_read_extended("00 00", cert_der, cert_len);
	expect("00 20 00 88", "63 CF"); /* PIN counter, inside the enumeration */
	expect("00 A4 04 0C 10 " AID_AUTH_HEX, "6A 82");
	attach(&card);
	assert_int_equal(hpki_card_enumerate(&card), HPKI_CARD_OK);
	script_done();
	assert_true(card.select_without_fci);
	assert_int_equal(card.app_count, 1);
	hpki_card_detach(&card);
}

static void test_huge_der_length(void **state)
{
	(void)state;
	expect_single_app_until_cert();
	expect("00 B0 98 00 00 00 00", "30 83 FF FF FF 01 02 03 62 82");
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

static void test_huge_der_length_4_bytes(void **state)
{
	(void)state;
	expect_single_app_until_cert();
	expect("00 B0 98 00 00 00 00", "30 84 FF FF FF FF 01 62 82");
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

/* The DER promises more than the file holds. */
static void test_truncated_certificate(void **state)
{
	(void)state;
	expect_single_app_until_cert();
	expect_with("00 B0 98 00", NULL, 0, "00 00 00", cert_der, cert_len / 2, HPKI_SW_END_OF_FILE);
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

static void test_wrong_sw_on_read(void **state)
{
	(void)state;
	expect_single_app_until_cert();
	expect("00 B0 98 00 00 00 00", "65 81");
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

static void test_garbage_directory(void **state)
{
	(void)state;
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 B0 91 00 00 00 00", "A0 03 04 01 62 82"); /* ends inside its own TLV */
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

static void test_one_byte_response(void **state)
{
	(void)state;
	expect(SELECT_SIG, "90");
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

/* 61xx answered by 61xx without data: a stalling card, given up at once (issue 8 §3). */
static void test_get_response_loop(void **state)
{
	(void)state;
	expect(SELECT_SIG, "61 FF");
	expect("00 C0 00 00 FF", "61 FF");
	enumerate_fails_with(HPKI_CARD_BAD_RESPONSE);
}

/* ------------------------------------------------------------------------ */
/* APDU layer                                                                */

static void test_apdu_encodings(void **state)
{
	uint8_t data[300], out[400];
	struct hpki_apdu a = { .cla = 0, .ins = 0xB0, .p1 = 0x91, .p2 = 0, .ne = 256 };
	uint8_t expected[8];

	(void)state;
	memset(data, 0xAB, sizeof(data));
	assert_int_equal(hpki_apdu_encode(&a, out, sizeof(out)), 5); /* case 2S, Le 00 = 256 */
	assert_memory_equal(out, expected, unhex("00 B0 91 00 00", expected, sizeof(expected)));
	a.extended = true;
	a.ne = 65536; /* case 2E: 00 0000 */
	assert_int_equal(hpki_apdu_encode(&a, out, sizeof(out)), 7);
	assert_memory_equal(out, expected, unhex("00 B0 91 00 00 00 00", expected, sizeof(expected)));
	a = (struct hpki_apdu){ .ins = 0x2A, .p1 = 0x9E, .p2 = 0x9A, .data = data, .data_len = 256,
				.ne = 65536, .extended = true }; /* case 4E */
	assert_int_equal(hpki_apdu_encode(&a, out, sizeof(out)), 4 + 3 + 256 + 2);
	assert_memory_equal(out + 4, expected, unhex("00 01 00", expected, sizeof(expected)));
	assert_memory_equal(out + 4 + 3 + 256, expected, unhex("00 00", expected, sizeof(expected)));
	a.extended = false; /* 256 bytes do not fit a short Lc */
	assert_int_equal(hpki_apdu_encode(&a, out, sizeof(out)), 0);
	a = (struct hpki_apdu){ .ins = 0x20, .p2 = 0x88 }; /* case 1 */
	assert_int_equal(hpki_apdu_encode(&a, out, sizeof(out)), 4);
}

static struct hpki_card manual_card;

static enum hpki_card_status exchange_hex(const char *cmd_hex, size_t ne, uint8_t *resp, size_t *len, uint16_t *sw)
{
	uint8_t cmd[64];
	size_t n = unhex(cmd_hex, cmd, sizeof(cmd));
	struct hpki_apdu a = { .cla = cmd[0], .ins = cmd[1], .p1 = cmd[2], .p2 = cmd[3], .ne = ne, .name = "test" };

	if (n > 5) {
		a.data = cmd + 5;
		a.data_len = cmd[4];
	}
	return hpki_apdu_exchange(&manual_card.link, &a, resp, 65536, len, sw);
}

static void test_wrong_le_repeated_once(void **state)
{
	static uint8_t resp[65536];
	size_t len;
	uint16_t sw;

	(void)state;
	expect("00 B0 00 00 00", "6C 20");
	expect("00 B0 00 00 20", "01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B "
				 "1C 1D 1E 1F 20 90 00");
	expect("00 B0 00 00 00", "6C 10");
	expect("00 B0 00 00 10", "6C 08");
	attach(&manual_card);
	assert_int_equal(exchange_hex("00 B0 00 00", 256, resp, &len, &sw), HPKI_CARD_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(len, 32);
	assert_int_equal(exchange_hex("00 B0 00 00", 256, resp, &len, &sw), HPKI_CARD_BAD_RESPONSE);
	script_done();
	hpki_card_detach(&manual_card);
}

static void test_get_response_accumulates(void **state)
{
	static uint8_t resp[65536];
	size_t len;
	uint16_t sw;

	(void)state;
	expect("00 B0 00 00 00", "01 02 61 03");
	expect("00 C0 00 00 03", "03 04 05 61 00");
	expect("00 C0 00 00 00", "06 90 00");
	attach(&manual_card);
	assert_int_equal(exchange_hex("00 B0 00 00", 256, resp, &len, &sw), HPKI_CARD_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(len, 6);
	script_done();
	hpki_card_detach(&manual_card);
}

static void test_response_longer_than_requested(void **state)
{
	static uint8_t resp[65536];
	size_t len;
	uint16_t sw;

	(void)state;
	expect("00 B0 00 00 04", "30 82 01 00 FF 90 00");
	expect("00 A4 02 0C 02 00 16", "01 90 00");
	attach(&manual_card);
	assert_int_equal(exchange_hex("00 B0 00 00", 4, resp, &len, &sw), HPKI_CARD_BAD_RESPONSE);
	assert_int_equal(exchange_hex("00 A4 02 0C 02 00 16", 0, resp, &len, &sw), HPKI_CARD_BAD_RESPONSE);
	script_done();
	hpki_card_detach(&manual_card);
}

static void test_empty_response(void **state)
{
	static uint8_t resp[65536];
	size_t len;
	uint16_t sw;

	(void)state;
	expect("00 B0 00 00 00", "");
	attach(&manual_card);
	assert_int_equal(exchange_hex("00 B0 00 00", 256, resp, &len, &sw), HPKI_CARD_BAD_RESPONSE);
	script_done();
	hpki_card_detach(&manual_card);
}

/* ------------------------------------------------------------------------ */
/* PIN                                                                       */

/* A card with one known application, as enumerate would leave it. */
static void attach_with_app(struct hpki_card *card, bool signature)
{
	struct hpki_app *app;

	attach(card);
	card->app_count = 1;
	app = &card->apps[0];
	memcpy(app->aid, signature ? aid_sig : aid_auth, HPKI_AID_LEN);
	app->aid_len = HPKI_AID_LEN;
	app->role = signature ? HPKI_ROLE_SIGNATURE : HPKI_ROLE_AUTHENTICATION;
	app->pin.pwd_reference = HPKI_JMA_PIN_REFERENCE;
	app->has_key = true;
	app->key.has_key_reference = true;
	app->key.key_reference = HPKI_JMA_FID_KEY;
	hpki_cio_path_set_fid(&app->key.path, HPKI_JMA_FID_KEY);
	app->key.modulus_bits = 2048;
}

static void pin_status_case(const char *sw_hex, enum hpki_card_status expected, bool verified, int tries)
{
	struct hpki_card card;
	bool v = !verified;
	int t = 99;

	reset_script(NULL);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 20 00 88", sw_hex);
	attach_with_app(&card, true);
	assert_int_equal(hpki_card_pin_status(&card, 0, &v, &t), expected);
	script_done();
	assert_int_equal(v, verified);
	assert_int_equal(t, tries);
	assert_int_equal(script.verify_with_data, 0);
	hpki_card_detach(&card);
}

static void test_pin_status(void **state)
{
	(void)state;
	pin_status_case("63 C3", HPKI_CARD_OK, false, 3);
	pin_status_case("63 CF", HPKI_CARD_OK, false, 15);
	pin_status_case("90 00", HPKI_CARD_OK, true, -1);
	pin_status_case("63 C0", HPKI_CARD_PIN_LOCKED, false, 0);
	pin_status_case("69 83", HPKI_CARD_PIN_LOCKED, false, 0);
	pin_status_case("69 84", HPKI_CARD_PIN_LOCKED, false, 0);
	pin_status_case("69 82", HPKI_CARD_OK, false, -1); /* counter not disclosed */
}

#define TEST_PIN "s3cR"
#define TEST_PIN_HEX "73 33 63 52"

static void verify_case(const char *sw_hex, enum hpki_card_status expected, int tries)
{
	struct hpki_card card;
	int t = 99;

	reset_script(NULL);
	expect(SELECT_AUTH, FCI_AUTH);
	expect("00 20 00 88 04 " TEST_PIN_HEX, sw_hex);
	attach_with_app(&card, false);
	assert_int_equal(hpki_card_verify_pin(&card, 0, (const uint8_t *)TEST_PIN, 4, &t), expected);
	script_done();
	assert_int_equal(t, tries);
	assert_int_equal(script.verify_with_data, 1);
	hpki_card_detach(&card);
}

static void test_verify_pin(void **state)
{
	(void)state;
	verify_case("90 00", HPKI_CARD_OK, -1);
	verify_case("63 C3", HPKI_CARD_PIN_INCORRECT, 3);
	verify_case("63 C0", HPKI_CARD_PIN_LOCKED, 0);
	verify_case("69 83", HPKI_CARD_PIN_LOCKED, 0);
	verify_case("69 84", HPKI_CARD_PIN_LOCKED, 0);
	verify_case("69 82", HPKI_CARD_NOT_AUTHENTICATED, -1);
	/* A card asking for another Le on VERIFY does not get the PIN again. */
	verify_case("6C 00", HPKI_CARD_BAD_RESPONSE, -1);
}

/* A reset (or any transport error) during VERIFY is reported, never followed by a second VERIFY. */
static void test_verify_never_repeated(void **state)
{
	struct hpki_card card;
	int t;

	(void)state;
	expect(SELECT_AUTH, FCI_AUTH);
	expect_io("00 20 00 88 04 " TEST_PIN_HEX, HPKI_IO_CARD_RESET);
	attach_with_app(&card, false);
	assert_int_equal(hpki_card_verify_pin(&card, 0, (const uint8_t *)TEST_PIN, 4, &t), HPKI_CARD_IO_ERROR);
	script_done();
	assert_int_equal(script.verify_with_data, 1);
	assert_int_equal(script.reconnects, 1);
	assert_true(card.link.was_reset);
	hpki_card_detach(&card);

	reset_script(NULL);
	expect(SELECT_AUTH, FCI_AUTH);
	expect_io("00 20 00 88 04 " TEST_PIN_HEX, HPKI_IO_FAILED);
	attach_with_app(&card, false);
	assert_int_equal(hpki_card_verify_pin(&card, 0, (const uint8_t *)TEST_PIN, 4, &t), HPKI_CARD_IO_ERROR);
	script_done();
	assert_int_equal(script.verify_with_data, 1);
	hpki_card_detach(&card);

	/* A reset noticed when the transaction begins: nothing was sent, so go on. */
	reset_script(NULL);
	script.begin_io = HPKI_IO_CARD_RESET;
	expect(SELECT_AUTH, FCI_AUTH);
	expect("00 20 00 88 04 " TEST_PIN_HEX, "90 00");
	attach_with_app(&card, false);
	assert_int_equal(hpki_card_verify_pin(&card, 0, (const uint8_t *)TEST_PIN, 4, &t), HPKI_CARD_OK);
	script_done();
	assert_true(card.link.was_reset);
	assert_int_equal(script.verify_with_data, 1);
	hpki_card_detach(&card);
}

/* ------------------------------------------------------------------------ */
/* Signing                                                                   */

static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static uint8_t digest_info[51];
static uint8_t block[256];
static uint8_t signature[256];

/* EMSA-PKCS1-v1_5 built here independently of the driver (RFC 8017 §9.2). */
static void make_sign_inputs(void)
{
	memcpy(digest_info, sha256_prefix, sizeof(sha256_prefix));
	for (size_t i = 0; i < 32; i++)
		digest_info[sizeof(sha256_prefix) + i] = (uint8_t)(0xA0 + i);
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, 256 - 3 - sizeof(digest_info));
	block[256 - sizeof(digest_info) - 1] = 0x00;
	memcpy(block + 256 - sizeof(digest_info), digest_info, sizeof(digest_info));
	for (size_t i = 0; i < sizeof(signature); i++)
		signature[i] = (uint8_t)(i * 7);
}

static void test_sign_extended(void **state)
{
	struct hpki_card card;
	uint8_t sig[512];
	size_t sig_len = sizeof(sig);

	(void)state;
	make_sign_inputs();
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_OK);
	script_done();
	assert_int_equal(sig_len, 256);
	assert_memory_equal(sig, signature, 256);
	assert_int_equal(card.apps[0].sign_method, HPKI_SIGN_METHOD_PSO_RAW);
	hpki_card_detach(&card);
}

static void test_sign_chained_raw_block(void **state)
{
	struct hpki_card card;
	uint8_t sig[256];
	size_t sig_len = sizeof(sig);

	(void)state;
	make_sign_inputs();
	set_atr(ATR_CHAIN_ONLY);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("10 2A 9E 9A 80", block, 128, "", NULL, 0, 0x9000);
	expect_with("00 2A 9E 9A 80", block + 128, 128, "00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	card.apps[0].sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_RAW_BLOCK, block, sizeof(block), sig, &sig_len),
			 HPKI_CARD_OK);
	script_done();
	assert_memory_equal(sig, signature, 256);
	hpki_card_detach(&card);
}

static void sign_once(struct hpki_card *card, enum hpki_card_status expected)
{
	uint8_t sig[512];
	size_t sig_len = sizeof(sig);

	assert_int_equal(hpki_card_sign(card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 expected);
	if (expected == HPKI_CARD_OK) {
		assert_int_equal(sig_len, 256);
		assert_memory_equal(sig, signature, 256);
	}
}

/* A PrKD key reference the card does not know (6A82, as real JMA cards answer):
 * the proven 84 + key FID, then tag 81; what worked is kept (card-fidelity §1.1). */
static void test_mse_falls_back_and_learns(void **state)
{
	struct hpki_card card;

	(void)state;
	make_sign_inputs();
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 01", "6A 82");
	expect("00 22 41 B6 04 84 02 00 0C", "69 81");
	expect("00 22 41 B6 04 81 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", signature, 256, 0x9000);
	/* Next signature, next transaction: the learnt form only. */
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 81 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	card.apps[0].key.key_reference = 0x0001;
	sign_once(&card, HPKI_CARD_OK);
	sign_once(&card, HPKI_CARD_OK);
	script_done();
	assert_true(card.apps[0].mse_form_known);
	hpki_card_detach(&card);
}

/* Every MSE form refused: the card's answer, mapped, and no PSO. */
static void test_mse_all_forms_refused(void **state)
{
	struct hpki_card card;

	(void)state;
	make_sign_inputs();
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "6A 82");
	expect("00 22 41 B6 04 81 02 00 0C", "6A 82");
	attach_with_app(&card, true);
	sign_once(&card, HPKI_CARD_BAD_RESPONSE);
	script_done();
	assert_false(card.apps[0].mse_form_known);
	hpki_card_detach(&card);
}

/* Extended PSO refused (6700) on a card whose ATR states nothing: chaining, after a
 * fresh MSE; chaining is then kept (card-fidelity §3 (3)). */
static void test_pso_extended_refused_then_chained(void **state)
{
	struct hpki_card card;

	(void)state;
	make_sign_inputs();
	set_atr(ATR_JMA);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", NULL, 0, 0x6700);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("10 2A 9E 9A 80", block, 128, "", NULL, 0, 0x9000);
	expect_with("00 2A 9E 9A 80", block + 128, 128, "00", signature, 256, 0x9000);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("10 2A 9E 9A 80", block, 128, "", NULL, 0, 0x9000);
	expect_with("00 2A 9E 9A 80", block + 128, 128, "00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	card.apps[0].sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	sign_once(&card, HPKI_CARD_OK);
	sign_once(&card, HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.pso_form, HPKI_PSO_FORM_CHAINED);
	hpki_card_detach(&card);
}

/* The ATR says chaining only, but the card refuses it (6884): the extended form,
 * the only one seen working on a JMA card. */
static void test_pso_chaining_refused_then_extended(void **state)
{
	struct hpki_card card;

	(void)state;
	make_sign_inputs();
	set_atr(ATR_CHAIN_ONLY);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("10 2A 9E 9A 80", block, 128, "", NULL, 0, 0x6884);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	card.apps[0].sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	sign_once(&card, HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.pso_form, HPKI_PSO_FORM_EXTENDED);
	hpki_card_detach(&card);
}

/* A reader that fails the long APDU: the chained form, cleanly. */
static void test_pso_extended_transmit_fails_then_chained(void **state)
{
	struct hpki_card card;

	(void)state;
	make_sign_inputs();
	set_atr(ATR_JMA);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", NULL, 0, 0x9000);
	script.steps[script.count - 1].io = HPKI_IO_FAILED;
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("10 2A 9E 9A 80", block, 128, "", NULL, 0, 0x9000);
	expect_with("00 2A 9E 9A 80", block + 128, 128, "00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	card.apps[0].sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	sign_once(&card, HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.pso_form, HPKI_PSO_FORM_CHAINED);
	hpki_card_detach(&card);
}

/* Raw RSA with `key` over the 256-byte block: what a card returns. */
static void raw_rsa_sign(EVP_PKEY *key, const uint8_t *in, uint8_t *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	size_t out_len = 256;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, out, &out_len, in, 256), 1);
	assert_int_equal(out_len, 256);
	EVP_PKEY_CTX_free(ctx);
}

/*
 * With the certificate's key known, a signature in a later transaction does not
 * select the application again (a SELECT can clear the PIN, card-fidelity §3 (6)):
 * MSE + PSO only, and the answer is checked. An answer under another key (another
 * program selected the other application) or a 6982 then gets one real SELECT.
 */
static void test_sign_trusts_current_application_and_checks(void **state)
{
	EVP_PKEY *ours = EVP_RSA_gen(2048), *theirs = EVP_RSA_gen(2048);
	uint8_t good[256], wrong[256];
	struct hpki_card card;
	uint8_t sig[512];
	size_t sig_len;

	(void)state;
	assert_non_null(ours);
	assert_non_null(theirs);
	make_sign_inputs();
	raw_rsa_sign(ours, block, good);
	raw_rsa_sign(theirs, block, wrong);
	set_atr(ATR_EXT_CHAIN);
	/* 1: first signature selects and sets MSE; 2: neither (PSO only, issue 11); 3: another
	 * key's answer → SELECT, MSE, again. 4: 6982 without SELECT and MSE → both, again. */
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", good, 256, 0x9000);
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", good, 256, 0x9000);
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", wrong, 256, 0x9000);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", good, 256, 0x9000);
	/* 4: 6982 without a fresh SELECT → SELECT → 6982 again: not logged in. */
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", NULL, 0, 0x6982);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", NULL, 0, 0x6982);
	attach_with_app(&card, true);
	card.apps[0].sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	card.apps[0].public_key = ours;
	for (int i = 0; i < 3; i++) {
		sig_len = sizeof(sig);
		assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info),
						sig, &sig_len),
				 HPKI_CARD_OK);
		assert_int_equal(sig_len, 256);
		assert_memory_equal(sig, good, 256);
	}
	sig_len = sizeof(sig);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_NOT_AUTHENTICATED);
	script_done();
	hpki_card_detach(&card); /* frees `ours` with the application */
	EVP_PKEY_free(theirs);
}

/* A freshly selected application whose answer still does not verify: a bad card. */
static void test_sign_wrong_signature_after_fresh_select(void **state)
{
	EVP_PKEY *ours = EVP_RSA_gen(2048);
	struct hpki_card card;

	(void)state;
	assert_non_null(ours);
	make_sign_inputs();
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	card.apps[0].sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	card.apps[0].public_key = ours;
	sign_once(&card, HPKI_CARD_BAD_RESPONSE);
	script_done();
	hpki_card_detach(&card);
}

static void test_sign_without_long_apdus(void **state)
{
	struct hpki_card card;
	uint8_t sig[256];
	size_t sig_len = sizeof(sig);

	(void)state;
	make_sign_inputs();
	set_atr(ATR_NOTHING);
	attach_with_app(&card, true);
	card.apps[0].sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_UNSUPPORTED);
	script_done();
	assert_int_equal(card.link.apdu_count, 0);
	hpki_card_detach(&card);
}

/* 6D00 on MSE: the 2019 card's 80 2A 00 80 with the DigestInfo (facts §4.2). */
static void test_sign_legacy_on_6d00(void **state)
{
	struct hpki_card card;
	uint8_t sig[256];
	size_t sig_len = sizeof(sig);

	(void)state;
	make_sign_inputs();
	set_atr(ATR_NOTHING);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "6D 00");
	expect("00 A4 02 0C 02 00 0C", "90 00");
	expect_with("80 2A 00 80 33", digest_info, sizeof(digest_info), "00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_OK);
	script_done();
	assert_int_equal(card.apps[0].sign_method, HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO);
	/* A pre-encoded block cannot go through a card that pads: refused before any APDU. */
	sig_len = sizeof(sig);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_RAW_BLOCK, block, sizeof(block), sig, &sig_len),
			 HPKI_CARD_UNSUPPORTED);
	assert_int_equal(card.link.apdu_count, 4);
	hpki_card_detach(&card);
}

/* The method unknown (no probe at enumeration) and the first signature a PSS block
 * on the 2019 card: MSE answers 6D00, the block is refused without a SELECT to retry
 * (nothing a SELECT changes), and the card is known to pad from then on. */
static void test_sign_raw_block_learns_legacy(void **state)
{
	struct hpki_card card;
	uint8_t sig[256];
	size_t sig_len = sizeof(sig);

	(void)state;
	make_sign_inputs();
	set_atr(ATR_NOTHING);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "6D 00");
	expect(SELECT_SIG, FCI_SIG);
	expect("00 A4 02 0C 02 00 0C", "90 00");
	expect_with("80 2A 00 80 33", digest_info, sizeof(digest_info), "00", signature, 256, 0x9000);
	attach_with_app(&card, true);
	assert_int_equal(card.apps[0].sign_method, HPKI_SIGN_METHOD_UNKNOWN);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_RAW_BLOCK, block, sizeof(block), sig, &sig_len),
			 HPKI_CARD_UNSUPPORTED);
	assert_int_equal(card.link.apdu_count, 2);
	assert_int_equal(card.apps[0].sign_method, HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO);
	sig_len = sizeof(sig);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_OK);
	script_done();
	assert_memory_equal(sig, signature, 256);
	hpki_card_detach(&card);
}

static void test_sign_errors(void **state)
{
	struct hpki_card card;
	uint8_t sig[256];
	size_t sig_len = sizeof(sig);

	(void)state;
	make_sign_inputs();
	set_atr(ATR_EXT_CHAIN);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", NULL, 0, 0x6982);
	expect(SELECT_SIG, FCI_SIG);
	expect("00 22 41 B6 04 84 02 00 0C", "90 00");
	expect_with("00 2A 9E 9A 00 01 00", block, 256, "00 00", signature, 255, 0x9000);
	attach_with_app(&card, true);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_NOT_AUTHENTICATED);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_BAD_RESPONSE);
	/* Inputs that do not fit the key: refused before any APDU. */
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, block, 250, sig, &sig_len),
			 HPKI_CARD_DATA_INVALID);
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_RAW_BLOCK, block, 255, sig, &sig_len),
			 HPKI_CARD_DATA_INVALID);
	sig_len = 100;
	assert_int_equal(hpki_card_sign(&card, 0, HPKI_SIGN_INPUT_DIGEST_INFO, digest_info, sizeof(digest_info), sig,
					&sig_len),
			 HPKI_CARD_DATA_INVALID);
	assert_int_equal(sig_len, 256);
	script_done();
	hpki_card_detach(&card);
}

/* ------------------------------------------------------------------------ */
/* The debug log never holds the PIN                                         */

static char log_path[] = "/tmp/test-card-log-XXXXXX";

static void test_log_has_no_pin(void **state)
{
	FILE *f;
	char line[4096];
	bool saw_redaction = false;

	(void)state;
	verify_case("63 C3", HPKI_CARD_PIN_INCORRECT, 3); /* once more, to be sure it is in the log */
	f = fopen(log_path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, TEST_PIN) != NULL || strstr(line, TEST_PIN_HEX) != NULL) {
			fprintf(stderr, "PIN in the log: %s", line);
			fail();
		}
		if (strstr(line, "PIN redacted") != NULL)
			saw_redaction = true;
	}
	fclose(f);
	assert_true(saw_redaction);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_atr_capabilities, reset_script),
		cmocka_unit_test_setup(test_enumerate_jma_extended, reset_script),
		cmocka_unit_test_setup(test_enumerate_short_only, reset_script),
		cmocka_unit_test_setup(test_enumerate_jahis_sfi, reset_script),
		cmocka_unit_test_setup(test_discovery_when_no_known_aid, reset_script),
		cmocka_unit_test_setup(test_one_known_aid_no_discovery, reset_script),
		cmocka_unit_test_setup(test_not_hpki, reset_script),
		cmocka_unit_test_setup(test_fallback_to_jma_layout, reset_script),
		cmocka_unit_test_setup(test_enumerate_restarts_after_reset, reset_script),
		cmocka_unit_test_setup(test_truncated_fci, reset_script),
		cmocka_unit_test_setup(test_fci_names_another_application, reset_script),
		cmocka_unit_test_setup(test_select_without_fci_fallback, reset_script),
		cmocka_unit_test_setup(test_huge_der_length, reset_script),
		cmocka_unit_test_setup(test_huge_der_length_4_bytes, reset_script),
		cmocka_unit_test_setup(test_truncated_certificate, reset_script),
		cmocka_unit_test_setup(test_wrong_sw_on_read, reset_script),
		cmocka_unit_test_setup(test_garbage_directory, reset_script),
		cmocka_unit_test_setup(test_one_byte_response, reset_script),
		cmocka_unit_test_setup(test_get_response_loop, reset_script),
		cmocka_unit_test_setup(test_apdu_encodings, reset_script),
		cmocka_unit_test_setup(test_wrong_le_repeated_once, reset_script),
		cmocka_unit_test_setup(test_get_response_accumulates, reset_script),
		cmocka_unit_test_setup(test_response_longer_than_requested, reset_script),
		cmocka_unit_test_setup(test_empty_response, reset_script),
		cmocka_unit_test_setup(test_enumerate_shown_roles_only, reset_script),
		cmocka_unit_test_setup(test_pin_status, reset_script),
		cmocka_unit_test_setup(test_verify_pin, reset_script),
		cmocka_unit_test_setup(test_verify_never_repeated, reset_script),
		cmocka_unit_test_setup(test_sign_extended, reset_script),
		cmocka_unit_test_setup(test_sign_chained_raw_block, reset_script),
		cmocka_unit_test_setup(test_mse_falls_back_and_learns, reset_script),
		cmocka_unit_test_setup(test_mse_all_forms_refused, reset_script),
		cmocka_unit_test_setup(test_pso_extended_refused_then_chained, reset_script),
		cmocka_unit_test_setup(test_pso_chaining_refused_then_extended, reset_script),
		cmocka_unit_test_setup(test_pso_extended_transmit_fails_then_chained, reset_script),
		cmocka_unit_test_setup(test_sign_trusts_current_application_and_checks, reset_script),
		cmocka_unit_test_setup(test_sign_wrong_signature_after_fresh_select, reset_script),
		cmocka_unit_test_setup(test_sign_without_long_apdus, reset_script),
		cmocka_unit_test_setup(test_sign_raw_block_learns_legacy, reset_script),
		cmocka_unit_test_setup(test_sign_legacy_on_6d00, reset_script),
		cmocka_unit_test_setup(test_sign_errors, reset_script),
		cmocka_unit_test_setup(test_log_has_no_pin, reset_script),
	};
	int fd = mkstemp(log_path);
	int rc;

	/* Full APDU trace into a private file, set before the log reads the environment. */
	if (fd < 0)
		return 1;
	close(fd);
	setenv("HPKI_PKCS11_DEBUG", "3", 1);
	setenv("HPKI_PKCS11_DEBUG_FILE", log_path, 1);
	rc = cmocka_run_group_tests(tests, make_certificate, free_certificate);
	unlink(log_path);
	return rc;
}
