/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO/IEC 7816-15 cryptographic information objects (CIOs), the subset an HPKI
 * application uses (G31 annex B): EF.CIAInfo, EF.OD, EF.AOD (password objects),
 * EF.PrKD (RSA private keys) and EF.CD (X.509 certificates).
 *
 * The DER is produced and parsed with OpenSSL's ASN.1 templates (src/cio/cio.c);
 * callers see plain C structs only. Encoders are used by the virtual card, decoders
 * by the module's card driver.
 *
 * A directory EF holds a concatenation of DER values, possibly followed by 00 or FF
 * padding up to the file size (ISO 7816-15 §8.2); decoders stop at the padding.
 */
#ifndef HPKI_CIO_H
#define HPKI_CIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPKI_CIO_LABEL_MAX 64
#define HPKI_CIO_ID_MAX 32
#define HPKI_CIO_PATH_MAX 16

/* Result of every codec call. */
enum hpki_cio_status {
	HPKI_CIO_OK = 0,
	HPKI_CIO_MALFORMED = -1, /* not valid DER for the expected structure */
	HPKI_CIO_TOO_MANY = -2,  /* more entries than the caller's array holds */
	HPKI_CIO_NO_MEMORY = -3,
	HPKI_CIO_TOO_LARGE = -4, /* a field exceeds the fixed bounds above */
};

/*
 * Path ::= SEQUENCE { efidOrPath OCTET STRING, index INTEGER OPTIONAL,
 *                     length [0] INTEGER OPTIONAL }
 * efidOrPath of 1 byte is a short EF identifier shifted left by 3 (G31 B.4.3),
 * of 2 bytes a file identifier under the current DF, longer a path.
 */
struct hpki_cio_path {
	uint8_t efid_or_path[HPKI_CIO_PATH_MAX];
	size_t len;
};

/* True when the path is a short EF identifier; *sfi receives it. */
bool hpki_cio_path_is_sfi(const struct hpki_cio_path *path, uint8_t *sfi);
/* True when the path is a 2-byte file identifier; *fid receives it. */
bool hpki_cio_path_is_fid(const struct hpki_cio_path *path, uint16_t *fid);
void hpki_cio_path_set_sfi(struct hpki_cio_path *path, uint8_t sfi);
void hpki_cio_path_set_fid(struct hpki_cio_path *path, uint16_t fid);

/* CIAInfo ::= SEQUENCE { version, serialNumber OCTET STRING OPTIONAL,
 *   manufacturerID UTF8String OPTIONAL, label [0] UTF8String OPTIONAL, cardflags BIT STRING, … } */
#define HPKI_CIA_FLAG_READONLY 0x1u
#define HPKI_CIA_FLAG_AUTH_REQUIRED 0x2u
#define HPKI_CIA_FLAG_PRN_GENERATION 0x4u
struct hpki_cia_info {
	long version;
	uint8_t serial[HPKI_CIO_ID_MAX];
	size_t serial_len;
	char manufacturer[HPKI_CIO_LABEL_MAX + 1];
	char label[HPKI_CIO_LABEL_MAX + 1];
	uint32_t card_flags; /* HPKI_CIA_FLAG_* (bit n of the BIT STRING = 1u << n) */
};

/* CIOChoice tags of EF.OD (ISO 7816-15 §8.4). */
enum hpki_od_kind {
	HPKI_OD_PRIVATE_KEYS = 0,
	HPKI_OD_PUBLIC_KEYS = 1,
	HPKI_OD_TRUSTED_PUBLIC_KEYS = 2,
	HPKI_OD_SECRET_KEYS = 3,
	HPKI_OD_CERTIFICATES = 4,
	HPKI_OD_TRUSTED_CERTIFICATES = 5,
	HPKI_OD_USEFUL_CERTIFICATES = 6,
	HPKI_OD_DATA_CONTAINERS = 7,
	HPKI_OD_AUTH_OBJECTS = 8,
};
struct hpki_od_entry {
	enum hpki_od_kind kind;
	struct hpki_cio_path path;
};

