/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "vpcd.h"
#include "replay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long a reply may wait for room in the socket buffer before we give up on vpcd. */
#define VPCD_SEND_TIMEOUT_MS 5000

int vcard_verbosity;

void vcard_log(int level, const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;

	if (level > vcard_verbosity)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "hpki-vcard[%ld.%03ld]: ", (long)ts.tv_sec, ts.tv_nsec / 1000000L);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void vcard_log_hex(int level, const char *prefix, const uint8_t *data, size_t len)
{
	/* Long responses (certificates, signatures) are shortened: the trace is for
	 * following the dialogue, not for dumping files. */
	char line[3 * 48 + 8];
	size_t shown = len < 48 ? len : 48;
	size_t pos = 0;

	if (level > vcard_verbosity)
		return;
	for (size_t i = 0; i < shown; i++)
		pos += (size_t)snprintf(line + pos, sizeof line - pos, "%02X ", data[i]);
	if (shown < len)
		snprintf(line + pos, sizeof line - pos, "…");
	vcard_log(level, "%s (%zu) %s", prefix, len, line);
}

void vcard_vpcd_init(struct vcard_vpcd *vpcd, const char *host, unsigned port)
{
	vpcd->fd = -1;
	snprintf(vpcd->host, sizeof vpcd->host, "%s", host);
	vpcd->port = port;
	vpcd->have = 0;
}

bool vcard_vpcd_connected(const struct vcard_vpcd *vpcd)
{
	return vpcd->fd >= 0;
}

/*
 * Linux delays the ACK of a segment by up to 40 ms, and vpcd sends each frame as
 * two send() calls without TCP_NODELAY, so its second send waits for our ACK
 * (Nagle): about 48 ms per APDU. Quick-ACK mode makes the ACK immediate, but the
 * kernel leaves that mode on its own, so it is set again after every recv()
 * (testbed-and-consumers.md §1.7: 48.5 ms → 0.08 ms per APDU).
 */
static void vpcd_quickack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

