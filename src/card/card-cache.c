/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card cache (issue 11; doc/card-cache.md): the entry format, how an entry is
 * found for the card inserted now, and how that card proves to be the cached one
 * before anything of the entry is shown.
 *
 * Entry: "HPKICC01", then records (tag, 4-byte length, value), then SHA-256 of
 * everything before. The directories are kept as ISO 7816-15 DER made by the codec
 * and read back by the same decoders that read the card, so a damaged or crafted
 * entry meets the checks card data meets.
 */
#include "config.h"

#include "card-cache.h"
#include "card-private.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "HPKICC01"
#define MAGIC_LEN 8
#define DIGEST_LEN HPKI_CACHE_DIGEST_LEN

enum record {
	REC_CARD = 1,  /* roles read (4), pso_form, select_without_fci */
	REC_APP = 2,   /* AID: starts an application */
	REC_PROPS = 3, /* role, sign_method, mse_form_known, mse_form, from_directories */
	REC_AOD = 4,   /* the application's PIN, EF.AOD DER */
	REC_PRKD = 5,  /* its key, EF.PrKD DER */
	REC_CD = 6,    /* its certificates' entries, EF.CD DER */
	REC_CERT = 7,  /* one certificate, in EF.CD order */
};

struct buf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const void *data, size_t len)
{
	/* An empty value may come with a NULL pointer: memcpy must not see it (C11 7.24.1). */
	if (b->failed || len == 0)
		return;
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		uint8_t *p = realloc(b->data, cap);

		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_record(struct buf *b, enum record tag, const void *value, size_t len)
{
	uint8_t head[5] = { (uint8_t)tag, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			    (uint8_t)len };

	put(b, head, sizeof head);
	put(b, value, len);
}

static void put_der(struct buf *b, enum record tag, int rc, uint8_t *der, size_t len)
{
	if (rc != HPKI_CIO_OK)
		b->failed = true;
	else
		put_record(b, tag, der, len);
	free(der);
}

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

/* The hint of an ATR: the name of the entry last stored for a card with this ATR
 * (which AIDs and certificate paths to try). Not trusted: a guess to confirm. */
static void hint_name(const struct hpki_card *card, char out[80])
{
	uint8_t d[DIGEST_LEN];

	hpki_cache_sha256("hpki-cache-atr", 14, card->atr, card->atr_len, d);
	hpki_cache_hex(d, DIGEST_LEN, out);
	strcat(out, ".hint");
}

/* An entry is named by the ATR and the first application's end-entity certificate:
 * the card that shows that certificate finds it without another guess. */
static void entry_name(const struct hpki_card *card, const uint8_t *ee, size_t ee_len, char out[80])
{
	uint8_t a[DIGEST_LEN], d[DIGEST_LEN];

	hpki_cache_sha256("hpki-cache-atr", 14, card->atr, card->atr_len, a);
	hpki_cache_sha256(a, DIGEST_LEN, ee, ee_len, d);
	hpki_cache_hex(d, DIGEST_LEN, out);
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */

static void encode_app(struct buf *b, const struct hpki_app *app)
{
	struct hpki_cd_cert infos[HPKI_APP_MAX_CERTS];
	uint8_t props[5] = { (uint8_t)app->role, (uint8_t)app->sign_method, app->mse_form_known,
			     (uint8_t)app->mse_form, app->from_directories };
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	put_record(b, REC_APP, app->aid, app->aid_len);
	put_record(b, REC_PROPS, props, sizeof props);
	rc = hpki_cio_encode_aod(&app->pin, 1, &der, &len);
	put_der(b, REC_AOD, rc, der, len);
	if (app->has_key) {
		der = NULL;
		rc = hpki_cio_encode_prkd(&app->key, 1, &der, &len);
		put_der(b, REC_PRKD, rc, der, len);
	}
	for (size_t i = 0; i < app->cert_count; i++)
		infos[i] = app->certs[i].info;
	der = NULL;
	rc = hpki_cio_encode_cd(infos, app->cert_count, &der, &len);
	put_der(b, REC_CD, rc, der, len);
	for (size_t i = 0; i < app->cert_count; i++)
		put_record(b, REC_CERT, app->certs[i].der, app->certs[i].der_len);
}

static bool encode(const struct hpki_card *card, struct buf *b)
{
	uint8_t head[6] = { (uint8_t)(card->roles_wanted >> 24), (uint8_t)(card->roles_wanted >> 16),
			    (uint8_t)(card->roles_wanted >> 8), (uint8_t)card->roles_wanted, (uint8_t)card->pso_form,
			    card->select_without_fci };
	uint8_t d[DIGEST_LEN];

	put(b, MAGIC, MAGIC_LEN);
	put_record(b, REC_CARD, head, sizeof head);
	for (size_t i = 0; i < card->app_count; i++)
		encode_app(b, &card->apps[i]);
	if (b->failed)
		return false;
	hpki_cache_sha256(b->data, b->len, NULL, 0, d);
	put(b, d, DIGEST_LEN);
	return !b->failed;
}

/* ------------------------------------------------------------------------ */
/* Decoding: every length checked, every directory through the codec          */

struct loaded {
	unsigned roles_read;
	int pso_form;
	bool select_without_fci;
	struct hpki_app apps[HPKI_CARD_MAX_APPS];
	size_t app_count;
	size_t cd_count[HPKI_CARD_MAX_APPS];
	bool parse; /* from a file: digest checked, certificates parsed (not for the round trip of a store) */
};

static void loaded_free(struct loaded *l)
{
	for (size_t a = 0; a < HPKI_CARD_MAX_APPS; a++)
		for (size_t c = 0; c < HPKI_APP_MAX_CERTS; c++)
			free(l->apps[a].certs[c].der);
	memset(l, 0, sizeof *l);
}

static bool decode_props(struct hpki_app *app, const uint8_t *v, size_t n)
{
	if (n != 5 || v[0] > HPKI_ROLE_AUTHENTICATION || v[1] > HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO || v[2] > 1 ||
	    v[4] > 1)
		return false;
	app->role = (enum hpki_app_role)v[0];
	app->sign_method = (enum hpki_sign_method)v[1];
	app->mse_form_known = v[2];
	app->mse_form = v[3];
	app->from_directories = v[4];
	return true;
}

static bool decode_record(struct loaded *l, unsigned tag, const uint8_t *v, size_t n)
{
	struct hpki_app *app = l->app_count > 0 ? &l->apps[l->app_count - 1] : NULL;
	struct hpki_cd_cert infos[HPKI_APP_MAX_CERTS];
	size_t count = 0;

	if (tag == REC_CARD) {
		if (n != 6 || v[4] > HPKI_PSO_FORM_CHAINED || v[5] > 1)
			return false;
		l->roles_read = (unsigned)v[0] << 24 | (unsigned)v[1] << 16 | (unsigned)v[2] << 8 | v[3];
		l->pso_form = v[4];
		l->select_without_fci = v[5];
		return true;
	}
	if (tag == REC_APP) {
		if (l->app_count >= HPKI_CARD_MAX_APPS || n < HPKI_RID_LEN || n > HPKI_AID_MAX_LEN)
			return false;
		app = &l->apps[l->app_count++];
		memcpy(app->aid, v, n);
		app->aid_len = n;
		return true;
	}
	if (app == NULL)
		return false;
	switch (tag) {
	case REC_PROPS:
		return decode_props(app, v, n);
	case REC_AOD:
		return hpki_cio_decode_aod(v, n, &app->pin, 1, &count) == HPKI_CIO_OK && count == 1 &&
		       app->pin.pwd_reference <= 0xFF;
	case REC_PRKD:
		app->has_key = hpki_cio_decode_prkd(v, n, &app->key, 1, &count) == HPKI_CIO_OK && count == 1;
		return app->has_key;
	case REC_CD:
		if (hpki_cio_decode_cd(v, n, infos, HPKI_APP_MAX_CERTS, &count) != HPKI_CIO_OK)
			return false;
		for (size_t i = 0; i < count; i++)
			app->certs[i].info = infos[i];
		l->cd_count[l->app_count - 1] = count;
		return true;
	case REC_CERT:
		if (app->cert_count >= l->cd_count[l->app_count - 1] || n == 0 || v[0] != 0x30)
			return false;
		app->certs[app->cert_count].der = malloc(n);
		if (app->certs[app->cert_count].der == NULL)
			return false;
		memcpy(app->certs[app->cert_count].der, v, n);
		app->certs[app->cert_count].der_len = n;
		if (l->parse)
			hpki_card_parse_cert(&app->certs[app->cert_count]);
		app->cert_count++;
		return true;
	default:
		return false;
	}
}

static bool decode(const uint8_t *data, size_t len, struct loaded *l, bool parse)
{
	uint8_t d[DIGEST_LEN];
	size_t pos = MAGIC_LEN, end;

	memset(l, 0, sizeof *l);
	l->parse = parse;
	if (len < MAGIC_LEN + DIGEST_LEN || memcmp(data, MAGIC, MAGIC_LEN) != 0)
		return false;
	end = len - DIGEST_LEN;
	/* A file may be torn or edited; the store's round trip decodes what encode() has
	 * just digested (parse false), so only a file's digest is computed again. */
	if (parse) {
		hpki_cache_sha256(data, end, NULL, 0, d);
		if (memcmp(d, data + end, DIGEST_LEN) != 0)
			return false;
	}
	while (pos < end) {
		size_t n;

		if (end - pos < 5)
			return false;
		n = (size_t)data[pos + 1] << 24 | (size_t)data[pos + 2] << 16 | (size_t)data[pos + 3] << 8 |
		    data[pos + 4];
		if (n > end - pos - 5 || !decode_record(l, data[pos], data + pos + 5, n))
			return false;
		pos += 5 + n;
	}
	for (size_t a = 0; a < l->app_count; a++)
		if (l->apps[a].cert_count != l->cd_count[a] || !l->apps[a].has_key || l->apps[a].cert_count == 0)
			return false;
	return l->app_count > 0;
}

/* Reads and decodes entry `name`; *digest is its trailer (SHA-256 of its content). */
static bool load(const struct hpki_card *card, const char *name, struct loaded *l, uint8_t digest[DIGEST_LEN])
{
	uint8_t *data;
	size_t len;
	bool ok;

	if (!hpki_cache_file_read(card->cache_dir, name, &data, &len))
		return false;
	ok = decode(data, len, l, true);
	if (ok)
		memcpy(digest, data + len - DIGEST_LEN, DIGEST_LEN);
	free(data);
	if (!ok) {
		hpki_info("cache entry %.16s…: damaged or unknown; the card is read", name);
		loaded_free(l);
	}
	return ok;
}

/* ------------------------------------------------------------------------ */
/* Proof: the card inserted now shows the cached end-entity certificates      */

/* Reads the key's certificate of application `index` (selected here) in full. */
static enum hpki_card_status read_card_ee(struct hpki_card *card, size_t index, uint8_t **der, size_t *der_len)
{
	const struct hpki_cert *ee = hpki_card_key_certificate(&card->apps[index]);
	struct hpki_ef_ref ref;
	uint16_t sw;
	bool found = false;
	enum hpki_card_status st;

	*der = NULL;
	*der_len = 0;
	st = hpki_card_select_aid(card, card->apps[index].aid, card->apps[index].aid_len, &sw);
	if (st != HPKI_CARD_OK || sw != HPKI_SW_OK)
		return st;
	hpki_card_note_selected(card, index);
	if (ee == NULL || !hpki_ef_ref_from_path(&ee->info.path, &ref))
		return HPKI_CARD_OK;
	st = hpki_card_read_ef(card, &ref, true, der, der_len, &found);
	if (st == HPKI_CARD_BAD_RESPONSE || st == HPKI_CARD_UNSUPPORTED || st == HPKI_CARD_NOT_AUTHENTICATED) {
		free(*der);
		*der = NULL;
		return HPKI_CARD_OK; /* unproven; the full read meets the same answer and says so */
	}
	if (st == HPKI_CARD_OK && !found) {
		free(*der);
		*der = NULL;
	}
	return st;
}

/*
 * Every cached certificate other than the end-entity one (which the card just
 * showed) must be a CA certificate that signs one already proven: a cache edited to
 * show another CA certificate fails here (doc/card-cache.md "Why it cannot lie").
 */
static bool chain_proven(const struct hpki_app *app, const struct hpki_cert *ee)
{
	bool proven[HPKI_APP_MAX_CERTS] = { false }, progress = true, all = true;
	size_t n = app->cert_count;

	for (size_t i = 0; i < n; i++)
		proven[i] = &app->certs[i] == ee;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n && !proven[i]; j++)
				if (proven[j] && hpki_card_cert_issued(&app->certs[i], &app->certs[j]))
					proven[i] = progress = true;
	}
	for (size_t i = 0; i < n; i++)
		all = all && proven[i];
	return all;
}

