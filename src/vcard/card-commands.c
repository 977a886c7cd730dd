/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The commands of the virtual card: SELECT, READ BINARY, VERIFY, MSE SET,
 * PSO COMPUTE DIGITAL SIGNATURE (G31 table 11, annex C) and the JMA 2019 card's
 * "80 2A 00 80" signature (facts §4.2). Each handler checks its parameters in
 * the order of ISO 7816-4 (P1-P2, lengths, state, data), returns the status
 * word and leaves response data in card->reply; card.c delivers it.
 */
#include "card-internal.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#define SELECT_OCCURRENCE_MASK 0x03
#define SELECT_ANSWER_MASK 0x0C
#define SELECT_ANSWER_FCI 0x00
#define SELECT_ANSWER_FCP 0x04
#define SELECT_ANSWER_NONE 0x0C
/* File descriptor bytes (ISO 7816-4 §7.4.5): working / internal transparent EF. */
#define FDB_WORKING_EF 0x01
#define FDB_INTERNAL_EF 0x09
/* Block size and filler of an EF read with the quirk read_pads_with_ff. */
#define READ_PAD_BLOCK 256
#define READ_PAD_BYTE 0xFF
/* PKCS#1 v1.5 block type 1 needs at least 11 bytes of padding (RFC 8017 §9.2). */
#define PKCS1_MIN_PADDING 11

static struct vcard_app *current_app(struct vcard *card)
{
	return card->vol.current_app < 0 ? NULL : &card->apps[card->vol.current_app];
}

static void reply_append(struct vcard *card, const uint8_t *data, size_t len)
{
	memcpy(card->reply + card->reply_len, data, len);
	card->reply_len += len;
}

static void reply_byte(struct vcard *card, uint8_t byte)
{
	card->reply[card->reply_len++] = byte;
}

/* ---- SELECT (G31 C.2) --------------------------------------------------------------- */

/* Entering an application: a different one drops every security state, because it is
 * per application and not carried over (G31 §4.4.2 (3)); re-selecting the same keeps it,
 * unless the quirk reselect_clears_pin says this card resets the DF's security status on
 * every selection (never observed either way: card-fidelity.md §2.1 #26, §3 (6)).
 * The security environment and the current EF are always reset. */
static void enter_app(struct vcard *card, int index)
{
	size_t i;

	if (card->vol.current_app != index || card->quirks.reselect_clears_pin)
		for (i = 0; i < VCARD_MAX_APPS; i++)
			card->vol.verified[i] = false;
	card->vol.current_app = index;
	card->vol.current_ef = -1;
	card->vol.mse_set = false;
}

/* FCI "6F L 84 L AID" (G31 C.2.3); FCP asked with P2=04 uses template 62. */
static void reply_df_info(struct vcard *card, uint8_t template_tag, const struct vcard_app *app)
{
	reply_byte(card, template_tag);
	reply_byte(card, HPKI_AID_LEN + 2);
	reply_byte(card, 0x84);
	reply_byte(card, HPKI_AID_LEN);
	reply_append(card, app->aid, HPKI_AID_LEN);
}

static int find_app_by_name(const struct vcard *card, const uint8_t *name, size_t len, int start)
{
	size_t i;

	for (i = (size_t)start; i < card->app_count; i++)
		if (memcmp(card->apps[i].aid, name, len) == 0)
			return (int)i;
	return -1;
}

/* G31 C.2.2 defines "no FCI" (P2 b4-b3 = 11) for EF selection only; a card may ignore
 * it for a DF and send the FCI anyway, or refuse it (card-fidelity.md §1.3, risk 1). */
static uint8_t df_select_answer(const struct vcard *card, uint8_t answer)
{
	if (answer == SELECT_ANSWER_NONE && card->quirks.df_select == VCARD_DF_SELECT_ALWAYS_FCI)
		return SELECT_ANSWER_FCI;
	return answer;
}

