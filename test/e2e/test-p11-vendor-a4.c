/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An HPKI application as vendors write it from the JAHIS guideline's A.4 sequence
 * and the MEDIS sample code (card-fidelity §1.3, §5): the per-application library,
 * the first slot of C_GetSlotList(TRUE), objects found by the fixed CKA_LABELs of
 * G31 §5.2.2 table 3, the key also found by CKA_MODULUS + CKA_PUBLIC_EXPONENT taken
 * from the certificate, CKM_RSA_PKCS over a SHA-256 DigestInfo built by the
 * application, and C_Login → C_Sign → C_Logout around every signature — with no
 * CKU_CONTEXT_SPECIFIC login, which that code never does. Every signature is
 * verified with OpenSSL against the certificate read through the module, which
 * must be the holder's certificate of the test PKI.
 *
 * Environment: HPKI_MODULE = hpki-sig-pkcs11.so or hpki-auth-pkcs11.so,
 * HPKI_A4_APP = sig | auth, HPKI_A4_HOLDER (default doctor).
 * The second test, a long authentication session (one C_Login, signatures 0, 2 and
 * 5 s later, as a browser's TLS session does), runs for HPKI_A4_APP=auth.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p11-helpers.h"

#define LABEL_EE "HPKI END ENTITY CERTIFICATE"
#define LABEL_KEY "Private key of HPKI"
#define LABEL_MHLW "MHLW CA CERTIFICATE"

static bool signature_app;
static const char *pin;

/* SHA-256 DigestInfo prefix (RFC 8017 §9.2 note 1), as the sample builds with i2d_X509_SIG. */
static const unsigned char sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					       0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

static int setup(void **state)
{
	const char *app = getenv("HPKI_A4_APP");

	(void)state;
	signature_app = app != NULL && strcmp(app, "sig") == 0;
	pin = signature_app ? "5678" : "1234";
	p11_load();
	p11_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	p11_finalize();
	return 0;
}

/* The sample's (5)–(7): the size query, the list, the first slot. */
static CK_SESSION_HANDLE open_first_slot(CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[8];
	CK_ULONG count = 0;
	CK_SESSION_HANDLE session;

	assert_int_equal(p11->C_GetSlotList(CK_TRUE, NULL, &count), CKR_OK);
	assert_int_equal(count, 1); /* one application, one slot */
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
	assert_int_equal(slots[0], 0); /* G31 A.4 takes pSlotList[0]: slot 0 */
	*slot = slots[0];
	assert_int_equal(p11->C_OpenSession(*slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	return session;
}

/* Finds by class + CKA_TOKEN + CKA_LABEL, as the sample's (8)–(9) and (15)–(17); asks
 * for one handle and expects exactly one. */
static CK_OBJECT_HANDLE find_by_label(CK_SESSION_HANDLE session, CK_OBJECT_CLASS klass, const char *label)
{
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE template[] = {
		{ CKA_CLASS, &klass, sizeof klass },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
	};
	CK_OBJECT_HANDLE found[2];
	CK_ULONG count = 0;

	assert_int_equal(p11->C_FindObjectsInit(session, template, 3), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, found, 2, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	assert_int_equal(count, 1);
	return found[0];
}

/* The key found from the certificate's public key (G31 A.4: CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT), which must be the same object as the labelled one. */
static CK_OBJECT_HANDLE find_by_public_key(CK_SESSION_HANDLE session, X509 *cert)
{
	CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char modulus[1024], exponent[16];
	CK_ATTRIBUTE template[3] = { { CKA_CLASS, &klass, sizeof klass } };
	CK_OBJECT_HANDLE found[2];
	CK_ULONG count = 0;

	assert_int_equal(EVP_PKEY_get_bn_param(X509_get0_pubkey(cert), "n", &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(X509_get0_pubkey(cert), "e", &e), 1);
	template[1] = (CK_ATTRIBUTE){ CKA_MODULUS, modulus, (CK_ULONG)BN_bn2bin(n, modulus) };
	template[2] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, exponent, (CK_ULONG)BN_bn2bin(e, exponent) };
	assert_int_equal(p11->C_FindObjectsInit(session, template, 3), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, found, 2, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	BN_free(n);
	BN_free(e);
	assert_int_equal(count, 1);
	return found[0];
}

/* The certificate read through the module is the holder's of the test PKI. */
static X509 *read_end_entity(CK_SESSION_HANDLE session)
{
	CK_OBJECT_HANDLE object = find_by_label(session, CKO_CERTIFICATE, LABEL_EE);
	char path[512];
	size_t expected_len;
	CK_ULONG len;
	unsigned char *der = p11_attr(session, object, CKA_VALUE, &len);
	unsigned char *expected;
	const unsigned char *p = der;
	X509 *cert;
	const char *holder = getenv("HPKI_A4_HOLDER");

	test_pki_path(path, sizeof path, holder != NULL ? holder : "doctor",
		      signature_app ? "sig.crt.der" : "auth.crt.der");
	expected = read_file(path, &expected_len);
	assert_non_null(expected);
	assert_int_equal(len, expected_len);
	assert_memory_equal(der, expected, expected_len);
	cert = d2i_X509(NULL, &p, (long)len);
	assert_non_null(cert);
	free(der);
	free(expected);
	return cert;
}

static void verify_with_openssl(X509 *cert, const char *message, const unsigned char *sig, CK_ULONG sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)message, strlen(message)), 1);
	EVP_MD_CTX_free(ctx);
}

/* (19)–(24): the application hashes, builds the DigestInfo, signs with CKM_RSA_PKCS. */
static void sign_digest_info(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key, X509 *cert, const char *message)
{
	CK_MECHANISM mechanism = { CKM_RSA_PKCS, NULL, 0 };
	unsigned char digest_info[sizeof sha256_prefix + 32], sig[512];
	CK_ULONG sig_len = sizeof sig;

	memcpy(digest_info, sha256_prefix, sizeof sha256_prefix);
	assert_int_equal(EVP_Digest(message, strlen(message), digest_info + sizeof sha256_prefix, NULL, EVP_sha256(),
				    NULL),
			 1);
	assert_int_equal(p11->C_SignInit(session, &mechanism, key), CKR_OK);
	assert_int_equal(p11->C_Sign(session, digest_info, sizeof digest_info, sig, &sig_len), CKR_OK);
	assert_int_equal(sig_len, (CK_ULONG)EVP_PKEY_get_size(X509_get0_pubkey(cert)));
	verify_with_openssl(cert, message, sig, sig_len);
}

/* Login, find the key, sign, logout — once per document, three documents. */
static void test_login_sign_logout_per_signature(void **state)
{
	static const char *const documents[] = { "referral letter", "medical certificate", "e-prescription" };
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session = open_first_slot(&slot);
	X509 *cert = read_end_entity(session);
	long verifies = vcard_stat("verify_pin");

	(void)state;
	(void)find_by_label(session, CKO_CERTIFICATE, LABEL_MHLW);
	for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++) {
		CK_TOKEN_INFO info;
		CK_OBJECT_HANDLE key;

		assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
		assert_true(info.flags & CKF_LOGIN_REQUIRED);
		assert_int_equal(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin)), CKR_OK);
		key = find_by_label(session, CKO_PRIVATE_KEY, LABEL_KEY);
		assert_int_equal(find_by_public_key(session, cert), key);
		sign_digest_info(session, key, cert, documents[i]);
		assert_int_equal(p11->C_Logout(session), CKR_OK);
	}
	/* One VERIFY per document, none more: the module never re-sends a PIN. */
	assert_int_equal(vcard_stat("verify_pin"), verifies + 3);
	X509_free(cert);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
}

