/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "module.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "session.h"
#include "settings.h"
#include "slot.h"

struct hpki_module hpki_module;

/*
 * Locking (PKCS#11 2.40 §5.4, CK_C_INITIALIZE_ARGS): when the application passes
 * mutex callbacks and does not allow OS locking, we must use its callbacks;
 * otherwise we use a pthread mutex. One global lock guards the model and card
 * I/O; C_WaitForSlotEvent drops it while it blocks.
 */
static pthread_mutex_t os_lock = PTHREAD_MUTEX_INITIALIZER;
static CK_C_INITIALIZE_ARGS app_locking;
static void *app_mutex;

/* Serialises C_Initialize/C_Finalize themselves, which run before a lock exists. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_global(void)
{
	if (app_mutex != NULL)
		app_locking.LockMutex(app_mutex);
	else
		pthread_mutex_lock(&os_lock);
}

static void unlock_global(void)
{
	if (app_mutex != NULL)
		app_locking.UnlockMutex(app_mutex);
	else
		pthread_mutex_unlock(&os_lock);
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

/* After fork() the child must not touch the parent's PC/SC contexts or locks. */
static void forget_parent_state(void)
{
	hpki_info("forked child: dropping the parent's state without finalising it");
	memset(&hpki_module, 0, sizeof hpki_module);
	app_mutex = NULL;
	pthread_mutex_init(&os_lock, NULL);
	hpki_slots_forget();
}

CK_RV hpki_module_initialize(const CK_C_INITIALIZE_ARGS *args)
{
	bool use_app_mutex;
	CK_RV rv;

	hpki_log_init();
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
	if (hpki_module.initialized && hpki_module.pid != getpid())
		forget_parent_state();
	if (hpki_module.initialized) {
		pthread_mutex_unlock(&init_lock);
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
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
	hpki_settings_load();
	/* Sessions die with their card: the slot layer reports each removal upwards
	 * through this callback, so it never calls into the session layer itself. */
	hpki_slots_init(&hpki_transport_pcsc, hpki_session_close_slot);
	/* No card I/O here (consumer-expectations §3.1): readers are listed on first use. */
	hpki_module.initialized = true;
	pthread_mutex_unlock(&init_lock);
	hpki_info("initialised (%s locking)", use_app_mutex ? "application" : "OS");
	return CKR_OK;
}

CK_RV hpki_module_finalize(void)
{
	pthread_mutex_lock(&init_lock);
	if (!hpki_module.initialized || hpki_module.pid != getpid()) {
		pthread_mutex_unlock(&init_lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	lock_global();
	hpki_module.initialized = false;
	/* Wake C_WaitForSlotEvent; it returns CKR_CRYPTOKI_NOT_INITIALIZED (PKCS#11 2.40 §5.5). */
	while (hpki_module.waiters > 0) {
		hpki_slots_cancel_wait();
		unlock_global();
		usleep(1000);
		lock_global();
	}
	hpki_sessions_free_all();
	hpki_slots_free();
	unlock_global();
	if (app_mutex != NULL) {
		app_locking.DestroyMutex(app_mutex);
		app_mutex = NULL;
	}
	pthread_mutex_unlock(&init_lock);
	hpki_info("finalised");
	return CKR_OK;
}

CK_RV hpki_enter(void)
{
	if (!hpki_module.initialized || hpki_module.pid != getpid())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	lock_global();
	if (!hpki_module.initialized) { /* finalised while we waited for the lock */
		unlock_global();
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	return CKR_OK;
}

void hpki_leave(void)
{
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
	if (hpki_module.initialized)
		return true;
	/* C_Finalize ran meanwhile and waits for us to leave: not ours to hold any more. */
	unlock_global();
	return false;
}
