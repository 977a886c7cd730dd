/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool diagnose --out REPORT: how a real card answers, for developers who
 * have none (issue 13). Safety first:
 * - no PIN, and only commands that can neither use a try nor change the card:
 *   SELECT, READ BINARY, VERIFY without data (a status query, G31 C.3.4) and
 *   MSE SET (sets the security environment for the next PSO, which never comes);
 * - the card is held exclusively (as status does), so another program's login
 *   is never ended by our SELECTs;
 * - personal data stays on the card: READ BINARY answers are recorded by length
 *   only, certificates as their shape, directories without labels or identifiers
 *   (tool-report.c); the user sees the whole report and is asked before it is
 *   written.
 */
#include "config.h"

#include "tool.h"
#include "tool-reader.h"
#include "tool-report.h"

#include "hpki/cio.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX 16384
#define SW_KINDS 64

struct survey {
	struct hpki_card card;
	struct hpki_report *r;
	struct { uint16_t sw; unsigned count; } sws[SW_KINDS];
	size_t sw_kinds;
	bool read_forms_done;
};

static void tally_sw(struct survey *s, uint16_t sw)
{
	for (size_t i = 0; i < s->sw_kinds; i++)
		if (s->sws[i].sw == sw) {
			s->sws[i].count++;
			return;
		}
	if (s->sw_kinds < SW_KINDS) {
		s->sws[s->sw_kinds].sw = sw;
		s->sws[s->sw_kinds++].count = 1;
	}
}

/* One command; the answer's data is shown only when `show` (FCI, never file contents).
 * Returns the SW, 0 when the exchange itself failed. */
static uint16_t send(struct survey *s, const char *what, const struct hpki_apdu *apdu, uint8_t *resp, size_t cap,
		     size_t *len, bool show)
{
	uint8_t cmd[300], ignored[1];
	size_t cmd_len = hpki_apdu_encode(apdu, cmd, sizeof(cmd)), dummy;
	uint16_t sw = 0;
	enum hpki_card_status st;

	if (resp == NULL) {
		resp = ignored;
		cap = 0;
	}
	if (len == NULL)
		len = &dummy;
	*len = 0;
	st = hpki_apdu_exchange(&s->card.link, apdu, resp, cap, len, &sw);
	hpki_report_add(s->r, "apdu %s ", what);
	hpki_report_hex(s->r, cmd, cmd_len);
	if (st != HPKI_CARD_OK) {
		hpki_report_add(s->r, " -> error \"%s\"\n", hpki_card_status_text(st));
		return 0;
	}
	tally_sw(s, sw);
	hpki_report_add(s->r, " -> %04X len=%zu", sw, *len);
	if (show && *len > 0) {
		hpki_report_add(s->r, " data=");
		hpki_report_hex(s->r, resp, *len);
	}
	hpki_report_add(s->r, "\n");
	return sw;
}

static uint16_t select_df(struct survey *s, const char *what, const uint8_t *aid, size_t aid_len, uint8_t p2)
{
	uint8_t fci[256];
	struct hpki_apdu a = { .cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT, .p1 = HPKI_SELECT_P1_DF_NAME, .p2 = p2,
			       .data = aid, .data_len = aid_len, .ne = p2 == HPKI_SELECT_P2_NO_DATA ? 0 : 256 };

	return send(s, what, &a, fci, sizeof(fci), NULL, true);
}

static uint16_t select_ef(struct survey *s, const char *what, uint16_t fid)
{
	uint8_t data[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };
	struct hpki_apdu a = { .cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT, .p1 = HPKI_SELECT_P1_EF_UNDER_DF,
			       .p2 = HPKI_SELECT_P2_NO_DATA, .data = data, .data_len = 2 };

	return send(s, what, &a, NULL, 0, NULL, false);
}

static uint16_t read_binary(struct survey *s, const char *what, uint8_t p1, uint8_t p2, size_t ne, bool extended,
			    uint8_t *out, size_t cap, size_t *len)
{
	struct hpki_apdu a = { .cla = HPKI_CLA_ISO, .ins = HPKI_INS_READ_BINARY, .p1 = p1, .p2 = p2, .ne = ne,
			       .extended = extended };

	return send(s, what, &a, out, cap, len, false);
}

/* DER length of the element that starts the buffer, 0 when not yet known. */
static size_t der_total(const uint8_t *d, size_t n)
{
	if (n < 2)
		return 0;
	if (d[1] < 0x80)
		return 2 + (size_t)d[1];
	if (d[1] == 0x81 && n >= 3)
		return 3 + (size_t)d[2];
	if (d[1] == 0x82 && n >= 4)
		return 4 + ((size_t)d[2] << 8 | d[3]);
	return 0;
}

