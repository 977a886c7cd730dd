/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A broken card cannot freeze the application, and a fork does not deadlock the
 * child (issue 8 §3, §4). Runs under test/with-vcard; the card's "fault trickle"
 * and "delay" controls make it slow and looping.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "p11-helpers.h"

static char log_path[256];
static bool log_has(const char *text);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

struct reader_thread {
	pthread_t thread;
	CK_RV rv;
	double ended;
};

/* Reads the card: C_GetSlotList(tokenPresent) enumerates it under the module's lock. */
static void *read_card(void *arg)
{
	struct reader_thread *t = arg;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;

	t->rv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	t->ended = now();
	return NULL;
}

static void card_is_slow_and_looping(unsigned delay_ms)
{
	char reply[256];

	assert_int_equal(vcard_ctl(reply, sizeof reply, "fault trickle 300"), 0);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "delay %u", delay_ms), 0);
}

static void card_is_normal(void)
{
	char reply[256];

	assert_int_equal(vcard_ctl(reply, sizeof reply, "fault none"), 0);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "delay 0"), 0);
}

/* While another thread reads a card that answers 61 00 slowly, calls that need no
 * card answer at once; C_Finalize cancels the read and returns within 2 s. */
static void check_no_card_calls_and_finalize(unsigned delay_ms, double *finalize_s, double *reader_after_s)
{
	struct reader_thread t = { 0 };
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	CK_INFO info;
	double start, finalized;

	card_is_slow_and_looping(delay_ms);
	p11_init();
	assert_int_equal(pthread_create(&t.thread, NULL, read_card, &t), 0);
	sleep_s(0.3); /* the reader thread is inside the first APDU now */

	start = now();
	assert_int_equal(p11->C_GetInfo(&info), CKR_OK);
	assert_true(now() - start < 0.1);
	print_message("C_GetInfo during the read: %.1f ms\n", (now() - start) * 1e3);

	start = now();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	assert_true(now() - start < 0.1);
	assert_true(n >= 2);
	print_message("C_GetSlotList(FALSE) during the read: %.1f ms, %lu slots\n", (now() - start) * 1e3,
		      (unsigned long)n);

	start = now();
	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
	finalized = now();
	*finalize_s = finalized - start;
	assert_true(*finalize_s < 2.0);
	assert_int_equal(pthread_join(t.thread, NULL), 0);
	*reader_after_s = t.ended - finalized;
	/* The read stops at the APDU that was in flight: no further one is sent. */
	assert_true(t.ended - start < delay_ms / 1000.0 + 1.0);
	card_is_normal();
}

/* The card of the report (61 00 without data, one byte per 300 GET RESPONSEs) is
 * given up after its first GET RESPONSE and not read again. */
static void test_looping_card_is_given_up_at_once(void **state)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	char reply[256];
	double start;

	(void)state;
	assert_int_equal(vcard_ctl(reply, sizeof reply, "fault trickle 300"), 0);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "stats-reset"), 0);
	p11_init();
	start = now();
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_true(now() - start < 1.0);
	print_message("looping card: no token after %ld APDUs, %.1f ms\n", vcard_stat("apdus"), (now() - start) * 1e3);
	assert_int_equal(vcard_stat("apdus"), 2);
	sleep_s(1.2); /* past the refresh interval: still not read again */
	n = 16;
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(vcard_stat("apdus"), 2);
	assert_true(log_has("GET RESPONSE brought no data"));
	p11_finalize();
	card_is_normal();
}

static void test_slow_looping_card_does_not_block_other_calls(void **state)
{
	double fin, after;

	(void)state;
	check_no_card_calls_and_finalize(1000, &fin, &after);
	print_message("1 s per APDU: C_Finalize %.3f s; reader thread ended %.3f s after it\n", fin, after);
}

/* An APDU that outlasts C_Finalize's wait: C_Finalize returns all the same, the
 * reading thread cleans up when its APDU ends, and the module initialises again. */
static void test_finalize_returns_while_an_apdu_hangs(void **state)
{
	double fin, after;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;

	(void)state;
	check_no_card_calls_and_finalize(3000, &fin, &after);
	print_message("3 s per APDU: C_Finalize %.3f s; reader thread ended %.3f s after it\n", fin, after);
	p11_init();
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 2);
	p11_finalize();
}

struct token_info_thread {
	pthread_t thread;
	CK_SLOT_ID slot;
	CK_RV rv;
};

/* With a refresh interval of 0, C_GetTokenInfo reads the PIN counter: card I/O
 * under the module's lock for as long as the card's delay. */
