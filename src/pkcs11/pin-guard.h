/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recognises a PIN the card has just refused, without keeping the PIN: a keyed
 * hash (HMAC-SHA-256 under a random key made per process and C_Initialize when
 * first needed),
 * in memory only, never logged or written anywhere (issue 8 §1). A looping
 * application (NSS calls C_Login again for as long as its password callback
 * answers) then cannot burn the card's 15 tries with one wrong password.
 */
#ifndef HPKI_PIN_GUARD_H
#define HPKI_PIN_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPKI_PIN_MARK_LEN 32

/* What is remembered of one refused PIN. */
struct hpki_pin_mark {
	bool set;
	uint8_t mac[HPKI_PIN_MARK_LEN];
};

/* Makes the process key if there is none; false when no random bytes are available. */
bool hpki_pin_guard_start(void);
/* Wipes the process key (C_Finalize, fork). */
void hpki_pin_guard_stop(void);
/* Remembers `pin` as refused by the card (replaces the previous mark). */
void hpki_pin_mark_refused(struct hpki_pin_mark *mark, const uint8_t *pin, size_t pin_len);
/* True when `pin` is the one the card refused last. */
bool hpki_pin_mark_matches(const struct hpki_pin_mark *mark, const uint8_t *pin, size_t pin_len);
/* Forgets the mark (success, logout, removal, finalize). */
void hpki_pin_mark_clear(struct hpki_pin_mark *mark);

#endif
