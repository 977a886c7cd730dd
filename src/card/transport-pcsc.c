/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki_transport_pcsc: the transport ops table over libpcsclite.
 *
 * Two resource-manager contexts live behind one transport context: pcsc-lite
 * serialises all calls made on one SCARDCONTEXT, so a SCardGetStatusChange
 * blocked for minutes in C_WaitForSlotEvent would otherwise stall every
 * SCardTransmit of the other threads. The "wait" context is used by
 * wait_readers/cancel_wait only; everything else uses the "io" context.
 */
#include "config.h"

#include "transport.h"

#include "log.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>
#include <PCSC/reader.h>

/* pcsc-lite's pseudo reader: its state changes when a reader is plugged or unplugged. */
#define PNP_NOTIFICATION_READER "\\\\?PnP?\\Notification"

struct pcsc_context {
	SCARDCONTEXT io;
	/* wait/has_wait are set up by the first waiter, which runs without the module's
	 * lock, while cancel_wait runs on C_Finalize's thread: wait_lock orders the two. */
	pthread_mutex_t wait_lock;
	SCARDCONTEXT wait;
	bool has_wait;
};

struct hpki_connection {
	SCARDHANDLE handle;
	DWORD protocol;
	DWORD share; /* SCARD_SHARE_SHARED, or _EXCLUSIVE for hpki_transport_pcsc_exclusive */
};

/*
 * pcsc-lite before 2.0.1 keeps the reader states that SCardStatus, SCardListReaders
 * and SCardGetStatusChange fetch from pcscd in one array for the whole process
 * (winscard_clnt.c readerStates[]), guarded only by the lock of the context in use:
 * two threads on two contexts tear it (fixed upstream in 2.0.1, "Access
 * readerStates[] in a thread safe way"; Debian 12 has 1.9.9). The module reads
 * several cards at once, each thread on a context of its own, and every connection
 * reads its ATR with SCardStatus; so the calls that return at once take this lock.
 * A blocking SCardGetStatusChange (C_WaitForSlotEvent) cannot hold it for minutes
 * and runs without it.
 */
static pthread_mutex_t reader_states_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t reader_states_once = PTHREAD_ONCE_INIT;

/* A fork while another thread holds the lock would leave the child's copy locked. */
static void reader_states_after_fork(void)
{
	static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	memcpy(&reader_states_lock, &fresh, sizeof fresh);
}

static void reader_states_setup(void)
{
	(void)pthread_atfork(NULL, NULL, reader_states_after_fork);
}

static void lock_reader_states(void)
{
	(void)pthread_once(&reader_states_once, reader_states_setup);
	pthread_mutex_lock(&reader_states_lock);
}

static void unlock_reader_states(void)
{
	pthread_mutex_unlock(&reader_states_lock);
}

/*
 * The single place where a PC/SC return code becomes an hpki_io_status; the
 * pcsc-lite text is logged here so that callers need not know PC/SC at all.
 */
static enum hpki_io_status map_pcsc(LONG rv, const char *call)
{
	enum hpki_io_status status;

	switch (rv) {
	case SCARD_S_SUCCESS:
		return HPKI_IO_OK;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
		status = HPKI_IO_NO_CARD;
		break;
	case SCARD_W_RESET_CARD:
		status = HPKI_IO_CARD_RESET;
		break;
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_NO_READERS_AVAILABLE:
		status = HPKI_IO_NO_READER;
		break;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
	case SCARD_E_INVALID_HANDLE: /* pcscd restarted: our handles are void */
	case SCARD_F_COMM_ERROR:     /* pcscd's socket closed under a call (killed, restarted) */
		status = HPKI_IO_NO_SERVICE;
		break;
	case SCARD_E_SHARING_VIOLATION:
		status = HPKI_IO_SHARING;
		break;
	case SCARD_E_TIMEOUT:
		return HPKI_IO_TIMEOUT; /* routine: not worth a log line */
	case SCARD_E_CANCELLED:
		status = HPKI_IO_CANCELLED;
		hpki_info("%s: %s", call, pcsc_stringify_error(rv));
		return status;
	case SCARD_W_UNRESPONSIVE_CARD:
	case SCARD_W_UNPOWERED_CARD:
		status = HPKI_IO_UNRESPONSIVE;
		break;
	default:
		status = HPKI_IO_FAILED;
		break;
	}
	hpki_error("%s: %s (0x%08lX) -> %s", call, pcsc_stringify_error(rv), (unsigned long)rv,
		   hpki_io_status_text(status));
	return status;
}

