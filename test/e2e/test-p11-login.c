/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Login state through the real stack (issue 8 §1, §2, §8): a PIN the card has just
 * refused is never sent again, background calls never cancel a login, a logout ends
 * the card-side login, and the module's idea of the login follows the card. Tries
 * and APDUs are counted on the virtual card. Run twice by make check: at the default
 * refresh interval (1 s: the module must keep its state right by itself) and at 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <winscard.h>

#include "p11-helpers.h"

#define AUTH_PIN "1234"
#define SIGN_PIN "5678"
#define APP_SIGN 1
#define APP_AUTH 2

static const unsigned char message[] = "処方箋 (e-prescription) for TEST patient 0002";
static double refresh_interval = 1.0;

struct tok {
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	const char *pin;
	int app;
};

static void open_tok(struct tok *t, int app)
{
	memset(t, 0, sizeof *t);
	t->app = app;
	t->pin = app == APP_SIGN ? SIGN_PIN : AUTH_PIN;
	assert_true(p11_find_token(app == APP_SIGN ? "HPKI Sign" : "HPKI Auth", &t->slot));
	assert_int_equal(p11->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &t->session), CKR_OK);
}

/* The private key is a private object (PKCS#11 2.40 §4.4): found after the first
 * successful C_Login(CKU_USER), kept for the rest of the test. */
static CK_RV login(struct tok *t, CK_USER_TYPE user, const char *pin)
{
	CK_RV rv = p11->C_Login(t->session, user, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));

	if (rv == CKR_OK && user == CKU_USER && t->key == 0)
		t->key = p11_find_one(t->session, CKO_PRIVATE_KEY, NULL, 0);
	return rv;
}

static int tries_left(int app)
{
	char reply[256];

	assert_int_equal(vcard_ctl(reply, sizeof reply, "tries %s", app == APP_SIGN ? "sig" : "auth"), 0);
	return atoi(strchr(reply, ' ') != NULL ? strchr(reply, ' ') + 1 : reply);
}

static CK_STATE session_state(const struct tok *t)
{
	CK_SESSION_INFO info;

	assert_int_equal(p11->C_GetSessionInfo(t->session, &info), CKR_OK);
	return info.state;
}

static CK_FLAGS token_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO info;

	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	return info.flags;
}

static CK_RV sign_init(const struct tok *t)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };

	return p11->C_SignInit(t->session, &mech, t->key);
}

static CK_RV sign_now(const struct tok *t)
{
	unsigned char sig[512];
	CK_ULONG len = sizeof sig;

	return p11->C_Sign(t->session, (CK_BYTE_PTR)message, sizeof message, sig, &len);
}

/* SignInit, context login when the key wants one, Sign. */
static CK_RV sign_once(struct tok *t, const char *pin)
{
	CK_RV rv = sign_init(t);

	if (rv == CKR_OK && t->app == APP_SIGN)
		rv = login(t, CKU_CONTEXT_SPECIFIC, pin);
	return rv == CKR_OK ? sign_now(t) : rv;
}

static void wait_refresh(void)
{
	usleep((useconds_t)(refresh_interval * 1e6) + 100000);
}

/* ---- another program on the same card (raw PC/SC) ----------------------------------- */

static const char *const select_app_hex[] = {
	/* As real tools select (P2=00 with Le, card-fidelity §1.4): every card takes it. */
	[APP_SIGN] = "00A4040010E828BD080FA00000039100000000000100",
	[APP_AUTH] = "00A4040010E828BD080FA00000039100000000000200",
};

static size_t hex_bytes(const char *hex, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (hex[0] != '\0' && hex[1] != '\0' && n < max) {
		unsigned int b;

		sscanf(hex, "%2x", &b);
		out[n++] = (unsigned char)b;
		hex += 2;
	}
	return n;
}

/* What a real tool does on a card that answers 6Cxx (repeat with Le = xx) or 61xx
 * (GET RESPONSE until the data is out); returns the final status word. */
