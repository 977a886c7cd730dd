/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "module.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "pin-guard.h"
#include "session.h"
#include "settings.h"
#include "slot.h"
#include "watchdog.h"

struct hpki_module hpki_module;

/*
 * Locking (PKCS#11 2.40 §5.4, CK_C_INITIALIZE_ARGS): when the application passes
 * mutex callbacks and does not allow OS locking, we must use its callbacks;
 * otherwise we use a pthread mutex. One global lock guards the model and card
 * I/O; C_WaitForSlotEvent drops it while it blocks. Calls that need no card never
 * wait long behind it (issue 8 §3, doc/architecture.md "Locks"): C_GetInfo takes
 * no lock; C_GetSlotList without tokenPresent, C_GetMechanismList and C_CloseSession
 * wait at most HPKI_NO_CARD_WAIT and then answer from published state or defer;
 * C_Finalize cancels card I/O and returns within HPKI_FINALIZE_WAIT.
 */
static pthread_mutex_t os_lock = PTHREAD_MUTEX_INITIALIZER;
static CK_C_INITIALIZE_ARGS app_locking;
static void *app_mutex;
/* Set while the global lock is held: the only way to wait "at most" for an
 * application mutex, whose callbacks cannot time out. */
static atomic_bool lock_held;

/* Serialises C_Initialize/C_Finalize themselves, which run before a lock exists. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

/* Read by the card library before every APDU (struct hpki_card_link.cancel). */
static atomic_bool card_io_cancel;

/* C_CloseSession calls that found the card busy; guarded by deferred_lock, which is
 * only ever held for a few instructions. */
#define HPKI_MAX_DEFERRED 64
static pthread_mutex_t deferred_lock = PTHREAD_MUTEX_INITIALIZER;
static CK_SESSION_HANDLE deferred[HPKI_MAX_DEFERRED];
static size_t deferred_count;

/* The reader transport; unit tests put a fake ops table here before C_Initialize. */
static const struct hpki_transport_ops *transport_ops = &hpki_transport_pcsc;

void hpki_module_set_transport(const struct hpki_transport_ops *ops)
{
	transport_ops = ops != NULL ? ops : &hpki_transport_pcsc;
}

/* C_Finalize returns within this even while a card operation runs (issue 8 §3: < 2 s). */
#define HPKI_FINALIZE_WAIT 1.5

static void lock_global(void)
{
	if (app_mutex != NULL)
		app_locking.LockMutex(app_mutex);
	else
		pthread_mutex_lock(&os_lock);
	atomic_store(&lock_held, true);
}

