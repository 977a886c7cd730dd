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
#include "watchdog.h"

/* Longest a PC/SC transaction stays held between a context-specific login and the
 * signature it authorises (issue 8 §2; pkcs11-spec/README.md "Context login"). */
#define HPKI_HOLD_MAX_SECONDS 5.0

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
	for (i = 0; i < app->cert_count; i++)
		if (!app->certs[i].info.authority && hpki_card_cert_subject_text(&app->certs[i], NID_commonName, out, size))
			return;
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
	hpki_pin_mark_clear(&token->refused_pin);
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

bool hpki_token_card_has_login(const struct hpki_token *token)
{
	const struct hpki_reader *r = token->reader;
	size_t i;

	for (i = 0; i < 2; i++)
		if (r->tokens[i] != NULL && r->tokens[i]->logged_in)
			return true;
	return r->card.holding;
}

/*
 * A background call (C_GetTokenInfo, C_GetSessionInfo) may look at the card only
 * when no application of it holds a login: a SELECT there ends the other
 * application's login on one-channel cards (G31 §5.3.3), and between a context
 * login and its signature any APDU can drop the verification (OpenSC #1071).
 * context_login_pending covers every slot of the card (the session layer knows).
 */
static bool pin_status_allowed(struct hpki_token *token, bool context_login_pending)
{
	return !context_login_pending && !hpki_token_card_has_login(token);
}

/* Whether another process reset the card, learnt without an APDU (a transaction
 * begun and ended); never inside a held transaction. */
static void probe_reset(struct hpki_token *token, bool context_login_pending)
{
	if (context_login_pending || token->reader->card.holding || !pin_status_due(token))
		return;
	token->pin_checked_at = hpki_now();
	(void)hpki_card_probe_reset(&token->reader->card);
	note_card_reset(token);
}

void hpki_token_check_login(struct hpki_token *token, bool context_login_pending)
{
	hpki_token_expire_hold(token);
	if (token->logged_in)
		probe_reset(token, context_login_pending);
}

