/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool verify FILE SIGNATURE: checks a detached CMS signature (DER or PEM)
 * against the trust anchors of --trust, as `openssl cms -verify -binary` does, and
 * tells who signed (names, hcRole qualification) and when (signingTime).
 */
#include "config.h"

#include "tool.h"
#include "tool-cert.h"
#include "tool-json.h"

#include <getopt.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h> /* before cms.h: PEM_*_CMS are declared only then */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#define MAX_TRUST 8

struct verify_opts {
	const char *file, *sig;
	const char *trust[MAX_TRUST];
	size_t trust_count;
	bool json;
};

static void usage(FILE *out)
{
	fprintf(out, "%s", _("Usage: hpki-tool verify FILE SIGNATURE --trust CERTS.pem [--trust …] [--json]\n"
			     "Checks a detached CMS signature of FILE (DER or PEM) and shows the signer,\n"
			     "the signer's qualification (hcRole) and the signing time. The signer's\n"
			     "certificate must chain to a certificate of --trust (e.g. the HPKI root CA).\n"
			     "Exit status 0 only when the signature is valid.\n"
			     "  --trust FILE  trust anchors (PEM); may be given several times\n"
			     "  --json        machine-readable output\n"));
}

static int parse(int argc, char **argv, struct verify_opts *o)
{
	static const struct option longs[] = {
		{ "trust", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 't' && o->trust_count < MAX_TRUST)
			o->trust[o->trust_count++] = optarg;
		else if (c == 'j')
			o->json = true;
		else if (c == 'h') {
			usage(stdout);
			return HPKI_TOOL_OK;
		} else {
			usage(stderr);
			return HPKI_TOOL_USAGE;
		}
	}
	if (optind + 2 != argc || o->trust_count == 0) {
		if (o->trust_count == 0)
			hpki_tool_error(_("verify needs trust anchors: --trust CERTS.pem"));
		usage(stderr);
		return HPKI_TOOL_USAGE;
	}
	o->file = argv[optind];
	o->sig = argv[optind + 1];
	return -1;
}

static CMS_ContentInfo *load_cms(const char *path)
{
	BIO *in = BIO_new_file(path, "rb");
	CMS_ContentInfo *cms = in != NULL ? d2i_CMS_bio(in, NULL) : NULL;

	if (in != NULL && cms == NULL) {
		(void)BIO_reset(in);
		cms = PEM_read_bio_CMS(in, NULL, NULL, NULL);
	}
	BIO_free(in);
	ERR_clear_error();
	return cms;
}

static X509_STORE *load_trust(const struct verify_opts *o)
{
	X509_STORE *store = X509_STORE_new();

	for (size_t i = 0; store != NULL && i < o->trust_count; i++) {
		if (X509_STORE_load_file(store, o->trust[i]) != 1) {
			hpki_tool_error(_("cannot load trust anchors from %s"), o->trust[i]);
			X509_STORE_free(store);
			return NULL;
		}
	}
	return store;
}

