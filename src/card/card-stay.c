/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Warm start (issue 11; doc/card-cache.md "Warm start"): a process that starts while
 * the card has stayed in the reader since a process of this user proved it sends no
 * APDU at all. No SELECT means that a login another process holds on the card — a
 * doctor's portal session in the browser — survives the start of pkcs11-tool, ssh or
 * a signing tool (one logical channel: selecting the other application ends it,
 * G31 §5.3.3).
 *
 * The proof is a "stay record" per reader in the cache directory: the stay mark of
 * the card (transport.h: pcscd's run, the reader, its card event counter, the ATR)
 * under which a process read the card in full or confirmed a cache entry by the
 * card's end-entity certificates, that entry's name and content digest, and the PIN
 * counters as our processes last saw them. The same mark now means the card has not
 * left the reader since, so the entry is still this card's.
 *
 * Record: "HPKISTY1", mark (32), entry name (64 hex digits), entry digest (32),
 * roles shown (4, big-endian), application count (1), per application: role,
 * counter read, locked, tries left (0xFF: unknown); then SHA-256 of all before.
 */
#include "config.h"

#include "card-cache.h"
#include "card-private.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAY_MAGIC "HPKISTY1"
#define STAY_MAGIC_LEN 8
#define DIGEST_LEN HPKI_CACHE_DIGEST_LEN
#define ENTRY_NAME_LEN 64
#define APP_STATE_LEN 4
#define HEAD_LEN (STAY_MAGIC_LEN + HPKI_STAY_MARK_LEN + ENTRY_NAME_LEN + DIGEST_LEN + 4 + 1)
#define RECORD_MAX (HEAD_LEN + HPKI_CARD_MAX_APPS * APP_STATE_LEN + DIGEST_LEN)

struct app_state {
	uint8_t role;
	bool read, locked;
	int tries;
};

struct stay_record {
	uint8_t mark[HPKI_STAY_MARK_LEN];
	char entry[ENTRY_NAME_LEN + 1];
	uint8_t entry_digest[DIGEST_LEN];
	unsigned roles;
	struct app_state apps[HPKI_CARD_MAX_APPS];
	size_t app_count;
};

/* One record per reader: a card can only stay in one reader at a time. */
static bool record_name(const struct hpki_card *card, char out[80])
{
	uint8_t d[DIGEST_LEN];
	char label[16 + HPKI_READER_NAME_MAX];
	int n = snprintf(label, sizeof label, "hpki-stay:%s", card->link.reader);

	if (n < 0 || (size_t)n >= sizeof label || !hpki_cache_sha256(label, (size_t)n, NULL, 0, d))
		return false;
	hpki_cache_hex(d, DIGEST_LEN, out);
	strcat(out, ".stay");
	return true;
}

bool hpki_card_stay_mark(struct hpki_card *card, uint8_t mark[HPKI_STAY_MARK_LEN])
{
	return card->link.conn != NULL && card->link.ops->stay_mark != NULL &&
	       card->link.ops->stay_mark(card->link.conn, mark);
}

static bool valid_entry_name(const char *name, size_t len)
{
	if (len != ENTRY_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

/* Every length and value checked: the file is the user's, but may be torn or edited. */
static bool decode_record(const uint8_t *data, size_t len, struct stay_record *r)
{
	uint8_t d[DIGEST_LEN];
	const uint8_t *p = data + STAY_MAGIC_LEN;

	memset(r, 0, sizeof *r);
	if (len < HEAD_LEN + DIGEST_LEN || len > RECORD_MAX || memcmp(data, STAY_MAGIC, STAY_MAGIC_LEN) != 0 ||
	    !hpki_cache_sha256(data, len - DIGEST_LEN, NULL, 0, d) || memcmp(d, data + len - DIGEST_LEN, DIGEST_LEN) != 0)
		return false;
	memcpy(r->mark, p, HPKI_STAY_MARK_LEN);
	p += HPKI_STAY_MARK_LEN;
	if (!valid_entry_name((const char *)p, ENTRY_NAME_LEN))
		return false;
	memcpy(r->entry, p, ENTRY_NAME_LEN);
	p += ENTRY_NAME_LEN;
	memcpy(r->entry_digest, p, DIGEST_LEN);
	p += DIGEST_LEN;
	r->roles = (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
	r->app_count = p[4];
	p += 5;
	if (r->app_count == 0 || r->app_count > HPKI_CARD_MAX_APPS || len != HEAD_LEN + r->app_count * APP_STATE_LEN + DIGEST_LEN)
		return false;
	for (size_t i = 0; i < r->app_count; i++, p += APP_STATE_LEN) {
		if (p[0] > HPKI_ROLE_AUTHENTICATION || p[1] > 1 || p[2] > 1 || (p[3] > 15 && p[3] != 0xFF))
			return false;
		r->apps[i] = (struct app_state){ p[0], p[1], p[2], p[3] == 0xFF ? -1 : p[3] };
	}
	return true;
}

static bool read_record(const struct hpki_card *card, struct stay_record *r)
{
	char name[80];
	uint8_t *data;
	size_t len;
	bool ok;

	if (!record_name(card, name) || !hpki_cache_file_read(card->cache_dir, name, &data, &len))
		return false;
	ok = decode_record(data, len, r);
	free(data);
	if (!ok)
		hpki_info("stay record of '%s': damaged or unknown; not used", card->link.reader);
	return ok;
}

static void write_record(const struct hpki_card *card, const struct stay_record *r)
{
	uint8_t data[RECORD_MAX], *p = data;
	char name[80];

	if (!record_name(card, name))
		return;
	memcpy(p, STAY_MAGIC, STAY_MAGIC_LEN);
	p += STAY_MAGIC_LEN;
	memcpy(p, r->mark, HPKI_STAY_MARK_LEN);
	p += HPKI_STAY_MARK_LEN;
	memcpy(p, r->entry, ENTRY_NAME_LEN);
	p += ENTRY_NAME_LEN;
	memcpy(p, r->entry_digest, DIGEST_LEN);
	p += DIGEST_LEN;
	*p++ = (uint8_t)(r->roles >> 24);
	*p++ = (uint8_t)(r->roles >> 16);
	*p++ = (uint8_t)(r->roles >> 8);
	*p++ = (uint8_t)r->roles;
	*p++ = (uint8_t)r->app_count;
	for (size_t i = 0; i < r->app_count; i++) {
		const struct app_state *a = &r->apps[i];

		*p++ = a->role;
		*p++ = a->read;
		*p++ = a->locked;
		*p++ = a->tries < 0 || a->tries > 15 ? 0xFF : (uint8_t)a->tries;
	}
	if (!hpki_cache_sha256(data, (size_t)(p - data), NULL, 0, p))
		return;
	p += DIGEST_LEN;
	(void)hpki_cache_file_write(card->cache_dir, name, data, (size_t)(p - data));
}

static struct app_state state_of(const struct hpki_app *app)
{
	return (struct app_state){ (uint8_t)app->role, app->pin_status_read, app->pin_locked, app->pin_tries_left };
}

static struct app_state *state_for_role(struct stay_record *r, enum hpki_app_role role)
{
	for (size_t i = 0; i < r->app_count; i++)
		if (r->apps[i].role == (uint8_t)role)
			return &r->apps[i];
	return NULL;
}

/* The PIN counters as our processes last saw them (a VERIFY by another program is
 * seen at the next event, as when the counter is read once per enumeration). */
static bool take_pin_states(struct hpki_card *card, struct stay_record *r)
{
	for (size_t i = 0; i < card->app_count; i++) {
		struct hpki_app *app = &card->apps[i];
		const struct app_state *s = state_for_role(r, app->role);

		if (s == NULL || app->role == HPKI_ROLE_UNKNOWN)
			return false; /* its counter would need an APDU: prove the card instead */
		app->pin_status_read = s->read;
		app->pin_locked = s->locked;
		app->pin_tries_left = s->tries;
	}
	return true;
}

bool hpki_card_stay_start(struct hpki_card *card, const uint8_t now[HPKI_STAY_MARK_LEN])
{
	struct stay_record r;

	if (!card->warm_start || card->cache_dir == NULL || !read_record(card, &r))
		return false;
	if (memcmp(r.mark, now, HPKI_STAY_MARK_LEN) != 0) {
		hpki_info("'%s': the card was not proven on this stay in the reader; it proves itself", card->link.reader);
		return false;
	}
	if (!hpki_card_cache_install_proven(card, r.entry, r.entry_digest) || !take_pin_states(card, &r)) {
		hpki_card_free_apps(card);
		card->cache_entry[0] = '\0';
		return false;
	}
	memcpy(card->stay, now, HPKI_STAY_MARK_LEN);
	card->stay_known = true;
	card->from_cache = card->from_stay = true;
	hpki_info("'%s': card proven on this stay in the reader by a process of this user; no APDU sent",
		  card->link.reader);
	return true;
}

static bool covers(unsigned have, unsigned want)
{
	return have == HPKI_ROLES_ALL || (want != HPKI_ROLES_ALL && (want & ~have) == 0);
}

void hpki_card_stay_proven(struct hpki_card *card, const uint8_t before[HPKI_STAY_MARK_LEN], bool marked)
{
	struct stay_record r, old;
	uint8_t after[HPKI_STAY_MARK_LEN];

	if (!marked || card->cache_dir == NULL || card->cache_entry[0] == '\0' || !hpki_card_stay_mark(card, after))
		return;
	if (memcmp(before, after, HPKI_STAY_MARK_LEN) != 0) {
		hpki_info("'%s': the card came or went during the read; no stay record", card->link.reader);
		return;
	}
	memcpy(card->stay, after, sizeof after);
	card->stay_known = true;
	/* A record of more applications on this same stay is kept: a browser that shows
	 * one token must not take the warm start away from the tools that show both. */
	if (read_record(card, &old) && memcmp(old.mark, after, sizeof after) == 0 && covers(old.roles, card->roles_wanted) &&
	    !covers(card->roles_wanted, old.roles)) {
		hpki_card_stay_update(card);
		return;
	}
	memset(&r, 0, sizeof r);
	memcpy(r.mark, after, sizeof after);
	memcpy(r.entry, card->cache_entry, ENTRY_NAME_LEN);
	memcpy(r.entry_digest, card->cache_entry_digest, DIGEST_LEN);
	r.roles = card->roles_wanted;
	for (size_t i = 0; i < card->app_count && r.app_count < HPKI_CARD_MAX_APPS; i++)
		r.apps[r.app_count++] = state_of(&card->apps[i]);
	write_record(card, &r);
}

void hpki_card_stay_update(struct hpki_card *card)
{
	struct stay_record r;
	bool changed = false;

	if (!card->stay_known || card->cache_dir == NULL || !read_record(card, &r) ||
	    memcmp(r.mark, card->stay, HPKI_STAY_MARK_LEN) != 0)
		return;
	for (size_t i = 0; i < card->app_count; i++) {
		struct app_state *s = state_for_role(&r, card->apps[i].role), now = state_of(&card->apps[i]);

		if (s != NULL && (s->read != now.read || s->locked != now.locked || s->tries != now.tries)) {
			*s = now;
			changed = true;
		}
	}
	/* This process stored the entry again with what a signature taught (card-sign.c):
	 * same card, same stay, so the record follows the entry's new content. */
	if (strncmp(r.entry, card->cache_entry, ENTRY_NAME_LEN) == 0 &&
	    memcmp(r.entry_digest, card->cache_entry_digest, DIGEST_LEN) != 0) {
		memcpy(r.entry_digest, card->cache_entry_digest, DIGEST_LEN);
		changed = true;
	}
	if (changed)
		write_record(card, &r);
}
