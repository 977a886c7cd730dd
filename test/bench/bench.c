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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cmocka.h>

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
};

static void report(const struct row *r)
{
	printf("  %-46s %8.1f APDUs %9.2f ms\n", r->what, (double)r->apdus / r->rounds,
	       r->seconds * 1000.0 / r->rounds);
}

/* Removal and reinsertion, then everything an application reads before a PIN. */
static void bench_enumeration(struct row *r)
{
	CK_SLOT_ID slots[16], event;
	CK_ULONG n, i, count;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE objects[16];
	int round;
	long before;
	double start;

	for (round = 0; round < r->rounds; round++) {
		p11_init();
		n = 16;
		p11->C_GetSlotList(CK_FALSE, slots, &n);
		while (p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &event, NULL) == CKR_OK)
			;
		vcard_ctl(NULL, 0, "remove");
		p11_wait_event(slots[0]); /* pcscd saw it go, before it comes back */
		vcard_ctl(NULL, 0, "insert");
		p11_wait_event(slots[0]);
		before = vcard_stat("apdus");
		start = now();
		n = p11_token_slots(slots, 16);
		for (i = 0; i < n; i++) {
			p11->C_GetTokenInfo(slots[i], &info);
			p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session);
			p11->C_FindObjectsInit(session, NULL, 0);
			p11->C_FindObjects(session, objects, 16, &count);
			p11->C_FindObjectsFinal(session);
			p11->C_CloseSession(session);
		}
		r->seconds += now() - start;
		r->apdus += vcard_stat("apdus") - before;
		p11_finalize();
	}
}

/* NSS polls slot and token info about once a second: that must stay free. */
static void bench_polling(struct row *r)
{
	CK_SLOT_ID slots[16];
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO info;
	CK_ULONG n;
	long before;
	double start;
	int round;

	p11_init();
	n = p11_token_slots(slots, 16);
	p11->C_GetTokenInfo(slots[0], &info);
	before = vcard_stat("apdus");
	start = now();
	for (round = 0; round < r->rounds; round++) {
		p11->C_GetSlotInfo(slots[0], &slot_info);
		p11->C_GetTokenInfo(slots[n - 1], &info);
	}
	r->seconds = now() - start;
	r->apdus = vcard_stat("apdus") - before;
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
	long before;
	double start;
	int round;

	p11_init();
	if (!p11_find_token(prefix, &slot)) {
		printf("  (no %s token)\n", prefix);
		r->rounds = 0;
		p11_finalize();
		return;
	}
	p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
	before = vcard_stat("apdus");
	start = now();
	p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	/* The private key is a private object: visible after C_Login (PKCS#11 2.40 §4.4). */
	key = p11_find_one(session, CKO_PRIVATE_KEY, NULL, 0);
	always = p11_attr(session, key, CKA_ALWAYS_AUTHENTICATE, &len);
	for (round = 0; round < r->rounds; round++) {
		sig_len = sizeof sig;
		p11->C_SignInit(session, &mech, key);
		if (*always)
			p11->C_Login(session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
		if (p11->C_Sign(session, (CK_BYTE_PTR) "bench", 5, sig, &sig_len) != CKR_OK)
			printf("  signature failed\n");
	}
	r->seconds = now() - start;
	r->apdus = vcard_stat("apdus") - before;
	free(always);
	p11_finalize();
}

int main(void)
{
	struct row enumeration = { "card insertion → tokens + all objects listed", 5, 0, 0 };
	struct row polling = { "C_GetSlotInfo + C_GetTokenInfo (cached)", 1000, 0, 0 };
	struct row auth = { "SHA256-RSA-PKCS signature, auth key", 20, 0, 0 };
	struct row sign = { "signature incl. context login, sign key", 20, 0, 0 };
	struct rusage usage;
	const char *profile = getenv("HPKI_VCARD_PROFILE");

	p11_load();
	printf("profile %s%s\n", profile != NULL ? profile : "jma",
	       getenv("HPKI_BENCH_NOTE") != NULL ? getenv("HPKI_BENCH_NOTE") : "");
	bench_enumeration(&enumeration);
	report(&enumeration);
	bench_polling(&polling);
	report(&polling);
	bench_sign(&auth, "HPKI Auth", "1234");
	if (auth.rounds > 0)
		report(&auth);
	bench_sign(&sign, "HPKI Sign", "5678");
	if (sign.rounds > 0)
		report(&sign);
	getrusage(RUSAGE_SELF, &usage);
	printf("  %-46s %8ld KiB\n", "peak resident memory of the process", usage.ru_maxrss);
	return 0;
}
