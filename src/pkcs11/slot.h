/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readers and slots: the PC/SC context, the reader table, card presence and the
 * one reading of each inserted card into tokens.
 */
#ifndef HPKI_SLOT_H
#define HPKI_SLOT_H

#include <stdatomic.h>
#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "token.h"
#include "transport.h"


/* Called for each slot whose card went away, so that the layer above closes its
 * sessions (PKCS#11 2.40 §5.6: removing a token closes them). */
typedef void (*hpki_slot_removed_fn)(CK_SLOT_ID slot);

/* At C_Initialize: the transport to use; no PC/SC call yet (consumer-expectations §3.1). */
/* `cancel` goes to every card link: set, it stops card I/O before the next APDU. */
void hpki_slots_init(const struct hpki_transport_ops *ops, hpki_slot_removed_fn on_removed,
		     const atomic_bool *cancel);
/* In a forked child: forget the parent's readers and PC/SC context without touching them. */
void hpki_slots_forget(void);
/* pthread_atfork child handler: re-creates the slot layer's own lock. */
void hpki_slots_after_fork(void);
/* At C_Finalize: frees every card and closes the PC/SC context. */
void hpki_slots_free(void);
/* Opens the PC/SC context lazily: pcscd may start after the application. */
bool hpki_slots_have_context(void);
/* pcscd stopped or restarted: drop every card, reopen the context on next use. */
void hpki_slots_service_lost(void);
/* Makes a blocked hpki_slots_wait() return. Safe from any thread. */
void hpki_slots_cancel_wait(void);
/* Brings readers and card presence up to date (forced, or when older than the
 * refresh interval). New readers appear; none ever disappear. */
void hpki_slots_refresh(bool force);
CK_ULONG hpki_slot_count(void);
/* The mechanism list of a slot's token as published when the card was read, for
 * C_GetMechanismList while card I/O holds the lock: no lock needed.
 * CKR_SLOT_ID_INVALID / CKR_TOKEN_NOT_PRESENT like C_GetMechanismList. */
#define HPKI_PUBLISHED_MECHS 32
CK_RV hpki_slot_mechanisms_published(CK_SLOT_ID slot, CK_MECHANISM_TYPE *list, size_t *count);
/* Publishes the token's mechanism list again (its caps changed: the signing method
 * learnt at the first signature). */
void hpki_slot_publish_mechanisms(const struct hpki_token *token);
/* The slot count without the lock (may lag a reader added this very moment). */
CK_ULONG hpki_slot_count_published(void);
/* NULL when slot_id names no slot. */
struct hpki_reader *hpki_slot_reader(CK_SLOT_ID slot_id, size_t *role_index);
/* Brings a slot's reader up to date (presence at most once per refresh interval,
 * the card read once per insertion) and returns its token or NULL. */
struct hpki_token *hpki_slot_token(CK_SLOT_ID slot_id, bool force_refresh);
CK_RV hpki_slot_info(CK_SLOT_ID slot_id, CK_SLOT_INFO *info);
/* First slot with a pending event (cleared), refreshing every reader first. */
bool hpki_slots_take_event(bool force_refresh, CK_SLOT_ID *slot_id);
/* A blocking wait for reader events: prepared under the module lock, run without it. */
struct hpki_slot_wait {
	const struct hpki_transport_ops *ops;
	void *context;
	struct hpki_reader_state states[HPKI_MAX_READERS];
	size_t count;
};
void hpki_slots_prepare_wait(struct hpki_slot_wait *wait);
enum hpki_io_status hpki_slots_wait(struct hpki_slot_wait *wait);

#endif
