/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Login and signing through the real stack (issue 4). Every signature is checked
 * with OpenSSL against the certificate read from the card; PIN safety is counted
 * on the card (VERIFY commands and tries left, from the card's control socket).
 * Runs under test/with-vcard with a fresh PIN state; the PIN lock test runs last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <winscard.h>

#include "p11-helpers.h"

#define AUTH_PIN "1234"
#define SIGN_PIN "5678"

static bool raw_rsa_card(void)
{
	const char *profile = getenv("HPKI_VCARD_PROFILE");

	return profile == NULL || strcmp(profile, "jma-2019") != 0;
}

struct token {
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key; /* found at the first C_Login(CKU_USER) */
	CK_OBJECT_HANDLE pub;
	EVP_PKEY *cert_key; /* from the certificate on the card */
	const char *pin;
	int app;            /* the card's numbering: 1 signature, 2 authentication */
	bool always_authenticate;
};

static void open_token(struct token *t, const char *prefix)
{
	CK_ULONG id_len, len;
	unsigned char *id, *der;
	const unsigned char *p;
	CK_OBJECT_HANDLE cert;
	X509 *x;

	memset(t, 0, sizeof *t);
	assert_true(p11_find_token(prefix, &t->slot));
	assert_int_equal(p11->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &t->session), CKR_OK);
	/* The private key is a private object (PKCS#11 2.40 §4.4): found by the
	 * public key's CKA_ID once logged in (login() below). */
	t->pub = p11_find_one(t->session, CKO_PUBLIC_KEY, NULL, 0);
	id = p11_attr(t->session, t->pub, CKA_ID, &id_len);
	cert = p11_find_one(t->session, CKO_CERTIFICATE, id, id_len);
	der = p11_attr(t->session, cert, CKA_VALUE, &len);
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	t->cert_key = X509_get_pubkey(x);
	X509_free(x);
	free(id);
	free(der);
	t->app = strcmp(prefix, "HPKI Sign") == 0 ? 1 : 2;
	/* What EF.PrKD says (userConsent on the signature key); checked against the
	 * key's CKA_ALWAYS_AUTHENTICATE when it is found. */
	t->always_authenticate = t->app == 1;
	t->pin = t->app == 1 ? SIGN_PIN : AUTH_PIN;
}

static void close_token(struct token *t)
{
	p11->C_CloseSession(t->session);
	EVP_PKEY_free(t->cert_key);
}

static CK_RV login(struct token *t, CK_USER_TYPE user, const char *pin)
{
	CK_RV rv = p11->C_Login(t->session, user, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	CK_ULONG id_len, len;
	unsigned char *id;
	CK_BBOOL *always;

	if (rv != CKR_OK || user != CKU_USER || t->key != 0)
		return rv;
	id = p11_attr(t->session, t->pub, CKA_ID, &id_len);
	t->key = p11_find_one(t->session, CKO_PRIVATE_KEY, id, id_len);
	always = p11_attr(t->session, t->key, CKA_ALWAYS_AUTHENTICATE, &len);
	assert_int_equal(*always, t->always_authenticate ? CK_TRUE : CK_FALSE);
	free(always);
	free(id);
	return rv;
}

static int tries_left(int app)
{
	char reply[256];

	assert_int_equal(vcard_ctl(reply, sizeof reply, "tries %d", app), 0);
	return atoi(strchr(reply, ' ') != NULL ? strchr(reply, ' ') + 1 : reply);
}

/* SignInit, the context-specific login the key asks for, Sign. */
static CK_RV sign(struct token *t, CK_MECHANISM *mech, const unsigned char *data, size_t len, unsigned char *sig,
		  CK_ULONG *sig_len)
{
	CK_RV rv = p11->C_SignInit(t->session, mech, t->key);

	if (rv != CKR_OK)
		return rv;
	if (t->always_authenticate) {
		rv = login(t, CKU_CONTEXT_SPECIFIC, t->pin);
		if (rv != CKR_OK)
			return rv;
	}
	return p11->C_Sign(t->session, (CK_BYTE_PTR)data, (CK_ULONG)len, sig, sig_len);
}

/* Verifies with plain OpenSSL: md NULL means the input was a DigestInfo of SHA-256(data). */
static bool openssl_verifies(EVP_PKEY *key, const EVP_MD *md, int padding, int salt, const unsigned char *data,
			     size_t len, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok;

	ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) == 1 && EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1 &&
	     (padding != RSA_PKCS1_PSS_PADDING || (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) == 1 &&
						   EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1)) &&
	     EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static const unsigned char message[] = "紹介状 (referral letter) for TEST patient 0001";

