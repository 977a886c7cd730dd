/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: the ISO 7816-15 directories of one application (EF.OD, EF.AOD,
 * EF.PrKD, EF.CD) and the certificates they name; the JMA layout when there are none.
 */
#include "config.h"

#include "card-private.h"
#include "log.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Entries we decode per directory before applying the struct limits. */
#define DIR_MAX_ENTRIES 16

/* ------------------------------------------------------------------------ */
/* Directories                                                               */

/* The JMA layout (facts §2.2), used when the card's directories cannot be read. */
static const uint8_t fallback_id[] = { 0x01 };

static void fallback_pin(struct hpki_aod_pin *pin)
{
	memset(pin, 0, sizeof(*pin));
	strcpy(pin->label, "PIN");
	pin->private_object = true;
	pin->auth_id[0] = 0x01;
	pin->auth_id_len = 1;
	pin->pwd_flags = HPKI_PWD_FLAG_CASE_SENSITIVE | HPKI_PWD_FLAG_LOCAL | HPKI_PWD_FLAG_INITIALIZED;
	pin->pwd_type = HPKI_PWD_UTF8;
	pin->min_length = HPKI_PIN_MIN_LEN;
	pin->max_length = HPKI_PIN_MAX_LEN;
	pin->pwd_reference = HPKI_JMA_PIN_REFERENCE;
}

static void fallback_key(struct hpki_prkd_key *key, enum hpki_app_role role)
{
	memset(key, 0, sizeof(*key));
	strcpy(key->label, "Private key of HPKI");
	key->private_object = true;
	key->auth_id[0] = 0x01;
	key->auth_id_len = 1;
	/* G31 B.4.5: userConsent on the signature application's key only. */
	key->user_consent = role == HPKI_ROLE_SIGNATURE ? 1 : 0;
	memcpy(key->id, fallback_id, sizeof(fallback_id));
	key->id_len = sizeof(fallback_id);
	key->usage = role == HPKI_ROLE_SIGNATURE ? HPKI_KEY_USAGE_NON_REPUDIATION : HPKI_KEY_USAGE_SIGN;
	/* JMA: MSE tag 84 with key reference 000C (facts §4.2). */
	key->has_key_reference = true;
	key->key_reference = HPKI_JMA_FID_KEY;
	hpki_cio_path_set_fid(&key->path, HPKI_JMA_FID_KEY);
}

static void fallback_cert(struct hpki_cd_cert *cert)
{
	memset(cert, 0, sizeof(*cert));
	strcpy(cert->label, "HPKI END ENTITY CERTIFICATE");
	memcpy(cert->id, fallback_id, sizeof(fallback_id));
	cert->id_len = sizeof(fallback_id);
	hpki_cio_path_set_fid(&cert->path, HPKI_JMA_FID_EE_CERT);
}

enum hpki_app_role hpki_card_role_from_aid(const uint8_t *aid, size_t aid_len)
{
	if (aid_len >= 2 && aid[aid_len - 2] == 0x00) {
		if (aid[aid_len - 1] == 0x01)
			return HPKI_ROLE_SIGNATURE;
		if (aid[aid_len - 1] == 0x02)
			return HPKI_ROLE_AUTHENTICATION;
	}
	return HPKI_ROLE_UNKNOWN;
}

bool hpki_card_aid_wanted(const struct hpki_card *card, const uint8_t *aid, size_t aid_len)
{
	enum hpki_app_role role = hpki_card_role_from_aid(aid, aid_len);

	return card->roles_wanted == HPKI_ROLES_ALL || role == HPKI_ROLE_UNKNOWN ||
	       (card->roles_wanted & HPKI_ROLE_BIT(role)) != 0;
}

static enum hpki_app_role role_from_aid(const struct hpki_app *app)
{
	return hpki_card_role_from_aid(app->aid, app->aid_len);
}