int vcard_vpcd_connect(struct vcard_vpcd *vpcd)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)vpcd->port) };
	int one = 1;
	int fd;

	if (inet_pton(AF_INET, vpcd->host, &addr.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* Our replies go out in one send(); NODELAY just keeps small ones from
	 * waiting behind an unacknowledged segment. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		/* Loopback connects complete at once or fail at once. */
		if (errno != EINPROGRESS) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t errlen = sizeof err;
		if (poll(&p, 1, 1000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 || err != 0) {
			close(fd);
			errno = err != 0 ? err : ETIMEDOUT;
			return -1;
		}
	}
	vpcd_quickack(fd);
	vpcd->fd = fd;
	vpcd->have = 0;
	return 0;
}

void vcard_vpcd_close(struct vcard_vpcd *vpcd)
{
	if (vpcd->fd >= 0)
		close(vpcd->fd);
	vpcd->fd = -1;
	vpcd->have = 0;
}

static size_t vpcd_frame_size(const struct vcard_vpcd *vpcd)
{
	if (vpcd->have < 2)
		return 2;
	return 2 + (((size_t)vpcd->frame[0] << 8) | vpcd->frame[1]);
}

int vcard_vpcd_receive(struct vcard_vpcd *vpcd, const uint8_t **payload, size_t *len)
{
	/* Bounded: one pass completes the header, the next the body; a third
	 * pass is only needed when a zero-length frame arrives. */
	for (int pass = 0; pass < 3; pass++) {
		size_t want = vpcd_frame_size(vpcd);
		if (vpcd->have >= 2 && vpcd->have == want) {
			*payload = vpcd->frame + 2;
			*len = want - 2;
			return 1;
		}
		ssize_t n = recv(vpcd->fd, vpcd->frame + vpcd->have, want - vpcd->have, MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
		vpcd_quickack(vpcd->fd);
		vpcd->have += (size_t)n;
	}
	if (vpcd->have >= 2 && vpcd->have == vpcd_frame_size(vpcd)) {
		*payload = vpcd->frame + 2;
		*len = vpcd->have - 2;
		return 1;
	}
	return 0;
}

void vcard_vpcd_next_frame(struct vcard_vpcd *vpcd)
{
	vpcd->have = 0;
}

static int vpcd_wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r;

	do
		r = poll(&p, 1, VPCD_SEND_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	return r == 1 && !(p.revents & (POLLERR | POLLHUP | POLLNVAL)) ? 0 : -1;
}

int vcard_vpcd_send(struct vcard_vpcd *vpcd, const uint8_t *payload, size_t len)
{
	/* Header and body in one buffer and one send(): vpcd reads with MSG_WAITALL,
	 * and a split frame would only invite the Nagle delay in this direction. */
	static uint8_t out[2 + VCARD_VPCD_MAX_PAYLOAD];
	size_t total = len + 2;
	size_t done = 0;

	if (vpcd->fd < 0 || len > VCARD_VPCD_MAX_PAYLOAD)
		return -1;
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memcpy(out + 2, payload, len);
	while (done < total) {
		ssize_t n = send(vpcd->fd, out + done, total - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && vpcd_wait_writable(vpcd->fd) == 0)
			continue;
		return -1;
	}
	return 0;
}

static enum vcard_vpcd_action vpcd_control_byte(struct vcard *card, uint8_t ctrl, uint8_t *resp,
						size_t *resp_len)
{
	switch (ctrl) {
	case VCARD_VPCD_CTRL_OFF:
		vcard_log(2, "power off");
		vcard_power_off(card);
		return VCARD_VPCD_NO_REPLY;
	case VCARD_VPCD_CTRL_ON:
		vcard_log(2, "power on");
		vcard_power_on(card);
		return VCARD_VPCD_NO_REPLY;
	case VCARD_VPCD_CTRL_RESET:
		vcard_log(2, "reset");
		vcard_reset(card);
		return VCARD_VPCD_NO_REPLY;
	case VCARD_VPCD_CTRL_ATR:
		/* pcscd's ATR buffer is MAX_ATR_SIZE = 33 bytes (§1.8). */
		*resp_len = vcard_atr(card, resp, 33);
		if (vcard_replay_atr(vcard_replay_active, resp, 33) > 0) /* --replay (replay.h) */
			*resp_len = vcard_replay_atr(vcard_replay_active, resp, 33);
		return VCARD_VPCD_REPLY;
	default:
		/* Like vsmartcard's own card: an unknown control byte is logged, not answered
		 * (answering would desynchronise the lock-step). */
		vcard_log(1, "unknown control byte %02X ignored", ctrl);
		return VCARD_VPCD_NO_REPLY;
	}
}

enum vcard_vpcd_action vcard_vpcd_dispatch(struct vcard *card, const uint8_t *payload, size_t len,
					   uint8_t *resp, size_t *resp_len)
{
	*resp_len = 0;
	if (len == 0) {
		vcard_log(1, "empty frame from vpcd ignored");
		return VCARD_VPCD_NO_REPLY;
	}
	if (len == 1)
		return vpcd_control_byte(card, payload[0], resp, resp_len);
	vcard_log_hex(2, ">", payload, len);
	*resp_len = vcard_process_apdu(card, payload, len, resp);
	*resp_len = vcard_replay_filter(vcard_replay_active, payload, len, resp, *resp_len); /* --replay */
	if (*resp_len == 0)
		return VCARD_VPCD_MUTE;
	/* The frame length field cannot carry more; only an "oversize" fault or a
	 * 65536-byte read can get here. */
	if (*resp_len > VCARD_VPCD_MAX_PAYLOAD)
		*resp_len = VCARD_VPCD_MAX_PAYLOAD;
	vcard_log_hex(2, "<", resp, *resp_len);
	return VCARD_VPCD_REPLY;
}
