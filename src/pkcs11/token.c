/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tokens: one per card application. Token info, PIN state, login and signing.
 * This file is the single boundary where card driver status becomes CK_RV.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "log.h"
#include "token.h"

CK_RV hpki_rv_from_card(enum hpki_card_status status, const char *what)
{
	CK_RV rv;

	switch (status) {
	case HPKI_CARD_OK:
		return CKR_OK;
	case HPKI_CARD_REMOVED:
		rv = CKR_DEVICE_REMOVED;
		break;
	case HPKI_CARD_PIN_INCORRECT:
		rv = CKR_PIN_INCORRECT;
		break;
	case HPKI_CARD_PIN_LOCKED:
		rv = CKR_PIN_LOCKED;
		break;
	case HPKI_CARD_NOT_AUTHENTICATED:
		rv = CKR_USER_NOT_LOGGED_IN;
		break;
	case HPKI_CARD_DATA_INVALID:
		rv = CKR_DATA_LEN_RANGE;
		break;
	case HPKI_CARD_UNSUPPORTED:
		rv = CKR_FUNCTION_FAILED;
		break;
	case HPKI_CARD_NO_MEMORY:
		rv = CKR_HOST_MEMORY;
		break;
	case HPKI_CARD_BUSY:
	case HPKI_CARD_NOT_HPKI:
	case HPKI_CARD_BAD_RESPONSE:
	case HPKI_CARD_IO_ERROR:
	default:
		/* CKR_DEVICE_ERROR: the card or reader misbehaved; CKR_GENERAL_ERROR would
		 * tell the application the module itself is unusable. */
		rv = CKR_DEVICE_ERROR;
		break;
	}
	hpki_error("%s: %s", what, hpki_card_status_text(status));
	return rv;
}

static struct hpki_app *token_app(struct hpki_token *token)
{
	return &token->reader->card.apps[token->app];
}

void hpki_pad_field(CK_UTF8CHAR *field, size_t size, const char *text)
{
	size_t len = strlen(text);

	if (len > size) {
		len = size;
		/* Never cut a UTF-8 sequence: back up to the start of a character. */
		while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
			len--;
	}
	memset(field, ' ', size);
	memcpy(field, text, len);
}

/* The holder's name: subject CN of the end-entity certificate. */
static void holder_name(const struct hpki_app *app, char *out, size_t size)
{
	size_t i;

	snprintf(out, size, "%s", "unknown holder");
	for (i = 0; i < app->cert_count; i++) {
		X509 *x = app->certs[i].x509;

		if (x == NULL)
			continue;
		if (!app->certs[i].info.authority &&
		    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)size) > 0)
			return;
	}
}

/*
 * Token label: which application and whose card, unique per card, no ':' (NSS
 * splits nicknames at ':', consumer-expectations §3.9). The single-application
 * libraries use the guideline's fixed "HPKI Application" (G31 §5.2.2 (7)).
 */
static void token_label(const struct hpki_app *app, char *out, size_t size)
{
	char name[64];
	char *c;

	if (HPKI_BUILD_APPS != HPKI_BUILD_ALL) {
		snprintf(out, size, "HPKI Application");
		return;
	}
	holder_name(app, name, sizeof name);
	snprintf(out, size, "HPKI %s %s", app->role == HPKI_ROLE_SIGNATURE ? "Sign" : "Auth", name);
	for (c = out; *c != '\0'; c++)
		if (*c == ':')
			*c = '.';
}

/* Serial: from the end-entity certificate, so it is per card and per application
 * and the same after reinsertion (never a dummy, consumer-expectations §2.3). */
static void token_serial(const struct hpki_app *app, char *out, size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	size_t i;

	for (i = 0; i < app->cert_count; i++)
		if (!app->certs[i].info.authority)
			break;
	if (i < app->cert_count)
		EVP_Digest(app->certs[i].der, app->certs[i].der_len, digest, &digest_len, EVP_sha256(), NULL);
	else
		EVP_Digest(app->aid, app->aid_len, digest, &digest_len, EVP_sha256(), NULL);
	for (i = 0; i < 8 && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, size - 2 * i, "%02X", digest[i]);
}

