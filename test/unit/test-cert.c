/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of src/card/card-cert.c: what the module shows of a certificate is
 * found in its DER without d2i_X509 (issue 11). Every value is compared with
 * OpenSSL's full parse of the same certificate: the test PKI's certificates, an
 * EC certificate made here, and every truncation and one-byte change of them.
 */
#include "config.h"

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
#include <openssl/x509v3.h>

#include "card-private.h"

static const char *const pki_files[] = {
	"ca/root.der",		"ca/sign-ca.der",	 "ca/auth-ca.der",	 "doctor/sig.crt.der",
	"doctor/auth.crt.der",	"pharmacist/sig.crt.der", "renewed/auth.crt.der", "rsa4096/sig.crt.der",
	"expired/auth.crt.der", "nohcrole/sig.crt.der",
};

static struct hpki_cert load(const char *name)
{
	char path[512];
	struct hpki_cert cert = { .der = NULL };
	FILE *f;
	long len;

	snprintf(path, sizeof path, "%s/%s", TEST_PKI_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	cert.der = malloc((size_t)len);
	assert_non_null(cert.der);
	assert_int_equal(fread(cert.der, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	cert.der_len = (size_t)len;
	return cert;
}

static X509 *parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;

	return d2i_X509(NULL, &p, (long)len);
}

/* The slice's bytes are what i2d gives of OpenSSL's parsed field. */
#define ASSERT_SLICE(cert, slice, i2d, obj)                                                   \
	do {                                                                                  \
		unsigned char *der_ = NULL;                                                   \
		int len_ = i2d((obj), &der_);                                                 \
		assert_true(len_ > 0);                                                        \
		assert_int_equal((slice).len, (size_t)len_);                                  \
		assert_memory_equal((cert)->der + (slice).offset, der_, (size_t)len_);       \
		OPENSSL_free(der_);                                                           \
	} while (0)

static void assert_number(const EVP_PKEY *key, const char *param, const uint8_t *value, size_t len)
{
	BIGNUM *bn = NULL;
	unsigned char expected[1024];

	assert_true(EVP_PKEY_get_bn_param(key, param, &bn));
	assert_int_equal(BN_num_bytes(bn), (int)len);
	BN_bn2bin(bn, expected);
	assert_memory_equal(value, expected, len);
	BN_free(bn);
}

/* Everything the module takes from the certificate equals OpenSSL's parse of it. */
static void assert_same_as_openssl(const struct hpki_cert *cert, X509 *x)
{
	uint8_t digest[20], expected_digest[20], n[1024], e[1024];
	unsigned int expected_len = 0;
	size_t n_len = sizeof n, e_len = sizeof e;
	char cn[64], expected_cn[64];
	EVP_PKEY *key = hpki_card_cert_public_key(cert);
	const EVP_PKEY *expected_key = X509_get0_pubkey(x);
	const ASN1_BIT_STRING *signature = NULL;
	const X509_ALGOR *signature_algorithm = NULL;
	int cn_len;

	assert_true(cert->is_x509);
	ASSERT_SLICE(cert, cert->subject, i2d_X509_NAME, X509_get_subject_name(x));
	ASSERT_SLICE(cert, cert->issuer, i2d_X509_NAME, X509_get_issuer_name(x));
	ASSERT_SLICE(cert, cert->serial, i2d_ASN1_INTEGER, X509_get0_serialNumber(x));
	ASSERT_SLICE(cert, cert->spki, i2d_X509_PUBKEY, X509_get_X509_PUBKEY(x));
	ASSERT_SLICE(cert, cert->not_before, i2d_ASN1_TIME, X509_get0_notBefore(x));
	ASSERT_SLICE(cert, cert->not_after, i2d_ASN1_TIME, X509_get0_notAfter(x));
	assert_true(hpki_card_cert_key_digest(cert, digest));
	assert_true(X509_pubkey_digest(x, EVP_sha1(), expected_digest, &expected_len));
	assert_int_equal(expected_len, 20);
	assert_memory_equal(digest, expected_digest, 20);
	cn_len = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, expected_cn, sizeof expected_cn);
	assert_int_equal(hpki_card_cert_subject_text(cert, NID_commonName, cn, sizeof cn), cn_len > 0);
	if (cn_len > 0)
		assert_string_equal(cn, expected_cn);
	/* Cut short exactly as X509_NAME_get_text_by_NID cuts. */
	assert_int_equal(hpki_card_cert_subject_text(cert, NID_commonName, cn, 5), cn_len > 0);
	if (cn_len > 0) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, expected_cn, 5);
		assert_string_equal(cn, expected_cn);
	}
	X509_get0_signature(&signature, &signature_algorithm, x);
	ASSERT_SLICE(cert, cert->signature_algorithm, i2d_X509_ALGOR, signature_algorithm);
	{
		/* The signature as hpki_card_cert_issued decodes it (OpenSSL normalises the
		 * BIT STRING's unused bits: compare what both decode, not the bytes). */
		const unsigned char *p = cert->der + cert->signature.offset;
		ASN1_BIT_STRING *bits = d2i_ASN1_BIT_STRING(NULL, &p, (long)cert->signature.len);

		assert_non_null(bits);
		assert_int_equal(ASN1_STRING_cmp(bits, signature), 0);
		ASN1_BIT_STRING_free(bits);
	}
	if (expected_key != NULL && EVP_PKEY_get_base_id(expected_key) == EVP_PKEY_RSA) {
		assert_non_null(key);
		assert_int_equal(EVP_PKEY_eq(key, expected_key), 1);
		assert_int_equal(EVP_PKEY_get_bits(key), EVP_PKEY_get_bits(expected_key));
		assert_true(hpki_card_cert_rsa_numbers(cert, n, &n_len, e, &e_len));
		assert_number(expected_key, OSSL_PKEY_PARAM_RSA_N, n, n_len);
		assert_number(expected_key, OSSL_PKEY_PARAM_RSA_E, e, e_len);
		n_len = 16; /* a modulus that does not fit is refused, not cut */
		assert_false(hpki_card_cert_rsa_numbers(cert, n, &n_len, e, &e_len));
	} else {
		assert_null(key);
		assert_false(hpki_card_cert_rsa_numbers(cert, n, &n_len, e, &e_len));
	}
	EVP_PKEY_free(key);
}

