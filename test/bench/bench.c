/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * make bench: what the module costs, measured through the real stack
 * (pcscd + vpcd + virtual card). APDUs are the unit that matters — each one
 * takes milliseconds on a real card — so every row counts them on the card;
 * times are wall-clock on the virtual card and only compare builds.
 *
 * Runs under test/with-vcard; prints one table per profile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache-helpers.h"
#include "p11-helpers.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct row {
	const char *what;
	int rounds;
	long apdus;
	double seconds;
	const char *minimum; /* APDUs the issue names as the least without a cache, or "-" */
	const char *goal;    /* the goal for the row, or "-" */
};

static FILE *results; /* bench-results.txt, appended per profile (issue 11) */

/* Measured APDUs and time per round, the minimum without cache, and the wall time a
 * real reader would take at 15 ms per APDU (the virtual card answers in microseconds). */
static void report(const struct row *r)
{
	double apdus = (double)r->apdus / r->rounds, ms = r->seconds * 1000.0 / r->rounds;
	char line[256];

	snprintf(line, sizeof line, "| %-52s | %7.1f | %7s | %7s | %9.2f | %10.0f |\n", r->what, apdus,
		 r->minimum != NULL ? r->minimum : "-", r->goal != NULL ? r->goal : "-", ms, ms + apdus * 15.0);
	fputs(line, stdout);
	if (results != NULL)
		fputs(line, results);
}

static void header(const char *title)
{
	const char *head = "| scenario | APDUs | minimum without cache | goal | ms (vcard) | ms @15 ms/APDU |\n"
			   "|---|---|---|---|---|---|\n";

	printf("%s\n%s", title, head);
	if (results != NULL)
		fprintf(results, "\n%s\n\n%s", title, head);
}

static void drop_cache(void)
{
	const char *dir = getenv("HPKI_PKCS11_CACHE_DIR");
	char cmd[600];

	if (dir != NULL && dir[0] == '/' && strlen(dir) < 500) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("  (could not empty %s)\n", dir);
	}
}

/* The card leaves the reader and comes back (pcscd sees both): a later process
 * finds the cache but no proof of this stay, so the card proves itself. */
static void reinsert_card(void)
{
	setenv("HPKI_PKCS11_CACHE", "off", 1);
	card_out_and_in("insert");
	unsetenv("HPKI_PKCS11_CACHE");
}

/* A fresh module (what a new process is) lists every token and object. `cache`:
 * "off", "cold" (empty cache, this process fills it), "warm" (the card stayed in the
 * reader since a process proved it) or "reinserted" (the card has left and come
 * back since: it proves itself against the cache). */
static void bench_listing(struct row *r, const char *cache, const char *tokens)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n, i, count;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE objects[16];
	long before;
	double start;

	if (strcmp(cache, "warm") == 0 || strcmp(cache, "reinserted") == 0) { /* one process to fill it */
		drop_cache();
		p11_init();
		p11_token_slots(slots, 16);
		p11_finalize();
	}
	for (int round = 0; round < r->rounds; round++) {
		if (strcmp(cache, "off") == 0)
			setenv("HPKI_PKCS11_CACHE", "off", 1);
		if (strcmp(cache, "cold") == 0)
			drop_cache();
		if (strcmp(cache, "reinserted") == 0)
			reinsert_card();
		if (tokens != NULL)
			setenv("HPKI_PKCS11_TOKENS", tokens, 1);
		before = vcard_stat("apdus");
		start = now();
		p11_init();
		n = p11_token_slots(slots, 16);
		for (i = 0; i < n; i++) {
			p11->C_GetTokenInfo(slots[i], &info);
			p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session);
			p11->C_FindObjectsInit(session, NULL, 0);
			p11->C_FindObjects(session, objects, 16, &count);
			p11->C_FindObjectsFinal(session);
			p11->C_CloseSession(session);
		}
		p11_finalize();
		r->seconds += now() - start;
		r->apdus += vcard_stat("apdus") - before;
		unsetenv("HPKI_PKCS11_CACHE");
		unsetenv("HPKI_PKCS11_TOKENS");
	}
}

/* NSS polls slot, token and session info about once a second, and some applications
 * much faster: 10 s of it at 20 calls a second per slot must stay free. */
static void bench_polling(struct row *r)
{
	CK_SLOT_ID slots[16];
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO info;
	CK_SESSION_INFO session_info;
	CK_SESSION_HANDLE sessions[16];
	CK_ULONG n, i;
	long before;
	double start;

	p11_init();
	n = p11_token_slots(slots, 16);
	for (i = 0; i < n; i++)
		p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &sessions[i]);
	before = vcard_stat("apdus");
	start = now();
	r->rounds = 0;
	while (now() - start < 10.0) {
		for (i = 0; i < n; i++) {
			p11->C_GetSlotInfo(slots[i], &slot_info);
			p11->C_GetTokenInfo(slots[i], &info);
			p11->C_GetSessionInfo(sessions[i], &session_info);
		}
		r->rounds++;
		usleep(50000);
	}
	/* One row per 10 s of polling: APDUs in all of it (the time column is the module's
	 * own time per round, the sleeps left out). */
	r->apdus = (vcard_stat("apdus") - before) * r->rounds;
	r->seconds = 0;
	p11_finalize();
}

