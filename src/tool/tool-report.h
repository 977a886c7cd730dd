/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool diagnose: the report, and the descriptions that stand in for personal
 * data. A certificate becomes its shape (length, algorithms, key size, extension
 * list, hcRole value); a directory file becomes its structure without labels or
 * identifiers. Nothing that names or numbers the holder is ever put in the report.
 */
#ifndef HPKI_TOOL_REPORT_H
#define HPKI_TOOL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hpki_report {
	char *text;
	size_t len, cap;
	bool failed; /* out of memory: the report is incomplete */
};

void hpki_report_add(struct hpki_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hex of bytes that are not personal (commands, ATR, FCI). */
void hpki_report_hex(struct hpki_report *r, const uint8_t *data, size_t len);
void hpki_report_free(struct hpki_report *r);

/* "cert <where> ..." line: the certificate's shape only. */
void hpki_report_cert_shape(struct hpki_report *r, const char *where, const uint8_t *der, size_t len);
/* "dir <where> ..." line: a directory file (kind = EF.OD/AOD/PrKD/CD) without labels/ids. */
void hpki_report_directory(struct hpki_report *r, const char *where, const char *kind, const uint8_t *der,
			   size_t len);

/* Shows the report, asks (terminal) before writing it to `path` unless `yes`. */
bool hpki_report_confirm_and_write(const struct hpki_report *r, const char *path, bool yes);

#endif
