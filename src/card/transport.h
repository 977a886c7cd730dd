/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reader transport: the small ops table between the card driver and PC/SC.
 * transport-pcsc.c implements it over libpcsclite; unit tests swap in a scripted
 * reader. No PKCS#11 and no HPKI knowledge at this layer.
 */
#ifndef HPKI_TRANSPORT_H
#define HPKI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPKI_ATR_MAX 33
#define HPKI_READER_NAME_MAX 128
/* Largest response an extended APDU can carry: 65536 data bytes + SW1 SW2. */
#define HPKI_RESPONSE_MAX (65536 + 2)
/* Size of a stay mark (SHA-256), see hpki_transport_ops.stay_mark. */
#define HPKI_STAY_MARK_LEN 32

enum hpki_io_status {
	HPKI_IO_OK = 0,
	HPKI_IO_NO_CARD,        /* card removed (SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD) */
	HPKI_IO_CARD_RESET,     /* another process reset the card (SCARD_W_RESET_CARD) */
	HPKI_IO_NO_READER,      /* reader gone (SCARD_E_READER_UNAVAILABLE, SCARD_E_UNKNOWN_READER) */
	HPKI_IO_NO_SERVICE,     /* pcscd not reachable (SCARD_E_NO_SERVICE) */
	HPKI_IO_SHARING,        /* exclusive use by someone else (SCARD_E_SHARING_VIOLATION) */
	HPKI_IO_TIMEOUT,        /* SCARD_E_TIMEOUT: no event within the wait */
	HPKI_IO_CANCELLED,      /* SCARD_E_CANCELLED: wait interrupted on purpose */
	HPKI_IO_UNRESPONSIVE,   /* SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD */
	HPKI_IO_FAILED,         /* anything else; logged where it happened */
};

/* Card presence in a reader as seen by the resource manager. */
struct hpki_reader_state {
	char name[HPKI_READER_NAME_MAX];
	bool present;
	bool mute;          /* a card is there but does not answer */
	uint32_t event_count; /* changes whenever a card is inserted or removed */
	uint8_t atr[HPKI_ATR_MAX];
	size_t atr_len;
};

struct hpki_connection; /* opaque, owned by the transport */

struct hpki_transport_ops {
	/* Context for one process (and one C_Initialize); NULL context is never passed. */
	enum hpki_io_status (*open_context)(void **context);
	void (*close_context)(void *context);
	/* Names of the readers present now; *count <= max. (pcsc: presence, ATR and
	 * event_count are filled too, from a zero-timeout status query.) */
	enum hpki_io_status (*list_readers)(void *context, struct hpki_reader_state *readers, size_t max,
					    size_t *count);
	/* Refreshes presence/ATR/event_count of the given readers, waiting up to timeout_ms for a
	 * change (0 = no wait, UINT32_MAX = forever). HPKI_IO_TIMEOUT when nothing changed.
	 * HPKI_IO_OK at once when the resource manager knows a reader not in the list;
	 * HPKI_IO_NO_READER when a listed reader has gone: list the readers again. */
	enum hpki_io_status (*wait_readers)(void *context, struct hpki_reader_state *readers, size_t count,
					    uint32_t timeout_ms);
	/* Makes a blocked wait_readers return HPKI_IO_CANCELLED. Safe from any thread. */
	void (*cancel_wait)(void *context);

	enum hpki_io_status (*connect)(void *context, const char *reader, struct hpki_connection **conn,
				       uint8_t *atr, size_t *atr_len);
	/* Reconnect after HPKI_IO_CARD_RESET, leaving the card as it is. */
	enum hpki_io_status (*reconnect)(struct hpki_connection *conn);
	void (*disconnect)(struct hpki_connection *conn);
	/* Resets the card (SCardReconnect with SCARD_RESET_CARD): every PIN verification on
	 * it ends, for every process. May be NULL (then logins cannot be ended on the card). */
	enum hpki_io_status (*reset_card)(struct hpki_connection *conn);
	/* PC/SC transaction: exclusive access for a multi-APDU operation. */
	enum hpki_io_status (*begin)(struct hpki_connection *conn);
	void (*end)(struct hpki_connection *conn);
	/* One APDU exchange; *resp_len in: capacity, out: length including SW1 SW2. */
	enum hpki_io_status (*transmit)(struct hpki_connection *conn, const uint8_t *cmd, size_t cmd_len,
					uint8_t *resp, size_t *resp_len);
	/* A digest of what the resource manager says about the card's stay in the reader
	 * (its run, the reader, the reader's card event counter, the ATR): the same mark
	 * later means the card has not left the reader in between (doc/card-cache.md
	 * "Warm start"). False when that cannot be told. No APDU. May be NULL. */
	bool (*stay_mark)(struct hpki_connection *conn, uint8_t mark[HPKI_STAY_MARK_LEN]);
};

/* The real one. */
extern const struct hpki_transport_ops hpki_transport_pcsc;
/* The same with an exclusive connection (SCARD_SHARE_EXCLUSIVE): connect fails with
 * HPKI_IO_SHARING while another program is connected to the card. hpki-tool status
 * uses it so that its SELECTs can never end another program's PIN verification. */
extern const struct hpki_transport_ops hpki_transport_pcsc_exclusive;

const char *hpki_io_status_text(enum hpki_io_status status);

#endif
