/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtual HPKI card: an ISO 7816-4/-15 card that behaves like a JMA 医師資格証
 * (or the JAHIS guideline example). This header is the card model; vpcd.c and
 * main.c put it behind vsmartcard's vpcd reader driver and a control socket.
 */
#ifndef HPKI_VCARD_H
#define HPKI_VCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vcard_profile {
	VCARD_PROFILE_JMA,      /* FIDs 0001–0005/000C/0016, PIN ref 88, MSE tag 84, extended PSO */
	VCARD_PROFILE_JAHIS,    /* G31 annex B example: SFIs 11–1B, PIN ref 96, MSE tag 81 */
	VCARD_PROFILE_JMA_2019, /* older card: 80 2A 00 80 with DigestInfo, short APDUs only */
	VCARD_PROFILE_BLANK,    /* not an HPKI card: no application answers */
};

enum vcard_apps { VCARD_APPS_BOTH, VCARD_APPS_SIGNATURE_ONLY, VCARD_APPS_AUTHENTICATION_ONLY };

/* How a case-4 command's response is delivered. */
enum vcard_response_mode {
	VCARD_RESPONSE_DIRECT,       /* data + 9000 at once (T=1) */
	VCARD_RESPONSE_GET_RESPONSE, /* 61xx, then GET RESPONSE */
	VCARD_RESPONSE_WRONG_LE,     /* 6Cxx when Le is not the exact length */
};

struct vcard_config {
	enum vcard_profile profile;
	enum vcard_apps apps;
	const char *holder;      /* directory name under data_dir, e.g. "doctor" */
	const char *data_dir;    /* test PKI: <data_dir>/<holder>/, <data_dir>/ca/ */
	const char *state_dir;   /* PIN try counters persist here; NULL = not persisted */
	bool extended_length;    /* default: true for jma/jahis, forced false for jma-2019 */
	bool command_chaining;   /* default: true */
	enum vcard_response_mode response_mode;
	const char *auth_pin;    /* default "1234" */
	const char *sign_pin;    /* default "5678" */
};

/* Per-instruction counters; reported by the control socket's "stats" command. */
struct vcard_stats {
	unsigned long apdus;
	unsigned long bytes_in;   /* command APDU bytes */
	unsigned long bytes_out;  /* response APDU bytes, SW included */
	unsigned long per_ins[256];
	unsigned long verify_with_data; /* VERIFY commands that carried a PIN */
};

/* One-shot faults injected by the control socket, applied to the next APDU. */
enum vcard_fault_kind {
	VCARD_FAULT_NONE,
	VCARD_FAULT_STATUS_WORD,   /* answer with `sw` and no data */
	VCARD_FAULT_TRUNCATE,      /* drop all but `size` bytes of the real response (SW lost) */
	VCARD_FAULT_GARBAGE,       /* `size` random bytes */
	VCARD_FAULT_OVERSIZE,      /* real data followed by `size` extra bytes, then the SW */
	VCARD_FAULT_GET_RESPONSE_LOOP, /* 61FF forever, for every following GET RESPONSE too */
	VCARD_FAULT_MUTE,          /* no answer at all: the card disappears (vpcd sees EOF) */
	/* "slow and looping" (issue 8 §3): every command answers 61 00 without data, and
	 * only every `size`-th GET RESPONSE brings one byte (61 00 again); combine with
	 * "delay MS". Lasts until "fault none". */
	VCARD_FAULT_TRICKLE,
};

struct vcard_fault {
	enum vcard_fault_kind kind;
	uint16_t sw;
	size_t size;
	unsigned count;            /* how many APDUs it applies to (0 = 1) */
};

struct vcard;

/* NULL on error, with the reason in *error (static string). */
struct vcard *vcard_new(const struct vcard_config *config, const char **error);
void vcard_free(struct vcard *card);

/* Power events from the reader; all drop the volatile state (selection, PIN-verified). */
void vcard_power_on(struct vcard *card);
void vcard_power_off(struct vcard *card);
void vcard_reset(struct vcard *card);

size_t vcard_atr(const struct vcard *card, uint8_t *atr, size_t max);

/* Processes one command APDU; returns the response length (data + SW1 SW2),
 * 0 only for VCARD_FAULT_MUTE. resp must hold 65538 bytes. */
size_t vcard_process_apdu(struct vcard *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp);

void vcard_set_fault(struct vcard *card, const struct vcard_fault *fault);
/* Corrupts a file's content as read by READ BINARY until the card is freed:
 * "truncate" (cut in half), "huge-length" (DER length field 0x84 FF FF FF FF),
 * "garbage" (random bytes). app: 1 signature, 2 authentication; fid as on the card. */
int vcard_corrupt_file(struct vcard *card, int app, uint16_t fid, const char *how);
const struct vcard_stats *vcard_get_stats(const struct vcard *card);
void vcard_reset_stats(struct vcard *card);
/* Tries left on an application's PIN (1 signature, 2 authentication). */
int vcard_pin_tries_left(const struct vcard *card, int app);

#endif
