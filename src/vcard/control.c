/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "control.h"
#include "vpcd.h"

#include <hpki/card-defs.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_MAX_WORDS 6

/* ---- command parsing -------------------------------------------------------- */

static void reply_set(char *reply, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_set(char *reply, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reply, size, fmt, ap);
	va_end(ap);
}

/* Splits in place on blanks; returns the word count (at most max). */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t\r\n", &save); w != NULL && n < max; w = strtok_r(NULL, " \t\r\n", &save))
		words[n++] = w;
	return n;
}

/* Whole-string unsigned number in the given base, ≤ max. */
static bool parse_number(const char *text, int base, unsigned long max, unsigned long *value)
{
	char *end;

	if (text == NULL || *text == '\0' || *text == '-' || *text == '+')
		return false;
	errno = 0;
	*value = strtoul(text, &end, base);
	return errno == 0 && *end == '\0' && *value <= max;
}

/* "sig"/"signature"/"1" → 1, "auth"/"authentication"/"2" → 2 (vcard.h numbering). */
static int parse_app(const char *text)
{
	if (text == NULL)
		return 0;
	if (!strcmp(text, "1") || !strcmp(text, "sig") || !strcmp(text, "signature"))
		return 1;
	if (!strcmp(text, "2") || !strcmp(text, "auth") || !strcmp(text, "authentication"))
		return 2;
	return 0;
}

static void cmd_fault(char **w, size_t n, char *reply, size_t size, struct vcard *card)
{
	static const struct {
		const char *name;
		enum vcard_fault_kind kind;
		bool has_arg;
	} kinds[] = {
		{ "sw", VCARD_FAULT_STATUS_WORD, true },
		{ "truncate", VCARD_FAULT_TRUNCATE, true },
		{ "garbage", VCARD_FAULT_GARBAGE, true },
		{ "oversize", VCARD_FAULT_OVERSIZE, true },
		{ "get-response-loop", VCARD_FAULT_GET_RESPONSE_LOOP, false },
		{ "mute", VCARD_FAULT_MUTE, false },
		{ "trickle", VCARD_FAULT_TRICKLE, true },
		{ "none", VCARD_FAULT_NONE, false },
	};
	struct vcard_fault fault = { .kind = VCARD_FAULT_NONE };
	unsigned long arg = 0, count = 1;
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (n >= 2 && !strcmp(w[1], kinds[i].name))
			break;
	if (i == sizeof kinds / sizeof kinds[0]) {
		reply_set(reply, size, "error: fault sw|truncate|garbage|oversize|get-response-loop|mute|trickle|none");
		return;
	}
	fault.kind = kinds[i].kind;
	if (kinds[i].has_arg) {
		/* The status word is written in hex like on the wire (6982); sizes in decimal. */
		bool ok = fault.kind == VCARD_FAULT_STATUS_WORD ? parse_number(n > 2 ? w[2] : NULL, 16, 0xFFFF, &arg)
								: parse_number(n > 2 ? w[2] : NULL, 10, 65536, &arg);
		if (!ok || (n > 3 && !parse_number(w[3], 10, 1000000, &count)) || n > 4) {
			reply_set(reply, size, "error: fault %s %s [COUNT]", kinds[i].name,
				  fault.kind == VCARD_FAULT_STATUS_WORD ? "XXXX" : "SIZE");
			return;
		}
	} else if (n > 2) {
		reply_set(reply, size, "error: fault %s takes no argument", kinds[i].name);
		return;
	}
	fault.sw = (uint16_t)(fault.kind == VCARD_FAULT_STATUS_WORD ? arg : 0);
	fault.size = fault.kind == VCARD_FAULT_STATUS_WORD ? 0 : (size_t)arg;
	fault.count = (unsigned)count;
	vcard_set_fault(card, &fault);
	reply_set(reply, size, "ok");
}

