/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a process costs the card, in APDUs counted by the virtual card (issue 11):
 * a cold listing of tokens and objects, the same with one token hidden
 * (HPKI_PKCS11_TOKENS=auth: the hidden application is not read), and polling
 * C_GetSlotInfo/C_GetTokenInfo/C_GetSessionInfo (free).
 *
 * The exact counts of the profile come from the .e2e script: HPKI_COST_LIST (both
 * tokens, no cache), HPKI_COST_LIST_AUTH (authentication only), HPKI_COST_WARM (a
 * later process, cache confirmed), HPKI_COST_MISS (what unmasking another card's
 * entry costs), HPKI_COST_AUTH_SIGNATURE (per signature, authentication key).
 * HPKI_COST_ONLY=own-ca runs only the test of each token's own CA certificates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache-helpers.h"
#include "p11-helpers.h"

/* pcscd sees the card leave and come back; the module is cold; counters zeroed. */
static void fresh_card_cold_module(void)
{
	card_out_and_in("insert");
	assert_int_equal(vcard_ctl(NULL, 0, "stats-reset"), 0);
}

/* Every token's info and every object of it, as pkcs11-tool -L -O does. */
static CK_ULONG list_everything(CK_ULONG *objects_seen)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = p11_token_slots(slots, 16), i, count;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE objects[32];

	*objects_seen = 0;
	for (i = 0; i < n; i++) {
		assert_int_equal(p11->C_GetTokenInfo(slots[i], &info), CKR_OK);
		assert_int_equal(p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
		assert_int_equal(p11->C_FindObjectsInit(session, NULL, 0), CKR_OK);
		assert_int_equal(p11->C_FindObjects(session, objects, 32, &count), CKR_OK);
		assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
		assert_int_equal(p11->C_CloseSession(session), CKR_OK);
		*objects_seen += count;
	}
	return n;
}

static void test_cold_listing_costs_exactly(void **state)
{
	CK_ULONG objects;

	(void)state;
	fresh_card_cold_module();
	p11_init();
	assert_int_equal(list_everything(&objects), 2);
	print_message("cold listing (%s): %ld APDUs, %lu objects\n", getenv("HPKI_VCARD_PROFILE"),
		      vcard_stat("apdus"), (unsigned long)objects);
	assert_int_equal(vcard_stat("apdus"), expected("HPKI_COST_LIST"));
	p11_finalize();
}

/* Issue 11: the signature application of a browser (or HPKI_PKCS11_TOKENS=auth) is
 * neither selected nor read. */
static void test_hidden_token_is_not_read(void **state)
{
	CK_ULONG objects;
	CK_SLOT_ID slot;

	(void)state;
	fresh_card_cold_module();
	setenv("HPKI_PKCS11_TOKENS", "auth", 1);
	p11_init();
	assert_int_equal(list_everything(&objects), 1);
	assert_true(p11_find_token("HPKI Auth", &slot));
	assert_false(p11_find_token("HPKI Sign", &slot));
	print_message("cold listing, auth only: %ld APDUs\n", vcard_stat("apdus"));
	assert_int_equal(vcard_stat("apdus"), expected("HPKI_COST_LIST_AUTH"));
	p11_finalize();
	unsetenv("HPKI_PKCS11_TOKENS");
}

/* NSS and Firefox poll slot, token and session info about once a second: nothing of
 * it reaches the card, even with the refresh interval at 0 (every call "due"). */
static void test_polling_costs_nothing(void **state)
{
	CK_SLOT_ID slots[16];
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO info;
	CK_SESSION_INFO session_info;
	CK_SESSION_HANDLE sessions[2];
	CK_ULONG n, i, objects;
	long before;

	(void)state;
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	p11_init();
	list_everything(&objects);
	n = p11_token_slots(slots, 16);
	for (i = 0; i < n; i++)
		assert_int_equal(p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &sessions[i]), CKR_OK);
	before = vcard_stat("apdus");
	for (int round = 0; round < 200; round++) {
		for (i = 0; i < n; i++) {
			assert_int_equal(p11->C_GetSlotInfo(slots[i], &slot_info), CKR_OK);
			assert_int_equal(p11->C_GetTokenInfo(slots[i], &info), CKR_OK);
			assert_int_equal(p11->C_GetSessionInfo(sessions[i], &session_info), CKR_OK);
		}
		if (round % 50 == 0)
			usleep(20000);
	}
	assert_int_equal(vcard_stat("apdus"), before);
	p11_finalize();
	unsetenv("HPKI_PKCS11_REFRESH_INTERVAL");
}

