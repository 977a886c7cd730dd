/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cryptoki front: object management (PKCS#11 2.40 §5.7). The card is read-only. */
#include "config.h"

#include "log.h"
#include "module.h"
#include "session.h"
#include "token.h"

/* Enters, looks the session up and, when hObject is given, the object too. */
static CK_RV enter_with_object(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, struct hpki_session **session,
			       struct hpki_object **object)
{
	struct hpki_token *token;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, session, &token);
	if (rv == CKR_OK && object != NULL) {
		/* A private object is not there for a public session (PKCS#11 2.40 §4.4). */
		*object = hpki_token_visible_object(token, hObject);
		if (*object == NULL)
			rv = CKR_OBJECT_HANDLE_INVALID;
	}
	if (rv != CKR_OK)
		hpki_leave();
	return rv;
}

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		     CK_OBJECT_HANDLE_PTR phObject)
{
	struct hpki_session *session;
	CK_RV rv = enter_with_object(hSession, 0, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	rv = (pTemplate == NULL || phObject == NULL) ? CKR_ARGUMENTS_BAD : CKR_TOKEN_WRITE_PROTECTED;
	hpki_leave();
	return rv;
}

CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
		   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
	struct hpki_session *session;
	struct hpki_object *object;
	CK_RV rv = enter_with_object(hSession, hObject, &session, &object);

	if (rv != CKR_OK)
		return rv;
	/* Every object has CKA_COPYABLE false (PKCS#11 2.40 §4.4). */
	rv = phNewObject == NULL ? CKR_ARGUMENTS_BAD : CKR_ACTION_PROHIBITED;
	hpki_leave();
	return rv;
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	struct hpki_session *session;
	struct hpki_object *object;
	CK_RV rv = enter_with_object(hSession, hObject, &session, &object);

	if (rv != CKR_OK)
		return rv;
	hpki_leave();
	return CKR_ACTION_PROHIBITED; /* CKA_DESTROYABLE false */
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
			  CK_ULONG ulCount)
{
	struct hpki_session *session;
	struct hpki_object *object;
	CK_RV rv = enter_with_object(hSession, hObject, &session, &object);

	if (rv != CKR_OK)
		return rv;
	rv = pTemplate == NULL ? CKR_ARGUMENTS_BAD : CKR_ACTION_PROHIBITED; /* CKA_MODIFIABLE false */
	hpki_leave();
	return rv;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	struct hpki_session *session;
	struct hpki_object *object;
	CK_RV rv = enter_with_object(hSession, hObject, &session, &object);

	if (rv != CKR_OK)
		return rv;
	if (pulSize == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		*pulSize = hpki_object_size(object);
	hpki_leave();
	return rv;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
			  CK_ULONG ulCount)
{
	struct hpki_session *session;
	struct hpki_object *object;
	CK_RV rv = enter_with_object(hSession, hObject, &session, &object);

	if (rv != CKR_OK)
		return rv;
	if (pTemplate == NULL && ulCount > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = hpki_object_get_attributes(object, pTemplate, ulCount);
	hpki_leave();
	return rv;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct hpki_session *session;
	struct hpki_token *token;
	size_t i;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, &session, &token);
	if (rv == CKR_OK && session->find_active)
		rv = CKR_OPERATION_ACTIVE;
	else if (rv == CKR_OK && pTemplate == NULL && ulCount > 0)
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK) {
		session->found_count = session->found_next = 0;
		for (i = 0; i < token->object_count; i++)
			if (hpki_object_visible(token, &token->objects[i]) &&
			    hpki_object_matches(&token->objects[i], pTemplate, ulCount))
				session->found[session->found_count++] = token->objects[i].handle;
		session->find_active = true;
	}
	hpki_leave();
	return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
		    CK_ULONG_PTR pulObjectCount)
{
	struct hpki_session *session;
	CK_ULONG n = 0;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, &session, NULL);
	if (rv == CKR_OK && !session->find_active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (rv == CKR_OK && (pulObjectCount == NULL || (phObject == NULL && ulMaxObjectCount > 0)))
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK) {
		while (n < ulMaxObjectCount && session->found_next < session->found_count)
			phObject[n++] = session->found[session->found_next++];
		*pulObjectCount = n;
	}
	hpki_leave();
	return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	struct hpki_session *session;
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, &session, NULL);
	if (rv == CKR_OK && !session->find_active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (rv == CKR_OK)
		session->find_active = false;
	hpki_leave();
	return rv;
}
