/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Debug log of the module, switched on by the environment:
 *   HPKI_PKCS11_DEBUG=1  errors and warnings, 2 + calls and card events, 3 + APDU trace
 *   HPKI_PKCS11_DEBUG_FILE=/path  append to a file instead of stderr
 * APDU traces never show PIN bytes: VERIFY command data is replaced by "**".
 */
#ifndef HPKI_LOG_H
#define HPKI_LOG_H

#include <stddef.h>
#include <stdint.h>

enum hpki_log_level {
	HPKI_LOG_ERROR = 1,
	HPKI_LOG_INFO = 2,
	HPKI_LOG_APDU = 3,
};

/* Reads the environment once; later calls are no-ops. */
void hpki_log_init(void);
int hpki_log_enabled(enum hpki_log_level level);
void hpki_log_write(enum hpki_log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* In a forked child: the log lock may have been held by a parent's thread. */
void hpki_log_after_fork(void);
/* Traces an APDU: '>' command, '<' response. Redacts VERIFY data. */
void hpki_log_apdu(char direction, const uint8_t *apdu, size_t len);

#define hpki_error(...) hpki_log_write(HPKI_LOG_ERROR, __func__, __VA_ARGS__)
#define hpki_info(...)                                                   \
	do {                                                             \
		if (hpki_log_enabled(HPKI_LOG_INFO))                     \
			hpki_log_write(HPKI_LOG_INFO, __func__, __VA_ARGS__); \
	} while (0)

#endif
