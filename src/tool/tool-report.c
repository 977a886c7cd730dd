/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-tool diagnose: the report text and the shapes that replace personal data. */
#include "config.h"

#include "tool-report.h"
#include "tool-cert.h"
#include "tool.h"

#include "hpki/cio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

void hpki_report_add(struct hpki_report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || r->failed)
		return;
	if (r->len + (size_t)n + 1 > r->cap) {
		size_t cap = (r->cap + (size_t)n + 1) * 2;
		char *t = realloc(r->text, cap);

		if (t == NULL) {
			r->failed = true;
			return;
		}
		r->text = t;
		r->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(r->text + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	r->len += (size_t)n;
}

void hpki_report_hex(struct hpki_report *r, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		hpki_report_add(r, "%02X", data[i]);
}

void hpki_report_free(struct hpki_report *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* ---- certificates: shape only ---------------------------------------------------------- */

static void add_oid(struct hpki_report *r, const ASN1_OBJECT *obj)
{
	char txt[80];

	OBJ_obj2txt(txt, sizeof(txt), obj, 1);
	hpki_report_add(r, "%s", txt);
}

void hpki_report_cert_shape(struct hpki_report *r, const char *where, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	struct hpki_tool_cert info;
	const X509_ALGOR *alg;

	hpki_report_add(r, "cert %s length=%zu", where, len);
	if (x == NULL) {
		hpki_report_add(r, " parse=failed\n");
		return;
	}
	X509_get0_signature(NULL, &alg, x);
	hpki_report_add(r, " der-length=%zu sigalg=", (size_t)(p - der));
	add_oid(r, alg->algorithm);
	hpki_report_add(r, " key=%s-%d", EVP_PKEY_get0_type_name(X509_get0_pubkey(x)), EVP_PKEY_get_bits(X509_get0_pubkey(x)));
	hpki_report_add(r, " version=%ld extensions=", X509_get_version(x) + 1);
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);

		hpki_report_add(r, "%s", i ? "," : "");
		add_oid(r, X509_EXTENSION_get_object(e));
		hpki_report_add(r, "%s", X509_EXTENSION_get_critical(e) ? "!" : "");
	}
	/* The qualification is a class of people, not a person (facts §7). */
	hpki_tool_cert_describe(x, 0, &info);
	hpki_report_add(r, " hcRole=\"%s\" self-signed=%s\n", info.role,
			X509_check_issued(x, x) == X509_V_OK ? "yes" : "no");
	X509_free(x);
}

/* ---- directories: structure, no labels, no identifiers --------------------------------- */

static void add_path(struct hpki_report *r, const struct hpki_cio_path *path)
{
	uint8_t sfi;
	uint16_t fid;

	if (hpki_cio_path_is_sfi(path, &sfi))
		hpki_report_add(r, "sfi:%02X", sfi);
	else if (hpki_cio_path_is_fid(path, &fid))
		hpki_report_add(r, "fid:%04X", fid);
	else {
		hpki_report_add(r, "path:");
		hpki_report_hex(r, path->efid_or_path, path->len);
	}
}

static void dir_od(struct hpki_report *r, const uint8_t *der, size_t len)
{
	struct hpki_od_entry e[16];
	size_t n = 0;

	if (hpki_cio_decode_od(der, len, e, 16, &n) != 0) {
		hpki_report_add(r, " decode=failed");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		hpki_report_add(r, " %d=", (int)e[i].kind);
		add_path(r, &e[i].path);
	}
}

static void dir_aod(struct hpki_report *r, const uint8_t *der, size_t len)
{
	struct hpki_aod_pin p[8];
	size_t n = 0;

	if (hpki_cio_decode_aod(der, len, p, 8, &n) != 0) {
		hpki_report_add(r, " decode=failed");
		return;
	}
	for (size_t i = 0; i < n; i++)
		hpki_report_add(r, " pin{ref=%02X type=%d flags=%X min=%u stored=%u max=%u label-len=%zu}",
				p[i].pwd_reference, (int)p[i].pwd_type, p[i].pwd_flags, p[i].min_length,
				p[i].stored_length, p[i].max_length, strlen(p[i].label));
}

static void dir_prkd(struct hpki_report *r, const uint8_t *der, size_t len)
{
	struct hpki_prkd_key k[8];
	size_t n = 0;

	if (hpki_cio_decode_prkd(der, len, k, 8, &n) != 0) {
		hpki_report_add(r, " decode=failed");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		hpki_report_add(r, " key{usage=%X consent=%ld keyref=%ld bits=%u id-len=%zu path=", k[i].usage,
				k[i].user_consent, k[i].has_key_reference ? k[i].key_reference : -1L, k[i].modulus_bits,
				k[i].id_len);
		add_path(r, &k[i].path);
		hpki_report_add(r, " label-len=%zu}", strlen(k[i].label));
	}
}

static void dir_cd(struct hpki_report *r, const uint8_t *der, size_t len)
{
	struct hpki_cd_cert c[8];
	size_t n = 0;

	if (hpki_cio_decode_cd(der, len, c, 8, &n) != 0) {
		hpki_report_add(r, " decode=failed");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		hpki_report_add(r, " cert{authority=%d id-len=%zu path=", c[i].authority, c[i].id_len);
		add_path(r, &c[i].path);
		hpki_report_add(r, " label-len=%zu}", strlen(c[i].label));
	}
}

void hpki_report_directory(struct hpki_report *r, const char *where, const char *kind, const uint8_t *der,
			   size_t len)
{
	hpki_report_add(r, "dir %s %s length=%zu", where, kind, len);
	if (!strcmp(kind, "od"))
		dir_od(r, der, len);
	else if (!strcmp(kind, "aod"))
		dir_aod(r, der, len);
	else if (!strcmp(kind, "prkd"))
		dir_prkd(r, der, len);
	else if (!strcmp(kind, "cd"))
		dir_cd(r, der, len);
	hpki_report_add(r, "\n");
}

/* ---- show, ask, write ------------------------------------------------------------------ */

static bool ask(const char *path)
{
	char answer[8] = "";
	FILE *tty = fopen("/dev/tty", "r+");

	if (tty == NULL) {
		hpki_tool_error(_("no terminal to ask; run again with --yes to write the report"));
		return false;
	}
	fprintf(tty, _("Write this report to %s? [y/N] "), path);
	fflush(tty);
	if (fgets(answer, sizeof(answer), tty) == NULL)
		answer[0] = '\0';
	fclose(tty);
	return answer[0] == 'y' || answer[0] == 'Y';
}

bool hpki_report_confirm_and_write(const struct hpki_report *r, const char *path, bool yes)
{
	int fd;
	bool ok;

	if (r->failed || r->text == NULL) {
		hpki_tool_error(_("the report is incomplete (out of memory); nothing written"));
		return false;
	}
	fputs(r->text, stdout);
	fflush(stdout);
	if (!yes && !ask(path)) {
		printf(_("Nothing written.\n"));
		return false;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ok = fd >= 0 && write(fd, r->text, r->len) == (ssize_t)r->len;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (!ok)
		hpki_tool_error(_("cannot write %s: %s"), path, strerror(errno));
	else
		printf(_("Report written to %s\n"), path);
	return ok;
}