static void digest_info_sha256(unsigned char *out, size_t *out_len)
{
	static const unsigned char prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
						0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	unsigned int md_len;

	memcpy(out, prefix, sizeof prefix);
	EVP_Digest(message, sizeof message, out + sizeof prefix, &md_len, EVP_sha256(), NULL);
	*out_len = sizeof prefix + md_len;
}

static void check_all_mechanisms(const char *prefix)
{
	struct token t;
	unsigned char sig[512], input[128];
	CK_ULONG sig_len;
	size_t input_len;
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	struct {
		CK_MECHANISM_TYPE type;
		const EVP_MD *md;
	} hashed[] = { { CKM_SHA1_RSA_PKCS, EVP_sha1() },
		       { CKM_SHA256_RSA_PKCS, EVP_sha256() },
		       { CKM_SHA384_RSA_PKCS, EVP_sha384() },
		       { CKM_SHA512_RSA_PKCS, EVP_sha512() } };
	struct {
		CK_MECHANISM_TYPE type, hash, mgf;
		const EVP_MD *md;
		CK_ULONG salt;
	} pss_mechs[] = { { CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256(), 32 },
			  { CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, EVP_sha384(), 48 },
			  { CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, EVP_sha512(), 0 } };
	size_t i;

	open_token(&t, prefix);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);

	/* CKM_RSA_PKCS on a caller-built DigestInfo (what OpenSSH and NSS send). */
	{
		CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };

		digest_info_sha256(input, &input_len);
		sig_len = sizeof sig;
		assert_int_equal(sign(&t, &mech, input, input_len, sig, &sig_len), CKR_OK);
		assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PADDING, 0, message, sizeof message, sig,
					     sig_len));
	}
	for (i = 0; i < sizeof hashed / sizeof hashed[0]; i++) {
		CK_MECHANISM mech = { hashed[i].type, NULL, 0 };

		sig_len = sizeof sig;
		assert_int_equal(sign(&t, &mech, message, sizeof message, sig, &sig_len), CKR_OK);
		assert_true(openssl_verifies(t.cert_key, hashed[i].md, RSA_PKCS1_PADDING, 0, message, sizeof message,
					     sig, sig_len));
	}
	if (!raw_rsa_card()) {
		/* The card pads itself: PSS is impossible and must not be offered. */
		CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof pss };

		assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_MECHANISM_INVALID);
		close_token(&t);
		return;
	}
	for (i = 0; i < sizeof pss_mechs / sizeof pss_mechs[0]; i++) {
		CK_RSA_PKCS_PSS_PARAMS params = { pss_mechs[i].hash, pss_mechs[i].mgf, pss_mechs[i].salt };
		CK_MECHANISM mech = { pss_mechs[i].type, &params, sizeof params };

		sig_len = sizeof sig;
		assert_int_equal(sign(&t, &mech, message, sizeof message, sig, &sig_len), CKR_OK);
		assert_true(openssl_verifies(t.cert_key, pss_mechs[i].md, RSA_PKCS1_PSS_PADDING,
					     (int)pss_mechs[i].salt, message, sizeof message, sig, sig_len));
	}
	/* CKM_RSA_PKCS_PSS on a hash computed by the caller (TLS 1.3 in NSS). */
	{
		CK_MECHANISM mech = { CKM_RSA_PKCS_PSS, &pss, sizeof pss };
		unsigned int md_len;

		EVP_Digest(message, sizeof message, input, &md_len, EVP_sha256(), NULL);
		sig_len = sizeof sig;
		assert_int_equal(sign(&t, &mech, input, md_len, sig, &sig_len), CKR_OK);
		assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PSS_PADDING, 32, message, sizeof message,
					     sig, sig_len));
	}
	assert_int_equal(p11->C_Logout(t.session), CKR_OK);
	close_token(&t);
}

