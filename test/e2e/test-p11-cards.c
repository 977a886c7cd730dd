/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Four cards of four holders, read at once (issue 11: "several readers are read in
 * parallel"): every token shows its own card's certificate and no other, every card
 * is read exactly once — as many APDUs as the same card read alone, and nothing more
 * on a second look — and signatures work on two of the cards, one read on the
 * caller's thread and one on a reading thread of its own. A looping card does not
 * hold up the others; C_Finalize stops the read of all four.
 *
 * Runs under test/with-vcard --cards 4 --holder H0,H1,H2,H3; argv[1] repeats the
 * holders. Card c sits in vpcd reader c/2, slot c%2 (with-vcard: port BASE + c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p11-helpers.h"

#define CARDS 4

static char holders[CARDS][32];

static long card_apdus(int card)
{
	long apdus = vcard_stat_on(card, "apdus");

	assert_true(apdus >= 0);
	return apdus;
}

static void reset_stats(void)
{
	char reply[256];

	for (int c = 0; c < CARDS; c++)
		assert_int_equal(vcard_ctl_on(c, reply, sizeof reply, "stats-reset"), 0);
}

/* The card behind a slot, from its description "HPKI Virtual Reader R 00 0S (…)". */
static int card_of_slot(CK_SLOT_ID slot)
{
	CK_SLOT_INFO info;
	char text[sizeof info.slotDescription + 1];
	int reader, index;

	assert_int_equal(p11->C_GetSlotInfo(slot, &info), CKR_OK);
	memcpy(text, info.slotDescription, sizeof info.slotDescription);
	text[sizeof info.slotDescription] = '\0';
	assert_int_equal(sscanf(text, "HPKI Virtual Reader %d 00 %d", &reader, &index), 2);
	return reader * 2 + index;
}

static bool is_sign_token(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO info;

	assert_int_equal(p11->C_GetTokenInfo(slot, &info), CKR_OK);
	return memcmp(info.label, "HPKI Sign", 9) == 0;
}

static unsigned char *holder_cert(int card, bool sign, size_t *len)
{
	char path[512];
	unsigned char *der;

	test_pki_path(path, sizeof path, holders[card], sign ? "sig.crt.der" : "auth.crt.der");
	der = read_file(path, len);
	assert_non_null(der);
	return der;
}

/* Whether the token has a certificate object with exactly these bytes. */
static bool token_has_cert(CK_SESSION_HANDLE session, const unsigned char *der, size_t len)
{
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &klass, sizeof klass }, { CKA_VALUE, (void *)der, len } };
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = 0;

	assert_int_equal(p11->C_FindObjectsInit(session, tmpl, 2), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, found, 4, &n), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	return n == 1;
}

/* Every token of every card: its own holder's end-entity certificate, and none of
 * the other holders'. Returns the tokens seen per card. */
static void check_every_token(int tokens_per_card[CARDS])
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = p11_token_slots(slots, 32);

	memset(tokens_per_card, 0, CARDS * sizeof tokens_per_card[0]);
	assert_int_equal(n, 2 * CARDS);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_SESSION_HANDLE session;
		int card = card_of_slot(slots[i]);
		bool sign = is_sign_token(slots[i]);

		assert_true(card >= 0 && card < CARDS);
		tokens_per_card[card]++;
		assert_int_equal(p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
		for (int other = 0; other < CARDS; other++) {
			size_t len;
			unsigned char *der = holder_cert(other, sign, &len);

			if (other == card)
				assert_true(token_has_cert(session, der, len));
			else if (strcmp(holders[other], holders[card]) != 0)
				assert_false(token_has_cert(session, der, len));
			free(der);
		}
		assert_int_equal(p11->C_CloseSession(session), CKR_OK);
	}
}

/* The cards other than card 0 out of (or back into) their readers; pcscd notices on
 * its next poll of the reader, the module on its next look. */
static void others_present(bool present)
{
	char reply[256];
	CK_SLOT_ID slots[32];
	CK_ULONG want = present ? 2 * CARDS : 2, n = 0;

	for (int c = 1; c < CARDS; c++)
		assert_int_equal(vcard_ctl_on(c, reply, sizeof reply, present ? "insert" : "remove"), 0);
	for (int i = 0; i < 100; i++) {
		p11_init();
		n = p11_token_slots(slots, 32);
		p11_finalize();
		if (n == want)
			break;
		struct timespec step = { 0, 100 * 1000000L };
		nanosleep(&step, NULL);
	}
	assert_int_equal(n, want);
}

