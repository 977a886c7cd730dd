/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Module-wide state: initialisation, locking, fork detection, PC/SC contexts and
 * configuration. Every Cryptoki entry point goes through hpki_enter()/hpki_leave().
 */
#ifndef HPKI_MODULE_H
#define HPKI_MODULE_H

#include <stdbool.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

#include "transport.h"

/*
 * Which card applications this build exposes. The multi-application module shows
 * one token per application; the two single-application libraries the JAHIS
 * profile expects (G31 §5.2.2, table 1: HpkiSigP11*, HpkiAuthP11*) show only one,
 * labelled "HPKI Application".
 */
enum hpki_build_apps { HPKI_BUILD_ALL, HPKI_BUILD_SIGNATURE, HPKI_BUILD_AUTHENTICATION };
#ifndef HPKI_BUILD_APPS
#define HPKI_BUILD_APPS HPKI_BUILD_ALL
#endif

struct hpki_config {
	/* Seconds a reader's presence and a PIN counter stay cached (NSS polls every 1 s). */
	double refresh_interval;
	/* Which applications get a token (HPKI_PKCS11_TOKENS=all|auth|sign). Browsers log in
	 * to every token that has certificates, asking for the signature PIN too, and on a
	 * single-channel card that second login ends the first: so in browser processes
	 * only the authentication token is shown unless configured otherwise (OpenSC
	 * shows browsers one slot per card for the same reason, consumer-expectations §3.8). */
	bool show_authentication;
	bool show_signature;
};

struct hpki_module {
	bool initialized;
	pid_t pid;
	const struct hpki_transport_ops *ops;
	/* PC/SC: card I/O and status under the global lock; the transport keeps a second
	 * PC/SC context inside for waits, which pcsc-lite would otherwise serialise. */
	void *io_context;
	int waiters;        /* threads inside C_WaitForSlotEvent */
	struct hpki_config config;
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

/* Opens the PC/SC contexts lazily: pcscd may start after the application. */
bool hpki_module_have_context(void);

double hpki_now(void);

#endif
