/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * make bench-cpu (part of make bench): the module's CPU and heap for one full
 * enumeration, the last two goals of issue 11. Runs under test/with-vcard;
 * test/bench/cpu-and-heap runs it and writes the rows.
 *
 *   bench-cpu enumerate   one enumeration as a browser does it, nothing else; run
 *                         under callgrind with collection toggled on the C_* entry
 *                         points, so the count is the module's inclusive cost
 *                         (its own code, OpenSSL, pcsc-lite's client) and not this
 *                         program's, the dynamic loader's or the exit's.
 *   bench-cpu heap        heap in use (glibc mallinfo2: every arena, plus mmapped
 *                         chunks) before C_Initialize and after the enumeration,
 *                         twice: the first time in the process (with OpenSSL's and
 *                         pcsc-lite's once-per-process state) and after a
 *                         C_Finalize (the module's own model of the card). Prints
 *                         "first=N again=N certificates=N" in bytes; certificates
 *                         is the sum of every certificate object's CKA_VALUE.
 *   bench-cpu openssl     the heap OpenSSL keeps after its first digest in a
 *                         process (configuration, providers, name map, error
 *                         strings): the part of "first" that any use of OpenSSL 3
 *                         costs once per process, module or not.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "p11-helpers.h"

static void check(CK_RV rv, const char *what)
{
	if (rv != CKR_OK) {
		fprintf(stderr, "%s: CK_RV 0x%lx\n", what, (unsigned long)rv);
		exit(1);
	}
}

/* Two calls per attribute, as NSS and p11-kit do: the length, then the value.
 * Returns the value's length (0 when the object has no such attribute). */
static CK_ULONG read_attribute(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_ULONG len;

	if (p11->C_GetAttributeValue(session, object, &a, 1) != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return 0;
	len = a.ulValueLen;
	a.pValue = malloc(len > 0 ? len : 1);
	if (a.pValue == NULL)
		exit(1);
	check(p11->C_GetAttributeValue(session, object, &a, 1), "C_GetAttributeValue");
	free(a.pValue);
	return len;
}

/* What a browser reads of each object (NSS: class, label, ID, then per class). */
static CK_ULONG read_object(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
{
	static const CK_ATTRIBUTE_TYPE common[] = { CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_ID };
	static const CK_ATTRIBUTE_TYPE cert[] = { CKA_CERTIFICATE_TYPE, CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER };
	static const CK_ATTRIBUTE_TYPE key[] = { CKA_KEY_TYPE, CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_SIGN };
	CK_OBJECT_CLASS klass = 0;
	CK_ATTRIBUTE a = { CKA_CLASS, &klass, sizeof klass };
	CK_ULONG der = 0;
	size_t i;

	check(p11->C_GetAttributeValue(session, object, &a, 1), "C_GetAttributeValue(CKA_CLASS)");
	for (i = 0; i < sizeof common / sizeof common[0]; i++)
		read_attribute(session, object, common[i]);
	if (klass == CKO_CERTIFICATE) {
		for (i = 0; i < sizeof cert / sizeof cert[0]; i++)
			read_attribute(session, object, cert[i]);
		der = read_attribute(session, object, CKA_VALUE);
	} else {
		for (i = 0; i < sizeof key / sizeof key[0]; i++)
			read_attribute(session, object, key[i]);
	}
	return der;
}

/* C_Initialize, every slot, token and object; returns the certificates' DER bytes.
 * The module stays initialised (the caller measures, then finalises or exits). */
static CK_ULONG enumerate(void)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i, count, der = 0;
	CK_INFO info;
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO token_info;
	CK_MECHANISM_TYPE mechs[64];
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE objects[32];

	check(p11->C_Initialize(NULL), "C_Initialize");
	check(p11->C_GetInfo(&info), "C_GetInfo");
	check(p11->C_GetSlotList(CK_FALSE, slots, &n), "C_GetSlotList");
	for (i = 0; i < n; i++) {
		CK_ULONG m = 64;

		check(p11->C_GetSlotInfo(slots[i], &slot_info), "C_GetSlotInfo");
		if (!(slot_info.flags & CKF_TOKEN_PRESENT))
			continue;
		check(p11->C_GetTokenInfo(slots[i], &token_info), "C_GetTokenInfo");
		check(p11->C_GetMechanismList(slots[i], mechs, &m), "C_GetMechanismList");
		check(p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session), "C_OpenSession");
		check(p11->C_FindObjectsInit(session, NULL, 0), "C_FindObjectsInit");
		check(p11->C_FindObjects(session, objects, 32, &count), "C_FindObjects");
		check(p11->C_FindObjectsFinal(session), "C_FindObjectsFinal");
		for (CK_ULONG k = 0; k < count; k++)
			der += read_object(session, objects[k]);
		check(p11->C_CloseSession(session), "C_CloseSession");
	}
	return der;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "openssl") == 0) {
		unsigned char digest[EVP_MAX_MD_SIZE];
		size_t before = heap_in_use();

		/* As the module starts OpenSSL (module.c), then one digest. */
		OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
		if (EVP_Digest("x", 1, digest, NULL, EVP_sha256(), NULL) != 1)
			return 1;
		printf("openssl=%zu\n", heap_in_use() - before);
		return 0;
	}
	p11_load();
	if (strcmp(mode, "enumerate") == 0) {
		CK_ULONG der = enumerate();

		printf("certificates=%lu\n", (unsigned long)der);
		return 0; /* no C_Finalize: its cost is not the enumeration's */
	}
	if (strcmp(mode, "heap") == 0) {
		size_t before, first, again;
		CK_ULONG der;

		before = heap_in_use();
		der = enumerate();
		first = heap_in_use() - before;
		check(p11->C_Finalize(NULL), "C_Finalize");
		before = heap_in_use();
		enumerate();
		again = heap_in_use() - before;
		check(p11->C_Finalize(NULL), "C_Finalize");
		printf("first=%zu again=%zu certificates=%lu\n", first, again, (unsigned long)der);
		return 0;
	}
	fprintf(stderr, "usage: bench-cpu enumerate|heap\n");
	return 2;
}