static void build_token_info(struct hpki_token *token)
{
	const struct hpki_app *app = token_app(token);
	CK_TOKEN_INFO *info = &token->info;
	char label[96], serial[17] = "";

	memset(info, 0, sizeof *info);
	token_label(app, label, sizeof label);
	token_serial(app, serial, sizeof serial);
	hpki_pad_field(info->label, sizeof info->label, label);
	hpki_pad_field(info->manufacturerID, sizeof info->manufacturerID, "JAHIS HPKI card");
	/* G31 §5.2.2 (7): model names the directory standard. */
	hpki_pad_field(info->model, sizeof info->model, "ISO 7816-15:2016");
	hpki_pad_field(info->serialNumber, sizeof info->serialNumber, serial);
	hpki_pad_field(info->utcTime, sizeof info->utcTime, "");
	/* No CKF_RNG: the card has no GET CHALLENGE in the guideline's command set. */
	info->flags = CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED;
	/* PKCS#11 2.40 §3.2: the most sessions that can be open at once, which is
	 * the size of the session table; any of them may be read-write. */
	info->ulMaxSessionCount = HPKI_MAX_SESSIONS;
	info->ulMaxRwSessionCount = HPKI_MAX_SESSIONS;
	info->ulMaxPinLen = app->pin.max_length > 0 && app->pin.max_length < HPKI_PIN_MAX_LEN ? app->pin.max_length
											     : HPKI_PIN_MAX_LEN;
	info->ulMinPinLen = app->pin.min_length > HPKI_PIN_MIN_LEN ? app->pin.min_length : HPKI_PIN_MIN_LEN;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = 0;
	info->firmwareVersion.major = 0;
}

/* The counter the enumeration read: no APDU of its own at the first C_GetTokenInfo. */
static void seed_pin_counter(struct hpki_token *token, const struct hpki_app *app)
{
	if (!app->pin_status_read)
		return;
	token->pin_locked = app->pin_locked;
	token->pin_tries = app->pin_locked ? 0 : app->pin_tries_left;
	token->pin_checked_at = hpki_now();
	token->pin_counter_current = true;
}

struct hpki_token *hpki_token_new(struct hpki_reader *reader, size_t app, uint64_t generation)
{
	struct hpki_token *token = calloc(1, sizeof *token);

	if (token == NULL)
		return NULL;
	token->reader = reader;
	token->app = app;
	token->generation = generation;
	token->pin_tries = -1;
	token->pin_checked_at = -1e9;
	seed_pin_counter(token, &reader->card.apps[app]);
	token->always_authenticate = reader->card.apps[app].key.user_consent > 0;
	token->caps.raw_rsa = reader->card.apps[app].sign_method != HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO;
	build_token_info(token);
	if (hpki_objects_build(token) != CKR_OK) {
		hpki_error("building objects of '%s' app %zu failed", reader->name, app);
		hpki_token_free(token);
		return NULL;
	}
	return token;
}

void hpki_token_free(struct hpki_token *token)
{
	if (token == NULL)
		return;
	hpki_objects_free(token);
	free(token);
}

struct hpki_object *hpki_token_object(struct hpki_token *token, CK_OBJECT_HANDLE handle)
{
	size_t i;

	for (i = 0; i < token->object_count; i++)
		if (token->objects[i].handle == handle)
			return &token->objects[i];
	return NULL;
}

void hpki_token_forget_login(struct hpki_token *token)
{
	if (token->logged_in)
		hpki_info("token '%.32s': login lost on the card", (const char *)token->info.label);
	token->logged_in = false;
	token->user_login_consent = false;
}

bool hpki_token_take_user_login_consent(struct hpki_token *token)
{
	bool consent = token->logged_in && token->user_login_consent;

	token->user_login_consent = false;
	if (consent)
		hpki_info("C_Sign: the VERIFY of C_Login(CKU_USER) is this signature's consent");
	return consent;
}

