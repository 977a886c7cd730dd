/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file systems of the virtual card's applications, one layout per profile.
 * Keys and certificates come from the test PKI (<data_dir>/<holder>/ and
 * <data_dir>/ca/); the ISO 7816-15 directory files are real DER made with the
 * encoders of include/hpki/cio.h.
 *
 *   file            jma / jma-2019 (facts §2.2)        jahis (G31 B.4, table B.1)
 *   EF.CIAInfo      FID 5032, SFI 12                   FID 5032, SFI 12
 *   EF.OD           FID 5031, SFI 11                   FID 5031, SFI 11
 *   EF.AOD          FID 0001                           FID 0013, SFI 13
 *   EF.PrKD         FID 0002                           FID 0014, SFI 14
 *   EF.PuKD         FID 0003 (empty, 00 padding)       —
 *   EF.CD           FID 0004                           FID 0015, SFI 15
 *   EF.DCOD         FID 0005 (empty, 00 padding)       —
 *   PIN IEF         — (PIN by reference only)         FID 0016, SFI 16 (internal)
 *   key IEF         FID 000C (internal)                FID 0017, SFI 17 (internal)
 *   EE certificate  FID 0016                           FID 0018, SFI 18
 *   issuing CA      FID 0017                           FID 001A, SFI 1A
 *   root CA         FID 0018                           FID 0019, SFI 19
 *
 * The jma directory files are padded with 00 to a multiple of 64 bytes, as fixed-size
 * EFs on real cards are (ISO 7816-15 §8.2 allows it); the jahis ones are exact.
 *
 * The quirk jma_file_inventory (jma, jma-2019) gives the files the real JMA card was
 * seen to have in the MSE scan of card-fidelity.md §1.1: PIN IEF 0008 (SFI 8, the
 * "88" of VERIFY: G31 C.3.2), a second secret IEF 0009, and a certificate EF 000F —
 * the root CA moves there from 0018, which was never seen.
 */
#include "card-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hpki/cio.h"

static const uint8_t aid_signature[HPKI_AID_LEN] = { HPKI_AID_SIGNATURE };
static const uint8_t aid_authentication[HPKI_AID_LEN] = { HPKI_AID_AUTHENTICATION };

#define JMA_DIRECTORY_BLOCK 64

/* Where each object lives in one profile. */
struct layout {
	uint16_t aod, prkd, cd;              /* FIDs */
	uint8_t aod_sfi, prkd_sfi, cd_sfi;   /* 0 = none */
	bool has_empty_pukd_dcod;            /* jma: OD names PuKD 0003 and DCOD 0005 */
	uint16_t pin_iefid;                  /* 0 = no PIN file */
	uint8_t pin_sfi;
	uint16_t secret_iefid;               /* 0 = none; another IEF (JMA 0009: a PUK?) */
	uint16_t key;
	uint8_t key_sfi;
	uint16_t ee_cert, ca_cert, root_cert;
	uint8_t ee_sfi, ca_sfi, root_sfi;
	bool paths_as_sfi;                   /* directory paths: 1-byte SFI<<3 (G31 B.4.3) */
	bool pad_directories;
	unsigned pin_reference;
	uint8_t auth_id;
	unsigned pin_stored_length;
	uint8_t mse_tag;
	uint16_t mse_value;
	bool has_key_reference;
	long key_reference;
};

static const struct layout jma_layout = {
	.aod = HPKI_JMA_FID_AOD, .prkd = HPKI_JMA_FID_PRKD, .cd = HPKI_JMA_FID_CD,
	.has_empty_pukd_dcod = true,
	.key = HPKI_JMA_FID_KEY,
	.ee_cert = HPKI_JMA_FID_EE_CERT, .ca_cert = 0x0017, .root_cert = 0x0018,
	.pad_directories = true,
	.pin_reference = HPKI_JMA_PIN_REFERENCE, .auth_id = 0x08, .pin_stored_length = 0,
	.mse_tag = HPKI_MSE_TAG_KEY_REF, .mse_value = HPKI_JMA_FID_KEY,
	.has_key_reference = true, .key_reference = 0x0C,
};

