/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fuzzers' reader: a transport ops table (src/card/transport.h) with one
 * reader and one card, whose answers come either from the fuzz input (replay) or
 * from a card callback (the in-process virtual card), optionally recorded in the
 * replay format so that a real session becomes a seed input.
 *
 * It also defines `hpki_transport_pcsc` and `hpki_io_status_text`, so a fuzz
 * target links the module's and the driver's sources with this file in place of
 * transport-pcsc.c: module.c then talks to this reader with no change in src/.
 *
 * Replay format (what the fuzzer mutates):
 *   ATR:       1 byte n (taken mod HPKI_ATR_MAX + 1), then n bytes
 *   answers:   per APDU the module sends, 2 bytes big-endian L, then
 *              L <  0xFF00: L bytes of response (data + SW1 SW2), cut at the end of input
 *              L >= 0xFF00: no response; the transmit fails with I/O status
 *                           1 + (L & 0xFF) % 9 (no card, reset, … see enum hpki_io_status)
 *   end of input: every further transmit answers HPKI_IO_NO_CARD (card pulled).
 */
#ifndef HPKI_FUZZ_READER_H
#define HPKI_FUZZ_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"

#define HPKI_FUZZ_READER_NAME "HPKI Fuzz Reader 00 00"
#define HPKI_FUZZ_IO_MARK 0xFF00u

/* A live card behind the reader (the virtual card in the API fuzzer and the recorder). */
struct hpki_fuzz_card {
	void *card;
	/* Answers one command APDU; returns the response length (data + SW), 0 = mute. */
	size_t (*process)(void *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp);
	size_t (*atr)(void *card, uint8_t *atr, size_t max);
	void (*reset)(void *card);
};

/* What the reader saw; the targets assert on it. */
struct hpki_fuzz_counters {
	unsigned long apdus;
	unsigned long verify_with_data; /* VERIFY (INS 20) carrying a PIN: Lc present */
	unsigned long transactions;
};
extern struct hpki_fuzz_counters hpki_fuzz_counters;

/*
 * The PIN rule of the README ("one C_Login is exactly one VERIFY"), checked per
 * login window: a window opens at each C_Login and lasts until the next one, so the
 * rule holds whether the module sends the VERIFY inside C_Login or defers it to the
 * operation the login is for (e.g. a context-specific login and its signature in one
 * transaction). hpki_fuzz_login_begin() opens a window (call it just before C_Login);
 * hpki_fuzz_check_verifies() abort()s when the current window holds more than one
 * VERIFY with a PIN, or when one was sent before any C_Login of the run.
 */
void hpki_fuzz_login_begin(void);
void hpki_fuzz_check_verifies(const char *after);

/* Answers come from `data` (replay format above). The buffer must outlive the run. */
void hpki_fuzz_reader_replay(const uint8_t *data, size_t size);
/* Answers come from `card`; with `record` true, every answer is appended to a
 * buffer in replay format (hpki_fuzz_reader_recording). */
void hpki_fuzz_reader_live(const struct hpki_fuzz_card *card, bool record);
/* The recording so far (ATR first); valid until the next hpki_fuzz_reader_* call. */
const uint8_t *hpki_fuzz_reader_recording(size_t *len);
/* The next transmit answers HPKI_IO_CARD_RESET once (and resets a live card):
 * another process reset the card. */
void hpki_fuzz_reader_inject_reset(void);
/* Frees the recording buffer. */
void hpki_fuzz_reader_free(void);

#endif