static enum hpki_io_status pcsc_open_context(void **context)
{
	struct pcsc_context *ctx = calloc(1, sizeof(*ctx));
	enum hpki_io_status status;

	if (ctx == NULL)
		return HPKI_IO_FAILED;
	status = map_pcsc(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx->io),
			  "SCardEstablishContext");
	if (status != HPKI_IO_OK) {
		free(ctx);
		return status;
	}
	pthread_mutex_init(&ctx->wait_lock, NULL);
	*context = ctx;
	return HPKI_IO_OK;
}

static void pcsc_close_context(void *context)
{
	struct pcsc_context *ctx = context;

	if (ctx == NULL)
		return;
	if (ctx->has_wait)
		SCardReleaseContext(ctx->wait);
	SCardReleaseContext(ctx->io);
	pthread_mutex_destroy(&ctx->wait_lock);
	free(ctx);
}

/* The multi-string of reader names, malloc'd; NULL with HPKI_IO_OK when there is no reader. */
static enum hpki_io_status fetch_reader_names(SCARDCONTEXT ctx, char **names)
{
	int attempt;

	*names = NULL;
	/* The list may grow between the size query and the fetch: retry a few times. */
	for (attempt = 0; attempt < 3; attempt++) {
		DWORD len = 0;
		LONG rv;
		char *buf;

		lock_reader_states();
		rv = SCardListReaders(ctx, NULL, NULL, &len);
		unlock_reader_states();
		if (rv == SCARD_E_NO_READERS_AVAILABLE)
			return HPKI_IO_OK;
		if (rv != SCARD_S_SUCCESS)
			return map_pcsc(rv, "SCardListReaders");
		buf = malloc(len + 1);
		if (buf == NULL)
			return HPKI_IO_FAILED;
		lock_reader_states();
		rv = SCardListReaders(ctx, NULL, buf, &len);
		unlock_reader_states();
		if (rv == SCARD_S_SUCCESS) {
			buf[len] = '\0';
			*names = buf;
			return HPKI_IO_OK;
		}
		free(buf);
		if (rv == SCARD_E_NO_READERS_AVAILABLE)
			return HPKI_IO_OK;
		if (rv != SCARD_E_INSUFFICIENT_BUFFER)
			return map_pcsc(rv, "SCardListReaders");
	}
	return HPKI_IO_FAILED;
}

static size_t count_names(const char *names)
{
	size_t n = 0;

	for (const char *p = names; p != NULL && *p != '\0'; p += strlen(p) + 1)
		n++;
	return n;
}

/* The state we claim to know, so that pcsc-lite reports any difference as a change. */
static DWORD known_state(const struct hpki_reader_state *reader)
{
	DWORD state = (DWORD)(reader->event_count & 0xFFFF) << 16;

	if (reader->present)
		state |= SCARD_STATE_PRESENT | (reader->mute ? SCARD_STATE_MUTE : 0);
	else
		state |= SCARD_STATE_EMPTY;
	return state;
}

/* Copies pcsc-lite's answer into our struct; false when the reader has gone. */
static bool store_state(struct hpki_reader_state *reader, const SCARD_READERSTATE *rs)
{
	DWORD ev = rs->dwEventState;

	if (ev & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)) {
		reader->present = false;
		reader->mute = false;
		reader->atr_len = 0;
		return false;
	}
	/* pcsc-lite keeps a per-reader card event counter in the high 16 bits. */
	reader->event_count = (uint32_t)((ev >> 16) & 0xFFFF);
	reader->present = (ev & SCARD_STATE_PRESENT) != 0;
	reader->mute = reader->present && (ev & SCARD_STATE_MUTE) != 0;
	reader->atr_len = 0;
	if (reader->present && rs->cbAtr <= HPKI_ATR_MAX) {
		memcpy(reader->atr, rs->rgbAtr, rs->cbAtr);
		reader->atr_len = rs->cbAtr;
	}
	return true;
}