/* Reads an EF (by FID: SELECT then READ; by SFI: the first READ selects it) in short
 * chunks: a certificate (`single`) up to the end of its DER value, a directory (a
 * sequence of CIOChoice values, ISO 7816-15 §8) up to the end of the file. */
static bool read_ef(struct survey *s, bool by_sfi, uint16_t id, bool single, uint8_t *buf, size_t *len)
{
	size_t got = 0, n, total = 0;

	if (!by_sfi && select_ef(s, "select-ef", id) != HPKI_SW_OK)
		return false;
	while (got < FILE_MAX) {
		uint8_t p1 = (uint8_t)(got >> 8), p2 = (uint8_t)got;

		if (by_sfi && got == 0)
			p1 = (uint8_t)(0x80 | id);
		uint16_t sw = read_binary(s, "read", p1, p2, 256, false, buf + got, FILE_MAX - got, &n);

		/* 6282: end of file reached before Le bytes, with the data up to the end. */
		if ((sw != HPKI_SW_OK && sw != HPKI_SW_END_OF_FILE) || n == 0)
			break;
		got += n;
		total = !single || total ? total : der_total(buf, got);
		if ((total && got >= total) || n < 256 || got + 256 > FILE_MAX || sw == HPKI_SW_END_OF_FILE)
			break;
	}
	*len = total && got > total ? total : got;
	return got > 0;
}

/* Which READ BINARY forms the card takes, on the first directory read (not personal). */
static void read_forms(struct survey *s, bool by_sfi, uint16_t id, size_t size)
{
	uint8_t buf[FILE_MAX];
	size_t n;

	if (s->read_forms_done)
		return;
	s->read_forms_done = true;
	if (!by_sfi)
		select_ef(s, "form-select", id);
	read_binary(s, "form-short", 0, 0, 256, false, buf, sizeof(buf), &n);
	read_binary(s, "form-extended", 0, 0, 65536, true, buf, sizeof(buf), &n);
	read_binary(s, "form-sfi", (uint8_t)(0x80 | (by_sfi ? id : 0x11)), 0, 256, false, buf, sizeof(buf), &n);
	if (!by_sfi)
		select_ef(s, "form-select", id);
	read_binary(s, "form-past-end", (uint8_t)((size + 16) >> 8), (uint8_t)(size + 16), 256, false, buf,
		    sizeof(buf), &n);
}

static bool read_path(struct survey *s, const struct hpki_cio_path *path, bool single, uint8_t *buf, size_t *len,
		      bool *by_sfi, uint16_t *id)
{
	uint8_t sfi;

	if (hpki_cio_path_is_sfi(path, &sfi)) {
		*by_sfi = true;
		*id = sfi;
	} else if (!hpki_cio_path_is_fid(path, id)) {
		return false;
	} else {
		*by_sfi = false;
	}
	return read_ef(s, *by_sfi, *id, single, buf, len);
}

/* ---- one application -------------------------------------------------------------------- */

struct app_files {
	struct hpki_cio_path aod, prkd, cd;
	bool has_aod, has_prkd, has_cd;
};

