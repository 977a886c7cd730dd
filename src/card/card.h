/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPKI card driver: APDUs, application discovery, ISO 7816-15 directories,
 * PIN verification and signatures. Speaks to a reader through the transport ops
 * table; knows nothing of PKCS#11 (the token layer maps hpki_card_status to CK_RV).
 *
 * Every public function that talks to the card runs inside one PC/SC transaction
 * and first re-selects the application it needs, because another process may
 * have selected the other application in between (G31 §5.3.3: cards may offer the
 * basic logical channel only).
 */
#ifndef HPKI_CARD_H
#define HPKI_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "hpki/card-defs.h"
#include "hpki/cio.h"
#include "apdu.h"
#include "card-status.h"
#include "transport.h"

enum hpki_app_role {
	HPKI_ROLE_UNKNOWN = 0,
	HPKI_ROLE_SIGNATURE,      /* 電子署名用: nonRepudiation key, PIN before every signature */
	HPKI_ROLE_AUTHENTICATION, /* 電子認証用: PIN once per session */
};

enum hpki_sign_method {
	HPKI_SIGN_METHOD_UNKNOWN = 0,
	/* ISO MSE SET + PSO CDS; the host builds the whole k-byte block, the card does raw
	 * RSA (G31 A.3.3, C.6.1 "パディングはカード外で行う"). Enables PSS. */
	HPKI_SIGN_METHOD_PSO_RAW,
	/* JMA 2019: SELECT key EF, then 80 2A 00 80 with a DigestInfo; the card pads. */
	HPKI_SIGN_METHOD_LEGACY_DIGEST_INFO,
};

enum hpki_sign_input {
	HPKI_SIGN_INPUT_DIGEST_INFO, /* PKCS#1 v1.5 payload (≤ k−11 bytes); padded by host or card */
	HPKI_SIGN_INPUT_RAW_BLOCK,   /* exactly k bytes, already encoded (PSS); PSO_RAW only */
};

/* Where one DER element (its whole TLV) lies within a certificate's DER (at most
 * HPKI_APDU_MAX_RESPONSE bytes); 32 bits keep struct hpki_card small, which the
 * slot table holds per reader. */
struct hpki_der_slice {
	uint32_t offset, len;
};

struct hpki_cert {
	struct hpki_cd_cert info;
	uint8_t *der;
	size_t der_len;
	/* Found once when read (card-cert.c), without parsing the certificate into an
	 * X509 (issue 11: that was most of the CPU of an enumeration). is_x509 false: not
	 * a DER X.509 certificate, and the slices mean nothing. */
	bool is_x509;
	struct hpki_der_slice serial, issuer, not_before, not_after, subject;
	struct hpki_der_slice spki, spki_algorithm, spki_key; /* SubjectPublicKeyInfo and its two parts */
	struct hpki_der_slice tbs, signature_algorithm, signature; /* what the issuer signed, how, and its signature */
	struct hpki_der_slice extensions;                           /* len 0: none */
};

#define HPKI_APP_MAX_CERTS 8
#define HPKI_CARD_MAX_APPS 4

struct hpki_app {
	enum hpki_app_role role;
	uint8_t aid[HPKI_AID_MAX_LEN];
	size_t aid_len;
	struct hpki_aod_pin pin;
	struct hpki_prkd_key key;
	bool has_key;
	struct hpki_cert certs[HPKI_APP_MAX_CERTS];
	size_t cert_count;
	bool from_directories;      /* false: fell back to the known JMA layout */
	enum hpki_sign_method sign_method;
	EVP_PKEY *public_key;      /* of the key's certificate, or NULL */
	bool mse_form_known;        /* the MSE SET form the card accepted for this key */
	int mse_form;
	/* The PIN counter read inside the enumeration's transaction, while the application
	 * was selected anyway (issue 11: no SELECT of its own for it). */
	bool pin_status_read;
	bool pin_locked;
	int pin_tries_left;         /* -1: the card keeps it to itself */
};