/* P1=04: by DF name, full or partial; P2 b2-b1 00 first, 10 next (G31 C.2.2). */
static uint16_t select_by_name(struct vcard *card, const struct vcard_apdu *apdu)
{
	uint8_t occurrence = apdu->p2 & SELECT_OCCURRENCE_MASK;
	uint8_t answer = apdu->p2 & SELECT_ANSWER_MASK;
	int start = 0, index;

	if ((apdu->p2 & 0xF0) != 0 || occurrence == 0x01 || occurrence == 0x03 || answer == 0x08)
		return HPKI_SW_WRONG_P1P2_DATA;
	if (answer == SELECT_ANSWER_NONE && card->quirks.df_select == VCARD_DF_SELECT_REFUSE_NO_FCI)
		return card->quirks.df_select_sw;
	answer = df_select_answer(card, answer);
	if (apdu->lc == 0 || apdu->lc > HPKI_AID_MAX_LEN)
		return HPKI_SW_WRONG_LENGTH;
	if (occurrence == HPKI_SELECT_P2_NEXT_FCI)
		start = card->vol.current_app + 1;
	index = find_app_by_name(card, apdu->data, apdu->lc, start);
	if (index < 0)
		return HPKI_SW_FILE_NOT_FOUND;
	enter_app(card, index);
	if (answer != SELECT_ANSWER_NONE)
		reply_df_info(card, answer == SELECT_ANSWER_FCP ? 0x62 : 0x6F, &card->apps[index]);
	return HPKI_SW_OK;
}

/* A minimal FCP: size (80), descriptor (82), FID (83), SFI (88) when there is one. */
static void reply_ef_info(struct vcard *card, const struct vcard_file *file)
{
	size_t start;

	reply_byte(card, 0x62);
	start = card->reply_len;
	reply_byte(card, 0);
	reply_append(card, (const uint8_t[]){ 0x80, 0x02, (uint8_t)(file->len >> 8), (uint8_t)file->len }, 4);
	reply_append(card, (const uint8_t[]){ 0x82, 0x01, file->internal ? FDB_INTERNAL_EF : FDB_WORKING_EF }, 3);
	reply_append(card, (const uint8_t[]){ 0x83, 0x02, (uint8_t)(file->fid >> 8), (uint8_t)file->fid }, 4);
	if (file->sfi != 0)
		reply_append(card, (const uint8_t[]){ 0x88, 0x01, file->sfi }, 3);
	card->reply[start] = (uint8_t)(card->reply_len - start - 1);
}

/* P1=00/02: EF by file identifier under the current DF (G31 C.2.2; JMA "00 A4 02 0C 02 FID"). */
static uint16_t select_ef(struct vcard *card, const struct vcard_apdu *apdu)
{
	struct vcard_app *app = current_app(card);
	uint8_t answer = apdu->p2 & SELECT_ANSWER_MASK;
	int index;

	if ((apdu->p2 & ~SELECT_ANSWER_MASK) != 0 || answer == 0x08)
		return HPKI_SW_WRONG_P1P2_DATA;
	if (apdu->lc != 2)
		return HPKI_SW_WRONG_LENGTH;
	if (app == NULL)
		return HPKI_SW_FILE_NOT_FOUND;
	index = vcard_find_file_by_fid(app, (uint16_t)(apdu->data[0] << 8 | apdu->data[1]));
	if (index < 0)
		return HPKI_SW_FILE_NOT_FOUND;
	card->vol.current_ef = index;
	if (answer != SELECT_ANSWER_NONE)
		reply_ef_info(card, &app->files[index]);
	return HPKI_SW_OK;
}

uint16_t vcard_cmd_select(struct vcard *card, const struct vcard_apdu *apdu)
{
	switch (apdu->p1) {
	case HPKI_SELECT_P1_DF_NAME:
		return select_by_name(card, apdu);
	case 0x00:
	case HPKI_SELECT_P1_EF_UNDER_DF:
		return select_ef(card, apdu);
	default:
		return HPKI_SW_WRONG_P1P2_DATA;
	}
}

/* ---- READ BINARY (G31 C.4) ---------------------------------------------------------- */