static enum hpki_io_status get_status(SCARDCONTEXT ctx, struct hpki_reader_state *readers, size_t count,
				      bool with_pnp, DWORD pnp_readers, DWORD timeout)
{
	SCARD_READERSTATE *rs = calloc(count + 1, sizeof(*rs));
	size_t n = count;
	enum hpki_io_status status;
	bool gone = false;
	LONG rv;

	if (rs == NULL)
		return HPKI_IO_FAILED;
	for (size_t i = 0; i < count; i++) {
		rs[i].szReader = readers[i].name;
		rs[i].dwCurrentState = known_state(&readers[i]);
	}
	if (with_pnp) {
		rs[n].szReader = PNP_NOTIFICATION_READER;
		/* pcsc-lite compares the high word with the number of readers. */
		rs[n].dwCurrentState = pnp_readers << 16;
		n++;
	}
	if (timeout == 0)
		lock_reader_states();
	rv = SCardGetStatusChange(ctx, timeout, rs, (DWORD)n);
	if (timeout == 0)
		unlock_reader_states();
	status = map_pcsc(rv, "SCardGetStatusChange");
	if (status == HPKI_IO_OK) {
		for (size_t i = 0; i < count; i++)
			if (!store_state(&readers[i], &rs[i]))
				gone = true;
		if (gone)
			status = HPKI_IO_NO_READER; /* the caller lists the readers again */
	}
	free(rs);
	return status;
}

static enum hpki_io_status pcsc_list_readers(void *context, struct hpki_reader_state *readers, size_t max,
					     size_t *count)
{
	struct pcsc_context *ctx = context;
	char *names = NULL;
	enum hpki_io_status status;
	size_t n = 0;

	*count = 0;
	status = fetch_reader_names(ctx->io, &names);
	if (status != HPKI_IO_OK)
		return status;
	for (const char *p = names; p != NULL && *p != '\0' && n < max; p += strlen(p) + 1) {
		if (strlen(p) >= HPKI_READER_NAME_MAX) {
			hpki_error("reader name too long, ignored: %.40s…", p);
			continue;
		}
		memset(&readers[n], 0, sizeof(readers[n]));
		strcpy(readers[n].name, p);
		n++;
	}
	free(names);
	*count = n;
	if (n > 0) {
		/* Fill presence and ATR right away; a failure here does not void the names. */
		if (get_status(ctx->io, readers, n, false, 0, 0) == HPKI_IO_NO_READER)
			hpki_info("a reader vanished while being listed");
	}
	return HPKI_IO_OK;
}

/* True when pcsc-lite knows a reader the caller did not pass: it was plugged in already. */
static bool has_unknown_reader(const char *names, const struct hpki_reader_state *readers, size_t count)
{
	for (const char *p = names; p != NULL && *p != '\0'; p += strlen(p) + 1) {
		bool known = false;

		for (size_t i = 0; i < count && !known; i++)
			known = strcmp(readers[i].name, p) == 0;
		if (!known)
			return true;
	}
	return false;
}

static enum hpki_io_status pcsc_wait_readers(void *context, struct hpki_reader_state *readers, size_t count,
					     uint32_t timeout_ms)
{
	struct pcsc_context *ctx = context;
	DWORD timeout = timeout_ms == UINT32_MAX ? INFINITE : (DWORD)timeout_ms;
	char *names = NULL;
	enum hpki_io_status status = HPKI_IO_OK;
	size_t present_readers;
	SCARDCONTEXT wait;

	/* A private context: see the top of this file. Created on first use only, so that
	 * a process that never waits never opens it. */
	pthread_mutex_lock(&ctx->wait_lock);
	if (!ctx->has_wait) {
		status = map_pcsc(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx->wait),
				  "SCardEstablishContext(wait)");
		ctx->has_wait = status == HPKI_IO_OK;
	}
	wait = ctx->wait;
	pthread_mutex_unlock(&ctx->wait_lock);
	if (status != HPKI_IO_OK)
		return status;
	status = fetch_reader_names(wait, &names);
	if (status != HPKI_IO_OK)
		return status;
	present_readers = count_names(names);
	if (has_unknown_reader(names, readers, count)) {
		free(names);
		/* Report the new reader now rather than waiting for the next event. */
		return HPKI_IO_OK;
	}
	free(names);
	return get_status(wait, readers, count, true, (DWORD)present_readers, timeout);
}

