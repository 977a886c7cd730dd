/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool attend: the attendance file. One row per card, each appended with a
 * single write(2) to a descriptor opened with O_APPEND and then fsync'd, so a row
 * is either wholly on disk or not at all, even when the tool is killed (kill -9)
 * or the machine loses power after the on-screen report.
 */
#ifndef HPKI_TOOL_CSV_H
#define HPKI_TOOL_CSV_H

#include <stdbool.h>

#define HPKI_CSV_COLUMNS 8

struct hpki_csv {
	int fd;
};

/* Opens (creates, mode 0644) for appending. False after printing why. */
bool hpki_csv_open(struct hpki_csv *csv, const char *path);
/* Appends one row of HPKI_CSV_COLUMNS fields (NULL = empty) and fsyncs; writes the
 * header row first when the file is empty. False when the row is not on disk. */
bool hpki_csv_append(struct hpki_csv *csv, const char *const fields[HPKI_CSV_COLUMNS]);
void hpki_csv_close(struct hpki_csv *csv);

#endif