static enum hpki_card_status cio_result(int rc, const char *what)
{
	if (rc == HPKI_CIO_OK)
		return HPKI_CARD_OK;
	if (rc == HPKI_CIO_NO_MEMORY)
		return HPKI_CARD_NO_MEMORY;
	hpki_error("%s: %s", what, hpki_cio_status_text(rc));
	return HPKI_CARD_BAD_RESPONSE;
}

/* Reads a directory EF named by a path; *found false when it is not on the card. */
static enum hpki_card_status read_directory(struct hpki_card *card, const struct hpki_cio_path *path,
					    const char *what, uint8_t **der, size_t *der_len, bool *found)
{
	struct hpki_ef_ref ref;

	if (!hpki_ef_ref_from_path(path, &ref)) {
		hpki_error("%s: unusable path of %zu bytes", what, path->len);
		return HPKI_CARD_BAD_RESPONSE;
	}
	return hpki_card_read_ef(card, &ref, false, der, der_len, found);
}

struct directory_set {
	bool have_aod, have_prkd;
	struct hpki_cio_path aod, prkd;
	struct hpki_cio_path cd[4];
	size_t cd_count;
};

static void directories_from_od(const struct hpki_od_entry *od, size_t count, struct directory_set *dirs)
{
	for (size_t i = 0; i < count; i++) {
		switch (od[i].kind) {
		case HPKI_OD_AUTH_OBJECTS:
			if (!dirs->have_aod) {
				dirs->aod = od[i].path;
				dirs->have_aod = true;
			}
			break;
		case HPKI_OD_PRIVATE_KEYS:
			if (!dirs->have_prkd) {
				dirs->prkd = od[i].path;
				dirs->have_prkd = true;
			}
			break;
		case HPKI_OD_CERTIFICATES:
		case HPKI_OD_TRUSTED_CERTIFICATES:
		case HPKI_OD_USEFUL_CERTIFICATES:
			if (dirs->cd_count < sizeof(dirs->cd) / sizeof(dirs->cd[0]))
				dirs->cd[dirs->cd_count++] = od[i].path;
			break;
		default:
			break;
		}
	}
}

static void jma_directories(struct directory_set *dirs)
{
	memset(dirs, 0, sizeof(*dirs));
	dirs->have_aod = dirs->have_prkd = true;
	hpki_cio_path_set_fid(&dirs->aod, HPKI_JMA_FID_AOD);
	hpki_cio_path_set_fid(&dirs->prkd, HPKI_JMA_FID_PRKD);
	hpki_cio_path_set_fid(&dirs->cd[0], HPKI_JMA_FID_CD);
	dirs->cd_count = 1;
}

/* EF.OD by SFI 11, else by FID 5031 (G31 B.4, facts §2.2). */
static enum hpki_card_status read_od(struct hpki_card *card, struct directory_set *dirs, bool *found)
{
	struct hpki_od_entry od[DIR_MAX_ENTRIES];
	struct hpki_ef_ref ref = { .by_sfi = true, .sfi = HPKI_SFI_OD };
	size_t od_len, count = 0;
	uint8_t *der;
	enum hpki_card_status st;

	st = hpki_card_read_ef(card, &ref, false, &der, &od_len, found);
	if (st == HPKI_CARD_OK && !*found) {
		ref = (struct hpki_ef_ref){ .fid = HPKI_FID_OD };
		st = hpki_card_read_ef(card, &ref, false, &der, &od_len, found);
	}
	if (st != HPKI_CARD_OK || !*found)
		return st;
	st = cio_result(hpki_cio_decode_od(der, od_len, od, DIR_MAX_ENTRIES, &count), "EF.OD");
	free(der);
	if (st == HPKI_CARD_OK)
		directories_from_od(od, count, dirs);
	return st;
}

static enum hpki_card_status read_aod(struct hpki_card *card, struct hpki_app *app, const struct directory_set *dirs)
{
	struct hpki_aod_pin pins[DIR_MAX_ENTRIES];
	size_t len, count = 0;
	uint8_t *der;
	bool found = false;
	enum hpki_card_status st = HPKI_CARD_OK;