/* signingTime (RFC 5652 §11.3), or 0 when absent. */
static time_t signing_time(CMS_ContentInfo *cms)
{
	STACK_OF(CMS_SignerInfo) *infos = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si = sk_CMS_SignerInfo_num(infos) > 0 ? sk_CMS_SignerInfo_value(infos, 0) : NULL;
	int pos = si != NULL ? CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) : -1;
	ASN1_TYPE *v = pos >= 0 ? X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, pos), 0) : NULL;
	struct tm tm;

	if (v == NULL || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME))
		return 0;
	if (ASN1_TIME_to_tm((const ASN1_TIME *)v->value.asn1_string, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* Why CMS_verify said no, in the user's terms. */
static void report_invalid(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *data = NULL;
	int flags = 0;

	if (ERR_GET_LIB(e) == ERR_LIB_CMS && ERR_GET_REASON(e) == CMS_R_CERTIFICATE_VERIFY_ERROR) {
		ERR_peek_last_error_data(&data, &flags);
		hpki_tool_error(_("INVALID: the signer's certificate is not trusted (%s)"),
				data != NULL && (flags & ERR_TXT_STRING) ? data : "?");
	} else if (ERR_GET_LIB(e) == ERR_LIB_CMS && (ERR_GET_REASON(e) == CMS_R_VERIFICATION_FAILURE ||
						       ERR_GET_REASON(e) == CMS_R_CONTENT_VERIFY_ERROR)) {
		hpki_tool_error(_("INVALID: the file does not match the signature (it was changed after signing, "
				  "or it is not the file that was signed)"));
	} else {
		hpki_tool_error(_("INVALID: %s"), ERR_reason_error_string(e) != NULL ? ERR_reason_error_string(e) : "?");
	}
}

static void print_signer(const struct verify_opts *o, const struct hpki_tool_cert *c, time_t when)
{
	char at[40] = "";

	if (when != 0)
		hpki_tool_timestamp(when, at, sizeof(at));
	if (o->json) {
		printf("{");
		hpki_json_bool(stdout, "valid", 1, 0);
		hpki_json_str(stdout, "signer", c->name_kanji[0] ? c->name_kanji : NULL, 1);
		hpki_json_str(stdout, "signer_roman", c->name_roman, 1);
		hpki_json_str(stdout, "qualification", c->role[0] ? c->role : NULL, 1);
		hpki_json_str(stdout, "qualification_scheme", c->role_scheme[0] ? c->role_scheme : NULL, 1);
		hpki_json_str(stdout, "issuer", c->issuer, 1);
		hpki_json_str(stdout, "serial", c->serial, 1);
		hpki_json_str(stdout, "signing_time", when != 0 ? at : NULL, 1);
		printf("}\n");
		return;
	}
	printf(_("Signature OK\n"));
	printf(_("  Signer:         %s (%s)\n"), c->name_kanji[0] ? c->name_kanji : "-", c->name_roman);
	if (c->role[0])
		printf(_("  Qualification:  %s (hcRole, scheme %s)\n"), hpki_tool_role_text(c->role), c->role_scheme);
	else
		printf(_("  Qualification:  none in the certificate (no hcRole)\n"));
	printf(_("  Certificate:    serial %s, issued by %s\n"), c->serial, c->issuer);
	printf(_("  Signed at:      %s\n"), when != 0 ? at : _("(no signing time in the signature)"));
}

static int check(const struct verify_opts *o, CMS_ContentInfo *cms, X509_STORE *store)
{
	BIO *content = BIO_new_file(o->file, "rb");
	STACK_OF(X509) *signers;
	struct hpki_tool_cert info;
	int rc = HPKI_TOOL_FAILED;

	if (content == NULL) {
		hpki_tool_error(_("cannot read %s"), o->file);
		return rc;
	}
	if (CMS_verify(cms, NULL, store, content, NULL, CMS_BINARY) != 1) {
		report_invalid();
	} else {
		signers = CMS_get0_signers(cms);
		if (sk_X509_num(signers) > 0 &&
		    hpki_tool_cert_describe(sk_X509_value(signers, 0), hpki_tool_now(), &info)) {
			print_signer(o, &info, signing_time(cms));
			rc = HPKI_TOOL_OK;
		}
		sk_X509_free(signers);
	}
	BIO_free(content);
	return rc;
}

int hpki_tool_verify(int argc, char **argv)
{
	struct verify_opts o = { 0 };
	CMS_ContentInfo *cms;
	X509_STORE *store;
	int rc = parse(argc, argv, &o);

	if (rc >= 0)
		return rc;
	cms = load_cms(o.sig);
	if (cms == NULL) {
		hpki_tool_error(_("%s is not a CMS signature (DER or PEM)"), o.sig);
		return HPKI_TOOL_FAILED;
	}
	store = load_trust(&o);
	rc = store != NULL ? check(&o, cms, store) : HPKI_TOOL_FAILED;
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	return rc;
}
