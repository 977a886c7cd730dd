/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: the card holder's command line (issue 13). Each command lives in its
 * own file (tool-status.c, tool-sign.c, tool-attend.c) and reaches the card only
 * through the card library (src/card), never through a copy of the driver.
 */
#ifndef HPKI_TOOL_H
#define HPKI_TOOL_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* Messages go through gettext (text domain "hpki-tool", po/ja.po): Japanese where the
 * user's locale is Japanese, English otherwise. N_() marks text translated later. */
#include <libintl.h>
#define _(text) gettext(text)
#define N_(text) (text)
#define HPKI_TOOL_DOMAIN "hpki-tool"

/* Exit codes shared by every command. */
enum {
	HPKI_TOOL_OK = 0,
	HPKI_TOOL_FAILED = 1,   /* the operation failed (card, PIN, signature invalid) */
	HPKI_TOOL_USAGE = 2,    /* wrong options */
};

int hpki_tool_status(int argc, char **argv);
int hpki_tool_sign(int argc, char **argv);
int hpki_tool_verify(int argc, char **argv);
int hpki_tool_attend(int argc, char **argv);
int hpki_tool_diagnose(int argc, char **argv);

/* "Now" for validity checks: HPKI_TOOL_NOW (seconds since the epoch) lets the tests
 * see the renewal warning of certificates that expire in 2045; else time(). */
time_t hpki_tool_now(void);

/* The qualification as the user reads it (ja: 医師 for "Medical Doctor"). */
const char *hpki_tool_role_text(const char *role);

/* Prints msg to stderr as "hpki-tool: msg". */
void hpki_tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
