/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-vcard --replay REPORT: a card that answers like the card an `hpki-tool
 * diagnose` report describes (issue 13, doc/reporting-a-card.md).
 *
 * The report has no file contents and no certificate, so the card model plays the
 * layout the report shows (JMA FIDs or JAHIS SFIs, extended length or not, the
 * card-padding 2019 signature when MSE is unknown) with the test certificates of the
 * same key size; on top of it, every SELECT of an application, every MSE SET and
 * the past-the-end READ BINARY the report recorded is answered exactly as recorded
 * (status word and FCI), and the ATR is the reported one.
 */
#ifndef HPKI_VCARD_REPLAY_H
#define HPKI_VCARD_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "vcard.h"

struct vcard_replay;

/* The one replay of this process (NULL: none); vpcd.c consults it. */
extern struct vcard_replay *vcard_replay_active;

/* Reads the report and adjusts *config (profile, extended length, holder). NULL on
 * error with the reason in *error. */
struct vcard_replay *vcard_replay_load(const char *path, struct vcard_config *config, const char **error);
void vcard_replay_free(struct vcard_replay *replay);

/* The reported ATR, or 0 to keep the card model's. */
size_t vcard_replay_atr(const struct vcard_replay *replay, uint8_t *atr, size_t max);
/* After the card model answered `cmd` in resp (resp_len bytes, SW included): the
 * recorded answer instead when the report has this exact command. Returns the length. */
size_t vcard_replay_filter(const struct vcard_replay *replay, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
			   size_t resp_len);

#endif
