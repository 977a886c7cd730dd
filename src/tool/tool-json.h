/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-tool: the few JSON pieces the --json output needs (RFC 8259 strings). */
#ifndef HPKI_TOOL_JSON_H
#define HPKI_TOOL_JSON_H

#include <stdio.h>

/* "key": "escaped value" (value NULL → null); `comma` prefixes ", ". */
void hpki_json_str(FILE *out, const char *key, const char *value, int comma);
void hpki_json_int(FILE *out, const char *key, long long value, int comma);
void hpki_json_bool(FILE *out, const char *key, int value, int comma);

#endif
