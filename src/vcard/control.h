/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket of hpki-vcard: a Unix stream socket with a line protocol,
 * so that tests and benchmarks can remove, insert and swap the card, inject
 * faults and read counters while the card is in use (issue 2, "Observable and
 * controllable"). Each command line is answered by one line that starts with
 * "ok" or "error: ". It runs in the program's poll loop; no threads.
 */
#ifndef HPKI_VCARD_CONTROL_H
#define HPKI_VCARD_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "vcard.h"

#define VCARD_CONTROL_MAX_CLIENTS 8
#define VCARD_CONTROL_LINE_MAX 512
#define VCARD_CONTROL_REPLY_MAX 2048

/* What the commands act on; implemented by the program (main.c). */
struct vcard_control_ops {
	struct vcard *(*card)(void *ctx);
	/* 0 on success; on failure *error names the reason. */
	int (*remove)(void *ctx, const char **error);
	int (*insert)(void *ctx, const char **error);
	int (*swap)(void *ctx, const char *holder, const char **error);
	void (*set_delay)(void *ctx, unsigned ms);
	void (*quit)(void *ctx);
	/* One line without "ok ": inserted|removed and the configuration. */
	void (*status)(void *ctx, char *buf, size_t size);
};

struct vcard_control_client {
	int fd;
	size_t len;
	bool skipping;          /* inside an overlong line, dropping it */
	char line[VCARD_CONTROL_LINE_MAX];
};

struct vcard_control {
	int listen_fd;
	char path[108];
	struct vcard_control_client clients[VCARD_CONTROL_MAX_CLIENTS];
};

/* Creates the socket at path (an old socket file there is replaced). 0 or -1 with errno. */
int vcard_control_open(struct vcard_control *ctl, const char *path);
/* Closes everything and removes the socket file. */
void vcard_control_close(struct vcard_control *ctl);

/* Adds the descriptors to watch; returns how many were written (≤ max). */
size_t vcard_control_pollfds(const struct vcard_control *ctl, struct pollfd *fds, size_t max);
/* Handles the descriptors from vcard_control_pollfds after poll(). */
void vcard_control_handle(struct vcard_control *ctl, const struct pollfd *fds, size_t count,
			  const struct vcard_control_ops *ops, void *ctx);

/* Runs one command line and writes the answer line (without newline) to reply. */
void vcard_control_execute(const char *line, char *reply, size_t size,
			   const struct vcard_control_ops *ops, void *ctx);

/* The "hpki-vcard ctl COMMAND..." client: prints the answer, 0 if it is "ok…", 1 otherwise. */
int vcard_control_client_main(const char *path, int argc, char **argv);

#endif
