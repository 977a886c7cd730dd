/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a process costs the card, in APDUs counted by the virtual card (issue 11):
 * a cold listing of tokens and objects, the same with one token hidden
 * (HPKI_PKCS11_TOKENS=auth: the hidden application is not read), and polling
 * C_GetSlotInfo/C_GetTokenInfo/C_GetSessionInfo (free).
 *
 * The exact counts of the profile come from the .e2e script:
 * HPKI_COST_LIST (both tokens) and HPKI_COST_LIST_AUTH (authentication only).
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

#include "p11-helpers.h"

static long expected(const char *name)
{
	const char *value = getenv(name);

	if (value == NULL) {
		fail_msg("%s not set by the .e2e script", name);
		return -1;
	}
	return strtol(value, NULL, 10);
}

/* pcscd sees the card leave and come back; the module is cold; counters zeroed. */
static void fresh_card_cold_module(void)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;

	p11_init();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	p11_drain_events();
	assert_int_equal(vcard_ctl(NULL, 0, "remove"), 0);
	p11_wait_event(slots[0]);
	assert_int_equal(vcard_ctl(NULL, 0, "insert"), 0);
	p11_wait_event(slots[0]);
	p11_finalize();
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

/* A failed assertion leaves the module initialised and the environment set. */
static int teardown(void **state)
{
	(void)state;
	p11->C_Finalize(NULL);
	unsetenv("HPKI_PKCS11_TOKENS");
	unsetenv("HPKI_PKCS11_REFRESH_INTERVAL");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cold_listing_costs_exactly, teardown),
		cmocka_unit_test_teardown(test_hidden_token_is_not_read, teardown),
		cmocka_unit_test_teardown(test_polling_costs_nothing, teardown),
	};

	p11_load();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
