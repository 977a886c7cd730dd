/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scenarios of the fuzz targets, shared with the corpus recorder
 * (fuzz-record.c), which runs them over the virtual card to record seed inputs in
 * exactly the order the targets consume them.
 */
#ifndef HPKI_FUZZ_TARGETS_H
#define HPKI_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz-reader.h"

/* fuzz-card: attach, enumerate, PIN status of each application. */
void hpki_fuzz_card_run(void);

/* fuzz-sign: C_Login / C_SignInit / C_Sign through the PKCS#11 functions; the first
 * HPKI_FUZZ_SIGN_OPTIONS bytes of the input choose slot, mechanism and flow. */
#define HPKI_FUZZ_SIGN_OPTIONS 4
void hpki_fuzz_sign_run(const uint8_t options[HPKI_FUZZ_SIGN_OPTIONS]);

/*
 * fuzz-api: byte 0 chooses the virtual card (hpki_fuzz_variants), then operations,
 * each an opcode byte (taken mod HPKI_FUZZ_OP_COUNT) and its arguments read from
 * the following bytes (missing bytes read as 0). The recorder writes seeds with these.
 */
enum hpki_fuzz_op {
	HPKI_FUZZ_OP_SLOT_LIST,     /* flags (1 tokenPresent, 2 NULL list), capacity */
	HPKI_FUZZ_OP_SLOT_INFO,     /* slot, mechanism */
	HPKI_FUZZ_OP_OPEN,          /* slot, flags (1 no CKF_SERIAL_SESSION, 2 CKF_RW_SESSION) */
	HPKI_FUZZ_OP_CLOSE,         /* session */
	HPKI_FUZZ_OP_FIND,          /* session, template, max, skip-final */
	HPKI_FUZZ_OP_GET_ATTR,      /* session, object, count, count × (type, size) */
	HPKI_FUZZ_OP_LOGIN,         /* session, user type, PIN choice */
	HPKI_FUZZ_OP_LOGOUT,        /* session */
	HPKI_FUZZ_OP_SIGN_INIT,     /* session, mechanism, parameter, object */
	HPKI_FUZZ_OP_SIGN,          /* session, data, output */
	HPKI_FUZZ_OP_SIGN_UPDATE,   /* session, data */
	HPKI_FUZZ_OP_SIGN_FINAL,    /* session, output */
	HPKI_FUZZ_OP_DIGEST_INIT,   /* session, mechanism, parameter */
	HPKI_FUZZ_OP_DIGEST,        /* session, data, output */
	HPKI_FUZZ_OP_DIGEST_UPDATE, /* session, data */
	HPKI_FUZZ_OP_DIGEST_FINAL,  /* session, output */
	HPKI_FUZZ_OP_VERIFY_INIT,   /* session, mechanism, parameter, object */
	HPKI_FUZZ_OP_VERIFY,        /* session, data, signature */
	HPKI_FUZZ_OP_VERIFY_UPDATE, /* session, data */
	HPKI_FUZZ_OP_VERIFY_FINAL,  /* session, signature */
	HPKI_FUZZ_OP_SESSION_INFO,  /* session */
	HPKI_FUZZ_OP_CLOSE_ALL,     /* slot */
	HPKI_FUZZ_OP_REINIT,        /* how: C_Finalize + C_Initialize (NULL or with arguments) */
	HPKI_FUZZ_OP_CARD_RESET,    /* another process resets the card before the next APDU */
	HPKI_FUZZ_OP_EVENT,         /* C_WaitForSlotEvent(CKF_DONT_BLOCK) */
	HPKI_FUZZ_OP_FAULT,         /* kind, SW (2 bytes), size: a one-shot card fault */
	HPKI_FUZZ_OP_MISC,          /* which: C_GetInfo, C_GetObjectSize, random, C_GetOperationState … */
	HPKI_FUZZ_OP_COUNT
};
/* Argument values with a meaning (the rest are taken as raw values or sizes). */
#define HPKI_FUZZ_ARG_DATA_LEN_MAX 255
#define HPKI_FUZZ_PIN_AUTH 0   /* "1234" */
#define HPKI_FUZZ_PIN_SIGN 1   /* "5678" */
#define HPKI_FUZZ_PIN_WRONG 2  /* "0000" */
#define HPKI_FUZZ_PIN_BYTES 3  /* a length byte and that many bytes */
#define HPKI_FUZZ_PIN_NULL 4   /* NULL with a length */

#endif
