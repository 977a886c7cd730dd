/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The in-process virtual card (src/vcard, libhpki-vcard) as the fuzzers' live card:
 * a realistic HPKI card for the API fuzzer and the corpus recorder.
 */
#ifndef HPKI_FUZZ_VCARD_H
#define HPKI_FUZZ_VCARD_H

#include <stdbool.h>

#include "fuzz-reader.h"
#include "vcard.h"

/* One card variant: a profile of the virtual card and how it answers. */
struct hpki_fuzz_variant {
	const char *name; /* for corpus file names */
	enum vcard_profile profile;
	enum vcard_apps apps;
	const char *holder;
	bool extended_length;
	enum vcard_response_mode response_mode;
};

extern const struct hpki_fuzz_variant hpki_fuzz_variants[];
extern const size_t hpki_fuzz_variant_count;

/* A fresh card (PIN counters full, in memory only) or NULL; the test PKI comes
 * from HPKI_FUZZ_PKI_DIR (compiled in) or $HPKI_VCARD_DATA_DIR. */
struct vcard *hpki_fuzz_vcard_new(const struct hpki_fuzz_variant *variant);
/* The variant's card as if new (PIN counters full, no fault, nothing selected),
 * built once and kept: rebuilding it for every input (PEM keys, certificates) would
 * cost most of the API fuzzer's time. Never free it. NULL on error. */
struct vcard *hpki_fuzz_vcard_fresh(size_t variant);
/* The card as a struct hpki_fuzz_card for hpki_fuzz_reader_live(). */
struct hpki_fuzz_card hpki_fuzz_vcard_reader(struct vcard *card);

#endif
