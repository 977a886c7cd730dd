/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wait-card: waits until a private pcscd (PCSCLITE_CSOCK_NAME) shows the cards
 * test/with-vcard started, using SCardGetStatusChange like any PC/SC client.
 *
 *   wait-card [--readers N] [--cards N] [--timeout MS]
 *
 * Succeeds when at least N readers exist and the first --cards of them hold a
 * card (0 cards: the readers are enough). pcscd polls vpcd for presence about
 * every 400 ms (testbed-and-consumers.md §1.2), so a card shows up 0.3–0.5 s
 * after it connects. Exit 0 when ready, 1 on timeout or error.
 */
#include <winscard.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_READERS 16

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Fills names[] from the multi-string; returns the count. */
static size_t list_readers(SCARDCONTEXT ctx, char *buf, DWORD size, const char **names)
{
	DWORD len = size;
	size_t n = 0;

	if (SCardListReaders(ctx, NULL, buf, &len) != SCARD_S_SUCCESS)
		return 0;
	for (const char *r = buf; *r != '\0' && n < MAX_READERS; r += strlen(r) + 1)
		names[n++] = r;
	return n;
}

/* Waits on the first `cards` readers until all hold a card or the deadline passes. */
static bool wait_present(SCARDCONTEXT ctx, const char **names, size_t cards, long long deadline)
{
	SCARD_READERSTATE st[MAX_READERS];

	memset(st, 0, sizeof st);
	for (size_t i = 0; i < cards; i++) {
		st[i].szReader = names[i];
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	for (;;) {
		long long left = deadline - now_ms();
		bool all = true;
		if (SCardGetStatusChange(ctx, 0, st, (DWORD)cards) != SCARD_S_SUCCESS && left <= 0)
			return false;
		for (size_t i = 0; i < cards; i++) {
			if (!(st[i].dwEventState & SCARD_STATE_PRESENT))
				all = false;
			st[i].dwCurrentState = st[i].dwEventState & ~SCARD_STATE_CHANGED;
		}
		if (all)
			return true;
		if (left <= 0)
			return false;
		/* Blocks until a reader changes; bounded by the deadline. */
		LONG rv = SCardGetStatusChange(ctx, (DWORD)left, st, (DWORD)cards);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			sleep_ms(50);
	}
}

int main(int argc, char **argv)
{
	size_t readers = 1, cards = 1;
	long timeout = 10000;
	SCARDCONTEXT ctx;
	char buf[4096];
	const char *names[MAX_READERS];
	size_t n = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		long v = strtol(argv[i + 1], NULL, 10);
		if (!strcmp(argv[i], "--readers") && v > 0 && v <= MAX_READERS)
			readers = (size_t)v;
		else if (!strcmp(argv[i], "--cards") && v >= 0 && v <= MAX_READERS)
			cards = (size_t)v;
		else if (!strcmp(argv[i], "--timeout") && v > 0)
			timeout = v;
		else {
			fprintf(stderr, "usage: wait-card [--readers N] [--cards N] [--timeout MS]\n");
			return 2;
		}
	}
	if (cards > readers)
		readers = cards;
	long long deadline = now_ms() + timeout;
	/* pcscd may still be starting: retry the context and the reader list. */
	while (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS) {
		if (now_ms() >= deadline) {
			fprintf(stderr, "wait-card: no pcscd\n");
			return 1;
		}
		sleep_ms(20);
	}
	while ((n = list_readers(ctx, buf, sizeof buf, names)) < readers && now_ms() < deadline)
		sleep_ms(20);
	bool ok = n >= readers && (cards == 0 || wait_present(ctx, names, cards, deadline));
	SCardReleaseContext(ctx);
	if (!ok)
		fprintf(stderr, "wait-card: %zu of %zu readers, cards not present after %ld ms\n", n, readers, timeout);
	return ok ? 0 : 1;
}