/* ------------------------------------------------------------------------ */
/* The card cache (doc/card-cache.md)                                        */

/* First process reads the card and fills the cache; the next ones confirm it. */
static void test_cache_hit_and_miss(void **state)
{
	long cold, warm;

	(void)state;
	fresh_cache();
	swap_to("doctor");
	cold = list_and_check_holder("doctor");
	warm = list_and_check_holder("doctor");
	print_message("doctor: first process %ld APDUs, second %ld\n", cold, warm);
	assert_int_equal(cold, expected("HPKI_COST_LIST"));
	assert_int_equal(warm, expected("HPKI_COST_WARM"));
	assert_int_equal(list_and_check_holder("doctor"), warm);
}

static long list_auth_only(void)
{
	CK_ULONG objects;
	long before = vcard_stat("apdus");

	setenv("HPKI_PKCS11_TOKENS", "auth", 1);
	p11_init();
	assert_int_equal(list_everything(&objects), 1);
	p11_finalize();
	unsetenv("HPKI_PKCS11_TOKENS");
	return vcard_stat("apdus") - before;
}

/* A browser (authentication token only) and a tool (both) take turns: the whole
 * card's entry serves both; the browser's narrower entry never displaces it. */
static void test_cache_browser_and_tool(void **state)
{
	(void)state;
	fresh_cache();
	swap_to("doctor");
	assert_int_equal(list_auth_only(), expected("HPKI_COST_LIST_AUTH"));
	assert_int_equal(list_auth_only(), expected("HPKI_COST_WARM_AUTH"));
	/* The tool's first process: the browser's entry does not cover the signature
	 * application, so it is not even tried; the card is read in full. */
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
	assert_int_equal(list_auth_only(), expected("HPKI_COST_WARM_AUTH"));
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_WARM"));
	assert_int_equal(list_auth_only(), expected("HPKI_COST_WARM_AUTH"));
}

/* Another holder's card, a renewed certificate on the same holder's card, and back:
 * the card's own certificates every time. */
static void test_cache_swapped_and_renewed(void **state)
{
	static const char *const holders[] = { "pharmacist", "renewed", "doctor", "pharmacist" };

	(void)state;
	fresh_cache();
	swap_to("doctor");
	list_and_check_holder("doctor");
	for (size_t h = 0; h < sizeof holders / sizeof holders[0]; h++) {
		long first, second;

		swap_to(holders[h]);
		first = list_and_check_holder(holders[h]);
		second = list_and_check_holder(holders[h]);
		print_message("%s after another card: %ld APDUs, then %ld\n", holders[h], first, second);
		assert_int_equal(second, expected("HPKI_COST_WARM"));
		/* The previous card's entry is tried first and unmasked by one certificate
		 * read (HPKI_COST_MISS); a card seen before is then found by that
		 * certificate, one not seen yet is read in full. */
		assert_int_equal(first, (h < 2 ? expected("HPKI_COST_LIST") : expected("HPKI_COST_WARM")) +
					       expected("HPKI_COST_MISS"));
	}
}

static char planted[600]; /* a valid entry of the pharmacist's card, outside the cache */

/* Replaced by that entry (the hint is left: it names the doctor's entry). */
static void replace_by_other(const char *path)
{
	char cmd[1300];

	if (strstr(path, ".hint") != NULL)
		return;
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", planted, path);
	assert_int_equal(system(cmd), 0);
}

static void keep_entry(const char *path)
{
	char cmd[1300];

	if (strstr(path, ".hint") != NULL)
		return;
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, planted);
	assert_int_equal(system(cmd), 0);
}

static void test_cache_files_damaged_or_replaced(void **state)
{
	void (*damage[])(const char *) = { flip_middle, truncate_half, replace_by_other };

	(void)state;
	snprintf(planted, sizeof planted, "%s.pharmacist", cache_dir);
	fresh_cache();
	swap_to("pharmacist");
	list_and_check_holder("pharmacist");
	each_cache_file(keep_entry);
	swap_to("doctor");
	for (size_t k = 0; k < sizeof damage / sizeof damage[0]; k++) {
		long cost;

		fresh_cache();
		list_and_check_holder("doctor");
		each_cache_file(damage[k]);
		/* Noticed: the card is read in full and shown as it is. A valid entry of
		 * another card costs the confirmation reads that unmask it. */
		cost = list_and_check_holder("doctor");
		print_message("damage %zu: %ld APDUs\n", k, cost);
		assert_int_equal(cost, expected("HPKI_COST_LIST") + (k == 2 ? expected("HPKI_COST_MISS") : 0));
		assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_WARM"));
	}
	unlink(planted);
}

