/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PKCS#11 to the letter (issue 8 §5, §8): object visibility before and after
 * C_Login (2.40 §4.4), when C_Digest and C_Verify end their operation (§5.10,
 * §5.12), the order of C_Login / random-number errors, the slot event baseline
 * at C_Initialize, the session count, and a CKA_ID shared by a CA certificate
 * and the key on the card. Runs under test/with-vcard like test-p11-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p11-helpers.h"

static const unsigned char message[] = "Rp: amoxicillin 250 mg, 3x daily, 7 days";

static int setup(void **state)
{
	p11_init();
	return 0;
}

static int teardown(void **state)
{
	p11->C_Finalize(NULL);
	return 0;
}

static CK_SESSION_HANDLE open_session(const char *prefix, CK_SLOT_ID *slot_out)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;

	assert_true(p11_find_token(prefix, &slot));
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
	if (slot_out != NULL)
		*slot_out = slot;
	return session;
}

static CK_RV login_user(CK_SESSION_HANDLE session, CK_SLOT_ID slot)
{
	CK_TOKEN_INFO info;
	const char *pin;

	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	pin = memcmp(info.label, "HPKI Sign", 9) == 0 ? "5678" : "1234";
	return p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
}

static CK_ULONG count_objects(CK_SESSION_HANDLE session, CK_OBJECT_CLASS *klass)
{
	CK_ATTRIBUTE t = { CKA_CLASS, klass, sizeof *klass };
	CK_OBJECT_HANDLE found[32];
	CK_ULONG n = 0;

	assert_int_equal(p11->C_FindObjectsInit(session, &t, klass != NULL ? 1 : 0), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, found, 32, &n), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	return n;
}

static CK_BBOOL bool_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL value = 0xAA;
	CK_ATTRIBUTE a = { type, &value, sizeof value };

	assert_int_equal(p11->C_GetAttributeValue(session, object, &a, 1), CKR_OK);
	return value;
}

/* The key's CKA_ID names exactly one certificate, and it certifies that key. */
static void assert_key_pairs_with_its_certificate(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key)
{
	CK_ULONG id_len, n_len, cert_len;
	unsigned char *id = p11_attr(session, key, CKA_ID, &id_len);
	unsigned char *modulus = p11_attr(session, key, CKA_MODULUS, &n_len);
	CK_OBJECT_HANDLE cert = p11_find_one(session, CKO_CERTIFICATE, id, id_len);
	unsigned char *der = p11_attr(session, cert, CKA_VALUE, &cert_len);
	const unsigned char *p = der;
	X509 *x;
	BIGNUM *n = NULL;
	unsigned char cert_modulus[1024];

	x = d2i_X509(NULL, &p, (long)cert_len);
	assert_non_null(x);
	assert_true(EVP_PKEY_get_bn_param(X509_get0_pubkey(x), OSSL_PKEY_PARAM_RSA_N, &n));
	assert_int_equal(BN_num_bytes(n), n_len);
	BN_bn2bin(n, cert_modulus);
	assert_memory_equal(cert_modulus, modulus, n_len);
	BN_free(n);
	X509_free(x);
	free(der);
	free(modulus);
	free(id);
}

/* ---- CKA_PRIVATE: the private key only after C_Login (2.40 §4.4) ------------------ */

