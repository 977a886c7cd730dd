/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hpki-tool: reading a PIN from the terminal (no echo) or from a descriptor. */
#include "config.h"

#include "tool-pin.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

void hpki_tool_wipe(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}

/* One line, byte by byte so that nothing after the newline is consumed from a pipe. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= cap) {
			n = cap; /* too long: reported by the caller */
			continue;
		}
		buf[n++] = c;
	}
	if (n >= cap)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

static int read_from_terminal(const char *prompt, char *buf, size_t cap)
{
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	struct termios old, quiet;
	int n;

	if (tty < 0) {
		hpki_tool_error(_("no terminal to ask for the PIN; give it on a descriptor with --pin-fd N"));
		return -1;
	}
	if (tcgetattr(tty, &old) != 0) {
		close(tty);
		hpki_tool_error(_("cannot switch off the echo of the terminal"));
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;
	(void)!write(tty, prompt, strlen(prompt));
	tcsetattr(tty, TCSAFLUSH, &quiet);
	n = read_line(tty, buf, cap);
	tcsetattr(tty, TCSAFLUSH, &old);
	(void)!write(tty, "\n", 1);
	close(tty);
	return n;
}

static bool pin_well_formed(const char *pin, int n)
{
	if (n < HPKI_TOOL_PIN_MIN || n > HPKI_TOOL_PIN_MAX)
		return false;
	for (int i = 0; i < n; i++)
		if (pin[i] < 0x20 || pin[i] > 0x7E)
			return false;
	return true;
}

int hpki_tool_read_pin(int fd, const char *prompt, char *buf, size_t cap)
{
	int n = fd >= 0 ? read_line(fd, buf, cap) : read_from_terminal(prompt, buf, cap);

	if (n >= 0 && !pin_well_formed(buf, n)) {
		/* Refused before the card sees it: a malformed PIN must not cost a try. */
		hpki_tool_error(_("a PIN has %d to %d characters (letters, digits); nothing was sent to the card"),
				HPKI_TOOL_PIN_MIN, HPKI_TOOL_PIN_MAX);
		n = -1;
	} else if (n < 0 && fd >= 0) {
		hpki_tool_error(_("the PIN could not be read from descriptor %d"), fd);
	}
	if (n < 0)
		hpki_tool_wipe(buf, cap);
	return n;
}