/* Resolves the EF: by SFI (P1 b8=1, b7-b6=00, 8-bit offset in P2; the EF becomes
 * current) or the current EF (P1 b8=0, 15-bit offset). ISO 7816-4 §11.2.2. */
static uint16_t resolve_read_target(struct vcard *card, const struct vcard_apdu *apdu, int *index, size_t *offset)
{
	struct vcard_app *app = current_app(card);

	if (apdu->p1 & 0x80) {
		uint8_t sfi = apdu->p1 & 0x1F;

		if ((apdu->p1 & 0x60) != 0 || sfi == 0)
			return HPKI_SW_WRONG_P1P2_DATA;
		*index = app == NULL ? -1 : vcard_find_file_by_sfi(app, sfi);
		if (*index < 0)
			return HPKI_SW_FILE_NOT_FOUND;
		card->vol.current_ef = *index;
		*offset = apdu->p2;
		return HPKI_SW_OK;
	}
	if (app == NULL || card->vol.current_ef < 0)
		return HPKI_SW_NO_CURRENT_EF;
	*index = card->vol.current_ef;
	*offset = (size_t)(apdu->p1 << 8 | apdu->p2);
	return HPKI_SW_OK;
}

/* The EF's size as READ BINARY sees it: its content, or with the quirk read_pads_with_ff
 * the content rounded up to whole 256-byte blocks, the rest reading FF — what the real
 * JMA card's answers suggest (GEBO read whole blocks and got 9000; FF = unwritten,
 * card-fidelity.md §1.4, §2.1 #12). */
static size_t readable_size(const struct vcard *card, const struct vcard_file *file)
{
	if (!card->quirks.read_pads_with_ff)
		return file->len;
	return (file->len + READ_PAD_BLOCK - 1) / READ_PAD_BLOCK * READ_PAD_BLOCK;
}

static void reply_file_bytes(struct vcard *card, const struct vcard_file *file, size_t offset, size_t count)
{
	size_t from_data = offset >= file->len ? 0 : file->len - offset;

	if (from_data > count)
		from_data = count;
	if (from_data > 0)
		reply_append(card, file->data + offset, from_data);
	memset(card->reply + card->reply_len, READ_PAD_BYTE, count - from_data);
	card->reply_len += count - from_data;
}

/* Fewer bytes than Ne (also for a wildcard Le 00 / 0000): data + 6282 "end of file
 * reached before reading Ne bytes" (ISO 7816-4 §5.6), or 9000 on a card padding with FF.
 * Offset at or past the end: 6B00. */
uint16_t vcard_cmd_read_binary(struct vcard *card, const struct vcard_apdu *apdu)
{
	const struct vcard_file *file;
	size_t offset = 0, count, size;
	int index = -1;
	uint16_t sw;

	if (apdu->lc != 0 || !apdu->has_le)
		return HPKI_SW_WRONG_LENGTH;
	sw = resolve_read_target(card, apdu, &index, &offset);
	if (sw != HPKI_SW_OK)
		return sw;
	file = &current_app(card)->files[index];
	if (file->internal)
		return HPKI_SW_INCOMPATIBLE_FILE;
	size = readable_size(card, file);
	if (offset >= size)
		return HPKI_SW_WRONG_P1P2;
	count = size - offset < apdu->ne ? size - offset : apdu->ne;
	reply_file_bytes(card, file, offset, count);
	if (count < apdu->ne && !card->quirks.read_pads_with_ff)
		return HPKI_SW_END_OF_FILE;
	return HPKI_SW_OK;
}

/* ---- VERIFY (G31 C.3) ------------------------------------------------------------------ */

static uint16_t tries_left_sw(const struct vcard_pin *pin)
{
	return (uint16_t)(HPKI_SW_PIN_TRIES_LEFT | (unsigned)pin->tries_left);
}

/* The PIN is compared in constant time; a correct one resets the counter to 15, a
 * wrong one costs a try and clears the verified state. */
