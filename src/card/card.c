/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver. References: "G31" = JAHIS HPKI対応ICカードガイドライン Ver.3.1,
 * "facts §n" = docs/hpki-card-facts.md of the project.
 */

/* RSA_padding_add_PKCS1_type_1 is deprecated in OpenSSL 3 but is still the only
 * public call that builds the EMSA-PKCS1-v1_5 block without a private key object
 * (EVP_PKEY_sign needs the key, which lives on the card). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "config.h"

#include "card.h"

#include "apdu.h"
#include "log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t hpki_rid[HPKI_RID_LEN] = { HPKI_RID };
static const uint8_t aid_signature[HPKI_AID_LEN] = { HPKI_AID_SIGNATURE };
static const uint8_t aid_authentication[HPKI_AID_LEN] = { HPKI_AID_AUTHENTICATION };

/* Largest file or response we accept from a card; also bounds every allocation. */
#define FILE_MAX HPKI_APDU_MAX_RESPONSE
#define SHORT_CHUNK 256
/* READ BINARY with P1 b8 = 0 carries a 15-bit offset (G31 C.4.2). */
#define OFFSET_MAX 0x7FFF
/* Partial-AID discovery ends after this many SELECT NEXT even if the card goes on. */
#define DISCOVERY_MAX_ROUNDS (HPKI_CARD_MAX_APPS + 4)
/* Entries we decode per directory before applying the struct limits. */
#define DIR_MAX_ENTRIES 16

/* ------------------------------------------------------------------------ */
/* ATR: ISO 7816-3 §8.2 structure, ISO 7816-4 §8.1.1 historical bytes        */

/* Locates the historical bytes; false when the ATR is too short for what T0/TDi announce. */
static bool atr_historical_bytes(const uint8_t *atr, size_t len, const uint8_t **hist, size_t *hist_len)
{
	size_t i = 2;
	size_t k;
	uint8_t y;

	if (len < 2)
		return false;
	k = atr[1] & 0x0F;
	y = atr[1] >> 4;
	for (;;) {
		/* TAi, TBi, TCi present per bits 5..7 of the previous Y; TDi per bit 8. */
		i += (size_t)((y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1));
		if (!(y & 8))
			break;
		if (i >= len)
			return false;
		y = atr[i++] >> 4;
	}
	if (i > len || k > len - i)
		return false;
	*hist = atr + i;
	*hist_len = k;
	return true;
}

/* Reads the card capabilities (compact-TLV tag 7, third byte) when the ATR carries them. */
static void atr_card_capabilities(struct hpki_card *card)
{
	const uint8_t *hist;
	size_t hist_len, pos, end;

	if (!atr_historical_bytes(card->atr, card->atr_len, &hist, &hist_len) || hist_len < 1)
		return;
	/* Category 80: compact-TLV objects only; 00: compact-TLV then 3 status bytes. */
	if (hist[0] == 0x80)
		end = hist_len;
	else if (hist[0] == 0x00 && hist_len >= 4)
		end = hist_len - 3;
	else
		return;
	for (pos = 1; pos < end;) {
		uint8_t tag = hist[pos] >> 4;
		size_t len = hist[pos] & 0x0F;

		if (len > end - pos - 1)
			return; /* malformed: trust nothing */
		if (tag == 7 && len >= 3) {
			uint8_t sw3 = hist[pos + 3];

			card->command_chaining = (sw3 & HPKI_CAP3_COMMAND_CHAINING) != 0;
			card->extended_length = (sw3 & HPKI_CAP3_EXTENDED_LENGTH) != 0;
			card->capabilities_known = true;
			hpki_info("ATR card capabilities: chaining %s, extended length %s",
				  card->command_chaining ? "yes" : "no", card->extended_length ? "yes" : "no");
			return;
		}
		pos += 1 + len;
	}
}

/* ------------------------------------------------------------------------ */
/* BER-TLV (FCI) and DER length walking, bounds-checked                      */

/* Next TLV in [*p, end); tags of 1–3 bytes, definite lengths of ≤ 3 bytes. */
static bool tlv_next(const uint8_t **p, const uint8_t *end, unsigned *tag, const uint8_t **value, size_t *len)
{
	const uint8_t *q = *p;
	size_t n;

	if (q >= end)
		return false;
	*tag = *q++;
	if ((*tag & 0x1F) == 0x1F) {
		do {
			if (q >= end || *tag > 0xFFFF)
				return false;
			*tag = (*tag << 8) | *q;
		} while (*q++ & 0x80);
	}
	if (q >= end)
		return false;
	n = *q++;
	if (n & 0x80) {
		size_t bytes = n & 0x7F;

		if (bytes == 0 || bytes > 3 || bytes > (size_t)(end - q))
			return false;
		for (n = 0; bytes > 0; bytes--)
			n = (n << 8) | *q++;
	}
	if (n > (size_t)(end - q))
		return false;
	*value = q;
	*len = n;
	*p = q + n;
	return true;
}

/*
 * Size of the DER value starting at p: 1 and *total when its header is complete,
 * 0 when more bytes are needed to tell, -1 when malformed or over FILE_MAX (a
 * length such as 83 FF FF FF must never become an allocation).
 */
static int der_tlv_size(const uint8_t *p, size_t avail, size_t *total)
{
	size_t i = 1;
	size_t len;

	if (avail < 2)
		return 0;
	if ((p[0] & 0x1F) == 0x1F) {
		do {
			if (i >= avail)
				return 0;
			if (i > 3)
				return -1;
		} while (p[i++] & 0x80);
	}
	if (i >= avail)
		return 0;
	len = p[i++];
	if (len & 0x80) {
		size_t bytes = len & 0x7F;

		if (bytes == 0 || bytes > 3)
			return -1; /* indefinite (not DER) or ≥ 16 MiB */
		if (bytes > avail - i)
			return 0;
		for (len = 0; bytes > 0; bytes--)
			len = (len << 8) | p[i++];
	}
	if (len > FILE_MAX - i)
		return -1;
	*total = i + len;
	return 1;
}

enum der_scan {
	DER_COMPLETE,    /* content ends (single value done, or padding reached) */
	DER_AT_BOUNDARY, /* the bytes end exactly after a value: more may follow */
	DER_NEED,        /* a value is incomplete: *need more bytes (0 = unknown yet) */
	DER_MALFORMED,
};

