/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card cache as a process sees it (test-p11-cost.c, test-p11-warm.c): a cache
 * directory per test run, listing tokens and checking that every certificate shown
 * is on the card of the holder inserted now, swapping holders, damaging files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache-helpers.h"
#include "p11-helpers.h"

long expected(const char *name)
{
	const char *value = getenv(name);

	if (value == NULL) {
		fail_msg("%s not set by the .e2e script", name);
		return -1;
	}
	return strtol(value, NULL, 10);
}

char cache_dir[256];
const char *cache_mode = "confirm";

void fresh_cache(void)
{
	char cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
	assert_int_equal(system(cmd), 0);
	setenv("HPKI_PKCS11_CACHE_DIR", cache_dir, 1);
	setenv("HPKI_PKCS11_CACHE", cache_mode, 1);
}

void remove_cache_dir(void)
{
	char cmd[600];

	/* The directory and what the tests planted beside it (<dir>.<holder>). */
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'.*", cache_dir, cache_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", cache_dir);
}

bool same_file(const unsigned char *value, CK_ULONG len, const char *holder, const char *name)
{
	char path[512];
	size_t flen;
	unsigned char *data;
	bool same;

	test_pki_path(path, sizeof path, holder, name);
	data = read_file(path, &flen);
	assert_non_null(data);
	same = flen == len && memcmp(data, value, len) == 0;
	free(data);
	return same;
}

/* Every certificate shown is the holder's or one of the test CAs; both of the
 * holder's end-entity certificates are shown. Returns the APDUs it cost. */
long list_and_check_holder(const char *holder)
{
	CK_SLOT_ID slots[16];
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_ATTRIBUTE find = { CKA_CLASS, &klass, sizeof klass };
	CK_ULONG n, i, count, len;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE objects[16];
	long before = vcard_stat("apdus");
	int sig = 0, auth = 0;

	p11_init();
	n = p11_token_slots(slots, 16);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		CK_TOKEN_INFO info;

		assert_int_equal(p11->C_GetTokenInfo(slots[i], &info), CKR_OK);
		assert_int_equal(p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
		assert_int_equal(p11->C_FindObjectsInit(session, &find, 1), CKR_OK);
		assert_int_equal(p11->C_FindObjects(session, objects, 16, &count), CKR_OK);
		assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
		assert_true(count >= 2);
		for (CK_ULONG o = 0; o < count; o++) {
			unsigned char *value = p11_attr(session, objects[o], CKA_VALUE, &len);
			bool holders = same_file(value, len, holder, "sig.crt.der") ||
				       same_file(value, len, holder, "auth.crt.der");

			sig += same_file(value, len, holder, "sig.crt.der");
			auth += same_file(value, len, holder, "auth.crt.der");
			if (!holders && !same_file(value, len, "ca", "root.der") &&
			    !same_file(value, len, "ca", "sign-ca.der") && !same_file(value, len, "ca", "auth-ca.der"))
				fail_msg("a certificate not on the card of '%s' is shown", holder);
			free(value);
		}
		assert_int_equal(p11->C_CloseSession(session), CKR_OK);
	}
	assert_int_equal(sig, 1);
	assert_int_equal(auth, 1);
	p11_finalize();
	return vcard_stat("apdus") - before;
}

/* Whether the card in the reader now shows the holder's authentication certificate
 * (a cold module, cache off). */
bool card_shows(const char *holder)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_ATTRIBUTE find = { CKA_CLASS, &klass, sizeof klass };
	CK_OBJECT_HANDLE objects[16];
	CK_ULONG count = 0, len;
	bool shown = false;

	p11_init();
	if (p11_find_token("HPKI Auth", &slot) &&
	    p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session) == CKR_OK) {
		if (p11->C_FindObjectsInit(session, &find, 1) == CKR_OK) {
			p11->C_FindObjects(session, objects, 16, &count);
			p11->C_FindObjectsFinal(session);
		}
		for (CK_ULONG o = 0; o < count && !shown; o++) {
			unsigned char *value = p11_attr(session, objects[o], CKA_VALUE, &len);

			shown = same_file(value, len, holder, "auth.crt.der");
			free(value);
		}
		p11->C_CloseSession(session);
	}
	p11_finalize();
	return shown;
}

void card_out_and_in(const char *how)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;

	p11_init();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	p11_drain_events();
	assert_int_equal(vcard_ctl(NULL, 0, "remove"), 0);
	p11_wait_event(slots[0]);
	assert_int_equal(vcard_ctl(NULL, 0, "%s", how), 0);
	p11_wait_event(slots[0]);
	p11_finalize();
}

/* Swaps the card and waits (at most 15 s) until pcscd and the module see the new one. */
void swap_to(const char *holder)
{
	setenv("HPKI_PKCS11_CACHE", "off", 1); /* the cache meets the new card in the test */
	if (!card_shows(holder)) {
		char how[200];

		/* Out, seen out by pcscd, then the new card in: a real reader reports even
		 * a swap between two polls as a removal (CCID's IFDHICCPresence), the
		 * virtual reader only what pcscd polls, so the test leaves it time. */
		snprintf(how, sizeof how, "swap %s", holder);
		card_out_and_in(how);
		for (int i = 0; i < 150 && !card_shows(holder); i++)
			usleep(100000);
		assert_true(card_shows(holder));
	}
	setenv("HPKI_PKCS11_CACHE", cache_mode, 1);
}

/* Calls fn(path) on every file of the cache directory. */
void each_cache_file(void (*fn)(const char *path))
{
	DIR *d = opendir(cache_dir);
	struct dirent *e;
	int files = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[600];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", cache_dir, e->d_name);
		fn(path);
		files++;
	}
	closedir(d);
	assert_true(files >= 2); /* an entry and its hint */
}

void flip_middle(const char *path)
{
	FILE *f = fopen(path, "r+b");
	long size;
	int c;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size / 2, SEEK_SET);
	c = fgetc(f);
	fseek(f, size / 2, SEEK_SET);
	fputc(c ^ 0x55, f);
	fclose(f);
}

void truncate_half(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
}
