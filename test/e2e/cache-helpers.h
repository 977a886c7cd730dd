/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card cache as a process sees it: helpers of test-p11-cost.c and test-p11-warm.c. */
#ifndef HPKI_TEST_CACHE_HELPERS_H
#define HPKI_TEST_CACHE_HELPERS_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

/* The cache directory of the run, and HPKI_PKCS11_CACHE for the processes of a test
 * ("confirm": the card proves itself every time; "on": warm start allowed). */
extern char cache_dir[256];
extern const char *cache_mode;

/* An exact count the .e2e script gives (HPKI_COST_*). */
long expected(const char *name);
/* Empties the cache directory and points the module at it, in cache_mode. */
void fresh_cache(void);
/* Removes the cache directory of the run and the files planted beside it (at exit). */
void remove_cache_dir(void);
/* Whether value is the content of test/pki/<holder>/<name>. */
bool same_file(const unsigned char *value, CK_ULONG len, const char *holder, const char *name);
/* A fresh module lists both tokens; every certificate shown must be the holder's or a
 * test CA's, both end-entity certificates shown. Returns the APDUs it cost. */
long list_and_check_holder(const char *holder);
/* Whether the card in the reader now shows the holder's certificate (cache off). */
bool card_shows(const char *holder);
/* The card out of the reader, seen out by pcscd and the module, then `how` ("insert",
 * "swap HOLDER") sent to the virtual card and seen in. */
void card_out_and_in(const char *how);
/* Swaps the card for the holder's and waits until the module sees it. */
void swap_to(const char *holder);
/* fn(path) for every file of the cache directory (at least an entry and its hint). */
void each_cache_file(void (*fn)(const char *path));
void flip_middle(const char *path);
void truncate_half(const char *path);

#endif