/* A card reset by another process wipes every application's security state. */
static void note_card_reset(struct hpki_token *token)
{
	struct hpki_reader *r = token->reader;
	size_t i;

	if (!r->card.link.was_reset)
		return;
	r->card.link.was_reset = false;
	for (i = 0; i < 2; i++)
		if (r->tokens[i] != NULL) {
			hpki_token_forget_login(r->tokens[i]);
			r->tokens[i]->pin_counter_current = false;
		}
}

/* The other application's token on the same card, if any. */
static struct hpki_token *sibling_of(const struct hpki_token *token)
{
	struct hpki_reader *r = token->reader;
	size_t i;

	for (i = 0; i < 2; i++)
		if (r->tokens[i] != NULL && r->tokens[i] != token)
			return r->tokens[i];
	return NULL;
}

/* A login that lives on the card (no userConsent): selecting another application ends it. */
static bool has_card_login(const struct hpki_token *token)
{
	return token != NULL && token->logged_in && !token->always_authenticate;
}

/*
 * The driver has just selected this token's application. Cards may offer the
 * basic logical channel only (G31 §5.3.3) and keep security state per
 * application (G31 §4.4.2 (3)), so the other application's login is gone now:
 * say so at once rather than at its next signature.
 */
static void note_application_selected(struct hpki_token *token)
{
	struct hpki_token *sibling = sibling_of(token);

	if (has_card_login(sibling)) {
		hpki_info("selecting '%.32s' ended the card login of '%.32s'", (const char *)token->info.label,
			  (const char *)sibling->info.label);
		hpki_token_forget_login(sibling);
	}
}

/* PIN counter and verified state from an empty VERIFY: no try used (G31 C.3.4). */
static void read_pin_status(struct hpki_token *token, bool *verified)
{
	enum hpki_card_status status;
	int tries = -1;

	*verified = false;
	status = hpki_card_pin_status(&token->reader->card, token->app, verified, &tries);
	note_card_reset(token);
	token->pin_checked_at = hpki_now();
	token->pin_counter_current = status == HPKI_CARD_OK || status == HPKI_CARD_PIN_LOCKED;
	if (status == HPKI_CARD_PIN_LOCKED) {
		token->pin_locked = true;
		token->pin_tries = 0;
	} else if (status == HPKI_CARD_OK) {
		token->pin_locked = false;
		if (!*verified)
			token->pin_tries = tries;
	}
}

/* The counter changes only through VERIFY; look again at most once per interval. */
static bool pin_status_due(const struct hpki_token *token)
{
	return hpki_now() - token->pin_checked_at >= hpki_settings()->refresh_interval;
}

/* Never between a context-specific login and the signature it authorises: a PIN
 * status APDU there can drop the card's verified state (OpenSC #1071). */
static bool pin_status_allowed(struct hpki_token *token, bool context_login_pending)
{
	if (context_login_pending)
		return false;
	/* Nor for a look at this application while the other one holds a card login:
	 * selecting this one would end that login behind the application's back. */
	return !has_card_login(sibling_of(token));
}

void hpki_token_check_login(struct hpki_token *token, bool context_login_pending)
{
	bool verified;

	/* The signature application consumes its login with every signature (userConsent):
	 * there the PKCS#11 login is the user's consent to be asked, not a card state. */
	if (!token->logged_in || token->always_authenticate)
		return;
	if (!pin_status_due(token) || !pin_status_allowed(token, context_login_pending))
		return;
	/* Polling C_GetSessionInfo sends no APDU (issue 11): a transaction begun and ended
	 * tells a reset by another process; an empty VERIFY could not tell a login on cards
	 * that answer 63Cx even when verified (jma-strict, card-fidelity.md). A login lost
	 * to another program's SELECT shows at the next signature (CKR_USER_NOT_LOGGED_IN). */
	if (token->pin_counter_current) {
		token->pin_checked_at = hpki_now();
		(void)hpki_card_probe_reset(&token->reader->card);
		note_card_reset(token);
		return;
	}
	read_pin_status(token, &verified);
	if (!verified)
		hpki_token_forget_login(token);
}

