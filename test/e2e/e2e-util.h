/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the end-to-end tests: a PC/SC client (libpcsclite, talking to the
 * private pcscd of test/with-vcard through PCSCLITE_CSOCK_NAME), the control
 * socket of hpki-vcard (HPKI_VCARD_CONTROL), and reading files the way a driver
 * does. Nothing here calls the card model directly.
 */
#ifndef HPKI_E2E_UTIL_H
#define HPKI_E2E_UTIL_H

#include <winscard.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hpki/cio.h>

#define E2E_RESP_MAX 65538

struct e2e_card {
	SCARDCONTEXT ctx;
	SCARDHANDLE handle;
	char reader[256];
	/* From the card's "status" line. */
	char profile[32];
	char holder[64];
	char data_dir[512];
	bool extended;      /* extended-length=yes */
	bool chaining;      /* chaining=yes */
	bool t0_style;      /* response-mode get-response or wrong-le: follow 61xx / 6Cxx */
};

/* Connects to the first reader with a card and reads the card's status. */
int e2e_connect(struct e2e_card *card);
void e2e_disconnect(struct e2e_card *card);

/* Sends a command APDU; returns SW1SW2 (0 on a transport error) and the data
 * without the SW. With t0_style, 61xx and 6Cxx are followed like a driver does. */
uint16_t e2e_transmit(struct e2e_card *card, const uint8_t *cmd, size_t len, uint8_t *data, size_t *data_len);
/* Same, from hex text such as "00 A4 04 00 05 E8 28 BD 08 0F 00"; data may be NULL. */
uint16_t e2e_apdu(struct e2e_card *card, const char *hex, uint8_t *data, size_t *data_len);
size_t e2e_hex(const char *hex, uint8_t *out, size_t max);

/* Control socket: writes the reply line; returns 0 when it starts with "ok". */
int e2e_ctl(const char *env_name, char *reply, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Value of "key=value" in a reply line, or -1. */
long e2e_field(const char *reply, const char *key);

/* Waits (up to ms) until the reader shows (present) or no longer shows a card. */
bool e2e_wait_presence(struct e2e_card *card, bool present, long ms);

/* Profile facts the tests check against. */
bool e2e_profile_is(const struct e2e_card *card, const char *name);
unsigned e2e_pin_reference(const struct e2e_card *card);

/* SELECT application 1 (signature) or 2 (authentication) by full AID. */
uint16_t e2e_select_app(struct e2e_card *card, int app);
/* Reads a whole EF named by a CIO path: SFI or FID; short reads of ≤ chunk bytes
 * (offset loop) or, with chunk 0, one extended READ BINARY. Returns SW of the end. */
uint16_t e2e_read_path(struct e2e_card *card, const struct hpki_cio_path *path, size_t chunk, uint8_t **out,
		       size_t *out_len);

/* Loads <data_dir>/<sub>/<name>; malloc'd. */
uint8_t *e2e_load_file(const struct e2e_card *card, const char *sub, const char *name, size_t *len);

/* Signs SHA-256(msg) with the current application's key through the card, the
 * profile's way (MSE + PSO with a host-padded block, or 80 2A 00 80); sig is
 * malloc'd. Does not VERIFY. Returns the PSO status word. */
uint16_t e2e_sign(struct e2e_card *card, int app, const uint8_t *msg, size_t msg_len, uint8_t **sig,
		  size_t *sig_len);
/* VERIFY with the PIN in text; NULL = no data (ask for the tries left). */
uint16_t e2e_verify(struct e2e_card *card, const char *pin);

#endif