#define ALL_KNOWN_ROLES (HPKI_ROLE_BIT(HPKI_ROLE_SIGNATURE) | HPKI_ROLE_BIT(HPKI_ROLE_AUTHENTICATION))

/* Whether an entry read for `read` serves a process that shows `wanted`. */
static bool roles_cover(unsigned read, unsigned wanted)
{
	if (wanted == HPKI_ROLES_ALL)
		wanted = ALL_KNOWN_ROLES;
	return read == HPKI_ROLES_ALL || (wanted & ~read) == 0;
}

/* Moves the wanted applications of entry `name` into the card. */
static void install(struct hpki_card *card, struct loaded *l, const char *name, const uint8_t digest[DIGEST_LEN])
{
	hpki_card_free_apps(card);
	card->selected_app = 0;
	snprintf(card->cache_entry, sizeof card->cache_entry, "%.64s", name);
	memcpy(card->cache_entry_digest, digest, DIGEST_LEN);
	for (size_t a = 0; a < l->app_count; a++) {
		if (card->roles_wanted != HPKI_ROLES_ALL && l->apps[a].role != HPKI_ROLE_UNKNOWN &&
		    (card->roles_wanted & HPKI_ROLE_BIT(l->apps[a].role)) == 0)
			continue;
		card->apps[card->app_count++] = l->apps[a];
		memset(&l->apps[a], 0, sizeof l->apps[a]); /* certificates now the card's */
	}
	if (card->pso_form == HPKI_PSO_FORM_UNKNOWN)
		card->pso_form = (enum hpki_pso_form)l->pso_form;
	card->select_without_fci = card->select_without_fci || l->select_without_fci;
	loaded_free(l);
}

