/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a card operation came to, at every level of the card library (APDU exchange
 * and driver). The PKCS#11 layer turns it into a CK_RV in one place.
 */
#ifndef HPKI_CARD_STATUS_H
#define HPKI_CARD_STATUS_H

enum hpki_card_status {
	HPKI_CARD_OK = 0,
	HPKI_CARD_REMOVED,          /* card or reader gone */
	HPKI_CARD_NOT_HPKI,         /* no HPKI application answers */
	HPKI_CARD_PIN_INCORRECT,    /* 63Cx, x > 0 */
	HPKI_CARD_PIN_LOCKED,       /* 6983, 6984, 63C0 */
	HPKI_CARD_NOT_AUTHENTICATED,/* 6982: security status not satisfied */
	HPKI_CARD_BAD_RESPONSE,     /* truncated, oversized or malformed answer, unexpected SW */
	HPKI_CARD_UNSUPPORTED,      /* the card cannot do what was asked */
	HPKI_CARD_DATA_INVALID,     /* input does not fit the key */
	HPKI_CARD_IO_ERROR,         /* PC/SC failed */
	HPKI_CARD_BUSY,             /* another process holds the card exclusively */
	HPKI_CARD_NO_MEMORY,
};

const char *hpki_card_status_text(enum hpki_card_status status);

#endif