/* Where the DER content of a partially read EF stands. Directory EFs hold DER values
 * followed by 00 or FF padding (ISO 7816-15 §8.2); a certificate EF holds one value,
 * and an EF starting with 00/FF is empty (facts §2.3). */
static enum der_scan der_scan(const uint8_t *buf, size_t len, bool single, size_t *need, size_t *content_len)
{
	size_t pos = 0;

	*need = 0;
	for (;;) {
		size_t total;
		int r;

		*content_len = pos;
		if (pos == len)
			return DER_AT_BOUNDARY;
		if (buf[pos] == 0x00 || buf[pos] == 0xFF)
			return DER_COMPLETE;
		r = der_tlv_size(buf + pos, len - pos, &total);
		if (r < 0)
			return DER_MALFORMED;
		if (r == 0)
			return DER_NEED;
		if (total > len - pos) {
			*need = total - (len - pos);
			return DER_NEED;
		}
		pos += total;
		if (single) {
			*content_len = pos;
			return DER_COMPLETE;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */

static enum hpki_card_status exchange(struct hpki_card *card, const struct hpki_apdu *apdu, uint8_t *resp,
				      size_t cap, size_t *len, uint16_t *sw)
{
	size_t ignored_len;
	uint8_t ignored[1];

	if (resp == NULL) {
		resp = ignored;
		cap = 0;
		len = &ignored_len;
	}
	return hpki_apdu_exchange(card, apdu, resp, cap, len, sw);
}

/* SELECT DF by full AID without FCI (G31 C.2.2 P2=0C); the same application's
 * security state survives this (G31 §4.4.2). */
static enum hpki_card_status select_aid(struct hpki_card *card, const uint8_t *aid, size_t aid_len, uint16_t *sw)
{
	uint8_t fci[SHORT_CHUNK];
	size_t fci_len;
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT,
		.p1 = HPKI_SELECT_P1_DF_NAME, .p2 = HPKI_SELECT_P2_NO_DATA,
		.data = aid, .data_len = aid_len, .name = "SELECT AID",
	};
	enum hpki_card_status st;

	if (!card->select_needs_fci) {
		st = exchange(card, &apdu, NULL, 0, NULL, sw);
		if (st != HPKI_CARD_OK || (*sw != HPKI_SW_WRONG_P1P2_DATA && *sw != HPKI_SW_WRONG_P1P2))
			return st;
		hpki_info("card refuses SELECT AID with P2=0C (SW %04X); asking for the FCI from now on", *sw);
		card->select_needs_fci = true;
	}
	apdu.p2 = HPKI_SELECT_P2_FIRST_FCI;
	apdu.ne = SHORT_CHUNK;
	return exchange(card, &apdu, fci, sizeof(fci), &fci_len, sw);
}

static enum hpki_card_status select_app(struct hpki_card *card, const struct hpki_app *app)
{
	uint16_t sw;
	enum hpki_card_status st = select_aid(card, app->aid, app->aid_len, &sw);

	return st != HPKI_CARD_OK ? st : hpki_sw_to_status("SELECT AID", sw);
}

/* SELECT EF by FID under the current DF, no FCI: 00 A4 02 0C 02 hi lo (G31 C.2.2, facts §1.2). */
static enum hpki_card_status select_ef(struct hpki_card *card, uint16_t fid, uint16_t *sw)
{
	uint8_t data[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT,
		.p1 = HPKI_SELECT_P1_EF_UNDER_DF, .p2 = HPKI_SELECT_P2_NO_DATA,
		.data = data, .data_len = sizeof(data), .name = "SELECT EF",
	};

	return exchange(card, &apdu, NULL, 0, NULL, sw);
}

/* How a directory or certificate names its EF. */
struct ef_ref {
	bool by_sfi;
	uint8_t sfi;
	uint16_t fid;
};

static bool ef_ref_from_path(const struct hpki_cio_path *path, struct ef_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	if (hpki_cio_path_is_sfi(path, &ref->sfi)) {
		ref->by_sfi = true;
		return ref->sfi >= 1 && ref->sfi <= 30;
	}
	if (hpki_cio_path_is_fid(path, &ref->fid))
		return true;
	if (path->len >= 4 && path->len <= HPKI_CIO_PATH_MAX && path->len % 2 == 0) {
		/* A path through the application DF: its last FID names the EF under the DF
		 * that is selected anyway. */
		ref->fid = (uint16_t)(path->efid_or_path[path->len - 2] << 8 | path->efid_or_path[path->len - 1]);
		hpki_info("path of %zu bytes: reading its last FID %04X under the application", path->len, ref->fid);
		return true;
	}
	return false;
}

static void ef_ref_text(const struct ef_ref *ref, char *buf, size_t cap)
{
	if (ref->by_sfi)
		snprintf(buf, cap, "SFI %02X", ref->sfi);
	else
		snprintf(buf, cap, "FID %04X", ref->fid);
}

/* Status words that mean "this card cannot take an extended READ BINARY". */
static bool refuses_extended(uint16_t sw)
{
	return sw == HPKI_SW_WRONG_LENGTH || sw == HPKI_SW_INS_NOT_SUPPORTED || sw == HPKI_SW_CLA_NOT_SUPPORTED ||
	       sw == HPKI_SW_WRONG_P1P2_DATA || sw == HPKI_SW_WRONG_P1P2;
}

/*
 * One READ BINARY. Without known capabilities the first one is sent with an
 * extended Le (000000 = to the end of the file, G31 C.4.2) to learn whether the
 * card takes extended length: one extra APDU per card at most, not per file.
 */
static enum hpki_card_status read_binary(struct hpki_card *card, uint8_t p1, uint8_t p2, size_t *want,
					 uint8_t *out, size_t cap, size_t *got, uint16_t *sw)
{
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_READ_BINARY, .p1 = p1, .p2 = p2, .name = "READ BINARY",
	};
	bool probing = !card->capabilities_known;
	unsigned long resets = card->reset_count;
	enum hpki_card_status st;

	apdu.extended = card->extended_length || probing;
	apdu.ne = apdu.extended ? *want : (*want > SHORT_CHUNK ? SHORT_CHUNK : *want);
	if (probing)
		apdu.ne = cap < FILE_MAX ? cap : FILE_MAX; /* Le 000000: to the end of the file */
	*want = apdu.ne;
	st = exchange(card, &apdu, out, cap, got, sw);
	if (!probing)
		return st;
	if (st == HPKI_CARD_OK && !refuses_extended(*sw)) {
		if (*sw == HPKI_SW_OK || *sw == HPKI_SW_END_OF_FILE) {
			card->capabilities_known = true;
			card->extended_length = true;
			hpki_info("card accepts extended length (learnt from READ BINARY)");
		}
		return st; /* e.g. 6A82: nothing learnt, try again with the next file */
	}
	if (st != HPKI_CARD_OK && (st != HPKI_CARD_IO_ERROR || card->reset_count != resets))
		return st;
	/* Refused (or the reader failed on the long APDU): repeat it short. */
	apdu.extended = false;
	apdu.ne = SHORT_CHUNK;
	*want = apdu.ne;
	st = exchange(card, &apdu, out, cap, got, sw);
	if (st == HPKI_CARD_OK && (*sw == HPKI_SW_OK || *sw == HPKI_SW_END_OF_FILE)) {
		card->capabilities_known = true;
		card->extended_length = false;
		hpki_info("card refuses extended length: short APDUs from now on");
	}
	return st;
}

/*
 * Reads an EF into a malloc'd buffer, guided by its DER content so that no APDU is
 * wasted: the first chunk tells the total length, the rest is read exactly.
 * An SFI reference reads the first chunk by SFI (which also selects the EF, G31
 * C.4.2) and continues by offset; a FID reference selects the EF first.
 * *found is false (and HPKI_CARD_OK returned) when the EF does not exist.
 */
static enum hpki_card_status read_ef(struct hpki_card *card, const struct ef_ref *ref, bool single, uint8_t **out,
				     size_t *out_len, bool *found)
{
	uint8_t *buf;
	size_t len = 0, want, need, content_len = 0;
	enum hpki_card_status st = HPKI_CARD_OK;
	char name[16];
	uint16_t sw;

	*out = NULL;
	*out_len = 0;
	*found = true;
	ef_ref_text(ref, name, sizeof(name));
	if (!ref->by_sfi) {
		st = select_ef(card, ref->fid, &sw);
		if (st != HPKI_CARD_OK)
			return st;
		if (sw == HPKI_SW_FILE_NOT_FOUND) {
			*found = false;
			return HPKI_CARD_OK;
		}
		if (sw != HPKI_SW_OK)
			return hpki_sw_to_status("SELECT EF", sw);
	}
	buf = malloc(FILE_MAX);
	if (buf == NULL)
		return HPKI_CARD_NO_MEMORY;
	want = card->extended_length ? FILE_MAX : SHORT_CHUNK;
	for (;;) {
		bool first = len == 0;
		uint8_t p1 = (uint8_t)(len >> 8), p2 = (uint8_t)len;
		size_t got = 0;
		bool end_of_file;
		enum der_scan scan;

		if (first && ref->by_sfi)
			p1 = (uint8_t)(0x80 | ref->sfi); /* P1 b8=1: SFI in b5–b1, P2 = offset */
		else if (len > OFFSET_MAX) {
			hpki_error("%s: file beyond the 15-bit READ BINARY offset", name);
			st = HPKI_CARD_UNSUPPORTED;
			break;
		}
		st = read_binary(card, p1, p2, &want, buf + len, FILE_MAX - len, &got, &sw);
		if (st != HPKI_CARD_OK)
			break;
		if (first && (sw == HPKI_SW_FILE_NOT_FOUND || (ref->by_sfi && sw == HPKI_SW_WRONG_P1P2_DATA))) {
			*found = false;
			break;
		}
		/* 6282: end of file reached before Le bytes; 6B00 past the end (G31 C.4.4). */
		end_of_file = sw == HPKI_SW_END_OF_FILE || got == 0;
		if (sw != HPKI_SW_OK && sw != HPKI_SW_END_OF_FILE && !(sw == HPKI_SW_WRONG_P1P2 && !first)) {
			st = hpki_sw_to_status("READ BINARY", sw);
			break;
		}
		len += got;
		scan = der_scan(buf, len, single, &need, &content_len);
		if (scan == DER_MALFORMED) {
			hpki_error("%s: malformed or oversized DER after %zu bytes", name, len);
			st = HPKI_CARD_BAD_RESPONSE;
			break;
		}
		if (scan == DER_COMPLETE)
			break;
		if (end_of_file || (got < want && scan == DER_AT_BOUNDARY)) {
			if (scan == DER_NEED) {
				hpki_error("%s: file ends after %zu bytes, its DER needs %zu more", name, len,
					   need == 0 ? (size_t)1 : need);
				st = HPKI_CARD_BAD_RESPONSE;
			}
			break;
		}
		if (len >= FILE_MAX) {
			hpki_error("%s: larger than %d bytes", name, FILE_MAX);
			st = HPKI_CARD_BAD_RESPONSE;
			break;
		}
		/* A short answer with DER still incomplete: the card caps its responses; go on. */
		want = card->extended_length ? FILE_MAX - len : SHORT_CHUNK;
		if (need > 0 && need < want)
			want = need;
	}
	if (st == HPKI_CARD_OK && *found) {
		*out_len = content_len;
		*out = buf;
		hpki_info("%s: %zu bytes of content", name, content_len);
		return HPKI_CARD_OK;
	}
	free(buf);
	return st;
}

/* ------------------------------------------------------------------------ */
/* Application discovery                                                     */

static bool has_hpki_rid(const uint8_t *aid, size_t len)
{
	return len >= HPKI_RID_LEN && len <= HPKI_AID_MAX_LEN && memcmp(aid, hpki_rid, HPKI_RID_LEN) == 0;
}

/* AID from an FCI `6F L 84 L <AID> …` (G31 C.2); *aid_len = 0 when the card sent no
 * FCI or no tag 84; a malformed FCI is a bad response. */
static enum hpki_card_status fci_aid(const uint8_t *fci, size_t len, uint8_t *aid, size_t *aid_len)
{
	const uint8_t *p = fci, *value, *inner;
	unsigned tag;
	size_t vlen;

