/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool attend --csv FILE: seminar check-in by tapping the card (issue 13).
 *
 * Runs until interrupted; for every card put on (or into) a reader it reads the
 * authentication application's certificate — no PIN — and appends one row: time,
 * holder, qualification, certificate serial, issuer, result (ok, expired,
 * untrusted, not an HPKI card, read failed). The row is on disk before the screen
 * shows it. What this proves: which card was tapped, not who tapped it (the
 * certificate is public; anybody holding the card can tap it). --prove adds a
 * challenge signature with the authentication key, which needs the holder's PIN.
 */
#include "config.h"

#include "tool.h"
#include "tool-cert.h"
#include "tool-csv.h"
#include "tool-json.h"
#include "tool-prove.h"
#include "tool-reader.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#define MAX_TRUST 8
#define SEEN_MAX 1024
#define WAIT_MS 250

struct attend_opts {
	const char *csv, *trust[MAX_TRUST];
	size_t trust_count;
	long interval;      /* seconds in which a second tap of the same card is not recorded */
	bool prove, quiet, json;
	int pin_fd;
};

struct seen {
	char key[400];      /* issuer CN + serial: one certificate */
	time_t at;
};

struct attend {
	struct attend_opts o;
	struct hpki_tool_pcsc pcsc;
	struct hpki_csv csv;
	X509_STORE *store;
	struct seen seen[SEEN_MAX];
	size_t seen_count;
};

static volatile sig_atomic_t stop_requested;
static void *wait_context;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	/* Wakes SCardGetStatusChange (safe from a signal handler: it writes to pcscd). */
	if (wait_context != NULL)
		hpki_transport_pcsc.cancel_wait(wait_context);
}

static void usage(FILE *out)
{
	fprintf(out, "%s", _("Usage: hpki-tool attend --csv FILE --trust CERTS.pem [--interval SECONDS] [--prove]\n"
			     "Seminar check-in: waits for cards (tap or insert) until interrupted (Ctrl-C)\n"
			     "and appends one row per card to FILE: time, holder, qualification, certificate\n"
			     "serial, issuer and a result (ok, expired, untrusted, not an HPKI card, read\n"
			     "failed). No PIN is needed. The row is on disk before it is shown (with a bell).\n"
			     "Reading the certificate proves which card was tapped, not who tapped it;\n"
			     "--prove asks the holder's authentication PIN and makes the card sign a\n"
			     "random challenge.\n"
			     "  --csv FILE          the attendance file (created if missing, only appended to)\n"
			     "  --trust FILE        trust anchors (PEM), e.g. the HPKI root CA; repeatable\n"
			     "  --interval SECONDS  a card tapped again within this time is recorded once\n"
			     "                      (default 300)\n"
			     "  --prove             challenge signature with the authentication key (PIN)\n"
			     "  --pin-fd N          with --prove: read each PIN as one line from descriptor N\n"
			     "  --quiet             no bell\n"
			     "  --json              one JSON object per line on the screen instead of text\n"));
}

static int parse(int argc, char **argv, struct attend_opts *o)
{
	static const struct option longs[] = {
		{ "csv", required_argument, NULL, 'c' }, { "trust", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' }, { "prove", no_argument, NULL, 'p' },
		{ "pin-fd", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	o->interval = 300;
	o->pin_fd = -1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->csv = optarg; break;
		case 't': if (o->trust_count < MAX_TRUST) o->trust[o->trust_count++] = optarg; break;
		case 'i': o->interval = atol(optarg); break;
		case 'p': o->prove = true; break;
		case 'f': o->pin_fd = atoi(optarg); break;
		case 'q': o->quiet = true; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); return HPKI_TOOL_OK;
		default: usage(stderr); return HPKI_TOOL_USAGE;
		}
	}
	if (optind != argc || o->csv == NULL || o->trust_count == 0 || o->interval < 0) {
		if (o->csv == NULL || o->trust_count == 0)
			hpki_tool_error(_("attend needs --csv FILE and --trust CERTS.pem"));
		usage(stderr);
		return HPKI_TOOL_USAGE;
	}
	return -1;
}

/* ---- one card -------------------------------------------------------------------------- */

struct row {
	char time[40];
	struct hpki_tool_cert cert;
	bool have_cert;
	const char *result;
	char proof[96];
};

