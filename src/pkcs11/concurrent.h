/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a few independent jobs at once, one short-lived thread each, and returns
 * when all of them have ended. The slot layer reads several cards with it: a card
 * answers in milliseconds per APDU, so cards in different readers are read in the
 * time of the slowest one instead of the sum (issue 11). A leaf: knows nothing of
 * readers, cards or PKCS#11.
 */
#ifndef HPKI_CONCURRENT_H
#define HPKI_CONCURRENT_H

#include <stddef.h>

/* The most jobs one call runs (the reader table's size is the only user's bound). */
#define HPKI_CONCURRENT_MAX 16

/* Calls run(jobs[i]) for every i < count, job 0 on the calling thread and each
 * other one on a thread of its own; when a thread cannot be created, that job runs
 * on the calling thread after job 0 (slower, never skipped). Returns after every
 * job has returned: nothing of it outlives the call, so the caller may hold its
 * locks across it and the jobs need none for what belongs to them alone.
 * count > HPKI_CONCURRENT_MAX: the rest run one after another on the caller. */
void hpki_run_concurrently(void (*run)(void *job), void *const *jobs, size_t count);

#endif
