/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool status: every reader, and per card application the holder, the
 * qualification, the certificate and the PIN tries left.
 *
 * Not disturbing another program's login: on a card with the basic logical channel
 * only (G31 §5.3.3), SELECTing one application ends a PIN verification held on the
 * other, and reading the certificates needs SELECTs. So status connects to the card
 * exclusively (SCARD_SHARE_EXCLUSIVE). pcscd grants that only while no other program
 * is connected, and a program that holds a login keeps its connection, so when we get
 * the card nobody's login can be ended by us; the PIN counter is then read with an
 * empty VERIFY, which never uses a try (G31 C.3.4). When another program is connected,
 * status sends no APDU at all and says so, instead of guessing which application
 * that program has selected.
 */
#include "config.h"

#include "tool.h"
#include "tool-cert.h"
#include "tool-json.h"
#include "tool-reader.h"

#include <getopt.h>
#include <string.h>

struct status_opts {
	bool json;
	const char *reader;
};

struct app_status {
	enum hpki_app_role role;
	bool has_cert;
	struct hpki_tool_cert cert;
	enum hpki_card_status pin_st;
	bool pin_verified;
	int tries_left;
};

enum card_state { CARD_EMPTY, CARD_HPKI, CARD_NOT_HPKI, CARD_IN_USE, CARD_MUTE, CARD_FAILED };

struct reader_status {
	const char *reader;
	enum card_state state;
	enum hpki_card_status error;
	struct app_status apps[HPKI_CARD_MAX_APPS];
	size_t app_count;
};

static const char *role_name(enum hpki_app_role role, bool json)
{
	if (role == HPKI_ROLE_SIGNATURE)
		return json ? "signature" : _("Signature (電子署名用)");
	if (role == HPKI_ROLE_AUTHENTICATION)
		return json ? "authentication" : _("Authentication (電子認証用)");
	return json ? "unknown" : _("Unknown application");
}

static const char *state_name(enum card_state state)
{
	static const char *const names[] = { "empty", "hpki", "not-hpki", "in-use", "mute", "read-failed" };

	return names[state];
}

static void read_app(struct hpki_card *card, size_t i, struct app_status *out)
{
	const struct hpki_cert *ee = hpki_tool_ee_cert(&card->apps[i]);

	out->role = card->apps[i].role;
	out->has_cert = ee != NULL && hpki_tool_cert_describe_der(ee->der, ee->der_len, hpki_tool_now(), &out->cert);
	/* Safe: we hold the card exclusively (see the top of this file). */
	out->pin_st = hpki_card_pin_status(card, i, &out->pin_verified, &out->tries_left);
}

static void read_reader(struct hpki_tool_pcsc *pcsc, const struct hpki_reader_state *rs, struct reader_status *out)
{
	struct hpki_card card;
	enum hpki_card_status st;

	memset(out, 0, sizeof(*out));
	out->reader = rs->name;
	if (!rs->present) {
		out->state = CARD_EMPTY;
		return;
	}
	if (rs->mute) {
		out->state = CARD_MUTE;
		return;
	}
	st = hpki_tool_card_read(pcsc, rs->name, true, HPKI_ROLE_UNKNOWN, &card);
	out->error = st;
	if (st == HPKI_CARD_BUSY) {
		out->state = CARD_IN_USE;
		return;
	}
	if (st == HPKI_CARD_NOT_HPKI) {
		out->state = CARD_NOT_HPKI;
		return;
	}
	if (st != HPKI_CARD_OK) {
		out->state = st == HPKI_CARD_REMOVED ? CARD_EMPTY : CARD_FAILED;
		return;
	}
	out->state = CARD_HPKI;
	for (size_t i = 0; i < card.app_count; i++)
		read_app(&card, i, &out->apps[out->app_count++]);
	hpki_card_detach(&card);
}

/* ---- human output ---------------------------------------------------------------------- */

