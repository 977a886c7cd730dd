/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * End-to-end tests of the virtual HPKI card through the real PC/SC stack
 * (libpcsclite → private pcscd → vpcd → hpki-vcard), run under test/with-vcard
 * by the .e2e scripts. Issue 2's list: discovery by partial AID, ISO 7816-15
 * directories, certificates (short and extended reads, hcRole), PSO signatures
 * checked with OpenSSL, PIN counter rules, security state, removal/insertion,
 * bad APDUs, and the control socket.
 *
 *   e2e-card suite          the full suite on the card of $HPKI_VCARD_CONTROL
 *   e2e-card pin-phase1|2|3 the PIN counter across card restarts (same state dir)
 *   e2e-card parallel N     N wrong PINs, then check this bed's own card and counter
 */
#include "e2e-util.h"

#include <hpki/card-defs.h>
#include <hpki/cio.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define AUTH_PIN "1234"
#define SIGN_PIN "5678"
#define WRONG_PIN "0000"
#define MAX_CIO 8

static struct e2e_card card;
static int parallel_wrong;

static int setup(void **state)
{
	if (e2e_connect(&card) != 0) {
		fprintf(stderr, "e2e-card: no card (run under test/with-vcard)\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	e2e_disconnect(&card);
	return 0;
}

static const char *ee_name(int app)
{
	return app == 1 ? "sig.crt.der" : "auth.crt.der";
}

/* ---- discovery ----------------------------------------------------------------------- */

/* Partial-AID discovery (G31 C.2.1, facts §1.2): RID with P2=00, then P2=02 until not 9000. */
static void test_discovery(void **state)
{
	static const uint8_t sig[] = { HPKI_AID_SIGNATURE }, auth[] = { HPKI_AID_AUTHENTICATION };
	uint8_t fci[E2E_RESP_MAX];
	size_t len;

	assert_int_equal(e2e_apdu(&card, "00 A4 04 00 05 E8 28 BD 08 0F 00", fci, &len), HPKI_SW_OK);
	assert_true(len >= 4 + HPKI_AID_LEN && fci[0] == 0x6F && fci[2] == 0x84 && fci[3] == HPKI_AID_LEN);
	assert_memory_equal(fci + 4, sig, HPKI_AID_LEN);
	assert_int_equal(e2e_apdu(&card, "00 A4 04 02 05 E8 28 BD 08 0F 00", fci, &len), HPKI_SW_OK);
	assert_true(len >= 4 + HPKI_AID_LEN && fci[2] == 0x84);
	assert_memory_equal(fci + 4, auth, HPKI_AID_LEN);
	assert_int_equal(e2e_apdu(&card, "00 A4 04 02 05 E8 28 BD 08 0F 00", fci, &len), HPKI_SW_FILE_NOT_FOUND);
}

/* ---- directories ------------------------------------------------------------------------- */

struct directories {
	struct hpki_od_entry od[MAX_CIO];
	size_t od_count;
	struct hpki_cd_cert certs[MAX_CIO];
	size_t cert_count;
};

static void read_od(int app, struct directories *dirs)
{
	struct hpki_cio_path od_path;
	uint8_t *der;
	size_t len;

	assert_int_equal(e2e_select_app(&card, app), HPKI_SW_OK);
	hpki_cio_path_set_sfi(&od_path, HPKI_SFI_OD);
	assert_int_equal(e2e_read_path(&card, &od_path, 256, &der, &len), HPKI_SW_OK);
	assert_int_equal(hpki_cio_decode_od(der, len, dirs->od, MAX_CIO, &dirs->od_count), HPKI_CIO_OK);
	assert_true(dirs->od_count >= 3);
	free(der);
}

static const struct hpki_cio_path *od_path_of(const struct directories *dirs, enum hpki_od_kind kind)
{
	for (size_t i = 0; i < dirs->od_count; i++)
		if (dirs->od[i].kind == kind)
			return &dirs->od[i].path;
	return NULL;
}

static void read_directories(int app, struct directories *dirs)
{
	const struct hpki_cio_path *path;
	struct hpki_cio_path cia_path;
	struct hpki_cia_info cia;
	struct hpki_aod_pin pins[MAX_CIO];
	struct hpki_prkd_key keys[MAX_CIO];
	size_t n, len;
	uint8_t *der;

	read_od(app, dirs);
	hpki_cio_path_set_sfi(&cia_path, HPKI_SFI_CIAINFO);
	assert_int_equal(e2e_read_path(&card, &cia_path, 256, &der, &len), HPKI_SW_OK);
	assert_int_equal(hpki_cio_decode_cia_info(der, len, &cia), HPKI_CIO_OK);
	free(der);

	assert_non_null(path = od_path_of(dirs, HPKI_OD_AUTH_OBJECTS));
	assert_int_equal(e2e_read_path(&card, path, 256, &der, &len), HPKI_SW_OK);
	assert_int_equal(hpki_cio_decode_aod(der, len, pins, MAX_CIO, &n), HPKI_CIO_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pins[0].pwd_reference & 0xFF, e2e_pin_reference(&card));
	free(der);

	assert_non_null(path = od_path_of(dirs, HPKI_OD_PRIVATE_KEYS));
	assert_int_equal(e2e_read_path(&card, path, 256, &der, &len), HPKI_SW_OK);
	assert_int_equal(hpki_cio_decode_prkd(der, len, keys, MAX_CIO, &n), HPKI_CIO_OK);
	assert_int_equal(n, 1);
	/* userConsent on the signature key only (G31 B.4.5). */
	assert_true(app == 1 ? keys[0].user_consent > 0 : keys[0].user_consent == 0);
	free(der);

	assert_non_null(path = od_path_of(dirs, HPKI_OD_CERTIFICATES));
	assert_int_equal(e2e_read_path(&card, path, 256, &der, &len), HPKI_SW_OK);
	assert_int_equal(hpki_cio_decode_cd(der, len, dirs->certs, MAX_CIO, &dirs->cert_count), HPKI_CIO_OK);
	assert_true(dirs->cert_count >= 2);
	free(der);
}

static void test_directories(void **state)
{
	struct directories dirs;

	read_directories(1, &dirs);
	read_directories(2, &dirs);
}

/* ---- certificates -------------------------------------------------------------------------- */

/* hcRole: subjectDirectoryAttributes (2.5.29.9) holding the coding scheme
 * 1.2.392.100495.1.6.1.1 and the role text (facts §7). The OID and the string are
 * looked for in the extension's DER, which is how the value is defined there. */
static bool has_hcrole(X509 *x, const char *role)
{
	static const uint8_t scheme[] = { 0x06, 0x0A, 0x2A, 0x83, 0x08, 0x86, 0x91, 0x0F, 0x01, 0x06, 0x01, 0x01 };
	ASN1_OBJECT *sda = OBJ_txt2obj("2.5.29.9", 1);
	int pos = X509_get_ext_by_OBJ(x, sda, -1);
	ASN1_OBJECT_free(sda);
	if (pos < 0)
		return false;
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(x, pos));
	const uint8_t *d = ASN1_STRING_get0_data(v);
	size_t n = (size_t)ASN1_STRING_length(v), rl = strlen(role);
	bool found_scheme = false, found_role = false;
	for (size_t i = 0; i + sizeof scheme <= n; i++)
		found_scheme |= memcmp(d + i, scheme, sizeof scheme) == 0;
	for (size_t i = 0; i + rl <= n; i++)
		found_role |= memcmp(d + i, role, rl) == 0;
	return found_scheme && found_role;
}

/* The certificate read over PC/SC must be one of the issued files, byte for byte. */
static void check_cert(const struct hpki_cd_cert *desc, int app, const uint8_t *der, size_t len)
{
	static const char *const ca_files[] = { "root.der", "sign-ca.der", "auth-ca.der" };
	size_t flen;
	uint8_t *file;
	bool matched = false;

	if (!desc->authority) {
		file = e2e_load_file(&card, card.holder, ee_name(app), &flen);
		assert_non_null(file);
		assert_int_equal(len, flen);
		assert_memory_equal(der, file, len);
		free(file);
		const uint8_t *p = der;
		X509 *x = d2i_X509(NULL, &p, (long)len);
		assert_non_null(x);
		if (!strcmp(card.holder, "doctor"))
			assert_true(has_hcrole(x, "Medical Doctor"));
		X509_free(x);
		return;
	}
	for (size_t i = 0; i < 3 && !matched; i++) {
		file = e2e_load_file(&card, "ca", ca_files[i], &flen);
		matched = file != NULL && flen == len && memcmp(file, der, len) == 0;
		free(file);
	}
	assert_true(matched);
}

static void read_all_certs(size_t chunk)
{
	for (int app = 1; app <= 2; app++) {
		struct directories dirs;
		size_t ee = 0;

		read_directories(app, &dirs);
		for (size_t i = 0; i < dirs.cert_count; i++) {
			uint8_t *der;
			size_t len;
			assert_int_equal(e2e_read_path(&card, &dirs.certs[i].path, chunk, &der, &len), HPKI_SW_OK);
			check_cert(&dirs.certs[i], app, der, len);
			ee += !dirs.certs[i].authority;
			free(der);
		}
		assert_int_equal(ee, 1);
	}
}

static void test_certificates_short(void **state)
{
	read_all_certs(256);
	read_all_certs(100); /* odd chunk: offsets that are not block numbers */
}

static void test_certificates_extended(void **state)
{
	uint8_t data[E2E_RESP_MAX];
	size_t len;

	if (!card.extended) {
		/* Short-only card: an extended Le is a wrong length (ISO 7816-4 §5.1). */
		assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
		assert_int_equal(e2e_apdu(&card, "00 B0 91 00 00 00 00", data, &len), HPKI_SW_WRONG_LENGTH);
		return;
	}
	read_all_certs(0);
}

/* ---- signatures ------------------------------------------------------------------------------ */

static void verify_signature(int app, const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	size_t len;
	uint8_t *der = e2e_load_file(&card, card.holder, ee_name(app), &len);
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_non_null(x);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, sig_len, msg, msg_len), 1);
	EVP_MD_CTX_free(md);
	X509_free(x);
	free(der);
}