static void bench_sign(struct row *r, const char *prefix, const char *pin)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[512];
	CK_ULONG sig_len, len;
	CK_BBOOL *always;
	long before = 0;
	double start = 0;
	int round;

	p11_init();
	if (!p11_find_token(prefix, &slot)) {
		printf("  (no %s token)\n", prefix);
		r->rounds = 0;
		p11_finalize();
		return;
	}
	p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
	p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	/* The private key is a private object: visible after C_Login (PKCS#11 2.40 §4.4). */
	key = p11_find_one(session, CKO_PRIVATE_KEY, NULL, 0);
	always = p11_attr(session, key, CKA_ALWAYS_AUTHENTICATE, &len);
	for (round = 0; round < r->rounds; round++) {
		if (round == 1) { /* the first signature learns; count the ones after it */
			before = vcard_stat("apdus");
			start = now();
		}
		sig_len = sizeof sig;
		p11->C_SignInit(session, &mech, key);
		if (*always)
			p11->C_Login(session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
		if (p11->C_Sign(session, (CK_BYTE_PTR) "bench", 5, sig, &sig_len) != CKR_OK)
			printf("  signature failed\n");
	}
	r->seconds = now() - start;
	r->apdus = vcard_stat("apdus") - before;
	r->rounds = r->rounds > 1 ? r->rounds - 1 : 1; /* per signature after the first */
	free(always);
	p11_finalize();
}

/* ---- several cards read at once (issue 11: "four cards: wall time of an enumeration
 * <= 1.5 x one card's"). Runs when the test bed has more than one card (make bench
 * starts one with --cards 4); the rows above need a bed with a single card. */

static long all_cards_apdus(int cards)
{
	long sum = 0;

	for (int c = 0; c < cards; c++)
		sum += vcard_stat_on(c, "apdus");
	return sum;
}

static void all_cards_ctl(int cards, const char *args)
{
	char reply[256];

	for (int c = 0; c < cards; c++)
		if (vcard_ctl_on(c, reply, sizeof reply, args) != 0)
			printf("  (card %d: '%s' failed: %s)\n", c, args, reply);
}

/* Tokens a fresh module shows (an enumeration of its own, not measured). */
static CK_ULONG tokens_now(void)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n;

	p11_init();
	n = p11_token_slots(slots, 32);
	p11_finalize();
	return n;
}

/* pcscd notices an insertion or a removal on its next poll of the reader. */
static bool wait_tokens(CK_ULONG want)
{
	for (int i = 0; i < 100; i++) {
		if (tokens_now() == want)
			return true;
		struct timespec step = { 0, 100 * 1000000L };
		nanosleep(&step, NULL);
	}
	printf("  (the module never showed %lu tokens)\n", (unsigned long)want);
	return false;
}

/* Fresh processes list every token and its objects, with each card answering 15 ms
 * late: bench_listing's rounds (cache "off": every card read in full; "warm": each
 * card only proves it is the cached one), with the APDUs of every card counted. */
static void bench_cards_listing(struct row *r, int cards, const char *cache)
{
	long before;

	if (strcmp(cache, "warm") == 0) {
		drop_cache();
		(void)tokens_now(); /* one process fills the cache, not counted */
		cache = "as it is";
	}
	before = all_cards_apdus(cards);
	bench_listing(r, cache, NULL);
	r->apdus = all_cards_apdus(cards) - before;
}

/* Cards 1… taken out of their readers (one card left) or put back, then measured
 * with the cache off and warm. */
static bool bench_cards_with_others(struct row *off, struct row *warm, int cards, bool others_in, CK_ULONG tokens)
{
	char reply[256];

	for (int c = 1; c < cards; c++)
		vcard_ctl_on(c, reply, sizeof reply, others_in ? "insert" : "remove");
	if (!wait_tokens(tokens))
		return false;
	all_cards_ctl(cards, "delay 15");
	bench_cards_listing(off, cards, "off");
	bench_cards_listing(warm, cards, "warm");
	all_cards_ctl(cards, "delay 0");
	return true;
}

static void bench_cards_line(const char *text)
{
	fputs(text, stdout);
	if (results != NULL)
		fputs(text, results);
}

/* One card, then all of them, in the same test bed: the other cards are taken out
 * of their readers for the first measurement. */
