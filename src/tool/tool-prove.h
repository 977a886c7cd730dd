/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-tool attend --prove: the card signs a fresh random challenge with its
 * authentication key, which needs the holder's PIN — evidence that someone who
 * knows the PIN was there, which reading the public certificate is not.
 */
#ifndef HPKI_TOOL_PROVE_H
#define HPKI_TOOL_PROVE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "card.h"

/* Asks the PIN (terminal, or one line from pin_fd), signs a 32-byte random challenge
 * with application `app`, checks the signature with the certificate's key, and writes
 * the outcome for the CSV into `out` ("signed", "wrong PIN (N tries left)", …). */
void hpki_tool_prove(struct hpki_card *card, size_t app, X509 *cert, int pin_fd, char *out, size_t cap);

#endif
