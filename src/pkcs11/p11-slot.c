/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cryptoki front: slot and token management (PKCS#11 2.40 §5.5). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "log.h"
#include "module.h"
#include "session.h"
#include "slot.h"
#include "token.h"

CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	CK_SLOT_ID found[HPKI_MAX_READERS * 2];
	CK_ULONG n = 0, i, total;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (pulCount == NULL) {
		hpki_leave();
		return CKR_ARGUMENTS_BAD;
	}
	/* The size query always looks at the readers again (the PKCS#11 2.20+
	 * convention for hot-plugged readers); the second call uses that view. */
	hpki_slots_refresh(pSlotList == NULL);
	total = hpki_slot_count();
	for (i = 0; i < total; i++)
		if (!tokenPresent || hpki_slot_token(i, false) != NULL)
			found[n++] = i;
	if (pSlotList != NULL) {
		if (*pulCount < n)
			rv = CKR_BUFFER_TOO_SMALL;
		else
			memcpy(pSlotList, found, n * sizeof found[0]);
	}
	*pulCount = n;
	hpki_leave();
	return rv;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = hpki_slot_info(slotID, pInfo);
	hpki_leave();
	return rv;
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	struct hpki_token *token;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (hpki_slot_reader(slotID, NULL) == NULL)
		rv = CKR_SLOT_ID_INVALID;
	else if ((token = hpki_slot_token(slotID, false)) == NULL)
		rv = CKR_TOKEN_NOT_PRESENT;
	else {
		rv = hpki_token_info(token, hpki_sessions_context_login_pending(slotID), pInfo);
		pInfo->ulSessionCount = hpki_sessions_on_slot(slotID, false);
		pInfo->ulRwSessionCount = hpki_sessions_on_slot(slotID, true);
	}
	hpki_leave();
	return rv;
}

/* Blocks without the global lock on a PC/SC context of its own; C_Finalize cancels
 * it. Returns with the lock held, except for CKR_CRYPTOKI_NOT_INITIALIZED. */
static CK_RV wait_for_change(void)
{
	struct hpki_slot_wait wait;
	enum hpki_io_status status;

	hpki_slots_prepare_wait(&wait);
	hpki_unlock_for_wait();
	status = hpki_slots_wait(&wait);
	if (!hpki_relock_after_wait())
		return CKR_CRYPTOKI_NOT_INITIALIZED; /* lock released: C_Finalize owns the module now */
	/* Cancelled while still initialised: nothing happened, look and wait again. */
	if (status != HPKI_IO_OK && status != HPKI_IO_TIMEOUT && status != HPKI_IO_CANCELLED) {
		hpki_error("waiting for reader events: %s", hpki_io_status_text(status));
		return CKR_FUNCTION_FAILED;
	}
	return CKR_OK;
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	CK_SLOT_ID slot;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (pSlot == NULL || pReserved != NULL) {
		hpki_leave();
		return CKR_ARGUMENTS_BAD;
	}
	for (;;) {
		if (hpki_slots_take_event(true, &slot)) {
			*pSlot = slot;
			break;
		}
		if (flags & CKF_DONT_BLOCK) {
			rv = CKR_NO_EVENT;
			break;
		}
		if (!hpki_slots_have_context()) {
			rv = CKR_FUNCTION_FAILED;
			break;
		}
		rv = wait_for_change();
		if (rv == CKR_CRYPTOKI_NOT_INITIALIZED)
			return rv; /* without the lock: see hpki_relock_after_wait() */
		if (rv != CKR_OK)
			break;
	}
	hpki_leave();
	return rv;
}

static CK_RV token_for_mechanisms(CK_SLOT_ID slotID, struct hpki_token **token)
{
	if (hpki_slot_reader(slotID, NULL) == NULL)
		return CKR_SLOT_ID_INVALID;
	*token = hpki_slot_token(slotID, false);
	return *token == NULL ? CKR_TOKEN_NOT_PRESENT : CKR_OK;
}

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount)
{
	CK_MECHANISM_TYPE list[32];
	struct hpki_token *token;
	size_t n;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (pulCount == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = token_for_mechanisms(slotID, &token);
	if (rv == CKR_OK) {
		n = hpki_mech_list(&token->caps, list, 32);
		if (pMechanismList != NULL && *pulCount < n)
			rv = CKR_BUFFER_TOO_SMALL;
		else if (pMechanismList != NULL)
			memcpy(pMechanismList, list, n * sizeof list[0]);
		*pulCount = (CK_ULONG)n;
	}
	hpki_leave();
	return rv;
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	struct hpki_token *token;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = token_for_mechanisms(slotID, &token);
	if (rv == CKR_OK)
		rv = hpki_mech_info(&token->caps, type, pInfo);
	hpki_leave();
	return rv;
}

/* The card cannot be initialised or have its PIN changed through the guideline's
 * command set (G31 §5.1.2 (9)): the token is write-protected. */
CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel)
{
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (hpki_slot_reader(slotID, NULL) == NULL)
		rv = CKR_SLOT_ID_INVALID;
	else if (hpki_slot_token(slotID, false) == NULL)
		rv = CKR_TOKEN_NOT_PRESENT;
	else
		rv = CKR_TOKEN_WRITE_PROTECTED;
	hpki_leave();
	return rv;
}