	*aid_len = 0;
	if (len == 0)
		return HPKI_CARD_OK;
	if (!tlv_next(&p, fci + len, &tag, &value, &vlen) || (tag != 0x6F && tag != 0x62 && tag != 0x64)) {
		hpki_error("malformed FCI (%zu bytes)", len);
		return HPKI_CARD_BAD_RESPONSE;
	}
	for (inner = value; inner < value + vlen;) {
		const uint8_t *v;
		size_t n;

		if (!tlv_next(&inner, value + vlen, &tag, &v, &n)) {
			hpki_error("malformed FCI content");
			return HPKI_CARD_BAD_RESPONSE;
		}
		if (tag == 0x84) {
			if (n == 0 || n > HPKI_AID_MAX_LEN) {
				hpki_error("FCI DF name of %zu bytes", n);
				return HPKI_CARD_BAD_RESPONSE;
			}
			memcpy(aid, v, n);
			*aid_len = n;
			return HPKI_CARD_OK;
		}
	}
	return HPKI_CARD_OK;
}

static bool app_known(const struct hpki_card *card, const uint8_t *aid, size_t len)
{
	for (size_t i = 0; i < card->app_count; i++)
		if (card->apps[i].aid_len == len && memcmp(card->apps[i].aid, aid, len) == 0)
			return true;
	return false;
}

static void add_app(struct hpki_card *card, const uint8_t *aid, size_t len)
{
	struct hpki_app *app;

	if (card->app_count >= HPKI_CARD_MAX_APPS) {
		hpki_error("more than %d HPKI applications; ignoring the rest", HPKI_CARD_MAX_APPS);
		return;
	}
	app = &card->apps[card->app_count++];
	memcpy(app->aid, aid, len);
	app->aid_len = len;
}

/*
 * Partial DF-name selection by the RID, first then next occurrence, until the card
 * answers other than 9000 (G31 C.2.1–C.2.2, A.2.2). *supported is false when the
 * card does not do partial selection (or sends no FCI to learn the AID from).
 */
static enum hpki_card_status discover_by_partial_aid(struct hpki_card *card, bool *supported)
{
	uint8_t fci[SHORT_CHUNK];
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_SELECT, .p1 = HPKI_SELECT_P1_DF_NAME,
		.p2 = HPKI_SELECT_P2_FIRST_FCI, .data = hpki_rid, .data_len = HPKI_RID_LEN,
		.ne = SHORT_CHUNK, .name = "SELECT partial AID",
	};

