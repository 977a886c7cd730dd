/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "watchdog.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "settings.h"

#define WATCHDOG_MAX 16

struct entry {
	void *key;
	double deadline;
	hpki_watchdog_fn fn;
};

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool cond_ready;
static pthread_t thread;
static bool running, stopping, allowed;
static pid_t owner;
static struct entry entries[WATCHDOG_MAX];
static bool (*global_lock)(void);
static void (*global_unlock)(void);

void hpki_watchdog_init(bool (*lock)(void), void (*unlock)(void), bool threads_allowed)
{
	if (owner != getpid()) {
		/* A forked child has no watchdog thread: start from nothing. */
		pthread_mutex_init(&mutex, NULL);
		running = false;
		cond_ready = false;
		memset(entries, 0, sizeof entries);
		owner = getpid();
	}
	global_lock = lock;
	global_unlock = unlock;
	allowed = threads_allowed;
}

/* The earliest deadline, or 0 when none. */
static double next_deadline(void)
{
	double next = 0;

	for (size_t i = 0; i < WATCHDOG_MAX; i++)
		if (entries[i].key != NULL && (next == 0 || entries[i].deadline < next))
			next = entries[i].deadline;
	return next;
}

/* Takes one due entry out of the table (under `mutex`). */
static bool take_due(struct entry *out)
{
	double now = hpki_now();

	for (size_t i = 0; i < WATCHDOG_MAX; i++)
		if (entries[i].key != NULL && entries[i].deadline <= now) {
			*out = entries[i];
			memset(&entries[i], 0, sizeof entries[i]);
			return true;
		}
	return false;
}

static void wait_until(double deadline)
{
	struct timespec ts;
	double wait = deadline == 0 ? 3600 : deadline - hpki_now();

	if (wait <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)wait;
	ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&cond, &mutex, &ts);
}

static void *watchdog_main(void *unused)
{
	struct entry due;

	(void)unused;
	pthread_mutex_lock(&mutex);
	while (!stopping) {
		if (!take_due(&due)) {
			wait_until(next_deadline());
			continue;
		}
		pthread_mutex_unlock(&mutex);
		/* The global lock first, never while holding ours (arm/disarm run under it). */
		if (global_lock()) {
			due.fn(due.key);
			global_unlock();
		}
		pthread_mutex_lock(&mutex);
	}
	pthread_mutex_unlock(&mutex);
	return NULL;
}

static bool start_thread(void)
{
	pthread_condattr_t attr;

	if (running)
		return true;
	if (!allowed)
		return false;
	if (!cond_ready) {
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&cond, &attr);
		pthread_condattr_destroy(&attr);
		cond_ready = true;
	}
	stopping = false;
	if (pthread_create(&thread, NULL, watchdog_main, NULL) != 0) {
		hpki_error("cannot start the watchdog thread: held transactions end at the next call");
		return false;
	}
	running = true;
	return true;
}

bool hpki_watchdog_arm(void *key, double deadline, hpki_watchdog_fn fn)
{
	size_t i, free_slot = WATCHDOG_MAX;
	bool ok;

	pthread_mutex_lock(&mutex);
	for (i = 0; i < WATCHDOG_MAX; i++) {
		if (entries[i].key == key || (entries[i].key == NULL && free_slot == WATCHDOG_MAX))
			free_slot = i;
		if (entries[i].key == key)
			break;
	}
	ok = free_slot < WATCHDOG_MAX && start_thread();
	if (ok) {
		entries[free_slot] = (struct entry){ .key = key, .deadline = deadline, .fn = fn };
		pthread_cond_signal(&cond);
	}
	pthread_mutex_unlock(&mutex);
	return ok;
}

void hpki_watchdog_disarm(void *key)
{
	pthread_mutex_lock(&mutex);
	for (size_t i = 0; i < WATCHDOG_MAX; i++)
		if (entries[i].key == key)
			memset(&entries[i], 0, sizeof entries[i]);
	pthread_mutex_unlock(&mutex);
}

void hpki_watchdog_stop(void)
{
	bool join;

	pthread_mutex_lock(&mutex);
	join = running && owner == getpid();
	stopping = true;
	memset(entries, 0, sizeof entries);
	if (join)
		pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mutex);
	if (join)
		pthread_join(thread, NULL);
	running = false;
}