static unsigned finish_exchange(SCARDHANDLE card, unsigned char *cmd, size_t len, unsigned sw)
{
	unsigned char resp[600];
	DWORD resp_len;

	if ((sw >> 8) == 0x6C) {
		cmd[len - 1] = (unsigned char)sw;
		resp_len = sizeof resp;
		assert_int_equal(SCardTransmit(card, SCARD_PCI_T1, cmd, (DWORD)len, NULL, resp, &resp_len),
				 SCARD_S_SUCCESS);
		sw = resp_len >= 2 ? (unsigned)(resp[resp_len - 2] << 8 | resp[resp_len - 1]) : 0;
	}
	for (int rounds = 0; (sw >> 8) == 0x61 && rounds < 64; rounds++) {
		unsigned char get_response[] = { 0x00, 0xC0, 0x00, 0x00, (unsigned char)sw };

		resp_len = sizeof resp;
		assert_int_equal(SCardTransmit(card, SCARD_PCI_T1, get_response, sizeof get_response, NULL, resp,
					       &resp_len),
				 SCARD_S_SUCCESS);
		sw = resp_len >= 2 ? (unsigned)(resp[resp_len - 2] << 8 | resp[resp_len - 1]) : 0;
	}
	return sw;
}

/* Sends each APDU (hex, NULL-terminated list) as another process would; returns the
 * last status word. `reset`: resets the card first. */
static unsigned other_program(bool reset, const char *const *apdus)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD protocol, readers_len = 1024, resp_len;
	char readers[1024];
	unsigned char cmd[300], resp[600];
	unsigned sw = 0;
	LONG rv;

	assert_int_equal(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx), SCARD_S_SUCCESS);
	assert_int_equal(SCardListReaders(ctx, NULL, readers, &readers_len), SCARD_S_SUCCESS);
	assert_int_equal(SCardConnect(ctx, readers, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &card, &protocol),
			 SCARD_S_SUCCESS);
	if (reset)
		assert_int_equal(SCardReconnect(card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, SCARD_RESET_CARD, &protocol),
				 SCARD_S_SUCCESS);
	/* Like opensc-tool: one transaction, waiting while someone else holds the card. */
	rv = SCardBeginTransaction(card);
	if (rv == SCARD_W_RESET_CARD) {
		assert_int_equal(SCardReconnect(card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD, &protocol),
				 SCARD_S_SUCCESS);
		rv = SCardBeginTransaction(card);
	}
	assert_int_equal(rv, SCARD_S_SUCCESS);
	for (; apdus != NULL && *apdus != NULL; apdus++) {
		size_t len = hex_bytes(*apdus, cmd, sizeof cmd);

		resp_len = sizeof resp;
		assert_int_equal(SCardTransmit(card, SCARD_PCI_T1, cmd, (DWORD)len, NULL, resp, &resp_len),
				 SCARD_S_SUCCESS);
		sw = resp_len >= 2 ? (unsigned)(resp[resp_len - 2] << 8 | resp[resp_len - 1]) : 0;
		sw = finish_exchange(card, cmd, len, sw);
	}
	SCardEndTransaction(card, SCARD_LEAVE_CARD);
	SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return sw;
}

/* SELECT, MSE SET, PSO COMPUTE DIGITAL SIGNATURE (a 256-byte block, extended Lc/Le)
 * with the application's key: 69 82 unless a PIN is verified on the card. */
