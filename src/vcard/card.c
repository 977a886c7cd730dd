/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtual HPKI card's APDU transport layer: command parsing (short and
 * extended, ISO 7816-4 §5.1), command chaining (§5.1.1.1), response delivery
 * (direct, 61xx + GET RESPONSE, 6Cxx), power events, ATR, injected faults and
 * statistics. The commands themselves are in card-commands.c, the file systems
 * in card-profile.c.
 */
#include "card-internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

/* Short responses carry at most 256 bytes (ISO 7816-4 §5.1: Le 00 = 256). */
#define SHORT_MAX_NE 256
#define RESPONSE_BUFFER 65538 /* vcard.h: resp holds 65536 data bytes + SW1 SW2 */

typedef uint16_t (*vcard_handler)(struct vcard *card, const struct vcard_apdu *apdu);

/* ---- lifecycle ------------------------------------------------------------------------- */

/* ATR with T=1 only and the historical bytes of the profile:
 *   3B 8K 80 01 <K historical bytes> TCK    (TCK = XOR of T0 … last historical byte)
 * jma / jma-2019: the JMA historical bytes 00 4E 00 00 F7 81 D1 00 (facts §5, [MIY]);
 * jahis: a compact-TLV card capabilities object 80 73 00 00 <b3>, b3 telling command
 * chaining (80) and extended Lc/Le (40) (ISO 7816-4 §8.1.1.2.7). */
static void build_atr(struct vcard *card)
{
	static const uint8_t jma[] = { 0x00, 0x4E, 0x00, 0x00, 0xF7, 0x81, 0xD1, 0x00 };
	static const uint8_t blank[] = { 'T', 'E', 'S', 'T', ' ', 'B', 'L', 'A', 'N', 'K' };
	uint8_t jahis[5] = { 0x80, 0x73, 0x00, 0x00, 0x00 };
	const uint8_t *hist = jma;
	size_t hist_len = sizeof jma, i;
	uint8_t tck = 0;

	if (card->profile == VCARD_PROFILE_JAHIS) {
		jahis[4] = (uint8_t)((card->command_chaining ? HPKI_CAP3_COMMAND_CHAINING : 0) |
				     (card->extended_length ? HPKI_CAP3_EXTENDED_LENGTH : 0));
		hist = jahis;
		hist_len = sizeof jahis;
	} else if (card->profile == VCARD_PROFILE_BLANK) {
		hist = blank;
		hist_len = sizeof blank;
	}
	card->atr[0] = 0x3B;                    /* TS: direct convention */
	card->atr[1] = (uint8_t)(0x80 | hist_len); /* T0: TD1 present, K historical bytes */
	card->atr[2] = 0x80;                    /* TD1: TD2 present, T=0 indicated */
	card->atr[3] = 0x01;                    /* TD2: T=1 */
	memcpy(card->atr + 4, hist, hist_len);
	card->atr_len = 4 + hist_len;
	for (i = 1; i < card->atr_len; i++)
		tck ^= card->atr[i];
	card->atr[card->atr_len++] = tck;
}

static void discard_pending(struct vcard *card)
{
	card->pending_len = 0;
	card->pending_pos = 0;
}

static void discard_chain(struct vcard *card)
{
	/* A chain may carry a PIN (VERIFY in parts). */
	OPENSSL_cleanse(card->chain_data, card->chain_len);
	card->chain_len = 0;
	card->chain_active = false;
}

void vcard_drop_volatile_state(struct vcard *card)
{
	memset(&card->vol, 0, sizeof card->vol);
	card->vol.current_app = -1;
	card->vol.current_ef = -1;
	discard_chain(card);
	discard_pending(card);
	card->get_response_loop = false;
}

/* Fallback when the configuration names no data directory: the installed test PKI,
 * else the one in the source tree (so an uninstalled build works). */
static const char *default_data_dir(void)
{
#ifdef HPKI_VCARD_DATADIR
	if (access(HPKI_VCARD_DATADIR "/ca/root.der", R_OK) == 0)
		return HPKI_VCARD_DATADIR;
#endif
#ifdef HPKI_VCARD_SRCDATADIR
	return HPKI_VCARD_SRCDATADIR;
#else
	return NULL;
#endif
}

