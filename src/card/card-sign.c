/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: signing with an application's key: MSE SET + PSO (host padding)
 * or the JMA 2019 command that pads on the card.
 */

/* RSA_padding_add_PKCS1_type_1 is deprecated in OpenSSL 3 but is still the only
 * public call that builds the EMSA-PKCS1-v1_5 block without a private key object
 * (EVP_PKEY_sign needs the key, which lives on the card). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "config.h"

#include "card-private.h"
#include "log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Signing method                                                            */

/*
 * The forms of MSE SET DST we know, in the order they are tried (card-fidelity §3
 * (4)): only `84 02 00 0C` has been seen working on a real JMA card, and G31 C.5's
 * own example uses tag 81. MSE costs no PIN try, so a refused form is followed by
 * the next; the one that works is kept for the application.
 */
enum mse_form {
	MSE_FORM_PRKD_REFERENCE,  /* 84 02 <keyReference from EF.PrKD> */
	MSE_FORM_KEY_FILE_REF,    /* 84 02 <the key EF's FID>: the form proven on JMA cards */
	MSE_FORM_FILE_PATH,       /* 81 02 <FID> or 00 <SFI>: G31 C.5 */
	MSE_FORM_COUNT,
};

static const char *const mse_form_names[MSE_FORM_COUNT] = {
	"key reference from EF.PrKD (tag 84)", "key EF as a reference (tag 84)", "key EF path (tag 81)",
};

/* The 4 data bytes of a form; false when the key gives nothing for it. */
static bool mse_form_data(const struct hpki_app *app, enum mse_form form, uint8_t data[4])
{
	uint16_t ref;
	uint8_t sfi;

	switch (form) {
	case MSE_FORM_PRKD_REFERENCE:
		if (!app->key.has_key_reference || app->key.key_reference < 0 || app->key.key_reference > 0xFFFF)
			return false;
		data[0] = HPKI_MSE_TAG_KEY_REF;
		ref = (uint16_t)app->key.key_reference;
		break;
	case MSE_FORM_KEY_FILE_REF:
		/* Proven only with a FID (000C on JMA cards); an SFI is no file identifier. */
		if (!hpki_cio_path_is_fid(&app->key.path, &ref))
			return false;
		data[0] = HPKI_MSE_TAG_KEY_REF;
		break;
	case MSE_FORM_FILE_PATH:
		if (hpki_cio_path_is_sfi(&app->key.path, &sfi))
			ref = sfi; /* 00 sfi, as G31 C.5's example */
		else if (!hpki_cio_path_is_fid(&app->key.path, &ref))
			return false;
		data[0] = HPKI_MSE_TAG_FILE_REF;
		break;
	default:
		return false;
	}
	data[1] = 2;
	data[2] = (uint8_t)(ref >> 8);
	data[3] = (uint8_t)ref;
	return true;
}

static enum hpki_card_status mse_send(struct hpki_card *card, const uint8_t data[4], uint16_t *sw)
{
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_MSE, .p1 = HPKI_MSE_P1_SET_COMPUTE, .p2 = HPKI_MSE_P2_DST,
		.data = data, .data_len = 4, .name = "MSE SET",
	};

	return hpki_card_exchange(card, &apdu, NULL, 0, NULL, sw);
}

static bool instruction_unsupported(uint16_t sw);

/*
 * MSE SET DST for the application's key (G31 C.5): the form learnt for it, else
 * each form in turn until one is accepted. *sw is the card's last answer;
 * HPKI_CARD_UNSUPPORTED when the key offers no form at all.
 */
static enum hpki_card_status mse_set(struct hpki_card *card, struct hpki_app *app, uint16_t *sw)
{
	uint8_t data[4], tried[MSE_FORM_COUNT][4];
	size_t tried_count = 0;
	enum hpki_card_status st = HPKI_CARD_UNSUPPORTED;

	for (int form = 0; form < MSE_FORM_COUNT; form++) {
		bool repeat = false;

		if (app->mse_form_known && form != app->mse_form)
			continue;
		if (!mse_form_data(app, (enum mse_form)form, data))
			continue;
		for (size_t t = 0; t < tried_count; t++)
			repeat |= memcmp(tried[t], data, sizeof(data)) == 0;
		if (repeat)
			continue;
		if (tried_count > 0)
			hpki_info("MSE SET: the card answered %04X; trying the %s", *sw, mse_form_names[form]);
		memcpy(tried[tried_count++], data, sizeof(data));
		st = mse_send(card, data, sw);
		if (st != HPKI_CARD_OK || instruction_unsupported(*sw))
			return st;
		if (*sw == HPKI_SW_OK) {
			if (!app->mse_form_known && tried_count > 1)
				hpki_info("MSE SET works with the %s; kept for this card", mse_form_names[form]);
			app->mse_form_known = true;
			app->mse_form = form;
			return HPKI_CARD_OK;
		}
	}
	if (st == HPKI_CARD_UNSUPPORTED)
		hpki_error("key has neither a reference nor a usable path");
	return st;
}

