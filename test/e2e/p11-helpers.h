/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for end-to-end tests of the PKCS#11 module: they run under
 * test/with-vcard (private pcscd + vpcd + hpki-vcard), load the built module
 * with dlopen as an application would, and steer the card through its control
 * socket.
 */
#ifndef HPKI_TEST_P11_HELPERS_H
#define HPKI_TEST_P11_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

extern CK_FUNCTION_LIST_PTR p11;

/* dlopen()s $HPKI_MODULE (default: .libs/hpki-pkcs11.so) and fetches the function list. */
void p11_load(void);
/* C_Initialize(NULL) that must succeed. */
void p11_init(void);
void p11_finalize(void);

/* Runs "$HPKI_VCARD ctl [--control SOCK] ARGS"; returns its exit status, reply in out. */
int vcard_ctl(char *out, size_t out_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reads one "name=value" number from the card's "stats" line; -1 if absent. */
long vcard_stat(const char *name);
/* The same two for card `card` of a test bed with several (with-vcard --cards N):
 * 0 is $HPKI_VCARD_CONTROL, c > 0 is $HPKI_VCARD_CONTROL_c; -1 when there is no such card. */
int vcard_ctl_on(int card, char *out, size_t out_size, const char *args);
long vcard_stat_on(int card, const char *name);

/* Slot IDs that have a token, in order; returns the count. */
CK_ULONG p11_token_slots(CK_SLOT_ID *slots, CK_ULONG max);
/* The slot whose token label starts with "HPKI Sign"/"HPKI Auth" (or any, when prefix NULL). */
bool p11_find_token(const char *label_prefix, CK_SLOT_ID *slot);
/* Waits (blocking C_WaitForSlotEvent, bounded by alarm) until `slot` has/lacks a token. */
void p11_wait_token(CK_SLOT_ID slot, bool present);

/* Drops pending slot events (CKF_DONT_BLOCK until CKR_NO_EVENT). */
void p11_drain_events(void);
/* Blocks (bounded by alarm) until C_WaitForSlotEvent reports `slot`. */
void p11_wait_event(CK_SLOT_ID slot);

/* Reads a whole file; NULL on failure. */
unsigned char *read_file(const char *path, size_t *len);
/* $HPKI_VCARD_DATA_DIR/<holder>/<name> (or the source tree's test/pki). */
void test_pki_path(char *out, size_t size, const char *holder, const char *name);

/* Finds exactly one object of `klass` on the session's token (optionally with CKA_ID). */
CK_OBJECT_HANDLE p11_find_one(CK_SESSION_HANDLE session, CK_OBJECT_CLASS klass, const void *id, size_t id_len);
/* Returns an attribute's value (malloc'd) and length. */
void *p11_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, CK_ULONG *len);

#endif