static void cmd_corrupt(char **w, size_t n, char *reply, size_t size, struct vcard *card)
{
	unsigned long fid;
	int app = parse_app(n > 1 ? w[1] : NULL);

	if (n != 4 || app == 0 || !parse_number(w[2], 16, 0xFFFF, &fid)) {
		reply_set(reply, size, "error: corrupt sig|auth FID truncate|huge-length|garbage");
		return;
	}
	if (strcmp(w[3], "truncate") && strcmp(w[3], "huge-length") && strcmp(w[3], "garbage")) {
		reply_set(reply, size, "error: corrupt: unknown way '%s'", w[3]);
		return;
	}
	if (vcard_corrupt_file(card, app, (uint16_t)fid, w[3]) != 0) {
		reply_set(reply, size, "error: no file %04lX in application %d", fid, app);
		return;
	}
	reply_set(reply, size, "ok");
}

/* The instructions a driver uses are always listed, so that a benchmark can read
 * them without knowing which ones happened; any other INS seen is appended. */
static void cmd_stats(char *reply, size_t size, const struct vcard *card)
{
	static const uint8_t always[] = { HPKI_INS_SELECT, HPKI_INS_READ_BINARY, HPKI_INS_VERIFY,
					  HPKI_INS_MSE,    HPKI_INS_PSO,         HPKI_INS_GET_RESPONSE };
	const struct vcard_stats *st = vcard_get_stats(card);
	size_t pos;

	pos = (size_t)snprintf(reply, size, "ok apdus=%lu bytes_in=%lu bytes_out=%lu verify_pin=%lu", st->apdus,
			       st->bytes_in, st->bytes_out, st->verify_with_data);
	for (size_t i = 0; i < sizeof always && pos < size; i++)
		pos += (size_t)snprintf(reply + pos, size - pos, " ins_%02X=%lu", always[i], st->per_ins[always[i]]);
	for (unsigned ins = 0; ins < 256 && pos < size; ins++) {
		if (st->per_ins[ins] == 0 || memchr(always, (int)ins, sizeof always) != NULL)
			continue;
		pos += (size_t)snprintf(reply + pos, size - pos, " ins_%02X=%lu", ins, st->per_ins[ins]);
	}
}

static void cmd_simple_result(int rc, const char *error, char *reply, size_t size)
{
	if (rc == 0)
		reply_set(reply, size, "ok");
	else
		reply_set(reply, size, "error: %s", error != NULL ? error : "failed");
}

static const char control_help[] =
	"ok commands: remove insert swap status stats stats-reset tries delay fault corrupt quit";

void vcard_control_execute(const char *line, char *reply, size_t size, const struct vcard_control_ops *ops,
			   void *ctx)
{
	char copy[VCARD_CONTROL_LINE_MAX];
	char *w[CONTROL_MAX_WORDS + 1];
	const char *error = NULL;
	unsigned long number;
	size_t n;

	snprintf(copy, sizeof copy, "%s", line);
	n = split_words(copy, w, CONTROL_MAX_WORDS + 1);
	if (n == 0 || n > CONTROL_MAX_WORDS) {
		reply_set(reply, size, "error: empty or too long command");
		return;
	}
	struct vcard *card = ops->card(ctx);
	int rc;
	if (!strcmp(w[0], "remove") && n == 1) {
		rc = ops->remove(ctx, &error); /* before reading error: argument order is unspecified */
		cmd_simple_result(rc, error, reply, size);
	} else if (!strcmp(w[0], "insert") && n == 1) {
		rc = ops->insert(ctx, &error);
		cmd_simple_result(rc, error, reply, size);
	} else if (!strcmp(w[0], "swap") && n == 2) {
		rc = ops->swap(ctx, w[1], &error);
		cmd_simple_result(rc, error, reply, size);
	} else if (!strcmp(w[0], "delay") && n == 2 && parse_number(w[1], 10, 600000, &number)) {
		ops->set_delay(ctx, (unsigned)number);
		reply_set(reply, size, "ok");
	} else if (!strcmp(w[0], "fault")) {
		cmd_fault(w, n, reply, size, card);
	} else if (!strcmp(w[0], "corrupt")) {
		cmd_corrupt(w, n, reply, size, card);
	} else if (!strcmp(w[0], "stats") && n == 1) {
		cmd_stats(reply, size, card);
	} else if (!strcmp(w[0], "stats-reset") && n == 1) {
		vcard_reset_stats(card);
		reply_set(reply, size, "ok");
	} else if (!strcmp(w[0], "tries") && n == 2 && parse_app(w[1]) != 0) {
		reply_set(reply, size, "ok %d", vcard_pin_tries_left(card, parse_app(w[1])));
	} else if (!strcmp(w[0], "status") && n == 1) {
		char status[VCARD_CONTROL_REPLY_MAX - 8];
		ops->status(ctx, status, sizeof status);
		reply_set(reply, size, "ok %s", status);
	} else if (!strcmp(w[0], "quit") && n == 1) {
		ops->quit(ctx);
		reply_set(reply, size, "ok");
	} else if (!strcmp(w[0], "help") && n == 1) {
		reply_set(reply, size, "%s", control_help);
	} else {
		reply_set(reply, size, "error: unknown command or wrong arguments: %s (try help)", line);
	}
}

