/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the virtual card's unit tests (vcard-test-helpers.c). Include
 * after <cmocka.h> and its prerequisites.
 */
#ifndef HPKI_VCARD_TEST_HELPERS_H
#define HPKI_VCARD_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "hpki/card-defs.h"
#include "vcard.h"

#define RESP_MAX 65538

/* One APDU exchange: the response data and SW. */
struct exchange {
	uint8_t data[RESP_MAX];
	size_t len;     /* data bytes, SW excluded */
	uint16_t sw;
	size_t raw_len; /* what vcard_process_apdu returned */
};
extern struct exchange ex;

extern const uint8_t aid_sig[HPKI_AID_LEN];
extern const uint8_t aid_auth[HPKI_AID_LEN];
extern const uint8_t sha256_prefix[19];

struct vcard_config default_config(enum vcard_profile profile, const char *holder);
/* A fresh PIN state directory under the group's temporary directory. */
char *fresh_state_dir(void);
/* A powered card; each gets its own state directory unless config names one. */
struct vcard *card_with(struct vcard_config config);
struct vcard *new_card(enum vcard_profile profile, const char *holder);

uint16_t send_bytes(struct vcard *card, const uint8_t *cmd, size_t len);
/* Hex digits with optional spaces. */
size_t parse_hex(const char *hex, uint8_t *out, size_t max);
uint16_t send_hex(struct vcard *card, const char *hex);
/* Builds header + data + Le, short or extended. le < 0: absent. */
uint16_t send_apdu(struct vcard *card, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
		   size_t lc, long le, bool extended);
uint16_t select_aid(struct vcard *card, const uint8_t *aid, size_t len, uint8_t p2);
/* The last answer is the FCI "6F 12 84 10 <AID>" (G31 C.2.3). */
void assert_fci(const uint8_t *aid);
uint16_t select_fid(struct vcard *card, uint16_t fid);
uint16_t verify_pin(struct vcard *card, uint8_t reference, const char *pin);
uint16_t verify_empty(struct vcard *card, uint8_t reference);

uint8_t *read_pki_file(const char *holder, const char *name, size_t *len);
/* Reads the current EF with short READ BINARYs of 256 until the end (6282 or 6B00). */
size_t read_current_ef_short(struct vcard *card, uint8_t *out);
/* Reads a whole EF by SFI with one extended READ BINARY "00 B0 8s 00 00 00 00". */
size_t read_sfi_extended(struct vcard *card, uint8_t sfi, uint8_t *out);

EVP_PKEY *cert_key(const char *holder, const char *name);
/* EMSA-PKCS1-v1_5 block 00 01 FF… 00 DigestInfo(SHA-256(msg)) of k bytes (RFC 8017 §9.2). */
void pkcs1_block(const char *msg, uint8_t *block, size_t k);
void digest_info(const char *msg, uint8_t *out);
/* True when sig is a valid sha256WithRSAEncryption signature of msg for the certificate. */
bool signature_valid(const char *holder, const char *cert, const char *msg, const uint8_t *sig, size_t len);
/* SELECT AID (P2=0C), SELECT EF 000C, MSE 84 02 00 0C, VERIFY 88. */
void jma_prepare_signature(struct vcard *card, const uint8_t *aid, const char *pin);
uint16_t pso_extended(struct vcard *card, const char *msg, size_t k);

int setup_group(void **state);
int teardown_group(void **state);

/* The lists of tests that test-vcard.c's main() runs besides its own. */
extern const struct CMUnitTest vcard_signature_tests[];   /* test-vcard-signatures.c */
extern const size_t vcard_signature_test_count;
extern const struct CMUnitTest vcard_transport_tests[];   /* test-vcard-transport.c */
extern const size_t vcard_transport_test_count;
extern const struct CMUnitTest vcard_switch_tests[];      /* test-vcard-switches.c (issue 10) */
extern const size_t vcard_switch_test_count;

#endif