static void sign_and_verify(int app, const char *pin)
{
	static const uint8_t msg[] = "hpki-vcard e2e: TEST document";
	uint8_t *sig;
	size_t sig_len;

	assert_int_equal(e2e_select_app(&card, app), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, pin), HPKI_SW_OK);
	assert_int_equal(e2e_sign(&card, app, msg, sizeof msg, &sig, &sig_len), HPKI_SW_OK);
	verify_signature(app, msg, sizeof msg, sig, sig_len);
	free(sig);
}

static void test_signatures(void **state)
{
	sign_and_verify(1, SIGN_PIN);
	sign_and_verify(2, AUTH_PIN);
}

/* userConsent: the signature AP needs VERIFY before every signature; the authentication
 * AP keeps its state for the selection (G31 §4.3.8, B.4.5). */
static void test_signature_needs_fresh_verify(void **state)
{
	static const uint8_t msg[] = "second signature";
	uint8_t *sig;
	size_t len;

	sign_and_verify(1, SIGN_PIN);
	assert_int_equal(e2e_sign(&card, 1, msg, sizeof msg, &sig, &len), HPKI_SW_SECURITY_STATUS);
	free(sig);
	sign_and_verify(2, AUTH_PIN);
	assert_int_equal(e2e_sign(&card, 2, msg, sizeof msg, &sig, &len), HPKI_SW_OK);
	verify_signature(2, msg, sizeof msg, sig, len);
	free(sig);
}