static void *token_info(void *arg)
{
	struct token_info_thread *t = arg;
	CK_TOKEN_INFO info;

	t->rv = p11->C_GetTokenInfo(t->slot, &info);
	return NULL;
}

/* The child of a fork taken while another thread holds the module's lock. */
static int child_after_fork(CK_SESSION_HANDLE parent_session)
{
	CK_SESSION_INFO si;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;

	alarm(10); /* a deadlock fails the test instead of hanging it */
	if (p11->C_GetSessionInfo(parent_session, &si) != CKR_CRYPTOKI_NOT_INITIALIZED)
		return 2;
	if (p11->C_Initialize(NULL) != CKR_OK)
		return 3;
	if (p11->C_GetSessionInfo(parent_session, &si) != CKR_SESSION_HANDLE_INVALID)
		return 4;
	/* Takes the (re-created) lock and asks pcscd, but reads no card: the card is
	 * still answering the parent slowly. */
	if (p11->C_GetSlotList(CK_FALSE, slots, &n) != CKR_OK || n < 2)
		return 5;
	if (p11->C_Finalize(NULL) != CKR_OK)
		return 6;
	return 0;
}

static void test_fork_while_another_thread_holds_the_lock(void **state)
{
	struct token_info_thread t = { 0 };
	CK_SESSION_HANDLE session;
	CK_SESSION_INFO si;
	char reply[256];
	double start;
	pid_t pid;
	int status;

	(void)state;
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	p11_init();
	assert_true(p11_find_token("HPKI Auth", &t.slot));
	assert_int_equal(p11->C_OpenSession(t.slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "delay 1500"), 0);
	assert_int_equal(pthread_create(&t.thread, NULL, token_info, &t), 0);
	sleep_s(0.3); /* the thread holds the lock, waiting for the card */
	start = now();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_after_fork(session));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	print_message("child after fork: exit %d in %.3f s\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		      now() - start);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(pthread_join(t.thread, NULL), 0);
	assert_int_equal(t.rv, CKR_OK);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "delay 0"), 0);
	/* The parent's session is untouched by the child. */
	assert_int_equal(p11->C_GetSessionInfo(session, &si), CKR_OK);
	p11_finalize();
	unsetenv("HPKI_PKCS11_REFRESH_INTERVAL");
}

/* While another thread waits for a slow card: C_CloseSession returns at once and the
 * session is gone as soon as that operation ends; C_GetMechanismList answers the
 * list published when the token was read. */
static void test_close_session_and_mechanisms_while_the_card_is_busy(void **state)
{
	struct token_info_thread t = { 0 };
	CK_SESSION_HANDLE session;
	CK_SESSION_INFO si;
	CK_MECHANISM_TYPE mechs[64];
	CK_ULONG n = 64, n_before = 64;
	char reply[256];
	double start;

	(void)state;
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	p11_init();
	assert_true(p11_find_token("HPKI Auth", &t.slot));
	assert_int_equal(p11->C_GetMechanismList(t.slot, mechs, &n_before), CKR_OK);
	assert_int_equal(p11->C_OpenSession(t.slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "delay 1000"), 0);
	assert_int_equal(pthread_create(&t.thread, NULL, token_info, &t), 0);
	sleep_s(0.3);

	start = now();
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
	print_message("C_CloseSession while the card is busy: %.1f ms\n", (now() - start) * 1e3);
	assert_true(now() - start < 0.1);
	start = now();
	assert_int_equal(p11->C_GetMechanismList(t.slot, mechs, &n), CKR_OK);
	print_message("C_GetMechanismList while the card is busy: %.1f ms, %lu mechanisms\n", (now() - start) * 1e3,
		      (unsigned long)n);
	assert_true(now() - start < 0.1);
	assert_int_equal(n, n_before);

	assert_int_equal(pthread_join(t.thread, NULL), 0);
	assert_int_equal(t.rv, CKR_OK);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "delay 0"), 0);
	assert_int_equal(p11->C_GetSessionInfo(session, &si), CKR_SESSION_HANDLE_INVALID);
	p11_finalize();
	unsetenv("HPKI_PKCS11_REFRESH_INTERVAL");
}

/* Whether the module's debug log (errors, set up in main) contains `text`. */
static bool log_has(const char *text)
{
	size_t len;
	unsigned char *log = read_file(log_path, &len);
	bool found = log != NULL && memmem(log, len, text, strlen(text)) != NULL;

	free(log);
	return found;
}

/* A card that turns slow and looping after the login: C_Sign fails with
 * CKR_DEVICE_ERROR at once, and the log says why. */
