/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the signing path through the PKCS#11 functions — C_Login,
 * C_SignInit, C_Login(CKU_CONTEXT_SPECIFIC), C_Sign / C_SignUpdate / C_SignFinal —
 * with the module's sources linked statically over the fuzzers' reader, whose
 * answers (the whole card read, then PIN and signature answers) come from the input.
 *
 * Input: HPKI_FUZZ_SIGN_OPTIONS bytes of options, then the reader's replay stream
 * (fuzz-reader.h). Options:
 *   [0] bit 0: which slot with a token; bit 1: a wrong PIN first, then the right one;
 *       bit 2: multi-part signing; bits 3-4: signatures in the session (1..4);
 *       bit 5: C_Logout and log in again between signatures
 *   [1] mechanism (index into `mechanisms`)
 *   [2] first byte of the data to sign; [3] length of the data to sign
 *
 * The properties asserted (abort() = a finding), from the README's PIN rules:
 * - one C_Login costs at most one VERIFY with a PIN, whatever the card answers
 *   (counted from that C_Login to the next, fuzz-reader.h), and none is sent
 *   before the first C_Login;
 * - a signature returned with CKR_OK has exactly the modulus' length.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "fuzz-mutate.h"
#include "fuzz-targets.h"

static void finding(const char *what)
{
	fprintf(stderr, "fuzz-sign: %s\n", what);
	abort();
}

/* C_Login inside its own window of the PIN rule (fuzz-reader.h). */
static CK_RV checked_login(CK_SESSION_HANDLE s, CK_USER_TYPE user, const char *pin)
{
	CK_RV rv;

	hpki_fuzz_login_begin();
	rv = C_Login(s, user, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	hpki_fuzz_check_verifies(user == CKU_CONTEXT_SPECIFIC ? "C_Login(CKU_CONTEXT_SPECIFIC)" : "C_Login(CKU_USER)");
	return rv;
}

static const CK_RSA_PKCS_PSS_PARAMS pss_sha256 = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
static const CK_RSA_PKCS_PSS_PARAMS pss_sha1 = { CKM_SHA_1, CKG_MGF1_SHA1, 20 };
static const CK_RSA_PKCS_PSS_PARAMS pss_sha512 = { CKM_SHA512, CKG_MGF1_SHA512, 64 };

/* Mechanisms with their parameter and, for raw ones, the input length they expect. */
static const struct {
	CK_MECHANISM mech;
	size_t raw_len; /* 0: hashing mechanism, any data; else the input's length */
	bool digest_info;
} mechanisms[] = {
	{ { CKM_RSA_PKCS, NULL, 0 }, 51, true },
	{ { CKM_SHA256_RSA_PKCS, NULL, 0 }, 0, false },
	{ { CKM_SHA1_RSA_PKCS, NULL, 0 }, 0, false },
	{ { CKM_SHA384_RSA_PKCS, NULL, 0 }, 0, false },
	{ { CKM_SHA512_RSA_PKCS, NULL, 0 }, 0, false },
	{ { CKM_RSA_PKCS_PSS, (void *)&pss_sha256, sizeof pss_sha256 }, 32, false },
	{ { CKM_SHA256_RSA_PKCS_PSS, (void *)&pss_sha256, sizeof pss_sha256 }, 0, false },
	{ { CKM_SHA1_RSA_PKCS_PSS, (void *)&pss_sha1, sizeof pss_sha1 }, 0, false },
	{ { CKM_SHA512_RSA_PKCS_PSS, (void *)&pss_sha512, sizeof pss_sha512 }, 0, false },
};
#define MECHANISM_COUNT (sizeof mechanisms / sizeof mechanisms[0])

/* The DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1), for CKM_RSA_PKCS. */
static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

/* Modulus length in bytes of the session's private key; 0 when unknown. */
static size_t find_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *key, bool *always_auth)
{
	CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE find = { CKA_CLASS, &klass, sizeof klass };
	CK_ULONG found = 0;
	CK_BBOOL aa = CK_FALSE;
	uint8_t modulus[1024];
	CK_ATTRIBUTE attrs[] = { { CKA_MODULUS, modulus, sizeof modulus },
				 { CKA_ALWAYS_AUTHENTICATE, &aa, sizeof aa } };
	size_t i = 0;

	*key = CK_INVALID_HANDLE;
	*always_auth = false;
	if (C_FindObjectsInit(s, &find, 1) != CKR_OK)
		return 0;
	if (C_FindObjects(s, key, 1, &found) != CKR_OK)
		found = 0;
	C_FindObjectsFinal(s);
	if (found != 1)
		return 0;
	if (C_GetAttributeValue(s, *key, attrs, 2) != CKR_OK)
		return 0;
	*always_auth = aa == CK_TRUE;
	while (i < attrs[0].ulValueLen && modulus[i] == 0)
		i++;
	return attrs[0].ulValueLen - i;
}

