/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The module's read path through the real stack (issue 3): slots, tokens,
 * objects, attributes, events, removal, concurrency, fork. Runs under
 * test/with-vcard; the profile under test comes from HPKI_VCARD_PROFILE.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "p11-helpers.h"

static const char *holder(void)
{
	const char *h = getenv("HPKI_VCARD_HOLDER");

	return h != NULL && *h != '\0' ? h : "doctor";
}

static int setup(void **state)
{
	p11_init();
	return 0;
}

static int teardown(void **state)
{
	p11->C_Finalize(NULL);
	return 0;
}

/* C_Login(CKU_USER) with the test PIN of the slot's application. */
static void login_user(CK_SESSION_HANDLE session, CK_SLOT_ID slot)
{
	CK_TOKEN_INFO info;
	const char *pin;

	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	pin = memcmp(info.label, "HPKI Sign", 9) == 0 ? "5678" : "1234";
	assert_int_equal(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin)), CKR_OK);
}

/* Fixed-length CK_*_INFO fields are blank-padded, never NUL (RFC 7512 matching, p11-kit). */
static void assert_blank_padded(const CK_UTF8CHAR *field, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		assert_int_not_equal(field[i], '\0');
}

static void test_every_function_refuses_before_initialize(void **state)
{
	CK_SLOT_ID slots[4];
	CK_ULONG count = 4;
	CK_INFO info;
	CK_SESSION_HANDLE session;
	CK_SLOT_ID slot;
	CK_MECHANISM mech = { CKM_SHA256, NULL, 0 };

	assert_int_equal(p11->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &count), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &session),
			 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(p11->C_DigestInit(1, &mech), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(p11->C_GenerateRandom(1, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(p11->C_Encrypt(1, NULL, 0, NULL, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static CK_RV lock_stub(CK_VOID_PTR mutex) { return CKR_OK; }
static CK_RV create_stub(CK_VOID_PTR_PTR mutex)
{
	*mutex = malloc(1);
	return CKR_OK;
}
static CK_RV destroy_stub(CK_VOID_PTR mutex)
{
	free(mutex);
	return CKR_OK;
}

static void test_initialize_args_combinations(void **state)
{
	CK_C_INITIALIZE_ARGS args = { 0 };
	CK_C_INITIALIZE_ARGS partial = { .CreateMutex = create_stub };
	CK_C_INITIALIZE_ARGS reserved = { .pReserved = &args };

	args.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(p11->C_Initialize(&args), CKR_OK);
	assert_int_equal(p11->C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	p11_finalize();
	args.CreateMutex = create_stub;
	args.DestroyMutex = destroy_stub;
	args.LockMutex = lock_stub;
	args.UnlockMutex = lock_stub;
	assert_int_equal(p11->C_Initialize(&args), CKR_OK); /* both: callbacks or OS */
	p11_finalize();
	args.flags = 0;
	assert_int_equal(p11->C_Initialize(&args), CKR_OK); /* callbacks only */
	p11_finalize();
	assert_int_equal(p11->C_Initialize(&partial), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_Initialize(&reserved), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_Initialize(NULL), CKR_OK);
	p11_finalize();
}

static void test_tokens_are_listed_with_unique_labels_and_serials(void **state)
{
	CK_SLOT_ID slots[16];
	CK_TOKEN_INFO info[16];
	CK_SLOT_INFO slot_info;
	CK_ULONG n = p11_token_slots(slots, 16), i, k;
	const char *apps = getenv("HPKI_TEST_APPS");
	CK_ULONG expected = apps != NULL && strcmp(apps, "both") != 0 ? 1 : 2;

	assert_int_equal(n, expected);
	for (i = 0; i < n; i++) {
		assert_int_equal(p11->C_GetSlotInfo(slots[i], &slot_info), CKR_OK);
		assert_true(slot_info.flags & CKF_TOKEN_PRESENT);
		assert_true(slot_info.flags & CKF_REMOVABLE_DEVICE);
		assert_blank_padded(slot_info.slotDescription, sizeof slot_info.slotDescription);
		assert_int_equal(p11->C_GetTokenInfo(slots[i], &info[i]), CKR_OK);
		assert_blank_padded(info[i].label, sizeof info[i].label);
		assert_blank_padded(info[i].serialNumber, sizeof info[i].serialNumber);
		assert_blank_padded(info[i].model, sizeof info[i].model);
		assert_blank_padded(info[i].manufacturerID, sizeof info[i].manufacturerID);
		assert_null(memchr(info[i].label, ':', sizeof info[i].label));
		assert_memory_equal(info[i].model, "ISO 7816-15:2016", 16);
		assert_true(info[i].serialNumber[0] != ' ');
		assert_true(info[i].flags & CKF_LOGIN_REQUIRED);
		assert_true(info[i].flags & CKF_TOKEN_INITIALIZED);
		assert_false(info[i].flags & CKF_RNG);
		assert_int_equal(info[i].ulMinPinLen, 4);
		assert_int_equal(info[i].ulMaxPinLen, 16);
		/* "HPKI Sign <holder>" / "HPKI Auth <holder>": which application, whose card. */
		assert_true(memcmp(info[i].label, "HPKI Sign ", 10) == 0 || memcmp(info[i].label, "HPKI Auth ", 10) == 0);
		assert_non_null(memmem(info[i].label, 32, "TEST", 4));
		for (k = 0; k < i; k++) {
			assert_memory_not_equal(info[i].label, info[k].label, sizeof info[i].label);
			assert_memory_not_equal(info[i].serialNumber, info[k].serialNumber, sizeof info[i].serialNumber);
		}
	}
}

/* Cert, public key and private key share a CKA_ID; the end-entity certificate is the card's.
 * Certificates and the public key are public; the private key (CKA_PRIVATE) needs
 * C_Login (PKCS#11 2.40 §4.4). */
static void check_token_objects(CK_SLOT_ID slot, const char *cert_file, bool always_authenticate)
{
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key, pub, cert, all[16];
	CK_ULONG id_len, value_len, len, n = 0, i, k, certs = 0;
	CK_OBJECT_CLASS klass;
	CK_BBOOL *flag;
	unsigned char *id, *value, *expected;
	size_t expected_len;
	char path[512];
	CK_ATTRIBUTE class_attr = { CKA_CLASS, &klass, sizeof klass };

	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	pub = p11_find_one(session, CKO_PUBLIC_KEY, NULL, 0);
	id = p11_attr(session, pub, CKA_ID, &id_len);
	cert = p11_find_one(session, CKO_CERTIFICATE, id, id_len);
	login_user(session, slot);
	key = p11_find_one(session, CKO_PRIVATE_KEY, id, id_len);
	assert_int_not_equal(pub, cert);
	value = p11_attr(session, cert, CKA_VALUE, &value_len);
	test_pki_path(path, sizeof path, holder(), cert_file);
	expected = read_file(path, &expected_len);
	assert_non_null(expected);
	assert_int_equal(value_len, expected_len);
	assert_memory_equal(value, expected, expected_len);
	flag = p11_attr(session, key, CKA_ALWAYS_AUTHENTICATE, &len);
	assert_int_equal(*flag, always_authenticate ? CK_TRUE : CK_FALSE);
	free(flag);
	flag = p11_attr(session, key, CKA_SIGN, &len);
	assert_int_equal(*flag, CK_TRUE);
	free(flag);
	flag = p11_attr(session, key, CKA_EXTRACTABLE, &len);
	assert_int_equal(*flag, CK_FALSE);
	free(flag);
	/* CA certificates are there too, each with its own CKA_ID. */
	assert_int_equal(p11->C_FindObjectsInit(session, NULL, 0), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, all, 16, &n), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	for (i = 0; i < n; i++) {
		unsigned char *other_id;
		CK_ULONG other_len;

		assert_int_equal(p11->C_GetAttributeValue(session, all[i], &class_attr, 1), CKR_OK);
		if (klass != CKO_CERTIFICATE)
			continue;
		certs++;
		other_id = p11_attr(session, all[i], CKA_ID, &other_len);
		for (k = 0; k < n; k++) {
			CK_OBJECT_CLASS other_class;
			CK_ATTRIBUTE a = { CKA_CLASS, &other_class, sizeof other_class };
			unsigned char *kid;
			CK_ULONG kid_len;

			if (k == i)
				continue;
			assert_int_equal(p11->C_GetAttributeValue(session, all[k], &a, 1), CKR_OK);
			if (other_class != CKO_CERTIFICATE)
				continue;
			kid = p11_attr(session, all[k], CKA_ID, &kid_len);
			assert_false(kid_len == other_len && memcmp(kid, other_id, kid_len) == 0);
			free(kid);
		}
		free(other_id);
	}
	assert_true(certs >= 2);
	assert_int_equal(n, certs + 2);
	free(id);
	free(value);
	free(expected);
	assert_int_equal(p11->C_Logout(session), CKR_OK);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
}

static void test_objects_are_linked_by_id(void **state)
{
	CK_SLOT_ID slot;

	if (p11_find_token("HPKI Sign", &slot))
		check_token_objects(slot, "sig.crt.der", true);
	if (p11_find_token("HPKI Auth", &slot))
		check_token_objects(slot, "auth.crt.der", false);
}

static void test_get_attribute_value_follows_section_5_7(void **state)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	CK_BYTE small[4];
	CK_BYTE big[4096];
	CK_KEY_TYPE key_type;
	CK_ATTRIBUTE t[4];

	assert_true(p11_find_token(NULL, &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	login_user(session, slot);
	key = p11_find_one(session, CKO_PRIVATE_KEY, NULL, 0);
	/* Length query, a short buffer, an invalid type and a sensitive one in one call. */
	t[0] = (CK_ATTRIBUTE){ CKA_MODULUS, NULL, 0 };
	t[1] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, small, 1 };
	t[2] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &key_type, sizeof key_type };
	t[3] = (CK_ATTRIBUTE){ CKA_PRIVATE_EXPONENT, big, sizeof big };
	assert_int_not_equal(p11->C_GetAttributeValue(session, key, t, 4), CKR_OK);
	assert_true(t[0].ulValueLen == 256 || t[0].ulValueLen == 512);
	assert_int_equal(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(t[2].ulValueLen, sizeof key_type);
	assert_int_equal(key_type, CKK_RSA);
	assert_int_equal(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	t[0] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, small, 1 };
	assert_int_equal(p11->C_GetAttributeValue(session, key, t, 1), CKR_BUFFER_TOO_SMALL);
	t[0] = (CK_ATTRIBUTE){ CKA_PRIVATE_EXPONENT, NULL, 0 };
	assert_int_equal(p11->C_GetAttributeValue(session, key, t, 1), CKR_ATTRIBUTE_SENSITIVE);
	t[0] = (CK_ATTRIBUTE){ CKA_CERTIFICATE_TYPE, NULL, 0 };
	assert_int_equal(p11->C_GetAttributeValue(session, key, t, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(p11->C_GetAttributeValue(session, 0xdead, t, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(p11->C_GetAttributeValue(session, key, NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
}

static void test_write_operations_are_refused(void **state)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key, copy;
	CK_OBJECT_CLASS klass = CKO_DATA;
	CK_ATTRIBUTE t = { CKA_CLASS, &klass, sizeof klass };

	assert_true(p11_find_token(NULL, &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session), CKR_OK);
	key = p11_find_one(session, CKO_PUBLIC_KEY, NULL, 0);
	assert_int_equal(p11->C_CreateObject(session, &t, 1, &copy), CKR_TOKEN_WRITE_PROTECTED);
	assert_int_equal(p11->C_DestroyObject(session, key), CKR_ACTION_PROHIBITED);
	assert_int_equal(p11->C_CopyObject(session, key, &t, 1, &copy), CKR_ACTION_PROHIBITED);
	assert_int_equal(p11->C_SetAttributeValue(session, key, &t, 1), CKR_ACTION_PROHIBITED);
	assert_int_equal(p11->C_InitToken(slot, (CK_UTF8CHAR_PTR) "1234", 4, (CK_UTF8CHAR_PTR) "x"),
			 CKR_TOKEN_WRITE_PROTECTED);
	assert_int_equal(p11->C_GenerateRandom(session, (CK_BYTE_PTR)&klass, 1), CKR_RANDOM_NO_RNG);
	assert_int_equal(p11->C_OpenSession(slot, 0, NULL, NULL, &copy), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
	assert_int_equal(p11->C_CloseSession(session), CKR_SESSION_HANDLE_INVALID);
}

static void test_removal_invalidates_sessions_and_swap_shows_new_holder(void **state)
{
	CK_SLOT_ID slot, event;
	CK_SESSION_HANDLE session;
	CK_SESSION_INFO info;
	CK_OBJECT_HANDLE cert, key;
	CK_TOKEN_INFO token_info;
	CK_ULONG len, id_len;
	unsigned char *value, *expected, *id;
	size_t expected_len;
	char path[512];

	assert_true(p11_find_token(NULL, &slot));
	p11_drain_events();
	assert_int_equal(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &event, NULL), CKR_NO_EVENT);
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(vcard_ctl(NULL, 0, "remove"), 0);
	p11_wait_event(slot);
	p11_wait_token(slot, false);
	assert_int_not_equal(p11->C_GetSessionInfo(session, &info), CKR_OK);
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_TOKEN_NOT_PRESENT);

	assert_int_equal(vcard_ctl(NULL, 0, "swap pharmacist"), 0);
	p11_wait_token(slot, true);
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	key = p11_find_one(session, CKO_PUBLIC_KEY, NULL, 0);
	id = p11_attr(session, key, CKA_ID, &id_len);
	cert = p11_find_one(session, CKO_CERTIFICATE, id, id_len);
	free(id);
	assert_int_equal(p11->C_GetTokenInfo(slot, &token_info), CKR_OK);
	test_pki_path(path, sizeof path, "pharmacist",
		      memcmp(token_info.label, "HPKI Sign", 9) == 0 ? "sig.crt.der" : "auth.crt.der");
	value = p11_attr(session, cert, CKA_VALUE, &len);
	expected = read_file(path, &expected_len);
	assert_non_null(expected);
	assert_int_equal(len, expected_len);
	assert_memory_equal(value, expected, len);
	free(value);
	free(expected);
	p11_drain_events();
	assert_int_equal(vcard_ctl(NULL, 0, "swap %s", holder()), 0);
	p11_wait_event(slot);
	p11_wait_token(slot, true);
}

static void *finalize_later(void *arg)
{
	usleep(300 * 1000);
	p11->C_Finalize(NULL);
	return NULL;
}

static void test_blocking_wait_is_interrupted_by_finalize(void **state)
{
	pthread_t thread;
	CK_SLOT_ID slot, event;
	CK_RV rv;

	assert_true(p11_find_token(NULL, &slot));
	p11_drain_events();
	pthread_create(&thread, NULL, finalize_later, NULL);
	alarm(20);
	rv = p11->C_WaitForSlotEvent(0, &event, NULL);
	alarm(0);
	pthread_join(thread, NULL);
	assert_int_equal(rv, CKR_CRYPTOKI_NOT_INITIALIZED);
	p11_init(); /* teardown finalises */
}

static void *enumerate_many(void *arg)
{
	CK_SLOT_ID slots[16];
	CK_TOKEN_INFO info;
	CK_ULONG n, i;
	int round;

	for (round = 0; round < 20; round++) {
		n = 16;
		if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
			return (void *)1;
		for (i = 0; i < n; i++) {
			CK_SESSION_HANDLE s;
			CK_OBJECT_HANDLE objects[16];
			CK_ULONG count;

			if (p11->C_GetTokenInfo(slots[i], &info) != CKR_OK ||
			    p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
			    p11->C_FindObjectsInit(s, NULL, 0) != CKR_OK ||
			    p11->C_FindObjects(s, objects, 16, &count) != CKR_OK || count < 4 ||
			    p11->C_FindObjectsFinal(s) != CKR_OK || p11->C_CloseSession(s) != CKR_OK)
				return (void *)1;
		}
	}
	return NULL;
}

static void test_threads_and_processes_enumerate_at_once(void **state)
{
	pthread_t threads[4];
	void *result;
	pid_t child;
	int i, status;

	child = fork();
	if (child == 0) {
		/* A second process with its own module instance, at the same time. */
		CK_FUNCTION_LIST_PTR list = p11;
		int failed = list->C_Finalize(NULL) != CKR_CRYPTOKI_NOT_INITIALIZED; /* parent's: not ours */

		failed |= list->C_Initialize(NULL) != CKR_OK;
		failed |= enumerate_many(NULL) != NULL;
		failed |= list->C_Finalize(NULL) != CKR_OK;
		_exit(failed);
	}
	for (i = 0; i < 4; i++)
		pthread_create(&threads[i], NULL, enumerate_many, NULL);
	for (i = 0; i < 4; i++) {
		pthread_join(threads[i], &result);
		assert_null(result);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Re-reads the card with a fault set up; the module must answer cleanly. */
static void read_with_fault(CK_SLOT_ID slot, const char *fault)
{
	CK_SLOT_ID slots[16];
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO info;
	CK_ULONG n = 16, i;

	p11_drain_events();
	assert_int_equal(vcard_ctl(NULL, 0, "remove"), 0);
	p11_wait_event(slot);
	assert_int_equal(vcard_ctl(NULL, 0, "%s", fault), 0);
	assert_int_equal(vcard_ctl(NULL, 0, "insert"), 0);
	p11_wait_event(slot);
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	for (i = 0; i < n; i++) {
		CK_RV rv;

		assert_int_equal(p11->C_GetSlotInfo(slots[i], &slot_info), CKR_OK);
		rv = p11->C_GetTokenInfo(slots[i], &info);
		assert_true(rv == CKR_OK || rv == CKR_TOKEN_NOT_PRESENT);
	}
	print_message("fault '%s': module answered cleanly\n", fault);
}

static void test_malicious_card_gives_clean_errors(void **state)
{
	static const char *faults[] = {
		"fault sw 6F00 3",            /* wrong status words */
		"fault truncate 3 2",         /* truncated answers */
		"fault garbage 40 2",
		"fault oversize 300 2",       /* longer than asked */
		"fault get-response-loop",    /* 61FF forever */
	};
	/* The same damage in each layout: end-entity certificate, EF.CD, EF.PrKD. */
	const char *profile = getenv("HPKI_VCARD_PROFILE");
	bool jahis = profile != NULL && strcmp(profile, "jahis") == 0;
	const char *apps = getenv("HPKI_TEST_APPS");
	int other_app = apps != NULL && strcmp(apps, "sig") == 0 ? 1 : 2;
	char corrupt[3][64];
	CK_SLOT_ID slot;
	size_t i;

	snprintf(corrupt[0], sizeof corrupt[0], "corrupt 1 %s huge-length", jahis ? "0018" : "0016");
	snprintf(corrupt[1], sizeof corrupt[1], "corrupt %d %s truncate", other_app, jahis ? "0015" : "0004");
	snprintf(corrupt[2], sizeof corrupt[2], "corrupt 1 %s garbage", jahis ? "0014" : "0002");
	assert_true(p11_find_token(NULL, &slot));
	for (i = 0; i < sizeof faults / sizeof faults[0]; i++) {
		read_with_fault(slot, faults[i]);
		assert_int_equal(vcard_ctl(NULL, 0, "fault none"), 0);
	}
	for (i = 0; i < 3; i++)
		read_with_fault(slot, corrupt[i]); /* a file stays corrupt until the swap below */
	/* A good card afterwards is read again in full. */
	p11_drain_events();
	assert_int_equal(vcard_ctl(NULL, 0, "swap %s", holder()), 0);
	p11_wait_event(slot);
	p11_wait_token(slot, true);
}

static void test_enumeration_apdu_count_is_recorded(void **state)
{
	CK_SLOT_ID slots[16];
	long apdus;

	CK_ULONG n = 16;

	/* A fresh insertion, seen by pcscd both ways, then a cold module. */
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	p11_drain_events();
	assert_int_equal(vcard_ctl(NULL, 0, "remove"), 0);
	p11_wait_event(slots[0]);
	assert_int_equal(vcard_ctl(NULL, 0, "insert"), 0);
	p11_wait_event(slots[0]);
	p11->C_Finalize(NULL);
	assert_int_equal(vcard_ctl(NULL, 0, "stats-reset"), 0);
	p11_init();
	p11_token_slots(slots, 16);
	apdus = vcard_stat("apdus");
	print_message("APDUs for a full enumeration (%s): %ld\n", getenv("HPKI_VCARD_PROFILE"), apdus);
	assert_true(apdus > 0 && apdus < 80);
	/* Slot and token info again: cached, no APDU. */
	p11_token_slots(slots, 16);
	assert_int_equal(vcard_stat("apdus"), apdus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_function_refuses_before_initialize),
		cmocka_unit_test(test_initialize_args_combinations),
		cmocka_unit_test_setup_teardown(test_tokens_are_listed_with_unique_labels_and_serials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_objects_are_linked_by_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_attribute_value_follows_section_5_7, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_operations_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal_invalidates_sessions_and_swap_shows_new_holder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_blocking_wait_is_interrupted_by_finalize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_and_processes_enumerate_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malicious_card_gives_clean_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enumeration_apdu_count_is_recorded, setup, teardown),
	};

	p11_load();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