static bool valid_config(const struct vcard_config *config)
{
	return config->profile >= VCARD_PROFILE_JMA && config->profile <= VCARD_PROFILE_BLANK &&
	       config->apps >= VCARD_APPS_BOTH && config->apps <= VCARD_APPS_AUTHENTICATION_ONLY &&
	       config->response_mode >= VCARD_RESPONSE_DIRECT && config->response_mode <= VCARD_RESPONSE_WRONG_LE;
}

struct vcard *vcard_new(const struct vcard_config *config, const char **error)
{
	struct vcard_config filled = *config;
	struct vcard *card;

	*error = "cannot build the card";
	if (!valid_config(config)) {
		*error = "invalid card configuration";
		return NULL;
	}
	card = calloc(1, sizeof *card);
	if (card == NULL) {
		*error = "out of memory";
		return NULL;
	}
	filled.auth_pin = config->auth_pin != NULL ? config->auth_pin : "1234";
	filled.sign_pin = config->sign_pin != NULL ? config->sign_pin : "5678";
	filled.data_dir = config->data_dir != NULL ? config->data_dir : default_data_dir();
	card->profile = config->profile;
	card->apps_config = config->apps;
	/* The 2019 card knows short APDUs only (facts §4.2, §9 (c) "S"). */
	card->extended_length = config->profile == VCARD_PROFILE_JMA_2019 ? false : config->extended_length;
	card->command_chaining = config->command_chaining;
	card->response_mode = config->response_mode;
	card->quirks = config->quirks;
	if (card->quirks.df_select_sw == 0)
		card->quirks.df_select_sw = HPKI_SW_WRONG_P1P2_DATA;
	card->holder = strdup(config->holder != NULL ? config->holder : "doctor");
	if (card->holder == NULL || vcard_profile_build(card, &filled, error) != 0) {
		vcard_free(card);
		return NULL;
	}
	build_atr(card);
	vcard_drop_volatile_state(card);
	return card;
}

void vcard_free(struct vcard *card)
{
	if (card == NULL)
		return;
	vcard_profile_free(card);
	free(card->holder);
	OPENSSL_cleanse(card, sizeof *card);
	free(card);
}

/* All three drop the volatile state: selection, security state, MSE, chain, pending data. */
void vcard_power_on(struct vcard *card)
{
	vcard_drop_volatile_state(card);
}

void vcard_power_off(struct vcard *card)
{
	vcard_drop_volatile_state(card);
}

void vcard_reset(struct vcard *card)
{
	vcard_drop_volatile_state(card);
}

size_t vcard_atr(const struct vcard *card, uint8_t *atr, size_t max)
{
	size_t len = card->atr_len < max ? card->atr_len : max;

	memcpy(atr, card->atr, len);
	return len;
}

/* ---- command parsing (ISO 7816-4 §5.1, cases 1, 2S/E, 3S/E, 4S/E) ------------------------ */

static uint16_t parse_short_body(const uint8_t *body, size_t body_len, struct vcard_apdu *apdu)
{
	size_t lc = body[0];

	if (body_len == 1) { /* case 2S */
		apdu->has_le = true;
		apdu->ne = lc == 0 ? SHORT_MAX_NE : lc;
		return HPKI_SW_OK;
	}
	if (body_len != 1 + lc && body_len != 2 + lc)
		return HPKI_SW_WRONG_LENGTH;
	apdu->data = body + 1;
	apdu->lc = lc;
	if (body_len == 2 + lc) { /* case 4S */
		apdu->has_le = true;
		apdu->ne = body[1 + lc] == 0 ? SHORT_MAX_NE : body[1 + lc];
	}
	return HPKI_SW_OK;
}

static uint16_t parse_extended_body(const uint8_t *body, size_t body_len, struct vcard_apdu *apdu)
{
	size_t field, lc;

	if (body_len < 3)
		return HPKI_SW_WRONG_LENGTH;
	field = (size_t)(body[1] << 8 | body[2]);
	apdu->extended = true;
	if (body_len == 3) { /* case 2E */
		apdu->has_le = true;
		apdu->ne = field == 0 ? VCARD_MAX_RESPONSE : field;
		return HPKI_SW_OK;
	}
	lc = field;
	if (lc == 0 || (body_len != 3 + lc && body_len != 5 + lc))
		return HPKI_SW_WRONG_LENGTH;
	apdu->data = body + 3;
	apdu->lc = lc;
	if (body_len == 5 + lc) { /* case 4E */
		field = (size_t)(body[3 + lc] << 8 | body[4 + lc]);
		apdu->has_le = true;
		apdu->ne = field == 0 ? VCARD_MAX_RESPONSE : field;
	}
	return HPKI_SW_OK;
}