static void pcsc_cancel_wait(void *context)
{
	struct pcsc_context *ctx = context;

	if (ctx == NULL)
		return;
	pthread_mutex_lock(&ctx->wait_lock);
	if (ctx->has_wait)
		(void)map_pcsc(SCardCancel(ctx->wait), "SCardCancel");
	pthread_mutex_unlock(&ctx->wait_lock);
}

static enum hpki_io_status read_atr(struct hpki_connection *conn, uint8_t *atr, size_t *atr_len)
{
	BYTE buf[MAX_ATR_SIZE];
	DWORD buf_len = sizeof(buf);
	DWORD state, protocol;
	enum hpki_io_status status;
	LONG rv;

	lock_reader_states();
	rv = SCardStatus(conn->handle, NULL, NULL, &state, &protocol, buf, &buf_len);
	unlock_reader_states();
	status = map_pcsc(rv, "SCardStatus");
	if (status != HPKI_IO_OK)
		return status;
	if (buf_len > HPKI_ATR_MAX)
		buf_len = HPKI_ATR_MAX;
	memcpy(atr, buf, buf_len);
	*atr_len = buf_len;
	return HPKI_IO_OK;
}

static enum hpki_io_status connect_as(void *context, const char *reader, struct hpki_connection **conn,
					     uint8_t *atr, size_t *atr_len, DWORD share)
{
	struct pcsc_context *ctx = context;
	struct hpki_connection *c = calloc(1, sizeof(*c));
	enum hpki_io_status status;
	LONG rv;

	if (c == NULL)
		return HPKI_IO_FAILED;
	c->share = share;
	/* T=1 first: HPKI cards are used over T=1 in every observed tool (facts §4.2);
	 * T=0 only when the card offers nothing else. */
	rv = SCardConnect(ctx->io, reader, share, SCARD_PROTOCOL_T1, &c->handle, &c->protocol);
	if (rv == SCARD_E_PROTO_MISMATCH)
		rv = SCardConnect(ctx->io, reader, share, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				  &c->handle, &c->protocol);
	status = map_pcsc(rv, "SCardConnect");
	if (status == HPKI_IO_OK)
		status = read_atr(c, atr, atr_len);
	if (status != HPKI_IO_OK) {
		if (rv == SCARD_S_SUCCESS)
			SCardDisconnect(c->handle, SCARD_LEAVE_CARD);
		free(c);
		return status;
	}
	hpki_info("connected to '%s' with T=%d%s", reader, c->protocol == SCARD_PROTOCOL_T1 ? 1 : 0,
		  share == SCARD_SHARE_EXCLUSIVE ? " (exclusive)" : "");
	*conn = c;
	return HPKI_IO_OK;
}

static enum hpki_io_status pcsc_connect(void *context, const char *reader, struct hpki_connection **conn,
					uint8_t *atr, size_t *atr_len)
{
	return connect_as(context, reader, conn, atr, atr_len, SCARD_SHARE_SHARED);
}

/* Exclusive: pcscd refuses it (SCARD_E_SHARING_VIOLATION) while any other handle is
 * connected to the reader, so holding it proves that no other program can be keeping
 * a PIN verification on the card that our SELECTs would end (G31 §5.3.3: one channel). */
static enum hpki_io_status pcsc_connect_exclusive(void *context, const char *reader, struct hpki_connection **conn,
						  uint8_t *atr, size_t *atr_len)
{
	return connect_as(context, reader, conn, atr, atr_len, SCARD_SHARE_EXCLUSIVE);
}

static enum hpki_io_status pcsc_reconnect(struct hpki_connection *conn)
{
	/* LEAVE_CARD: the reset already happened; resetting again would only hurt the
	 * process that holds the card right now. */
	return map_pcsc(SCardReconnect(conn->handle, conn->share, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				       SCARD_LEAVE_CARD, &conn->protocol),
			"SCardReconnect");
}

/* Resets the card this handle was connected to, and only that one: after a removal
 * the handle would reconnect to whatever card is in the reader now (another
 * doctor's), and after someone else's reset our login is gone already. */
