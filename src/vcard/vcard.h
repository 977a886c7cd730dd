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

/*
 * Card behaviours that no public source has settled (card-fidelity.md §3, §4, §6):
 * each switch picks one plausible real-card answer. The zero value of every field is
 * today's behaviour of the profiles jma, jahis, jma-2019 and blank; the profile
 * jma-strict turns on the strictest choice of each (vcard_quirks_jma_strict).
 */
enum vcard_df_select {
	VCARD_DF_SELECT_HONOUR_P2,   /* P2=0C: no FCI; P2=00: FCI */
	VCARD_DF_SELECT_ALWAYS_FCI,  /* P2 ignored: the FCI always comes back (risk 1) */
	VCARD_DF_SELECT_REFUSE_NO_FCI, /* P2=0C refused with df_select_sw (G31 C.2.2 has no "no FCI" for DFs) */
};

enum vcard_extended_scope {
	VCARD_EXTENDED_ALL,      /* every command may use extended Lc/Le (when extended_length) */
	VCARD_EXTENDED_PSO_ONLY, /* only PSO: the one extended command proven on JMA cards (fidelity 2.1 #15) */
};

struct vcard_quirks {
	enum vcard_df_select df_select;
	uint16_t df_select_sw;            /* the refusal of P2=0C; 0 = 6A86 */
	bool empty_verify_always_tries;   /* empty VERIFY: 63Cx even when verified (JPKI, OpenSC PR 959) */
	enum vcard_extended_scope extended_scope;
	bool prkd_without_key_reference;  /* EF.PrKD has no keyReference (fidelity 2.1 #9) */
	bool mse_by_file;                 /* MSE reference resolved as an EF: 6A82/6981/6982 (MIYH); PSO w/o MSE 6982 */
	bool reselect_clears_pin;         /* SELECT of the current application drops its verified state */
	bool read_pads_with_ff;           /* EFs read as 256-byte blocks padded with FF, 9000 at the end (GEBO) */
	bool jma_file_inventory;          /* EFs 0008, 0009, 000F as on JMA cards (MIYH table, fidelity §1.1) */
	bool legacy_accepts_iso;          /* jma-2019: MSE + ISO PSO work too, beside 80 2A 00 80 */
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
	struct vcard_quirks quirks; /* all zero: today's behaviour */
	bool ca_shares_key_id;   /* EF.CD gives the issuing CA certificate the key's iD (a test of CKA_ID uniqueness) */
	/* Both applications' EF.CD list their issuing CA (different certificates) under one
	 * iD and FID, as G31 B.4.6's example does: the module must not take one
	 * application's certificate for the other's (issue 11). */
	bool ca_entry_shared;
};

/* The strictest plausible choice of every quirk, plus no chaining and 61xx answers:
 * what the profile jma-strict sets on top of jma. */
void vcard_config_set_jma_strict(struct vcard_config *config);

/* The switches by name (card-switches.c, doc/virtual-card.md): "df-select" etc., and
 * their value names ("always-fci", "refuse-6A81" …). set: 0, or -1 for an unknown
 * switch or value; get writes the value's name. vcard_switch_name(i) lists them, NULL
 * after the last. */
int vcard_switch_set(struct vcard_config *config, const char *name, const char *value);
int vcard_switch_get(const struct vcard_config *config, const char *name, char *buf, size_t size);
const char *vcard_switch_name(size_t index);

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