	*supported = false;
	for (int round = 0; round < DISCOVERY_MAX_ROUNDS; round++) {
		uint8_t aid[HPKI_AID_MAX_LEN];
		size_t fci_len, aid_len;
		uint16_t sw;
		enum hpki_card_status st = exchange(card, &apdu, fci, sizeof(fci), &fci_len, &sw);

		if (st != HPKI_CARD_OK)
			return st;
		if (sw != HPKI_SW_OK) {
			if (round == 0)
				hpki_info("partial AID selection answered %04X: trying the known AIDs", sw);
			return HPKI_CARD_OK;
		}
		st = fci_aid(fci, fci_len, aid, &aid_len);
		if (st != HPKI_CARD_OK)
			return st;
		if (aid_len == 0) {
			hpki_info("partial AID selection gives no DF name: trying the known AIDs");
			card->app_count = 0;
			*supported = false;
			return HPKI_CARD_OK;
		}
		*supported = true;
		if (!has_hpki_rid(aid, aid_len))
			hpki_info("ignoring a non-HPKI application found by partial selection");
		else if (app_known(card, aid, aid_len)) {
			hpki_info("partial selection repeats an application: discovery done");
			return HPKI_CARD_OK;
		} else
			add_app(card, aid, aid_len);
		apdu.p2 = HPKI_SELECT_P2_NEXT_FCI;
	}
	hpki_error("partial AID selection does not end after %d rounds", DISCOVERY_MAX_ROUNDS);
	return HPKI_CARD_OK;
}

/* ------------------------------------------------------------------------ */
/* Directories                                                               */

/* The JMA layout (facts §2.2), used when the card's directories cannot be read. */
static const uint8_t fallback_id[] = { 0x01 };

static void fallback_pin(struct hpki_aod_pin *pin)
{
	memset(pin, 0, sizeof(*pin));
	strcpy(pin->label, "PIN");
	pin->private_object = true;
	pin->auth_id[0] = 0x01;
	pin->auth_id_len = 1;
	pin->pwd_flags = HPKI_PWD_FLAG_CASE_SENSITIVE | HPKI_PWD_FLAG_LOCAL | HPKI_PWD_FLAG_INITIALIZED;
	pin->pwd_type = HPKI_PWD_UTF8;
	pin->min_length = HPKI_PIN_MIN_LEN;
	pin->max_length = HPKI_PIN_MAX_LEN;
	pin->pwd_reference = HPKI_JMA_PIN_REFERENCE;
}

static void fallback_key(struct hpki_prkd_key *key, enum hpki_app_role role)
{
	memset(key, 0, sizeof(*key));
	strcpy(key->label, "Private key of HPKI");
	key->private_object = true;
	key->auth_id[0] = 0x01;
	key->auth_id_len = 1;
	/* G31 B.4.5: userConsent on the signature application's key only. */
	key->user_consent = role == HPKI_ROLE_SIGNATURE ? 1 : 0;
	memcpy(key->id, fallback_id, sizeof(fallback_id));
	key->id_len = sizeof(fallback_id);
	key->usage = role == HPKI_ROLE_SIGNATURE ? HPKI_KEY_USAGE_NON_REPUDIATION : HPKI_KEY_USAGE_SIGN;
	/* JMA: MSE tag 84 with key reference 000C (facts §4.2). */
	key->has_key_reference = true;
	key->key_reference = HPKI_JMA_FID_KEY;
	hpki_cio_path_set_fid(&key->path, HPKI_JMA_FID_KEY);
}

static void fallback_cert(struct hpki_cd_cert *cert)
{
	memset(cert, 0, sizeof(*cert));
	strcpy(cert->label, "HPKI END ENTITY CERTIFICATE");
	memcpy(cert->id, fallback_id, sizeof(fallback_id));
	cert->id_len = sizeof(fallback_id);
	hpki_cio_path_set_fid(&cert->path, HPKI_JMA_FID_EE_CERT);
}

static enum hpki_app_role role_from_aid(const struct hpki_app *app)
{
	if (app->aid_len >= 2 && app->aid[app->aid_len - 2] == 0x00) {
		if (app->aid[app->aid_len - 1] == 0x01)
			return HPKI_ROLE_SIGNATURE;
		if (app->aid[app->aid_len - 1] == 0x02)
			return HPKI_ROLE_AUTHENTICATION;
	}
	return HPKI_ROLE_UNKNOWN;
}

