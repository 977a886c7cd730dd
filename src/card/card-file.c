/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: reading transparent EFs (READ BINARY by FID or SFI, short and
 * extended, G31 C.4) up to the end of their DER content.
 */
#include "config.h"

#include "card-private.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* READ BINARY with P1 b8 = 0 carries a 15-bit offset (G31 C.4.2). */
#define OFFSET_MAX 0x7FFF

/* ------------------------------------------------------------------------ */
/* DER length walking, bounds-checked                                       */

/*
 * Size of the DER value starting at p: 1 and *total when its header is complete,
 * 0 when more bytes are needed to tell, -1 when malformed or over HPKI_CARD_FILE_MAX (a
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
	if (len > HPKI_CARD_FILE_MAX - i)
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


/* How a directory or certificate names its EF. */

bool hpki_ef_ref_from_path(const struct hpki_cio_path *path, struct hpki_ef_ref *ref)
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

static void ef_ref_text(const struct hpki_ef_ref *ref, char *buf, size_t cap)
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
	unsigned long resets = card->link.reset_count;
	enum hpki_card_status st;

	apdu.extended = card->extended_length || probing;
	apdu.ne = apdu.extended ? *want : (*want > HPKI_CARD_SHORT_CHUNK ? HPKI_CARD_SHORT_CHUNK : *want);
	if (probing)
		apdu.ne = cap < HPKI_CARD_FILE_MAX ? cap : HPKI_CARD_FILE_MAX; /* Le 000000: to the end of the file */
	*want = apdu.ne;
	st = hpki_card_exchange(card, &apdu, out, cap, got, sw);
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
	if (st != HPKI_CARD_OK && (st != HPKI_CARD_IO_ERROR || card->link.reset_count != resets))
		return st;
	/* Refused (or the reader failed on the long APDU): repeat it short. */
	apdu.extended = false;
	apdu.ne = HPKI_CARD_SHORT_CHUNK;
	*want = apdu.ne;
	st = hpki_card_exchange(card, &apdu, out, cap, got, sw);
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
enum hpki_card_status hpki_card_read_ef(struct hpki_card *card, const struct hpki_ef_ref *ref, bool single, uint8_t **out,
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
		st = hpki_card_select_ef(card, ref->fid, &sw);
		if (st != HPKI_CARD_OK)
			return st;
		if (sw == HPKI_SW_FILE_NOT_FOUND) {
			*found = false;
			return HPKI_CARD_OK;
		}
		if (sw != HPKI_SW_OK)
			return hpki_sw_to_status("SELECT EF", sw);
	}
	buf = malloc(HPKI_CARD_FILE_MAX);
	if (buf == NULL)
		return HPKI_CARD_NO_MEMORY;
	want = card->extended_length ? HPKI_CARD_FILE_MAX : HPKI_CARD_SHORT_CHUNK;
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
		st = read_binary(card, p1, p2, &want, buf + len, HPKI_CARD_FILE_MAX - len, &got, &sw);
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
		if (len >= HPKI_CARD_FILE_MAX) {
			hpki_error("%s: larger than %d bytes", name, HPKI_CARD_FILE_MAX);
			st = HPKI_CARD_BAD_RESPONSE;
			break;
		}
		/* A short answer with DER still incomplete: the card caps its responses; go on. */
		want = card->extended_length ? HPKI_CARD_FILE_MAX - len : HPKI_CARD_SHORT_CHUNK;
		if (need > 0 && need < want)
			want = need;
	}
	if (st == HPKI_CARD_OK && *found) {
		/* Kept for the card's lifetime: sized to the content, not to the largest
		 * response (issue 11: 64 KiB per file held for 1–2 KB certificates). */
		uint8_t *fitted = realloc(buf, content_len > 0 ? content_len : 1);

		*out_len = content_len;
		*out = fitted != NULL ? fitted : buf;
		hpki_info("%s: %zu bytes of content", name, content_len);
		return HPKI_CARD_OK;
	}
	free(buf);
	return st;
}