/* Untrusted first (an unknown issuer's dates mean nothing), then expired. */
static const char *judge(struct attend *a, X509 *ee, const struct hpki_app *app, const struct hpki_tool_cert *c)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = sk_X509_new_null();
	bool trusted = false;

	for (size_t i = 0; chain != NULL && i < app->cert_count; i++) {
		const unsigned char *p = app->certs[i].der;
		X509 *ca = app->certs[i].info.authority ? d2i_X509(NULL, &p, (long)app->certs[i].der_len) : NULL;

		if (ca != NULL && !sk_X509_push(chain, ca))
			X509_free(ca);
	}
	if (ctx != NULL && X509_STORE_CTX_init(ctx, a->store, ee, chain) == 1) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
		trusted = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(chain, X509_free);
	if (!trusted)
		return "untrusted";
	return c->expired || c->not_yet_valid ? "expired" : "ok";
}

static void read_row(struct attend *a, const char *reader, struct row *r)
{
	struct hpki_card card;
	enum hpki_card_status st = hpki_card_attach(&card, &hpki_transport_pcsc, a->pcsc.context, reader);
	const struct hpki_cert *ee;

	if (st == HPKI_CARD_OK)
		st = hpki_card_enumerate_role(&card, HPKI_ROLE_AUTHENTICATION);
	ee = st == HPKI_CARD_OK ? hpki_tool_ee_cert(&card.apps[0]) : NULL;
	if (st == HPKI_CARD_NOT_HPKI)
		r->result = "not an HPKI card";
	else if (ee == NULL)
		r->result = "read failed";
	else {
		const unsigned char *p = ee->der;
		X509 *x = d2i_X509(NULL, &p, (long)ee->der_len);

		r->have_cert = hpki_tool_cert_describe(x, hpki_tool_now(), &r->cert);
		r->result = r->have_cert ? judge(a, x, &card.apps[0], &r->cert) : "read failed";
		if (a->o.prove && r->have_cert && strcmp(r->result, "ok") == 0)
			hpki_tool_prove(&card, 0, x, a->o.pin_fd, r->proof, sizeof(r->proof));
		X509_free(x);
	}
	hpki_card_detach(&card);
}

/* True when this certificate was recorded less than --interval seconds ago. */
static bool seen_recently(struct attend *a, const struct row *r, time_t now)
{
	char key[400];
	size_t oldest = 0;

	snprintf(key, sizeof(key), "%s\n%s", r->cert.issuer, r->cert.serial);
	for (size_t i = 0; i < a->seen_count; i++) {
		if (strcmp(a->seen[i].key, key) == 0) {
			if (now - a->seen[i].at < a->o.interval)
				return true;
			a->seen[i].at = now;
			return false;
		}
		if (a->seen[i].at < a->seen[oldest].at)
			oldest = i;
	}
	if (a->seen_count < SEEN_MAX)
		oldest = a->seen_count++;
	snprintf(a->seen[oldest].key, sizeof(a->seen[oldest].key), "%s", key);
	a->seen[oldest].at = now;
	return false;
}

static void report_json(const struct row *r, bool recorded)
{
	printf("{");
	hpki_json_str(stdout, "time", r->time, 0);
	hpki_json_str(stdout, "holder", r->have_cert && r->cert.name_kanji[0] ? r->cert.name_kanji : NULL, 1);
	hpki_json_str(stdout, "holder_roman", r->have_cert ? r->cert.name_roman : NULL, 1);
	hpki_json_str(stdout, "qualification", r->have_cert && r->cert.role[0] ? r->cert.role : NULL, 1);
	hpki_json_str(stdout, "serial", r->have_cert ? r->cert.serial : NULL, 1);
	hpki_json_str(stdout, "issuer", r->have_cert ? r->cert.issuer : NULL, 1);
	hpki_json_str(stdout, "result", r->result, 1);
	hpki_json_str(stdout, "proof", r->proof[0] ? r->proof : NULL, 1);
	hpki_json_bool(stdout, "recorded", recorded, 1);
	printf("}\n");
	fflush(stdout);
}

static void report(const struct attend *a, const struct row *r)
{
	if (a->o.json)
		report_json(r, true);
	else if (r->have_cert)
		printf(_("%s  %s (%s)  %s  %s  %s%s%s%s\n"), r->time, r->cert.name_kanji, r->cert.name_roman,
		       r->cert.role[0] ? r->cert.role : "-", r->cert.serial, r->result, r->proof[0] ? "  " : "",
		       r->proof, a->o.quiet ? "" : "\a");
	else
		printf(_("%s  %s%s\n"), r->time, r->result, a->o.quiet ? "" : "\a");
	fflush(stdout);
}