/* Whether this command may use extended Lc/Le: never without extended length; with
 * the scope "PSO only", only an ISO PSO (the one extended command seen working on a
 * JMA card: card-fidelity.md §2.1 #14, #15, risk 3). */
static bool extended_allowed(const struct vcard *card, uint8_t cla, uint8_t ins)
{
	if (!card->extended_length)
		return false;
	if (card->quirks.extended_scope == VCARD_EXTENDED_ALL)
		return true;
	return (cla & (uint8_t)~HPKI_CLA_CHAIN) == HPKI_CLA_ISO && ins == HPKI_INS_PSO;
}

/* Inconsistent length fields, or the extended form where the card refuses it: 6700. */
static uint16_t parse_apdu(const struct vcard *card, const uint8_t *cmd, size_t len, struct vcard_apdu *apdu)
{
	memset(apdu, 0, sizeof *apdu);
	if (len < 4)
		return HPKI_SW_WRONG_LENGTH;
	apdu->cla = cmd[0];
	apdu->ins = cmd[1];
	apdu->p1 = cmd[2];
	apdu->p2 = cmd[3];
	if (len == 4) /* case 1 */
		return HPKI_SW_OK;
	if (cmd[4] != 0 || len == 5)
		return parse_short_body(cmd + 4, len - 4, apdu);
	return extended_allowed(card, cmd[0], cmd[1]) ? parse_extended_body(cmd + 4, len - 4, apdu)
						       : HPKI_SW_WRONG_LENGTH;
}

/* ---- dispatch ------------------------------------------------------------------------- */

/* CLA 00 (10 chained) is ISO; CLA 80 (90 chained) exists on the jma-2019 card only, for
 * its signature command. Unknown class 6E00, unknown instruction 6D00 — including MSE
 * and ISO PSO on jma-2019, unless the quirk legacy_accepts_iso says this 2019 card
 * knows them too (card-fidelity.md §4 question 9: nobody tried MSE on that card). */
static vcard_handler find_handler(const struct vcard *card, const struct vcard_apdu *apdu, uint16_t *sw)
{
	uint8_t cla = apdu->cla & (uint8_t)~HPKI_CLA_CHAIN;
	bool no_iso_signature = card->profile == VCARD_PROFILE_JMA_2019 && !card->quirks.legacy_accepts_iso;

	*sw = HPKI_SW_INS_NOT_SUPPORTED;
	if (cla == HPKI_CLA_PROPRIETARY && card->profile == VCARD_PROFILE_JMA_2019)
		return apdu->ins == HPKI_INS_PSO ? vcard_cmd_legacy_sign : NULL;
	if (cla != HPKI_CLA_ISO) {
		*sw = HPKI_SW_CLA_NOT_SUPPORTED;
		return NULL;
	}
	switch (apdu->ins) {
	case HPKI_INS_SELECT:
		return vcard_cmd_select;
	case HPKI_INS_READ_BINARY:
		return vcard_cmd_read_binary;
	case HPKI_INS_VERIFY:
		return vcard_cmd_verify;
	case HPKI_INS_MSE:
		return no_iso_signature ? NULL : vcard_cmd_mse;
	case HPKI_INS_PSO:
		return no_iso_signature ? NULL : vcard_cmd_pso;
	default:
		return NULL;
	}
}

/*
 * Command chaining (ISO 7816-4 §5.1.1.1): a part with CLA b5=1 is stored and
 * answered 9000; the last part (b5=0) gets the whole data. Sets *complete when the
 * command is ready to run; apdu->data then points at the joined data.
 * Chaining switched off: 6884; a part with another header than the first: 6883.
 */
