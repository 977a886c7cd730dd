/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The module's settings, read once at C_Initialize from the environment, and its
 * clock. A leaf of the PKCS#11 layer: the slot and token code read them here,
 * nothing here reaches up.
 */
#include "config.h"

#include "settings.h"

#include <errno.h> /* program_invocation_short_name */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static struct hpki_config settings;

double hpki_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Programs that choose a TLS client certificate from every token they can see. */
static bool running_in_browser(void)
{
	static const char *const browsers[] = { "firefox", "chrome", "chromium", "msedge" };
	const char *name = program_invocation_short_name;
	size_t i;

	for (i = 0; i < sizeof browsers / sizeof browsers[0]; i++)
		if (strncmp(name, browsers[i], strlen(browsers[i])) == 0)
			return true;
	return false;
}

static void read_shown_tokens(struct hpki_config *config)
{
	const char *tokens = getenv("HPKI_PKCS11_TOKENS");

	config->show_authentication = true;
	config->show_signature = !running_in_browser();
	if (tokens == NULL || *tokens == '\0')
		return;
	if (strcmp(tokens, "all") == 0)
		config->show_signature = true;
	else if (strcmp(tokens, "auth") == 0)
		config->show_signature = false;
	else if (strcmp(tokens, "sign") == 0) {
		config->show_authentication = false;
		config->show_signature = true;
	} else
		hpki_error("HPKI_PKCS11_TOKENS='%s' ignored: use all, auth or sign", tokens);
}

/* A logout ends the login on the card unless the site asks for the old behaviour
 * (issue 8 §2: a browser's logout must not leave the key usable without a PIN). */
static void read_logout_reset(struct hpki_config *config)
{
	const char *value = getenv("HPKI_PKCS11_LOGOUT_RESET");

	config->logout_reset = true;
	if (value == NULL || *value == '\0' || strcmp(value, "1") == 0)
		return;
	if (strcmp(value, "0") == 0)
		config->logout_reset = false;
	else
		hpki_error("HPKI_PKCS11_LOGOUT_RESET='%s' ignored: use 1 or 0", value);
}

static char cache_path[4096];

/* Only an absolute directory: a relative one would follow the process's cwd. */
static const char *cache_directory(bool *warm_start)
{
	const char *mode = getenv("HPKI_PKCS11_CACHE");
	const char *dir = getenv("HPKI_PKCS11_CACHE_DIR");
	const char *base = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	*warm_start = true;
	if (mode != NULL && strcmp(mode, "off") == 0)
		return NULL;
	if (mode != NULL && strcmp(mode, "confirm") == 0)
		*warm_start = false;
	else if (mode != NULL && *mode != '\0' && strcmp(mode, "on") != 0)
		hpki_error("HPKI_PKCS11_CACHE='%s' ignored: use off, confirm or on", mode);
	if (dir != NULL && dir[0] == '/')
		n = snprintf(cache_path, sizeof cache_path, "%s", dir);
	else if (base != NULL && base[0] == '/')
		n = snprintf(cache_path, sizeof cache_path, "%s/hpki-pkcs11", base);
	else if (home != NULL && home[0] == '/')
		n = snprintf(cache_path, sizeof cache_path, "%s/.cache/hpki-pkcs11", home);
	else
		return NULL;
	return n > 0 && (size_t)n < sizeof cache_path ? cache_path : NULL;
}

static void read_config(struct hpki_config *config)
{
	const char *interval = getenv("HPKI_PKCS11_REFRESH_INTERVAL");

	config->refresh_interval = 1.0;
	if (interval != NULL && *interval != '\0') {
		char *end;
		double value = strtod(interval, &end);

		if (*end == '\0' && value >= 0 && value <= 60)
			config->refresh_interval = value;
	}
	read_shown_tokens(config);
	read_logout_reset(config);
	config->cache_dir = cache_directory(&config->warm_start);
	if (!config->show_signature)
		hpki_info("showing the authentication token only (%s)",
			  running_in_browser() ? "browser" : "HPKI_PKCS11_TOKENS");
}

void hpki_settings_load(void)
{
	read_config(&settings);
}

const struct hpki_config *hpki_settings(void)
{
	return &settings;
}