static void print_validity(const struct hpki_tool_cert *c)
{
	char from[40], to[40];

	hpki_tool_date_human(c->not_before, from, sizeof(from));
	hpki_tool_date_human(c->not_after, to, sizeof(to));
	printf(_("    Valid:          %s to %s"), from, to);
	if (c->expired)
		printf(_(" — EXPIRED %ld days ago\n"), -c->days_left);
	else if (c->not_yet_valid)
		printf(_(" — NOT YET VALID\n"));
	else if (c->renewal_due)
		printf(_(" — %ld days left: RENEW NOW (renewal is due from %d days before expiry)\n"), c->days_left,
		       HPKI_TOOL_RENEWAL_DAYS);
	else
		printf(_(" (%ld days left)\n"), c->days_left);
}

static void print_pin(const struct app_status *a)
{
	if (a->pin_st == HPKI_CARD_PIN_LOCKED)
		printf(_("    PIN:            BLOCKED (0 tries left)\n"));
	else if (a->pin_st != HPKI_CARD_OK)
		printf(_("    PIN:            not read (%s)\n"), hpki_card_status_text(a->pin_st));
	else if (a->tries_left >= 0)
		printf(_("    PIN tries left: %d\n"), a->tries_left);
	else if (a->pin_verified)
		printf(_("    PIN:            verified (the card does not show the tries left)\n"));
	else
		printf(_("    PIN:            the card does not tell the tries left\n"));
}

static void print_app(const struct app_status *a)
{
	const struct hpki_tool_cert *c = &a->cert;

	printf("  %s\n", role_name(a->role, false));
	if (!a->has_cert) {
		printf(_("    no certificate on the card\n"));
		print_pin(a);
		return;
	}
	printf(_("    Holder:         %s (%s)\n"), c->name_kanji[0] ? c->name_kanji : "-", c->name_roman);
	if (c->role[0])
		printf(_("    Qualification:  %s (hcRole, scheme %s)\n"), hpki_tool_role_text(c->role), c->role_scheme);
	else
		printf(_("    Qualification:  none in the certificate (no hcRole)\n"));
	printf(_("    Issuer:         %s\n"), c->issuer);
	printf(_("    Serial:         %s\n"), c->serial);
	print_validity(c);
	printf(_("    Key:            RSA %d bits\n"), c->key_bits);
	print_pin(a);
}

static void print_human(const struct reader_status *r)
{
	printf(_("Reader %s: "), r->reader);
	switch (r->state) {
	case CARD_EMPTY:
		printf(_("no card\n"));
		return;
	case CARD_NOT_HPKI:
		printf(_("a card that is not an HPKI card\n"));
		return;
	case CARD_IN_USE:
		printf(_("card in use by another program; not read, so that its PIN login is kept "
			 "(close that program and run again)\n"));
		return;
	case CARD_MUTE:
		printf(_("a card that does not answer\n"));
		return;
	case CARD_FAILED:
		printf(_("the card could not be read (%s)\n"), hpki_card_status_text(r->error));
		return;
	case CARD_HPKI:
		printf(_("HPKI card\n"));
		break;
	}
	for (size_t i = 0; i < r->app_count; i++)
		print_app(&r->apps[i]);
}

/* ---- JSON output ----------------------------------------------------------------------- */

