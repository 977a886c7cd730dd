/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool: what a holder wants to know about an HPKI certificate — names,
 * qualification (hcRole), issuer, serial, validity and key size.
 */
#ifndef HPKI_TOOL_CERT_H
#define HPKI_TOOL_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

/* HPKI certificates are renewed every two years; warn from 90 days before expiry. */
#define HPKI_TOOL_RENEWAL_DAYS 90

struct hpki_tool_cert {
	char name_kanji[256];  /* CN of the directoryName in subjectAltName (facts §7) */
	char name_roman[256];  /* subject CN */
	char role[128];        /* hcRole codeDataFreeText, "" when the certificate has none */
	char role_scheme[64];  /* hcRole codingSchemeReference (1.2.392.100495.1.6.1.1) */
	char issuer[256];      /* issuer CN */
	char serial[80];       /* hex, upper case */
	time_t not_before, not_after;
	long days_left;        /* whole days until not_after; negative once expired */
	bool expired, not_yet_valid, renewal_due;
	int key_bits;
};

/* Fills *info from the certificate at time `now`; false when it cannot be parsed. */
bool hpki_tool_cert_describe(X509 *x, time_t now, struct hpki_tool_cert *info);
bool hpki_tool_cert_describe_der(const uint8_t *der, size_t len, time_t now, struct hpki_tool_cert *info);
/* "YYYY-MM-DD" in local time. */
void hpki_tool_date(time_t t, char *buf, size_t cap);
/* The date as the user's language writes it (ja: 2045年01月01日). */
void hpki_tool_date_human(time_t t, char *buf, size_t cap);
/* "YYYY-MM-DDTHH:MM:SS±hh:mm" in local time. */
void hpki_tool_timestamp(time_t t, char *buf, size_t cap);

#endif