CK_RV hpki_token_info(struct hpki_token *token, bool context_login_pending, CK_TOKEN_INFO *info)
{
	bool verified;

	/* The counter changes by VERIFY only: ours update it, a reset marks it stale;
	 * another program's wrong PIN is seen at the next event (issue 11). */
	if (!token->pin_counter_current && pin_status_due(token) &&
	    pin_status_allowed(token, context_login_pending)) {
		read_pin_status(token, &verified);
		if (!verified && !token->always_authenticate)
			hpki_token_forget_login(token);
	}
	*info = token->info;
	/* PKCS#11 2.40 §5.5 CK_TOKEN_INFO flags from the card's try counter. */
	if (token->pin_locked)
		info->flags |= CKF_USER_PIN_LOCKED;
	else if (token->pin_tries == 1)
		info->flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
	else if (token->pin_tries >= 0 && token->pin_tries < HPKI_PIN_MAX_TRIES)
		info->flags |= CKF_USER_PIN_COUNT_LOW;
	return CKR_OK;
}

/* PIN rules checked before anything is sent (G31 §5.2.1: 4–16 ASCII characters). */
static CK_RV check_pin(const struct hpki_token *token, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	CK_ULONG i;

	if (pin_len < token->info.ulMinPinLen || pin_len > token->info.ulMaxPinLen)
		return CKR_PIN_LEN_RANGE;
	for (i = 0; i < pin_len; i++)
		if (pin[i] < 0x20 || pin[i] > 0x7E)
			return CKR_PIN_INVALID;
	return CKR_OK;
}

CK_RV hpki_token_login(struct hpki_token *token, CK_USER_TYPE user, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	enum hpki_card_status status;
	int tries = -1;
	CK_RV rv;

	if (pin == NULL) /* no PIN pad: vpcd and HPKI readers offer none */
		return CKR_ARGUMENTS_BAD;
	rv = check_pin(token, pin, pin_len);
	if (rv != CKR_OK) {
		hpki_error("C_Login: PIN of %lu characters rejected before sending (%s)", (unsigned long)pin_len,
			   rv == CKR_PIN_LEN_RANGE ? "length" : "characters");
		return rv;
	}
	if (token->pin_locked) {
		hpki_error("C_Login: PIN is locked on the card; nothing sent");
		return CKR_PIN_LOCKED;
	}
	/* Exactly one VERIFY; never repeated, whatever happens (hpki-card-facts §3: 15 tries). */
	status = hpki_card_verify_pin(&token->reader->card, token->app, pin, pin_len, &tries);
	note_card_reset(token);
	note_application_selected(token);
	token->pin_checked_at = hpki_now();
	if (status == HPKI_CARD_PIN_INCORRECT)
		token->pin_tries = tries;
	else if (status == HPKI_CARD_PIN_LOCKED) {
		token->pin_tries = 0;
		token->pin_locked = true;
	} else if (status == HPKI_CARD_OK)
		token->pin_tries = HPKI_PIN_MAX_TRIES;
	token->pin_counter_current = status == HPKI_CARD_OK || status == HPKI_CARD_PIN_INCORRECT ||
				     status == HPKI_CARD_PIN_LOCKED;
	rv = hpki_rv_from_card(status, user == CKU_CONTEXT_SPECIFIC ? "C_Login(CKU_CONTEXT_SPECIFIC)"
								    : "C_Login(CKU_USER)");
	if (rv == CKR_OK && user == CKU_USER) {
		token->logged_in = true;
		token->user_login_consent = token->always_authenticate;
	}
	return rv;
}

CK_RV hpki_token_sign(struct hpki_token *token, enum hpki_sign_input kind, const uint8_t *input, size_t input_len,
		      uint8_t *signature, size_t *signature_len)
{
	enum hpki_card_status status;

	/* Any signature uses up the card's verification on a userConsent key. */
	token->user_login_consent = false;
	status = hpki_card_sign(&token->reader->card, token->app, kind, input, input_len, signature, signature_len);
	note_card_reset(token);
	note_application_selected(token);
	if (status == HPKI_CARD_NOT_AUTHENTICATED && !token->always_authenticate)
		hpki_token_forget_login(token);
	return hpki_rv_from_card(status, "C_Sign");
}