struct hpki_card {
	struct hpki_card_link link; /* reader, connection, APDU counters (apdu.h) */
	uint8_t atr[HPKI_ATR_MAX];
	size_t atr_len;
	bool extended_length;   /* from ATR card capabilities, else learnt from the card */
	/* True once extended_length/command_chaining are known (ATR card capabilities,
	 * ISO 7816-4 §8.1.1.2.7, or learnt from the first extended READ BINARY);
	 * command chaining is in link. */
	bool capabilities_known;
	bool capabilities_from_atr; /* stated by the ATR, not learnt */
	/* How a PSO with a block over 255 bytes gets through: learnt per command kind,
	 * since a card may take extended length for PSO but not for READ BINARY. */
	enum hpki_pso_form { HPKI_PSO_FORM_UNKNOWN = 0, HPKI_PSO_FORM_EXTENDED, HPKI_PSO_FORM_CHAINED } pso_form;
	bool select_without_fci;   /* the card refused the FCI of SELECT DF: use P2=0C */
	/* Which application is current on the card, as far as this process knows:
	 * index + 1 (0 = unknown), the transaction and the reset count it was selected in. */
	size_t selected_app;
	unsigned long selected_transaction;
	unsigned long selected_reset_count;
	unsigned long transaction_count; /* PC/SC transactions begun since attach */
	/* The application (index + 1, 0 = none) whose key this process last set with MSE
	 * SET, with no SELECT since, and the reset count then: a PSO on it needs no MSE
	 * again, checked like a trusted selection (the signature is verified). */
	size_t mse_set_for;
	unsigned long mse_reset_count;
	struct hpki_app apps[HPKI_CARD_MAX_APPS];
	size_t app_count;
	/* A PC/SC transaction is still open after a verification (hpki_card_verify_pin_held):
	 * the next operation runs inside it and ends it. */
	bool holding;
	/* Roles the caller shows (HPKI_ROLE_BIT; 0 = all): an application whose AID names
	 * another role is neither selected nor read (issue 11: read only what is shown). */
	unsigned roles_wanted;
	/* The per-user card cache (card-cache.h), NULL when off; set by the caller. */
	const char *cache_dir;
	bool from_cache;           /* this enumeration was proven against the cache */
	/* Warm start (doc/card-cache.md): set by the caller to let an enumeration use a
	 * cache entry with no APDU at all when a process of this user proved it on this
	 * very stay of the card in the reader (same stay mark, transport.h). */
	bool warm_start;
	bool from_stay;            /* this enumeration sent nothing: the stay proved it */
	/* The cache entry the applications came from or went to (name, content digest),
	 * and the stay mark it was proven under; empty when none. */
	char cache_entry[65];
	uint8_t cache_entry_digest[32];
	uint8_t stay[HPKI_STAY_MARK_LEN];
	bool stay_known;
};

#define HPKI_ROLE_BIT(role) (1u << (unsigned)(role))
#define HPKI_ROLES_ALL 0u

/* What one enumeration, and one other card operation, may cost (card.c). */
extern const struct hpki_apdu_budget hpki_card_budget_enumeration;
extern const struct hpki_apdu_budget hpki_card_budget_operation;

/* Connects to the card in `reader`; no APDU is sent. */
enum hpki_card_status hpki_card_attach(struct hpki_card *card, const struct hpki_transport_ops *ops,
				       void *context, const char *reader);
/* Disconnects and frees everything read from the card. Safe on a zeroed card. */
void hpki_card_detach(struct hpki_card *card);

/* Discovers the HPKI applications and reads, per application, EF.OD,
 * EF.AOD, EF.PrKD, EF.CD and every certificate EF.CD names; one transaction. */
enum hpki_card_status hpki_card_enumerate(struct hpki_card *card);
/* The same for the roles in `roles` only (HPKI_ROLE_BIT mask, HPKI_ROLES_ALL = every
 * one). An application whose role only its directories tell (an AID not ending in
 * 0001/0002) is read and left for the caller to filter. HPKI_CARD_NOT_HPKI when no
 * wanted application answers. */
enum hpki_card_status hpki_card_enumerate_roles(struct hpki_card *card, unsigned roles);

