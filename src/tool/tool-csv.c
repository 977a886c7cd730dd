/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-tool attend: RFC 4180 rows, appended atomically (see tool-csv.h). */
#include "config.h"

#include "tool-csv.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROW_MAX 4096

static const char *const header[HPKI_CSV_COLUMNS] = {
	"time", "holder", "holder_roman", "qualification", "serial", "issuer", "result", "proof",
};

bool hpki_csv_open(struct hpki_csv *csv, const char *path)
{
	csv->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (csv->fd < 0) {
		hpki_tool_error(_("cannot open %s: %s"), path, strerror(errno));
		return false;
	}
	return true;
}

/* One field, always quoted (RFC 4180 §2.5–2.7). A leading = + - @ gets a ' so that a
 * spreadsheet does not run a certificate's text as a formula. */
static size_t put_field(char *row, size_t at, const char *field)
{
	const char *f = field != NULL ? field : "";

	if (at + 4 >= ROW_MAX)
		return at;
	row[at++] = '"';
	if (strchr("=+-@", f[0]) != NULL && f[0] != '\0')
		row[at++] = '\'';
	for (; *f != '\0' && at + 3 < ROW_MAX; f++) {
		if (*f == '"')
			row[at++] = '"';
		row[at++] = (*f == '\r' || *f == '\n') ? ' ' : *f;
	}
	row[at++] = '"';
	return at;
}

static size_t put_row(char *row, size_t at, const char *const fields[HPKI_CSV_COLUMNS])
{
	for (int i = 0; i < HPKI_CSV_COLUMNS; i++) {
		if (i > 0 && at + 1 < ROW_MAX)
			row[at++] = ',';
		at = put_field(row, at, fields[i]);
	}
	if (at + 2 < ROW_MAX) {
		row[at++] = '\r'; /* RFC 4180 line break */
		row[at++] = '\n';
	}
	return at;
}

bool hpki_csv_append(struct hpki_csv *csv, const char *const fields[HPKI_CSV_COLUMNS])
{
	static char row[2 * ROW_MAX];
	struct stat st;
	size_t len = 0, done = 0;

	if (fstat(csv->fd, &st) == 0 && st.st_size == 0)
		len = put_row(row, 0, header);
	len += put_row(row + len, 0, fields);
	/* One write(2) for the whole row: O_APPEND makes it land at the end as one piece. */
	while (done < len) {
		ssize_t n = write(csv->fd, row + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hpki_tool_error(_("cannot write the attendance file: %s"), strerror(errno));
			return false;
		}
		done += (size_t)n;
	}
	if (fsync(csv->fd) != 0) {
		hpki_tool_error(_("cannot flush the attendance file to disk: %s"), strerror(errno));
		return false;
	}
	return true;
}

void hpki_csv_close(struct hpki_csv *csv)
{
	if (csv->fd >= 0)
		close(csv->fd);
	csv->fd = -1;
}