static void od_paths(const uint8_t *der, size_t len, struct app_files *f)
{
	struct hpki_od_entry e[16];
	size_t n = 0;

	if (hpki_cio_decode_od(der, len, e, 16, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (e[i].kind == HPKI_OD_AUTH_OBJECTS && !f->has_aod) {
			f->aod = e[i].path;
			f->has_aod = true;
		} else if (e[i].kind == HPKI_OD_PRIVATE_KEYS && !f->has_prkd) {
			f->prkd = e[i].path;
			f->has_prkd = true;
		} else if (e[i].kind == HPKI_OD_CERTIFICATES && !f->has_cd) {
			f->cd = e[i].path;
			f->has_cd = true;
		}
	}
}

/* EF.OD by FID 5031, else by SFI 11 (facts §1.2); the JMA layout when there is none. */
static void survey_od(struct survey *s, const char *app, struct app_files *f)
{
	static uint8_t buf[FILE_MAX];
	size_t len = 0;
	bool by_sfi = false;
	char where[32];

	if (!read_ef(s, false, 0x5031, false, buf, &len)) {
		by_sfi = true;
		if (!read_ef(s, true, 0x11, false, buf, &len))
			len = 0;
	}
	if (len > 0) {
		snprintf(where, sizeof(where), "%s/od", app);
		hpki_report_directory(s->r, where, "od", buf, len);
		read_forms(s, by_sfi, by_sfi ? 0x11 : 0x5031, len);
		od_paths(buf, len, f);
	}
	if (!f->has_aod) { /* the JMA layout (facts §1.3) */
		hpki_cio_path_set_fid(&f->aod, 0x0001);
		hpki_cio_path_set_fid(&f->prkd, 0x0002);
		hpki_cio_path_set_fid(&f->cd, 0x0004);
		f->has_aod = f->has_prkd = f->has_cd = true;
		hpki_report_add(s->r, "note %s no EF.OD: JMA layout tried\n", app);
	}
}

static void survey_directory(struct survey *s, const char *app, const char *kind, const struct hpki_cio_path *path,
			     uint8_t *buf, size_t *len)
{
	char where[32];
	bool by_sfi;
	uint16_t id;

	*len = 0;
	snprintf(where, sizeof(where), "%s/%s", app, kind);
	if (read_path(s, path, false, buf, len, &by_sfi, &id))
		hpki_report_directory(s->r, where, kind, buf, *len);
	else
		hpki_report_add(s->r, "dir %s %s missing\n", where, kind);
}

static void survey_certs(struct survey *s, const char *app, const uint8_t *cd, size_t cd_len)
{
	static uint8_t buf[FILE_MAX];
	struct hpki_cd_cert c[8];
	size_t n = 0, len;
	char where[40];
	bool by_sfi;
	uint16_t id;

	if (hpki_cio_decode_cd(cd, cd_len, c, 8, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "%s/cert%zu%s", app, i, c[i].authority ? "-ca" : "");
		if (read_path(s, &c[i].path, true, buf, &len, &by_sfi, &id))
			hpki_report_cert_shape(s->r, where, buf, len);
		else
			hpki_report_add(s->r, "cert %s missing\n", where);
	}
}

/* The empty VERIFY (no try used, G31 C.3.4) for the AOD's reference, else 88 and 96. */
static void survey_pin(struct survey *s, const uint8_t *aod, size_t aod_len)
{
	struct hpki_aod_pin p[4];
	size_t n = 0;
	uint8_t refs[2] = { 0x88, 0x96 };
	size_t count = 2;

	if (aod_len > 0 && hpki_cio_decode_aod(aod, aod_len, p, 4, &n) == 0 && n > 0) {
		refs[0] = (uint8_t)p[0].pwd_reference;
		count = 1;
	}
	for (size_t i = 0; i < count; i++) {
		struct hpki_apdu a = { .cla = HPKI_CLA_ISO, .ins = HPKI_INS_VERIFY, .p2 = refs[i] };

		send(s, "verify-empty", &a, NULL, 0, NULL, false);
	}
}

/* MSE SET for a digital signature (P1=41 P2=B6), in the forms seen on HPKI cards
 * (card-fidelity.md): key reference 84 with the key EF's FID, file reference 81. */
static void survey_mse(struct survey *s, const uint8_t *prkd, size_t prkd_len)
{
	struct hpki_prkd_key k[4];
	size_t n = 0;
	uint16_t fid = 0x000C;

	if (prkd_len > 0 && hpki_cio_decode_prkd(prkd, prkd_len, k, 4, &n) == 0 && n > 0)
		(void)hpki_cio_path_is_fid(&k[0].path, &fid);
	for (uint8_t tag = 0x84; tag >= 0x81; tag -= 3) {
		uint8_t crt[4] = { tag, 0x02, (uint8_t)(fid >> 8), (uint8_t)fid };
		struct hpki_apdu a = { .cla = HPKI_CLA_ISO, .ins = HPKI_INS_MSE, .p1 = 0x41, .p2 = 0xB6,
				       .data = crt, .data_len = sizeof(crt) };

		send(s, "mse", &a, NULL, 0, NULL, false);
	}
}

static void survey_app(struct survey *s, const char *app, const uint8_t *aid)
{
	static uint8_t aod[FILE_MAX], prkd[FILE_MAX], cd[FILE_MAX];
	struct app_files f = { 0 };
	size_t aod_len, prkd_len, cd_len;

	hpki_report_add(s->r, "# application %s\n", app);
	if (select_df(s, "select-app", aid, HPKI_AID_LEN, HPKI_SELECT_P2_FIRST_FCI) != HPKI_SW_OK)
		return;
	survey_od(s, app, &f);
	survey_directory(s, app, "aod", &f.aod, aod, &aod_len);
	survey_directory(s, app, "prkd", &f.prkd, prkd, &prkd_len);
	survey_directory(s, app, "cd", &f.cd, cd, &cd_len);
	survey_certs(s, app, cd, cd_len);
	survey_pin(s, aod, aod_len);
	survey_mse(s, prkd, prkd_len);
}

/* ---- the survey ------------------------------------------------------------------------- */

static void survey_selects(struct survey *s)
{
	static const uint8_t sig[] = { HPKI_AID_SIGNATURE }, auth[] = { HPKI_AID_AUTHENTICATION };
	static const uint8_t rid[] = { HPKI_RID };

	hpki_report_add(s->r, "# application selection\n");
	select_df(s, "select-sig-p2-00", sig, sizeof(sig), HPKI_SELECT_P2_FIRST_FCI);
	select_df(s, "select-sig-p2-0c", sig, sizeof(sig), HPKI_SELECT_P2_NO_DATA);
	select_df(s, "select-auth-p2-00", auth, sizeof(auth), HPKI_SELECT_P2_FIRST_FCI);
	select_df(s, "select-auth-p2-0c", auth, sizeof(auth), HPKI_SELECT_P2_NO_DATA);
	if (select_df(s, "select-partial-first", rid, sizeof(rid), HPKI_SELECT_P2_FIRST_FCI) == HPKI_SW_OK)
		for (int i = 0; i < 3; i++)
			if (select_df(s, "select-partial-next", rid, sizeof(rid), HPKI_SELECT_P2_NEXT_FCI) != HPKI_SW_OK)
				break;
}

static void survey(struct survey *s)
{
	static const uint8_t sig[] = { HPKI_AID_SIGNATURE }, auth[] = { HPKI_AID_AUTHENTICATION };

	hpki_report_add(s->r, "atr ");
	hpki_report_hex(s->r, s->card.atr, s->card.atr_len);
	hpki_report_add(s->r, "\n");
	/* The survey reads everything a card enumeration reads and more: it gets the
	 * enumeration's budget (a looping card still cannot keep it forever). */
	hpki_apdu_set_budget(&s->card.link, &hpki_card_budget_enumeration);
	if (hpki_apdu_begin(&s->card.link) != HPKI_CARD_OK) {
		hpki_report_add(s->r, "error \"no transaction\"\n");
		return;
	}
	survey_selects(s);
	survey_app(s, "sig", sig);
	survey_app(s, "auth", auth);
	hpki_apdu_end(&s->card.link);
	hpki_report_add(s->r, "sw-seen");
	for (size_t i = 0; i < s->sw_kinds; i++)
		hpki_report_add(s->r, " %04X:%u", s->sws[i].sw, s->sws[i].count);
	hpki_report_add(s->r, "\napdus %lu\n", s->card.link.apdu_count);
}

/* ---- command ---------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out, "%s", _("Usage: hpki-tool diagnose --out REPORT [--reader NAME] [--yes]\n"
			     "Surveys how the card answers, for the developers (doc/reporting-a-card.md):\n"
			     "ATR, application selection, files and read forms, the PIN try counter, the\n"
			     "security-environment forms and every status word. No PIN is asked and no\n"
			     "command can use a try or change the card. Names, numbers and certificates are\n"
			     "not in the report (certificates are described by their shape). The report is\n"
			     "shown and written only after you agree.\n"
			     "  --out REPORT   where to write the report\n"
			     "  --reader NAME  the reader with the card\n"
			     "  --yes          write without asking (scripts)\n"));
}

int hpki_tool_diagnose(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "out", required_argument, NULL, 'o' }, { "reader", required_argument, NULL, 'r' },
		{ "yes", no_argument, NULL, 'y' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	static struct survey s;
	struct hpki_report report = { 0 };
	struct hpki_tool_pcsc pcsc;
	const char *out = NULL, *reader = NULL;
	bool yes = false, ok;
	int c;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'r')
			reader = optarg;
		else if (c == 'y')
			yes = true;
		else if (c == 'h') {
			usage(stdout);
			return HPKI_TOOL_OK;
		} else {
			usage(stderr);
			return HPKI_TOOL_USAGE;
		}
	}
	if (out == NULL || optind != argc) {
		usage(stderr);
		return HPKI_TOOL_USAGE;
	}
	if (hpki_tool_pcsc_open(&pcsc) != HPKI_IO_OK) {
		hpki_tool_error(_("cannot reach the PC/SC service"));
		return HPKI_TOOL_FAILED;
	}
	for (size_t i = 0; i < pcsc.count && reader == NULL; i++)
		if (pcsc.readers[i].present)
			reader = pcsc.readers[i].name;
	memset(&s, 0, sizeof(s));
	s.r = &report;
	if (reader == NULL || hpki_card_attach(&s.card, &hpki_transport_pcsc_exclusive, pcsc.context, reader) !=
				      HPKI_CARD_OK) {
		hpki_tool_error(reader == NULL ? _("no card in any reader")
					       : _("the card cannot be held alone (another program is using it?); "
						   "close other programs and run again"));
		hpki_tool_pcsc_close(&pcsc);
		return HPKI_TOOL_FAILED;
	}
	hpki_report_add(&report, "hpki-tool-diagnose 1\ntool %s\n", PACKAGE_VERSION);
	survey(&s);
	hpki_card_detach(&s.card);
	hpki_tool_pcsc_close(&pcsc);
	ok = hpki_report_confirm_and_write(&report, out, yes);
	hpki_report_free(&report);
	return ok ? HPKI_TOOL_OK : HPKI_TOOL_FAILED;
}