static bool instruction_unsupported(uint16_t sw)
{
	return sw == HPKI_SW_INS_NOT_SUPPORTED || sw == HPKI_SW_CLA_NOT_SUPPORTED;
}

/* ------------------------------------------------------------------------ */
/* Signing                                                                   */

/*
 * A PSO with a k-byte block needs extended Lc or command chaining (G31 A.3.3); an
 * ATR that states the card's capabilities and offers neither settles it before the
 * PSO is sent.
 */
static bool pso_impossible(const struct hpki_card *card, size_t k)
{
	if (k <= HPKI_APDU_SHORT_MAX_NC || !card->capabilities_from_atr || card->extended_length ||
	    card->link.command_chaining)
		return false;
	hpki_error("a %zu-byte block needs extended length or command chaining; the ATR offers neither", k);
	return true;
}

/* What signing learns about the card, worth keeping in the cache. */
struct learnt {
	enum hpki_sign_method sign_method;
	bool mse_form_known;
	int mse_form;
	enum hpki_pso_form pso_form;
};

static struct learnt learnt_now(const struct hpki_card *card, size_t app)
{
	const struct hpki_app *a = &card->apps[app];

	return (struct learnt){ a->sign_method, a->mse_form_known, a->mse_form, card->pso_form };
}

static bool learnt_same(const struct learnt *x, struct learnt y)
{
	return x->sign_method == y.sign_method && x->mse_form_known == y.mse_form_known && x->mse_form == y.mse_form &&
	       x->pso_form == y.pso_form;
}

struct sign_op {
	size_t app;
	enum hpki_sign_input kind;
	const uint8_t *input;
	size_t input_len;
	size_t k;        /* modulus bytes */
	uint8_t *result; /* HPKI_CARD_FILE_MAX bytes */
	size_t result_len;
};

/* 80 2A 00 80 Lc DigestInfo 00 after selecting the key EF: the card pads (facts §4.2). */
static enum hpki_card_status legacy_sign(struct hpki_card *card, struct sign_op *op, uint16_t *sw)
{
	const struct hpki_app *app = &card->apps[op->app];
	uint16_t fid = HPKI_JMA_FID_KEY;
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_PROPRIETARY, .ins = HPKI_INS_PSO, .p1 = HPKI_LEGACY_SIGN_P1, .p2 = HPKI_LEGACY_SIGN_P2,
		.data = op->input, .data_len = op->input_len, .name = "COMPUTE SIGNATURE (80 2A)",
	};
	enum hpki_card_status st;

	if (op->kind != HPKI_SIGN_INPUT_DIGEST_INFO) {
		hpki_error("this card pads by itself: a pre-encoded block (PSS) cannot be signed");
		return HPKI_CARD_UNSUPPORTED;
	}
	(void)hpki_cio_path_is_fid(&app->key.path, &fid);
	st = hpki_card_select_ef(card, fid, sw);
	if (st != HPKI_CARD_OK || *sw != HPKI_SW_OK)
		return st;
	apdu.extended = card->extended_length && op->k > HPKI_CARD_SHORT_CHUNK;
	apdu.ne = apdu.extended ? op->k : HPKI_CARD_SHORT_CHUNK;
	return hpki_card_exchange(card, &apdu, op->result, HPKI_CARD_FILE_MAX, &op->result_len, sw);
}

/* EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF…FF 00 || DigestInfo, k bytes. */
static enum hpki_card_status pkcs1_block(const struct sign_op *op, uint8_t *block)
{
	if (op->kind == HPKI_SIGN_INPUT_RAW_BLOCK) {
		memcpy(block, op->input, op->k);
		return HPKI_CARD_OK;
	}
	if (RSA_padding_add_PKCS1_type_1(block, (int)op->k, op->input, (int)op->input_len) != 1)
		return HPKI_CARD_DATA_INVALID;
	return HPKI_CARD_OK;
}

/* PSO COMPUTE DIGITAL SIGNATURE 00 2A 9E 9A with the host-padded block (G31 A.3.3,
 * C.6), in one extended APDU or by command chaining. */