/* Password authentication object (EF.AOD, G31 B.4.4). */
#define HPKI_PWD_FLAG_CASE_SENSITIVE 0x1u
#define HPKI_PWD_FLAG_LOCAL 0x2u
#define HPKI_PWD_FLAG_CHANGE_DISABLED 0x4u
#define HPKI_PWD_FLAG_UNBLOCK_DISABLED 0x8u
#define HPKI_PWD_FLAG_INITIALIZED 0x10u
#define HPKI_PWD_FLAG_NEEDS_PADDING 0x20u
enum hpki_pwd_type { HPKI_PWD_BCD = 0, HPKI_PWD_ASCII_NUMERIC = 1, HPKI_PWD_UTF8 = 2 };
struct hpki_aod_pin {
	char label[HPKI_CIO_LABEL_MAX + 1];
	bool private_object;            /* CommonObjectFlags.private */
	uint8_t auth_id[HPKI_CIO_ID_MAX];
	size_t auth_id_len;
	uint32_t pwd_flags;             /* HPKI_PWD_FLAG_* */
	enum hpki_pwd_type pwd_type;
	unsigned min_length;
	unsigned stored_length;
	unsigned max_length;            /* 0 when absent */
	unsigned pwd_reference;         /* VERIFY P2 (G31 C.3) */
	bool has_pad_char;
	uint8_t pad_char;
};

/* RSA private key object (EF.PrKD, G31 B.4.5). */
#define HPKI_KEY_USAGE_ENCRYPT 0x1u
#define HPKI_KEY_USAGE_DECRYPT 0x2u
#define HPKI_KEY_USAGE_SIGN 0x4u
#define HPKI_KEY_USAGE_SIGN_RECOVER 0x8u
#define HPKI_KEY_USAGE_NON_REPUDIATION 0x200u
struct hpki_prkd_key {
	char label[HPKI_CIO_LABEL_MAX + 1];
	bool private_object;
	uint8_t auth_id[HPKI_CIO_ID_MAX];
	size_t auth_id_len;
	long user_consent;              /* 0 when absent; >0 = PIN before every use */
	uint8_t id[HPKI_CIO_ID_MAX];
	size_t id_len;
	uint32_t usage;                 /* HPKI_KEY_USAGE_* (bit n = 1u << n) */
	bool has_key_reference;
	long key_reference;
	struct hpki_cio_path path;
	unsigned modulus_bits;
};

/* X.509 certificate object (EF.CD, G31 B.4.6). */
struct hpki_cd_cert {
	char label[HPKI_CIO_LABEL_MAX + 1];
	uint8_t id[HPKI_CIO_ID_MAX];
	size_t id_len;
	bool authority;
	struct hpki_cio_path path;
};

/* Encoders: *der is allocated with OPENSSL_malloc; free with OPENSSL_free. */
int hpki_cio_encode_cia_info(const struct hpki_cia_info *info, uint8_t **der, size_t *der_len);
int hpki_cio_encode_od(const struct hpki_od_entry *entries, size_t count, uint8_t **der, size_t *der_len);
int hpki_cio_encode_aod(const struct hpki_aod_pin *pins, size_t count, uint8_t **der, size_t *der_len);
int hpki_cio_encode_prkd(const struct hpki_prkd_key *keys, size_t count, uint8_t **der, size_t *der_len);
int hpki_cio_encode_cd(const struct hpki_cd_cert *certs, size_t count, uint8_t **der, size_t *der_len);

/* Decoders: fill at most `max` entries, set *count; unknown CIO choices are skipped. */
int hpki_cio_decode_cia_info(const uint8_t *der, size_t der_len, struct hpki_cia_info *info);
int hpki_cio_decode_od(const uint8_t *der, size_t der_len, struct hpki_od_entry *entries, size_t max, size_t *count);
int hpki_cio_decode_aod(const uint8_t *der, size_t der_len, struct hpki_aod_pin *pins, size_t max, size_t *count);
int hpki_cio_decode_prkd(const uint8_t *der, size_t der_len, struct hpki_prkd_key *keys, size_t max, size_t *count);
int hpki_cio_decode_cd(const uint8_t *der, size_t der_len, struct hpki_cd_cert *certs, size_t max, size_t *count);

const char *hpki_cio_status_text(int status);

#endif