static void check_signature(CK_RV rv, CK_ULONG len, size_t k)
{
	if (rv == CKR_OK && k != 0 && len != k) {
		fprintf(stderr, "fuzz-sign: CKR_OK with a %lu-byte signature for a %zu-byte modulus\n",
			(unsigned long)len, k);
		abort();
	}
}

static void sign_once(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, bool always_auth, const char *pin, size_t k,
		      const uint8_t options[HPKI_FUZZ_SIGN_OPTIONS])
{
	const size_t m = options[1] % MECHANISM_COUNT;
	CK_MECHANISM mech = mechanisms[m].mech;
	uint8_t data[256], sig[1024];
	size_t data_len = mechanisms[m].raw_len != 0 ? mechanisms[m].raw_len : options[3];
	CK_ULONG sig_len = 0;
	CK_RV rv;

	memset(data, options[2], sizeof data);
	if (mechanisms[m].digest_info)
		memcpy(data, sha256_prefix, sizeof sha256_prefix);
	if (C_SignInit(s, &mech, key) != CKR_OK)
		return;
	if (always_auth)
		(void)checked_login(s, CKU_CONTEXT_SPECIFIC, pin);
	if ((options[0] & 0x04) && mechanisms[m].raw_len == 0) {
		rv = C_SignUpdate(s, data, (CK_ULONG)(data_len / 2));
		if (rv == CKR_OK)
			rv = C_SignUpdate(s, data + data_len / 2, (CK_ULONG)(data_len - data_len / 2));
		if (rv != CKR_OK)
			return; /* the operation ended with the error */
		rv = C_SignFinal(s, NULL, &sig_len);
		if (rv == CKR_OK) {
			sig_len = sizeof sig;
			rv = C_SignFinal(s, sig, &sig_len);
			hpki_fuzz_check_verifies("C_SignFinal");
			check_signature(rv, sig_len, k);
		}
		return;
	}
	rv = C_Sign(s, data, (CK_ULONG)data_len, NULL, &sig_len);
	if (rv != CKR_OK)
		return;
	sig_len = sizeof sig;
	rv = C_Sign(s, data, (CK_ULONG)data_len, sig, &sig_len);
	hpki_fuzz_check_verifies("C_Sign");
	check_signature(rv, sig_len, k);
	if (rv == CKR_BUFFER_TOO_SMALL)
		C_SignFinal(s, NULL, &sig_len); /* end it either way */
}

void hpki_fuzz_sign_run(const uint8_t options[HPKI_FUZZ_SIGN_OPTIONS])
{
	CK_SLOT_ID slots[8], slot;
	CK_ULONG count = sizeof slots / sizeof slots[0];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_TOKEN_INFO info;
	bool always_auth;
	const char *pin;
	size_t k, round, rounds = 1 + ((options[0] >> 3) & 3);

	if (C_Initialize(NULL) != CKR_OK)
		finding("C_Initialize failed");
	if (C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK || count == 0)
		goto out;
	/* Slot 2r is the authentication application, 2r+1 the signature one. */
	slot = slots[(options[0] & 1) % count];
	pin = slot % 2 == 1 ? "5678" : "1234";
	(void)C_GetTokenInfo(slot, &info);
	if (C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		goto out;
	if (options[0] & 0x02)
		(void)checked_login(s, CKU_USER, "0000");
	if (checked_login(s, CKU_USER, pin) != CKR_OK)
		goto close;
	k = find_key(s, &key, &always_auth);
	if (key == CK_INVALID_HANDLE)
		goto close;
	for (round = 0; round < rounds; round++) {
		sign_once(s, key, always_auth, pin, k, options);
		(void)C_GetTokenInfo(slot, &info); /* NSS polls it between operations */
		if ((options[0] & 0x20) && C_Logout(s) == CKR_OK && checked_login(s, CKU_USER, pin) != CKR_OK)
			break;
	}
	(void)C_Logout(s);
close:
	(void)C_CloseSession(s);
out:
	hpki_fuzz_check_verifies("the run");
	if (C_Finalize(NULL) != CKR_OK)
		finding("C_Finalize failed");
}

#ifndef HPKI_FUZZ_RECORDER
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* Half whole answers, half libFuzzer's byte mutations (fuzz-mutate.c). */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	return hpki_fuzz_mutate_replay(data, size, max_size, seed, HPKI_FUZZ_SIGN_OPTIONS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Re-read reader presence on every call: the run must not depend on the clock. */
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t options[HPKI_FUZZ_SIGN_OPTIONS] = { 0 };

	if (size < HPKI_FUZZ_SIGN_OPTIONS)
		return -1; /* not worth keeping in the corpus */
	memcpy(options, data, HPKI_FUZZ_SIGN_OPTIONS);
	hpki_fuzz_reader_replay(data + HPKI_FUZZ_SIGN_OPTIONS, size - HPKI_FUZZ_SIGN_OPTIONS);
	hpki_fuzz_sign_run(options);
	return 0;
}
#endif