CK_RV hpki_token_info(struct hpki_token *token, bool context_login_pending, CK_TOKEN_INFO *info)
{
	bool verified;

	hpki_token_expire_hold(token);
	if (pin_status_allowed(token, context_login_pending)) {
		/* The counter changes by VERIFY only: ours update it, a reset marks it stale;
		 * another program's wrong PIN is seen at the next event (issue 11). */
		if (!token->pin_counter_current && pin_status_due(token))
			read_pin_status(token, &verified);
	} else {
		/* The counter shown is the last one known; a reset is still noticed. */
		probe_reset(token, context_login_pending);
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

/* The card refused this very PIN last time: sending it again can only burn a try. */
static CK_RV refuse_repeated_pin(const struct hpki_token *token, CK_USER_TYPE user)
{
	/* CKR_PIN_INVALID, not CKR_PIN_INCORRECT: NSS's pk11_CheckPassword asks its
	 * password callback again only on CKR_PIN_INCORRECT, and stops on anything else
	 * (reported as SEC_ERROR_BAD_PASSWORD); pkcs11-spec/README.md "Repeated PIN". */
	hpki_error("C_Login(%s): the card refused this same PIN last time; not sent again (CKR_PIN_INVALID)",
		   user == CKU_CONTEXT_SPECIFIC ? "CKU_CONTEXT_SPECIFIC" : "CKU_USER");
	(void)token;
	return CKR_PIN_INVALID;
}

/*
 * After this process reset the card itself (no SCARD_W_RESET_CARD comes back to
 * us): card logins are gone. A signature token's PKCS#11 login stays, as it is the
 * user's consent to be asked for each signature, not a card state (G31 B.4.5).
 */
static void after_own_reset(struct hpki_reader *r)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (r->tokens[i] != NULL) {
			if (!r->tokens[i]->always_authenticate)
				hpki_token_forget_login(r->tokens[i]);
			r->tokens[i]->card_login_ours = false;
		}
}

/* The watchdog: no signature came within the bound. The card is reset so that the
 * verification cannot be used by anyone else once the transaction ends. */
static void hold_expired(void *key)
{
	struct hpki_reader *r = key;

	if (!r->card.holding)
		return;
	hpki_error("no signature within %.0f s of the context login: transaction ended, card reset",
		   HPKI_HOLD_MAX_SECONDS);
	hpki_card_release_hold(&r->card, true);
	after_own_reset(r);
}

static void hold_started(struct hpki_token *token)
{
	struct hpki_reader *r = token->reader;

	if (!r->card.holding)
		return;
	r->hold_deadline = hpki_now() + HPKI_HOLD_MAX_SECONDS;
	if (!hpki_watchdog_arm(r, r->hold_deadline, hold_expired))
		hpki_info("no watchdog thread: the held transaction is bounded at the next call");
}

/* Without a watchdog thread (CKF_LIBRARY_CANT_CREATE_OS_THREADS) the bound is
 * enforced at the next call that reaches the token layer. */
void hpki_token_expire_hold(struct hpki_token *token)
{
	struct hpki_reader *r = token->reader;

	if (r->card.holding && hpki_now() >= r->hold_deadline)
		hold_expired(r);
}

/* Before the first VERIFY of a process: a PIN already locked is reported as such
 * without sending it (issue 8 §8). The empty VERIFY uses no try (G31 C.3.4). */
static void learn_pin_state(struct hpki_token *token)
{
	bool verified;

	if (token->pin_tries < 0 && !token->pin_locked && !token->reader->card.holding)
		read_pin_status(token, &verified);
}

static void note_verify_result(struct hpki_token *token, enum hpki_card_status status, int tries,
			       const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	token->pin_checked_at = hpki_now();
	if (status == HPKI_CARD_PIN_INCORRECT) {
		token->pin_tries = tries;
		hpki_pin_mark_refused(&token->refused_pin, pin, pin_len);
	} else if (status == HPKI_CARD_PIN_LOCKED) {
		token->pin_tries = 0;
		token->pin_locked = true;
		hpki_pin_mark_clear(&token->refused_pin);
	} else if (status == HPKI_CARD_OK) {
		token->pin_tries = HPKI_PIN_MAX_TRIES;
		token->card_login_ours = true;
		hpki_pin_mark_clear(&token->refused_pin);
	}
	token->pin_counter_current = status == HPKI_CARD_OK || status == HPKI_CARD_PIN_INCORRECT ||
				     status == HPKI_CARD_PIN_LOCKED;
}

CK_RV hpki_token_login(struct hpki_token *token, CK_USER_TYPE user, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	enum hpki_card_status status;
	struct hpki_card *card = &token->reader->card;
	int tries = -1;
	CK_RV rv;

	if (pin == NULL) /* no PIN pad: vpcd and HPKI readers offer none */
		return CKR_ARGUMENTS_BAD;
	/* Any new login attempt ends the consent of an earlier C_Login(CKU_USER): a PIN
	 * typed for this signature, right or wrong, is the user's answer now, and a wrong
	 * VERIFY also clears the card's verification. */
	token->user_login_consent = false;
	rv = check_pin(token, pin, pin_len);
	if (rv != CKR_OK) {
		hpki_error("C_Login: PIN of %lu characters rejected before sending (%s)", (unsigned long)pin_len,
			   rv == CKR_PIN_LEN_RANGE ? "length" : "characters");
		return rv;
	}
	if (hpki_pin_mark_matches(&token->refused_pin, pin, pin_len))
		return refuse_repeated_pin(token, user);
	learn_pin_state(token);
	if (token->pin_locked) {
		hpki_error("C_Login: PIN is locked on the card; nothing sent");
		return CKR_PIN_LOCKED;
	}
	/* Exactly one VERIFY; never repeated, whatever happens (hpki-card-facts §3: 15 tries).
	 * A context login keeps the transaction until its signature (issue 8 §2). */
	if (user == CKU_CONTEXT_SPECIFIC)
		status = hpki_card_verify_pin_held(card, token->app, pin, pin_len, &tries);
	else
		status = hpki_card_verify_pin(card, token->app, pin, pin_len, &tries);
	note_card_reset(token);
	note_application_selected(token);
	note_verify_result(token, status, tries, pin, pin_len);
	rv = hpki_rv_from_card(status, user == CKU_CONTEXT_SPECIFIC ? "C_Login(CKU_CONTEXT_SPECIFIC)"
								    : "C_Login(CKU_USER)");
	if (rv == CKR_OK && user == CKU_USER) {
		token->logged_in = true;
		token->user_login_consent = token->always_authenticate;
	}
	if (rv == CKR_OK && user == CKU_CONTEXT_SPECIFIC)
		hold_started(token);
	return rv;
}

/* Another token of this card still uses a card login of ours: a reset would end it. */
static bool sibling_login_in_use(const struct hpki_token *token)
{
	const struct hpki_token *sibling = sibling_of(token);

	return sibling != NULL && sibling->logged_in && sibling->card_login_ours;
}

static void end_card_logins(struct hpki_reader *r)
{
	size_t i;
	bool ours = r->card.holding;

	for (i = 0; i < 2; i++)
		if (r->tokens[i] != NULL && r->tokens[i]->card_login_ours)
			ours = true;
	if (!ours || !hpki_settings()->logout_reset)
		return;
	hpki_watchdog_disarm(r);
	if (r->card.holding)
		hpki_card_release_hold(&r->card, true);
	else
		(void)hpki_card_reset(&r->card);
	after_own_reset(r);
}

void hpki_token_logout(struct hpki_token *token)
{
	token->logged_in = false;
	token->user_login_consent = false;
	hpki_pin_mark_clear(&token->refused_pin);
	/* Logout means logout (issue 8 §2): the card's verified state that this process
	 * created ends too, unless the other application still uses one of ours. */
	if (!sibling_login_in_use(token))
		end_card_logins(token->reader);
}

void hpki_reader_release_hold(struct hpki_reader *r)
{
	size_t i;
	bool reset = hpki_settings()->logout_reset;

	if (!r->card.holding)
		return;
	hpki_watchdog_disarm(r);
	for (i = 0; i < 2; i++)
		if (r->tokens[i] != NULL && !r->tokens[i]->always_authenticate && r->tokens[i]->logged_in &&
		    r->tokens[i]->card_login_ours)
			reset = false; /* the other application's login is still in use */
	hpki_info("signing operation ended without its signature: transaction released%s",
		  reset ? ", card reset" : "");
	hpki_card_release_hold(&r->card, reset);
	if (reset)
		after_own_reset(r);
}

void hpki_reader_end_logins(struct hpki_reader *r)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (r->tokens[i] != NULL)
			hpki_pin_mark_clear(&r->tokens[i]->refused_pin);
	end_card_logins(r);
}