static void bench_cards(int cards)
{
	struct row rows[4] = {
		{ "list tokens + objects, 1 card, cache off", 3, 0, 0, "-" },
		{ "list tokens + objects, 1 card, cache warm", 3, 0, 0, "-" },
		{ "list tokens + objects, N cards, cache off", 3, 0, 0, "-" },
		{ "list tokens + objects, N cards, cache warm", 3, 0, 0, "-" },
	};
	char what[2][80], line[256];
	CK_ULONG per_card, total;
	double ms[4];

	snprintf(what[0], sizeof what[0], "list tokens + objects, %d cards, cache off", cards);
	snprintf(what[1], sizeof what[1], "list tokens + objects, %d cards, cache warm", cards);
	rows[2].what = what[0];
	rows[3].what = what[1];
	total = tokens_now();
	per_card = total / (CK_ULONG)cards;
	snprintf(line, sizeof line,
		 "\ncards read in parallel (%d cards, %lu tokens each, every card answering 15 ms late)\n\n"
		 "| scenario | APDUs, all cards | wall ms |\n|---|---|---|\n",
		 cards, (unsigned long)per_card);
	bench_cards_line(line);
	if (!bench_cards_with_others(&rows[0], &rows[1], cards, false, per_card) ||
	    !bench_cards_with_others(&rows[2], &rows[3], cards, true, total))
		return;
	for (int k = 0; k < 4; k++) {
		ms[k] = rows[k].seconds * 1000.0 / rows[k].rounds;
		snprintf(line, sizeof line, "| %-52s | %7.1f | %8.0f |\n", rows[k].what,
			 (double)rows[k].apdus / rows[k].rounds, ms[k]);
		bench_cards_line(line);
	}
	snprintf(line, sizeof line, "\n%s cards: %.0f ms vs one card %.0f ms (ratio %.2f; goal <= 1.5), cache off\n",
		 cards == 4 ? "four" : "several", ms[2], ms[0], ms[2] / ms[0]);
	bench_cards_line(line);
	/* With the card proven by the warm start there may be no APDU at all: then this
	 * compares the module's own work (cache files, certificates) for N cards and one. */
	snprintf(line, sizeof line, "%s cards: %.0f ms vs one card %.0f ms (ratio %.2f), cache warm, %.1f APDUs\n",
		 cards == 4 ? "four" : "several", ms[3], ms[1], ms[3] / ms[1], (double)rows[3].apdus / rows[3].rounds);
	bench_cards_line(line);
}

/* The least the issue names per profile (issue 11 "minimum without cache"). */
static const char *minimum_listing(const char *profile, bool short_only)
{
	if (short_only || strcmp(profile, "jma-2019") == 0)
		return "54";
	if (strcmp(profile, "jahis") == 0)
		return "16";
	if (strcmp(profile, "jma") == 0)
		return "28";
	return "-";
}

int main(void)
{
	const char *profile = getenv("HPKI_VCARD_PROFILE") != NULL ? getenv("HPKI_VCARD_PROFILE") : "jma";
	const char *note = getenv("HPKI_BENCH_NOTE") != NULL ? getenv("HPKI_BENCH_NOTE") : "";
	bool short_only = strstr(note, "no-extended-length") != NULL;
	const char *least = minimum_listing(profile, short_only);
	/* The goals: a first process within the minimum, later ones at most 6
	 * APDUs (10 on short-APDU cards); a card that left the reader proves itself. */
	const char *later = least[0] == '5' ? "10" : "6";
	struct row off = { "list tokens + objects, cache off", 5, 0, 0, least, "-" };
	struct row cold = { "list tokens + objects, first process (empty cache)", 5, 0, 0, least, least };
	struct row warm = { "list tokens + objects, later processes (card stayed)", 5, 0, 0, least, later };
	struct row reinserted = { "list tokens + objects, later process, card reinserted", 3, 0, 0, least, "-" };
	struct row auth_only = { "list, authentication token only (browsers), cache off", 5, 0, 0, "-", "-" };
	struct row polling = { "10 s polling slot/token/session info (all of it)", 1, 0, 0, "0", "0" };
	struct row auth = { "auth key: each signature after the first", 21, 0, 0, "1", "1" };
	struct row sign = { "sign key: each signature (+ context login) after the first", 21, 0, 0, "3", "3" };
	struct rusage usage;
	char title[200];

	results = fopen(getenv("HPKI_BENCH_RESULTS") != NULL ? getenv("HPKI_BENCH_RESULTS") : "bench-results.txt", "a");
	p11_load();
	if (getenv("HPKI_VCARD_CARDS") != NULL && atoi(getenv("HPKI_VCARD_CARDS")) > 1) {
		bench_cards(atoi(getenv("HPKI_VCARD_CARDS")));
		if (results != NULL)
			fclose(results);
		return 0;
	}
	snprintf(title, sizeof title, "profile %s%s", profile, note);
	header(title);
	bench_listing(&off, "off", NULL);
	report(&off);
	bench_listing(&cold, "cold", NULL);
	report(&cold);
	bench_listing(&warm, "warm", NULL);
	report(&warm);
	bench_listing(&reinserted, "reinserted", NULL);
	report(&reinserted);
	bench_listing(&auth_only, "off", "auth");
	report(&auth_only);
	bench_polling(&polling);
	report(&polling);
	bench_sign(&auth, "HPKI Auth", "1234");
	if (auth.rounds > 0)
		report(&auth);
	bench_sign(&sign, "HPKI Sign", "5678");
	if (sign.rounds > 0)
		report(&sign);
	getrusage(RUSAGE_SELF, &usage);
	printf("  peak resident memory of the process: %ld KiB\n", usage.ru_maxrss);
	if (results != NULL)
		fclose(results);
	return 0;
}