static enum hpki_card_status pso_sign(struct hpki_card *card, struct sign_op *op, bool extended, uint16_t *sw)
{
	uint8_t *block = malloc(op->k);
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_PSO, .p1 = HPKI_PSO_P1_SIGNATURE, .p2 = HPKI_PSO_P2_INPUT,
		.data_len = op->k, .name = extended ? "PSO COMPUTE DIGITAL SIGNATURE (extended)"
						    : "PSO COMPUTE DIGITAL SIGNATURE",
	};
	enum hpki_card_status st;

	if (block == NULL)
		return HPKI_CARD_NO_MEMORY;
	st = pkcs1_block(op, block);
	if (st == HPKI_CARD_OK) {
		apdu.data = block;
		apdu.extended = extended;
		apdu.ne = extended ? HPKI_CARD_FILE_MAX : HPKI_CARD_SHORT_CHUNK;
		st = hpki_card_exchange(card, &apdu, op->result, HPKI_CARD_FILE_MAX, &op->result_len, sw);
	}
	OPENSSL_cleanse(block, op->k);
	free(block);
	return st;
}

/*
 * Which form to send a k-byte block in first. Only the extended PSO has been seen
 * working on a real JMA card (card-fidelity §3 (3)); an ATR that states the card's
 * capabilities is believed; what worked before on this card is used again.
 */
static bool pso_extended_first(const struct hpki_card *card, size_t k)
{
	if (k <= HPKI_APDU_SHORT_MAX_NC)
		return false; /* fits a short APDU: neither is needed */
	if (card->pso_form != HPKI_PSO_FORM_UNKNOWN)
		return card->pso_form == HPKI_PSO_FORM_EXTENDED;
	if (card->capabilities_from_atr)
		return card->extended_length || !card->link.command_chaining;
	return true;
}

/* The card (or the reader) did not take the APDU in this form: worth the other one.
 * A transport failure counts only when no reset explains it. */
static bool pso_form_refused(enum hpki_card_status st, uint16_t sw, bool reset_seen)
{
	if (st == HPKI_CARD_UNSUPPORTED || (st == HPKI_CARD_IO_ERROR && !reset_seen))
		return true;
	return st == HPKI_CARD_OK &&
	       (sw == HPKI_SW_WRONG_LENGTH || sw == HPKI_SW_CHAINING_UNSUPPORTED || sw == HPKI_SW_LAST_CMD_EXPECTED ||
		sw == HPKI_SW_INS_NOT_SUPPORTED || sw == HPKI_SW_CLA_NOT_SUPPORTED || sw == HPKI_SW_WRONG_P1P2_DATA ||
		sw == HPKI_SW_WRONG_P1P2);
}

/*
 * MSE + PSO. A block over 255 bytes that the card refuses in one form is sent once
 * more in the other (MSE and PSO cost no PIN try), after a fresh MSE; the form that
 * works is kept for the card.
 */
static enum hpki_card_status pso_sign_any_form(struct hpki_card *card, struct sign_op *op, uint16_t *sw)
{
	struct hpki_app *app = &card->apps[op->app];
	bool extended = pso_extended_first(card, op->k);
	unsigned long resets = card->link.reset_count;
	enum hpki_card_status st = pso_sign(card, op, extended, sw);

	if (op->k > HPKI_APDU_SHORT_MAX_NC && card->pso_form == HPKI_PSO_FORM_UNKNOWN &&
	    pso_form_refused(st, *sw, card->link.reset_count != resets)) {
		hpki_info("PSO %s refused (%s, SW %04X): trying %s", extended ? "in extended length" : "by chaining",
			  hpki_card_status_text(st), *sw, extended ? "command chaining" : "extended length");
		extended = !extended;
		st = mse_set(card, app, sw);
		if (st == HPKI_CARD_OK && *sw == HPKI_SW_OK)
			st = pso_sign(card, op, extended, sw);
	}
	if (st == HPKI_CARD_OK && *sw == HPKI_SW_OK && op->k > HPKI_APDU_SHORT_MAX_NC &&
	    card->pso_form == HPKI_PSO_FORM_UNKNOWN) {
		card->pso_form = extended ? HPKI_PSO_FORM_EXTENDED : HPKI_PSO_FORM_CHAINED;
		hpki_info("PSO works %s; kept for this card", extended ? "in extended length" : "by command chaining");
	}
	return st;
}