static uint16_t collect_chain(struct vcard *card, struct vcard_apdu *apdu, bool *complete)
{
	bool more = (apdu->cla & HPKI_CLA_CHAIN) != 0;

	*complete = false;
	if (more && !card->command_chaining)
		return HPKI_SW_CHAINING_UNSUPPORTED;
	if (card->chain_active && (apdu->ins != card->chain_ins || apdu->p1 != card->chain_p1 ||
				   apdu->p2 != card->chain_p2 || (apdu->cla & ~HPKI_CLA_CHAIN) != card->chain_cla)) {
		discard_chain(card);
		return HPKI_SW_LAST_CMD_EXPECTED;
	}
	if (!more && !card->chain_active) {
		*complete = true;
		return HPKI_SW_OK;
	}
	if (card->chain_len + apdu->lc > VCARD_MAX_CHAIN) {
		discard_chain(card);
		return HPKI_SW_WRONG_LENGTH;
	}
	if (apdu->lc > 0)
		memcpy(card->chain_data + card->chain_len, apdu->data, apdu->lc);
	card->chain_len += apdu->lc;
	if (more) {
		card->chain_active = true;
		card->chain_cla = apdu->cla & (uint8_t)~HPKI_CLA_CHAIN;
		card->chain_ins = apdu->ins;
		card->chain_p1 = apdu->p1;
		card->chain_p2 = apdu->p2;
		return HPKI_SW_OK;
	}
	card->chain_active = false;
	apdu->data = card->chain_data;
	apdu->lc = card->chain_len;
	*complete = true;
	return HPKI_SW_OK;
}

/* ---- response delivery -------------------------------------------------------------------- */

static size_t put_sw(uint8_t *resp, size_t offset, uint16_t sw)
{
	resp[offset] = (uint8_t)(sw >> 8);
	resp[offset + 1] = (uint8_t)sw;
	return offset + 2;
}

/* 61xx: xx more bytes for GET RESPONSE; 00 means 256 or more (ISO 7816-4 §5.3.4). */
static uint16_t bytes_available_sw(size_t count)
{
	return (uint16_t)(HPKI_SW_BYTES_AVAILABLE | (count >= SHORT_MAX_NE ? 0 : count));
}

static size_t max_ne(const struct vcard *card, const struct vcard_apdu *apdu)
{
	return extended_allowed(card, apdu->cla, apdu->ins) ? VCARD_MAX_RESPONSE : SHORT_MAX_NE;
}

static void hold_pending(struct vcard *card, const uint8_t *data, size_t len, uint16_t final_sw)
{
	memmove(card->pending, data, len);
	card->pending_len = len;
	card->pending_pos = 0;
	card->pending_sw = final_sw;
}

/*
 * Applies the response mode to what the command produced:
 *  WRONG_LE      a short Le that is not the available length (≤ 256): 6Cxx, and the
 *                command is undone so that its repetition with Le=xx behaves the same;
 *  GET_RESPONSE  a command with data (case 4; also case 3, as T=0 sends case 4): 61xx;
 *  otherwise     up to Ne bytes now; more than Ne (e.g. a 512-byte RSA-4096 signature
 *                without extended length): Ne bytes + 61xx, the rest by GET RESPONSE.
 * A missing Le is taken as the maximum, like a T=1 JavaCard does.
 */
static size_t deliver(struct vcard *card, const struct vcard_apdu *apdu, uint16_t sw,
		      const struct vcard_volatile *before, uint8_t *resp)
{
	size_t len = card->reply_len;
	size_t ne = apdu->has_le ? apdu->ne : max_ne(card, apdu);

	if (len == 0)
		return put_sw(resp, 0, sw);
	if (card->response_mode == VCARD_RESPONSE_WRONG_LE && apdu->has_le && !apdu->extended &&
	    len <= SHORT_MAX_NE && ne != len) {
		card->vol = *before;
		return put_sw(resp, 0, (uint16_t)(HPKI_SW_WRONG_LE | (len & 0xFF)));
	}
	if (card->response_mode == VCARD_RESPONSE_GET_RESPONSE && apdu->lc > 0) {
		hold_pending(card, card->reply, len, sw);
		return put_sw(resp, 0, bytes_available_sw(len));
	}
	if (len > ne) {
		memcpy(resp, card->reply, ne);
		hold_pending(card, card->reply + ne, len - ne, sw);
		return put_sw(resp, ne, bytes_available_sw(len - ne));
	}
	memcpy(resp, card->reply, len);
	return put_sw(resp, len, sw);
}