	if (dirs->have_aod)
		st = read_directory(card, &dirs->aod, "EF.AOD", &der, &len, &found);
	if (st != HPKI_CARD_OK)
		return st;
	if (found) {
		st = cio_result(hpki_cio_decode_aod(der, len, pins, DIR_MAX_ENTRIES, &count), "EF.AOD");
		free(der);
		if (st != HPKI_CARD_OK)
			return st;
	}
	if (count == 0) {
		hpki_info("no PIN object: using the JMA PIN reference %02X", HPKI_JMA_PIN_REFERENCE);
		fallback_pin(&app->pin);
		app->from_directories = false;
		return HPKI_CARD_OK;
	}
	/* One PIN per application (G31 A.2.1); prefer the one the key names. */
	app->pin = pins[0];
	for (size_t i = 0; i < count; i++)
		if (app->has_key && pins[i].auth_id_len == app->key.auth_id_len &&
		    memcmp(pins[i].auth_id, app->key.auth_id, pins[i].auth_id_len) == 0)
			app->pin = pins[i];
	if (app->pin.pwd_reference > 0xFF) {
		hpki_error("PIN reference %X does not fit VERIFY P2", app->pin.pwd_reference);
		return HPKI_CARD_BAD_RESPONSE;
	}
	return HPKI_CARD_OK;
}

static enum hpki_card_status read_prkd(struct hpki_card *card, struct hpki_app *app,
				       const struct directory_set *dirs)
{
	struct hpki_prkd_key keys[DIR_MAX_ENTRIES];
	size_t len, count = 0;
	uint8_t *der;
	bool found = false;
	enum hpki_card_status st = HPKI_CARD_OK;

	if (dirs->have_prkd)
		st = read_directory(card, &dirs->prkd, "EF.PrKD", &der, &len, &found);
	if (st != HPKI_CARD_OK)
		return st;
	if (found) {
		st = cio_result(hpki_cio_decode_prkd(der, len, keys, DIR_MAX_ENTRIES, &count), "EF.PrKD");
		free(der);
		if (st != HPKI_CARD_OK)
			return st;
	}
	if (count == 0) {
		hpki_info("no private key object: using the JMA key reference %04X", HPKI_JMA_FID_KEY);
		fallback_key(&app->key, app->role);
		app->from_directories = false;
	} else {
		if (count > 1)
			hpki_error("%zu private keys in EF.PrKD; using the first", count);
		app->key = keys[0];
	}
	app->has_key = true;
	return HPKI_CARD_OK;
}

static enum hpki_card_status read_cd_entries(struct hpki_card *card, struct hpki_app *app,
					     const struct directory_set *dirs, struct hpki_cd_cert *entries,
					     size_t *count)
{
	*count = 0;
	for (size_t d = 0; d < dirs->cd_count; d++) {
		size_t len, n = 0;
		uint8_t *der;
		bool found;
		enum hpki_card_status st = read_directory(card, &dirs->cd[d], "EF.CD", &der, &len, &found);

		if (st != HPKI_CARD_OK)
			return st;
		if (!found)
			continue;
		st = cio_result(hpki_cio_decode_cd(der, len, entries + *count, DIR_MAX_ENTRIES - *count, &n), "EF.CD");
		free(der);
		if (st != HPKI_CARD_OK)
			return st;
		*count += n;
	}
	if (*count == 0) {
		hpki_info("no certificate directory: using the JMA EE certificate EF %04X", HPKI_JMA_FID_EE_CERT);
		fallback_cert(&entries[0]);
		*count = 1;
		app->from_directories = false;
	}
	return HPKI_CARD_OK;
}

/* One certificate EF into *cert; *kept false when the card has none there. */
static enum hpki_card_status read_certificate(struct hpki_card *card, const struct hpki_cd_cert *entry,
					      struct hpki_cert *cert, bool *kept)
{
	struct hpki_ef_ref ref;
	bool found;
	enum hpki_card_status st;