static void test_every_mechanism_on_the_authentication_key(void **state)
{
	check_all_mechanisms("HPKI Auth");
}

static void test_every_mechanism_on_the_signature_key(void **state)
{
	check_all_mechanisms("HPKI Sign");
}

static void test_multipart_equals_single_part_and_software_verify(void **state)
{
	struct token t;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char one[512], two[512], digest[64];
	CK_ULONG one_len = sizeof one, two_len = sizeof two, digest_len = sizeof digest;
	CK_OBJECT_HANDLE pub;

	open_token(&t, "HPKI Auth");
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(sign(&t, &mech, message, sizeof message, one, &one_len), CKR_OK);
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	assert_int_equal(p11->C_SignUpdate(t.session, (CK_BYTE_PTR)message, 10), CKR_OK);
	assert_int_equal(p11->C_SignUpdate(t.session, (CK_BYTE_PTR)message + 10, sizeof message - 10), CKR_OK);
	assert_int_equal(p11->C_SignFinal(t.session, two, &two_len), CKR_OK);
	assert_int_equal(one_len, two_len);
	assert_memory_equal(one, two, one_len); /* PKCS#1 v1.5 is deterministic */

	/* C_Verify in software on the public-key object, and C_Digest. */
	pub = p11_find_one(t.session, CKO_PUBLIC_KEY, NULL, 0);
	assert_int_equal(p11->C_VerifyInit(t.session, &mech, pub), CKR_OK);
	assert_int_equal(p11->C_Verify(t.session, (CK_BYTE_PTR)message, sizeof message, one, one_len), CKR_OK);
	one[7] ^= 1;
	assert_int_equal(p11->C_VerifyInit(t.session, &mech, pub), CKR_OK);
	assert_int_equal(p11->C_Verify(t.session, (CK_BYTE_PTR)message, sizeof message, one, one_len),
			 CKR_SIGNATURE_INVALID);
	mech.mechanism = CKM_SHA256;
	assert_int_equal(p11->C_DigestInit(t.session, &mech), CKR_OK);
	assert_int_equal(p11->C_Digest(t.session, (CK_BYTE_PTR)message, sizeof message, digest, &digest_len), CKR_OK);
	assert_int_equal(digest_len, 32);
	close_token(&t);
}

