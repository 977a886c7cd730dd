/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static int log_level;
static FILE *log_stream;
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

static void log_setup(void)
{
	const char *level = getenv("HPKI_PKCS11_DEBUG");
	const char *file = getenv("HPKI_PKCS11_DEBUG_FILE");

	if (level == NULL || *level == '\0')
		return;
	log_level = atoi(level);
	if (log_level <= 0)
		return;
	log_stream = stderr;
	if (file != NULL && *file != '\0') {
		FILE *f = fopen(file, "ae");
		if (f != NULL) {
			setvbuf(f, NULL, _IOLBF, 0);
			log_stream = f;
		}
	}
}

void hpki_log_init(void)
{
	pthread_once(&log_once, log_setup);
}

void hpki_log_after_fork(void)
{
	static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	memcpy(&log_mutex, &fresh, sizeof fresh);
}

int hpki_log_enabled(enum hpki_log_level level)
{
	hpki_log_init();
	return log_level >= (int)level;
}

static void log_prefix(FILE *f, const char *func)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "hpki-pkcs11[%ld] %ld.%03ld %s: ", (long)getpid(), (long)ts.tv_sec,
		ts.tv_nsec / 1000000, func);
}

void hpki_log_write(enum hpki_log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (!hpki_log_enabled(level))
		return;
	pthread_mutex_lock(&log_mutex);
	log_prefix(log_stream, func);
	va_start(ap, fmt);
	vfprintf(log_stream, fmt, ap);
	va_end(ap);
	fputc('\n', log_stream);
	fflush(log_stream);
	pthread_mutex_unlock(&log_mutex);
}

/* A command APDU is VERIFY when INS is 20 (any CLA); its data is the PIN. */
static int is_verify_with_data(const uint8_t *apdu, size_t len)
{
	return len > 5 && apdu[1] == 0x20;
}

void hpki_log_apdu(char direction, const uint8_t *apdu, size_t len)
{
	size_t shown = len;
	size_t i;

	if (!hpki_log_enabled(HPKI_LOG_APDU))
		return;
	if (direction == '>' && is_verify_with_data(apdu, len))
		shown = 5; /* header and Lc only: never the PIN */
	pthread_mutex_lock(&log_mutex);
	log_prefix(log_stream, "apdu");
	fprintf(log_stream, "%c (%zu bytes)", direction, len);
	for (i = 0; i < shown; i++)
		fprintf(log_stream, " %02X", apdu[i]);
	if (shown < len)
		fputs(" ** (PIN redacted)", log_stream);
	fputc('\n', log_stream);
	fflush(log_stream);
	pthread_mutex_unlock(&log_mutex);
}