/* ---- PIN --------------------------------------------------------------------------------------- */

static int ctl_tries(const char *env, int app)
{
	char reply[256];

	if (e2e_ctl(env, reply, sizeof reply, "tries %s", app == 1 ? "sig" : "auth") != 0)
		return -1;
	return atoi(reply + 3);
}

static void test_wrong_pin(void **state)
{
	uint16_t sw;

	/* Selecting the other application first drops any verified state. */
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	sw = e2e_verify(&card, NULL);
	assert_int_equal(sw & 0xFFF0, HPKI_SW_PIN_TRIES_LEFT);
	unsigned n = sw & 0x0F;
	assert_true(n >= 2);
	assert_int_equal(e2e_verify(&card, WRONG_PIN), HPKI_SW_PIN_TRIES_LEFT | (n - 1));
	/* An empty VERIFY only asks: the count stays (facts §3). */
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_PIN_TRIES_LEFT | (n - 1));
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_PIN_TRIES_LEFT | (n - 1));
	assert_int_equal(ctl_tries(NULL, 2), (int)n - 1);
	/* The right PIN resets the counter. */
	assert_int_equal(e2e_verify(&card, AUTH_PIN), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_OK);
	assert_int_equal(ctl_tries(NULL, 2), HPKI_PIN_MAX_TRIES);
}