static enum hpki_io_status pcsc_reset_card(struct hpki_connection *conn)
{
	DWORD state = 0, protocol = 0, atr_len = 0, name_len = 0;
	LONG rv;

	lock_reader_states();
	rv = SCardStatus(conn->handle, NULL, &name_len, &state, &protocol, NULL, &atr_len);
	unlock_reader_states();

	if (rv != SCARD_S_SUCCESS)
		return map_pcsc(rv, "SCardStatus before reset");
	return map_pcsc(SCardReconnect(conn->handle, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
				       SCARD_RESET_CARD, &conn->protocol),
			"SCardReconnect(RESET)");
}

static void pcsc_disconnect(struct hpki_connection *conn)
{
	if (conn == NULL)
		return;
	(void)SCardDisconnect(conn->handle, SCARD_LEAVE_CARD);
	free(conn);
}

static enum hpki_io_status pcsc_begin(struct hpki_connection *conn)
{
	return map_pcsc(SCardBeginTransaction(conn->handle), "SCardBeginTransaction");
}

static void pcsc_end(struct hpki_connection *conn)
{
	/* LEAVE_CARD keeps the card's security state for the next operation and other
	 * processes (a reset would log every application out). */
	LONG rv = SCardEndTransaction(conn->handle, SCARD_LEAVE_CARD);

	if (rv != SCARD_S_SUCCESS && rv != SCARD_W_RESET_CARD && rv != SCARD_W_REMOVED_CARD)
		(void)map_pcsc(rv, "SCardEndTransaction");
}

static enum hpki_io_status pcsc_transmit(struct hpki_connection *conn, const uint8_t *cmd, size_t cmd_len,
					 uint8_t *resp, size_t *resp_len)
{
	const SCARD_IO_REQUEST *pci = conn->protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
	DWORD len = (DWORD)*resp_len;
	enum hpki_io_status status;

	status = map_pcsc(SCardTransmit(conn->handle, pci, cmd, (DWORD)cmd_len, NULL, resp, &len), "SCardTransmit");
	*resp_len = status == HPKI_IO_OK ? len : 0;
	return status;
}

/* ------------------------------------------------------------------------ */
/* The card's stay in the reader (issue 11: warm start without an APDU)        */

/* Up to `max` bytes of a small system file; false when it cannot be read. */
static bool read_small_file(const char *path, char *buf, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, max);
	close(fd);
	if (n <= 0)
		return false;
	*len = (size_t)n;
	return true;
}

/*
 * Which run of pcscd answers us. pcsc-lite counts card events per reader from 0 at
 * every start of pcscd (and at every plug of the reader), so a counter alone would
 * match a card inserted after a restart. pcscd writes its pid file next to its socket
 * at every start (pcscdaemon.c, PCSCLITE_RUN_PID); the file's identity and content
 * name the run. The client finds the socket through PCSCLITE_CSOCK_NAME like
 * libpcsclite does (pcscd.h PCSCLITE_CSOCK_NAME).
 */
static bool add_pcscd_run(EVP_MD_CTX *md)
{
	const char *sock = getenv("PCSCLITE_CSOCK_NAME");
	char path[4096], content[32];
	const char *slash;
	struct stat st;
	size_t len = 0;
	long stamp[5];

	if (sock == NULL || sock[0] != '/')
		sock = "/run/pcscd/pcscd.comm";
	slash = strrchr(sock, '/');
	if ((size_t)snprintf(path, sizeof path, "%.*s/pcscd.pid", (int)(slash - sock), sock) >= sizeof path)
		return false;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !read_small_file(path, content, sizeof content, &len))
		return false;
	stamp[0] = (long)st.st_dev;
	stamp[1] = (long)st.st_ino;
	stamp[2] = (long)st.st_mtim.tv_sec;
	stamp[3] = st.st_mtim.tv_nsec;
	stamp[4] = (long)st.st_ctim.tv_nsec;
	return EVP_DigestUpdate(md, stamp, sizeof stamp) == 1 && EVP_DigestUpdate(md, content, len) == 1;
}

static bool add_field(EVP_MD_CTX *md, const void *data, size_t len)
{
	uint32_t n = (uint32_t)len;

	return EVP_DigestUpdate(md, &n, sizeof n) == 1 && (len == 0 || EVP_DigestUpdate(md, data, len) == 1);
}

