/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The corpus recorder: runs the fuzz targets' scenarios over the in-process
 * virtual card, for every variant of hpki_fuzz_variants, with the fuzzers' reader
 * recording the card's real answers in the replay format. The result is a seed
 * that the target replays exactly as the card answered, so fuzzing starts from
 * complete, valid sessions of every profile.
 *
 *   test/fuzz/fuzz-record OUTDIR     writes OUTDIR/fuzz-{cio,card,sign,api}/…
 *
 * (make fuzz-corpus re-records test/fuzz/corpus/; run it after a change in the
 * driver's APDU sequence, so the seeds keep matching what the driver sends.)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "card-internal.h"
#include "fuzz-targets.h"
#include "fuzz-vcard.h"
#include "hpki/cio.h"

static const char *out_dir;
static unsigned long files_written;

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
}

static void write_file(const char *target, const char *name, const uint8_t *a, size_t a_len, const uint8_t *b,
		       size_t b_len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", out_dir, target);
	make_dir(path);
	snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
	if (access(path, F_OK) != 0)
		files_written++; /* directory files shared by several variants count once */
	f = fopen(path, "wb");
	if (f == NULL || (a_len > 0 && fwrite(a, 1, a_len, f) != a_len) ||
	    (b_len > 0 && fwrite(b, 1, b_len, f) != b_len) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static struct vcard *live_card(const struct hpki_fuzz_variant *v)
{
	struct vcard *card = hpki_fuzz_vcard_new(v);
	struct hpki_fuzz_card c;

	if (card == NULL)
		exit(1);
	c = hpki_fuzz_vcard_reader(card);
	hpki_fuzz_reader_live(&c, true);
	return card;
}

/* ---- fuzz-cio: every directory file of the card, for the decoder that accepts it ----------- */

static void hex_name(const uint8_t *data, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;

	EVP_Digest(data, len, md, &md_len, EVP_sha1(), NULL);
	for (i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void record_cio(struct vcard *card)
{
	size_t a, f;

	for (a = 0; a < card->app_count; a++)
		for (f = 0; f < card->apps[a].file_count; f++) {
			const struct vcard_file *file = &card->apps[a].files[f];
			union {
				struct hpki_od_entry od[8];
				struct hpki_aod_pin aod[8];
				struct hpki_prkd_key prkd[8];
				struct hpki_cd_cert cd[8];
				struct hpki_cia_info cia;
			} u;
			size_t count = 0;
			uint8_t selector;
			char name[64];

			if (file->data == NULL || file->len == 0)
				continue;
			/* Selector byte: decoder in the low bits, capacity 8 in the high ones (fuzz-cio.c). */
			if (hpki_cio_decode_od(file->data, file->len, u.od, 8, &count) == 0 && count > 0)
				selector = 0x70;
			else if (hpki_cio_decode_aod(file->data, file->len, u.aod, 8, &count) == 0 && count > 0)
				selector = 0x71;
			else if (hpki_cio_decode_prkd(file->data, file->len, u.prkd, 8, &count) == 0 && count > 0)
				selector = 0x72;
			else if (hpki_cio_decode_cd(file->data, file->len, u.cd, 8, &count) == 0 && count > 0)
				selector = 0x73;
			else if (hpki_cio_decode_cia_info(file->data, file->len, &u.cia) == 0)
				selector = 0x74;
			else
				continue; /* a certificate or a key: not a directory */
			/* Named by content: the profiles share many files. */
			hex_name(file->data, file->len, name);
			write_file("fuzz-cio", name, &selector, 1, file->data, file->len);
		}
}

/* ---- fuzz-card and fuzz-sign ----------------------------------------------------------------- */

static void record_card(const struct hpki_fuzz_variant *v)
{
	struct vcard *card = live_card(v);
	const uint8_t *rec;
	size_t len;

	hpki_fuzz_card_run();
	rec = hpki_fuzz_reader_recording(&len);
	write_file("fuzz-card", v->name, rec, len, NULL, 0);
	record_cio(card);
	vcard_free(card);
}

/* Options of fuzz-sign.c: slot, flow, mechanism, data. */
static const struct {
	const char *name;
	uint8_t options[HPKI_FUZZ_SIGN_OPTIONS];
} sign_flows[] = {
	{ "sign-sha256", { 0x01, 1, 0x41, 100 } },
	{ "auth-rsa-pkcs", { 0x00, 0, 0x42, 0 } },
	{ "sign-pss-wrong-pin-first", { 0x03, 5, 0x43, 0 } },
	{ "auth-sha256-pss-multipart-2x-relogin", { 0x2C, 6, 0x44, 200 } },
};

static void record_sign(const struct hpki_fuzz_variant *v, size_t flows)
{
	size_t i;

	for (i = 0; i < flows; i++) {
		struct vcard *card = live_card(v);
		const uint8_t *rec;
		size_t len;
		char name[128];

		hpki_fuzz_sign_run(sign_flows[i].options);
		rec = hpki_fuzz_reader_recording(&len);
		snprintf(name, sizeof name, "%s-%s", v->name, sign_flows[i].name);
		write_file("fuzz-sign", name, sign_flows[i].options, HPKI_FUZZ_SIGN_OPTIONS, rec, len);
		vcard_free(card);
	}
}

/* ---- fuzz-api: typical application sessions as operation sequences --------------------------- */

#define OP(x) HPKI_FUZZ_OP_##x
/* Argument bytes as fuzz-api.c reads them. */
static const uint8_t api_read_all[] = {
	OP(SLOT_LIST), 1, 8, OP(SLOT_INFO), 0, 2, 8, OP(OPEN), 0, 0,
	OP(FIND), 0, 0, 0, 16,            /* every object */
	/* (size, type): class, label, value length, value, ID */
	OP(GET_ATTR), 0, 0, 5, 8, 0, 64, 3, 0xFF, 5, 0x80 + 64, 5, 40, 4, 0,
	/* modulus, modulus bits, private exponent (sensitive) */
	OP(GET_ATTR), 0, 1, 3, 0x80 + 16, 11, 8, 12, 8, 19, 0,
	OP(SESSION_INFO), 0, OP(EVENT), OP(CLOSE), 0,
};
static const uint8_t api_auth_sign[] = {
	OP(OPEN), 0, 0, OP(LOGIN), 0, 1, HPKI_FUZZ_PIN_AUTH,
	OP(FIND), 0, 1, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 0, 4, /* CKA_CLASS = CKO_PRIVATE_KEY */
	OP(SIGN_INIT), 0, 2, 0, 0, 0,              /* CKM_SHA256_RSA_PKCS */
	OP(SIGN), 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 1, 0x02, 0x00,
	OP(SIGN_INIT), 0, 7, 1, 1, 1, 32, 0, 0,    /* CKM_SHA256_RSA_PKCS_PSS */
	OP(SIGN_UPDATE), 0, 3, 'a', 'b', 'c', 0, OP(SIGN_FINAL), 0, 1, 0x02, 0x00,
	OP(DIGEST_INIT), 0, 11, 0, OP(DIGEST), 0, 3, 'a', 'b', 'c', 0, 1, 0, 32,
	OP(LOGOUT), 0, OP(CLOSE_ALL), 0,
};
static const uint8_t api_sign_context[] = {
	OP(OPEN), 1, 0, OP(LOGIN), 0, 1, HPKI_FUZZ_PIN_WRONG, OP(LOGIN), 0, 1, HPKI_FUZZ_PIN_SIGN,
	OP(FIND), 0, 1, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 0, 4,
	OP(SIGN_INIT), 0, 0, 0, 0, 0,              /* CKM_RSA_PKCS */
	OP(LOGIN), 0, 2, HPKI_FUZZ_PIN_SIGN,       /* CKU_CONTEXT_SPECIFIC */
	OP(SIGN), 0, 51, 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	0x01, 0x05, 0x00, 0x04, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
	21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 0, 1, 0x02, 0x00,
	OP(FIND), 0, 1, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 0, 4, /* public key */
	OP(VERIFY_INIT), 0, 2, 0, 0, OP(VERIFY), 0, 3, 'a', 'b', 'c', 0, 4, 1, 2, 3, 4, 0,
	OP(CARD_RESET), OP(SLOT_INFO), 1, 0, 4, OP(REINIT), 0, 0,
};
#undef OP

static void record_api(void)
{
	static const struct {
		const char *name;
		const uint8_t *ops;
		size_t len;
	} flows[] = {
		{ "read-all", api_read_all, sizeof api_read_all },
		{ "auth-sign", api_auth_sign, sizeof api_auth_sign },
		{ "sign-context", api_sign_context, sizeof api_sign_context },
	};
	uint8_t variant;
	size_t f;
	char name[128];

	for (variant = 0; variant < hpki_fuzz_variant_count; variant++)
		for (f = 0; f < sizeof flows / sizeof flows[0]; f++) {
			if (variant >= 3 && f > 0)
				continue; /* the other cards: one flow each keeps the corpus small */
			snprintf(name, sizeof name, "%s-%s", hpki_fuzz_variants[variant].name, flows[f].name);
			write_file("fuzz-api", name, &variant, 1, flows[f].ops, flows[f].len);
		}
}

int main(int argc, char **argv)
{
	size_t v;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	make_dir(out_dir);
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	for (v = 0; v < hpki_fuzz_variant_count; v++) {
		record_card(&hpki_fuzz_variants[v]);
		/* Every flow on the three profiles; one on the other variants. */
		record_sign(&hpki_fuzz_variants[v], v < 3 ? sizeof sign_flows / sizeof sign_flows[0] : 1);
	}
	record_api();
	hpki_fuzz_reader_free();
	printf("%lu seed files written under %s\n", files_written, out_dir);
	return 0;
}