/* GET RESPONSE "00 C0 00 00 Le" (ISO 7816-4 §11.7.1); nothing waiting: 6985. */
static size_t get_response(struct vcard *card, const struct vcard_apdu *apdu, uint8_t *resp)
{
	size_t remaining = card->pending_len - card->pending_pos;
	size_t ne = apdu->has_le ? apdu->ne : max_ne(card, apdu);
	size_t count = remaining < ne ? remaining : ne;
	uint16_t final_sw = card->pending_sw;

	if (card->get_response_loop)
		return put_sw(resp, 0, 0x61FF);
	if (apdu->p1 != 0 || apdu->p2 != 0)
		return put_sw(resp, 0, HPKI_SW_WRONG_P1P2_DATA);
	if (apdu->lc != 0)
		return put_sw(resp, 0, HPKI_SW_WRONG_LENGTH);
	if (remaining == 0)
		return put_sw(resp, 0, HPKI_SW_CONDITIONS_NOT_SATISFIED);
	memcpy(resp, card->pending + card->pending_pos, count);
	card->pending_pos += count;
	if (card->pending_pos < card->pending_len)
		return put_sw(resp, count, bytes_available_sw(card->pending_len - card->pending_pos));
	discard_pending(card);
	return put_sw(resp, count, final_sw);
}

static bool is_success_with_data(uint16_t sw)
{
	return sw == HPKI_SW_OK || sw == HPKI_SW_END_OF_FILE;
}

static size_t execute(struct vcard *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp)
{
	struct vcard_volatile before;
	struct vcard_apdu apdu;
	vcard_handler handler;
	bool complete;
	uint16_t sw = parse_apdu(card, cmd, cmd_len, &apdu);
	size_t len;

	if (sw != HPKI_SW_OK) {
		discard_pending(card);
		discard_chain(card);
		return put_sw(resp, 0, sw);
	}
	if (apdu.cla == HPKI_CLA_ISO && apdu.ins == HPKI_INS_GET_RESPONSE)
		return get_response(card, &apdu, resp);
	/* Any other command makes waiting response data unavailable (ISO 7816-4 §5.3.4). */
	discard_pending(card);
	handler = find_handler(card, &apdu, &sw);
	if (handler == NULL) {
		discard_chain(card);
		return put_sw(resp, 0, sw);
	}
	sw = collect_chain(card, &apdu, &complete);
	if (!complete)
		return put_sw(resp, 0, sw);
	before = card->vol;
	card->reply_len = 0;
	sw = handler(card, &apdu);
	if (!is_success_with_data(sw))
		card->reply_len = 0;
	len = deliver(card, &apdu, sw, &before, resp);
	discard_chain(card);
	OPENSSL_cleanse(card->reply, card->reply_len);
	card->reply_len = 0;
	return len;
}

/* ---- faults and statistics ------------------------------------------------------------------ */

void vcard_set_fault(struct vcard *card, const struct vcard_fault *fault)
{
	card->fault = *fault;
	card->fault_left = fault->kind == VCARD_FAULT_NONE ? 0 : (fault->count == 0 ? 1 : fault->count);
	if (fault->kind == VCARD_FAULT_NONE)
		card->get_response_loop = false;
}

static enum vcard_fault_kind take_fault(struct vcard *card)
{
	if (card->fault_left == 0)
		return VCARD_FAULT_NONE;
	card->fault_left--;
	return card->fault.kind;
}

static size_t random_bytes(uint8_t *resp, size_t size)
{
	size_t len = size == 0 ? 1 : (size > RESPONSE_BUFFER ? RESPONSE_BUFFER : size);

	if (RAND_bytes(resp, (int)len) != 1)
		memset(resp, 0xA5, len);
	return len;
}

/* Truncation keeps at least one byte (0 is reserved for "mute") and always loses the
 * last SW byte; oversize puts `size` random bytes between the data and the SW. */
static size_t mangle_response(enum vcard_fault_kind kind, size_t size, uint8_t *resp, size_t len)
{
	size_t keep, extra;
	uint8_t sw1, sw2;

	if (kind == VCARD_FAULT_TRUNCATE) {
		keep = size < len - 1 ? size : len - 1;
		return keep == 0 ? 1 : keep;
	}
	if (kind != VCARD_FAULT_OVERSIZE || size == 0)
		return len;
	sw1 = resp[len - 2];
	sw2 = resp[len - 1];
	extra = size < RESPONSE_BUFFER - len ? size : RESPONSE_BUFFER - len;
	if (extra == 0)
		return len;
	random_bytes(resp + len - 2, extra);
	resp[len - 2 + extra] = sw1;
	resp[len - 1 + extra] = sw2;
	return len + extra;
}