static enum hpki_card_status cio_result(int rc, const char *what)
{
	if (rc == HPKI_CIO_OK)
		return HPKI_CARD_OK;
	if (rc == HPKI_CIO_NO_MEMORY)
		return HPKI_CARD_NO_MEMORY;
	hpki_error("%s: %s", what, hpki_cio_status_text(rc));
	return HPKI_CARD_BAD_RESPONSE;
}

/* Reads a directory EF named by a path; *found false when it is not on the card. */
static enum hpki_card_status read_directory(struct hpki_card *card, const struct hpki_cio_path *path,
					    const char *what, uint8_t **der, size_t *der_len, bool *found)
{
	struct ef_ref ref;

	if (!ef_ref_from_path(path, &ref)) {
		hpki_error("%s: unusable path of %zu bytes", what, path->len);
		return HPKI_CARD_BAD_RESPONSE;
	}
	return read_ef(card, &ref, false, der, der_len, found);
}

struct directory_set {
	bool have_aod, have_prkd;
	struct hpki_cio_path aod, prkd;
	struct hpki_cio_path cd[4];
	size_t cd_count;
};

static void directories_from_od(const struct hpki_od_entry *od, size_t count, struct directory_set *dirs)
{
	for (size_t i = 0; i < count; i++) {
		switch (od[i].kind) {
		case HPKI_OD_AUTH_OBJECTS:
			if (!dirs->have_aod) {
				dirs->aod = od[i].path;
				dirs->have_aod = true;
			}
			break;
		case HPKI_OD_PRIVATE_KEYS:
			if (!dirs->have_prkd) {
				dirs->prkd = od[i].path;
				dirs->have_prkd = true;
			}
			break;
		case HPKI_OD_CERTIFICATES:
		case HPKI_OD_TRUSTED_CERTIFICATES:
		case HPKI_OD_USEFUL_CERTIFICATES:
			if (dirs->cd_count < sizeof(dirs->cd) / sizeof(dirs->cd[0]))
				dirs->cd[dirs->cd_count++] = od[i].path;
			break;
		default:
			break;
		}
	}
}

static void jma_directories(struct directory_set *dirs)
{
	memset(dirs, 0, sizeof(*dirs));
	dirs->have_aod = dirs->have_prkd = true;
	hpki_cio_path_set_fid(&dirs->aod, HPKI_JMA_FID_AOD);
	hpki_cio_path_set_fid(&dirs->prkd, HPKI_JMA_FID_PRKD);
	hpki_cio_path_set_fid(&dirs->cd[0], HPKI_JMA_FID_CD);
	dirs->cd_count = 1;
}

/* EF.OD by SFI 11, else by FID 5031 (G31 B.4, facts §2.2). */
static enum hpki_card_status read_od(struct hpki_card *card, struct directory_set *dirs, bool *found)
{
	struct hpki_od_entry od[DIR_MAX_ENTRIES];
	struct ef_ref ref = { .by_sfi = true, .sfi = HPKI_SFI_OD };
	size_t od_len, count = 0;
	uint8_t *der;
	enum hpki_card_status st;

	st = read_ef(card, &ref, false, &der, &od_len, found);
	if (st == HPKI_CARD_OK && !*found) {
		ref = (struct ef_ref){ .fid = HPKI_FID_OD };
		st = read_ef(card, &ref, false, &der, &od_len, found);
	}
	if (st != HPKI_CARD_OK || !*found)
		return st;
	st = cio_result(hpki_cio_decode_od(der, od_len, od, DIR_MAX_ENTRIES, &count), "EF.OD");
	free(der);
	if (st == HPKI_CARD_OK)
		directories_from_od(od, count, dirs);
	return st;
}

static enum hpki_card_status read_aod(struct hpki_card *card, struct hpki_app *app, const struct directory_set *dirs)
{
	struct hpki_aod_pin pins[DIR_MAX_ENTRIES];
	size_t len, count = 0;
	uint8_t *der;
	bool found = false;
	enum hpki_card_status st = HPKI_CARD_OK;

	if (dirs->have_aod)
		st = read_directory(card, &dirs->aod, "EF.AOD", &der, &len, &found);
	if (st != HPKI_CARD_OK)
		return st;
	if (found) {
		st = cio_result(hpki_cio_decode_aod(der, len, pins, DIR_MAX_ENTRIES, &count), "EF.AOD");
		free(der);
		if (st != HPKI_CARD_OK)
			return st;
	}
	if (count == 0) {
		hpki_info("no PIN object: using the JMA PIN reference %02X", HPKI_JMA_PIN_REFERENCE);
		fallback_pin(&app->pin);
		app->from_directories = false;
		return HPKI_CARD_OK;
	}
	/* One PIN per application (G31 A.2.1); prefer the one the key names. */
	app->pin = pins[0];
	for (size_t i = 0; i < count; i++)
		if (app->has_key && pins[i].auth_id_len == app->key.auth_id_len &&
		    memcmp(pins[i].auth_id, app->key.auth_id, pins[i].auth_id_len) == 0)
			app->pin = pins[i];
	if (app->pin.pwd_reference > 0xFF) {
		hpki_error("PIN reference %X does not fit VERIFY P2", app->pin.pwd_reference);
		return HPKI_CARD_BAD_RESPONSE;
	}
	return HPKI_CARD_OK;
}

static enum hpki_card_status read_prkd(struct hpki_card *card, struct hpki_app *app,
				       const struct directory_set *dirs)
{
	struct hpki_prkd_key keys[DIR_MAX_ENTRIES];
	size_t len, count = 0;
	uint8_t *der;
	bool found = false;
	enum hpki_card_status st = HPKI_CARD_OK;

	if (dirs->have_prkd)
		st = read_directory(card, &dirs->prkd, "EF.PrKD", &der, &len, &found);
	if (st != HPKI_CARD_OK)
		return st;
	if (found) {
		st = cio_result(hpki_cio_decode_prkd(der, len, keys, DIR_MAX_ENTRIES, &count), "EF.PrKD");
		free(der);
		if (st != HPKI_CARD_OK)
			return st;
	}
	if (count == 0) {
		hpki_info("no private key object: using the JMA key reference %04X", HPKI_JMA_FID_KEY);
		fallback_key(&app->key, app->role);
		app->from_directories = false;
	} else {
		if (count > 1)
			hpki_error("%zu private keys in EF.PrKD; using the first", count);
		app->key = keys[0];
	}
	app->has_key = true;
	return HPKI_CARD_OK;
}

