/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PKCS#11 3.0 interface discovery (PKCS#11 3.0 §5.2), which p11-kit 0.24's
 * pkcs11.h (2.40) lacks. We offer the 2.40 function list through it.
 */
#ifndef HPKI_PKCS11_COMPAT_H
#define HPKI_PKCS11_COMPAT_H

#include <p11-kit/pkcs11.h>

#ifndef CKF_INTERFACE_FORK_SAFE
typedef struct CK_INTERFACE {
	CK_CHAR *pInterfaceName;
	CK_VOID_PTR pFunctionList;
	CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR *CK_INTERFACE_PTR_PTR;
#define CKF_INTERFACE_FORK_SAFE 0x00000001UL
#endif

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion, CK_INTERFACE_PTR_PTR ppInterface,
		     CK_FLAGS flags);

#endif