/* Every token's info and objects, as an application lists them. */
static void look_at_every_token(CK_ULONG want)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = p11_token_slots(slots, 32), count;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE objects[16];

	assert_int_equal(n, want);
	for (CK_ULONG i = 0; i < n; i++) {
		assert_int_equal(p11->C_GetTokenInfo(slots[i], &info), CKR_OK);
		assert_int_equal(p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
		assert_int_equal(p11->C_FindObjectsInit(session, NULL, 0), CKR_OK);
		assert_int_equal(p11->C_FindObjects(session, objects, 16, &count), CKR_OK);
		assert_true(count >= 3);
		assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
		assert_int_equal(p11->C_CloseSession(session), CKR_OK);
	}
}

/* What one card costs read alone: card 0 with the others out of their readers. */
static long one_card_alone(void)
{
	long apdus;

	others_present(false);
	reset_stats();
	p11_init();
	look_at_every_token(2);
	p11_finalize();
	apdus = card_apdus(0);
	others_present(true);
	return apdus;
}

static void test_every_token_shows_its_own_card_read_once(void **state)
{
	int tokens[CARDS];
	long apdus[CARDS], alone;

	(void)state;
	alone = one_card_alone();
	reset_stats();
	p11_init();
	look_at_every_token(2 * CARDS);
	check_every_token(tokens);
	for (int c = 0; c < CARDS; c++) {
		apdus[c] = card_apdus(c);
		print_message("card %d (%s): %d tokens, %ld APDUs (alone: %ld)\n", c, holders[c], tokens[c], apdus[c],
			      alone);
		assert_int_equal(tokens[c], 2);
		assert_int_equal(apdus[c], alone);
	}
	/* A second look at everything reads no card again. */
	check_every_token(tokens);
	for (int c = 0; c < CARDS; c++)
		assert_int_equal(card_apdus(c), apdus[c]);
	p11_finalize();
}

/* A signature with `slot`'s key, verified with its own card's certificate. */
static void sign_and_verify(CK_SESSION_HANDLE session, CK_SLOT_ID slot, const char *pin)
{
	static const unsigned char data[] = "prescription";
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_OBJECT_HANDLE key;
	CK_BYTE sig[512];
	CK_ULONG sig_len = sizeof sig, len;
	CK_BBOOL *always;
	const unsigned char *p;
	unsigned char *der;
	size_t der_len;
	X509 *cert;
	EVP_MD_CTX *ctx;

	key = p11_find_one(session, CKO_PRIVATE_KEY, NULL, 0);
	always = p11_attr(session, key, CKA_ALWAYS_AUTHENTICATE, &len);
	assert_int_equal(p11->C_SignInit(session, &mech, key), CKR_OK);
	if (*always)
		assert_int_equal(p11->C_Login(session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin)),
				 CKR_OK);
	free(always);
	assert_int_equal(p11->C_Sign(session, (CK_BYTE_PTR)data, sizeof data, sig, &sig_len), CKR_OK);
	der = holder_cert(card_of_slot(slot), is_sign_token(slot), &der_len);
	p = der;
	cert = d2i_X509(NULL, &p, (long)der_len);
	assert_non_null(cert);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sig_len, data, sizeof data), 1);
	EVP_MD_CTX_free(ctx);
	X509_free(cert);
	free(der);
}

/* The signature token of `card`. */
static CK_SLOT_ID sign_slot_of(int card)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = p11_token_slots(slots, 32);

	for (CK_ULONG i = 0; i < n; i++)
		if (card_of_slot(slots[i]) == card && is_sign_token(slots[i]))
			return slots[i];
	fail_msg("card %d has no signature token", card);
	return 0;
}

/* Card 0 was read through the module's own PC/SC context, card 3 through one of
 * its own: both sign, with both sessions logged in at once. */