static void test_checks_come_before_any_apdu(void **state)
{
	struct token t;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_MECHANISM bad_mech = { CKM_AES_CBC, NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS wrong = { CKM_SHA384, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM bad_params = { CKM_SHA256_RSA_PKCS_PSS, &wrong, sizeof wrong };
	unsigned char sig[512], big[600] = { 0 };
	CK_ULONG sig_len;
	CK_OBJECT_HANDLE pub;
	long before;

	open_token(&t, "HPKI Auth");
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	pub = p11_find_one(t.session, CKO_PUBLIC_KEY, NULL, 0);
	before = vcard_stat("apdus");
	assert_int_equal(p11->C_Sign(t.session, big, 1, sig, &sig_len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(p11->C_SignInit(t.session, &bad_mech, t.key), CKR_MECHANISM_INVALID);
	assert_int_equal(p11->C_SignInit(t.session, &mech, pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(p11->C_SignInit(t.session, &mech, 0xbad), CKR_KEY_HANDLE_INVALID);
	if (raw_rsa_card())
		assert_int_equal(p11->C_SignInit(t.session, &bad_params, t.key), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OPERATION_ACTIVE);
	/* Two-call convention: the length costs no APDU and keeps the operation. */
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, NULL, &sig_len), CKR_OK);
	assert_int_equal(sig_len, (CK_ULONG)EVP_PKEY_get_size(t.cert_key));
	sig_len = 8;
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(vcard_stat("apdus"), before);
	sig_len = sizeof sig;
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len), CKR_OK);
	assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PADDING, 0, message, sizeof message, sig,
				     sig_len));
	/* CKM_RSA_PKCS input longer than k-11 bytes. */
	mech.mechanism = CKM_RSA_PKCS;
	before = vcard_stat("apdus");
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	sig_len = sizeof sig;
	assert_int_equal(p11->C_Sign(t.session, big, sizeof big, sig, &sig_len), CKR_DATA_LEN_RANGE);
	assert_int_equal(vcard_stat("apdus"), before);
	close_token(&t);
}

static void test_one_login_is_one_verify_and_pin_rules_cost_nothing(void **state)
{
	struct token t;
	CK_SESSION_INFO info;
	long verifies;

	open_token(&t, "HPKI Auth");
	verifies = vcard_stat("verify_pin");
	assert_int_equal(login(&t, CKU_USER, "12"), CKR_PIN_LEN_RANGE);
	assert_int_equal(login(&t, CKU_USER, "12345678901234567"), CKR_PIN_LEN_RANGE);
	assert_int_equal(login(&t, CKU_USER, "12\x01" "4"), CKR_PIN_INVALID);
	assert_int_equal(login(&t, CKU_SO, "12345678"), CKR_USER_TYPE_INVALID);
	assert_int_equal(vcard_stat("verify_pin"), verifies);
	assert_int_equal(tries_left(2), 15);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(vcard_stat("verify_pin"), verifies + 1);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_USER_ALREADY_LOGGED_IN);
	assert_int_equal(vcard_stat("verify_pin"), verifies + 1);
	assert_int_equal(p11->C_GetSessionInfo(t.session, &info), CKR_OK);
	assert_int_equal(info.state, CKS_RO_USER_FUNCTIONS);
	assert_int_equal(p11->C_Logout(t.session), CKR_OK);
	assert_int_equal(p11->C_GetSessionInfo(t.session, &info), CKR_OK);
	assert_int_equal(info.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(p11->C_Logout(t.session), CKR_USER_NOT_LOGGED_IN);
	close_token(&t);
}

static void test_wrong_pin_costs_exactly_one_try(void **state)
{
	struct token t;

	open_token(&t, "HPKI Sign");
	assert_int_equal(tries_left(1), 15);
	assert_int_equal(login(&t, CKU_USER, "0000"), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(1), 14);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(tries_left(1), 15);
	close_token(&t);
}

static void test_signature_key_needs_a_fresh_context_login_every_time(void **state)
{
	struct token t;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char sig[512];
	CK_ULONG sig_len = sizeof sig;
	long verifies, pso;

	open_token(&t, "HPKI Sign");
	assert_true(t.always_authenticate);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	/* Context login outside a signing operation is refused. */
	assert_int_equal(login(&t, CKU_CONTEXT_SPECIFIC, t.pin), CKR_OPERATION_NOT_INITIALIZED);
	/* The VERIFY of C_Login(CKU_USER) is the consent for one signature (the G31 A.4
	 * flow: login, sign, logout), with no further VERIFY... */
	verifies = vcard_stat("verify_pin");
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len), CKR_OK);
	assert_int_equal(vcard_stat("verify_pin"), verifies);
	assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PADDING, 0, message, sizeof message, sig,
				     sig_len));
	/* ...and for one only: the next one without a context login reaches no card. */
	pso = vcard_stat("ins_2A");
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	sig_len = sizeof sig;
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len),
			 CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(vcard_stat("ins_2A"), pso); /* nothing reached the card */
	verifies = vcard_stat("verify_pin");
	sig_len = sizeof sig;
	assert_int_equal(sign(&t, &mech, message, sizeof message, sig, &sig_len), CKR_OK);
	assert_int_equal(vcard_stat("verify_pin"), verifies + 1);
	assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PADDING, 0, message, sizeof message, sig,
				     sig_len));
	/* The next signature needs its own login again. */
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	sig_len = sizeof sig;
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len),
			 CKR_USER_NOT_LOGGED_IN);
	close_token(&t);
}