static void test_pki_certificates(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pki_files / sizeof pki_files[0]; i++) {
		struct hpki_cert cert = load(pki_files[i]);
		X509 *x = parse(cert.der, cert.der_len);

		assert_non_null(x);
		hpki_card_parse_cert(&cert);
		assert_same_as_openssl(&cert, x);
		X509_free(x);
		free(cert.der);
	}
}

/* OpenSSL's judgement, X509_check_issued + X509_verify. */
static bool openssl_issued(X509 *issuer, X509 *subject)
{
	EVP_PKEY *key = X509_get0_pubkey(issuer);

	return key != NULL && X509_check_issued(issuer, subject) == X509_V_OK && X509_verify(subject, key) == 1;
}

/* "Issued" and "names as issuer" are what OpenSSL decides, for every pair of the
 * test PKI's certificates (both ways, and each with itself: the root alone is
 * self-signed). */
static void test_issued_as_openssl_judges(void **state)
{
	enum { N = sizeof pki_files / sizeof pki_files[0] };
	struct hpki_cert certs[N];
	X509 *x[N];
	int pairs = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		certs[i] = load(pki_files[i]);
		hpki_card_parse_cert(&certs[i]);
		x[i] = parse(certs[i].der, certs[i].der_len);
		assert_non_null(x[i]);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++) {
			bool expected = openssl_issued(x[i], x[j]);

			assert_int_equal(hpki_card_cert_issued(&certs[i], &certs[j]), expected);
			/* Names and key identifiers: what X509_check_issued matches, except that
			 * without an authorityKeyIdentifier (the self-signed root) nothing is
			 * identified, where OpenSSL settles for the names. */
			if (i != j || hpki_card_cert_names_issuer(&certs[j], &certs[i]))
				assert_int_equal(hpki_card_cert_names_issuer(&certs[j], &certs[i]),
						 X509_check_issued(x[i], x[j]) == X509_V_OK);
			pairs += expected;
		}
	assert_true(pairs >= N); /* every certificate has its issuer in the list */
	for (size_t i = 0; i < N; i++) {
		X509_free(x[i]);
		free(certs[i].der);
	}
}