static unsigned other_program_signs(int app)
{
	static char pso[2 * 270], part1[2 * 140], part2[2 * 140];
	const char *mse = "002241B604840200" "0C";
	const char *forms[][4] = {
		{ mse, pso, NULL },                               /* the application left current, extended */
		{ mse, part1, part2, NULL },                      /* the same, chained (no extended length) */
		{ select_app_hex[app], mse, pso, NULL },          /* selected first */
		{ select_app_hex[app], mse, part1, part2 },
	};
	size_t n;
	unsigned sw = 0;

	n = (size_t)sprintf(pso, "002A9E9A00010000");
	for (int i = 1; i < 256; i++, n += 2)
		memcpy(pso + n, "01", 2);
	strcpy(pso + n, "0000");
	n = (size_t)sprintf(part1, "102A9E9A8000");
	for (int i = 1; i < 128; i++, n += 2)
		memcpy(part1 + n, "01", 2);
	part1[n] = '\0';
	n = (size_t)sprintf(part2, "002A9E9A80");
	for (int i = 0; i < 128; i++, n += 2)
		memcpy(part2 + n, "01", 2);
	strcpy(part2 + n, "00");
	/* On the application the module left current first: on a card where a SELECT of
	 * the current application clears the PIN (hpki-vcard --reselect clear-pin) only
	 * this shows a verification left on the card. A card without extended length
	 * gets the chained form. */
	for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
		const char *apdus[5] = { forms[f][0], forms[f][1], forms[f][2], forms[f][3], NULL };

		sw = other_program(false, apdus);
		if (sw == 0x9000)
			break;
	}
	return sw;
}

/* ---- §1: a refused PIN is not sent again -------------------------------------------- */

static void test_repeated_wrong_pin_never_reaches_the_card(void **state)
{
	struct tok t;
	long verifies;

	open_tok(&t, APP_AUTH);
	assert_int_equal(tries_left(APP_AUTH), 15);
	assert_int_equal(login(&t, CKU_USER, "0000"), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(APP_AUTH), 14);
	verifies = vcard_stat("ins_20");
	/* An application looping on its password callback: no APDU at all, NSS stops. */
	for (int i = 0; i < 20; i++)
		assert_int_equal(login(&t, CKU_USER, "0000"), CKR_PIN_INVALID);
	assert_int_equal(vcard_stat("ins_20"), verifies);
	assert_int_equal(tries_left(APP_AUTH), 14);
	/* A person mistyping differently pays one try each; then the right PIN works. */
	assert_int_equal(login(&t, CKU_USER, "0001"), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(APP_AUTH), 13);
	assert_int_equal(login(&t, CKU_USER, "0000"), CKR_PIN_INCORRECT); /* only the last one is kept */
	assert_int_equal(tries_left(APP_AUTH), 12);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(tries_left(APP_AUTH), 15);
	/* Success forgot the mark: after a logout the old wrong PIN costs a try again. */
	assert_int_equal(p11->C_Logout(t.session), CKR_OK);
	assert_int_equal(login(&t, CKU_USER, "0000"), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(APP_AUTH), 14);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(tries_left(APP_AUTH), 15);
}

static void test_repeated_wrong_context_pin_never_reaches_the_card(void **state)
{
	struct tok t;
	long verifies;

	open_tok(&t, APP_SIGN);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_int_equal(sign_init(&t), CKR_OK);
	assert_int_equal(login(&t, CKU_CONTEXT_SPECIFIC, "0000"), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(APP_SIGN), 14);
	verifies = vcard_stat("ins_20");
	for (int i = 0; i < 20; i++)
		assert_int_equal(login(&t, CKU_CONTEXT_SPECIFIC, "0000"), CKR_PIN_INVALID);
	/* The same application's PIN for CKU_USER is the same PIN. */
	assert_int_equal(vcard_stat("ins_20"), verifies);
	assert_int_equal(tries_left(APP_SIGN), 14);
	assert_int_equal(login(&t, CKU_CONTEXT_SPECIFIC, t.pin), CKR_OK);
	assert_int_equal(sign_now(&t), CKR_OK);
	assert_int_equal(tries_left(APP_SIGN), 15);
}