/* The consent of C_Login(CKU_USER) ends with any later login attempt: a wrong PIN
 * typed for this very signature must not let the earlier login sign (LibreOffice's
 * PDF export: right token PIN, then a wrong "Certificate password"). */
static void test_wrong_context_pin_ends_the_user_login_consent(void **state)
{
	struct token t;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char sig[512];
	CK_ULONG sig_len = sizeof sig;
	long pso;

	open_token(&t, "HPKI Sign");
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	assert_int_equal(login(&t, CKU_CONTEXT_SPECIFIC, "0001"), CKR_PIN_INCORRECT);
	pso = vcard_stat("ins_2A");
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len),
			 CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(vcard_stat("ins_2A"), pso); /* nothing reached the card */
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_USER_ALREADY_LOGGED_IN);
	close_token(&t);
}

/* Another PC/SC client on the same card, as another process would be. */
static void other_client(bool reset, const unsigned char *apdu, size_t apdu_len)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD protocol, readers_len = 0, resp_len;
	char readers[1024];
	unsigned char resp[258];

	assert_int_equal(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx), SCARD_S_SUCCESS);
	readers_len = sizeof readers;
	assert_int_equal(SCardListReaders(ctx, NULL, readers, &readers_len), SCARD_S_SUCCESS);
	assert_int_equal(SCardConnect(ctx, readers, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &card, &protocol),
			 SCARD_S_SUCCESS);
	if (reset)
		assert_int_equal(SCardReconnect(card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, SCARD_RESET_CARD, &protocol),
				 SCARD_S_SUCCESS);
	if (apdu != NULL) {
		unsigned char again[300];

		resp_len = sizeof resp;
		assert_int_equal(SCardTransmit(card, SCARD_PCI_T1, apdu, (DWORD)apdu_len, NULL, resp, &resp_len),
				 SCARD_S_SUCCESS);
		/* As a real tool does on a card that answers 6Cxx (repeat with Le = xx) or
		 * 61xx (GET RESPONSE) for its data. */
		if (resp_len == 2 && resp[0] == 0x6C && apdu_len < sizeof again) {
			memcpy(again, apdu, apdu_len);
			again[apdu_len - 1] = resp[1];
			resp_len = sizeof resp;
			assert_int_equal(SCardTransmit(card, SCARD_PCI_T1, again, (DWORD)apdu_len, NULL, resp, &resp_len),
					 SCARD_S_SUCCESS);
		}
		while (resp_len == 2 && resp[0] == 0x61) {
			const unsigned char get_response[] = { 0x00, 0xC0, 0x00, 0x00, resp[1] };

			resp_len = sizeof resp;
			assert_int_equal(SCardTransmit(card, SCARD_PCI_T1, get_response, sizeof get_response, NULL, resp,
						       &resp_len),
					 SCARD_S_SUCCESS);
		}
	}
	SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
}

static void assert_login_lost(struct token *t)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_SESSION_INFO info;

	assert_int_equal(p11->C_GetSessionInfo(t->session, &info), CKR_OK);
	assert_int_equal(info.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(p11->C_SignInit(t->session, &mech, t->key), CKR_USER_NOT_LOGGED_IN);
}

