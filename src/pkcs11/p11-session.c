/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cryptoki front: sessions and login (PKCS#11 2.40 §5.6). */
#include "config.h"

#include "log.h"
#include "module.h"
#include "session.h"
#include "slot.h"
#include "token.h"

CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
		    CK_SESSION_HANDLE_PTR phSession)
{
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (phSession == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (!(flags & CKF_SERIAL_SESSION))
		rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	else if (hpki_slot_reader(slotID, NULL) == NULL)
		rv = CKR_SLOT_ID_INVALID;
	else
		/* RW sessions are allowed (applications insist) but nothing is ever written. */
		rv = hpki_session_open(slotID, flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION), phSession);
	hpki_leave();
	return rv;
}

CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_close(hSession);
	hpki_leave();
	return rv;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (hpki_slot_reader(slotID, NULL) == NULL)
		rv = CKR_SLOT_ID_INVALID;
	else
		hpki_session_close_slot(slotID);
	hpki_leave();
	return rv;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	struct hpki_session *session;
	struct hpki_token *token;
	CK_RV rv = hpki_enter();
	bool rw;

	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL) {
		hpki_leave();
		return CKR_ARGUMENTS_BAD;
	}
	rv = hpki_session_get(hSession, &session, &token);
	if (rv == CKR_OK) {
		/* NSS never caches login state: keep it true to the card (consumer-expectations §4). */
		hpki_token_check_login(token, hpki_sessions_context_login_pending(session->slot));
		rw = (session->flags & CKF_RW_SESSION) != 0;
		pInfo->slotID = session->slot;
		pInfo->flags = session->flags;
		pInfo->ulDeviceError = 0;
		if (token->logged_in)
			pInfo->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
		else
			pInfo->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
	}
	hpki_leave();
	return rv;
}

static CK_RV login_context_specific(struct hpki_session *session, struct hpki_token *token, CK_UTF8CHAR_PTR pin,
				    CK_ULONG pin_len)
{
	CK_RV rv;

	/* PKCS#11 2.40 §5.6: only right after C_SignInit on a key with CKA_ALWAYS_AUTHENTICATE. */
	if (session->sign == NULL || !session->sign_needs_context_login)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = hpki_token_login(token, CKU_CONTEXT_SPECIFIC, pin, pin_len);
	if (rv == CKR_OK)
		session->sign_context_login_done = true;
	return rv;
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	struct hpki_session *session;
	struct hpki_token *token;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, &session, &token);
	if (rv != CKR_OK) {
		hpki_leave();
		return rv;
	}
	switch (userType) {
	case CKU_USER:
		if (token->logged_in)
			rv = CKR_USER_ALREADY_LOGGED_IN;
		else
			rv = hpki_token_login(token, CKU_USER, pPin, ulPinLen);
		break;
	case CKU_CONTEXT_SPECIFIC:
		rv = login_context_specific(session, token, pPin, ulPinLen);
		break;
	case CKU_SO:
		/* The card has no security officer PIN (G31 §5.1.2 (9): one PIN per application).
		 * PKCS#11 2.40 §5.6 C_Login: with the normal user logged in, an SO login
		 * is CKR_USER_ANOTHER_ALREADY_LOGGED_IN whatever else holds. */
		hpki_error("C_Login: CKU_SO is not supported by HPKI cards; nothing sent");
		rv = token->logged_in ? CKR_USER_ANOTHER_ALREADY_LOGGED_IN : CKR_USER_TYPE_INVALID;
		break;
	default:
		rv = CKR_USER_TYPE_INVALID;
		break;
	}
	hpki_leave();
	return rv;
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
	struct hpki_session *session;
	struct hpki_token *token;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, &session, &token);
	if (rv == CKR_OK && !token->logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	else if (rv == CKR_OK) {
		/* Software state only: a card-level logout would also log out other
		 * processes sharing the card (consumer-expectations §2.2). */
		token->logged_in = false;
		hpki_session_end_sign(session);
	}
	hpki_leave();
	return rv;
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	struct hpki_session *session;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, &session, NULL);
	if (rv == CKR_OK)
		rv = CKR_USER_NOT_LOGGED_IN; /* needs an SO session, which this card cannot have */
	hpki_leave();
	return rv;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin,
	       CK_ULONG ulNewLen)
{
	struct hpki_session *session;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, &session, NULL);
	if (rv == CKR_OK && !(session->flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_ONLY;
	else if (rv == CKR_OK)
		/* PIN change is outside the guideline's command set (G31 §5.1.2 (9)). */
		rv = CKR_TOKEN_WRITE_PROTECTED;
	hpki_leave();
	return rv;
}