/* Security state is per application and not carried over (G31 §4.4.2 (3)). */
static void test_other_app_drops_state(void **state)
{
	static const uint8_t msg[] = "m";
	uint8_t *sig;
	size_t len;

	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, AUTH_PIN), HPKI_SW_OK);
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, NULL) & 0xFFF0, HPKI_SW_PIN_TRIES_LEFT);
	assert_int_equal(e2e_sign(&card, 2, msg, sizeof msg, &sig, &len), HPKI_SW_SECURITY_STATUS);
	free(sig);
}

/* ---- robustness ------------------------------------------------------------------------------- */

struct bad_apdu {
	const char *hex;
	uint16_t sw;
};

static void test_bad_apdus(void **state)
{
	char verify_bad_len[64], verify_bad_ref[64];
	const struct bad_apdu cases[] = {
		{ "00 FF 00 00", HPKI_SW_INS_NOT_SUPPORTED },
		{ "A0 A4 04 00 05 E8 28 BD 08 0F 00", HPKI_SW_CLA_NOT_SUPPORTED },
		{ "00 A4 04 00 05 E8 28 BD 08 0E 00", HPKI_SW_FILE_NOT_FOUND },
		{ "00 A4 02 0C 02 77 77", HPKI_SW_FILE_NOT_FOUND },
		{ "00 A4 02 0C 03 00 16", 0x6700 },      /* Lc 3, 2 data bytes */
		{ "00 A4 02 0C 01 00", HPKI_SW_WRONG_LENGTH },
		{ "00 B0 9F 00 00", HPKI_SW_FILE_NOT_FOUND }, /* SFI 1F */
		{ "00 B0 7F 00 00", HPKI_SW_WRONG_P1P2 },  /* offset past the end of EF.OD */
		{ "00 22 41 B6 04 84 02 77 77", 0 },
		/* Not verified; the 2019 card has no ISO PSO at all. */
		{ "00 2A 9E 9A 04 01 02 03 04 00",
		  e2e_profile_is(&card, "jma-2019") ? HPKI_SW_INS_NOT_SUPPORTED : HPKI_SW_SECURITY_STATUS },
		{ verify_bad_len, HPKI_SW_WRONG_LENGTH },
		{ verify_bad_ref, HPKI_SW_REF_NOT_FOUND },
	};
	uint8_t data[E2E_RESP_MAX];
	size_t len;

	snprintf(verify_bad_len, sizeof verify_bad_len, "00 20 00 %02X 02 31 32", e2e_pin_reference(&card));
	snprintf(verify_bad_ref, sizeof verify_bad_ref, "00 20 00 01 04 31 32 33 34");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
		/* Make EF.OD current for the offset case. */
		assert_int_equal(e2e_apdu(&card, "00 B0 91 00 01", data, &len), HPKI_SW_OK);
		uint16_t sw = e2e_apdu(&card, cases[i].hex, data, &len);
		if (cases[i].sw != 0) {
			if (sw != cases[i].sw)
				fprintf(stderr, "case %s: SW %04X, expected %04X\n", cases[i].hex, sw, cases[i].sw);
			assert_int_equal(sw, cases[i].sw);
		} else {
			assert_true(sw != HPKI_SW_OK && sw != 0);
		}
	}
	/* The card still answers, and no try was used by any of it. */
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_PIN_TRIES_LEFT | HPKI_PIN_MAX_TRIES);
}

/* Frames that are not valid APDUs at all still get an answer, and the card lives on. */
static void test_malformed_frames(void **state)
{
	/* No 1-byte frame: on the vpcd wire a 1-byte payload is a control byte (00 is
	 * power off, never answered), so pcscd would wait forever for any card. */
	static const char *const frames[] = { "00 A4", "00 A4 04", "00 B0 00 00 00 00", "00 B0 00 00 00 01 00 00",
					      "00 A4 04 00 FF", "FF FF FF FF FF FF" };
	uint8_t cmd[16], resp[E2E_RESP_MAX];

	for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
		size_t n = e2e_hex(frames[i], cmd, sizeof cmd);
		DWORD rlen = sizeof resp;
		/* pcscd may refuse some of these itself; either way the card must survive. */
		(void)SCardTransmit(card.handle, SCARD_PCI_T1, cmd, (DWORD)n, NULL, resp, &rlen);
	}
	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	assert_int_equal(e2e_ctl(NULL, NULL, 0, "status"), 0);
}