static void check_private_key_visibility(const char *prefix)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session = open_session(prefix, &slot), other;
	CK_OBJECT_CLASS private_key = CKO_PRIVATE_KEY, public_key = CKO_PUBLIC_KEY, certificate = CKO_CERTIFICATE;
	CK_ULONG before_all, certs, id_len, len;
	CK_OBJECT_HANDLE pub, key;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_ATTRIBUTE label = { CKA_LABEL, NULL, 0 };
	unsigned char *id;

	/* Public session: certificates and the public key, no private key. */
	assert_int_equal(count_objects(session, &private_key), 0);
	assert_int_equal(count_objects(session, &public_key), 1);
	certs = count_objects(session, &certificate);
	assert_true(certs >= 2);
	before_all = count_objects(session, NULL);
	assert_int_equal(before_all, certs + 1);
	pub = p11_find_one(session, CKO_PUBLIC_KEY, NULL, 0);
	assert_int_equal(bool_attr(session, pub, CKA_PRIVATE), CK_FALSE);
	id = p11_attr(session, pub, CKA_ID, &id_len);
	assert_int_equal(bool_attr(session, p11_find_one(session, CKO_CERTIFICATE, id, id_len), CKA_PRIVATE), CK_FALSE);

	/* Logged in: the key appears, with CKA_PRIVATE true and the certificate's CKA_ID. */
	assert_int_equal(login_user(session, slot), CKR_OK);
	assert_int_equal(count_objects(session, NULL), certs + 2);
	key = p11_find_one(session, CKO_PRIVATE_KEY, id, id_len);
	assert_int_equal(bool_attr(session, key, CKA_PRIVATE), CK_TRUE);
	assert_key_pairs_with_its_certificate(session, key);
	/* Every session of the token sees it (login is per token, §5.6). */
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &other), CKR_OK);
	assert_int_equal(count_objects(other, &private_key), 1);

	/* Logged out: the handle names nothing a public session may see. */
	assert_int_equal(p11->C_Logout(session), CKR_OK);
	assert_int_equal(count_objects(session, &private_key), 0);
	assert_int_equal(count_objects(other, NULL), before_all);
	assert_int_equal(p11->C_GetAttributeValue(session, key, &label, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(p11->C_GetObjectSize(session, key, &len), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(p11->C_VerifyInit(session, &mech, key), CKR_KEY_HANDLE_INVALID);
	/* C_SignInit knows the handle and says what is missing (§5.11). */
	assert_int_equal(p11->C_SignInit(session, &mech, key), CKR_USER_NOT_LOGGED_IN);
	free(id);
	assert_int_equal(p11->C_CloseAllSessions(slot), CKR_OK);
}

static void test_private_key_is_visible_only_after_login(void **state)
{
	CK_SLOT_ID slot;

	if (p11_find_token("HPKI Auth", &slot))
		check_private_key_visibility("HPKI Auth");
	if (p11_find_token("HPKI Sign", &slot))
		check_private_key_visibility("HPKI Sign");
}

/* ---- C_Digest (§5.10) --------------------------------------------------------------- */

static void digest_init(CK_SESSION_HANDLE session)
{
	CK_MECHANISM mech = { CKM_SHA256, NULL, 0 };

	assert_int_equal(p11->C_DigestInit(session, &mech), CKR_OK);
}

/* The operation is over when a new C_DigestInit is accepted. */
static void assert_digest_ended(CK_SESSION_HANDLE session)
{
	CK_BYTE out[64];
	CK_ULONG len = sizeof out;

	assert_int_equal(p11->C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	digest_init(session);
	len = sizeof out;
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, out, &len), CKR_OK);
}

static void test_digest_ends_exactly_when_section_5_10_says(void **state)
{
	CK_SESSION_HANDLE session = open_session(NULL, NULL);
	CK_BYTE out[64], expected[32];
	CK_ULONG len;
	unsigned int expected_len = 0;

	EVP_Digest(message, sizeof message, expected, &expected_len, EVP_sha256(), NULL);

	/* The length query and CKR_BUFFER_TOO_SMALL keep the operation and its data. */
	digest_init(session);
	len = 0;
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, NULL, &len), CKR_OK);
	assert_int_equal(len, 32);
	len = 31;
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, out, &len),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 32);
	len = sizeof out;
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, out, &len), CKR_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(out, expected, 32);
	/* Success ended it. */
	len = sizeof out;
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, out, &len),
			 CKR_OPERATION_NOT_INITIALIZED);

	/* After a C_Digest length query only C_Digest may finish: C_DigestFinal is
	 * refused, and that refusal ends the operation (§5.10 C_DigestFinal). */
	digest_init(session);
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, NULL, &len), CKR_OK);
	len = sizeof out;
	assert_int_equal(p11->C_DigestFinal(session, out, &len), CKR_OPERATION_ACTIVE);
	assert_digest_ended(session);
	/* … and C_DigestUpdate likewise (an error of C_DigestUpdate ends it). */
	digest_init(session);
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, NULL, &len), CKR_OK);
	assert_int_equal(p11->C_DigestUpdate(session, (CK_BYTE_PTR)message, sizeof message), CKR_OPERATION_ACTIVE);
	assert_digest_ended(session);

	/* C_Digest after C_DigestUpdate: CKR_OPERATION_ACTIVE, and the operation is over. */
	digest_init(session);
	assert_int_equal(p11->C_DigestUpdate(session, (CK_BYTE_PTR)message, 10), CKR_OK);
	len = sizeof out;
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, out, &len),
			 CKR_OPERATION_ACTIVE);
	assert_digest_ended(session);

	/* Argument errors end it too. */
	digest_init(session);
	assert_int_equal(p11->C_Digest(session, (CK_BYTE_PTR)message, sizeof message, out, NULL), CKR_ARGUMENTS_BAD);
	assert_digest_ended(session);

	/* Multi-part: the final length query and a short buffer keep it. */
	digest_init(session);
	assert_int_equal(p11->C_DigestUpdate(session, (CK_BYTE_PTR)message, 10), CKR_OK);
	assert_int_equal(p11->C_DigestUpdate(session, (CK_BYTE_PTR)message + 10, sizeof message - 10), CKR_OK);
	assert_int_equal(p11->C_DigestFinal(session, NULL, &len), CKR_OK);
	len = 4;
	assert_int_equal(p11->C_DigestFinal(session, out, &len), CKR_BUFFER_TOO_SMALL);
	len = sizeof out;
	assert_int_equal(p11->C_DigestFinal(session, out, &len), CKR_OK);
	assert_memory_equal(out, expected, 32);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
}

