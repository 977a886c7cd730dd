/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Settings of the module (from the environment at C_Initialize) and its clock. */
#ifndef HPKI_SETTINGS_H
#define HPKI_SETTINGS_H

#include <stdbool.h>

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
	/* End this process's card-side logins by a card reset at C_Logout, last session
	 * closed and C_Finalize (HPKI_PKCS11_LOGOUT_RESET=1, default; 0 keeps them). */
	bool logout_reset;
	/* The per-user card cache (doc/card-cache.md): HPKI_PKCS11_CACHE=off|confirm|on
	 * (on by default), HPKI_PKCS11_CACHE_DIR, else $XDG_CACHE_HOME/hpki-pkcs11, else
	 * ~/.cache/hpki-pkcs11. NULL when off or no directory can be named. */
	const char *cache_dir;
	/* "on": a card that stayed in the reader since a process of this user proved it
	 * is not asked again (warm start); "confirm": it always proves itself. */
	bool warm_start;
};

/* Reads the environment (HPKI_PKCS11_REFRESH_INTERVAL, HPKI_PKCS11_TOKENS,
 * HPKI_PKCS11_LOGOUT_RESET, HPKI_PKCS11_CACHE*). */
void hpki_settings_load(void);
const struct hpki_config *hpki_settings(void);

/* Monotonic seconds. */
double hpki_now(void);

#endif