/* ---- the control socket ---------------------------------------------------------------------------- */

static void test_faults_and_stats(void **state)
{
	char reply[2048];
	uint8_t data[E2E_RESP_MAX];
	size_t len;

	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "stats-reset"), 0);
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, NULL) & 0xFFF0, HPKI_SW_PIN_TRIES_LEFT);
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "stats"), 0);
	/* Two commands, plus the GET RESPONSE (61xx) or the repeated SELECT (6Cxx)
	 * a T=0-style card makes the client send. */
	assert_int_equal(e2e_field(reply, "apdus"),
			 e2e_field(reply, "ins_A4") + e2e_field(reply, "ins_20") + e2e_field(reply, "ins_C0"));
	assert_true(e2e_field(reply, "ins_A4") >= 1 && e2e_field(reply, "ins_A4") <= 2);
	assert_int_equal(e2e_field(reply, "ins_20"), 1);
	assert_int_equal(e2e_field(reply, "verify_pin"), 0);

	/* One-shot status word, then normal again. */
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "fault sw 6A88"), 0);
	assert_int_equal(e2e_select_app(&card, 1), 0x6A88);
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	/* Truncated and garbage answers reach the client as such; the card recovers. */
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "fault truncate 3"), 0);
	(void)e2e_apdu(&card, "00 B0 91 00 00", data, &len);
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "fault garbage 40"), 0);
	(void)e2e_apdu(&card, "00 B0 91 00 00", data, &len);
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	/* Bad control commands are refused with a reason. */
	assert_int_not_equal(e2e_ctl(NULL, reply, sizeof reply, "fault sw XYZ"), 0);
	assert_int_equal(strncmp(reply, "error: ", 7), 0);
	assert_int_not_equal(e2e_ctl(NULL, reply, sizeof reply, "no-such-command"), 0);
	assert_int_not_equal(e2e_ctl(NULL, reply, sizeof reply, "swap ../etc"), 0);
}

/* Removal and insertion through the control socket, seen with SCardGetStatusChange. */
static void test_removal(void **state)
{
	char reply[2048];

	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "remove"), 0);
	assert_true(e2e_wait_presence(&card, false, 3000));
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "status"), 0);
	assert_non_null(strstr(reply, "ok removed"));
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "insert"), 0);
	assert_true(e2e_wait_presence(&card, true, 3000));
	/* The old handle saw the card go; a new connection works. */
	e2e_disconnect(&card);
	assert_int_equal(e2e_connect(&card), 0);
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
}

/* Swap in another holder: a different card appears in the same reader. */
static void test_swap(void **state)
{
	char reply[2048];
	struct directories dirs;
	char saved[64];

	snprintf(saved, sizeof saved, "%s", card.holder);
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "swap pharmacist"), 0);
	/* The reader goes empty, then holds the new card (vpcd polls every ~0.4 s). */
	assert_true(e2e_wait_presence(&card, false, 3000));
	assert_true(e2e_wait_presence(&card, true, 3000));
	e2e_disconnect(&card);
	assert_int_equal(e2e_connect(&card), 0);
	assert_string_equal(card.holder, "pharmacist");
	read_directories(1, &dirs);
	for (size_t i = 0; i < dirs.cert_count; i++) {
		uint8_t *der;
		size_t len;
		if (dirs.certs[i].authority)
			continue;
		assert_int_equal(e2e_read_path(&card, &dirs.certs[i].path, 256, &der, &len), HPKI_SW_OK);
		check_cert(&dirs.certs[i], 1, der, len);
		free(der);
	}
	assert_int_equal(e2e_ctl(NULL, reply, sizeof reply, "swap %s", saved), 0);
	assert_true(e2e_wait_presence(&card, false, 3000));
	assert_true(e2e_wait_presence(&card, true, 3000));
	e2e_disconnect(&card);
	assert_int_equal(e2e_connect(&card), 0);
}

/* ---- PIN counter across restarts (pin-persistence.e2e) --------------------------------------------- */

static void test_pin_phase1(void **state)
{
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_PIN_TRIES_LEFT | 15);
	assert_int_equal(e2e_verify(&card, WRONG_PIN), HPKI_SW_PIN_TRIES_LEFT | 14);
}