static enum hpki_card_status read_cd_entries(struct hpki_card *card, struct hpki_app *app,
					     const struct directory_set *dirs, struct hpki_cd_cert *entries,
					     size_t *count)
{
	*count = 0;
	for (size_t d = 0; d < dirs->cd_count; d++) {
		size_t len, n = 0;
		uint8_t *der;
		bool found;
		enum hpki_card_status st = read_directory(card, &dirs->cd[d], "EF.CD", &der, &len, &found);

		if (st != HPKI_CARD_OK)
			return st;
		if (!found)
			continue;
		st = cio_result(hpki_cio_decode_cd(der, len, entries + *count, DIR_MAX_ENTRIES - *count, &n), "EF.CD");
		free(der);
		if (st != HPKI_CARD_OK)
			return st;
		*count += n;
	}
	if (*count == 0) {
		hpki_info("no certificate directory: using the JMA EE certificate EF %04X", HPKI_JMA_FID_EE_CERT);
		fallback_cert(&entries[0]);
		*count = 1;
		app->from_directories = false;
	}
	return HPKI_CARD_OK;
}

static enum hpki_card_status read_certificates(struct hpki_card *card, struct hpki_app *app,
					       const struct hpki_cd_cert *entries, size_t count)
{
	if (count > HPKI_APP_MAX_CERTS) {
		hpki_error("%zu certificates listed; reading the first %d", count, HPKI_APP_MAX_CERTS);
		count = HPKI_APP_MAX_CERTS;
	}
	for (size_t i = 0; i < count; i++) {
		struct hpki_cert *cert = &app->certs[app->cert_count];
		struct ef_ref ref;
		bool found;
		enum hpki_card_status st;

		if (!ef_ref_from_path(&entries[i].path, &ref)) {
			hpki_error("certificate '%s': unusable path", entries[i].label);
			return HPKI_CARD_BAD_RESPONSE;
		}
		st = read_ef(card, &ref, true, &cert->der, &cert->der_len, &found);
		if (st != HPKI_CARD_OK)
			return st;
		if (!found || cert->der_len == 0) {
			/* CD may list an optional CA certificate the issuer did not write. */
			hpki_info("certificate '%s' %s; skipped", entries[i].label, found ? "EF is empty" : "not found");
			free(cert->der);
			cert->der = NULL;
			cert->der_len = 0;
			continue;
		}
		if (cert->der[0] != 0x30) {
			hpki_error("certificate '%s' is not a DER SEQUENCE", entries[i].label);
			free(cert->der);
			cert->der = NULL;
			cert->der_len = 0;
			return HPKI_CARD_BAD_RESPONSE;
		}
		cert->info = entries[i];
		app->cert_count++;
	}
	return HPKI_CARD_OK;
}

/* RSA modulus size in bits from a certificate, 0 when it cannot be read. */
static unsigned cert_modulus_bits(const struct hpki_cert *cert)
{
	const unsigned char *p = cert->der;
	X509 *x509 = d2i_X509(NULL, &p, (long)cert->der_len);
	unsigned bits = 0;

	if (x509 != NULL) {
		EVP_PKEY *pkey = X509_get0_pubkey(x509);

		if (pkey != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA)
			bits = (unsigned)EVP_PKEY_get_bits(pkey);
		X509_free(x509);
	}
	return bits;
}

/* The key's certificate: same iD (G31 B.4.6), else the first non-authority one. */
static const struct hpki_cert *key_certificate(const struct hpki_app *app)
{
	const struct hpki_cert *fallback = NULL;

	for (size_t i = 0; i < app->cert_count; i++) {
		const struct hpki_cert *c = &app->certs[i];

		if (c->info.id_len == app->key.id_len && memcmp(c->info.id, app->key.id, c->info.id_len) == 0)
			return c;
		if (fallback == NULL && !c->info.authority)
			fallback = c;
	}
	return fallback;
}

/* PrKD's modulusLength when plausible, otherwise the EE certificate's key size. */
static void settle_modulus(struct hpki_app *app)
{
	const struct hpki_cert *cert;
	unsigned bits;

	if (!app->has_key || (app->key.modulus_bits >= 1024 && app->key.modulus_bits <= 8192))
		return;
	cert = key_certificate(app);
	bits = cert != NULL ? cert_modulus_bits(cert) : 0;
	if (bits > 0)
		hpki_info("key size %u bits taken from the certificate", bits);
	app->key.modulus_bits = bits;
}

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
	return exchange(card, &apdu, NULL, 0, NULL, sw);
}

static bool instruction_unsupported(uint16_t sw)
{
	return sw == HPKI_SW_INS_NOT_SUPPORTED || sw == HPKI_SW_CLA_NOT_SUPPORTED;
}

/* Learns the signing path without a PIN try: MSE needs no authentication. */
static enum hpki_card_status probe_sign_method(struct hpki_card *card, struct hpki_app *app)
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
/* Enumeration                                                               */

static void free_apps(struct hpki_card *card)
{
	for (size_t a = 0; a < HPKI_CARD_MAX_APPS; a++)
		for (size_t c = 0; c < HPKI_APP_MAX_CERTS; c++)
			free(card->apps[a].certs[c].der);
	memset(card->apps, 0, sizeof(card->apps));
	card->app_count = 0;
}

/* Everything about one application; it is selected on entry. */
static enum hpki_card_status read_app(struct hpki_card *card, struct hpki_app *app)
{
	struct hpki_cd_cert entries[DIR_MAX_ENTRIES];
	struct directory_set dirs = { 0 };
	size_t entry_count;
	bool od_found;
	enum hpki_card_status st;