/* Confirms every installed application; *other_name set when the first application's
 * certificate names another entry (another card with this ATR). */
static enum hpki_card_status confirm_installed(struct hpki_card *card, bool *proven, char *other_name)
{
	*proven = false;
	other_name[0] = '\0';
	for (size_t i = 0; i < card->app_count; i++) {
		struct hpki_app *app = &card->apps[i];
		const struct hpki_cert *ee = hpki_card_key_certificate(app);
		uint8_t *der;
		size_t len;
		bool same;
		enum hpki_card_status st = read_card_ee(card, i, &der, &len);

		if (st != HPKI_CARD_OK)
			return st;
		same = der != NULL && ee != NULL && len == ee->der_len && memcmp(der, ee->der, len) == 0;
		if (!same && der != NULL && i == 0)
			entry_name(card, der, len, other_name);
		free(der);
		if (!same || !chain_proven(app, ee)) {
			hpki_info("cache: application %zu of the card is not the cached one", i);
			return HPKI_CARD_OK;
		}
		st = hpki_card_read_pin_counter(card, app);
		if (st != HPKI_CARD_OK)
			return st;
	}
	*proven = card->app_count > 0;
	return HPKI_CARD_OK;
}

static bool read_hint(const struct hpki_card *card, char name[80])
{
	char hint[80];
	uint8_t *data;
	size_t len;
	bool ok;

	hint_name(card, hint);
	if (!hpki_cache_file_read(card->cache_dir, hint, &data, &len))
		return false;
	/* The file's bytes are not a C string: check each one, within len. */
	ok = len == 2 * DIGEST_LEN;
	for (size_t i = 0; ok && i < len; i++)
		ok = (data[i] >= '0' && data[i] <= '9') || (data[i] >= 'a' && data[i] <= 'f');
	if (ok) {
		memcpy(name, data, len);
		name[len] = '\0';
	}
	free(data);
	return ok;
}