/*
 * The signing method is learnt at the first signature, not at enumeration (issue 11):
 * until then the token offers what an MSE + PSO card can do (every card seen so far,
 * facts §4.2), PSS included. A card that turns out to pad by itself (JMA 2019's
 * 80 2A 00 80) cannot make a PSS signature: the PSS mechanisms leave the mechanism
 * list and later C_SignInit calls (CKR_MECHANISM_INVALID; p11-crypto.c publishes the
 * list again); the signature that found out failed with CKR_FUNCTION_FAILED.
 */
static void note_sign_method(struct hpki_token *token)
{
	if (!token->caps.raw_rsa || token_app(token)->sign_method != HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO)
		return;
	token->caps.raw_rsa = false;
	hpki_info("token '%.32s': the card pads signatures itself; RSA-PSS mechanisms withdrawn",
		  (const char *)token->info.label);
}

CK_RV hpki_token_sign(struct hpki_token *token, enum hpki_sign_input kind, const uint8_t *input, size_t input_len,
		      uint8_t *signature, size_t *signature_len)
{
	enum hpki_card_status status;

	/* Any signature uses up the card's verification on a userConsent key. */
	token->user_login_consent = false;
	hpki_token_expire_hold(token);
	hpki_watchdog_disarm(token->reader);
	status = hpki_card_sign(&token->reader->card, token->app, kind, input, input_len, signature, signature_len);
	note_sign_method(token);
	note_card_reset(token);
	note_application_selected(token);
	if (status == HPKI_CARD_NOT_AUTHENTICATED && !token->always_authenticate)
		hpki_token_forget_login(token);
	/* userConsent: the signature consumed the card's verification (G31 B.4.5). */
	if (token->always_authenticate && status != HPKI_CARD_DATA_INVALID)
		token->card_login_ours = false;
	return hpki_rv_from_card(status, "C_Sign");
}
