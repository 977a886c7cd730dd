/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "pin-guard.h"

#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "log.h"

/* Guarded by the module's global lock, like the rest of the model. */
static uint8_t process_key[32];
static bool have_key;
static pid_t key_owner;

bool hpki_pin_guard_start(void)
{
	/* Per process: a forked child makes its own key. */
	if (have_key && key_owner == getpid())
		return true;
	key_owner = getpid();
	if (RAND_bytes(process_key, sizeof process_key) != 1) {
		hpki_error("no random bytes for the PIN guard: repeated PINs are not recognised");
		return false;
	}
	have_key = true;
	return true;
}

void hpki_pin_guard_stop(void)
{
	OPENSSL_cleanse(process_key, sizeof process_key);
	have_key = false;
}

static bool pin_mac(const uint8_t *pin, size_t pin_len, uint8_t *out)
{
	unsigned int len = 0;

	if (!hpki_pin_guard_start())
		return false;
	return HMAC(EVP_sha256(), process_key, sizeof process_key, pin, pin_len, out, &len) != NULL &&
	       len == HPKI_PIN_MARK_LEN;
}

void hpki_pin_mark_refused(struct hpki_pin_mark *mark, const uint8_t *pin, size_t pin_len)
{
	hpki_pin_mark_clear(mark);
	mark->set = pin_mac(pin, pin_len, mark->mac);
	if (!mark->set)
		OPENSSL_cleanse(mark->mac, sizeof mark->mac);
}

bool hpki_pin_mark_matches(const struct hpki_pin_mark *mark, const uint8_t *pin, size_t pin_len)
{
	uint8_t mac[HPKI_PIN_MARK_LEN];
	bool same;

	if (!mark->set || !pin_mac(pin, pin_len, mac))
		return false;
	same = CRYPTO_memcmp(mac, mark->mac, sizeof mac) == 0;
	OPENSSL_cleanse(mac, sizeof mac);
	return same;
}

void hpki_pin_mark_clear(struct hpki_pin_mark *mark)
{
	OPENSSL_cleanse(mark->mac, sizeof mark->mac);
	mark->set = false;
}