	*kept = false;
	if (!hpki_ef_ref_from_path(&entry->path, &ref)) {
		hpki_error("certificate '%s': unusable path", entry->label);
		return HPKI_CARD_BAD_RESPONSE;
	}
	st = hpki_card_read_ef(card, &ref, true, &cert->der, &cert->der_len, &found);
	if (st != HPKI_CARD_OK)
		return st;
	if (!found || cert->der_len == 0) {
		/* CD may list an optional CA certificate the issuer did not write. */
		hpki_info("certificate '%s' %s; skipped", entry->label, found ? "EF is empty" : "not found");
		free(cert->der);
		cert->der = NULL;
		cert->der_len = 0;
		return HPKI_CARD_OK;
	}
	if (cert->der[0] != 0x30) {
		hpki_error("certificate '%s' is not a DER SEQUENCE", entry->label);
		free(cert->der);
		cert->der = NULL;
		cert->der_len = 0;
		return HPKI_CARD_BAD_RESPONSE;
	}
	cert->info = *entry;
	hpki_card_parse_cert(cert);
	*kept = true;
	return HPKI_CARD_OK;
}

/*
 * A CA certificate listed in the same way by two applications (JMA: the MHLW root,
 * iD 20 and FID 0018 in both) is read once per enumeration (issue 11), but only when
 * that is proven, since the two entries name two different EFs (a FID is relative to
 * its application's DF, ISO 7816-4 §7.1.1; ISO 7816-15 §8.2) which may hold
 * different certificates:
 *  1. the EF.CD entries agree: authority, iD and path (ISO 7816-15 §8.7
 *     CommonCertificateAttributes.iD, CommonObjectAttributes path);
 *  2. a certificate that this application's own EFs gave in this enumeration names
 *     the earlier copy as its issuer: issuer Name and authorityKeyIdentifier are
 *     the copy's subject and key identifier (RFC 5280 §4.2.1.1,
 *     hpki_card_cert_names_issuer).
 * Anything else is read from the card. Identifying suffices here, as nothing read
 * from a card is signature-checked before it is shown: the copy is a certificate of
 * this card, with the name and key of the CA that issued this application's chain
 * (a signature check would cost more than an enumeration's other work, issue 11).
 * The cache, a file that could be edited, verifies signatures (card-cache.c).
 */
enum cert_state { CERT_NONE, CERT_READ, CERT_CANDIDATE, CERT_REUSED };

static bool same_entry(const struct hpki_cd_cert *a, const struct hpki_cd_cert *b)
{
	return a->authority && b->authority && a->id_len == b->id_len && memcmp(a->id, b->id, a->id_len) == 0 &&
	       a->path.len == b->path.len && a->path.len <= HPKI_CIO_PATH_MAX &&
	       memcmp(a->path.efid_or_path, b->path.efid_or_path, a->path.len) == 0;
}

/* The certificate an earlier application of this enumeration read for the same entry. */
static const struct hpki_cert *earlier_copy(const struct hpki_card *card, const struct hpki_app *app,
					    const struct hpki_cd_cert *entry)
{
	for (size_t a = 0; a < card->app_count && &card->apps[a] != app; a++)
		for (size_t c = 0; c < card->apps[a].cert_count; c++) {
			const struct hpki_cert *other = &card->apps[a].certs[c];

			if (other->is_x509 && same_entry(&other->info, entry))
				return other;
		}
	return NULL;
}

static bool same_der(const struct hpki_cert *a, const struct hpki_cert *b)
{
	return a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0;
}

/* Whether another certificate that this application's EFs gave names `ca` as its
 * issuer (not itself: a self-signed copy proves nothing about the EF it stands for). */
static bool issued_one_read(const struct hpki_cert *ca, const struct hpki_cert *certs, const enum cert_state *state,
			    size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (state[i] == CERT_READ && certs[i].is_x509 && !same_der(&certs[i], ca) &&
		    hpki_card_cert_names_issuer(&certs[i], ca))
			return true;
	return false;
}