/* G31 B.4: every EF by SFI; FIDs 00xx follow the MSE example "81 02 00 17" for key SFI 17. */
static const struct layout jahis_layout = {
	.aod = 0x0013, .prkd = 0x0014, .cd = 0x0015,
	.aod_sfi = 0x13, .prkd_sfi = 0x14, .cd_sfi = 0x15,
	.pin_iefid = 0x0016, .pin_sfi = 0x16,
	.key = 0x0017, .key_sfi = 0x17,
	.ee_cert = 0x0018, .ca_cert = 0x001A, .root_cert = 0x0019,
	.ee_sfi = 0x18, .ca_sfi = 0x1A, .root_sfi = 0x19,
	.paths_as_sfi = true,
	.pin_reference = HPKI_JAHIS_PIN_REFERENCE, .auth_id = 0x16, .pin_stored_length = 16,
	.mse_tag = HPKI_MSE_TAG_FILE_REF, .mse_value = 0x0017,
};

/* CIO identifiers: jma ones are ours (not known from real cards); jahis follow G31 B.4.5–B.4.6. */
struct object_ids {
	uint8_t key, ca, root;
};

static struct object_ids ids_for(enum vcard_profile profile, int app_number)
{
	struct object_ids ids;

	if (profile == VCARD_PROFILE_JAHIS) {
		ids.key = 0x17;
		ids.ca = 0x1A;
		ids.root = 0x19;
	} else {
		ids.key = (uint8_t)app_number;
		ids.ca = (uint8_t)(0x10 | app_number);
		ids.root = 0x20;
	}
	return ids;
}

/* ---- loading the test PKI ------------------------------------------------------------ */

static char *join_path(const char *dir, const char *sub, const char *name)
{
	size_t size = strlen(dir) + strlen(sub) + strlen(name) + 3;
	char *path = malloc(size);

	if (path != NULL)
		snprintf(path, size, "%s/%s/%s", dir, sub, name);
	return path;
}

static int read_whole_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long size;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && size < VCARD_MAX_RESPONSE &&
	    fseek(f, 0, SEEK_SET) == 0) {
		*data = OPENSSL_malloc((size_t)size);
		if (*data != NULL && fread(*data, 1, (size_t)size, f) == (size_t)size) {
			*len = (size_t)size;
			rc = 0;
		} else {
			OPENSSL_free(*data);
			*data = NULL;
		}
	}
	fclose(f);
	return rc;
}

static int load_pki_file(const char *data_dir, const char *sub, const char *name, uint8_t **data, size_t *len)
{
	char *path = join_path(data_dir, sub, name);
	int rc = path == NULL ? -1 : read_whole_file(path, data, len);

	free(path);
	return rc;
}

static EVP_PKEY *load_private_key(const char *data_dir, const char *holder, const char *name)
{
	char *path = join_path(data_dir, holder, name);
	EVP_PKEY *key = NULL;
	FILE *f = path == NULL ? NULL : fopen(path, "r");

	if (f != NULL) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	free(path);
	return key;
}

/* The certificate must carry the public half of the key, or signatures never verify. */
static bool cert_matches_key(const uint8_t *der, size_t len, EVP_PKEY *key)
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	bool match = cert != NULL && EVP_PKEY_eq(X509_get0_pubkey(cert), key) == 1;

	X509_free(cert);
	return match;
}

static int load_modulus(struct vcard_app *app)
{
	BIGNUM *n = NULL;
	int bytes;

	if (EVP_PKEY_get_base_id(app->key) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bn_param(app->key, OSSL_PKEY_PARAM_RSA_N, &n) != 1)
		return -1;
	bytes = BN_num_bytes(n);
	app->modulus = OPENSSL_malloc((size_t)bytes);
	if (app->modulus == NULL || BN_bn2binpad(n, app->modulus, bytes) != bytes) {
		BN_free(n);
		return -1;
	}
	app->modulus_len = (size_t)bytes;
	BN_free(n);
	return 0;
}

/* ---- building the file system ---------------------------------------------------------- */

static struct vcard_file *add_file(struct vcard_app *app, uint16_t fid, uint8_t sfi)
{
	struct vcard_file *file;