/*
 * Whether the MSE SET this process sent for the key still holds: same application,
 * no SELECT and no reset since, and only when the selection itself is trusted from an
 * earlier transaction (sign_op_run then verifies the signature, and a failure runs
 * SELECT + MSE + PSO once more). Saves one APDU per signature with the
 * authentication key (issue 11).
 */
static bool mse_still_set(const struct hpki_card *card, size_t app)
{
	return card->mse_set_for == app + 1 && card->mse_reset_count == card->link.reset_count &&
	       card->selected_app == app + 1 && card->selected_transaction != card->transaction_count &&
	       card->apps[app].sign_method == HPKI_SIGN_METHOD_PSO_RAW && card->apps[app].public_key != NULL;
}

/* MSE (unless the card pads itself) and the signature command, on the application
 * that is current. */
static enum hpki_card_status sign_on_current_app(struct hpki_card *card, struct sign_op *op, uint16_t *sw)
{
	struct hpki_app *app = &card->apps[op->app];
	enum hpki_card_status st;

	op->result_len = 0;
	if (mse_still_set(card, op->app)) {
		hpki_info("MSE SET of this key is still current (set by this process, no SELECT since)");
		return pso_sign_any_form(card, op, sw);
	}
	if (app->sign_method != HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO) {
		st = mse_set(card, app, sw);
		if (st != HPKI_CARD_OK)
			return st;
		if (instruction_unsupported(*sw)) {
			/* Learnt here, at the first signature, not by a probe at enumeration
			 * (issue 11): MSE answered 6D00/6E00, so this is the JMA 2019 card that
			 * pads by itself (facts §4.2). Kept for the card and, through the cache,
			 * for later processes. */
			if (app->sign_method == HPKI_SIGN_METHOD_UNKNOWN)
				hpki_info("MSE SET answered %04X: this card signs with 80 2A 00 80 and pads by itself "
					  "(PKCS#1 v1.5 only, no PSS); kept for the card", *sw);
			app->sign_method = HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO;
		} else if (*sw != HPKI_SW_OK) {
			return hpki_sw_to_status("MSE SET", *sw);
		} else {
			if (app->sign_method == HPKI_SIGN_METHOD_UNKNOWN)
				hpki_info("MSE SET accepted: this card signs a host-padded block (MSE + PSO); kept for the card");
			app->sign_method = HPKI_SIGN_METHOD_PSO_RAW;
			card->mse_set_for = op->app + 1;
			card->mse_reset_count = card->link.reset_count;
			if (pso_impossible(card, op->k))
				return HPKI_CARD_UNSUPPORTED;
		}
	}
	if (app->sign_method == HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO)
		return legacy_sign(card, op, sw);
	return pso_sign_any_form(card, op, sw);
}

/*
 * The card's answer is a signature of exactly the block we asked for, under the
 * certificate's key: s^e mod n equals the EMSA block (RFC 8017 §8.2.2). Catches a
 * card that signed with another application's key because another program
 * selected it in between, and any corrupt answer; costs one public-key operation.
 */
static bool signature_matches(const struct hpki_app *app, const struct sign_op *op)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(app->public_key, NULL);
	uint8_t *expected = malloc(op->k), *recovered = malloc(op->k);
	size_t recovered_len = op->k;
	bool match = false;

	if (ctx != NULL && expected != NULL && recovered != NULL && pkcs1_block(op, expected) == HPKI_CARD_OK &&
	    EVP_PKEY_verify_recover_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1 &&
	    EVP_PKEY_verify_recover(ctx, recovered, &recovered_len, op->result, op->result_len) == 1)
		match = recovered_len == op->k && CRYPTO_memcmp(recovered, expected, op->k) == 0;
	if (expected != NULL)
		OPENSSL_cleanse(expected, op->k);
	free(expected);
	free(recovered);
	EVP_PKEY_CTX_free(ctx);
	return match;
}

static enum hpki_card_status judge_signature(const struct hpki_app *app, struct sign_op *op, uint16_t sw)
{
	enum hpki_card_status st = hpki_sw_to_status("signature", sw);

	if (st != HPKI_CARD_OK)
		return st;
	if (op->result_len != op->k) {
		hpki_error("signature of %zu bytes, modulus is %zu", op->result_len, op->k);
		return HPKI_CARD_BAD_RESPONSE;
	}
	if (app->public_key != NULL && !signature_matches(app, op)) {
		hpki_error("the card's signature does not verify with the certificate's key");
		return HPKI_CARD_BAD_RESPONSE;
	}
	return HPKI_CARD_OK;
}