static void test_looping_card_fails_the_signature_with_device_error(void **state)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE data[] = "e-prescription", sig[512];
	CK_ULONG sig_len = sizeof sig;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	CK_SLOT_ID slot;
	char reply[256];
	double start;

	(void)state;
	p11_init();
	assert_true(p11_find_token("HPKI Auth", &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	assert_int_equal(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4), CKR_OK);
	key = p11_find_one(session, CKO_PRIVATE_KEY, NULL, 0);
	assert_int_equal(p11->C_SignInit(session, &mech, key), CKR_OK);
	assert_int_equal(vcard_ctl(reply, sizeof reply, "fault trickle 300"), 0);
	start = now();
	assert_int_equal(p11->C_Sign(session, data, sizeof data - 1, sig, &sig_len), CKR_DEVICE_ERROR);
	print_message("C_Sign on a looping card: CKR_DEVICE_ERROR after %.1f ms\n", (now() - start) * 1e3);
	assert_true(now() - start < 2.0);
	assert_true(log_has("GET RESPONSE brought no data"));
	card_is_normal();
	p11_finalize();
}

/* Every event a blocking C_WaitForSlotEvent reports, until C_Finalize ends it. */
static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	unsigned events[8]; /* per slot */
	CK_RV last_rv;
} waiter = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *wait_events(void *arg)
{
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)arg;
	while ((rv = p11->C_WaitForSlotEvent(0, &slot, NULL)) == CKR_OK) {
		pthread_mutex_lock(&waiter.lock);
		if (slot < 8)
			waiter.events[slot]++;
		pthread_mutex_unlock(&waiter.lock);
	}
	waiter.last_rv = rv;
	return NULL;
}

static unsigned events_on(CK_SLOT_ID slot)
{
	unsigned n;

	pthread_mutex_lock(&waiter.lock);
	n = waiter.events[slot];
	pthread_mutex_unlock(&waiter.lock);
	return n;
}

/* pcscd killed and started again under an application blocked in
 * C_WaitForSlotEvent: the wait reports both slots (token removed, then back), keeps
 * working, and the module recovers by itself: the token is usable again. */
static void test_pcscd_restart_under_a_waiting_application(void **state)
{
	const char *restart = getenv("HPKI_TESTBED_RESTART_PCSCD");
	CK_SESSION_HANDLE session;
	CK_SLOT_ID slot;
	CK_SESSION_INFO si;
	double start, recovered = -1;

	(void)state;
	assert_non_null(restart);
	p11_init();
	assert_true(p11_find_token("HPKI Auth", &slot));
	p11_drain_events();
	assert_int_equal(pthread_create(&waiter.thread, NULL, wait_events, NULL), 0);
	sleep_s(0.3);
	start = now();
	assert_int_equal(system(restart), 0);
	/* Removal and reinsertion: two events on each slot of the reader. */
	while (now() - start < 15 && (events_on(0) < 2 || events_on(1) < 2))
		sleep_s(0.05);
	print_message("after the pcscd restart: %u/%u events on slots 0/1 within %.2f s\n", events_on(0), events_on(1),
		      now() - start);
	assert_true(events_on(0) >= 2 && events_on(1) >= 2);
	while (now() - start < 15) {
		if (p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session) == CKR_OK) {
			recovered = now() - start;
			break;
		}
		sleep_s(0.1);
	}
	print_message("token usable again %.2f s after the restart\n", recovered);
	assert_true(recovered >= 0);
	assert_int_equal(p11->C_GetSessionInfo(session, &si), CKR_OK);
	p11_finalize();
	assert_int_equal(pthread_join(waiter.thread, NULL), 0);
	assert_int_equal(waiter.last_rv, CKR_CRYPTOKI_NOT_INITIALIZED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_looping_card_is_given_up_at_once),
		cmocka_unit_test(test_slow_looping_card_does_not_block_other_calls),
		cmocka_unit_test(test_finalize_returns_while_an_apdu_hangs),
		cmocka_unit_test(test_fork_while_another_thread_holds_the_lock),
		cmocka_unit_test(test_close_session_and_mechanisms_while_the_card_is_busy),
		cmocka_unit_test(test_looping_card_fails_the_signature_with_device_error),
		cmocka_unit_test(test_pcscd_restart_under_a_waiting_application),
	};

	int failed;

	/* Errors go to a file the tests read (set before the module's first call). */
	snprintf(log_path, sizeof log_path, "%s/hpki-robust-%ld.log", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (long)getpid());
	setenv("HPKI_PKCS11_DEBUG", "1", 1);
	setenv("HPKI_PKCS11_DEBUG_FILE", log_path, 1);
	p11_load();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(log_path);
	return failed;
}