enum hpki_card_status hpki_card_cache_confirm(struct hpki_card *card, bool *hit)
{
	char name[80], other[80];
	uint8_t digest[DIGEST_LEN];
	struct loaded l;

	*hit = false;
	if (card->cache_dir == NULL || !read_hint(card, name))
		return HPKI_CARD_OK;
	for (int attempt = 0; attempt < 2; attempt++) {
		enum hpki_card_status st;

		if (!load(card, name, &l, digest))
			break;
		if (!roles_cover(l.roles_read, card->roles_wanted)) {
			loaded_free(&l);
			break;
		}
		install(card, &l, name, digest);
		st = confirm_installed(card, hit, other);
		if (st != HPKI_CARD_OK || *hit) {
			for (size_t i = 0; *hit && i < card->app_count; i++)
				hpki_card_settle_modulus(&card->apps[i]);
			if (*hit)
				hpki_info("cache: card confirmed by its end-entity certificates; directories not read");
			if (*hit && attempt > 0) {
				char hint[80];

				/* This card is the one in the reader now: the next process tries it first. */
				hint_name(card, hint);
				(void)hpki_cache_file_write(card->cache_dir, hint, (const uint8_t *)name, strlen(name));
			}
			return st;
		}
		if (other[0] == '\0' || strcmp(other, name) == 0)
			break;
		strcpy(name, other);
	}
	hpki_card_free_apps(card);
	card->selected_app = 0;
	card->cache_entry[0] = '\0';
	return HPKI_CARD_OK;
}

/*
 * Warm start: installs entry `name` without asking the card, for a caller that holds
 * proof that the card in the reader is the one that proved this entry (card-stay.c):
 * the entry must be byte for byte the one proven then (its digest) and cover the
 * roles shown now.
 */