static void test_login_lost_by_reset_other_app_and_swap_is_reported(void **state)
{
	/* As real tools select (P2=00 with Le): every card answers this form. */
	static const unsigned char select_signature_app[] = { 0x00, 0xA4, 0x04, 0x00, 0x10, 0xE8, 0x28, 0xBD, 0x08,
							      0x0F, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00,
							      0x00, 0x00, 0x00, 0x01, 0x00 };
	struct token t;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char sig[512];
	CK_ULONG sig_len = sizeof sig;
	CK_SESSION_INFO info;
	long verifies;

	open_token(&t, "HPKI Auth");
	/* 1. Reset by another process. */
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	verifies = vcard_stat("verify_pin");
	other_client(true, NULL, 0);
	assert_login_lost(&t);
	/* 2. The other application selected by another process: a signature attempt
	 *    reports CKR_USER_NOT_LOGGED_IN and the session follows. */
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	other_client(false, select_signature_app, sizeof select_signature_app);
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len),
			 CKR_USER_NOT_LOGGED_IN);
	assert_login_lost(&t);
	/* Never a silent re-login: exactly the two VERIFYs the application asked for. */
	assert_int_equal(vcard_stat("verify_pin"), verifies + 1);
	/* 3. Swapped card: the session is gone. */
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	p11_drain_events();
	assert_int_equal(vcard_ctl(NULL, 0, "swap %s", "doctor"), 0);
	p11_wait_event(t.slot);
	p11_wait_token(t.slot, true);
	assert_int_not_equal(p11->C_GetSessionInfo(t.session, &info), CKR_OK);
	EVP_PKEY_free(t.cert_key);
}

/* Thunderbird calls C_GetTokenInfo between the context login and C_Sign (OpenSC
 * #1071): no PIN-status APDU may reach the card there, and the signature works. */
static void test_no_card_io_between_context_login_and_signature(void **state)
{
	struct token t;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_TOKEN_INFO info;
	unsigned char sig[512];
	CK_ULONG sig_len = sizeof sig;
	long verifies, apdus;

	open_token(&t, "HPKI Sign");
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(p11->C_SignInit(t.session, &mech, t.key), CKR_OK);
	assert_int_equal(login(&t, CKU_CONTEXT_SPECIFIC, t.pin), CKR_OK);
	verifies = vcard_stat("ins_20");
	apdus = vcard_stat("apdus");
	assert_int_equal(p11->C_GetTokenInfo(t.slot, &info), CKR_OK);
	assert_int_equal(p11->C_GetTokenInfo(t.slot, &info), CKR_OK);
	assert_int_equal(vcard_stat("apdus"), apdus);
	assert_int_equal(p11->C_Sign(t.session, (CK_BYTE_PTR)message, sizeof message, sig, &sig_len), CKR_OK);
	assert_int_equal(vcard_stat("ins_20"), verifies);
	assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PADDING, 0, message, sizeof message, sig,
				     sig_len));
	close_token(&t);
}

/* Two processes, one per token of the same card, signing at once: each gets a valid
 * signature or CKR_USER_NOT_LOGGED_IN with its session public again — never a wrong
 * result and never a try burnt. */