/* ---- the socket ------------------------------------------------------------- */

int vcard_control_open(struct vcard_control *ctl, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd;

	ctl->listen_fd = -1;
	ctl->path[0] = '\0';
	for (size_t i = 0; i < VCARD_CONTROL_MAX_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	if (strlen(path) >= sizeof addr.sun_path || strlen(path) >= sizeof ctl->path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	(void)unlink(path);
	/* The socket can swap the card and lock PINs: owner only. */
	old_mask = umask(077);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	umask(old_mask);
	if (rc < 0 || listen(fd, VCARD_CONTROL_MAX_CLIENTS) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	ctl->listen_fd = fd;
	strcpy(ctl->path, path);
	return 0;
}

static void client_drop(struct vcard_control_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->skipping = false;
}

void vcard_control_close(struct vcard_control *ctl)
{
	for (size_t i = 0; i < VCARD_CONTROL_MAX_CLIENTS; i++)
		client_drop(&ctl->clients[i]);
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		ctl->listen_fd = -1;
		(void)unlink(ctl->path);
	}
}

size_t vcard_control_pollfds(const struct vcard_control *ctl, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	if (ctl->listen_fd >= 0 && n < max)
		fds[n++] = (struct pollfd){ .fd = ctl->listen_fd, .events = POLLIN };
	for (size_t i = 0; i < VCARD_CONTROL_MAX_CLIENTS && n < max; i++)
		if (ctl->clients[i].fd >= 0)
			fds[n++] = (struct pollfd){ .fd = ctl->clients[i].fd, .events = POLLIN };
	return n;
}

static void control_accept(struct vcard_control *ctl)
{
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (size_t i = 0; i < VCARD_CONTROL_MAX_CLIENTS; i++) {
		if (ctl->clients[i].fd < 0) {
			ctl->clients[i].fd = fd;
			ctl->clients[i].len = 0;
			ctl->clients[i].skipping = false;
			return;
		}
	}
	/* Too many clients: say so rather than leaving one hanging. */
	static const char busy[] = "error: too many control clients\n";
	(void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static bool client_send(struct vcard_control_client *c, const char *reply)
{
	size_t len = strlen(reply);

	/* Replies are short and the client is waiting for them; if the socket
	 * buffer is full the client is not reading, and is dropped. */
	if (send(c->fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		return false;
	return send(c->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1;
}

/* Answers every complete line in the buffer; false if the client must go. */
static bool client_lines(struct vcard_control_client *c, const struct vcard_control_ops *ops, void *ctx)
{
	char reply[VCARD_CONTROL_REPLY_MAX];
	char *nl;

	while ((nl = memchr(c->line, '\n', c->len)) != NULL) {
		size_t used = (size_t)(nl - c->line) + 1;
		*nl = '\0';
		vcard_log(1, "control: %s", c->line);
		vcard_control_execute(c->line, reply, sizeof reply, ops, ctx);
		vcard_log(1, "control: -> %s", reply);
		memmove(c->line, c->line + used, c->len - used);
		c->len -= used;
		if (!client_send(c, reply))
			return false;
	}
	if (c->len == sizeof c->line) {
		/* Answer once and drop the rest of that line; closing here would reset
		 * the connection and lose the answers already sent. */
		c->len = 0;
		c->skipping = true;
		return client_send(c, "error: line too long");
	}
	return true;
}

/* While skipping an overlong line: drops bytes up to and including its newline. */
static void client_skip(struct vcard_control_client *c)
{
	char *nl = memchr(c->line, '\n', c->len);

	if (nl == NULL) {
		c->len = 0;
		return;
	}
	size_t used = (size_t)(nl - c->line) + 1;
	memmove(c->line, c->line + used, c->len - used);
	c->len -= used;
	c->skipping = false;
}

static void control_read(struct vcard_control_client *c, const struct vcard_control_ops *ops, void *ctx)
{
	ssize_t n = recv(c->fd, c->line + c->len, sizeof c->line - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* A last command without its newline still counts (printf 'stats' | nc -U). */
		if (n == 0 && !c->skipping && c->len > 0 && c->len < sizeof c->line) {
			c->line[c->len++] = '\n';
			(void)client_lines(c, ops, ctx);
		}
		client_drop(c);
		return;
	}
	c->len += (size_t)n;
	if (c->skipping)
		client_skip(c);
	if (!c->skipping && !client_lines(c, ops, ctx))
		client_drop(c);
}

void vcard_control_handle(struct vcard_control *ctl, const struct pollfd *fds, size_t count,
			  const struct vcard_control_ops *ops, void *ctx)
{
	for (size_t k = 0; k < count; k++) {
		if (fds[k].revents == 0)
			continue;
		if (fds[k].fd == ctl->listen_fd) {
			control_accept(ctl);
			continue;
		}
		for (size_t i = 0; i < VCARD_CONTROL_MAX_CLIENTS; i++)
			if (ctl->clients[i].fd == fds[k].fd && ctl->clients[i].fd >= 0)
				control_read(&ctl->clients[i], ops, ctx);
	}
}

/* ---- the client ------------------------------------------------------------- */

static int client_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof addr.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	/* A card that never answers must not hang a test forever. */
	struct timeval tv = { .tv_sec = 10 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

int vcard_control_client_main(const char *path, int argc, char **argv)
{
	char line[VCARD_CONTROL_LINE_MAX];
	char reply[VCARD_CONTROL_REPLY_MAX];
	size_t pos = 0, got = 0;
	int fd;

	if (path == NULL || *path == '\0') {
		fprintf(stderr, "hpki-vcard ctl: no control socket (use --control PATH or HPKI_VCARD_CONTROL)\n");
		return 1;
	}
	if (argc < 1) {
		fprintf(stderr, "hpki-vcard ctl: no command (try: hpki-vcard ctl help)\n");
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		int n = snprintf(line + pos, sizeof line - pos, "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof line - pos - 1) {
			fprintf(stderr, "hpki-vcard ctl: command too long\n");
			return 1;
		}
		pos += (size_t)n;
	}
	line[pos++] = '\n';
	fd = client_connect(path);
	if (fd < 0) {
		fprintf(stderr, "hpki-vcard ctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (send(fd, line, pos, MSG_NOSIGNAL) != (ssize_t)pos) {
		fprintf(stderr, "hpki-vcard ctl: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	while (got < sizeof reply - 1) {
		ssize_t n = recv(fd, reply + got, sizeof reply - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(reply, '\n', got) != NULL)
			break;
	}
	close(fd);
	reply[got] = '\0';
	char *nl = strchr(reply, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (got == 0) {
		fprintf(stderr, "hpki-vcard ctl: no answer\n");
		return 1;
	}
	printf("%s\n", reply);
	return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}
