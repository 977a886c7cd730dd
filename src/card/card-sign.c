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

#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Signing method                                                            */

/* MSE SET DST (G31 C.5): tag 84 key reference (JMA, 2 bytes, facts §4.2) when the
 * PrKD has one, else tag 81 with the key's file (SFI as 00 sfi). */
static enum hpki_card_status mse_set(struct hpki_card *card, const struct hpki_app *app, uint16_t *sw)
{
	uint8_t data[4];
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_MSE, .p1 = HPKI_MSE_P1_SET_COMPUTE, .p2 = HPKI_MSE_P2_DST,
		.data = data, .data_len = sizeof(data), .name = "MSE SET",
	};
	uint16_t ref;
	uint8_t sfi;

	if (app->key.has_key_reference) {
		if (app->key.key_reference < 0 || app->key.key_reference > 0xFFFF) {
			hpki_error("key reference %ld out of range", app->key.key_reference);
			return HPKI_CARD_UNSUPPORTED;
		}
		data[0] = HPKI_MSE_TAG_KEY_REF;
		ref = (uint16_t)app->key.key_reference;
	} else if (hpki_cio_path_is_fid(&app->key.path, &ref)) {
		data[0] = HPKI_MSE_TAG_FILE_REF;
	} else if (hpki_cio_path_is_sfi(&app->key.path, &sfi)) {
		data[0] = HPKI_MSE_TAG_FILE_REF;
		ref = sfi;
	} else {
		hpki_error("key has neither a reference nor a usable path");
		return HPKI_CARD_UNSUPPORTED;
	}
	data[1] = 2;
	data[2] = (uint8_t)(ref >> 8);
	data[3] = (uint8_t)ref;
	return hpki_card_exchange(card, &apdu, NULL, 0, NULL, sw);
}

static bool instruction_unsupported(uint16_t sw)
{
	return sw == HPKI_SW_INS_NOT_SUPPORTED || sw == HPKI_SW_CLA_NOT_SUPPORTED;
}

/* Learns the signing path without a PIN try: MSE needs no authentication. */
enum hpki_card_status hpki_card_probe_sign_method(struct hpki_card *card, struct hpki_app *app)
{
	uint16_t sw;
	enum hpki_card_status st;

	if (!app->has_key)
		return HPKI_CARD_OK;
	st = mse_set(card, app, &sw);
	if (st == HPKI_CARD_UNSUPPORTED)
		return HPKI_CARD_OK;
	if (st != HPKI_CARD_OK)
		return st;
	if (sw == HPKI_SW_OK)
		app->sign_method = HPKI_SIGN_METHOD_PSO_RAW;
	else if (instruction_unsupported(sw))
		app->sign_method = HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO;
	else
		(void)hpki_sw_to_status("MSE SET (probe)", sw); /* logged; decided at signing time */
	hpki_info("signing method: %s",
		  app->sign_method == HPKI_SIGN_METHOD_PSO_RAW ? "MSE + PSO (host padding)"
		  : app->sign_method == HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO ? "80 2A 00 80 (card padding)"
									     : "unknown");
	return HPKI_CARD_OK;
}


/* ------------------------------------------------------------------------ */
/* Signing                                                                   */

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
 * C.6): extended Lc/Le when the card has them, else command chaining. */
static enum hpki_card_status pso_sign(struct hpki_card *card, struct sign_op *op, uint16_t *sw)
{
	uint8_t *block = malloc(op->k);
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_PSO, .p1 = HPKI_PSO_P1_SIGNATURE, .p2 = HPKI_PSO_P2_INPUT,
		.data_len = op->k, .name = "PSO COMPUTE DIGITAL SIGNATURE",
	};
	enum hpki_card_status st;

	if (block == NULL)
		return HPKI_CARD_NO_MEMORY;
	st = pkcs1_block(op, block);
	if (st == HPKI_CARD_OK) {
		apdu.data = block;
		apdu.extended = card->extended_length;
		apdu.ne = apdu.extended ? HPKI_CARD_FILE_MAX : HPKI_CARD_SHORT_CHUNK;
		st = hpki_card_exchange(card, &apdu, op->result, HPKI_CARD_FILE_MAX, &op->result_len, sw);
	}
	OPENSSL_cleanse(block, op->k);
	free(block);
	return st;
}

static enum hpki_card_status sign_op_run(struct hpki_card *card, void *arg)
{
	struct sign_op *op = arg;
	struct hpki_app *app = &card->apps[op->app];
	uint16_t sw = 0;
	enum hpki_card_status st = hpki_card_select_app(card, app);

	if (st != HPKI_CARD_OK)
		return st;
	op->result_len = 0;
	if (app->sign_method != HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO) {
		st = mse_set(card, app, &sw);
		if (st != HPKI_CARD_OK)
			return st;
		if (instruction_unsupported(sw)) {
			hpki_info("MSE not supported: using the 80 2A 00 80 signature");
			app->sign_method = HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO;
		} else if (sw != HPKI_SW_OK) {
			return hpki_sw_to_status("MSE SET", sw);
		} else {
			app->sign_method = HPKI_SIGN_METHOD_PSO_RAW;
		}
	}
	if (app->sign_method == HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO)
		st = legacy_sign(card, op, &sw);
	else
		st = pso_sign(card, op, &sw);
	if (st != HPKI_CARD_OK)
		return st;
	st = hpki_sw_to_status("signature", sw);
	if (st == HPKI_CARD_OK && op->result_len != op->k) {
		hpki_error("signature of %zu bytes, modulus is %zu", op->result_len, op->k);
		st = HPKI_CARD_BAD_RESPONSE;
	}
	return st;
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
	enum hpki_card_status st;

	if (!hpki_card_app_index_valid(card, app))
		return HPKI_CARD_DATA_INVALID;
	a = &card->apps[app];
	if (!a->has_key || a->key.modulus_bits < 512) {
		hpki_error("application %zu has no usable key", app);
		return HPKI_CARD_UNSUPPORTED;
	}
	op.k = (a->key.modulus_bits + 7) / 8;
	if (a->sign_method == HPKI_SIGN_METHOD_PSO_RAW && op.k > HPKI_APDU_SHORT_MAX_NC && !card->extended_length &&
	    !card->link.command_chaining) {
		/* G31 A.3.3: a k-byte block needs extended Lc or chaining; say so before any APDU. */
		hpki_error("a %zu-byte block needs extended length or command chaining; the card has neither", op.k);
		return HPKI_CARD_UNSUPPORTED;
	}
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
	st = hpki_card_run_in_transaction(card, sign_op_run, &op, true);
	if (st == HPKI_CARD_OK) {
		memcpy(sig, op.result, op.k);
		*sig_len = op.k;
	}
	free(op.result);
	return st;
}