/* The mark is per application and dies with C_Finalize: a new process may try again. */
static void test_refused_pin_is_per_application_and_forgotten_at_finalize(void **state)
{
	struct tok a, s;

	open_tok(&a, APP_AUTH);
	open_tok(&s, APP_SIGN);
	assert_int_equal(login(&a, CKU_USER, "4321"), CKR_PIN_INCORRECT);
	assert_int_equal(login(&s, CKU_USER, "4321"), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(APP_AUTH), 14);
	assert_int_equal(tries_left(APP_SIGN), 14);
	p11->C_Finalize(NULL);
	p11_init();
	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, "4321"), CKR_PIN_INCORRECT);
	assert_int_equal(tries_left(APP_AUTH), 13);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	open_tok(&s, APP_SIGN);
	assert_int_equal(login(&s, CKU_USER, s.pin), CKR_OK);
	assert_int_equal(tries_left(APP_AUTH), 15);
	assert_int_equal(tries_left(APP_SIGN), 15);
}

/* §8: after a wrong PIN and then the right one, COUNT_LOW is gone at once. */
static void test_count_low_clears_after_the_right_pin(void **state)
{
	struct tok t;

	open_tok(&t, APP_AUTH);
	assert_false(token_flags(t.slot) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(login(&t, CKU_USER, "0000"), CKR_PIN_INCORRECT);
	assert_true(token_flags(t.slot) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(login(&t, CKU_USER, t.pin), CKR_OK);
	assert_false(token_flags(t.slot) & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY));
}

/* ---- §2: background calls never cancel a login -------------------------------------- */

/* The reproduction of issue 8 §2: C_GetTokenInfo on the authentication slot between
 * the signature key's context login and C_Sign. */
static void test_token_info_on_other_slot_between_context_login_and_sign(void **state)
{
	struct tok s, a;
	CK_TOKEN_INFO info;
	CK_SLOT_INFO slot_info;
	long apdus;

	open_tok(&s, APP_SIGN);
	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&s, CKU_USER, s.pin), CKR_OK);
	assert_int_equal(sign_init(&s), CKR_OK);
	assert_int_equal(login(&s, CKU_CONTEXT_SPECIFIC, s.pin), CKR_OK);
	apdus = vcard_stat("apdus");
	wait_refresh();
	assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
	assert_int_equal(p11->C_GetTokenInfo(s.slot, &info), CKR_OK);
	assert_int_equal(p11->C_GetSlotInfo(a.slot, &slot_info), CKR_OK);
	(void)session_state(&a);
	(void)session_state(&s);
	assert_int_equal(vcard_stat("apdus"), apdus);
	assert_int_equal(sign_now(&s), CKR_OK);
	assert_int_equal(tries_left(APP_SIGN), 15);
}

/* While the authentication key is logged in, polling the other token sends nothing:
 * a SELECT of the signature application would end the login on a one-channel card. */
static void test_polling_sends_nothing_while_logged_in(void **state)
{
	struct tok s, a;
	CK_TOKEN_INFO info;
	long apdus, verifies;

	open_tok(&s, APP_SIGN);
	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	apdus = vcard_stat("apdus");
	verifies = vcard_stat("ins_20");
	for (int i = 0; i < 3; i++) {
		wait_refresh();
		assert_int_equal(p11->C_GetTokenInfo(s.slot, &info), CKR_OK);
		assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
		assert_int_equal(session_state(&a), CKS_RO_USER_FUNCTIONS);
		assert_int_equal(session_state(&s), CKS_RO_PUBLIC_SESSION);
	}
	assert_int_equal(vcard_stat("apdus"), apdus);
	assert_int_equal(sign_once(&a, a.pin), CKR_OK);
	assert_int_equal(vcard_stat("ins_20"), verifies); /* no new VERIFY was needed */
}

/* The counter is read with the card at insertion and then changes only through
 * VERIFY: polling C_GetTokenInfo sends nothing, however long it goes on (issue 11),
 * and a C_Login's VERIFY brings the counter up to date. */
