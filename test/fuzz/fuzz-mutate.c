/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A structure-aware mutator for the reader's replay format (fuzz-reader.h), used
 * by fuzz-card and fuzz-sign. Byte-level mutation keeps breaking the length
 * prefixes: an answer that shrinks shifts every later answer, and the status word
 * at its end is lost. Half of the mutations here work on whole answers instead —
 * mutate one answer's bytes, cut its data but keep its status word, replace it by a
 * bare status word or an I/O failure, drop or repeat it — and rewrite the prefix.
 * The other half are libFuzzer's own mutations of the whole input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz-mutate.h"
#include "fuzz-reader.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define MAX_ANSWERS 2048

struct answer {
	size_t at;   /* offset of the 2-byte prefix */
	size_t len;  /* bytes after the prefix actually present */
	bool io;     /* an I/O mark */
};

/* Status words a card answers with (ISO 7816-4 §5.6, G31 annex C); 0 = random. */
static const uint16_t status_words[] = { 0x9000, 0x6100, 0x6110, 0x61FF, 0x6C00, 0x6C10, 0x6282, 0x6283,
					 0x63C0, 0x63C1, 0x63CE, 0x6700, 0x6884, 0x6982, 0x6983, 0x6984,
					 0x6985, 0x6A82, 0x6A86, 0x6A88, 0x6B00, 0x6D00, 0x6E00, 0x6F00, 0 };

static size_t parse(const uint8_t *data, size_t size, size_t header, struct answer *answers)
{
	size_t pos = header, n = 0;

	if (pos < size)
		pos += 1 + data[pos] % (HPKI_ATR_MAX + 1); /* the ATR */
	while (pos + 2 <= size && n < MAX_ANSWERS) {
		unsigned len = (unsigned)data[pos] << 8 | data[pos + 1];

		answers[n].at = pos;
		answers[n].io = len >= HPKI_FUZZ_IO_MARK;
		answers[n].len = answers[n].io ? 0 : (len < size - pos - 2 ? len : size - pos - 2);
		pos += 2 + answers[n].len;
		n++;
	}
	return n;
}

size_t hpki_fuzz_mutate_replay(uint8_t *data, size_t size, size_t max_size, unsigned int seed, size_t header)
{
	static struct answer answers[MAX_ANSWERS];
	uint8_t *out, *piece;
	size_t n, i, o, piece_len, piece_cap, before, after;
	unsigned r = seed;

	if (r % 2 == 0 || size <= header + 1)
		return LLVMFuzzerMutate(data, size, max_size);
	r /= 2;
	n = parse(data, size, header, answers);
	if (n == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	i = r % n;
	r /= (unsigned)n;
	before = answers[i].at;
	after = answers[i].at + 2 + answers[i].len;
	piece_cap = answers[i].len + 64;
	piece = malloc(piece_cap);
	out = malloc(max_size);
	if (piece == NULL || out == NULL)
		abort();
	memcpy(piece, data + answers[i].at + 2, answers[i].len);
	piece_len = answers[i].len;
	switch (r % 6) {
	case 0: /* the answer's bytes, libFuzzer's way (an I/O mark becomes another one below) */
		if (!answers[i].io)
			piece_len = LLVMFuzzerMutate(piece, piece_len, piece_cap);
		if (piece_len >= HPKI_FUZZ_IO_MARK)
			piece_len = HPKI_FUZZ_IO_MARK - 1;
		break;
	case 1: /* less data, same status word */
		if (piece_len > 2) {
			size_t cut = 1 + (r / 6) % (piece_len - 2);

			memmove(piece + piece_len - 2 - cut, piece + piece_len - 2, 2);
			piece_len -= cut;
		}
		break;
	case 2: { /* a bare status word */
		uint16_t sw = status_words[(r / 6) % (sizeof status_words / sizeof status_words[0])];

		if (sw == 0)
			sw = (uint16_t)(r >> 8);
		else if ((sw & 0xFF) == 0 && (sw >> 8 == 0x61 || sw >> 8 == 0x6C))
			sw |= (uint16_t)((r >> 8) & 0xFF);
		piece[0] = (uint8_t)(sw >> 8);
		piece[1] = (uint8_t)sw;
		piece_len = 2;
		break;
	}
	case 3: /* the same data with another status word */
		if (piece_len >= 2) {
			uint16_t sw = status_words[(r / 6) % (sizeof status_words / sizeof status_words[0])];

			piece[piece_len - 2] = (uint8_t)(sw >> 8);
			piece[piece_len - 1] = (uint8_t)sw;
		}
		break;
	case 4: /* drop it: every later answer moves one command earlier */
		piece_len = 0;
		break;
	default: /* repeat it: every later answer moves one command later */
		break;
	}
	if (before + 2 + piece_len + (r % 6 == 5 ? 2 + answers[i].len : 0) + (size - after) > max_size) {
		free(piece);
		free(out);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	memcpy(out, data, before);
	o = before;
	if (r % 6 != 4) {
		unsigned mark = (unsigned)piece_len;

		if (answers[i].io && r % 6 == 0)
			mark = HPKI_FUZZ_IO_MARK + (r >> 8) % 9; /* another I/O failure */
		out[o++] = (uint8_t)(mark >> 8);
		out[o++] = (uint8_t)mark;
		if (mark < HPKI_FUZZ_IO_MARK) {
			memcpy(out + o, piece, piece_len);
			o += piece_len;
		}
	}
	if (r % 6 == 5) {
		memcpy(out + o, data + answers[i].at, 2 + answers[i].len);
		o += 2 + answers[i].len;
	}
	memcpy(out + o, data + after, size - after);
	o += size - after;
	memcpy(data, out, o);
	free(piece);
	free(out);
	return o;
}