static void count_command(struct vcard *card, const uint8_t *cmd, size_t cmd_len)
{
	card->stats.apdus++;
	card->stats.bytes_in += cmd_len;
	if (cmd_len >= 2)
		card->stats.per_ins[cmd[1]]++;
	/* VERIFY with data: short Lc (≠ 00) plus data, or extended 00 Lc Lc plus data. */
	if (cmd_len > 5 && cmd[1] == HPKI_INS_VERIFY && (cmd[4] != 0 || cmd_len > 7))
		card->stats.verify_with_data++;
}

/*
 * STATUS_WORD, GARBAGE, GET_RESPONSE_LOOP and MUTE replace the command: it does not
 * run (no state changes, no try used). TRUNCATE and OVERSIZE run it and damage the answer.
 */
size_t vcard_process_apdu(struct vcard *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp)
{
	enum vcard_fault_kind fault = take_fault(card);
	size_t len;

	count_command(card, cmd, cmd_len);
	switch (fault) {
	case VCARD_FAULT_MUTE:
		len = 0;
		break;
	case VCARD_FAULT_STATUS_WORD:
		len = put_sw(resp, 0, card->fault.sw);
		break;
	case VCARD_FAULT_GARBAGE:
		len = random_bytes(resp, card->fault.size);
		break;
	case VCARD_FAULT_GET_RESPONSE_LOOP:
		card->get_response_loop = true;
		len = put_sw(resp, 0, 0x61FF);
		break;
	default:
		len = mangle_response(fault, card->fault.size, resp, execute(card, cmd, cmd_len, resp));
		break;
	}
	card->stats.bytes_out += len;
	return len;
}

const struct vcard_stats *vcard_get_stats(const struct vcard *card)
{
	return &card->stats;
}

void vcard_reset_stats(struct vcard *card)
{
	memset(&card->stats, 0, sizeof card->stats);
}

int vcard_pin_tries_left(const struct vcard *card, int app)
{
	size_t i;

	for (i = 0; i < card->app_count; i++)
		if (card->apps[i].number == app)
			return card->apps[i].pin.tries_left;
	return -1;
}

/* ---- corrupted files ------------------------------------------------------------------------ */

/* Size of the DER tag + length header at the start of data; 0 when it is not one. */
static size_t der_header_len(const uint8_t *data, size_t len)
{
	size_t extra;

	if (len < 2)
		return 0;
	if (data[1] < 0x80)
		return 2;
	extra = data[1] & 0x7F;
	return 2 + extra <= len ? 2 + extra : 0;
}

/* Keeps the tag, claims a 4 GiB length (84 FF FF FF FF), keeps the content. */
static int corrupt_huge_length(struct vcard_file *file)
{
	static const uint8_t huge[] = { 0x84, 0xFF, 0xFF, 0xFF, 0xFF };
	size_t header = der_header_len(file->data, file->len);
	size_t len;
	uint8_t *data;

	if (header == 0)
		return -1;
	len = 1 + sizeof huge + (file->len - header);
	if (len >= VCARD_MAX_RESPONSE || (data = OPENSSL_malloc(len)) == NULL)
		return -1;
	data[0] = file->data[0];
	memcpy(data + 1, huge, sizeof huge);
	memcpy(data + 1 + sizeof huge, file->data + header, file->len - header);
	OPENSSL_free(file->data);
	file->data = data;
	file->len = len;
	return 0;
}

int vcard_corrupt_file(struct vcard *card, int app_number, uint16_t fid, const char *how)
{
	struct vcard_app *app = vcard_find_app(card, app_number);
	struct vcard_file *file;
	int index = app == NULL ? -1 : vcard_find_file_by_fid(app, fid);

	if (index < 0 || how == NULL)
		return -1;
	file = &app->files[index];
	if (file->internal)
		return -1;
	if (strcmp(how, "truncate") == 0) {
		file->len /= 2;
		return 0;
	}
	if (strcmp(how, "huge-length") == 0)
		return corrupt_huge_length(file);
	if (strcmp(how, "garbage") == 0) {
		if (RAND_bytes(file->data, (int)file->len) != 1)
			memset(file->data, 0x5A, file->len);
		return 0;
	}
	return -1;
}
