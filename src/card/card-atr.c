/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: what the ATR says about the card (ISO 7816-3 §8.2, ISO 7816-4
 * §8.1.1): extended length and command chaining, before any APDU is sent.
 */
#include "config.h"

#include "card-private.h"
#include "log.h"

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
void hpki_card_atr_capabilities(struct hpki_card *card)
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

			card->link.command_chaining = (sw3 & HPKI_CAP3_COMMAND_CHAINING) != 0;
			card->extended_length = (sw3 & HPKI_CAP3_EXTENDED_LENGTH) != 0;
			card->capabilities_known = true;
			hpki_info("ATR card capabilities: chaining %s, extended length %s",
				  card->link.command_chaining ? "yes" : "no", card->extended_length ? "yes" : "no");
			return;
		}
		pos += 1 + len;
	}
}
