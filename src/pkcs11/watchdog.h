/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deadlines that must pass even when the application makes no further call: a
 * PC/SC transaction held from a context-specific login to its signature is ended
 * after HPKI_HOLD_MAX_SECONDS (issue 8 §2), so one stuck application cannot keep
 * every other process away from the card. One thread, started on first use, runs
 * the expiry function under the module's global lock.
 */
#ifndef HPKI_WATCHDOG_H
#define HPKI_WATCHDOG_H

#include <stdbool.h>

typedef void (*hpki_watchdog_fn)(void *key);

/* The module's global lock, taken around every expiry function; lock returns false
 * when the module has been finalised meanwhile. */
void hpki_watchdog_init(bool (*lock)(void), void (*unlock)(void), bool threads_allowed);
/* Calls fn(key) at `deadline` (hpki_now() seconds) unless disarmed first. Caller holds
 * the global lock. False when no thread can run it (the caller then checks lazily). */
bool hpki_watchdog_arm(void *key, double deadline, hpki_watchdog_fn fn);
void hpki_watchdog_disarm(void *key);
/* Stops the thread and forgets every deadline. Caller must NOT hold the global lock. */
void hpki_watchdog_stop(void);

#endif
