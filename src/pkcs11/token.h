/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The token model: readers → slots (one per card application role) → tokens with
 * their objects. Built from what the card driver read; card status codes become
 * CK_RV here, and only here (hpki_rv_from_card).
 */
#ifndef HPKI_TOKEN_H
#define HPKI_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "card.h"
#include "mechanism.h"
#include "pin-guard.h"
#include "settings.h"

#define HPKI_MAX_READERS 16
#define HPKI_MAX_OBJECTS (3 + HPKI_APP_MAX_CERTS)
/* Open sessions of the process, all tokens together (session.c's table);
 * CK_TOKEN_INFO.ulMaxSessionCount reports it. */
#define HPKI_MAX_SESSIONS 256

struct hpki_object {
	CK_OBJECT_HANDLE handle;
	CK_OBJECT_CLASS klass;
	CK_ATTRIBUTE *attrs; /* values owned by the object */
	size_t attr_count;
};

struct hpki_reader;

struct hpki_token {
	struct hpki_reader *reader;
	size_t app;                 /* index into reader->card.apps */
	uint64_t generation;        /* changes with every card insertion: stale sessions die */
	CK_TOKEN_INFO info;
	struct hpki_object objects[HPKI_MAX_OBJECTS];
	size_t object_count;
	CK_OBJECT_HANDLE private_key;
	struct hpki_key_caps caps;
	bool always_authenticate;   /* userConsent: PIN before every signature (G31 B.4.5) */
	bool logged_in;             /* CKU_USER, for every session of this token (PKCS#11 2.40 §5.6) */
	/* userConsent keys: the VERIFY of a C_Login(CKU_USER) not yet used by a signature.
	 * Software written from JAHIS G31 A.4 and the MEDIS sample logs in, signs and logs
	 * out per signature without a context-specific login; that fresh VERIFY is the
	 * consent the card asks for (card-fidelity §1.3, §5). */
	bool user_login_consent;
	int pin_tries;              /* last known; -1 unknown */
	bool pin_locked;
	double pin_checked_at;
	struct hpki_pin_mark refused_pin; /* the PIN the card refused last (keyed hash only) */
	bool card_login_ours;       /* a VERIFY of this process succeeded and may still hold on the card */
	/* The counter is current: read at enumeration or by our own VERIFY, and no reset
	 * since. C_GetTokenInfo then sends nothing (issue 11: polling costs 0 APDUs). */
	bool pin_counter_current;
};

struct hpki_reader {
	char name[HPKI_READER_NAME_MAX];
	bool attached_to_system;    /* still listed by PC/SC */
	bool card_present;
	uint32_t event_count;
	bool card_read;             /* enumerate() succeeded, or failed for good, for this card */
	enum hpki_card_status read_status;
	unsigned read_failures;     /* transient failures for this card (bounded retries) */
	double retry_at;
	struct hpki_card card;
	uint64_t generation;
	struct hpki_token *tokens[2]; /* by slot role index */
	double hold_deadline;       /* when card.holding: end of the bounded hold */
	bool event_pending[2];
};

/* Slots: reader r owns IDs r*HPKI_SLOTS_PER_READER + role index. */
#define HPKI_SLOTS_PER_READER ((HPKI_BUILD_APPS == HPKI_BUILD_ALL) ? 2 : 1)

/* ---- tokens (token.c) ------------------------------------------------------- */
struct hpki_token *hpki_token_new(struct hpki_reader *reader, size_t app, uint64_t generation);
void hpki_token_free(struct hpki_token *token);
CK_RV hpki_token_info(struct hpki_token *token, bool context_login_pending, CK_TOKEN_INFO *info);
struct hpki_object *hpki_token_object(struct hpki_token *token, CK_OBJECT_HANDLE handle);
/* Marks the token logged out (card reset, state lost); sessions follow. */
void hpki_token_forget_login(struct hpki_token *token);
/* Uses up the consent of a fresh C_Login(CKU_USER) on a userConsent key: true once
 * per such login, for the next signature. */
bool hpki_token_take_user_login_consent(struct hpki_token *token);
/* Refreshes login truth for tokens that keep a card-side login (no userConsent).
 * context_login_pending: a session of this token is between a context-specific
 * login and its signature (the session layer knows; the card must not be touched). */
void hpki_token_check_login(struct hpki_token *token, bool context_login_pending);
/* C_Logout, last session closed: ends this process's login, on the card too when
 * configured (HPKI_PKCS11_LOGOUT_RESET, pkcs11-spec/README.md "Logout"). */
void hpki_token_logout(struct hpki_token *token);
/* True when any application of the token's card holds a login of this process. */
bool hpki_token_card_has_login(const struct hpki_token *token);
/* C_Finalize, card dropped: ends every card login of this process on that card. */
void hpki_reader_end_logins(struct hpki_reader *r);
/* A signing operation ended without the signature its context login was for. */
void hpki_reader_release_hold(struct hpki_reader *r);
/* Ends a held transaction that outlived its bound (when no watchdog thread runs). */
void hpki_token_expire_hold(struct hpki_token *token);
CK_RV hpki_token_login(struct hpki_token *token, CK_USER_TYPE user, const CK_UTF8CHAR *pin, CK_ULONG pin_len);
CK_RV hpki_token_sign(struct hpki_token *token, enum hpki_sign_input kind, const uint8_t *input, size_t input_len,
		      uint8_t *signature, size_t *signature_len);

/* The one place card status becomes CK_RV; logs the source. */
CK_RV hpki_rv_from_card(enum hpki_card_status status, const char *what);

/* ---- objects (object.c) ----------------------------------------------------- */
/* Builds the token's objects from the application's certificates and key. */
CK_RV hpki_objects_build(struct hpki_token *token);
void hpki_objects_free(struct hpki_token *token);
bool hpki_object_matches(const struct hpki_object *object, const CK_ATTRIBUTE *template, CK_ULONG count);
CK_RV hpki_object_get_attributes(const struct hpki_object *object, CK_ATTRIBUTE *template, CK_ULONG count);
const CK_ATTRIBUTE *hpki_object_attribute(const struct hpki_object *object, CK_ATTRIBUTE_TYPE type);
/* PKCS#11 2.40 §4.4: a CKA_PRIVATE object is visible only while the user is logged in. */
bool hpki_object_visible(const struct hpki_token *token, const struct hpki_object *object);
/* The object behind a handle if the session may see it now; NULL otherwise. */
struct hpki_object *hpki_token_visible_object(struct hpki_token *token, CK_OBJECT_HANDLE handle);
CK_ULONG hpki_object_size(const struct hpki_object *object);

/* Copies text into a blank-padded fixed field, cutting at a UTF-8 character boundary. */
void hpki_pad_field(CK_UTF8CHAR *field, size_t size, const char *text);

#endif
