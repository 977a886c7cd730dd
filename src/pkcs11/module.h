/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Module-wide state: initialisation, locking and fork detection. Every Cryptoki
 * entry point goes through hpki_enter()/hpki_leave().
 */
#ifndef HPKI_MODULE_H
#define HPKI_MODULE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

struct hpki_module {
	atomic_bool initialized; /* read without the lock (C_GetInfo, fast paths) */
	pid_t pid;
	int waiters;        /* threads inside C_WaitForSlotEvent */
	/* C_Finalize returned while a card operation still held the lock: whoever holds
	 * it last (hpki_leave, a waiter leaving) frees the model. */
	atomic_bool cleanup_pending;
};

extern struct hpki_module hpki_module;

struct hpki_transport_ops;
/* Tests only: the transport C_Initialize hands to the slot layer (NULL = PC/SC). */
void hpki_module_set_transport(const struct hpki_transport_ops *ops);

/* C_Initialize / C_Finalize bodies. */
CK_RV hpki_module_initialize(const CK_C_INITIALIZE_ARGS *args);
CK_RV hpki_module_finalize(void);

/* Checks initialisation (and the pid: a forked child must C_Initialize again) and takes the lock. */
CK_RV hpki_enter(void);
/*
 * The same for calls that need no card (issue 8 §3): waits at most `seconds` for a
 * lock held by card I/O. CKR_FUNCTION_FAILED when it stayed busy, lock not held;
 * the caller then answers from published state or defers its work.
 */
#define HPKI_NO_CARD_WAIT 0.05
CK_RV hpki_enter_within(double seconds);
/* Initialised in this process, without the lock (C_GetInfo). */
CK_RV hpki_check_initialized(void);
/* C_CloseSession while card I/O holds the lock: closed when the holder leaves. */
bool hpki_defer_session_close(CK_SESSION_HANDLE handle);
void hpki_leave(void);
/* Releases the lock for a blocking wait and takes it again. Returns false, with
 * the lock NOT held, when C_Finalize ran meanwhile. */
void hpki_unlock_for_wait(void);
bool hpki_relock_after_wait(void);

#endif
