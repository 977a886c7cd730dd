/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card-behaviour switches of hpki-vcard by name (issue 10): each one picks one
 * plausible answer to an open question of card-fidelity.md §4. Used by the command
 * line (--NAME VALUE), the control socket's "status", and the tests. The first value
 * of each switch is the default: the behaviour of the profiles jma, jahis, jma-2019
 * and blank before the switches existed.
 */
#include "card-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* df-select refuse-XXXX: the value carries the status word under this flag. */
#define DF_REFUSE_FLAG 0x10000

struct switch_choice {
	const char *name;
	int value;
};

struct card_switch {
	const char *name;
	const struct switch_choice *choices;
	size_t count;
	int (*get)(const struct vcard_config *config);
	void (*set)(struct vcard_config *config, int value);
};

#define CHOICES(array) array, sizeof array / sizeof array[0]

/* ---- df-select: risk 1, G31 C.2.2 ------------------------------------------------------- */

static const struct switch_choice df_select_choices[] = {
	{ "honour-p2", VCARD_DF_SELECT_HONOUR_P2 },
	{ "always-fci", VCARD_DF_SELECT_ALWAYS_FCI },
};

static int get_df_select(const struct vcard_config *c)
{
	if (c->quirks.df_select == VCARD_DF_SELECT_REFUSE_NO_FCI)
		return DF_REFUSE_FLAG | (c->quirks.df_select_sw != 0 ? c->quirks.df_select_sw : HPKI_SW_WRONG_P1P2_DATA);
	return (int)c->quirks.df_select;
}

static void set_df_select(struct vcard_config *c, int v)
{
	if (v & DF_REFUSE_FLAG) {
		c->quirks.df_select = VCARD_DF_SELECT_REFUSE_NO_FCI;
		c->quirks.df_select_sw = (uint16_t)(v & 0xFFFF);
	} else {
		c->quirks.df_select = (enum vcard_df_select)v;
		c->quirks.df_select_sw = 0;
	}
}

/* ---- the others, one choice list and accessor pair each --------------------------------- */

static const struct switch_choice empty_verify_choices[] = { { "status", 0 }, { "always-63cx", 1 } };
static int get_empty_verify(const struct vcard_config *c) { return c->quirks.empty_verify_always_tries; }
static void set_empty_verify(struct vcard_config *c, int v) { c->quirks.empty_verify_always_tries = v != 0; }

enum { EXTENDED_ALL, EXTENDED_PSO, EXTENDED_NONE };
static const struct switch_choice extended_choices[] = {
	{ "all", EXTENDED_ALL }, { "pso", EXTENDED_PSO }, { "none", EXTENDED_NONE } };

static int get_extended(const struct vcard_config *c)
{
	if (!c->extended_length)
		return EXTENDED_NONE;
	return c->quirks.extended_scope == VCARD_EXTENDED_PSO_ONLY ? EXTENDED_PSO : EXTENDED_ALL;
}

static void set_extended(struct vcard_config *c, int v)
{
	c->extended_length = v != EXTENDED_NONE;
	c->quirks.extended_scope = v == EXTENDED_PSO ? VCARD_EXTENDED_PSO_ONLY : VCARD_EXTENDED_ALL;
}

static const struct switch_choice yes_no_choices[] = { { "yes", 1 }, { "no", 0 } };
static int get_chaining(const struct vcard_config *c) { return c->command_chaining; }
static void set_chaining(struct vcard_config *c, int v) { c->command_chaining = v != 0; }

static int get_key_reference(const struct vcard_config *c) { return !c->quirks.prkd_without_key_reference; }
static void set_key_reference(struct vcard_config *c, int v) { c->quirks.prkd_without_key_reference = v == 0; }

static const struct switch_choice mse_choices[] = { { "6a88", 0 }, { "by-file", 1 } };
static int get_mse(const struct vcard_config *c) { return c->quirks.mse_by_file; }
static void set_mse(struct vcard_config *c, int v) { c->quirks.mse_by_file = v != 0; }

static const struct switch_choice reselect_choices[] = { { "keep-pin", 0 }, { "clear-pin", 1 } };
static int get_reselect(const struct vcard_config *c) { return c->quirks.reselect_clears_pin; }
static void set_reselect(struct vcard_config *c, int v) { c->quirks.reselect_clears_pin = v != 0; }

static const struct switch_choice eof_choices[] = { { "6282", 0 }, { "ff-9000", 1 } };
static int get_eof(const struct vcard_config *c) { return c->quirks.read_pads_with_ff; }
static void set_eof(struct vcard_config *c, int v) { c->quirks.read_pads_with_ff = v != 0; }

static const struct switch_choice files_choices[] = { { "minimal", 0 }, { "jma", 1 } };
static int get_files(const struct vcard_config *c) { return c->quirks.jma_file_inventory; }
static void set_files(struct vcard_config *c, int v) { c->quirks.jma_file_inventory = v != 0; }

