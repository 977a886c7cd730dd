/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the virtual card: the file system of each application, the PIN state,
 * the volatile security state and the parsed command APDU. Shared by card.c (APDU
 * transport: parsing, chaining, response delivery, faults), card-commands.c (the
 * ISO 7816-4/-8 commands), card-profile.c (per-profile file layouts built from
 * the test PKI) and card-pin.c (try counters persisted in the state directory).
 */
#ifndef HPKI_VCARD_CARD_INTERNAL_H
#define HPKI_VCARD_CARD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "hpki/card-defs.h"
#include "vcard.h"

#define VCARD_MAX_APPS 2
#define VCARD_MAX_FILES 16
/* Largest Ne of an extended Le field (ISO 7816-4 §5.1: Le 0000 means 65536). */
#define VCARD_MAX_RESPONSE 65536
/* Longest command data a chain may accumulate: a PSO input for RSA-4096 is 512. */
#define VCARD_MAX_CHAIN 4096

#define VCARD_APP_SIGNATURE 1
#define VCARD_APP_AUTHENTICATION 2

struct vcard_file {
	uint16_t fid;
	uint8_t sfi;      /* 0 = not addressable by short EF identifier */
	bool internal;    /* key or PIN IEF: selectable, never readable */
	uint8_t *data;    /* OPENSSL_malloc'd; NULL for internal files */
	size_t len;
};

struct vcard_pin {
	char value[HPKI_PIN_MAX_LEN + 1];
	size_t len;
	int tries_left;
	char *state_path; /* NULL: the counter lives in memory only */
};

struct vcard_app {
	int number;                 /* VCARD_APP_SIGNATURE or VCARD_APP_AUTHENTICATION */
	uint8_t aid[HPKI_AID_LEN];
	struct vcard_file files[VCARD_MAX_FILES];
	size_t file_count;
	int key_file;               /* index in files of the key IEF */
	EVP_PKEY *key;
	uint8_t *modulus;           /* big-endian, modulus_len bytes */
	size_t modulus_len;
	bool user_consent;          /* PIN before every signature (G31 B.4.5) */
	unsigned pin_reference;     /* VERIFY P2 */
	uint8_t mse_tag;            /* 84 key reference (JMA) or 81 file reference (G31 C.5) */
	uint16_t mse_value;
	struct vcard_pin pin;
};

/*
 * Everything a power event drops. Copied before each command, so that a command
 * answered with 6Cxx (to be repeated with the right Le) leaves no trace.
 */
struct vcard_volatile {
	int current_app;             /* index in apps, -1 none */
	int current_ef;              /* index in the current app's files, -1 none */
	bool verified[VCARD_MAX_APPS];
	bool mse_set;                /* MSE SET done since the application was selected */
};

struct vcard_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	bool has_le;
	bool extended;               /* Lc/Le in extended form */
	size_t ne;                   /* expected response length; 0 when Le is absent */
};

struct vcard {
	enum vcard_profile profile;
	enum vcard_apps apps_config;
	bool extended_length;
	bool command_chaining;
	enum vcard_response_mode response_mode;
	struct vcard_quirks quirks;
	char *holder;

	struct vcard_app apps[VCARD_MAX_APPS];
	size_t app_count;
	struct vcard_volatile vol;

	/* Command chaining (ISO 7816-4 §5.1.1.1): header of the first part and the data so far. */
	bool chain_active;
	uint8_t chain_ins, chain_p1, chain_p2, chain_cla;
	uint8_t chain_data[VCARD_MAX_CHAIN];
	size_t chain_len;

	/* Response data waiting for GET RESPONSE, and the SW that ends it. */
	uint8_t pending[VCARD_MAX_RESPONSE];
	size_t pending_len, pending_pos;
	uint16_t pending_sw;
	bool get_response_loop;

	/* What the current command answers, before delivery rules apply. */
	uint8_t reply[VCARD_MAX_RESPONSE];
	size_t reply_len;

	struct vcard_fault fault;
	unsigned fault_left;
	struct vcard_stats stats;

	uint8_t atr[33];
	size_t atr_len;
};

/* card.c */
void vcard_drop_volatile_state(struct vcard *card);

/* card-commands.c: each returns the status word; response data goes to card->reply. */
uint16_t vcard_cmd_select(struct vcard *card, const struct vcard_apdu *apdu);
uint16_t vcard_cmd_read_binary(struct vcard *card, const struct vcard_apdu *apdu);
uint16_t vcard_cmd_verify(struct vcard *card, const struct vcard_apdu *apdu);
uint16_t vcard_cmd_mse(struct vcard *card, const struct vcard_apdu *apdu);
uint16_t vcard_cmd_pso(struct vcard *card, const struct vcard_apdu *apdu);
uint16_t vcard_cmd_legacy_sign(struct vcard *card, const struct vcard_apdu *apdu);

/* card-profile.c */
int vcard_profile_build(struct vcard *card, const struct vcard_config *config, const char **error);
void vcard_profile_free(struct vcard *card);
struct vcard_app *vcard_find_app(struct vcard *card, int number);
int vcard_find_file_by_fid(const struct vcard_app *app, uint16_t fid);
int vcard_find_file_by_sfi(const struct vcard_app *app, uint8_t sfi);

/* card-pin.c */
int vcard_pin_init(struct vcard_pin *pin, const char *value, const char *state_dir, const char *holder,
		   int app_number, const char **error);
void vcard_pin_free(struct vcard_pin *pin);
/* Stores the counter; 0 or -1 when the state file cannot be written. */
int vcard_pin_set_tries(struct vcard_pin *pin, int tries);

#endif
