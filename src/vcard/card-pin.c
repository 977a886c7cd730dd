/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIN try counters of the virtual card. A real card keeps its counter in EEPROM,
 * so a lock survives power loss; here one small text file per holder and
 * application ("<state_dir>/<holder>-sig.pin", "…-auth.pin", content "tries=N")
 * plays that part. Files are replaced atomically (write, fsync, rename), so a
 * killed card never leaves a half-written counter.
 */
#include "card-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

static char *state_path_for(const char *state_dir, const char *holder, int app_number)
{
	const char *suffix = app_number == VCARD_APP_SIGNATURE ? "sig" : "auth";
	size_t size = strlen(state_dir) + strlen(holder) + 16;
	char *path = malloc(size);

	if (path != NULL)
		snprintf(path, size, "%s/%s-%s.pin", state_dir, holder, suffix);
	return path;
}

/* Missing or unreadable file: a fresh card with all tries left. */
static int load_tries(const char *path)
{
	FILE *f = fopen(path, "r");
	int tries = HPKI_PIN_MAX_TRIES;

	if (f == NULL)
		return tries;
	if (fscanf(f, "tries=%d", &tries) != 1 || tries < 0 || tries > HPKI_PIN_MAX_TRIES)
		tries = HPKI_PIN_MAX_TRIES;
	fclose(f);
	return tries;
}

static int store_tries(const char *path, int tries)
{
	size_t size = strlen(path) + 32;
	char *tmp = malloc(size);
	FILE *f;
	int ok;

	if (tmp == NULL)
		return -1;
	snprintf(tmp, size, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "w");
	if (f == NULL) {
		free(tmp);
		return -1;
	}
	ok = fprintf(f, "tries=%d\n", tries) > 0;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

int vcard_pin_init(struct vcard_pin *pin, const char *value, const char *state_dir, const char *holder,
		   int app_number, const char **error)
{
	size_t len = strlen(value);

	memset(pin, 0, sizeof *pin);
	if (len < HPKI_PIN_MIN_LEN || len > HPKI_PIN_MAX_LEN) {
		*error = "a PIN must have 4 to 16 characters (G31 §5.2.1)";
		return -1;
	}
	memcpy(pin->value, value, len);
	pin->len = len;
	pin->tries_left = HPKI_PIN_MAX_TRIES;
	if (state_dir == NULL)
		return 0;
	pin->state_path = state_path_for(state_dir, holder, app_number);
	if (pin->state_path == NULL) {
		*error = "out of memory";
		return -1;
	}
	pin->tries_left = load_tries(pin->state_path);
	return 0;
}

void vcard_pin_free(struct vcard_pin *pin)
{
	free(pin->state_path);
	OPENSSL_cleanse(pin, sizeof *pin);
}

int vcard_pin_set_tries(struct vcard_pin *pin, int tries)
{
	if (tries == pin->tries_left && pin->state_path != NULL && access(pin->state_path, F_OK) == 0)
		return 0;
	pin->tries_left = tries;
	if (pin->state_path == NULL)
		return 0;
	return store_tries(pin->state_path, tries);
}
