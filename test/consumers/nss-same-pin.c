/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An NSS application whose password callback ignores the `retry` flag and answers
 * the same wrong PIN for ever, as pdfsig's -kpw and LibreOffice's dialog do
 * (issue 8 §1). NSS calls C_Login again for as long as the module answers
 * CKR_PIN_INCORRECT; the module must end that loop.
 *
 *   nss-same-pin DBDIR user    TOKEN WRONG        PK11_Authenticate (CKU_USER)
 *   nss-same-pin DBDIR context TOKEN RIGHT WRONG  login with RIGHT, then PK11_Sign
 *                                                 (CKU_CONTEXT_SPECIFIC gets WRONG)
 *
 * Prints "callback=N result=... error=NAME" and exits 0 when the operation failed
 * with SEC_ERROR_BAD_PASSWORD after at most 3 callback calls.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secerr.h>

#define CALLBACK_LIMIT 100 /* the loop this program exists to catch; past it: give up */

static int calls;
static const char *first_pin, *then_pin;

static char *password(PK11SlotInfo *slot, PRBool retry, void *arg)
{
	(void)slot, (void)retry, (void)arg;
	if (++calls > CALLBACK_LIMIT)
		return NULL;
	return PORT_Strdup(calls == 1 && first_pin != NULL ? first_pin : then_pin);
}

static SECStatus sign_once(PK11SlotInfo *slot)
{
	SECKEYPrivateKeyList *keys = PK11_ListPrivKeysInSlot(slot, NULL, NULL);
	unsigned char data[32] = "e-prescription digest (TEST)", out[1024];
	SECItem digest = { siBuffer, data, sizeof data }, sig = { siBuffer, out, 0 };
	SECStatus rv = SECFailure;

	if (keys == NULL || PRIVKEY_LIST_END(PRIVKEY_LIST_HEAD(keys), keys)) {
		fprintf(stderr, "no private key on the token\n");
		return SECFailure;
	}
	sig.len = (unsigned)PK11_SignatureLen(PRIVKEY_LIST_HEAD(keys)->key);
	if (sig.len > 0 && sig.len <= sizeof out)
		rv = PK11_Sign(PRIVKEY_LIST_HEAD(keys)->key, &sig, &digest);
	SECKEY_DestroyPrivateKeyList(keys);
	return rv;
}

int main(int argc, char **argv)
{
	PK11SlotInfo *slot;
	SECStatus rv;
	PRErrorCode err;
	bool context;

	if (argc < 5 || (strcmp(argv[2], "context") == 0 && argc < 6)) {
		fprintf(stderr, "usage: %s DBDIR user|context TOKEN [RIGHT] WRONG\n", argv[0]);
		return 2;
	}
	context = strcmp(argv[2], "context") == 0;
	first_pin = context ? argv[4] : NULL;
	then_pin = context ? argv[5] : argv[4];
	if (NSS_Init(argv[1]) != SECSuccess) {
		fprintf(stderr, "NSS_Init: %s\n", PR_ErrorToName(PR_GetError()));
		return 2;
	}
	PK11_SetPasswordFunc(password);
	slot = PK11_FindSlotByName(argv[3]);
	if (slot == NULL) {
		fprintf(stderr, "no token '%s'\n", argv[3]);
		return 2;
	}
	rv = PK11_Authenticate(slot, PR_TRUE, NULL);
	if (context && rv == SECSuccess) {
		calls = 1; /* the right PIN was the first answer; every later one is wrong */
		rv = sign_once(slot);
	}
	err = rv == SECSuccess ? 0 : PR_GetError();
	printf("callback=%d result=%s error=%s\n", calls, rv == SECSuccess ? "success" : "failure",
	       err != 0 ? PR_ErrorToName(err) : "none");
	PK11_FreeSlot(slot);
	NSS_Shutdown();
	return rv != SECSuccess && calls <= 3 ? 0 : 1;
}