static void test_signatures_on_two_cards(void **state)
{
	const int signers[2] = { 0, 3 };
	CK_SESSION_HANDLE session[2];
	CK_SLOT_ID slot[2];

	(void)state;
	p11_init();
	for (int k = 0; k < 2; k++) {
		slot[k] = sign_slot_of(signers[k]);
		assert_int_equal(p11->C_OpenSession(slot[k], CKF_SERIAL_SESSION, NULL, NULL, &session[k]), CKR_OK);
		assert_int_equal(p11->C_Login(session[k], CKU_USER, (CK_UTF8CHAR_PTR) "5678", 4), CKR_OK);
	}
	for (int round = 0; round < 2; round++)
		for (int k = 0; k < 2; k++)
			sign_and_verify(session[k], slot[k], "5678");
	p11_finalize();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void card_set(int card, const char *args)
{
	char reply[256];

	assert_int_equal(vcard_ctl_on(card, reply, sizeof reply, args), 0);
}

/* A card that loops (61 00 without data) and answers 0.5 s late, among three good
 * ones answering 15 ms late (about 0.5 s to read each): the bad card is given up
 * after its first GET RESPONSE, and the good cards' tokens come in the time of that
 * one card (1 s), not after it (2.5 s one after another). */
static void test_a_bad_card_does_not_hold_up_the_others(void **state)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32;
	double start, took;

	(void)state;
	for (int c = 0; c < CARDS; c++)
		card_set(c, c == 2 ? "delay 500" : "delay 15");
	card_set(2, "fault trickle 300");
	reset_stats();
	p11_init();
	start = now();
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	took = now() - start;
	print_message("three good cards and a looping one: %lu tokens in %.3f s, %ld APDUs to the bad one\n",
		      (unsigned long)n, took, card_apdus(2));
	assert_int_equal(n, 2 * (CARDS - 1));
	for (CK_ULONG i = 0; i < n; i++)
		assert_int_not_equal(card_of_slot(slots[i]), 2);
	assert_int_equal(card_apdus(2), 2);
	assert_true(took < 1.8);
	p11_finalize();
	card_set(2, "fault none");
	for (int c = 0; c < CARDS; c++)
		card_set(c, "delay 0");
}

struct lister {
	pthread_t thread;
	CK_RV rv;
	double ended;
};

static void *list_tokens(void *arg)
{
	struct lister *t = arg;
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32;

	t->rv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	t->ended = now();
	return NULL;
}

/* C_Finalize while four slow cards are being read on another thread: it returns in
 * time, and every card's read stops at the APDU in flight (one APDU each). */
static void test_finalize_during_a_read_of_four_cards(void **state)
{
	struct lister t = { 0 };
	struct timespec pause = { 0, 300 * 1000000L };
	double start;

	(void)state;
	for (int c = 0; c < CARDS; c++)
		card_set(c, "delay 1000");
	reset_stats();
	p11_init();
	assert_int_equal(pthread_create(&t.thread, NULL, list_tokens, &t), 0);
	nanosleep(&pause, NULL); /* every card is inside its first APDU now */
	start = now();
	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
	print_message("C_Finalize during the read of four slow cards: %.3f s\n", now() - start);
	assert_true(now() - start < 2.0);
	assert_int_equal(pthread_join(t.thread, NULL), 0);
	assert_true(t.ended - start < 1.0 + 1.0);
	for (int c = 0; c < CARDS; c++) {
		card_set(c, "delay 0");
		assert_int_equal(card_apdus(c), 1);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_token_shows_its_own_card_read_once),
		cmocka_unit_test(test_signatures_on_two_cards),
		cmocka_unit_test(test_a_bad_card_does_not_hold_up_the_others),
		cmocka_unit_test(test_finalize_during_a_read_of_four_cards),
	};
	char list[256], *save = NULL, *h;
	int c = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: test-p11-cards HOLDER,HOLDER,HOLDER,HOLDER (under with-vcard --cards 4)\n");
		return 2;
	}
	snprintf(list, sizeof list, "%s", argv[1]);
	for (h = strtok_r(list, ",", &save); h != NULL && c < CARDS; h = strtok_r(NULL, ",", &save))
		snprintf(holders[c++], sizeof holders[0], "%s", h);
	if (c != CARDS) {
		fprintf(stderr, "test-p11-cards: %d holders, need %d\n", c, CARDS);
		return 2;
	}
	/* Every card read in full in every process: the counts compare full reads. */
	setenv("HPKI_PKCS11_CACHE", "off", 1);
	p11_load();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
