/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Warm start (issue 11; doc/card-cache.md "Warm start"): a process that starts while
 * the card has stayed in the reader since a process of this user proved it sends no
 * APDU, so that a login another process holds survives; any sign that the card left
 * the reader (removal, another card, a pcscd restart), a record of an earlier stay or
 * a damaged file makes the card prove itself again, and the card's true
 * certificates are shown every time.
 *
 * Counts from the .e2e script: HPKI_COST_LIST (full read), HPKI_COST_WARM (the card
 * proves a cache entry), HPKI_COST_MISS (another card's entry unmasked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cache-helpers.h"
#include "p11-helpers.h"

/* A program of the system (pkcs11-tool, ssh-keygen) run against the module with
 * HPKI_PKCS11_CACHE=mode; its exit status. */
static int run_program(const char *mode, const char *program_and_args)
{
	const char *module = getenv("HPKI_MODULE") != NULL ? getenv("HPKI_MODULE") : ".libs/hpki-pkcs11.so";
	const char *preload = getenv("HPKI_TOOL_PRELOAD");
	char cmd[2048];

	/* Not built with the sanitizers: under test/memcheck asan they get the runtime
	 * preloaded (HPKI_TOOL_PRELOAD) to load the sanitized module. Their own leaks are
	 * not ours to report (valgrind: pkcs11-tool -O loses what ASN1_item_d2i_ex decodes
	 * for it); the module's are, by this test program and the others that load it. */
	snprintf(cmd, sizeof cmd, "env %s%s HPKI_PKCS11_CACHE=%s %s >/dev/null 2>&1",
		 preload != NULL ? "ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD=" : "", preload != NULL ? preload : "", mode,
		 program_and_args);
	{
		char *at = strstr(cmd, "@MODULE@");

		if (at != NULL) {
			char rest[2048];

			snprintf(rest, sizeof rest, "%s", at + 8);
			snprintf(at, sizeof cmd - (size_t)(at - cmd), "%s%s", module, rest);
		}
	}
	return system(cmd);
}

static void use_mode(const char *mode)
{
	cache_mode = mode;
	fresh_cache();
}

/* Later processes send nothing while the card stays; after a removal it proves itself. */
static void test_warm_start_sends_nothing(void **state)
{
	(void)state;
	use_mode("on");
	swap_to("doctor");
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
	assert_int_equal(list_and_check_holder("doctor"), 0);
	assert_int_equal(list_and_check_holder("doctor"), 0);
	card_out_and_in("insert");
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_WARM"));
	assert_int_equal(list_and_check_holder("doctor"), 0);
	/* "confirm" never trusts the stay. */
	cache_mode = "confirm";
	setenv("HPKI_PKCS11_CACHE", cache_mode, 1);
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_WARM"));
}

/* Another holder's card, a certificate renewed on the same holder's card, and back: each
 * new card pays its own read or proof, then its later processes nothing, and the
 * certificates shown are always those of the card inserted now. */
static void test_warm_start_follows_swaps_and_renewal(void **state)
{
	static const char *const holders[] = { "pharmacist", "renewed", "doctor", "pharmacist" };

	(void)state;
	use_mode("on");
	swap_to("doctor");
	list_and_check_holder("doctor");
	for (size_t h = 0; h < sizeof holders / sizeof holders[0]; h++) {
		long first;

		swap_to(holders[h]);
		first = list_and_check_holder(holders[h]);
		print_message("%s: first process %ld APDUs, then 0\n", holders[h], first);
		assert_true(first >= expected("HPKI_COST_WARM"));
		assert_int_equal(list_and_check_holder(holders[h]), 0);
	}
}

/* pcsc-lite counts card events from 0 at every start: a restarted pcscd is another run,
 * and the card proves itself. */
static void test_warm_start_not_across_a_pcscd_restart(void **state)
{
	const char *restart = getenv("HPKI_TESTBED_RESTART_PCSCD");
	long cost = -1;

	(void)state;
	assert_non_null(restart);
	use_mode("on");
	swap_to("doctor");
	list_and_check_holder("doctor");
	assert_int_equal(list_and_check_holder("doctor"), 0);
	assert_int_equal(system(restart), 0);
	setenv("HPKI_PKCS11_CACHE", "off", 1); /* waiting must not prove the card */
	for (int i = 0; i < 100 && !card_shows("doctor"); i++)
		usleep(100000);
	setenv("HPKI_PKCS11_CACHE", cache_mode, 1);
	cost = list_and_check_holder("doctor");
	print_message("after the pcscd restart: %ld APDUs\n", cost);
	assert_int_equal(cost, expected("HPKI_COST_WARM"));
	assert_int_equal(list_and_check_holder("doctor"), 0);
}

static char stay_copy[600];

static void keep_stay(const char *path)
{
	char cmd[1300];

	if (strstr(path, ".stay") == NULL)
		return;
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, stay_copy);
	assert_int_equal(system(cmd), 0);
}