static void handle_card(struct attend *a, const char *reader)
{
	struct row r = { 0 };
	time_t now = time(NULL);

	hpki_tool_timestamp(now, r.time, sizeof(r.time));
	read_row(a, reader, &r);
	if (r.have_cert && seen_recently(a, &r, now)) {
		if (a->o.json) {
			report_json(&r, false);
			return;
		}
		printf(_("%s  %s (%s)  already recorded\n"), r.time, r.cert.name_kanji, r.cert.name_roman);
		fflush(stdout);
		return;
	}
	const char *fields[HPKI_CSV_COLUMNS] = {
		r.time,
		r.have_cert ? r.cert.name_kanji : NULL,
		r.have_cert ? r.cert.name_roman : NULL,
		r.have_cert ? r.cert.role : NULL,
		r.have_cert ? r.cert.serial : NULL,
		r.have_cert ? r.cert.issuer : NULL,
		r.result,
		r.proof,
	};
	/* On disk first, then on screen: what the screen confirmed is in the file. */
	if (hpki_csv_append(&a->csv, fields))
		report(a, &r);
}

/* ---- the loop -------------------------------------------------------------------------- */

static bool load_store(struct attend *a)
{
	a->store = X509_STORE_new();
	for (size_t i = 0; a->store != NULL && i < a->o.trust_count; i++) {
		if (X509_STORE_load_file(a->store, a->o.trust[i]) != 1) {
			hpki_tool_error(_("cannot load trust anchors from %s"), a->o.trust[i]);
			return false;
		}
	}
	return a->store != NULL;
}

/* A card is new when it is present now and was absent, or was taken away and put
 * back between two looks (the reader's event counter moved). */
static void scan(struct attend *a, const struct hpki_reader_state *before, size_t before_count)
{
	for (size_t i = 0; i < a->pcsc.count && !stop_requested; i++) {
		const struct hpki_reader_state *now = &a->pcsc.readers[i];
		const struct hpki_reader_state *old = NULL;

		for (size_t j = 0; j < before_count; j++)
			if (strcmp(before[j].name, now->name) == 0)
				old = &before[j];
		if (now->present && (old == NULL || !old->present || old->event_count != now->event_count))
			handle_card(a, now->name);
	}
}

static int run(struct attend *a)
{
	struct hpki_reader_state before[HPKI_TOOL_MAX_READERS];
	size_t before_count = 0;

	/* With --json, stdout carries JSON only; the prompt goes to stderr. */
	fprintf(a->o.json ? stderr : stdout, _("Waiting for cards (Ctrl-C to stop); writing to %s\n"), a->o.csv);
	fflush(stdout);
	while (!stop_requested) {
		scan(a, before, before_count);
		memcpy(before, a->pcsc.readers, sizeof(before));
		before_count = a->pcsc.count;
		enum hpki_io_status io = hpki_transport_pcsc.wait_readers(a->pcsc.context, a->pcsc.readers,
									  a->pcsc.count, WAIT_MS);
		if (io == HPKI_IO_NO_READER || (io == HPKI_IO_OK && a->pcsc.count == 0)) {
			io = hpki_transport_pcsc.list_readers(a->pcsc.context, a->pcsc.readers, HPKI_TOOL_MAX_READERS,
							      &a->pcsc.count);
			if (io == HPKI_IO_NO_READER)
				a->pcsc.count = 0;
		}
		if (io == HPKI_IO_NO_SERVICE) {
			hpki_tool_error(_("the PC/SC service stopped"));
			return HPKI_TOOL_FAILED;
		}
	}
	return HPKI_TOOL_OK;
}

int hpki_tool_attend(int argc, char **argv)
{
	static struct attend a; /* the seen-list is large: not on the stack */
	struct sigaction sa = { .sa_handler = on_signal };
	enum hpki_io_status io;
	int rc = parse(argc, argv, &a.o);

	if (rc >= 0)
		return rc;
	a.csv.fd = -1;
	if (!load_store(&a) || !hpki_csv_open(&a.csv, a.o.csv)) {
		X509_STORE_free(a.store);
		return HPKI_TOOL_FAILED;
	}
	io = hpki_tool_pcsc_open(&a.pcsc);
	if (io != HPKI_IO_OK) {
		hpki_tool_error(_("cannot reach the PC/SC service: %s"), hpki_io_status_text(io));
		rc = HPKI_TOOL_FAILED;
	} else {
		wait_context = a.pcsc.context;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = run(&a);
		wait_context = NULL;
	}
	hpki_tool_pcsc_close(&a.pcsc);
	hpki_csv_close(&a.csv);
	X509_STORE_free(a.store);
	return rc;
}