static enum hpki_card_status reuse(struct hpki_cert *cert, const struct hpki_cert *copy, const struct hpki_cd_cert *entry)
{
	uint8_t *der = malloc(copy->der_len);

	if (der == NULL)
		return HPKI_CARD_NO_MEMORY;
	memcpy(der, copy->der, copy->der_len);
	*cert = *copy; /* the slices are offsets into the DER: they hold for the copy */
	cert->der = der;
	cert->info = *entry;
	hpki_info("certificate '%s': as listed by an earlier application, and it issued a certificate of this "
		  "one: not read again", entry->label);
	return HPKI_CARD_OK;
}

/*
 * Settles the candidates: each proven one is reused; when none is, one is read from
 * the card (its own EF then proves or refutes the others) — first one whose copy
 * issued no other candidate's copy, i.e. the lowest in the chain (on the G31 B.4.6
 * layout, where both applications list their issuing CA under iD 1A, that is the
 * issuing CA, and the root is then proven by it).
 */
static enum hpki_card_status settle_candidates(struct hpki_card *card, struct hpki_cert *certs,
					       const struct hpki_cd_cert *entries, const struct hpki_cert **copy,
					       enum cert_state *state, size_t count)
{
	for (;;) {
		bool progress = true;
		size_t pick = count;
		bool kept;
		enum hpki_card_status st;

		while (progress) {
			progress = false;
			for (size_t i = 0; i < count; i++) {
				if (state[i] != CERT_CANDIDATE || !issued_one_read(copy[i], certs, state, count))
					continue;
				st = reuse(&certs[i], copy[i], &entries[i]);
				if (st != HPKI_CARD_OK)
					return st;
				state[i] = CERT_REUSED;
				progress = true;
			}
		}
		for (size_t i = 0; i < count && pick == count; i++) {
			bool issuer_of_other = false;

			for (size_t j = 0; state[i] == CERT_CANDIDATE && j < count; j++)
				issuer_of_other |= j != i && state[j] == CERT_CANDIDATE && hpki_card_cert_names_issuer(copy[j], copy[i]);
			if (state[i] == CERT_CANDIDATE && !issuer_of_other)
				pick = i;
		}
		for (size_t i = 0; i < count && pick == count; i++)
			if (state[i] == CERT_CANDIDATE)
				pick = i;
		if (pick == count)
			return HPKI_CARD_OK;
		hpki_info("certificate '%s': listed as by an earlier application, but not proven the same; read",
			  entries[pick].label);
		st = read_certificate(card, &entries[pick], &certs[pick], &kept);
		if (st != HPKI_CARD_OK)
			return st;
		state[pick] = kept ? CERT_READ : CERT_NONE;
	}
}

static enum hpki_card_status read_certificates(struct hpki_card *card, struct hpki_app *app,
					       const struct hpki_cd_cert *entries, size_t count)
{
	struct hpki_cert got[HPKI_APP_MAX_CERTS];
	const struct hpki_cert *copy[HPKI_APP_MAX_CERTS];
	enum cert_state state[HPKI_APP_MAX_CERTS];
	enum hpki_card_status st = HPKI_CARD_OK;

	if (count > HPKI_APP_MAX_CERTS) {
		hpki_error("%zu certificates listed; reading the first %d", count, HPKI_APP_MAX_CERTS);
		count = HPKI_APP_MAX_CERTS;
	}
	memset(got, 0, sizeof got);
	for (size_t i = 0; i < count && st == HPKI_CARD_OK; i++) {
		bool kept;

		copy[i] = earlier_copy(card, app, &entries[i]);
		state[i] = copy[i] != NULL ? CERT_CANDIDATE : CERT_NONE;
		if (copy[i] == NULL) {
			st = read_certificate(card, &entries[i], &got[i], &kept);
			state[i] = kept ? CERT_READ : CERT_NONE;
		}
	}
	if (st == HPKI_CARD_OK)
		st = settle_candidates(card, got, entries, copy, state, count);
	/* Into the application in EF.CD order; on failure it frees what it holds. */
	for (size_t i = 0; i < count; i++)
		if (got[i].der != NULL)
			app->certs[app->cert_count++] = got[i];
	return st;
}