/*
 * Select (only when this process does not know the application to be current: a
 * SELECT costs an APDU, and on some cards the verified PIN, card-fidelity §3 (6)),
 * MSE, sign, check. A selection trusted from an earlier transaction may be stale —
 * another program can select the other application without any trace in PC/SC —
 * so a failure or a signature that does not verify is followed by one real SELECT
 * and one more try. Neither costs a PIN try.
 */
static enum hpki_card_status sign_op_run(struct hpki_card *card, void *arg)
{
	struct sign_op *op = arg;
	struct hpki_app *app = &card->apps[op->app];
	bool trusted = app->public_key != NULL;
	uint16_t sw = 0;
	enum hpki_card_status st;

	st = trusted ? hpki_card_select_app_again_if_needed(card, app) : hpki_card_select_app(card, app);
	if (st == HPKI_CARD_OK)
		st = sign_on_current_app(card, op, &sw);
	if (st == HPKI_CARD_OK)
		st = judge_signature(app, op, sw);
	/* HPKI_CARD_UNSUPPORTED: what this card cannot do (a PSS block on a card that pads
	 * by itself) does not change with a SELECT. */
	if (st == HPKI_CARD_OK || st == HPKI_CARD_REMOVED || st == HPKI_CARD_NO_MEMORY || st == HPKI_CARD_UNSUPPORTED ||
	    !trusted || card->selected_transaction == card->transaction_count)
		return st;
	hpki_info("signature without a fresh SELECT failed (%s): selecting the application and trying once more",
		  hpki_card_status_text(st));
	card->selected_app = 0;
	st = hpki_card_select_app(card, app);
	if (st == HPKI_CARD_OK)
		st = sign_on_current_app(card, op, &sw);
	return st == HPKI_CARD_OK ? judge_signature(app, op, sw) : st;
}

static enum hpki_card_status check_sign_input(const struct hpki_app *app, enum hpki_sign_input kind,
					      size_t input_len, size_t k)
{
	if (kind == HPKI_SIGN_INPUT_RAW_BLOCK && app->sign_method == HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO) {
		hpki_error("this card pads by itself: a pre-encoded block (PSS) cannot be signed");
		return HPKI_CARD_UNSUPPORTED;
	}
	if (kind == HPKI_SIGN_INPUT_RAW_BLOCK ? input_len != k : (input_len == 0 || input_len > k - 11)) {
		hpki_error("input of %zu bytes does not fit a %zu-byte key", input_len, k);
		return HPKI_CARD_DATA_INVALID;
	}
	return HPKI_CARD_OK;
}

enum hpki_card_status hpki_card_sign(struct hpki_card *card, size_t app, enum hpki_sign_input kind,
				     const uint8_t *input, size_t input_len, uint8_t *sig, size_t *sig_len)
{
	struct sign_op op = { .app = app, .kind = kind, .input = input, .input_len = input_len };
	const struct hpki_app *a;
	struct learnt learnt;
	enum hpki_card_status st;

	if (!hpki_card_app_index_valid(card, app))
		return HPKI_CARD_DATA_INVALID;
	a = &card->apps[app];
	if (!a->has_key || a->key.modulus_bits < 512) {
		hpki_error("application %zu has no usable key", app);
		return HPKI_CARD_UNSUPPORTED;
	}
	op.k = (a->key.modulus_bits + 7) / 8;
	/* Known PSO card: refused before any APDU. Unknown yet: the MSE at the signature
	 * learns it, and sign_on_current_app asks the same question then. */
	if (a->sign_method == HPKI_SIGN_METHOD_PSO_RAW && pso_impossible(card, op.k))
		return HPKI_CARD_UNSUPPORTED;
	st = check_sign_input(a, kind, input_len, op.k);
	if (st != HPKI_CARD_OK)
		return st;
	if (*sig_len < op.k) {
		*sig_len = op.k;
		return HPKI_CARD_DATA_INVALID;
	}
	op.result = malloc(HPKI_CARD_FILE_MAX);
	if (op.result == NULL)
		return HPKI_CARD_NO_MEMORY;
	learnt = learnt_now(card, app);
	st = hpki_card_run_in_transaction(card, sign_op_run, &op, true);
	if (st == HPKI_CARD_OK) {
		memcpy(sig, op.result, op.k);
		*sig_len = op.k;
	}
	free(op.result);
	/* What this signature taught (sign method, MSE form, PSO form) goes to the cache
	 * entry, so later processes know it without an APDU (doc/card-cache.md). */
	if (card->cache_dir != NULL && !learnt_same(&learnt, learnt_now(card, app)))
		hpki_card_cache_store(card);
	return st;
}