static void test_pin_status_not_polled(void **state)
{
	struct tok a;
	CK_TOKEN_INFO info;
	long apdus;

	open_tok(&a, APP_AUTH);
	assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
	apdus = vcard_stat("apdus");
	assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
	wait_refresh();
	assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
	assert_int_equal(vcard_stat("apdus"), apdus);
	assert_false(info.flags & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(login(&a, CKU_USER, "0000"), CKR_PIN_INCORRECT);
	assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
	assert_true(info.flags & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
	assert_false(info.flags & CKF_USER_PIN_COUNT_LOW);
}

/* ---- §8: the module's login follows the card ---------------------------------------- */

static void test_selecting_the_other_application_ends_the_login_at_once(void **state)
{
	struct tok s, a;

	open_tok(&s, APP_SIGN);
	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(login(&s, CKU_USER, s.pin), CKR_OK); /* selects the signature application */
	assert_int_equal(session_state(&a), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(sign_init(&a), CKR_USER_NOT_LOGGED_IN);
}

static void test_6982_from_sign_drops_the_login(void **state)
{
	struct tok a;

	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(sign_init(&a), CKR_OK);
	/* Another program selects the signature application: the card forgets the login. */
	assert_int_equal(other_program(false, (const char *const[]){ select_app_hex[APP_SIGN], NULL }), 0x9000);
	assert_int_equal(sign_now(&a), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(session_state(&a), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(tries_left(APP_AUTH), 15);
}

/* After another program's reset, C_GetTokenInfo alone notices the lost login: the next
 * C_Login is a login, not CKR_USER_ALREADY_LOGGED_IN. */
static void test_token_info_drops_a_login_lost_to_a_reset(void **state)
{
	struct tok a;
	CK_TOKEN_INFO info;

	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(other_program(true, NULL), 0);
	wait_refresh();
	assert_int_equal(p11->C_GetTokenInfo(a.slot, &info), CKR_OK);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(sign_once(&a, a.pin), CKR_OK);
}

static void test_close_all_sessions_logs_out(void **state)
{
	struct tok a, b;

	open_tok(&a, APP_AUTH);
	open_tok(&b, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(session_state(&b), CKS_RO_USER_FUNCTIONS);
	assert_int_equal(p11->C_CloseAllSessions(a.slot), CKR_OK);
	open_tok(&b, APP_AUTH);
	assert_int_equal(session_state(&b), CKS_RO_PUBLIC_SESSION);
	assert_int_equal(login(&b, CKU_USER, b.pin), CKR_OK);
}

static void test_logout_ends_every_sessions_sign_operation(void **state)
{
	struct tok a, b;

	open_tok(&a, APP_AUTH);
	open_tok(&b, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	b.key = a.key; /* one login covers every session of the token; the key is the same object */
	assert_int_equal(sign_init(&b), CKR_OK);
	assert_int_equal(p11->C_Logout(a.session), CKR_OK);
	assert_int_equal(sign_now(&b), CKR_OPERATION_NOT_INITIALIZED);
}

/* ---- §2: logout means logout --------------------------------------------------------- */

static void test_logout_and_finalize_end_the_card_login(void **state)
{
	struct tok a;

	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(other_program_signs(APP_AUTH), 0x9000); /* proof the probe can sign */
	assert_int_equal(p11->C_Logout(a.session), CKR_OK);
	assert_int_equal(other_program_signs(APP_AUTH), 0x6982);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	p11->C_Finalize(NULL);
	assert_int_equal(other_program_signs(APP_AUTH), 0x6982);
	p11_init();
	/* Closing the last session logs out too. */
	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(p11->C_CloseSession(a.session), CKR_OK);
	assert_int_equal(other_program_signs(APP_AUTH), 0x6982);
	assert_int_equal(tries_left(APP_AUTH), 15);
}

/* A process that did not log in (pkcs11-tool -L, a status poll) ends nothing when it
 * exits. (Its reading of the card is another matter: enumerating selects both
 * applications, so it runs here before the login.) */
static void test_a_process_that_did_not_log_in_ends_nothing(void **state)
{
	struct tok a;
	int ready[2], go[2], status;
	char byte = 0;
	long verifies;
	pid_t child;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	if (child == 0) {
		CK_SLOT_ID slot;
		CK_TOKEN_INFO info;

		p11_init();
		if (!p11_find_token("HPKI Auth", &slot) || p11->C_GetTokenInfo(slot, &info) != CKR_OK)
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &byte, 1) != 1)
			_exit(1);
		_exit(p11->C_Finalize(NULL) == CKR_OK ? 0 : 1);
	}
	assert_int_equal(read(ready[0], &byte, 1), 1);
	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	verifies = vcard_stat("ins_20");
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	wait_refresh();
	assert_int_equal(session_state(&a), CKS_RO_USER_FUNCTIONS);
	assert_int_equal(sign_once(&a, a.pin), CKR_OK);
	assert_int_equal(vcard_stat("ins_20"), verifies);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
	}
}

/* A card swapped while logged in: the login ended with the old card, and the new
 * card (maybe another doctor's, verified by another program) is not reset. Another
 * program's connection to the new card would see SCARD_W_RESET_CARD if it were. */
static void test_no_reset_of_a_card_swapped_in(void **state)
{
	struct tok a;
	CK_SESSION_INFO info;
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD protocol, readers_len = 1024;
	char readers[1024];

	open_tok(&a, APP_AUTH);
	assert_int_equal(login(&a, CKU_USER, a.pin), CKR_OK);
	assert_int_equal(vcard_ctl(NULL, 0, "swap %s", "doctor"), 0);
	usleep(1500000); /* pcscd sees the new card */
	assert_int_equal(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx), SCARD_S_SUCCESS);
	assert_int_equal(SCardListReaders(ctx, NULL, readers, &readers_len), SCARD_S_SUCCESS);
	assert_int_equal(SCardConnect(ctx, readers, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &card, &protocol),
			 SCARD_S_SUCCESS);
	/* The module notices the swap and drops the old card's login. */
	assert_int_not_equal(p11->C_GetSessionInfo(a.session, &info), CKR_OK);
	assert_int_equal(SCardBeginTransaction(card), SCARD_S_SUCCESS);
	SCardEndTransaction(card, SCARD_LEAVE_CARD);
	SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
}

/* One process signs with the signature key in a loop; another polls C_GetTokenInfo on
 * both slots as fast as it can. Every signature works; no try is lost. */
static void test_signing_survives_a_polling_process(void **state)
{
	struct tok s;
	pid_t child;
	int status, ok = 0;
	double start;

	p11->C_Finalize(NULL);
	child = fork();
	if (child == 0) {
		CK_SLOT_ID slots[8];
		CK_TOKEN_INFO info;
		CK_ULONG n;
		long polls = 0;

		p11_init();
		n = p11_token_slots(slots, 8);
		for (start = (double)time(NULL); (double)time(NULL) - start < 4;)
			for (CK_ULONG i = 0; i < n; i++, polls++)
				if (p11->C_GetTokenInfo(slots[i], &info) != CKR_OK)
					_exit(1);
		fprintf(stderr, "poller: %ld C_GetTokenInfo calls\n", polls);
		_exit(p11->C_Finalize(NULL) == CKR_OK ? 0 : 1);
	}
	p11_init();
	open_tok(&s, APP_SIGN);
	assert_int_equal(login(&s, CKU_USER, s.pin), CKR_OK);
	for (start = (double)time(NULL); (double)time(NULL) - start < 3; ok++)
		assert_int_equal(sign_once(&s, s.pin), CKR_OK);
	fprintf(stderr, "signer: %d signatures, all CKR_OK\n", ok);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(ok > 0);
	assert_int_equal(tries_left(APP_SIGN), 15);
	assert_int_equal(tries_left(APP_AUTH), 15);
}

/* A context login whose signature never comes holds the card for at most 5 s. */
static void test_held_transaction_is_bounded(void **state)
{
	struct tok s;
	struct timespec t0, t1;
	double waited;

	open_tok(&s, APP_SIGN);
	assert_int_equal(login(&s, CKU_USER, s.pin), CKR_OK);
	assert_int_equal(sign_init(&s), CKR_OK);
	assert_int_equal(login(&s, CKU_CONTEXT_SPECIFIC, s.pin), CKR_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Waits in SCardBeginTransaction until the hold ends; then the verification
	 * must be gone (the card was reset). */
	assert_int_equal(other_program_signs(APP_SIGN), 0x6982);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "other program waited %.2f s for the held card\n", waited);
	assert_true(waited > 3.5 && waited < 7.0);
	assert_int_equal(sign_now(&s), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(tries_left(APP_SIGN), 15);
}

/* ---- last: locks the signature PIN ------------------------------------------------- */

/* A process that starts on a locked PIN shows LOCKED (not COUNT_LOW) and sends no VERIFY,
 * even when its first call is C_Login. */
static void test_process_starting_on_a_locked_pin(void **state)
{
	struct tok s;
	char verify[40];
	long verifies;

	for (int i = 0; i < 15; i++) {
		snprintf(verify, sizeof verify, "0020008804%08X", 0x39390000u + (unsigned)i);
		other_program(false, (const char *const[]){ select_app_hex[APP_SIGN], verify, NULL });
	}
	assert_int_equal(tries_left(APP_SIGN), 0);
	p11->C_Finalize(NULL);
	p11_init();
	open_tok(&s, APP_SIGN);
	verifies = vcard_stat("verify_pin");
	assert_int_equal(login(&s, CKU_USER, s.pin), CKR_PIN_LOCKED);
	assert_int_equal(vcard_stat("verify_pin"), verifies);
	p11->C_Finalize(NULL);
	p11_init();
	open_tok(&s, APP_SIGN);
	assert_int_equal(token_flags(s.slot) & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY),
			 CKF_USER_PIN_LOCKED);
	assert_int_equal(login(&s, CKU_USER, s.pin), CKR_PIN_LOCKED);
	assert_int_equal(vcard_stat("verify_pin"), verifies);
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
		T(test_repeated_wrong_pin_never_reaches_the_card),
		T(test_repeated_wrong_context_pin_never_reaches_the_card),
		T(test_refused_pin_is_per_application_and_forgotten_at_finalize),
		T(test_count_low_clears_after_the_right_pin),
		T(test_token_info_on_other_slot_between_context_login_and_sign),
		T(test_polling_sends_nothing_while_logged_in),
		T(test_pin_status_not_polled),
		T(test_selecting_the_other_application_ends_the_login_at_once),
		T(test_6982_from_sign_drops_the_login),
		T(test_token_info_drops_a_login_lost_to_a_reset),
		T(test_close_all_sessions_logs_out),
		T(test_logout_ends_every_sessions_sign_operation),
		T(test_logout_and_finalize_end_the_card_login),
		T(test_a_process_that_did_not_log_in_ends_nothing),
		T(test_no_reset_of_a_card_swapped_in),
		T(test_signing_survives_a_polling_process),
		T(test_held_transaction_is_bounded),
		T(test_process_starting_on_a_locked_pin),
	};
	const char *interval = getenv("HPKI_PKCS11_REFRESH_INTERVAL");

	alarm(300); /* a hang fails the run instead of blocking CI */
	if (interval != NULL && *interval != '\0')
		refresh_interval = atof(interval);
	fprintf(stderr, "refresh interval %.1f s\n", refresh_interval);
	if (getenv("HPKI_TEST_FILTER") != NULL) /* one test by hand: HPKI_TEST_FILTER=test_name */
		cmocka_set_test_filter(getenv("HPKI_TEST_FILTER"));
	p11_load();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
