/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool sign FILE: a detached CMS SignedData (RFC 5652) over the file with the
 * card's signature key: SHA-256, a signingTime attribute, the signer's certificate
 * and the CA certificates the card holds, as `openssl cms -sign -binary` makes it.
 * The PIN is asked once, checked for form before the card sees it, sent in exactly
 * one VERIFY right before the signature, and wiped.
 */
#include "config.h"

#include "tool.h"
#include "tool-json.h"
#include "tool-key.h"
#include "tool-pin.h"
#include "tool-reader.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h> /* before cms.h: PEM_*_CMS are declared only then */
#include <openssl/cms.h>
#include <openssl/err.h>

struct sign_opts {
	const char *file, *out, *reader;
	int pin_fd;
	bool pem, json;
};

static void usage(FILE *out)
{
	fprintf(out, "%s", _("Usage: hpki-tool sign FILE [-o SIGNATURE] [--pem] [--pin-fd N] [--reader NAME]\n"
			     "Signs FILE with the card's signature key: a detached CMS signature (SHA-256,\n"
			     "signing time, the signer's certificate and the card's CA certificates),\n"
			     "written to FILE.p7s unless -o is given. The PIN is asked once on the terminal\n"
			     "(no echo), or read as one line from descriptor N with --pin-fd; never from the\n"
			     "command line. A wrong PIN costs one try; the tries left are shown.\n"
			     "  -o, --out FILE  where to write the signature\n"
			     "  --pem           PEM instead of DER\n"
			     "  --json          machine-readable output\n"
			     "  --pin-fd N      read the PIN from file descriptor N\n"
			     "  --reader NAME   use the card in this reader\n"));
}

