/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "concurrent.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "log.h"

/* Enough for the card library, which keeps its APDU buffers on the heap; some C
 * libraries (musl: 128 KiB) give threads far smaller stacks than the main one. */
#define HPKI_JOB_STACK (512 * 1024)

struct job_thread {
	pthread_t thread;
	bool started;
	void (*run)(void *job);
	void *job;
};

static void *job_main(void *arg)
{
	struct job_thread *t = arg;

	t->run(t->job);
	return NULL;
}

void hpki_run_concurrently(void (*run)(void *job), void *const *jobs, size_t count)
{
	struct job_thread threads[HPKI_CONCURRENT_MAX] = { 0 };
	pthread_attr_t attr;
	sigset_t all, caller;
	bool have_attr, masked;
	size_t i, stack = 0;

	if (count == 0)
		return;
	have_attr = pthread_attr_init(&attr) == 0;
	if (have_attr && pthread_attr_getstacksize(&attr, &stack) == 0 && stack < HPKI_JOB_STACK)
		(void)pthread_attr_setstacksize(&attr, HPKI_JOB_STACK);
	/* Threads inherit the creator's signal mask: ours block every signal, so that the
	 * application's handlers (SIGALRM, SIGCHLD, …) keep running on its own threads
	 * (POSIX leaves the choice of thread to the system otherwise). */
	sigfillset(&all);
	masked = pthread_sigmask(SIG_SETMASK, &all, &caller) == 0;
	for (i = 1; i < count && i < HPKI_CONCURRENT_MAX; i++) {
		threads[i].run = run;
		threads[i].job = jobs[i];
		threads[i].started = pthread_create(&threads[i].thread, have_attr ? &attr : NULL, job_main,
						    &threads[i]) == 0;
		if (!threads[i].started)
			hpki_info("no thread for job %zu: it runs after the others", i);
	}
	if (masked)
		pthread_sigmask(SIG_SETMASK, &caller, NULL);
	if (have_attr)
		pthread_attr_destroy(&attr);
	run(jobs[0]);
	for (i = 1; i < count; i++) {
		if (i < HPKI_CONCURRENT_MAX && threads[i].started)
			pthread_join(threads[i].thread, NULL);
		else
			run(jobs[i]);
	}
}