static int sign_loop(const char *prefix, int rounds)
{
	struct token t;
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char sig[512];
	CK_ULONG sig_len;
	CK_SESSION_INFO info;
	int valid = 0, relogins = 0, i;
	CK_RV rv;

	open_token(&t, prefix);
	if (login(&t, CKU_USER, t.pin) != CKR_OK)
		return -1;
	for (i = 0; i < rounds; i++) {
		sig_len = sizeof sig;
		rv = sign(&t, &mech, message, sizeof message, sig, &sig_len);
		if (rv == CKR_OK) {
			if (!openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PADDING, 0, message, sizeof message, sig,
					      sig_len))
				return -1;
			valid++;
		} else if (rv == CKR_USER_NOT_LOGGED_IN) {
			/* The application asks again, as it would ask the user. */
			if (p11->C_GetSessionInfo(t.session, &info) != CKR_OK)
				return -1;
			if (!t.always_authenticate && info.state != CKS_RO_PUBLIC_SESSION)
				return -1;
			if (info.state == CKS_RO_PUBLIC_SESSION && login(&t, CKU_USER, t.pin) != CKR_OK)
				return -1;
			relogins++;
		} else {
			fprintf(stderr, "%s: round %d: C_Sign 0x%lx\n", prefix, i, (unsigned long)rv);
			return -1;
		}
	}
	fprintf(stderr, "%s: %d valid signatures, %d times asked again\n", prefix, valid, relogins);
	close_token(&t);
	return valid;
}

static void test_two_processes_sign_on_the_two_tokens_at_once(void **state)
{
	pid_t child;
	int status, valid;

	p11->C_Finalize(NULL);
	child = fork();
	if (child == 0) {
		p11_init();
		valid = sign_loop("HPKI Sign", 15);
		p11->C_Finalize(NULL);
		_exit(valid > 0 ? 0 : 1);
	}
	p11_init();
	valid = sign_loop("HPKI Auth", 15);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(valid > 0);
	assert_int_equal(tries_left(1), 15);
	assert_int_equal(tries_left(2), 15);
}

static CK_FLAGS token_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO info;

	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	return info.flags;
}

static const char *wrong_pin(int n)
{
	static char pin[8];

	snprintf(pin, sizeof pin, "9%03d", n);
	return pin;
}

/* Last: it locks the authentication PIN of this test bed's card. */
static void test_try_counter_flags_and_lock(void **state)
{
	struct token t;
	CK_FLAGS flags;
	long verifies;
	int tries;

	open_token(&t, "HPKI Auth");
	assert_false(token_flags(t.slot) & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED));
	/* A different wrong PIN each time: the same one twice is refused without a try
	 * (CKR_PIN_INVALID, test-p11-login). */
	for (tries = 15; tries > 3; tries--)
		assert_int_equal(login(&t, CKU_USER, wrong_pin(tries)), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(2), 3);
	flags = token_flags(t.slot);
	assert_true(flags & CKF_USER_PIN_COUNT_LOW);
	assert_false(flags & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED));
	assert_int_equal(login(&t, CKU_USER, wrong_pin(3)), CKR_PIN_INCORRECT);
	assert_int_equal(login(&t, CKU_USER, wrong_pin(2)), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(2), 1);
	assert_true(token_flags(t.slot) & CKF_USER_PIN_FINAL_TRY);
	assert_int_equal(login(&t, CKU_USER, wrong_pin(1)), CKR_PIN_LOCKED);
	assert_int_equal(tries_left(2), 0);
	assert_true(token_flags(t.slot) & CKF_USER_PIN_LOCKED);
	/* Locked: refused without sending the PIN, even the right one. */
	verifies = vcard_stat("verify_pin");
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_PIN_LOCKED);
	assert_int_equal(vcard_stat("verify_pin"), verifies);
	close_token(&t);
}

