/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Module-wide state: initialisation, locking and fork detection. Every Cryptoki
 * entry point goes through hpki_enter()/hpki_leave().
 */
#ifndef HPKI_MODULE_H
#define HPKI_MODULE_H

#include <stdbool.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

struct hpki_module {
	bool initialized;
	pid_t pid;
	int waiters;        /* threads inside C_WaitForSlotEvent */
};

extern struct hpki_module hpki_module;

/* C_Initialize / C_Finalize bodies. */
CK_RV hpki_module_initialize(const CK_C_INITIALIZE_ARGS *args);
CK_RV hpki_module_finalize(void);

/* Checks initialisation (and the pid: a forked child must C_Initialize again) and takes the lock. */
CK_RV hpki_enter(void);
void hpki_leave(void);
/* Releases the lock for a blocking wait and takes it again. Returns false, with
 * the lock NOT held, when C_Finalize ran meanwhile. */
void hpki_unlock_for_wait(void);
bool hpki_relock_after_wait(void);

#endif