/* The same for one application only (HPKI_ROLE_SIGNATURE or _AUTHENTICATION), selected
 * by its well-known AID; apps[0] on success, HPKI_CARD_NOT_HPKI when it does not answer. */
enum hpki_card_status hpki_card_enumerate_role(struct hpki_card *card, enum hpki_app_role role);

/* PIN state from an empty VERIFY (no try used, G31 C.3.4): *verified true on 9000,
 * else *tries_left from 63Cx; HPKI_CARD_PIN_LOCKED when blocked. */
enum hpki_card_status hpki_card_pin_status(struct hpki_card *card, size_t app, bool *verified,
					   int *tries_left);

/* Exactly one VERIFY with the PIN (never repeated by the driver). The caller has
 * checked length and characters. On HPKI_CARD_PIN_INCORRECT *tries_left is set. */
enum hpki_card_status hpki_card_verify_pin(struct hpki_card *card, size_t app, const uint8_t *pin,
					   size_t pin_len, int *tries_left);

/* Like hpki_card_verify_pin, but on success the PC/SC transaction stays open, so no
 * other process can reach the card before the next operation (the signature this
 * verification authorises), which runs inside it and ends it. The caller bounds the
 * hold and ends it with hpki_card_release_hold when no operation comes. */
enum hpki_card_status hpki_card_verify_pin_held(struct hpki_card *card, size_t app, const uint8_t *pin,
						size_t pin_len, int *tries_left);
/* Ends a held transaction; with `reset`, resets the card so the verification dies. */
void hpki_card_release_hold(struct hpki_card *card, bool reset);

/* Begins and ends a transaction, no APDU: learns whether another process reset the
 * card (then link.was_reset is set). */
enum hpki_card_status hpki_card_probe_reset(struct hpki_card *card);

/* Resets the card: every application's verified PIN ends, for every process. */
enum hpki_card_status hpki_card_reset(struct hpki_card *card);

/* Signs with the application's key. *sig_len in: capacity, out: length. */
enum hpki_card_status hpki_card_sign(struct hpki_card *card, size_t app, enum hpki_sign_input kind,
				     const uint8_t *input, size_t input_len, uint8_t *sig, size_t *sig_len);


/* card-cert.c: the certificate's RSA public key (a new reference), NULL when it is
 * not X.509 or its key is not RSA. Built without OpenSSL's provider decoders. */
EVP_PKEY *hpki_card_cert_public_key(const struct hpki_cert *cert);
/* The RSA key's modulus and public exponent (RFC 8017 §A.1.1) as unsigned big-endian
 * bytes without leading zeros (PKCS#11 big integers); *_len in: capacity, out: length.
 * False when the key is not RSA or a number does not fit. */
bool hpki_card_cert_rsa_numbers(const struct hpki_cert *cert, uint8_t *modulus, size_t *modulus_len,
				uint8_t *exponent, size_t *exponent_len);
/* The subject's first attribute of type `nid` (e.g. NID_commonName) as its bytes,
 * cut to size − 1 and terminated, as X509_NAME_get_text_by_NID gives it; false when
 * there is none or it is empty. */
bool hpki_card_cert_subject_text(const struct hpki_cert *cert, int nid, char *out, size_t size);
/* SHA-1 of the subjectPublicKey bits, the value of X509_pubkey_digest (NSS's key ID,
 * CKA_HASH_OF_SUBJECT_PUBLIC_KEY). */
bool hpki_card_cert_key_digest(const struct hpki_cert *cert, uint8_t out[20]);
/* Whether `subject` names `issuer` as its issuer: the issuer Name is the issuer's
 * subject Name byte for byte and the authorityKeyIdentifier is the issuer's key
 * identifier (RFC 5280 §4.2.1.1-2). Identifies, does not verify: no signature. */
bool hpki_card_cert_names_issuer(const struct hpki_cert *subject, const struct hpki_cert *issuer);
/* Whether `issuer` issued `subject`: names match byte for byte and the issuer's key
 * verifies the subject's signature (an RSA signature with a digest; else false). */
bool hpki_card_cert_issued(const struct hpki_cert *issuer, const struct hpki_cert *subject);

#endif