	app->role = role_from_aid(app);
	app->from_directories = true;
	st = read_od(card, &dirs, &od_found);
	if (st != HPKI_CARD_OK)
		return st;
	if (!od_found) {
		hpki_info("no EF.OD: falling back to the JMA layout (AOD 0001, PrKD 0002, CD 0004)");
		app->from_directories = false;
		jma_directories(&dirs);
	}
	/* EF.CIAInfo is not read: nothing in it is used (the token serial comes from the
	 * certificate), and every APDU costs milliseconds on a real card. */
	st = read_prkd(card, app, &dirs);
	if (st == HPKI_CARD_OK)
		st = read_aod(card, app, &dirs);
	if (st == HPKI_CARD_OK)
		st = read_cd_entries(card, app, &dirs, entries, &entry_count);
	if (st == HPKI_CARD_OK)
		st = read_certificates(card, app, entries, entry_count);
	if (st != HPKI_CARD_OK)
		return st;
	if (app->role == HPKI_ROLE_UNKNOWN && app->has_key)
		app->role = app->key.usage & HPKI_KEY_USAGE_NON_REPUDIATION ? HPKI_ROLE_SIGNATURE
				: app->key.usage & HPKI_KEY_USAGE_SIGN ? HPKI_ROLE_AUTHENTICATION
									 : HPKI_ROLE_UNKNOWN;
	settle_modulus(app);
	return probe_sign_method(card, app);
}

static enum hpki_card_status enumerate_known_aids(struct hpki_card *card)
{
	static const uint8_t *const known[] = { aid_signature, aid_authentication };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint16_t sw;
		enum hpki_card_status st = select_aid(card, known[i], HPKI_AID_LEN, &sw);

		if (st != HPKI_CARD_OK)
			return st;
		if (sw != HPKI_SW_OK)
			continue;
		add_app(card, known[i], HPKI_AID_LEN);
		/* Already selected: read it right away and save a SELECT. */
		st = read_app(card, &card->apps[card->app_count - 1]);
		if (st != HPKI_CARD_OK)
			return st;
	}
	return HPKI_CARD_OK;
}

static enum hpki_card_status enumerate_in_transaction(struct hpki_card *card)
{
	bool partial;
	enum hpki_card_status st;

	free_apps(card);
	st = discover_by_partial_aid(card, &partial);
	if (st != HPKI_CARD_OK)
		return st;
	if (!partial)
		return enumerate_known_aids(card);
	for (size_t i = 0; i < card->app_count; i++) {
		st = select_app(card, &card->apps[i]);
		if (st == HPKI_CARD_OK)
			st = read_app(card, &card->apps[i]);
		if (st != HPKI_CARD_OK)
			return st;
	}
	return HPKI_CARD_OK;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */

typedef enum hpki_card_status (*card_op)(struct hpki_card *card, void *arg);

/*
 * begin → op → end. When another process resets the card in the middle, the op is
 * run once more from the start (it re-selects its application) if it is safe to
 * repeat; VERIFY never is (issue 4: a PIN is sent once).
 */
static enum hpki_card_status run_in_transaction(struct hpki_card *card, card_op op, void *arg, bool repeatable)
{
	enum hpki_card_status st = HPKI_CARD_IO_ERROR;

	for (int attempt = 0; attempt < 2; attempt++) {
		unsigned long resets;

		st = hpki_apdu_begin(card);
		if (st != HPKI_CARD_OK)
			return st;
		resets = card->reset_count;
		st = op(card, arg);
		hpki_apdu_end(card);
		if (card->reset_count == resets || !repeatable)
			break;
		hpki_info("card reset during the operation; running it again");
	}
	return st;
}

static enum hpki_card_status enumerate_op(struct hpki_card *card, void *arg)
{
	(void)arg;
	return enumerate_in_transaction(card);
}

enum hpki_card_status hpki_card_enumerate(struct hpki_card *card)
{
	unsigned long before = card->apdu_count;
	enum hpki_card_status st = run_in_transaction(card, enumerate_op, NULL, true);

	if (st == HPKI_CARD_OK && card->app_count == 0)
		st = HPKI_CARD_NOT_HPKI;
	if (st != HPKI_CARD_OK)
		free_apps(card);
	hpki_info("enumeration of '%s': %s, %zu application(s), %lu APDUs", card->reader, hpki_card_status_text(st),
		  card->app_count, card->apdu_count - before);
	return st;
}

/* ------------------------------------------------------------------------ */
/* Attach / detach                                                           */

enum hpki_card_status hpki_card_attach(struct hpki_card *card, const struct hpki_transport_ops *ops,
				       void *context, const char *reader)
{
	enum hpki_io_status io;

	memset(card, 0, sizeof(*card));
	if (strlen(reader) >= sizeof(card->reader))
		return HPKI_CARD_REMOVED;
	card->ops = ops;
	card->context = context;
	strcpy(card->reader, reader);
	card->atr_len = sizeof(card->atr);
	io = ops->connect(context, reader, &card->conn, card->atr, &card->atr_len);
	if (io != HPKI_IO_OK) {
		card->conn = NULL;
		card->atr_len = 0;
		return hpki_io_to_status(io);
	}
	if (card->atr_len > sizeof(card->atr))
		card->atr_len = sizeof(card->atr);
	/* Until told otherwise: short APDUs, and chaining for long data, which G31 A.3.3
	 * prescribes for cards without extended length. */
	card->command_chaining = true;
	atr_card_capabilities(card);
	return HPKI_CARD_OK;
}

void hpki_card_detach(struct hpki_card *card)
{
	if (card->ops != NULL && card->conn != NULL)
		card->ops->disconnect(card->conn);
	card->conn = NULL;
	free_apps(card);
}

/* ------------------------------------------------------------------------ */
/* PIN                                                                       */

struct pin_op {
	size_t app;
	const uint8_t *pin;
	size_t pin_len;
	bool verified;
	int tries_left;
};

static bool app_index_valid(const struct hpki_card *card, size_t app)
{
	if (app < card->app_count)
		return true;
	hpki_error("no application %zu (card has %zu)", app, card->app_count);
	return false;
}

/* VERIFY: 00 20 00 <pwdReference> [Lc PIN] (G31 C.3). */
static enum hpki_card_status verify(struct hpki_card *card, const struct hpki_app *app, const uint8_t *pin,
				    size_t pin_len, uint16_t *sw)
{
	struct hpki_apdu apdu = {
		.cla = HPKI_CLA_ISO, .ins = HPKI_INS_VERIFY, .p1 = 0x00, .p2 = (uint8_t)app->pin.pwd_reference,
		.data = pin, .data_len = pin_len, .sensitive = pin_len > 0,
		.name = pin_len > 0 ? "VERIFY" : "VERIFY (status)",
	};

	return exchange(card, &apdu, NULL, 0, NULL, sw);
}

static enum hpki_card_status pin_status_op(struct hpki_card *card, void *arg)
{
	struct pin_op *op = arg;
	uint16_t sw;
	enum hpki_card_status st = select_app(card, &card->apps[op->app]);