/* The key's certificate: same iD (G31 B.4.6), else the first non-authority one. */
const struct hpki_cert *hpki_card_key_certificate(const struct hpki_app *app)
{
	const struct hpki_cert *fallback = NULL;

	for (size_t i = 0; i < app->cert_count; i++) {
		const struct hpki_cert *c = &app->certs[i];

		if (c->info.id_len == app->key.id_len && memcmp(c->info.id, app->key.id, c->info.id_len) == 0)
			return c;
		if (fallback == NULL && !c->info.authority)
			fallback = c;
	}
	return fallback;
}

/* The RSA public key of the key's certificate, parsed once: the signing path checks
 * every signature with it, and it gives the key size when EF.PrKD does not. */
static void load_public_key(struct hpki_app *app)
{
	const struct hpki_cert *cert = hpki_card_key_certificate(app);

	if (cert != NULL && app->public_key == NULL)
		app->public_key = hpki_card_cert_public_key(cert);
}

/* PrKD's modulusLength when plausible, otherwise the EE certificate's key size. */
void hpki_card_settle_modulus(struct hpki_app *app)
{
	unsigned bits;

	if (!app->has_key)
		return;
	load_public_key(app);
	if (app->key.modulus_bits >= 1024 && app->key.modulus_bits <= 8192)
		return;
	bits = app->public_key != NULL ? (unsigned)EVP_PKEY_get_bits(app->public_key) : 0;
	if (bits > 0)
		hpki_info("key size %u bits taken from the certificate", bits);
	app->key.modulus_bits = bits;
}

/* Everything about one application; it is selected on entry. */
enum hpki_card_status hpki_card_read_app(struct hpki_card *card, struct hpki_app *app)
{
	struct hpki_cd_cert entries[DIR_MAX_ENTRIES];
	struct directory_set dirs = { 0 };
	size_t entry_count;
	bool od_found;
	enum hpki_card_status st;

	app->role = role_from_aid(app);
	app->from_directories = true;
	st = read_od(card, &dirs, &od_found);
	if (st != HPKI_CARD_OK)
		return st;
	if (!od_found) {
		hpki_info("no EF.OD: falling back to the JMA layout (AOD 0001, PrKD 0002, CD 0004)");
		app->from_directories = false;
		jma_directories(&dirs);
	}
	/* EF.CIAInfo is not read: nothing in it is used (the token serial comes from the
	 * certificate), and every APDU costs milliseconds on a real card. */
	st = read_prkd(card, app, &dirs);
	if (st == HPKI_CARD_OK)
		st = read_aod(card, app, &dirs);
	if (st == HPKI_CARD_OK)
		st = read_cd_entries(card, app, &dirs, entries, &entry_count);
	if (st == HPKI_CARD_OK)
		st = read_certificates(card, app, entries, entry_count);
	if (st != HPKI_CARD_OK)
		return st;
	if (app->role == HPKI_ROLE_UNKNOWN && app->has_key)
		app->role = app->key.usage & HPKI_KEY_USAGE_NON_REPUDIATION ? HPKI_ROLE_SIGNATURE
				: app->key.usage & HPKI_KEY_USAGE_SIGN ? HPKI_ROLE_AUTHENTICATION
									 : HPKI_ROLE_UNKNOWN;
	hpki_card_settle_modulus(app);
	/* The signing method (MSE + PSO, or JMA 2019's 80 2A 00 80) is not probed here:
	 * an MSE SET costs an APDU per application and every card seen does MSE + PSO
	 * (facts §4.2). The first signature learns it (card-sign.c) and the cache keeps
	 * it (issue 11). */
	return hpki_card_read_pin_counter(card, app);
}