static void unlock_global(void)
{
	atomic_store(&lock_held, false);
	if (app_mutex != NULL)
		app_locking.UnlockMutex(app_mutex);
	else
		pthread_mutex_unlock(&os_lock);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Takes the lock unless it stays busy for `seconds`. */
static bool lock_global_within(double seconds)
{
	double deadline = hpki_now() + seconds;

	if (app_mutex == NULL) {
		struct timespec abs;
		time_t whole = seconds > 0 ? (time_t)seconds : 0;

		/* On the monotonic clock: a wall-clock step must not stretch the bound. */
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_nsec += seconds > 0 ? (long)((seconds - (double)whole) * 1e9) : 0;
		abs.tv_sec += whole + abs.tv_nsec / 1000000000L;
		abs.tv_nsec %= 1000000000L;
		if (pthread_mutex_clocklock(&os_lock, CLOCK_MONOTONIC, &abs) != 0)
			return false;
		atomic_store(&lock_held, true);
		return true;
	}
	/* Application mutexes cannot time out: wait for the holder to leave, then lock
	 * (another caller may slip in between; that caller holds it briefly unless it
	 * starts card I/O, which is itself bounded by the card budgets). */
	while (atomic_load(&lock_held)) {
		if (hpki_now() >= deadline)
			return false;
		sleep_ms(1);
	}
	lock_global();
	return true;
}

static CK_RV check_init_args(const CK_C_INITIALIZE_ARGS *args, bool *use_app_mutex)
{
	int callbacks;

	*use_app_mutex = false;
	if (args == NULL)
		return CKR_OK;
	if (args->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	callbacks = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) + (args->LockMutex != NULL) +
		    (args->UnlockMutex != NULL);
	if (callbacks != 0 && callbacks != 4)
		return CKR_ARGUMENTS_BAD;
	/* Callbacks without CKF_OS_LOCKING_OK: the application's primitives only. */
	*use_app_mutex = callbacks == 4 && !(args->flags & CKF_OS_LOCKING_OK);
	return CKR_OK;
}

/*
 * fork(): the child gets copies of our mutexes in whatever state the parent's
 * threads had them, possibly locked by a thread that does not exist in the child.
 * So the child re-creates every one of them (pthread_atfork, POSIX
 * "pthread_atfork rationale") and never touches the parent's PC/SC handles. The
 * model itself is dropped at the child's C_Initialize (forget_parent_state).
 */
static void after_fork_in_child(void)
{
	static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	memcpy(&os_lock, &fresh, sizeof fresh);
	memcpy(&init_lock, &fresh, sizeof fresh);
	memcpy(&deferred_lock, &fresh, sizeof fresh);
	atomic_store(&lock_held, false);
	deferred_count = 0;
	/* The application's mutex belongs to the parent's C_Initialize. */
	app_mutex = NULL;
	hpki_slots_after_fork();
	hpki_log_after_fork();
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void install_atfork(void)
{
	pthread_atfork(NULL, NULL, after_fork_in_child);
}

/* After fork() the child must not touch the parent's PC/SC contexts or locks. */
static void forget_parent_state(void)
{
	hpki_info("forked child: dropping the parent's state without finalising it");
	/* The parent's session handles must answer CKR_SESSION_HANDLE_INVALID here;
	 * their memory is this process's copy, so freeing it is safe. */
	hpki_sessions_free_all();
	hpki_slots_forget();
	memset(&hpki_module, 0, sizeof hpki_module);
	app_mutex = NULL;
}

/* The model, freed by C_Finalize or by the last lock holder after it (cleanup_pending). */
static void free_model(void)
{
	hpki_sessions_free_all();
	hpki_slots_free();
	hpki_pin_guard_stop();
	atomic_store(&hpki_module.cleanup_pending, false);
	pthread_mutex_lock(&deferred_lock);
	deferred_count = 0;
	pthread_mutex_unlock(&deferred_lock);
}

/* An earlier C_Finalize returned while card I/O held the lock: that holder must
 * have finished before a new C_Initialize may reuse the model. */
static CK_RV settle_previous_finalize(void)
{
	if (!hpki_module.cleanup_pending)
		return CKR_OK;
	if (!lock_global_within(HPKI_FINALIZE_WAIT)) {
		hpki_error("C_Initialize: a card operation from before C_Finalize is still running");
		return CKR_CANT_LOCK;
	}
	if (hpki_module.cleanup_pending && hpki_module.waiters == 0)
		free_model();
	unlock_global();
	return hpki_module.cleanup_pending ? CKR_CANT_LOCK : CKR_OK;
}

static bool watchdog_lock(void)
{
	return hpki_enter() == CKR_OK;
}

CK_RV hpki_module_initialize(const CK_C_INITIALIZE_ARGS *args)
{
	bool use_app_mutex;
	CK_RV rv;

	hpki_log_init();
	pthread_once(&atfork_once, install_atfork);
	/* Applications often call C_Finalize from their own atexit handler; OpenSSL's
	 * atexit cleanup must not have freed what we still hold by then
	 * (testbed-and-consumers §2.1: SoftHSM crashes exactly so). */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	rv = check_init_args(args, &use_app_mutex);
	if (rv != CKR_OK) {
		hpki_error("C_Initialize: inconsistent CK_C_INITIALIZE_ARGS");
		return rv;
	}
	pthread_mutex_lock(&init_lock);
	if (hpki_module.pid != 0 && hpki_module.pid != getpid())
		forget_parent_state();
	if (atomic_load(&hpki_module.initialized)) {
		pthread_mutex_unlock(&init_lock);
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	rv = settle_previous_finalize();
	if (rv != CKR_OK) {
		pthread_mutex_unlock(&init_lock);
		return rv;
	}
	if (use_app_mutex) {
		app_locking = *args;
		if (app_locking.CreateMutex(&app_mutex) != CKR_OK) {
			app_mutex = NULL;
			pthread_mutex_unlock(&init_lock);
			return CKR_CANT_LOCK;
		}
	}
	memset(&hpki_module, 0, sizeof hpki_module);
	hpki_module.pid = getpid();
	atomic_store(&card_io_cancel, false);
	hpki_settings_load();
	/* The watchdog bounds a held PC/SC transaction (token.c); an application that
	 * forbids threads gets the bound checked at its next call instead. */
	hpki_watchdog_init(watchdog_lock, hpki_leave,
			   args == NULL || !(args->flags & CKF_LIBRARY_CANT_CREATE_OS_THREADS));
	/* The PIN guard's key is made when a refused PIN is first marked or compared
	 * (pin-guard.c), not here: the first RAND_bytes instantiates OpenSSL's DRBG,
	 * ~7.9 M instructions, more than half of an enumeration (issue 11), for a key
	 * that most processes never use. */
	/* Sessions die with their card: the slot layer reports each removal upwards
	 * through this callback, so it never calls into the session layer itself. */
	hpki_slots_init(transport_ops, hpki_session_close_slot, &card_io_cancel);
	/* No card I/O here (consumer-expectations §3.1): readers are listed on first use. */
	atomic_store(&hpki_module.initialized, true);
	pthread_mutex_unlock(&init_lock);
	hpki_info("initialised (%s locking)", use_app_mutex ? "application" : "OS");
	return CKR_OK;
}

/* Waits (bounded) for C_WaitForSlotEvent callers to leave; false if one stays. */
static bool wait_for_waiters(double deadline)
{
	while (hpki_module.waiters > 0) {
		hpki_slots_cancel_wait();
		unlock_global();
		sleep_ms(1);
		if (!lock_global_within(deadline - hpki_now()))
			return false;
	}
	return true;
}

CK_RV hpki_module_finalize(void)
{
	double deadline = hpki_now() + HPKI_FINALIZE_WAIT;

	pthread_mutex_lock(&init_lock);
	if (!atomic_load(&hpki_module.initialized) || hpki_module.pid != getpid()) {
		pthread_mutex_unlock(&init_lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	/* From here every new call answers CKR_CRYPTOKI_NOT_INITIALIZED, card I/O in
	 * progress stops before its next APDU, and a blocked C_WaitForSlotEvent wakes and
	 * returns CKR_CRYPTOKI_NOT_INITIALIZED (PKCS#11 2.40 §5.5). */
	atomic_store(&hpki_module.initialized, false);
	/* Before the global lock: the watchdog thread may be waiting for it. */
	hpki_watchdog_stop();
	atomic_store(&card_io_cancel, true);
	hpki_slots_cancel_wait();
	if (!lock_global_within(HPKI_FINALIZE_WAIT) || !wait_for_waiters(deadline)) {
		/* One APDU still in the reader (PC/SC cannot interrupt it): C_Finalize must
		 * return all the same; the thread holding the lock frees the model. */
		atomic_store(&hpki_module.cleanup_pending, true);
		pthread_mutex_unlock(&init_lock);
		hpki_error("C_Finalize: card I/O still running after %.1f s; it is cancelled and cleans up when it ends",
			   HPKI_FINALIZE_WAIT);
		return CKR_OK;
	}
	free_model();
	unlock_global();
	if (app_mutex != NULL) {
		app_locking.DestroyMutex(app_mutex);
		app_mutex = NULL;
	}
	pthread_mutex_unlock(&init_lock);
	hpki_info("finalised");
	return CKR_OK;
}

CK_RV hpki_check_initialized(void)
{
	if (!atomic_load(&hpki_module.initialized) || hpki_module.pid != getpid())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	return CKR_OK;
}

/* Session closes that waited for the card; run by whoever holds the lock. */
static void apply_deferred_closes(void)
{
	CK_SESSION_HANDLE pending[HPKI_MAX_DEFERRED];
	size_t n, i;

	pthread_mutex_lock(&deferred_lock);
	n = deferred_count;
	memcpy(pending, deferred, n * sizeof pending[0]);
	deferred_count = 0;
	pthread_mutex_unlock(&deferred_lock);
	for (i = 0; i < n; i++)
		(void)hpki_session_close(pending[i]);
}

bool hpki_defer_session_close(CK_SESSION_HANDLE handle)
{
	bool queued;

	pthread_mutex_lock(&deferred_lock);
	queued = deferred_count < HPKI_MAX_DEFERRED;
	if (queued)
		deferred[deferred_count++] = handle;
	pthread_mutex_unlock(&deferred_lock);
	if (queued)
		hpki_info("session %lu: card busy, closed as soon as its operation ends", (unsigned long)handle);
	return queued;
}

static CK_RV entered(void)
{
	if (!atomic_load(&hpki_module.initialized)) { /* finalised while we waited for the lock */
		hpki_leave();
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	apply_deferred_closes();
	return CKR_OK;
}

CK_RV hpki_enter(void)
{
	if (hpki_check_initialized() != CKR_OK)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	lock_global();
	return entered();
}

CK_RV hpki_enter_within(double seconds)
{
	if (hpki_check_initialized() != CKR_OK)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!lock_global_within(seconds))
		return CKR_FUNCTION_FAILED;
	return entered();
}

void hpki_leave(void)
{
	if (atomic_load(&hpki_module.initialized))
		apply_deferred_closes();
	else if (hpki_module.cleanup_pending && hpki_module.waiters == 0)
		free_model(); /* C_Finalize could not wait for us */
	unlock_global();
}

void hpki_unlock_for_wait(void)
{
	hpki_module.waiters++;
	unlock_global();
}

bool hpki_relock_after_wait(void)
{
	lock_global();
	hpki_module.waiters--;
	if (atomic_load(&hpki_module.initialized))
		return true;
	/* C_Finalize ran meanwhile: not ours to hold any more (free the model if it left
	 * that to us). */
	hpki_leave();
	return false;
}