/* A self-signed P-256 certificate, made here (the test PKI is all RSA). */
static void test_ec_certificate(void **state)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	struct hpki_cert cert = { .der = NULL };
	unsigned char *der = NULL;
	int len;

	(void)state;
	assert_non_null(ec);
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234));
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"EC test", -1, -1, 0));
	assert_true(X509_set_subject_name(x, name) && X509_set_issuer_name(x, name));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 3650 * 10, 0, NULL)); /* GeneralizedTime after 2049 */
	assert_true(X509_set_pubkey(x, ec));
	assert_true(X509_sign(x, ec, EVP_sha256()) > 0);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	cert.der = der;
	cert.der_len = (size_t)len;
	hpki_card_parse_cert(&cert);
	assert_same_as_openssl(&cert, x);
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(ec);
}

/* Every truncation is refused, as by d2i_X509; so is a byte after the certificate. */
static void test_truncated_and_trailing(void **state)
{
	struct hpki_cert whole = load("doctor/sig.crt.der");

	(void)state;
	for (size_t len = 0; len < whole.der_len; len++) {
		struct hpki_cert cert = { .der = whole.der, .der_len = len };
		X509 *x = parse(whole.der, len);

		hpki_card_parse_cert(&cert);
		assert_false(cert.is_x509);
		assert_null(x);
		assert_null(hpki_card_cert_public_key(&cert));
		assert_false(hpki_card_cert_issued(&cert, &cert));
	}
	{
		struct hpki_cert cert = { .der = realloc(whole.der, whole.der_len + 1), .der_len = whole.der_len + 1 };

		assert_non_null(cert.der);
		whole.der = cert.der;
		cert.der[whole.der_len] = 0x00;
		hpki_card_parse_cert(&cert);
		assert_false(cert.is_x509);
	}
	free(whole.der);
}

/*
 * Every one-byte change of two certificates (an end-entity and the root): whenever
 * the slices are accepted and OpenSSL parses the certificate too, both tell the
 * same; a change in a field the module shows that OpenSSL refuses is refused.
 */
static void test_changed_bytes(void **state)
{
	static const char *const files[] = { "doctor/auth.crt.der", "ca/root.der" };

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct hpki_cert original = load(files[f]), cert = original;
		uint8_t *copy = malloc(original.der_len);
		size_t accepted = 0;

		assert_non_null(copy);
		hpki_card_parse_cert(&original);
		for (size_t i = 0; i < original.der_len; i++) {
			X509 *x;

			memcpy(copy, original.der, original.der_len);
			copy[i] ^= 0x01;
			cert.der = copy;
			hpki_card_parse_cert(&cert);
			x = parse(copy, original.der_len);
			if (cert.is_x509 && x != NULL) {
				assert_same_as_openssl(&cert, x);
				accepted++;
			}
			/* OpenSSL refuses it, and the byte lies in what the module shows. */
			if (x == NULL && i >= original.serial.offset && i < original.subject.offset + original.subject.len &&
			    i >= original.issuer.offset)
				assert_false(cert.is_x509);
			X509_free(x);
		}
		assert_true(accepted > original.der_len / 2); /* most changes are in values, not in structure */
		free(copy);
		free(original.der);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_certificates),
		cmocka_unit_test(test_ec_certificate),
		cmocka_unit_test(test_issued_as_openssl_judges),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_changed_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
