/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cryptoki functions an HPKI card cannot serve. The guideline's command set is
 * SELECT, READ BINARY, VERIFY, MSE and PSO CDS only (G31 table 11): no
 * decryption, no key generation, no random numbers, nothing written. Each still
 * checks initialisation and the session first, so callers get the error that
 * explains their situation.
 */
#include "config.h"

#include "module.h"
#include "session.h"

static CK_RV refuse(CK_SESSION_HANDLE hSession, CK_RV rv)
{
	struct hpki_session *session;
	CK_RV check = hpki_enter();

	if (check != CKR_OK)
		return check;
	check = hpki_session_get(hSession, &session, NULL);
	hpki_leave();
	return check != CKR_OK ? check : rv;
}

#define NOT_SUPPORTED CKR_FUNCTION_NOT_SUPPORTED

CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG_PTR l) { return refuse(h, NOT_SUPPORTED); }
CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG l, CK_OBJECT_HANDLE e, CK_OBJECT_HANDLE a)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) { return refuse(h, NOT_SUPPORTED); }
CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR e, CK_ULONG_PTR el)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR e, CK_ULONG_PTR el)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR e, CK_ULONG_PTR el) { return refuse(h, NOT_SUPPORTED); }
CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) { return refuse(h, NOT_SUPPORTED); }
CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR e, CK_ULONG el, CK_BYTE_PTR d, CK_ULONG_PTR dl)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR e, CK_ULONG el, CK_BYTE_PTR d, CK_ULONG_PTR dl)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG_PTR dl) { return refuse(h, NOT_SUPPORTED); }
CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k) { return refuse(h, NOT_SUPPORTED); }
CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) { return refuse(h, NOT_SUPPORTED); }
CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR s, CK_ULONG_PTR sl)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG sl, CK_BYTE_PTR d, CK_ULONG_PTR dl)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG pl, CK_BYTE_PTR e, CK_ULONG_PTR el)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR e, CK_ULONG el, CK_BYTE_PTR p, CK_ULONG_PTR pl)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG pl, CK_BYTE_PTR e, CK_ULONG_PTR el)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR e, CK_ULONG el, CK_BYTE_PTR p, CK_ULONG_PTR pl)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG c, CK_OBJECT_HANDLE_PTR k)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt, CK_ULONG pc,
			CK_ATTRIBUTE_PTR st, CK_ULONG sc, CK_OBJECT_HANDLE_PTR pk, CK_OBJECT_HANDLE_PTR sk)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE w, CK_OBJECT_HANDLE k, CK_BYTE_PTR o,
		CK_ULONG_PTR ol)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE u, CK_BYTE_PTR w, CK_ULONG wl,
		  CK_ATTRIBUTE_PTR t, CK_ULONG c, CK_OBJECT_HANDLE_PTR k)
{
	return refuse(h, NOT_SUPPORTED);
}
CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR t, CK_ULONG c,
		  CK_OBJECT_HANDLE_PTR k)
{
	return refuse(h, NOT_SUPPORTED);
}
/* No CKF_RNG: the card offers no GET CHALLENGE in the guideline (PKCS#11 2.40 §5.15).
 * The session and a NULL buffer are judged first, as for any function: the
 * caller's own error comes before what the token lacks. */
CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG l)
{
	return refuse(h, s == NULL ? CKR_ARGUMENTS_BAD : CKR_RANDOM_NO_RNG);
}
CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR r, CK_ULONG l)
{
	return refuse(h, r == NULL ? CKR_ARGUMENTS_BAD : CKR_RANDOM_NO_RNG);
}
/* Legacy parallel-function calls (PKCS#11 2.40 §5.16). */
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h) { return refuse(h, CKR_FUNCTION_NOT_PARALLEL); }
CK_RV C_CancelFunction(CK_SESSION_HANDLE h) { return refuse(h, CKR_FUNCTION_NOT_PARALLEL); }
