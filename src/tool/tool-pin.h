/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: asking for a PIN. Never from the command line (it would show in ps and
 * in the shell history): from the terminal without echo, or one line from a file
 * descriptor the caller opened (--pin-fd N). The caller wipes the buffer.
 */
#ifndef HPKI_TOOL_PIN_H
#define HPKI_TOOL_PIN_H

#include <stdbool.h>
#include <stddef.h>

/* HPKI PINs: 4–16 printable ASCII characters (G31 §5.1.2; JMA cards use 4 digits). */
#define HPKI_TOOL_PIN_MIN 4
#define HPKI_TOOL_PIN_MAX 16

/* Reads the PIN into buf (NUL-terminated); fd < 0: the terminal. Returns its length,
 * or -1 after printing why (no terminal, wrong length or characters). */
int hpki_tool_read_pin(int fd, const char *prompt, char *buf, size_t cap);
/* Overwrites the buffer in a way the compiler cannot drop. */
void hpki_tool_wipe(void *buf, size_t len);

#endif