static void restore_stay(const char *path)
{
	char cmd[1300];

	if (strstr(path, ".stay") == NULL)
		return;
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", stay_copy, path);
	assert_int_equal(system(cmd), 0);
}

/* The record of an earlier stay (kept and put back, as a restored backup would) does
 * not vouch for the card in the reader now, not even for another holder's card. */
static void test_record_of_an_earlier_stay_is_not_trusted(void **state)
{
	(void)state;
	snprintf(stay_copy, sizeof stay_copy, "%s.stay", cache_dir);
	use_mode("on");
	swap_to("doctor");
	list_and_check_holder("doctor");
	each_cache_file(keep_stay);
	card_out_and_in("insert");
	each_cache_file(restore_stay);
	assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_WARM"));
	each_cache_file(keep_stay);
	swap_to("pharmacist");
	each_cache_file(restore_stay);
	assert_true(list_and_check_holder("pharmacist") > 0);
	assert_int_equal(list_and_check_holder("pharmacist"), 0);
	unlink(stay_copy);
}

static void zero_file(const char *path)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fclose(f);
}

/* Every file of the cache, the stay record included, damaged: noticed, the card is
 * read, its own certificates shown, no crash. */
static void test_damaged_files_with_warm_start(void **state)
{
	void (*damage[])(const char *) = { flip_middle, truncate_half, zero_file };

	(void)state;
	swap_to("doctor");
	for (size_t k = 0; k < sizeof damage / sizeof damage[0]; k++) {
		use_mode("on");
		list_and_check_holder("doctor");
		each_cache_file(damage[k]);
		assert_int_equal(list_and_check_holder("doctor"), expected("HPKI_COST_LIST"));
		assert_int_equal(list_and_check_holder("doctor"), 0);
	}
}

static CK_OBJECT_HANDLE find_object(CK_SESSION_HANDLE session, CK_OBJECT_CLASS klass)
{
	CK_ATTRIBUTE find = { CKA_CLASS, &klass, sizeof klass };
	CK_OBJECT_HANDLE object = CK_INVALID_HANDLE, more[4];
	CK_ULONG count = 0;

	assert_int_equal(p11->C_FindObjectsInit(session, &find, 1), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, more, 4, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	assert_true(count >= 1);
	object = more[0];
	return object;
}

/* The signature verifies with OpenSSL under the token's end-entity certificate. */
static void assert_signature_verifies(CK_SESSION_HANDLE session, const CK_BYTE *sig, CK_ULONG sig_len)
{
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_ULONG category = 1; /* CK_CERTIFICATE_CATEGORY_TOKEN_USER */
	CK_ATTRIBUTE find[] = { { CKA_CLASS, &klass, sizeof klass }, { CKA_CERTIFICATE_CATEGORY, &category, sizeof category } };
	CK_OBJECT_HANDLE cert;
	CK_ULONG count = 0, len;
	unsigned char *der;
	const unsigned char *p;
	X509 *x;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_equal(p11->C_FindObjectsInit(session, find, 2), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, &cert, 1, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	assert_int_equal(count, 1);
	der = p11_attr(session, cert, CKA_VALUE, &len);
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)"warm", 4), 1);
	EVP_MD_CTX_free(md);
	X509_free(x);
	free(der);
}

static CK_RV sign_warm(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key, CK_BYTE *sig, CK_ULONG *sig_len)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };

	*sig_len = 512;
	assert_int_equal(p11->C_SignInit(session, &mech, key), CKR_OK);
	return p11->C_Sign(session, (CK_BYTE_PTR) "warm", 4, sig, sig_len);
}

/*
 * The issue's scenario: process A (this one) logs in on the authentication token;
 * processes B (pkcs11-tool -L, -O on both slots, ssh-keygen -D) start and list; the card
 * sees nothing from them, and A signs without a new PIN. With B in "confirm" mode (the
 * card proves itself: SELECTs) A's login is gone: the test can tell.
 */