	if (app->file_count == VCARD_MAX_FILES)
		return NULL;
	file = &app->files[app->file_count++];
	memset(file, 0, sizeof *file);
	file->fid = fid;
	file->sfi = sfi;
	return file;
}

/* Takes ownership of data (OPENSSL_malloc'd) also on failure. */
static int add_data_file(struct vcard_app *app, uint16_t fid, uint8_t sfi, uint8_t *data, size_t len)
{
	struct vcard_file *file = add_file(app, fid, sfi);

	if (file == NULL) {
		OPENSSL_free(data);
		return -1;
	}
	file->data = data;
	file->len = len;
	return 0;
}

static int add_internal_file(struct vcard_app *app, uint16_t fid, uint8_t sfi)
{
	struct vcard_file *file = add_file(app, fid, sfi);

	if (file == NULL)
		return -1;
	file->internal = true;
	return 0;
}

/* Pads a directory to a multiple of JMA_DIRECTORY_BLOCK with 00 (a fixed-size EF). */
static int pad_directory(uint8_t **der, size_t *len)
{
	size_t padded = (*len / JMA_DIRECTORY_BLOCK + 1) * JMA_DIRECTORY_BLOCK;
	uint8_t *bigger = OPENSSL_zalloc(padded);

	if (bigger == NULL)
		return -1;
	memcpy(bigger, *der, *len);
	OPENSSL_free(*der);
	*der = bigger;
	*len = padded;
	return 0;
}

/* Adds one encoded directory EF; rc is the encoder's status (called after the encoder,
 * never in the same argument list: evaluation order of arguments is unspecified). */
static int add_directory(struct vcard_app *app, const struct layout *lay, uint16_t fid, uint8_t sfi, int rc,
			 uint8_t *der, size_t len)
{
	if (rc != HPKI_CIO_OK)
		return -1;
	if (lay->pad_directories && pad_directory(&der, &len) != 0) {
		OPENSSL_free(der);
		return -1;
	}
	return add_data_file(app, fid, sfi, der, len);
}

static void set_path(struct hpki_cio_path *path, const struct layout *lay, uint16_t fid, uint8_t sfi)
{
	if (lay->paths_as_sfi)
		hpki_cio_path_set_sfi(path, sfi);
	else
		hpki_cio_path_set_fid(path, fid);
}

static void copy_label(char *dst, const char *src)
{
	snprintf(dst, HPKI_CIO_LABEL_MAX + 1, "%s", src);
}

/* serialNumber: first 8 bytes of SHA-256 over the EE certificate, so each holder
 * and application has its own stable value (the module may use it as token serial). */