static void json_app(const struct app_status *a)
{
	const struct hpki_tool_cert *c = &a->cert;
	char from[16], to[16];

	printf("{");
	hpki_json_str(stdout, "application", role_name(a->role, true), 0);
	if (a->has_cert) {
		hpki_tool_date(c->not_before, from, sizeof(from));
		hpki_tool_date(c->not_after, to, sizeof(to));
		hpki_json_str(stdout, "holder", c->name_kanji[0] ? c->name_kanji : NULL, 1);
		hpki_json_str(stdout, "holder_roman", c->name_roman, 1);
		hpki_json_str(stdout, "qualification", c->role[0] ? c->role : NULL, 1);
		hpki_json_str(stdout, "qualification_scheme", c->role_scheme[0] ? c->role_scheme : NULL, 1);
		hpki_json_str(stdout, "issuer", c->issuer, 1);
		hpki_json_str(stdout, "serial", c->serial, 1);
		hpki_json_str(stdout, "not_before", from, 1);
		hpki_json_str(stdout, "not_after", to, 1);
		hpki_json_int(stdout, "days_left", c->days_left, 1);
		hpki_json_bool(stdout, "expired", c->expired, 1);
		hpki_json_bool(stdout, "renewal_due", c->renewal_due, 1);
		hpki_json_int(stdout, "key_bits", c->key_bits, 1);
	}
	if (a->pin_st == HPKI_CARD_PIN_LOCKED || (a->pin_st == HPKI_CARD_OK && a->tries_left >= 0))
		hpki_json_int(stdout, "pin_tries_left", a->pin_st == HPKI_CARD_PIN_LOCKED ? 0 : a->tries_left, 1);
	else
		hpki_json_str(stdout, "pin_tries_left", NULL, 1);
	printf("}");
}

static void json_reader(const struct reader_status *r, bool comma)
{
	printf("%s{", comma ? ",\n  " : "\n  ");
	hpki_json_str(stdout, "reader", r->reader, 0);
	hpki_json_str(stdout, "card", state_name(r->state), 1);
	if (r->state == CARD_FAILED)
		hpki_json_str(stdout, "error", hpki_card_status_text(r->error), 1);
	printf(", \"applications\": [");
	for (size_t i = 0; i < r->app_count; i++) {
		printf(i ? ", " : "");
		json_app(&r->apps[i]);
	}
	printf("]}");
}

/* ---- command --------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out, "%s", _("Usage: hpki-tool status [--json] [--reader NAME]\n"
			     "Shows every reader and, per HPKI card application, the holder, the qualification,\n"
			     "the certificate (issuer, serial, validity, key size) and the PIN tries left.\n"
			     "No PIN is asked and no try is used. A card that another program is using is not\n"
			     "read, so that the other program's PIN login is not ended.\n"
			     "  --json         machine-readable output\n"
			     "  --reader NAME  only this reader\n"));
}

static int parse(int argc, char **argv, struct status_opts *o)
{
	static const struct option longs[] = {
		{ "json", no_argument, NULL, 'j' }, { "reader", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'j')
			o->json = true;
		else if (c == 'r')
			o->reader = optarg;
		else if (c == 'h') {
			usage(stdout);
			return HPKI_TOOL_OK;
		} else {
			usage(stderr);
			return HPKI_TOOL_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return HPKI_TOOL_USAGE;
	}
	return -1;
}

int hpki_tool_status(int argc, char **argv)
{
	struct status_opts o = { 0 };
	struct hpki_tool_pcsc pcsc;
	struct reader_status r;
	enum hpki_io_status io;
	size_t shown = 0;
	int rc = parse(argc, argv, &o);

	if (rc >= 0)
		return rc;
	io = hpki_tool_pcsc_open(&pcsc);
	if (io != HPKI_IO_OK) {
		hpki_tool_error(_("cannot reach the PC/SC service: %s"), hpki_io_status_text(io));
		return HPKI_TOOL_FAILED;
	}
	if (o.json)
		printf("{\"readers\": [");
	for (size_t i = 0; i < pcsc.count; i++) {
		if (o.reader != NULL && strcmp(o.reader, pcsc.readers[i].name) != 0)
			continue;
		read_reader(&pcsc, &pcsc.readers[i], &r);
		if (o.json)
			json_reader(&r, shown > 0);
		else
			print_human(&r);
		shown++;
	}
	if (o.json)
		printf("\n]}\n");
	else if (shown == 0)
		printf(o.reader != NULL ? _("No such reader.\n") : _("No smart card reader found.\n"));
	hpki_tool_pcsc_close(&pcsc);
	return HPKI_TOOL_OK;
}
