/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-tool: JSON strings escaped as RFC 8259 §7 requires (", \ and controls). */
#include "config.h"

#include "tool-json.h"

static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out); /* UTF-8 passes through: kanji names stay readable */
	}
	fputc('"', out);
}

static void put_key(FILE *out, const char *key, int comma)
{
	if (comma)
		fputs(", ", out);
	put_string(out, key);
	fputs(": ", out);
}

void hpki_json_str(FILE *out, const char *key, const char *value, int comma)
{
	put_key(out, key, comma);
	if (value == NULL)
		fputs("null", out);
	else
		put_string(out, value);
}

void hpki_json_int(FILE *out, const char *key, long long value, int comma)
{
	put_key(out, key, comma);
	fprintf(out, "%lld", value);
}

void hpki_json_bool(FILE *out, const char *key, int value, int comma)
{
	put_key(out, key, comma);
	fputs(value ? "true" : "false", out);
}