/* ---- C_Verify (§5.12) --------------------------------------------------------------- */

static void test_verify_ends_on_every_outcome(void **state)
{
	CK_SESSION_HANDLE session = open_session(NULL, NULL);
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_OBJECT_HANDLE pub = p11_find_one(session, CKO_PUBLIC_KEY, NULL, 0);
	CK_BYTE signature[512] = { 0 };
	CK_ULONG modulus_len;
	void *modulus = p11_attr(session, pub, CKA_MODULUS, &modulus_len);

	free(modulus);
	/* C_Verify after C_VerifyUpdate: CKR_OPERATION_ACTIVE ends the operation. */
	assert_int_equal(p11->C_VerifyInit(session, &mech, pub), CKR_OK);
	assert_int_equal(p11->C_VerifyUpdate(session, (CK_BYTE_PTR)message, 10), CKR_OK);
	assert_int_equal(p11->C_Verify(session, (CK_BYTE_PTR)message, sizeof message, signature, modulus_len),
			 CKR_OPERATION_ACTIVE);
	assert_int_equal(p11->C_VerifyFinal(session, signature, modulus_len), CKR_OPERATION_NOT_INITIALIZED);
	/* A wrong signature ends it. */
	assert_int_equal(p11->C_VerifyInit(session, &mech, pub), CKR_OK);
	signature[0] = 1;
	assert_int_equal(p11->C_Verify(session, (CK_BYTE_PTR)message, sizeof message, signature, modulus_len),
			 CKR_SIGNATURE_INVALID);
	assert_int_equal(p11->C_Verify(session, (CK_BYTE_PTR)message, sizeof message, signature, modulus_len),
			 CKR_OPERATION_NOT_INITIALIZED);
	/* So does an argument error. */
	assert_int_equal(p11->C_VerifyInit(session, &mech, pub), CKR_OK);
	assert_int_equal(p11->C_Verify(session, (CK_BYTE_PTR)message, sizeof message, NULL, modulus_len),
			 CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_VerifyInit(session, &mech, pub), CKR_OK);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
}

/* ---- C_Login(CKU_SO), random numbers ------------------------------------------------ */

static void test_so_login_and_random_errors_come_in_spec_order(void **state)
{
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session = open_session("HPKI Auth", &slot);
	CK_BYTE buf[8];

	assert_int_equal(p11->C_Login(session, CKU_SO, (CK_UTF8CHAR_PTR) "12345678", 8), CKR_USER_TYPE_INVALID);
	assert_int_equal(login_user(session, slot), CKR_OK);
	/* §5.6: with the user logged in, an SO login is "another user already logged in". */
	assert_int_equal(p11->C_Login(session, CKU_SO, (CK_UTF8CHAR_PTR) "12345678", 8),
			 CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	assert_int_equal(p11->C_Logout(session), CKR_OK);
	/* The caller's own errors first, then what the token lacks (no CKF_RNG). */
	assert_int_equal(p11->C_SeedRandom(session, NULL, 8), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_GenerateRandom(session, NULL, 8), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_SeedRandom(session, buf, sizeof buf), CKR_RANDOM_NO_RNG);
	assert_int_equal(p11->C_GenerateRandom(session, buf, sizeof buf), CKR_RANDOM_NO_RNG);
	assert_int_equal(p11->C_GenerateRandom(0xdead, NULL, 8), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(p11->C_CloseSession(session), CKR_OK);
}

/* ---- slot events, session count --------------------------------------------------- */

/* A token present at C_Initialize is the starting state, not an event. */
static void test_token_present_at_initialize_is_no_event(void **state)
{
	CK_SLOT_ID slot = 0xdead;

	assert_int_equal(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
	assert_int_equal(slot, 0xdead);
	assert_true(p11_find_token(NULL, &slot));
	assert_int_equal(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
}

/* ulMaxSessionCount is what C_OpenSession really allows. */
static void test_max_session_count_tells_the_truth(void **state)
{
	CK_SLOT_ID slot;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE session;
	CK_ULONG i;

	assert_true(p11_find_token(NULL, &slot));
	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	assert_int_equal(info.ulMaxSessionCount, 256);
	assert_int_equal(info.ulMaxRwSessionCount, 256);
	for (i = 0; i < info.ulMaxSessionCount; i++)
		assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | (i % 2 ? CKF_RW_SESSION : 0), NULL, NULL,
						    &session),
				 CKR_OK);
	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	assert_int_equal(info.ulSessionCount, 256);
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_SESSION_COUNT);
	assert_int_equal(p11->C_CloseAllSessions(slot), CKR_OK);
	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_present_at_initialize_is_no_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_key_is_visible_only_after_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_ends_exactly_when_section_5_10_says, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_ends_on_every_outcome, setup, teardown),
		cmocka_unit_test_setup_teardown(test_so_login_and_random_errors_come_in_spec_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_session_count_tells_the_truth, setup, teardown),
	};

	p11_load();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