/* A directory open to others is not used; one that cannot be made is no error. */
static void test_cache_directory_unusable(void **state)
{
	(void)state;
	fresh_cache();
	assert_int_equal(mkdir(cache_dir, 0777), 0);
	assert_int_equal(chmod(cache_dir, 0777), 0);
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
	assert_int_equal(rmdir(cache_dir), 0);
	/* A file where the directory should be. */
	{
		FILE *f = fopen(cache_dir, "w");

		assert_non_null(f);
		fclose(f);
	}
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
	unlink(cache_dir);
}

/* A full disk (RLIMIT_FSIZE: writes fail with EFBIG), then processes filling the
 * cache at once: never a half-written entry used. */
static void test_cache_full_disk_and_concurrent_writers(void **state)
{
	struct rlimit tiny = { 100, 100 };
	pid_t pids[4];
	int status;

	(void)state;
	fresh_cache();
	pids[0] = fork();
	assert_true(pids[0] >= 0);
	if (pids[0] == 0) {
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &tiny);
		_exit(list_and_check_holder("doctor") == expected("HPKI_COST_LIST") ? 0 : 1);
	}
	assert_int_equal(waitpid(pids[0], &status, 0), pids[0]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Nothing usable was left: the next process reads the card in full. */
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
	fresh_cache();
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(list_and_check_holder("doctor") > 0 ? 0 : 1);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_WARM"));
}

/* The CA certificates one token shows: the root and the application's own issuing CA,
 * each exactly once, byte for byte as the test PKI made them; never the other
 * application's issuing CA. */