static uint16_t check_pin(struct vcard *card, struct vcard_app *app, const uint8_t *pin, size_t len)
{
	bool match = len == app->pin.len && CRYPTO_memcmp(pin, app->pin.value, len) == 0;
	int tries = match ? HPKI_PIN_MAX_TRIES : app->pin.tries_left - 1;

	card->vol.verified[card->vol.current_app] = match;
	if (vcard_pin_set_tries(&app->pin, tries) != 0)
		return HPKI_SW_MEMORY_FAILURE;
	return match ? HPKI_SW_OK : tries_left_sw(&app->pin);
}

/* VERIFY without data: the state, 9000 or 63Cx (G31 C.3.4). With the quirk
 * empty_verify_always_tries, 63Cx even when verified, as the My Number card does
 * (OpenSC PR 959), whose card OS the 2019 JMA card resembles (card-fidelity.md §1.5, risk 2). */
static uint16_t verification_status(const struct vcard *card, const struct vcard_app *app)
{
	if (card->vol.verified[card->vol.current_app] && !card->quirks.empty_verify_always_tries)
		return HPKI_SW_OK;
	return tries_left_sw(&app->pin);
}

/*
 * Without data (case 1): the verification status — never costs a try (G31 C.3.4,
 * facts §3). A PIN of a length outside 4–16 is refused with 6700 before comparison and
 * costs no try (a length check real cards may place after the counter; we do not).
 */
uint16_t vcard_cmd_verify(struct vcard *card, const struct vcard_apdu *apdu)
{
	struct vcard_app *app = current_app(card);

	if (apdu->p1 != 0x00)
		return HPKI_SW_WRONG_P1P2;
	if (app == NULL || apdu->p2 != app->pin_reference)
		return HPKI_SW_REF_NOT_FOUND;
	if (apdu->has_le)
		return HPKI_SW_WRONG_LENGTH;
	if (app->pin.tries_left == 0)
		return HPKI_SW_AUTH_BLOCKED;
	if (apdu->lc == 0)
		return verification_status(card, app);
	if (apdu->lc < HPKI_PIN_MIN_LEN || apdu->lc > HPKI_PIN_MAX_LEN)
		return HPKI_SW_WRONG_LENGTH;
	return check_pin(card, app, apdu->data, apdu->lc);
}

/* ---- MSE SET (G31 C.5) ---------------------------------------------------------------------- */

/*
 * A wrong reference as the real JMA card answers it (MIYH scan, card-fidelity.md §1.1):
 * the value names an EF of the current DF; a PIN or other secret IEF 6982, any other
 * existing EF 6981, none 6A82.
 */
static uint16_t wrong_reference_by_file(const struct vcard_app *app, uint16_t value)
{
	int index = vcard_find_file_by_fid(app, value);

	if (index < 0)
		return HPKI_SW_FILE_NOT_FOUND;
	return app->files[index].internal ? HPKI_SW_SECURITY_STATUS : HPKI_SW_INCOMPATIBLE_FILE;
}

/* Only "41 B6" with exactly one 2-byte reference DO: tag 84 key reference 000C (JMA,
 * facts §4.2) or tag 81 file reference 0017 (G31 C.5 example), by profile. A wrong
 * value: 6A88, or as the JMA card answers with the quirk mse_by_file. */
uint16_t vcard_cmd_mse(struct vcard *card, const struct vcard_apdu *apdu)
{
	struct vcard_app *app = current_app(card);
	uint16_t value;

	if (apdu->p1 != HPKI_MSE_P1_SET_COMPUTE || apdu->p2 != HPKI_MSE_P2_DST)
		return HPKI_SW_WRONG_P1P2_DATA;
	if (apdu->has_le)
		return HPKI_SW_WRONG_LENGTH;
	if (apdu->lc != 4 || apdu->data[1] != 2)
		return HPKI_SW_WRONG_DATA;
	if (app == NULL)
		return HPKI_SW_REF_NOT_FOUND;
	if (apdu->data[0] != app->mse_tag)
		return HPKI_SW_WRONG_DATA;
	value = (uint16_t)(apdu->data[2] << 8 | apdu->data[3]);
	if (value != app->mse_value)
		return card->quirks.mse_by_file ? wrong_reference_by_file(app, value) : HPKI_SW_REF_NOT_FOUND;
	card->vol.mse_set = true;
	return HPKI_SW_OK;
}