bool hpki_card_cache_install_proven(struct hpki_card *card, const char *name, const uint8_t digest[DIGEST_LEN])
{
	uint8_t found[DIGEST_LEN];
	struct loaded l;

	if (card->cache_dir == NULL || !load(card, name, &l, found))
		return false;
	if (memcmp(found, digest, DIGEST_LEN) != 0 || !roles_cover(l.roles_read, card->roles_wanted)) {
		hpki_info("cache entry %.16s…: not the one proven on this stay of the card", name);
		loaded_free(&l);
		return false;
	}
	install(card, &l, name, digest);
	for (size_t i = 0; i < card->app_count; i++)
		hpki_card_settle_modulus(&card->apps[i]);
	return card->app_count > 0;
}

/* ------------------------------------------------------------------------ */
/* Storing                                                                   */

static bool same_path(const struct hpki_cio_path *a, const struct hpki_cio_path *b)
{
	return a->len == b->len && a->len <= HPKI_CIO_PATH_MAX && memcmp(a->efid_or_path, b->efid_or_path, a->len) == 0;
}

/* What the codec gives back must be what the card gave: else not stored. */
static bool round_trip_faithful(const struct hpki_app *a, const struct hpki_app *b)
{
	bool same = a->aid_len == b->aid_len && memcmp(a->aid, b->aid, a->aid_len) == 0 && a->role == b->role &&
		    a->cert_count == b->cert_count && a->pin.pwd_reference == b->pin.pwd_reference &&
		    a->pin.min_length == b->pin.min_length && a->pin.max_length == b->pin.max_length &&
		    a->key.has_key_reference == b->key.has_key_reference && a->key.key_reference == b->key.key_reference &&
		    a->key.user_consent == b->key.user_consent && a->key.usage == b->key.usage &&
		    a->key.id_len == b->key.id_len && memcmp(a->key.id, b->key.id, a->key.id_len) == 0 &&
		    a->key.modulus_bits == b->key.modulus_bits && same_path(&a->key.path, &b->key.path) &&
		    strcmp(a->key.label, b->key.label) == 0 && strcmp(a->pin.label, b->pin.label) == 0;

	for (size_t i = 0; same && i < a->cert_count; i++) {
		const struct hpki_cd_cert *x = &a->certs[i].info, *y = &b->certs[i].info;

		same = x->authority == y->authority && x->id_len == y->id_len && memcmp(x->id, y->id, x->id_len) == 0 &&
		       same_path(&x->path, &y->path) && strcmp(x->label, y->label) == 0;
	}
	return same;
}

static bool hint_exists(const struct hpki_card *card, const char *hint)
{
	uint8_t *data;
	size_t len;
	bool found = hpki_cache_file_read(card->cache_dir, hint, &data, &len);

	free(data);
	return found;
}

void hpki_card_cache_store(struct hpki_card *card)
{
	struct buf b = { 0 };
	struct loaded l = { 0 };
	const struct hpki_cert *ee;
	char name[80], hint[80];
	bool faithful;

	if (card->cache_dir == NULL || card->app_count == 0 ||
	    (ee = hpki_card_key_certificate(&card->apps[0])) == NULL)
		return;
	if (!encode(card, &b) || !decode(b.data, b.len, &l, false)) {
		loaded_free(&l); /* a decode that stopped half-way holds certificates */
		free(b.data);
		return;
	}
	faithful = l.app_count == card->app_count;
	for (size_t i = 0; faithful && i < l.app_count; i++)
		faithful = round_trip_faithful(&card->apps[i], &l.apps[i]);
	loaded_free(&l);
	if (faithful) {
		entry_name(card, ee->der, ee->der_len, name);
		hint_name(card, hint);
		/* An entry of some applications only (a browser's) names itself in the hint
		 * only when there is none: a whole card's entry serves every process. */
		if (!hpki_cache_file_write(card->cache_dir, name, b.data, b.len)) {
			free(b.data);
			return;
		}
		snprintf(card->cache_entry, sizeof card->cache_entry, "%.64s", name);
		memcpy(card->cache_entry_digest, b.data + b.len - DIGEST_LEN, DIGEST_LEN);
		hpki_card_stay_update(card);
		if (roles_cover(card->roles_wanted, ALL_KNOWN_ROLES) || !hint_exists(card, hint))
			(void)hpki_cache_file_write(card->cache_dir, hint, (const uint8_t *)name, strlen(name));
	} else
		hpki_info("cache: this card's directories do not survive the codec; not cached");
	free(b.data);
}