/* A browser's TLS session: one login, signatures now, 2 s and 5 s later. */
static void test_long_authentication_session(void **state)
{
	static const unsigned delays[] = { 0, 2, 3 };
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session = open_first_slot(&slot);
	X509 *cert = read_end_entity(session);
	CK_OBJECT_HANDLE key;
	long verifies = vcard_stat("verify_pin");

	(void)state;
	if (signature_app) {
		/* Not for the signature key: its PIN is asked before every signature. */
		X509_free(cert);
		assert_int_equal(p11->C_CloseSession(session), CKR_OK);
		return;
	}
	assert_int_equal(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin)), CKR_OK);
	key = find_by_label(session, CKO_PRIVATE_KEY, LABEL_KEY);
	for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
		CK_SESSION_INFO info;

		sleep(delays[i]);
		assert_int_equal(p11->C_GetSessionInfo(session, &info), CKR_OK);
		assert_int_equal(info.state, CKS_RO_USER_FUNCTIONS);
		sign_digest_info(session, key, cert, "TLS 1.2 CertificateVerify");
	}
	assert_int_equal(vcard_stat("verify_pin"), verifies + 1);
	assert_int_equal(p11->C_Logout(session), CKR_OK);
	X509_free(cert);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_sign_logout_per_signature),
		cmocka_unit_test(test_long_authentication_session),
	};

	alarm(120);
	return cmocka_run_group_tests(tests, setup, teardown);
}
