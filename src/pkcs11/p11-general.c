/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cryptoki front: general-purpose functions and the function list (PKCS#11 2.40 §5.4). */
#include "config.h"

#include <string.h>

#include "log.h"
#include "module.h"
#include "pkcs11-compat.h"
#include "token.h"

/* G31 §5.2.2 (4): libraryDescription names the HPKI profile version. */
static const char *library_description(void)
{
	switch (HPKI_BUILD_APPS) {
	case HPKI_BUILD_SIGNATURE:
		return "HPKI 3.0 signature";
	case HPKI_BUILD_AUTHENTICATION:
		return "HPKI 3.0 authentication";
	default:
		return "HPKI 3.0";
	}
}

static CK_FUNCTION_LIST function_list;

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
	return hpki_module_initialize((const CK_C_INITIALIZE_ARGS *)pInitArgs);
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
	if (pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	return hpki_module_finalize();
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL) {
		hpki_leave();
		return CKR_ARGUMENTS_BAD;
	}
	memset(pInfo, 0, sizeof *pInfo);
	pInfo->cryptokiVersion.major = 2;
	pInfo->cryptokiVersion.minor = 40;
	hpki_pad_field(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "hpki-pkcs11 project");
	hpki_pad_field(pInfo->libraryDescription, sizeof pInfo->libraryDescription, library_description());
	pInfo->libraryVersion.major = 0;
	pInfo->libraryVersion.minor = 1;
	hpki_leave();
	return CKR_OK;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &function_list;
	return CKR_OK;
}

static CK_INTERFACE interfaces[] = {
	{ (CK_CHAR *)"PKCS 11", &function_list, 0 },
};

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
	const CK_ULONG count = sizeof interfaces / sizeof interfaces[0];

	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	if (pInterfacesList == NULL) {
		*pulCount = count;
		return CKR_OK;
	}
	if (*pulCount < count) {
		*pulCount = count;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(pInterfacesList, interfaces, sizeof interfaces);
	*pulCount = count;
	return CKR_OK;
}

CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion, CK_INTERFACE_PTR_PTR ppInterface,
		     CK_FLAGS flags)
{
	if (ppInterface == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppInterface = NULL;
	if (pInterfaceName != NULL && strcmp((const char *)pInterfaceName, "PKCS 11") != 0)
		return CKR_ARGUMENTS_BAD;
	if (pVersion != NULL && (pVersion->major != 2 || pVersion->minor != 40))
		return CKR_ARGUMENTS_BAD;
	if ((flags & ~interfaces[0].flags) != 0)
		return CKR_ARGUMENTS_BAD;
	*ppInterface = &interfaces[0];
	return CKR_OK;
}

static CK_FUNCTION_LIST function_list = {
	{ 2, 40 },
	C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList,
	C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo,
	C_InitToken, C_InitPIN, C_SetPIN,
	C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo,
	C_GetOperationState, C_SetOperationState, C_Login, C_Logout,
	C_CreateObject, C_CopyObject, C_DestroyObject, C_GetObjectSize,
	C_GetAttributeValue, C_SetAttributeValue,
	C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal,
	C_EncryptInit, C_Encrypt, C_EncryptUpdate, C_EncryptFinal,
	C_DecryptInit, C_Decrypt, C_DecryptUpdate, C_DecryptFinal,
	C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal,
	C_SignInit, C_Sign, C_SignUpdate, C_SignFinal, C_SignRecoverInit, C_SignRecover,
	C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover,
	C_DigestEncryptUpdate, C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate,
	C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey,
	C_SeedRandom, C_GenerateRandom,
	C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent,
};