	if (st == HPKI_CARD_OK)
		st = verify(card, &card->apps[op->app], NULL, 0, &sw);
	if (st != HPKI_CARD_OK)
		return st;
	op->verified = sw == HPKI_SW_OK;
	st = hpki_sw_to_status("VERIFY (status)", sw);
	if ((sw & 0xFFF0) == HPKI_SW_PIN_TRIES_LEFT)
		op->tries_left = sw & 0x0F;
	if (st == HPKI_CARD_PIN_LOCKED)
		op->tries_left = 0;
	if (st == HPKI_CARD_PIN_INCORRECT)
		return HPKI_CARD_OK; /* 63Cx here is a counter, not a failed try (G31 C.3.4) */
	/* Cards that keep the counter to themselves answer 6982/6985 or refuse the
	 * empty VERIFY: not verified, tries unknown. */
	if (st == HPKI_CARD_NOT_AUTHENTICATED || st == HPKI_CARD_UNSUPPORTED || st == HPKI_CARD_DATA_INVALID ||
	    sw == HPKI_SW_CONDITIONS_NOT_SATISFIED)
		return HPKI_CARD_OK;
	return st;
}

enum hpki_card_status hpki_card_pin_status(struct hpki_card *card, size_t app, bool *verified, int *tries_left)
{
	struct pin_op op = { .app = app, .tries_left = -1 };
	enum hpki_card_status st;

	if (!app_index_valid(card, app))
		return HPKI_CARD_DATA_INVALID;
	st = run_in_transaction(card, pin_status_op, &op, true);
	*verified = st == HPKI_CARD_OK && op.verified;
	*tries_left = op.tries_left;
	return st;
}

static enum hpki_card_status verify_pin_op(struct hpki_card *card, void *arg)
{
	struct pin_op *op = arg;
	uint16_t sw;
	enum hpki_card_status st = select_app(card, &card->apps[op->app]);

	if (st != HPKI_CARD_OK)
		return st; /* nothing sent: no try used */
	st = verify(card, &card->apps[op->app], op->pin, op->pin_len, &sw);
	if (st != HPKI_CARD_OK) {
		hpki_error("VERIFY failed in transport (%s); not repeated", hpki_card_status_text(st));
		return st;
	}
	st = hpki_sw_to_status("VERIFY", sw);
	if ((sw & 0xFFF0) == HPKI_SW_PIN_TRIES_LEFT)
		op->tries_left = sw & 0x0F;
	if (st == HPKI_CARD_PIN_LOCKED)
		op->tries_left = 0;
	return st;
}

enum hpki_card_status hpki_card_verify_pin(struct hpki_card *card, size_t app, const uint8_t *pin, size_t pin_len,
					   int *tries_left)
{
	struct pin_op op = { .app = app, .pin = pin, .pin_len = pin_len, .tries_left = -1 };
	enum hpki_card_status st;

	if (!app_index_valid(card, app))
		return HPKI_CARD_DATA_INVALID;
	if (pin == NULL || pin_len == 0 || pin_len > HPKI_APDU_SHORT_MAX_NC)
		return HPKI_CARD_DATA_INVALID;
	st = run_in_transaction(card, verify_pin_op, &op, false);
	*tries_left = op.tries_left;
	return st;
}

/* ------------------------------------------------------------------------ */
/* Signing                                                                   */

struct sign_op {
	size_t app;
	enum hpki_sign_input kind;
	const uint8_t *input;
	size_t input_len;
	size_t k;        /* modulus bytes */
	uint8_t *result; /* FILE_MAX bytes */
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
	st = select_ef(card, fid, sw);
	if (st != HPKI_CARD_OK || *sw != HPKI_SW_OK)
		return st;
	apdu.extended = card->extended_length && op->k > SHORT_CHUNK;
	apdu.ne = apdu.extended ? op->k : SHORT_CHUNK;
	return exchange(card, &apdu, op->result, FILE_MAX, &op->result_len, sw);
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
		apdu.ne = apdu.extended ? FILE_MAX : SHORT_CHUNK;
		st = exchange(card, &apdu, op->result, FILE_MAX, &op->result_len, sw);
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
	enum hpki_card_status st = select_app(card, app);

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

	if (!app_index_valid(card, app))
		return HPKI_CARD_DATA_INVALID;
	a = &card->apps[app];
	if (!a->has_key || a->key.modulus_bits < 512) {
		hpki_error("application %zu has no usable key", app);
		return HPKI_CARD_UNSUPPORTED;
	}
	op.k = (a->key.modulus_bits + 7) / 8;
	if (a->sign_method == HPKI_SIGN_METHOD_PSO_RAW && op.k > HPKI_APDU_SHORT_MAX_NC && !card->extended_length &&
	    !card->command_chaining) {
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
	op.result = malloc(FILE_MAX);
	if (op.result == NULL)
		return HPKI_CARD_NO_MEMORY;
	st = run_in_transaction(card, sign_op_run, &op, true);
	if (st == HPKI_CARD_OK) {
		memcpy(sig, op.result, op.k);
		*sig_len = op.k;
	}
	free(op.result);
	return st;
}

const char *hpki_card_status_text(enum hpki_card_status status)
{
	switch (status) {
	case HPKI_CARD_OK:
		return "ok";
	case HPKI_CARD_REMOVED:
		return "card removed";
	case HPKI_CARD_NOT_HPKI:
		return "not an HPKI card";
	case HPKI_CARD_PIN_INCORRECT:
		return "PIN incorrect";
	case HPKI_CARD_PIN_LOCKED:
		return "PIN locked";
	case HPKI_CARD_NOT_AUTHENTICATED:
		return "security status not satisfied";
	case HPKI_CARD_BAD_RESPONSE:
		return "bad response from the card";
	case HPKI_CARD_UNSUPPORTED:
		return "not supported by the card";
	case HPKI_CARD_DATA_INVALID:
		return "input invalid";
	case HPKI_CARD_IO_ERROR:
		return "reader I/O error";
	case HPKI_CARD_BUSY:
		return "card in exclusive use elsewhere";
	case HPKI_CARD_NO_MEMORY:
		return "out of memory";
	}
	return "unknown card status";
}
