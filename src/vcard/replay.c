/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-vcard --replay: see replay.h. The report format is doc/reporting-a-card.md's. */
#include "config.h"

#include "replay.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX_ANSWERS 64
#define REPLAY_MAX_CMD 64
#define REPLAY_MAX_DATA 256

struct replay_answer {
	uint8_t cmd[REPLAY_MAX_CMD];
	size_t cmd_len;
	uint8_t data[REPLAY_MAX_DATA];
	size_t data_len;
	uint16_t sw;
};

struct vcard_replay {
	uint8_t atr[33];
	size_t atr_len;
	struct replay_answer answers[REPLAY_MAX_ANSWERS];
	size_t count;
};

struct vcard_replay *vcard_replay_active;

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits up to the first other character. */
static size_t from_hex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (n < max && nibble(hex[2 * n]) >= 0 && nibble(hex[2 * n + 1]) >= 0) {
		out[n] = (uint8_t)(nibble(hex[2 * n]) << 4 | nibble(hex[2 * n + 1]));
		n++;
	}
	return n;
}

/* Steps answered as recorded: application selection, MSE, the past-the-end read.
 * Not "select-partial-next": the same command has a different answer each time (the
 * next application, then 6A82), which the card model's discovery already plays. */
static bool replayed_step(const char *step)
{
	return !strncmp(step, "select-sig", 10) || !strncmp(step, "select-auth", 11) ||
	       !strcmp(step, "select-partial-first") || !strcmp(step, "mse") || !strcmp(step, "form-past-end");
}

static void add_answer(struct vcard_replay *r, const char *line)
{
	char step[40], cmd[2 * REPLAY_MAX_CMD + 1], data[2 * REPLAY_MAX_DATA + 1] = "";
	unsigned sw;
	size_t len;
	const char *d;
	struct replay_answer *a;

	if (sscanf(line, "apdu %39s %128s -> %4x len=%zu", step, cmd, &sw, &len) != 4 || !replayed_step(step) ||
	    r->count >= REPLAY_MAX_ANSWERS)
		return;
	d = strstr(line, " data=");
	if (d != NULL)
		sscanf(d + 6, "%512s", data);
	a = &r->answers[r->count++];
	a->cmd_len = from_hex(cmd, a->cmd, sizeof(a->cmd));
	a->data_len = from_hex(data, a->data, sizeof(a->data));
	a->sw = (uint16_t)sw;
}

/* The card model that fits the report best. */
static void adjust_config(const char *line, struct vcard_config *config, bool *mse_known)
{
	unsigned sw;
	char step[40], cmd[130];

	if (!strncmp(line, "dir sig/od od ", 14) || !strncmp(line, "dir auth/od od ", 15))
		config->profile = strstr(line, "=sfi:") != NULL ? VCARD_PROFILE_JAHIS : VCARD_PROFILE_JMA;
	else if (!strncmp(line, "cert ", 5) && strstr(line, "key=RSA-4096") != NULL && strstr(line, "-ca ") == NULL)
		config->holder = "rsa4096";
	else if (sscanf(line, "apdu %39s %129s -> %4x", step, cmd, &sw) == 3) {
		if (!strcmp(step, "form-extended") && sw != 0x9000 && sw != 0x6282)
			config->extended_length = false;
		if (!strcmp(step, "mse") && sw != 0x6D00 && sw != 0x6E00)
			*mse_known = true;
	}
}

struct vcard_replay *vcard_replay_load(const char *path, struct vcard_config *config, const char **error)
{
	FILE *f = fopen(path, "r");
	struct vcard_replay *r = calloc(1, sizeof(*r));
	char line[4096];
	bool header = false, mse_known = false, any_mse = false;

	if (f == NULL || r == NULL) {
		*error = f == NULL ? "cannot open the report" : "out of memory";
		if (f != NULL)
			fclose(f);
		free(r);
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "hpki-tool-diagnose 1"))
			header = true;
		else if (!strncmp(line, "atr ", 4))
			r->atr_len = from_hex(line + 4, r->atr, sizeof(r->atr));
		else if (!strncmp(line, "apdu ", 5))
			add_answer(r, line);
		any_mse |= !strncmp(line, "apdu mse ", 9);
		adjust_config(line, config, &mse_known);
	}
	fclose(f);
	if (!header) {
		*error = "not an hpki-tool diagnose report (format 1)";
		free(r);
		return NULL;
	}
	/* A card that knows no MSE signs the 2019 way (80 2A 00 80, facts §5). */
	if (any_mse && !mse_known && config->profile == VCARD_PROFILE_JMA)
		config->profile = VCARD_PROFILE_JMA_2019;
	if (getenv("HPKI_VCARD_REPLAY_VERBOSE") != NULL)
		fprintf(stderr, "hpki-vcard: replay %s: %zu recorded answers, profile %d, %s, holder %s\n", path, r->count,
			(int)config->profile, config->extended_length ? "extended length" : "short APDUs", config->holder);
	return r;
}

void vcard_replay_free(struct vcard_replay *replay)
{
	free(replay);
}

size_t vcard_replay_atr(const struct vcard_replay *replay, uint8_t *atr, size_t max)
{
	if (replay == NULL || replay->atr_len == 0 || replay->atr_len > max)
		return 0;
	memcpy(atr, replay->atr, replay->atr_len);
	return replay->atr_len;
}

size_t vcard_replay_filter(const struct vcard_replay *replay, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
			   size_t resp_len)
{
	if (replay == NULL || resp_len == 0)
		return resp_len;
	for (size_t i = 0; i < replay->count; i++) {
		const struct replay_answer *a = &replay->answers[i];

		if (a->cmd_len != cmd_len || memcmp(a->cmd, cmd, cmd_len) != 0)
			continue;
		memcpy(resp, a->data, a->data_len);
		resp[a->data_len] = (uint8_t)(a->sw >> 8);
		resp[a->data_len + 1] = (uint8_t)a->sw;
		return a->data_len + 2;
	}
	return resp_len;
}