static const struct switch_choice response_choices[] = {
	{ "direct", VCARD_RESPONSE_DIRECT },
	{ "get-response", VCARD_RESPONSE_GET_RESPONSE },
	{ "wrong-le", VCARD_RESPONSE_WRONG_LE },
};
static int get_response(const struct vcard_config *c) { return (int)c->response_mode; }
static void set_response(struct vcard_config *c, int v) { c->response_mode = (enum vcard_response_mode)v; }

static const struct switch_choice iso_choices[] = { { "no", 0 }, { "yes", 1 } };
static int get_iso(const struct vcard_config *c) { return c->quirks.legacy_accepts_iso; }
static void set_iso(struct vcard_config *c, int v) { c->quirks.legacy_accepts_iso = v != 0; }

static const struct card_switch switches[] = {
	{ "df-select", CHOICES(df_select_choices), get_df_select, set_df_select },
	{ "empty-verify", CHOICES(empty_verify_choices), get_empty_verify, set_empty_verify },
	{ "extended-length", CHOICES(extended_choices), get_extended, set_extended },
	{ "chaining", CHOICES(yes_no_choices), get_chaining, set_chaining },
	{ "prkd-key-reference", CHOICES(yes_no_choices), get_key_reference, set_key_reference },
	{ "mse-errors", CHOICES(mse_choices), get_mse, set_mse },
	{ "reselect", CHOICES(reselect_choices), get_reselect, set_reselect },
	{ "read-past-eof", CHOICES(eof_choices), get_eof, set_eof },
	{ "files", CHOICES(files_choices), get_files, set_files },
	{ "response-mode", CHOICES(response_choices), get_response, set_response },
	{ "iso-signature", CHOICES(iso_choices), get_iso, set_iso },
};

static const struct card_switch *find_switch(const char *name)
{
	for (size_t i = 0; i < sizeof switches / sizeof switches[0]; i++)
		if (!strcmp(switches[i].name, name))
			return &switches[i];
	return NULL;
}

/* "refuse-XXXX" with a status word of four hex digits that is not a success. */
static bool parse_refusal(const char *value, int *out)
{
	static const char prefix[] = "refuse-";
	char *end;
	unsigned long sw;

	if (strncmp(value, prefix, sizeof prefix - 1) != 0 || strlen(value) != sizeof prefix - 1 + 4)
		return false;
	sw = strtoul(value + sizeof prefix - 1, &end, 16);
	if (*end != '\0' || sw < 0x6000 || sw > 0x6FFF)
		return false;
	*out = DF_REFUSE_FLAG | (int)sw;
	return true;
}

int vcard_switch_set(struct vcard_config *config, const char *name, const char *value)
{
	const struct card_switch *sw = find_switch(name);
	int v;

	if (sw == NULL || value == NULL)
		return -1;
	if (sw->set == set_df_select && parse_refusal(value, &v)) {
		sw->set(config, v);
		return 0;
	}
	for (size_t i = 0; i < sw->count; i++) {
		if (!strcmp(sw->choices[i].name, value)) {
			sw->set(config, sw->choices[i].value);
			return 0;
		}
	}
	return -1;
}

static void value_name(const struct card_switch *sw, const struct vcard_config *config, char *buf, size_t size)
{
	int v = sw->get(config);

	if (v & DF_REFUSE_FLAG) {
		snprintf(buf, size, "refuse-%04X", (unsigned)(v & 0xFFFF));
		return;
	}
	for (size_t i = 0; i < sw->count; i++) {
		if (sw->choices[i].value == v) {
			snprintf(buf, size, "%s", sw->choices[i].name);
			return;
		}
	}
	snprintf(buf, size, "?");
}

int vcard_switch_get(const struct vcard_config *config, const char *name, char *buf, size_t size)
{
	const struct card_switch *sw = find_switch(name);

	if (sw == NULL)
		return -1;
	value_name(sw, config, buf, size);
	return 0;
}

const char *vcard_switch_name(size_t index)
{
	return index < sizeof switches / sizeof switches[0] ? switches[index].name : NULL;
}

/*
 * jma-strict: the jma layout with, for every open question of card-fidelity.md §4, the
 * answer that a tolerant module must survive: FCI whatever P2 says (risk 1), 63Cx to an
 * empty VERIFY (risk 2), extended length for PSO only and no chaining (risk 3), no
 * keyReference and MSE answers as on the JMA card (risk 4, §1.1), PIN lost on re-SELECT
 * (risk 6), FF-padded reads, the JMA file inventory, and T=0-style 61xx (risk 7).
 */
void vcard_config_set_jma_strict(struct vcard_config *config)
{
	config->profile = VCARD_PROFILE_JMA;
	config->extended_length = true;
	config->command_chaining = false;
	config->response_mode = VCARD_RESPONSE_GET_RESPONSE;
	config->quirks = (struct vcard_quirks){
		.df_select = VCARD_DF_SELECT_ALWAYS_FCI,
		.empty_verify_always_tries = true,
		.extended_scope = VCARD_EXTENDED_PSO_ONLY,
		.prkd_without_key_reference = true,
		.mse_by_file = true,
		.reselect_clears_pin = true,
		.read_pads_with_ff = true,
		.jma_file_inventory = true,
	};
}