static int build_cia_info(struct vcard_app *app, const struct layout *lay, const uint8_t *ee, size_t ee_len)
{
	struct hpki_cia_info info = { 0 };
	uint8_t digest[32];
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	if (EVP_Digest(ee, ee_len, digest, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	info.version = 1; /* v2 (G31 B.4.2) */
	memcpy(info.serial, digest, 8);
	info.serial_len = 8;
	copy_label(info.manufacturer, "TEST hpki-vcard");
	copy_label(info.label, "HPKI Application");
	info.card_flags = HPKI_CIA_FLAG_AUTH_REQUIRED | HPKI_CIA_FLAG_PRN_GENERATION;
	rc = hpki_cio_encode_cia_info(&info, &der, &len);
	return add_directory(app, lay, HPKI_FID_CIAINFO, HPKI_SFI_CIAINFO, rc, der, len);
}

static int build_od(struct vcard_app *app, const struct layout *lay)
{
	struct hpki_od_entry od[5];
	size_t count = 0;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	memset(od, 0, sizeof od);
	od[count].kind = HPKI_OD_PRIVATE_KEYS;
	set_path(&od[count++].path, lay, lay->prkd, lay->prkd_sfi);
	if (lay->has_empty_pukd_dcod) {
		od[count].kind = HPKI_OD_PUBLIC_KEYS;
		hpki_cio_path_set_fid(&od[count++].path, HPKI_JMA_FID_PUKD);
	}
	od[count].kind = HPKI_OD_CERTIFICATES;
	set_path(&od[count++].path, lay, lay->cd, lay->cd_sfi);
	if (lay->has_empty_pukd_dcod) {
		od[count].kind = HPKI_OD_DATA_CONTAINERS;
		hpki_cio_path_set_fid(&od[count++].path, HPKI_JMA_FID_DCOD);
	}
	od[count].kind = HPKI_OD_AUTH_OBJECTS;
	set_path(&od[count++].path, lay, lay->aod, lay->aod_sfi);
	rc = hpki_cio_encode_od(od, count, &der, &len);
	return add_directory(app, lay, HPKI_FID_OD, HPKI_SFI_OD, rc, der, len);
}

/* G31 B.4.4 (jahis) and the decoded JMA EF.AOD (facts §2.2). */
static int build_aod(struct vcard_app *app, const struct layout *lay)
{
	struct hpki_aod_pin pin = { 0 };
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	copy_label(pin.label, "PIN");
	pin.private_object = true;
	pin.auth_id[0] = lay->auth_id;
	pin.auth_id_len = 1;
	pin.pwd_flags = HPKI_PWD_FLAG_CASE_SENSITIVE | HPKI_PWD_FLAG_LOCAL | HPKI_PWD_FLAG_INITIALIZED;
	pin.pwd_type = HPKI_PWD_UTF8;
	pin.min_length = HPKI_PIN_MIN_LEN;
	pin.stored_length = lay->pin_stored_length;
	pin.max_length = HPKI_PIN_MAX_LEN;
	pin.pwd_reference = lay->pin_reference;
	rc = hpki_cio_encode_aod(&pin, 1, &der, &len);
	return add_directory(app, lay, lay->aod, lay->aod_sfi, rc, der, len);
}

/* G31 B.4.5: userConsent 1 on the signature AP only; usage nonRepudiation / sign. */
static int build_prkd(struct vcard_app *app, const struct layout *lay, const struct object_ids *ids)
{
	struct hpki_prkd_key key = { 0 };
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	copy_label(key.label, "Private key of HPKI");
	key.private_object = true;
	key.auth_id[0] = lay->auth_id;
	key.auth_id_len = 1;
	key.user_consent = app->user_consent ? 1 : 0;
	key.id[0] = ids->key;
	key.id_len = 1;
	key.usage = app->number == VCARD_APP_SIGNATURE ? HPKI_KEY_USAGE_NON_REPUDIATION : HPKI_KEY_USAGE_SIGN;
	key.has_key_reference = lay->has_key_reference;
	key.key_reference = lay->key_reference;
	set_path(&key.path, lay, lay->key, lay->key_sfi);
	key.modulus_bits = (unsigned)app->modulus_len * 8;
	rc = hpki_cio_encode_prkd(&key, 1, &der, &len);
	return add_directory(app, lay, lay->prkd, lay->prkd_sfi, rc, der, len);
}

static void describe_cert(struct hpki_cd_cert *cert, const struct layout *lay, const char *label, uint8_t id,
			  bool authority, uint16_t fid, uint8_t sfi)
{
	copy_label(cert->label, label);
	cert->id[0] = id;
	cert->id_len = 1;
	cert->authority = authority;
	set_path(&cert->path, lay, fid, sfi);
}

/* G31 B.4.6 labels and order: EE (iD = key iD), the MHLW root, the issuing CA. */
static int build_cd(struct vcard_app *app, const struct layout *lay, const struct object_ids *ids)
{
	struct hpki_cd_cert certs[3];
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;
	bool jahis = lay->paths_as_sfi;

	memset(certs, 0, sizeof certs);
	describe_cert(&certs[0], lay, "HPKI END ENTITY CERTIFICATE", ids->key, false, lay->ee_cert, lay->ee_sfi);
	describe_cert(&certs[1], lay, "MHLW CA CERTIFICATE", ids->root, true, lay->root_cert, lay->root_sfi);
	describe_cert(&certs[2], lay, jahis ? "HPKI ROOT CA CERTIFICATE" : "HPKI CA CERTIFICATE", ids->ca, true,
		      lay->ca_cert, lay->ca_sfi);
	rc = hpki_cio_encode_cd(certs, 3, &der, &len);
	return add_directory(app, lay, lay->cd, lay->cd_sfi, rc, der, len);
}

static int add_empty_directory(struct vcard_app *app, uint16_t fid)
{
	uint8_t *zeros = OPENSSL_zalloc(JMA_DIRECTORY_BLOCK);

	return zeros == NULL ? -1 : add_data_file(app, fid, 0, zeros, JMA_DIRECTORY_BLOCK);
}

static int add_certificates(struct vcard_app *app, const struct layout *lay, const struct vcard_config *config,
			    uint8_t *ee, size_t ee_len, const char **error)
{
	const char *ca_name = app->number == VCARD_APP_SIGNATURE ? "sign-ca.der" : "auth-ca.der";
	uint8_t *ca = NULL, *root = NULL;
	size_t ca_len = 0, root_len = 0;

	if (add_data_file(app, lay->ee_cert, lay->ee_sfi, ee, ee_len) != 0)
		return -1;
	if (load_pki_file(config->data_dir, "ca", ca_name, &ca, &ca_len) != 0 ||
	    load_pki_file(config->data_dir, "ca", "root.der", &root, &root_len) != 0) {
		OPENSSL_free(ca);
		*error = "cannot read the CA certificates (<data_dir>/ca/{sign-ca,auth-ca,root}.der)";
		return -1;
	}
	if (add_data_file(app, lay->ca_cert, lay->ca_sfi, ca, ca_len) != 0) {
		OPENSSL_free(root);
		return -1;
	}
	return add_data_file(app, lay->root_cert, lay->root_sfi, root, root_len);
}

static int build_files(struct vcard_app *app, const struct layout *lay, const struct vcard_config *config,
		       enum vcard_profile profile, uint8_t *ee, size_t ee_len, const char **error)
{
	struct object_ids ids = ids_for(profile, app->number);
	int rc;

	/* A card whose CA certificate entry carries the key's iD: nothing in ISO
	 * 7816-15 forbids it, and the module must still pair key and certificate. */
	if (config->ca_shares_key_id)
		ids.ca = ids.key;
	/* --shared-ca-entry: one iD for the issuing CA in both applications (the jahis
	 * ids already are), so the entries agree while the EFs differ (sign-ca, auth-ca). */
	else if (config->ca_entry_shared)
		ids.ca = 0x1A;

	rc = build_cia_info(app, lay, ee, ee_len);
	rc = rc == 0 ? build_od(app, lay) : rc;
	rc = rc == 0 ? build_aod(app, lay) : rc;
	rc = rc == 0 ? build_prkd(app, lay, &ids) : rc;
	rc = rc == 0 ? build_cd(app, lay, &ids) : rc;
	if (rc == 0 && lay->has_empty_pukd_dcod)
		rc = add_empty_directory(app, HPKI_JMA_FID_PUKD) == 0 ? add_empty_directory(app, HPKI_JMA_FID_DCOD) : -1;
	if (rc == 0 && lay->pin_iefid != 0)
		rc = add_internal_file(app, lay->pin_iefid, lay->pin_sfi);
	if (rc == 0 && lay->secret_iefid != 0)
		rc = add_internal_file(app, lay->secret_iefid, 0);
	if (rc == 0) {
		app->key_file = (int)app->file_count;
		rc = add_internal_file(app, lay->key, lay->key_sfi);
	}
	if (rc != 0) {
		OPENSSL_free(ee);
		*error = "cannot build the directory files";
		return -1;
	}
	return add_certificates(app, lay, config, ee, ee_len, error);
}

/* JMA file identifiers from the MSE scan of a real card (card-fidelity.md §1.1). */
#define JMA_FID_PIN_IEF 0x0008
#define JMA_SFI_PIN_IEF 0x08
#define JMA_FID_SECRET_IEF 0x0009
#define JMA_FID_ROOT_CERT 0x000F

/* The profile's layout with the quirks that change files applied. */
static struct layout layout_for(const struct vcard *card)
{
	struct layout lay = card->profile == VCARD_PROFILE_JAHIS ? jahis_layout : jma_layout;

	if (card->quirks.prkd_without_key_reference)
		lay.has_key_reference = false;
	if (card->quirks.jma_file_inventory && card->profile != VCARD_PROFILE_JAHIS) {
		lay.pin_iefid = JMA_FID_PIN_IEF;
		lay.pin_sfi = JMA_SFI_PIN_IEF;
		lay.secret_iefid = JMA_FID_SECRET_IEF;
		lay.root_cert = JMA_FID_ROOT_CERT;
	}
	return lay;
}

static int build_app(struct vcard *card, const struct vcard_config *config, int number, const char **error)
{
	const struct layout layout = layout_for(card);
	const struct layout *lay = &layout;
	struct vcard_app *app = &card->apps[card->app_count++];
	bool signature = number == VCARD_APP_SIGNATURE;
	uint8_t *ee = NULL;
	size_t ee_len = 0;

	app->number = number;
	memcpy(app->aid, signature ? aid_signature : aid_authentication, HPKI_AID_LEN);
	app->user_consent = signature;
	app->pin_reference = lay->pin_reference;
	app->mse_tag = lay->mse_tag;
	app->mse_value = lay->mse_value;
	app->key_file = -1;
	if (vcard_pin_init(&app->pin, signature ? config->sign_pin : config->auth_pin, config->state_dir,
			   card->holder, number, error) != 0)
		return -1;
	app->key = load_private_key(config->data_dir, card->holder, signature ? "sig.key.pem" : "auth.key.pem");
	if (app->key == NULL || load_modulus(app) != 0) {
		*error = "cannot read the holder's RSA key (<data_dir>/<holder>/{sig,auth}.key.pem)";
		return -1;
	}
	if (load_pki_file(config->data_dir, card->holder, signature ? "sig.crt.der" : "auth.crt.der", &ee, &ee_len) !=
	    0) {
		*error = "cannot read the holder's certificate (<data_dir>/<holder>/{sig,auth}.crt.der)";
		return -1;
	}
	if (!cert_matches_key(ee, ee_len, app->key)) {
		OPENSSL_free(ee);
		*error = "the holder's certificate does not match its key";
		return -1;
	}
	return build_files(app, lay, config, card->profile, ee, ee_len, error);
}

int vcard_profile_build(struct vcard *card, const struct vcard_config *config, const char **error)
{
	/* A blank card has no application at all (not an HPKI card). */
	if (card->profile == VCARD_PROFILE_BLANK)
		return 0;
	if (config->data_dir == NULL) {
		*error = "no data directory for the test PKI";
		return -1;
	}
	/* Signature AP first: partial-AID discovery (G31 C.2.1) finds it before the other. */
	if (config->apps != VCARD_APPS_AUTHENTICATION_ONLY &&
	    build_app(card, config, VCARD_APP_SIGNATURE, error) != 0)
		return -1;
	if (config->apps != VCARD_APPS_SIGNATURE_ONLY &&
	    build_app(card, config, VCARD_APP_AUTHENTICATION, error) != 0)
		return -1;
	return 0;
}

void vcard_profile_free(struct vcard *card)
{
	size_t i, f;

	for (i = 0; i < card->app_count; i++) {
		struct vcard_app *app = &card->apps[i];

		for (f = 0; f < app->file_count; f++)
			OPENSSL_free(app->files[f].data);
		EVP_PKEY_free(app->key);
		OPENSSL_free(app->modulus);
		vcard_pin_free(&app->pin);
		memset(app, 0, sizeof *app);
	}
	card->app_count = 0;
}

struct vcard_app *vcard_find_app(struct vcard *card, int number)
{
	size_t i;

	for (i = 0; i < card->app_count; i++)
		if (card->apps[i].number == number)
			return &card->apps[i];
	return NULL;
}

int vcard_find_file_by_fid(const struct vcard_app *app, uint16_t fid)
{
	size_t i;

	for (i = 0; i < app->file_count; i++)
		if (app->files[i].fid == fid)
			return (int)i;
	return -1;
}

int vcard_find_file_by_sfi(const struct vcard_app *app, uint8_t sfi)
{
	size_t i;

	if (sfi == 0)
		return -1;
	for (i = 0; i < app->file_count; i++)
		if (app->files[i].sfi == sfi)
			return (int)i;
	return -1;
}