static void check_token_cas(const char *prefix, const char *own_ca, const char *other_ca)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_ATTRIBUTE find = { CKA_CLASS, &klass, sizeof klass };
	CK_OBJECT_HANDLE objects[16];
	CK_ULONG count, len;
	int root = 0, own = 0, other = 0;

	assert_true(p11_find_token(prefix, &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(p11->C_FindObjectsInit(session, &find, 1), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, objects, 16, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	for (CK_ULONG o = 0; o < count; o++) {
		unsigned char *value = p11_attr(session, objects[o], CKA_VALUE, &len);

		root += same_file(value, len, "ca", "root.der");
		own += same_file(value, len, "ca", own_ca);
		other += same_file(value, len, "ca", other_ca);
		free(value);
	}
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
	print_message("%s: %lu certificates, root %d, %s %d, %s %d\n", prefix, (unsigned long)count, root, own_ca, own,
		      other_ca, other);
	assert_int_equal(count, 3);
	assert_int_equal(root, 1);
	assert_int_equal(own, 1);
	assert_int_equal(other, 0);
}

/* Issue 11: a CA certificate the second application lists like the first (same iD,
 * same path) is reused only when the first application's copy issued a certificate
 * the second application's EFs gave. Both applications of jahis (and of jma under
 * hpki-vcard --shared-ca-entry) list their issuing CA under one iD and path while
 * the EFs hold different certificates: each is read, each token shows its own, and
 * only the root (proven by the second application's own issuing CA) is read once. */
static void test_each_token_shows_its_own_ca_certificates(void **state)
{
	(void)state;
	fresh_card_cold_module();
	p11_init();
	check_token_cas("HPKI Sign", "sign-ca.der", "auth-ca.der");
	check_token_cas("HPKI Auth", "auth-ca.der", "sign-ca.der");
	print_message("cold listing (%s): %ld APDUs\n", getenv("HPKI_VCARD_PROFILE"), vcard_stat("apdus"));
	assert_int_equal(vcard_stat("apdus"), expected("HPKI_COST_LIST"));
	p11_finalize();
}

/* The authentication key in a logged-in session: one APDU (PSO) per signature when
 * nothing else touched the card; after another program selected the signature
 * application, the module's checks catch it: never a wrong signature. */
static void test_auth_signature_is_one_apdu(void **state)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE find = { CKA_CLASS, &klass, sizeof klass };
	CK_OBJECT_HANDLE key;
	CK_ULONG count, sig_len;
	CK_BYTE sig[512];
	CK_RV rv;
	char cmd[1024];
	const char *module = getenv("HPKI_MODULE") != NULL ? getenv("HPKI_MODULE") : ".libs/hpki-pkcs11.so";
	long before = 0;

	(void)state;
	p11_init();
	assert_true(p11_find_token("HPKI Auth", &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4), CKR_OK);
	assert_int_equal(p11->C_FindObjectsInit(session, &find, 1), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, &key, 1, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	assert_int_equal(count, 1);
	for (int i = 0; i < 6; i++) {
		if (i == 1)
			before = vcard_stat("apdus");
		sig_len = sizeof sig;
		assert_int_equal(p11->C_SignInit(session, &mech, key), CKR_OK);
		assert_int_equal(p11->C_Sign(session, (CK_BYTE_PTR) "cost", 4, sig, &sig_len), CKR_OK);
	}
	assert_int_equal(vcard_stat("apdus") - before, 5 * expected("HPKI_COST_AUTH_SIGNATURE")); /* PSO only */
	/* Another program reads the signature application. */
	/* pkcs11-tool is not built with the sanitizers: under test/memcheck asan it gets
	 * their runtime preloaded (HPKI_TOOL_PRELOAD) to load the sanitized module. */
	snprintf(cmd, sizeof cmd, "%s%s HPKI_PKCS11_TOKENS=sign pkcs11-tool --module '%s' -L >/dev/null 2>&1",
		 getenv("HPKI_TOOL_PRELOAD") != NULL ? "LD_PRELOAD=" : "",
		 getenv("HPKI_TOOL_PRELOAD") != NULL ? getenv("HPKI_TOOL_PRELOAD") : "", module);
	assert_int_equal(system(cmd), 0);
	sig_len = sizeof sig;
	assert_int_equal(p11->C_SignInit(session, &mech, key), CKR_OK);
	rv = p11->C_Sign(session, (CK_BYTE_PTR) "cost", 4, sig, &sig_len);
	/* Its SELECT ended our login on this one-channel card: said so, nothing signed
	 * with the other key (the module verifies every signature with the certificate). */
	assert_int_equal(rv, CKR_USER_NOT_LOGGED_IN);
	p11_finalize();
}

/* A failed assertion leaves the module initialised and the environment set. */
static int teardown(void **state)
{
	(void)state;
	p11->C_Finalize(NULL);
	unsetenv("HPKI_PKCS11_TOKENS");
	unsetenv("HPKI_PKCS11_REFRESH_INTERVAL");
	setenv("HPKI_PKCS11_CACHE", "off", 1);
	return 0;
}

int main(void)
{
	int rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cold_listing_costs_exactly, teardown),
		cmocka_unit_test_teardown(test_each_token_shows_its_own_ca_certificates, teardown),
		cmocka_unit_test_teardown(test_hidden_token_is_not_read, teardown),
		cmocka_unit_test_teardown(test_polling_costs_nothing, teardown),
		cmocka_unit_test_teardown(test_auth_signature_is_one_apdu, teardown),
		cmocka_unit_test_teardown(test_cache_hit_and_miss, teardown),
		cmocka_unit_test_teardown(test_cache_swapped_and_renewed, teardown),
		cmocka_unit_test_teardown(test_cache_browser_and_tool, teardown),
		cmocka_unit_test_teardown(test_cache_files_damaged_or_replaced, teardown),
		cmocka_unit_test_teardown(test_cache_directory_unusable, teardown),
		cmocka_unit_test_teardown(test_cache_full_disk_and_concurrent_writers, teardown),
	};

	const struct CMUnitTest own_ca[] = {
		cmocka_unit_test_teardown(test_each_token_shows_its_own_ca_certificates, teardown),
	};

	/* The counting tests above read a cold card: no cache there. */
	snprintf(cache_dir, sizeof cache_dir, "/tmp/hpki-cost-cache.%ld", (long)getpid());
	setenv("HPKI_PKCS11_CACHE", "off", 1);
	p11_load();
	/* p11-cost-shared-ca.e2e: only what its card switch is about. */
	if (getenv("HPKI_COST_ONLY") != NULL && strcmp(getenv("HPKI_COST_ONLY"), "own-ca") == 0)
		rc = cmocka_run_group_tests(own_ca, NULL, NULL);
	else
		rc = cmocka_run_group_tests(tests, NULL, NULL);
	remove_cache_dir();
	return rc;
}
