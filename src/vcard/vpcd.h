/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card side of vsmartcard's vpcd reader driver (Debian vsmartcard-vpcd 3.3).
 *
 * Wire protocol (testbed-and-consumers.md §1.8, checked on the wire): vpcd listens
 * on TCP PORT (slot 0) and PORT+1 (slot 1); the card connects. Both directions
 * carry frames of a 2-byte big-endian length followed by that many payload bytes.
 * A 1-byte payload from vpcd is a control byte (00 power off, 01 power on,
 * 02 reset, 04 get ATR — only get ATR is answered); a longer payload is a command
 * APDU, answered by one frame with the response APDU. vpcd works in lock-step:
 * it never sends the next request before it has the answer. Closing the
 * connection is a card removal; a new connection is an insertion.
 */
#ifndef HPKI_VCARD_VPCD_H
#define HPKI_VCARD_VPCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcard.h"

/* Maximum payload of one frame: the length field is 16 bits. */
#define VCARD_VPCD_MAX_PAYLOAD 65535u
/* vsmartcard's default port (0x8C7B), also the one in /etc/reader.conf.d/vpcd. */
#define VCARD_VPCD_DEFAULT_PORT 35963u

/* Control bytes (vsmartcard vpcd.h). */
enum vcard_vpcd_ctrl {
	VCARD_VPCD_CTRL_OFF = 0x00,
	VCARD_VPCD_CTRL_ON = 0x01,
	VCARD_VPCD_CTRL_RESET = 0x02,
	VCARD_VPCD_CTRL_ATR = 0x04,
};

struct vcard_vpcd {
	int fd;                 /* -1 while not connected (card removed) */
	char host[64];
	unsigned port;
	size_t have;            /* bytes of the current frame received so far */
	uint8_t frame[2 + VCARD_VPCD_MAX_PAYLOAD];
};

void vcard_vpcd_init(struct vcard_vpcd *vpcd, const char *host, unsigned port);
bool vcard_vpcd_connected(const struct vcard_vpcd *vpcd);

/* One connection attempt. 0 on success; -1 with errno (ECONNREFUSED: vpcd not listening). */
int vcard_vpcd_connect(struct vcard_vpcd *vpcd);
void vcard_vpcd_close(struct vcard_vpcd *vpcd);

/*
 * Reads what the socket has, without blocking, up to the end of one frame.
 * Returns 1 with the payload in *payload and *len when a frame is complete (valid
 * until vcard_vpcd_next_frame), 0 when more bytes are needed, -1 when vpcd
 * closed the connection or the socket failed.
 */
int vcard_vpcd_receive(struct vcard_vpcd *vpcd, const uint8_t **payload, size_t *len);
/* Forgets the frame returned by vcard_vpcd_receive. */
void vcard_vpcd_next_frame(struct vcard_vpcd *vpcd);

/* Sends one frame (len ≤ VCARD_VPCD_MAX_PAYLOAD). 0 on success, -1 on error. */
int vcard_vpcd_send(struct vcard_vpcd *vpcd, const uint8_t *payload, size_t len);

/*
 * What a request frame asks of the card. Runs the card model and, when vpcd
 * expects an answer, fills resp (VCARD_VPCD_RESP_MAX bytes) and *resp_len.
 */
#define VCARD_VPCD_RESP_MAX 65538u /* what vcard_process_apdu may write */
enum vcard_vpcd_action {
	VCARD_VPCD_NO_REPLY,  /* power event, unknown control byte or empty frame */
	VCARD_VPCD_REPLY,     /* send resp */
	VCARD_VPCD_MUTE,      /* card model went mute: simulate removal */
};
enum vcard_vpcd_action vcard_vpcd_dispatch(struct vcard *card, const uint8_t *payload, size_t len,
					   uint8_t *resp, size_t *resp_len);

/* Verbosity of the program (-v): 0 quiet, 1 events, 2 + APDUs. */
extern int vcard_verbosity;
void vcard_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vcard_log_hex(int level, const char *prefix, const uint8_t *data, size_t len);

#endif