static void login_survives(const char *b_mode, bool survives)
{
	static const char *const programs[] = {
		"pkcs11-tool --module @MODULE@ -L",
		"pkcs11-tool --module @MODULE@ -O --slot 0",
		"pkcs11-tool --module @MODULE@ -O --slot 1",
		"ssh-keygen -D @MODULE@",
	};
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	CK_BYTE sig[512];
	CK_ULONG sig_len;
	long apdus, verifies;

	use_mode("on");
	swap_to("doctor");
	p11_init();
	assert_true(p11_find_token("HPKI Auth", &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4), CKR_OK);
	key = find_object(session, CKO_PRIVATE_KEY);
	assert_int_equal(sign_warm(session, key, sig, &sig_len), CKR_OK);
	apdus = vcard_stat("apdus");
	verifies = vcard_stat("ins_20");
	for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
		assert_int_equal(run_program(b_mode, programs[i]), 0);
	print_message("B in mode %s: %ld APDUs, %ld VERIFY\n", b_mode, vcard_stat("apdus") - apdus,
		      vcard_stat("ins_20") - verifies);
	if (!survives) {
		assert_true(vcard_stat("apdus") > apdus);
		assert_int_equal(sign_warm(session, key, sig, &sig_len), CKR_USER_NOT_LOGGED_IN);
		p11_finalize();
		return;
	}
	assert_int_equal(vcard_stat("apdus"), apdus);
	assert_int_equal(vcard_stat("ins_20"), verifies);
	assert_int_equal(sign_warm(session, key, sig, &sig_len), CKR_OK);
	assert_signature_verifies(session, sig, sig_len);
	assert_int_equal(vcard_stat("ins_20"), verifies); /* no new PIN */
	p11_finalize();
}

static void test_another_process_login_survives(void **state)
{
	(void)state;
	login_survives("on", true);
}

static void test_control_confirming_processes_end_the_login(void **state)
{
	(void)state;
	login_survives("confirm", false);
}

/* One process logs in with `pin` on the signature token (expecting rv); the next
 * one's token flags, and the APDUs that next process cost. */
static CK_FLAGS next_process_flags(const char *pin, CK_RV rv, long *apdus)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_TOKEN_INFO info;
	long before;

	p11_init();
	assert_true(p11_find_token("HPKI Sign", &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin)), rv);
	p11_finalize();
	before = vcard_stat("apdus");
	p11_init();
	assert_true(p11_find_token("HPKI Sign", &slot));
	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	p11_finalize();
	*apdus = vcard_stat("apdus") - before;
	return info.flags;
}

/* A wrong PIN entered in one process is shown by the next one, which asks the card
 * nothing: the stay record follows our VERIFYs; so does the right PIN. */
static void test_pin_counter_follows_without_apdus(void **state)
{
	long apdus;

	(void)state;
	use_mode("on");
	swap_to("doctor");
	list_and_check_holder("doctor");
	assert_true(next_process_flags("0000", CKR_PIN_INCORRECT, &apdus) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(apdus, 0);
	assert_false(next_process_flags("5678", CKR_OK, &apdus) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(apdus, 0);
}

static int teardown(void **state)
{
	(void)state;
	p11->C_Finalize(NULL);
	cache_mode = "on";
	unsetenv("HPKI_PKCS11_TOKENS");
	return 0;
}

int main(void)
{
	int rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_warm_start_sends_nothing, teardown),
		cmocka_unit_test_teardown(test_warm_start_follows_swaps_and_renewal, teardown),
		cmocka_unit_test_teardown(test_record_of_an_earlier_stay_is_not_trusted, teardown),
		cmocka_unit_test_teardown(test_damaged_files_with_warm_start, teardown),
		cmocka_unit_test_teardown(test_another_process_login_survives, teardown),
		cmocka_unit_test_teardown(test_control_confirming_processes_end_the_login, teardown),
		cmocka_unit_test_teardown(test_pin_counter_follows_without_apdus, teardown),
		cmocka_unit_test_teardown(test_warm_start_not_across_a_pcscd_restart, teardown),
	};

	snprintf(cache_dir, sizeof cache_dir, "/tmp/hpki-warm-cache.%ld", (long)getpid());
	cache_mode = "on";
	p11_load();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	remove_cache_dir();
	return rc;
}