/* ---- signatures -------------------------------------------------------------------------- */

static int rsa_private_operation(EVP_PKEY *key, int padding, const uint8_t *in, size_t in_len, uint8_t *out,
				 size_t out_size, size_t *out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	int ok;

	*out_len = out_size;
	ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, padding) == 1 &&
	     EVP_PKEY_sign(ctx, out, out_len, in, in_len) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* The userConsent key needs a fresh VERIFY before every signature (G31 B.4.5, §4.3.8):
 * the verified state is used up by the signature. */
static void consume_security_state(struct vcard *card, const struct vcard_app *app)
{
	if (app->user_consent)
		card->vol.verified[card->vol.current_app] = false;
}

static uint16_t sign_into_reply(struct vcard *card, struct vcard_app *app, int padding, const uint8_t *in,
				size_t in_len)
{
	size_t out_len = 0;

	consume_security_state(card, app);
	if (rsa_private_operation(app->key, padding, in, in_len, card->reply, sizeof card->reply, &out_len) != 0)
		return HPKI_SW_MEMORY_FAILURE;
	card->reply_len = out_len;
	return HPKI_SW_OK;
}

/*
 * PSO CDS "00 2A 9E 9A": the host has padded (G31 C.6.1 "パディングはカード外で行う"), the
 * card does raw RSA on exactly k bytes. Checks: P1-P2 (6A86), application (6985),
 * verified (6982), MSE SET in this selection (6985; 6982 with the quirk mse_by_file, as
 * the JMA card answered: MIYH commit f067407), length = k (6700), input < n (6A80).
 */
uint16_t vcard_cmd_pso(struct vcard *card, const struct vcard_apdu *apdu)
{
	struct vcard_app *app = current_app(card);

	if (apdu->p1 != HPKI_PSO_P1_SIGNATURE || apdu->p2 != HPKI_PSO_P2_INPUT)
		return HPKI_SW_WRONG_P1P2_DATA;
	if (app == NULL)
		return HPKI_SW_CONDITIONS_NOT_SATISFIED;
	if (!card->vol.verified[card->vol.current_app])
		return HPKI_SW_SECURITY_STATUS;
	if (!card->vol.mse_set)
		return card->quirks.mse_by_file ? HPKI_SW_SECURITY_STATUS : HPKI_SW_CONDITIONS_NOT_SATISFIED;
	if (apdu->lc != app->modulus_len)
		return HPKI_SW_WRONG_LENGTH;
	if (memcmp(apdu->data, app->modulus, app->modulus_len) >= 0)
		return HPKI_SW_WRONG_DATA;
	return sign_into_reply(card, app, RSA_NO_PADDING, apdu->data, apdu->lc);
}

/*
 * JMA 2019 "80 2A 00 80 Lc <DigestInfo> 00" after SELECT EF 000C (facts §4.2, [GEBO]):
 * the card adds the PKCS#1 v1.5 type-1 padding itself. The key EF must be the current
 * EF (6985 otherwise), the PIN verified (6982), the input 1..k-11 bytes (6700).
 */
uint16_t vcard_cmd_legacy_sign(struct vcard *card, const struct vcard_apdu *apdu)
{
	struct vcard_app *app = current_app(card);

	if (apdu->p1 != HPKI_LEGACY_SIGN_P1 || apdu->p2 != HPKI_LEGACY_SIGN_P2)
		return HPKI_SW_WRONG_P1P2_DATA;
	if (app == NULL || card->vol.current_ef != app->key_file)
		return HPKI_SW_CONDITIONS_NOT_SATISFIED;
	if (!card->vol.verified[card->vol.current_app])
		return HPKI_SW_SECURITY_STATUS;
	if (apdu->lc == 0 || apdu->lc > app->modulus_len - PKCS1_MIN_PADDING)
		return HPKI_SW_WRONG_LENGTH;
	return sign_into_reply(card, app, RSA_PKCS1_PADDING, apdu->data, apdu->lc);
}
