/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the ISO 7816-15 decoders (src/cio/cio-decode.c). Everything
 * they parse comes from the card's directory files, i.e. from an untrusted device.
 *
 * Input: byte 0 chooses the decoder (and, for the list decoders, the capacity of
 * the caller's array, 1..8, so HPKI_CIO_TOO_MANY is reached too); the rest is the
 * file content. Besides the sanitizers' checks, the target asserts the decoders'
 * contract: *count never exceeds the capacity, strings are terminated and lengths
 * stay within their fixed bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpki/cio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 8

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-cio: contract broken: %s\n", what);
		abort();
	}
}

static void check_label(const char *label, size_t size)
{
	check(memchr(label, '\0', size) != NULL, "label not terminated");
}

static void check_path(const struct hpki_cio_path *path)
{
	uint8_t sfi;
	uint16_t fid;

	check(path->len <= HPKI_CIO_PATH_MAX, "path length");
	/* The driver feeds every decoded path to these two. */
	(void)hpki_cio_path_is_sfi(path, &sfi);
	(void)hpki_cio_path_is_fid(path, &fid);
}

/*
 * Copies the file into a buffer of exactly its size, so that ASan reports any read
 * past its end. Never NULL: the driver always hands the decoders its read buffer;
 * (NULL, 0) is an API question of issue 8 §5, handled by the conformance work.
 */
static uint8_t *exact_copy(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct hpki_od_entry od[MAX_ENTRIES];
		struct hpki_aod_pin aod[MAX_ENTRIES];
		struct hpki_prkd_key prkd[MAX_ENTRIES];
		struct hpki_cd_cert cd[MAX_ENTRIES];
		struct hpki_cia_info cia;
	} out;
	size_t max, count = (size_t)-1, i;
	uint8_t *der;
	int rv;

	if (size < 1)
		return 0;
	max = 1 + (data[0] >> 4) % MAX_ENTRIES;
	der = exact_copy(data + 1, size - 1);
	memset(&out, 0xA5, sizeof out); /* the decoders must not rely on a zeroed output */
	switch (data[0] % 5) {
	case 0:
		rv = hpki_cio_decode_od(der, size - 1, out.od, max, &count);
		if (rv == HPKI_CIO_OK) {
			check(count <= max, "od count");
			for (i = 0; i < count; i++)
				check_path(&out.od[i].path);
		}
		break;
	case 1:
		rv = hpki_cio_decode_aod(der, size - 1, out.aod, max, &count);
		if (rv == HPKI_CIO_OK) {
			check(count <= max, "aod count");
			for (i = 0; i < count; i++) {
				check_label(out.aod[i].label, sizeof out.aod[i].label);
				check(out.aod[i].auth_id_len <= HPKI_CIO_ID_MAX, "aod authId length");
			}
		}
		break;
	case 2:
		rv = hpki_cio_decode_prkd(der, size - 1, out.prkd, max, &count);
		if (rv == HPKI_CIO_OK) {
			check(count <= max, "prkd count");
			for (i = 0; i < count; i++) {
				check_label(out.prkd[i].label, sizeof out.prkd[i].label);
				check(out.prkd[i].id_len <= HPKI_CIO_ID_MAX, "prkd iD length");
				check(out.prkd[i].auth_id_len <= HPKI_CIO_ID_MAX, "prkd authId length");
				check_path(&out.prkd[i].path);
			}
		}
		break;
	case 3:
		rv = hpki_cio_decode_cd(der, size - 1, out.cd, max, &count);
		if (rv == HPKI_CIO_OK) {
			check(count <= max, "cd count");
			for (i = 0; i < count; i++) {
				check_label(out.cd[i].label, sizeof out.cd[i].label);
				check(out.cd[i].id_len <= HPKI_CIO_ID_MAX, "cd iD length");
				check_path(&out.cd[i].path);
			}
		}
		break;
	default:
		rv = hpki_cio_decode_cia_info(der, size - 1, &out.cia);
		if (rv == HPKI_CIO_OK) {
			check_label(out.cia.manufacturer, sizeof out.cia.manufacturer);
			check_label(out.cia.label, sizeof out.cia.label);
			check(out.cia.serial_len <= HPKI_CIO_ID_MAX, "serial length");
		}
		break;
	}
	(void)hpki_cio_status_text(rv);
	free(der);
	return 0;
}