static bool mechanism_offered(CK_SLOT_ID slot, CK_MECHANISM_TYPE type)
{
	CK_MECHANISM_TYPE list[64];
	CK_ULONG n = 64;

	assert_int_equal(p11->C_GetMechanismList(slot, list, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++)
		if (list[i] == type)
			return true;
	return false;
}

/*
 * Issue 11: the signing method is learnt at the first signature, not probed at
 * enumeration, and kept in the card cache. Until then a token offers the PSS
 * mechanisms (every card seen signs with MSE + PSO). On the 2019 card (80 2A 00 80:
 * the card pads) a PSS signature then fails with CKR_FUNCTION_FAILED and PSS is
 * withdrawn (mechanism list, C_SignInit); the next process knows it from the cache.
 */
static void test_sign_method_learnt_at_first_signature(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS params = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM pss = { CKM_SHA256_RSA_PKCS_PSS, &params, sizeof params };
	CK_MECHANISM pkcs1 = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	const char *bed_cache = getenv("HPKI_PKCS11_CACHE_DIR"), *bed_mode = getenv("HPKI_PKCS11_CACHE");
	char *saved = bed_cache != NULL ? strdup(bed_cache) : NULL;
	char *saved_mode = bed_mode != NULL ? strdup(bed_mode) : NULL;
	char dir[80], cmd[120];
	unsigned char sig[512];
	CK_ULONG sig_len = sizeof sig;
	struct token t;
	CK_RV rv;

	(void)state;
	/* A cache of its own: the card has not signed in it yet. */
	snprintf(dir, sizeof dir, "/tmp/hpki-sign-method.%ld", (long)getpid());
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	setenv("HPKI_PKCS11_CACHE_DIR", dir, 1);
	setenv("HPKI_PKCS11_CACHE", "on", 1); /* also when the suite runs with it off */
	p11->C_Finalize(NULL);
	p11_init();
	open_token(&t, "HPKI Auth");
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_true(mechanism_offered(t.slot, CKM_SHA256_RSA_PKCS_PSS));
	rv = sign(&t, &pss, message, sizeof message, sig, &sig_len);
	if (raw_rsa_card()) {
		assert_int_equal(rv, CKR_OK);
		assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PSS_PADDING, 32, message, sizeof message,
					     sig, sig_len));
	} else {
		assert_int_equal(rv, CKR_FUNCTION_FAILED);
		assert_false(mechanism_offered(t.slot, CKM_SHA256_RSA_PKCS_PSS));
		assert_int_equal(p11->C_SignInit(t.session, &pss, t.key), CKR_MECHANISM_INVALID);
		sig_len = sizeof sig;
		assert_int_equal(sign(&t, &pkcs1, message, sizeof message, sig, &sig_len), CKR_OK);
		assert_true(openssl_verifies(t.cert_key, EVP_sha256(), RSA_PKCS1_PADDING, 0, message, sizeof message, sig,
					     sig_len));
	}
	close_token(&t);
	/* The next process: the cache entry knows how this card signs. */
	p11->C_Finalize(NULL);
	p11_init();
	open_token(&t, "HPKI Auth");
	assert_int_equal(mechanism_offered(t.slot, CKM_SHA256_RSA_PKCS_PSS), raw_rsa_card());
	close_token(&t);
	p11->C_Finalize(NULL);
	assert_int_equal(system(cmd), 0);
	if (saved != NULL)
		setenv("HPKI_PKCS11_CACHE_DIR", saved, 1);
	else
		unsetenv("HPKI_PKCS11_CACHE_DIR");
	if (saved_mode != NULL)
		setenv("HPKI_PKCS11_CACHE", saved_mode, 1);
	else
		unsetenv("HPKI_PKCS11_CACHE");
	free(saved);
	free(saved_mode);
	p11_init();
}

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

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_mechanism_on_the_authentication_key),
		T(test_every_mechanism_on_the_signature_key),
		T(test_multipart_equals_single_part_and_software_verify),
		T(test_checks_come_before_any_apdu),
		T(test_sign_method_learnt_at_first_signature),
		T(test_one_login_is_one_verify_and_pin_rules_cost_nothing),
		T(test_wrong_pin_costs_exactly_one_try),
		T(test_signature_key_needs_a_fresh_context_login_every_time),
		T(test_wrong_context_pin_ends_the_user_login_consent),
		T(test_no_card_io_between_context_login_and_signature),
		T(test_login_lost_by_reset_other_app_and_swap_is_reported),
		T(test_two_processes_sign_on_the_two_tokens_at_once),
		T(test_try_counter_flags_and_lock),
	};

	/* Fresh PIN state and current flags in every test. */
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	p11_load();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