/*
 * SHA-256 over: this boot, pcscd's run, the reader's name, its card event counter
 * (SCardStatus gives it in the high 16 bits of the state, winscard_clnt.c), the ATR
 * and, when the driver knows it, the reader's channel (a USB reader's bus address
 * changes when it is plugged again, which resets the counter). Nothing is sent.
 */
static bool pcsc_stay_mark(struct hpki_connection *conn, uint8_t mark[HPKI_STAY_MARK_LEN])
{
	char name[HPKI_READER_NAME_MAX + 1], boot[64];
	BYTE atr[MAX_ATR_SIZE], channel[16];
	DWORD name_len = sizeof name, atr_len = sizeof atr, channel_len = sizeof channel, state = 0, protocol = 0;
	uint32_t counter;
	size_t boot_len = 0;
	unsigned int out = 0;
	EVP_MD_CTX *md;
	LONG rv;
	bool ok;

	lock_reader_states();
	rv = SCardStatus(conn->handle, name, &name_len, &state, &protocol, atr, &atr_len);
	unlock_reader_states();
	if (rv != SCARD_S_SUCCESS || (state & SCARD_PRESENT) == 0 || name_len > sizeof name)
		return false;
	if (!read_small_file("/proc/sys/kernel/random/boot_id", boot, sizeof boot, &boot_len))
		return false;
	if (SCardGetAttrib(conn->handle, SCARD_ATTR_CHANNEL_ID, channel, &channel_len) != SCARD_S_SUCCESS)
		channel_len = 0;
	counter = (uint32_t)(state >> 16);
	md = EVP_MD_CTX_new();
	ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && add_field(md, "hpki-stay-1", 11) &&
	     add_field(md, boot, boot_len) && add_pcscd_run(md) && add_field(md, name, name_len) &&
	     add_field(md, &counter, sizeof counter) && add_field(md, atr, atr_len) &&
	     add_field(md, channel, channel_len) && EVP_DigestFinal_ex(md, mark, &out) == 1 &&
	     out == HPKI_STAY_MARK_LEN;
	EVP_MD_CTX_free(md);
	return ok;
}

const struct hpki_transport_ops hpki_transport_pcsc = {
	.open_context = pcsc_open_context,
	.close_context = pcsc_close_context,
	.list_readers = pcsc_list_readers,
	.wait_readers = pcsc_wait_readers,
	.cancel_wait = pcsc_cancel_wait,
	.connect = pcsc_connect,
	.reconnect = pcsc_reconnect,
	.disconnect = pcsc_disconnect,
	.reset_card = pcsc_reset_card,
	.begin = pcsc_begin,
	.end = pcsc_end,
	.transmit = pcsc_transmit,
	.stay_mark = pcsc_stay_mark,
};

const struct hpki_transport_ops hpki_transport_pcsc_exclusive = {
	.open_context = pcsc_open_context,
	.close_context = pcsc_close_context,
	.list_readers = pcsc_list_readers,
	.wait_readers = pcsc_wait_readers,
	.cancel_wait = pcsc_cancel_wait,
	.connect = pcsc_connect_exclusive,
	.reconnect = pcsc_reconnect,
	.disconnect = pcsc_disconnect,
	.begin = pcsc_begin,
	.end = pcsc_end,
	.transmit = pcsc_transmit,
	.stay_mark = pcsc_stay_mark,
};

const char *hpki_io_status_text(enum hpki_io_status status)
{
	switch (status) {
	case HPKI_IO_OK:
		return "ok";
	case HPKI_IO_NO_CARD:
		return "no card";
	case HPKI_IO_CARD_RESET:
		return "card reset";
	case HPKI_IO_NO_READER:
		return "reader unavailable";
	case HPKI_IO_NO_SERVICE:
		return "PC/SC service not available";
	case HPKI_IO_SHARING:
		return "card used exclusively by another process";
	case HPKI_IO_TIMEOUT:
		return "timeout";
	case HPKI_IO_CANCELLED:
		return "cancelled";
	case HPKI_IO_UNRESPONSIVE:
		return "card unresponsive";
	case HPKI_IO_FAILED:
		return "PC/SC failure";
	}
	return "unknown I/O status";
}
