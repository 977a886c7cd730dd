/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card cache across processes (issue 11; doc/card-cache.md): what one full
 * read of a card taught — its directories, certificates and learnt capabilities —
 * stored per user and used again only after the card inserted now has proven to be
 * that card (its end-entity certificates read and compared byte for byte, the
 * cached CA certificates checked to sign them). Public data only: nothing of a PIN.
 * No PKCS#11 types; the caller gives the directory (NULL: no cache).
 */
#ifndef HPKI_CARD_CACHE_H
#define HPKI_CARD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* hpki_card_cache_confirm() and hpki_card_cache_store() are in card-private.h. */

/* card-cache-file.c: the files. Names are 64 hex digits (+ ".hint"). */
bool hpki_cache_file_read(const char *dir, const char *name, uint8_t **data, size_t *len);
bool hpki_cache_file_write(const char *dir, const char *name, const uint8_t *data, size_t len);
/* SHA-256 of a then b (b may be empty), the digest that names and seals the files;
 * false (and zeros) when OpenSSL fails. */
#define HPKI_CACHE_DIGEST_LEN 32
bool hpki_cache_sha256(const void *a, size_t a_len, const void *b, size_t b_len, uint8_t out[HPKI_CACHE_DIGEST_LEN]);
/* len bytes as 2 * len lowercase hex digits and a terminating NUL. */
void hpki_cache_hex(const uint8_t *d, size_t len, char *out);

#endif