static void test_pin_phase2(void **state)
{
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	/* The card process was restarted: the count survived in the state dir. */
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_PIN_TRIES_LEFT | 14);
	for (unsigned left = 13; left > 0; left--)
		assert_int_equal(e2e_verify(&card, WRONG_PIN), HPKI_SW_PIN_TRIES_LEFT | left);
	/* The 15th wrong PIN uses the last try; from then on the PIN is blocked (6983). */
	uint16_t sw = e2e_verify(&card, WRONG_PIN);
	assert_true(sw == (HPKI_SW_PIN_TRIES_LEFT | 0) || sw == HPKI_SW_AUTH_BLOCKED);
	assert_int_equal(e2e_verify(&card, SIGN_PIN), HPKI_SW_AUTH_BLOCKED);
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_AUTH_BLOCKED);
	assert_int_equal(ctl_tries(NULL, 1), 0);
	/* The other application's PIN is its own. */
	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_PIN_TRIES_LEFT | 15);
}

static void test_pin_phase3(void **state)
{
	assert_int_equal(e2e_select_app(&card, 1), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, SIGN_PIN), HPKI_SW_AUTH_BLOCKED);
	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, AUTH_PIN), HPKI_SW_OK);
}

/* ---- two test beds at once (parallel.e2e) ------------------------------------------------------------- */

static void test_parallel(void **state)
{
	struct directories dirs;

	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	for (int i = 0; i < parallel_wrong; i++)
		assert_int_equal(e2e_verify(&card, WRONG_PIN), HPKI_SW_PIN_TRIES_LEFT | (unsigned)(14 - i));
	/* Read this bed's holder's certificate while the other bed works on its own. */
	read_directories(2, &dirs);
	for (size_t i = 0; i < dirs.cert_count; i++) {
		uint8_t *der;
		size_t len;
		assert_int_equal(e2e_read_path(&card, &dirs.certs[i].path, 256, &der, &len), HPKI_SW_OK);
		check_cert(&dirs.certs[i], 2, der, len);
		free(der);
	}
	assert_int_equal(e2e_select_app(&card, 2), HPKI_SW_OK);
	assert_int_equal(e2e_verify(&card, NULL), HPKI_SW_PIN_TRIES_LEFT | (unsigned)(15 - parallel_wrong));
	assert_int_equal(ctl_tries(NULL, 2), 15 - parallel_wrong);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest suite[] = {
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_directories),
		cmocka_unit_test(test_certificates_short),
		cmocka_unit_test(test_certificates_extended),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_signature_needs_fresh_verify),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_other_app_drops_state),
		cmocka_unit_test(test_bad_apdus),
		cmocka_unit_test(test_malformed_frames),
		cmocka_unit_test(test_faults_and_stats),
		cmocka_unit_test(test_removal),
		cmocka_unit_test(test_swap),
	};
	const struct CMUnitTest phase1[] = { cmocka_unit_test(test_pin_phase1) };
	const struct CMUnitTest phase2[] = { cmocka_unit_test(test_pin_phase2) };
	const struct CMUnitTest phase3[] = { cmocka_unit_test(test_pin_phase3) };
	const struct CMUnitTest parallel[] = { cmocka_unit_test(test_parallel) };
	const char *what = argc > 1 ? argv[1] : "suite";

	if (!strcmp(what, "suite"))
		return cmocka_run_group_tests_name("e2e card", suite, setup, teardown);
	if (!strcmp(what, "pin-phase1"))
		return cmocka_run_group_tests_name("e2e PIN before restart", phase1, setup, teardown);
	if (!strcmp(what, "pin-phase2"))
		return cmocka_run_group_tests_name("e2e PIN after restart", phase2, setup, teardown);
	if (!strcmp(what, "pin-phase3"))
		return cmocka_run_group_tests_name("e2e PIN lock after restart", phase3, setup, teardown);
	if (!strcmp(what, "parallel")) {
		parallel_wrong = argc > 2 ? atoi(argv[2]) : 0;
		return cmocka_run_group_tests_name("e2e parallel bed", parallel, setup, teardown);
	}
	fprintf(stderr, "usage: e2e-card suite|pin-phase1|pin-phase2|pin-phase3|parallel N\n");
	return 2;
}