static int parse(int argc, char **argv, struct sign_opts *o)
{
	static const struct option longs[] = {
		{ "out", required_argument, NULL, 'o' }, { "pem", no_argument, NULL, 'p' },
		{ "pin-fd", required_argument, NULL, 'f' }, { "reader", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	o->pin_fd = -1;
	while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'p': o->pem = true; break;
		case 'j': o->json = true; break;
		case 'f': o->pin_fd = atoi(optarg); break;
		case 'r': o->reader = optarg; break;
		case 'h': usage(stdout); return HPKI_TOOL_OK;
		default: usage(stderr); return HPKI_TOOL_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return HPKI_TOOL_USAGE;
	}
	o->file = argv[optind];
	return -1;
}

static X509 *der_to_x509(const struct hpki_cert *c)
{
	const unsigned char *p = c->der;

	return d2i_X509(NULL, &p, (long)c->der_len);
}

/* The CMS before the signature: signer, SHA-256, and the card's CA certificates. */
static CMS_ContentInfo *build_cms(const struct hpki_app *app, X509 *ee, EVP_PKEY *key)
{
	unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);

	if (cms == NULL || CMS_add1_signer(cms, ee, key, EVP_sha256(), flags) == NULL) {
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	for (size_t i = 0; i < app->cert_count; i++) {
		X509 *ca = app->certs[i].info.authority ? der_to_x509(&app->certs[i]) : NULL;

		if (ca != NULL)
			CMS_add1_cert(cms, ca);
		X509_free(ca);
	}
	return cms;
}

static bool write_cms(CMS_ContentInfo *cms, const char *path, bool pem)
{
	BIO *out = BIO_new_file(path, "wb");
	bool ok = out != NULL && (pem ? PEM_write_bio_CMS(out, cms) : i2d_CMS_bio(out, cms)) == 1;

	if (out == NULL || BIO_free(out) != 1)
		ok = false;
	return ok;
}

static void report_failure(const struct hpki_tool_key_ctx *kc)
{
	if (kc->status == HPKI_CARD_PIN_INCORRECT)
		hpki_tool_error(_("wrong PIN: %d tries left (nothing was signed)"), kc->tries_left);
	else if (kc->status == HPKI_CARD_PIN_LOCKED)
		hpki_tool_error(_("the PIN is blocked; the card's issuer can unblock it"));
	else if (kc->status != HPKI_CARD_OK)
		hpki_tool_error(_("the card did not sign: %s"), hpki_card_status_text(kc->status));
	else
		hpki_tool_error(_("the signature could not be made: %s"), ERR_reason_error_string(ERR_peek_last_error()));
}

/* Sign `in` with the card; the PIN has been read. */
static int sign_with(struct hpki_card *card, int app, const struct sign_opts *o, const char *pin, size_t pin_len)
{
	const struct hpki_cert *ee_cert = hpki_tool_ee_cert(&card->apps[app]);
	X509 *ee = ee_cert != NULL ? der_to_x509(ee_cert) : NULL;
	struct hpki_tool_key_ctx kc = { .card = card, .app = (size_t)app, .pin = pin, .pin_len = pin_len };
	EVP_PKEY *key = ee != NULL ? hpki_tool_card_key(ee, &kc) : NULL;
	CMS_ContentInfo *cms = key != NULL ? build_cms(&card->apps[app], ee, key) : NULL;
	BIO *in = BIO_new_file(o->file, "rb");
	char out_path[4096];
	int rc = HPKI_TOOL_FAILED;

	snprintf(out_path, sizeof(out_path), "%s%s", o->out != NULL ? o->out : o->file, o->out != NULL ? "" : ".p7s");
	if (in == NULL)
		hpki_tool_error(_("cannot read %s"), o->file);
	else if (cms == NULL)
		hpki_tool_error(_("the card's signature certificate cannot be used"));
	else if (CMS_final(cms, in, NULL, CMS_DETACHED | CMS_BINARY) != 1)
		report_failure(&kc);
	else if (!write_cms(cms, out_path, o->pem))
		hpki_tool_error(_("cannot write %s"), out_path);
	else {
		if (o->json) {
			printf("{");
			hpki_json_str(stdout, "file", o->file, 0);
			hpki_json_str(stdout, "signature", out_path, 1);
			printf("}\n");
		} else {
			printf(_("Signed %s: %s\n"), o->file, out_path);
		}
		rc = HPKI_TOOL_OK;
	}
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	hpki_tool_card_key_free(key);
	X509_free(ee);
	return rc;
}

/* Before asking: is there a PIN left to try? The empty VERIFY uses no try (G31 C.3.4). */
static bool pin_usable(struct hpki_card *card, int app)
{
	bool verified;
	int tries;
	enum hpki_card_status st = hpki_card_pin_status(card, (size_t)app, &verified, &tries);

	if (st == HPKI_CARD_PIN_LOCKED) {
		hpki_tool_error(_("the signature PIN is blocked; the card's issuer can unblock it"));
		return false;
	}
	if (st == HPKI_CARD_OK && tries >= 0 && tries <= 3)
		fprintf(stderr, _("hpki-tool: careful, %d PIN tries left\n"), tries);
	return st == HPKI_CARD_OK;
}

int hpki_tool_sign(int argc, char **argv)
{
	struct sign_opts o = { 0 };
	struct hpki_tool_pcsc pcsc;
	struct hpki_card card;
	char pin[HPKI_TOOL_PIN_MAX + 2];
	int rc = parse(argc, argv, &o), app, pin_len;

	if (rc >= 0)
		return rc;
	/* The signature application only: half the APDUs of reading the whole card. */
	if (!hpki_tool_open_first_card(&pcsc, o.reader, HPKI_ROLE_SIGNATURE, &card))
		return HPKI_TOOL_FAILED;
	app = hpki_tool_find_app(&card, HPKI_ROLE_SIGNATURE);
	rc = HPKI_TOOL_FAILED;
	if (app < 0)
		hpki_tool_error(_("the card has no signature application"));
	else if (pin_usable(&card, app)) {
		pin_len = hpki_tool_read_pin(o.pin_fd, _("Signature PIN (電子署名用PIN): "), pin, sizeof(pin));
		if (pin_len > 0)
			rc = sign_with(&card, app, &o, pin, (size_t)pin_len);
		hpki_tool_wipe(pin, sizeof(pin));
	}
	hpki_card_detach(&card);
	hpki_tool_pcsc_close(&pcsc);
	return rc;
}
