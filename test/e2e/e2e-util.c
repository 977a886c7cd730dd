/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "e2e-util.h"

#include <hpki/card-defs.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

static const uint8_t aid_sig[] = { HPKI_AID_SIGNATURE };
static const uint8_t aid_auth[] = { HPKI_AID_AUTHENTICATION };

/* SHA-256 DigestInfo prefix (RFC 8017 §9.2 note 1; hpki-card-facts §9). */
static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

/* ---- control socket -------------------------------------------------------------- */

static int ctl_exchange(const char *path, const char *line, char *reply, size_t size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	size_t got = 0;
	int fd;

	if (path == NULL || strlen(path) >= sizeof addr.sun_path)
		return -1;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		close(fd);
		return -1;
	}
	while (got + 1 < size) {
		ssize_t n = recv(fd, reply + got, size - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(reply, '\n', got) != NULL)
			break;
	}
	close(fd);
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	return strncmp(reply, "ok", 2) == 0 ? 0 : -1;
}

int e2e_ctl(const char *env_name, char *reply, size_t size, const char *fmt, ...)
{
	char line[512];
	char scratch[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 1)
		return -1;
	strcat(line, "\n");
	if (reply == NULL) {
		reply = scratch;
		size = sizeof scratch;
	}
	return ctl_exchange(getenv(env_name != NULL ? env_name : "HPKI_VCARD_CONTROL"), line, reply, size);
}

long e2e_field(const char *reply, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = reply; (p = strstr(p, key)) != NULL; p += klen) {
		if ((p == reply || p[-1] == ' ') && p[klen] == '=')
			return strtol(p + klen + 1, NULL, 0);
	}
	return -1;
}

static void status_word(const char *reply, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	out[0] = '\0';
	for (const char *p = reply; (p = strstr(p, key)) != NULL; p += klen) {
		if ((p == reply || p[-1] == ' ') && p[klen] == '=') {
			snprintf(out, size, "%.*s", (int)strcspn(p + klen + 1, " "), p + klen + 1);
			return;
		}
	}
}

static int read_status(struct e2e_card *card)
{
	char reply[2048], word[512];

	if (e2e_ctl(NULL, reply, sizeof reply, "status") != 0)
		return -1;
	status_word(reply, "profile", card->profile, sizeof card->profile);
	status_word(reply, "holder", card->holder, sizeof card->holder);
	status_word(reply, "data-dir", card->data_dir, sizeof card->data_dir);
	/* "default" means the card found the test PKI itself; with-vcard exports it. */
	if (!strcmp(card->data_dir, "default") && getenv("HPKI_VCARD_DATA_DIR") != NULL)
		snprintf(card->data_dir, sizeof card->data_dir, "%s", getenv("HPKI_VCARD_DATA_DIR"));
	status_word(reply, "extended-length", word, sizeof word);
	card->extended = !strcmp(word, "yes") && strcmp(card->profile, "jma-2019");
	status_word(reply, "chaining", word, sizeof word);
	card->chaining = !strcmp(word, "yes");
	status_word(reply, "response-mode", word, sizeof word);
	card->t0_style = strcmp(word, "direct") != 0;
	return 0;
}

/* ---- PC/SC -------------------------------------------------------------------------- */

int e2e_connect(struct e2e_card *card)
{
	char readers[2048];
	DWORD len = sizeof readers, proto;

	memset(card, 0, sizeof *card);
	if (read_status(card) != 0)
		return -1;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &card->ctx) != SCARD_S_SUCCESS)
		return -1;
	if (SCardListReaders(card->ctx, NULL, readers, &len) != SCARD_S_SUCCESS) {
		SCardReleaseContext(card->ctx);
		return -1;
	}
	/* with-vcard puts card 0 in the first slot of the first reader. */
	snprintf(card->reader, sizeof card->reader, "%.255s", readers);
	if (SCardConnect(card->ctx, card->reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &card->handle, &proto) !=
	    SCARD_S_SUCCESS) {
		SCardReleaseContext(card->ctx);
		return -1;
	}
	return 0;
}

void e2e_disconnect(struct e2e_card *card)
{
	if (card->handle)
		SCardDisconnect(card->handle, SCARD_LEAVE_CARD);
	if (card->ctx)
		SCardReleaseContext(card->ctx);
	card->handle = 0;
	card->ctx = 0;
}

static uint16_t raw_transmit(struct e2e_card *card, const uint8_t *cmd, size_t len, uint8_t *resp, size_t *resp_len)
{
	DWORD rlen = E2E_RESP_MAX;

	*resp_len = 0;
	if (SCardTransmit(card->handle, SCARD_PCI_T1, cmd, (DWORD)len, NULL, resp, &rlen) != SCARD_S_SUCCESS ||
	    rlen < 2)
		return 0;
	*resp_len = rlen;
	return (uint16_t)(resp[rlen - 2] << 8 | resp[rlen - 1]);
}

uint16_t e2e_transmit(struct e2e_card *card, const uint8_t *cmd, size_t len, uint8_t *data, size_t *data_len)
{
	static uint8_t resp[E2E_RESP_MAX], again[E2E_RESP_MAX + 4];
	size_t rlen, total = 0;
	uint16_t sw = raw_transmit(card, cmd, len, resp, &rlen);

	/* 6Cxx: repeat with Le = xx (ISO 7816-4 §5.6; response-mode wrong-le). */
	if (card->t0_style && (sw & 0xFF00) == 0x6C00 && len >= 5 && len <= sizeof again) {
		memcpy(again, cmd, len);
		again[len - 1] = (uint8_t)sw;
		sw = raw_transmit(card, again, len, resp, &rlen);
	}
	if (rlen >= 2 && data != NULL) {
		memcpy(data, resp, rlen - 2);
		total = rlen - 2;
	}
	/* 61xx: fetch with GET RESPONSE; bounded like a careful driver. */
	for (int i = 0; card->t0_style && (sw & 0xFF00) == 0x6100 && i < 300; i++) {
		uint8_t gr[5] = { 0x00, HPKI_INS_GET_RESPONSE, 0x00, 0x00, (uint8_t)sw };
		sw = raw_transmit(card, gr, sizeof gr, resp, &rlen);
		if (rlen >= 2 && data != NULL && total + rlen - 2 <= E2E_RESP_MAX) {
			memcpy(data + total, resp, rlen - 2);
			total += rlen - 2;
		}
	}
	if (data_len != NULL)
		*data_len = total;
	return sw;
}

size_t e2e_hex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (*hex != '\0' && n < max) {
		unsigned v;
		while (*hex == ' ')
			hex++;
		if (*hex == '\0' || sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

uint16_t e2e_apdu(struct e2e_card *card, const char *hex, uint8_t *data, size_t *data_len)
{
	uint8_t cmd[600];
	size_t len = e2e_hex(hex, cmd, sizeof cmd);

	return e2e_transmit(card, cmd, len, data, data_len);
}

bool e2e_wait_presence(struct e2e_card *card, bool present, long ms)
{
	SCARD_READERSTATE st = { .szReader = card->reader, .dwCurrentState = SCARD_STATE_UNAWARE };
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left < 0)
			left = 0;
		LONG rv = SCardGetStatusChange(card->ctx, (DWORD)left, &st, 1);
		if (rv == SCARD_S_SUCCESS) {
			bool is_present = (st.dwEventState & SCARD_STATE_PRESENT) != 0;
			if (is_present == present)
				return true;
			st.dwCurrentState = st.dwEventState & ~SCARD_STATE_CHANGED;
		}
		if (left == 0)
			return false;
	}
}

/* ---- card facts ------------------------------------------------------------------------ */

bool e2e_profile_is(const struct e2e_card *card, const char *name)
{
	return strcmp(card->profile, name) == 0;
}

unsigned e2e_pin_reference(const struct e2e_card *card)
{
	return e2e_profile_is(card, "jahis") ? HPKI_JAHIS_PIN_REFERENCE : HPKI_JMA_PIN_REFERENCE;
}

uint16_t e2e_select_app(struct e2e_card *card, int app)
{
	uint8_t cmd[5 + HPKI_AID_LEN + 1] = { 0x00, HPKI_INS_SELECT, HPKI_SELECT_P1_DF_NAME, 0x00, HPKI_AID_LEN };
	uint8_t fci[E2E_RESP_MAX];
	size_t len;

	memcpy(cmd + 5, app == 1 ? aid_sig : aid_auth, HPKI_AID_LEN);
	cmd[sizeof cmd - 1] = 0x00;
	return e2e_transmit(card, cmd, sizeof cmd, fci, &len);
}

uint16_t e2e_verify(struct e2e_card *card, const char *pin)
{
	uint8_t cmd[5 + HPKI_PIN_MAX_LEN + 8] = { 0x00, HPKI_INS_VERIFY, 0x00, (uint8_t)e2e_pin_reference(card) };
	size_t len = 4;

	if (pin != NULL) {
		size_t n = strlen(pin);
		cmd[4] = (uint8_t)n;
		memcpy(cmd + 5, pin, n);
		len = 5 + n;
	}
	return e2e_transmit(card, cmd, len, NULL, NULL);
}

/* First read: by SFI (P1 = 80|SFI, makes the EF current) or after SELECT EF; the
 * rest by offset on the current EF (ISO 7816-4 §11.2.2; SFI reads reach 255 only). */
uint16_t e2e_read_path(struct e2e_card *card, const struct hpki_cio_path *path, size_t chunk, uint8_t **out,
		       size_t *out_len)
{
	static uint8_t data[E2E_RESP_MAX];
	uint8_t cmd[8];
	uint8_t sfi = 0;
	uint16_t fid = 0, sw;
	size_t total = 0, n;
	uint8_t *buf = malloc(65536);

	*out = buf;
	*out_len = 0;
	if (buf == NULL)
		return 0;
	bool by_sfi = hpki_cio_path_is_sfi(path, &sfi);
	if (!by_sfi && !hpki_cio_path_is_fid(path, &fid))
		return 0;
	if (!by_sfi) {
		uint8_t sel[7] = { 0x00, HPKI_INS_SELECT, 0x02, 0x0C, 0x02, (uint8_t)(fid >> 8), (uint8_t)fid };
		sw = e2e_transmit(card, sel, sizeof sel, NULL, NULL);
		if (sw != HPKI_SW_OK)
			return sw;
	}
	for (int i = 0; i < 300; i++) {
		size_t len;
		cmd[0] = 0x00;
		cmd[1] = HPKI_INS_READ_BINARY;
		if (i == 0 && by_sfi) {
			cmd[2] = (uint8_t)(0x80 | sfi);
			cmd[3] = 0;
		} else {
			cmd[2] = (uint8_t)(total >> 8);
			cmd[3] = (uint8_t)total;
		}
		if (chunk == 0) { /* extended Le 000000: up to 65536 / the end of the file */
			cmd[4] = cmd[5] = cmd[6] = 0;
			len = 7;
		} else {
			cmd[4] = (uint8_t)(chunk >= 256 ? 0 : chunk);
			len = 5;
		}
		sw = e2e_transmit(card, cmd, len, data, &n);
		if (sw != HPKI_SW_OK && sw != HPKI_SW_END_OF_FILE) {
			/* 6B00 after the last byte: the file ended exactly on a chunk boundary. */
			*out_len = total;
			return total > 0 && sw == HPKI_SW_WRONG_P1P2 ? HPKI_SW_OK : sw;
		}
		if (total + n > 65536)
			return 0;
		memcpy(buf + total, data, n);
		total += n;
		*out_len = total;
		if (sw == HPKI_SW_END_OF_FILE || n == 0 || chunk == 0 || total > 0x7FFF)
			return HPKI_SW_OK;
	}
	return 0;
}

uint8_t *e2e_load_file(const struct e2e_card *card, const char *sub, const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	uint8_t *buf;

	snprintf(path, sizeof path, "%s/%s/%s", card->data_dir, sub, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	buf = malloc(65536);
	*len = buf != NULL ? fread(buf, 1, 65536, f) : 0;
	fclose(f);
	return buf;
}

/* ---- signing ---------------------------------------------------------------------------- */

static size_t modulus_bytes(const struct e2e_card *card, int app)
{
	size_t len;
	uint8_t *der = e2e_load_file(card, card->holder, app == 1 ? "sig.crt.der" : "auth.crt.der", &len);
	const uint8_t *p = der;
	X509 *x = der != NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
	size_t size = 0;

	if (x != NULL)
		size = (size_t)EVP_PKEY_get_size(X509_get0_pubkey(x));
	X509_free(x);
	free(der);
	return size;
}

static uint16_t sign_legacy(struct e2e_card *card, const uint8_t *digest_info, size_t di_len, uint8_t *sig,
			    size_t *sig_len)
{
	uint8_t cmd[5 + 64 + 1] = { HPKI_CLA_PROPRIETARY, HPKI_INS_PSO, HPKI_LEGACY_SIGN_P1, HPKI_LEGACY_SIGN_P2,
				    (uint8_t)di_len };
	uint16_t sw = e2e_apdu(card, "00 A4 02 0C 02 00 0C", NULL, NULL);

	if (sw != HPKI_SW_OK)
		return sw;
	memcpy(cmd + 5, digest_info, di_len);
	cmd[5 + di_len] = 0x00;
	return e2e_transmit(card, cmd, 6 + di_len, sig, sig_len);
}

static uint16_t sign_pso(struct e2e_card *card, const uint8_t *block, size_t k, uint8_t *sig, size_t *sig_len)
{
	uint8_t cmd[16 + 1024];
	uint16_t sw = e2e_profile_is(card, "jahis") ? e2e_apdu(card, "00 22 41 B6 04 81 02 00 17", NULL, NULL)
						    : e2e_apdu(card, "00 22 41 B6 04 84 02 00 0C", NULL, NULL);
	size_t pos = 0;

	if (sw != HPKI_SW_OK)
		return sw;
	if (card->extended) { /* G31 A.3.3: extended Lc 00 hh ll, Le 00 00 */
		memcpy(cmd, (uint8_t[]){ 0x00, HPKI_INS_PSO, HPKI_PSO_P1_SIGNATURE, HPKI_PSO_P2_INPUT, 0x00,
					 (uint8_t)(k >> 8), (uint8_t)k }, 7);
		memcpy(cmd + 7, block, k);
		cmd[7 + k] = cmd[8 + k] = 0x00;
		return e2e_transmit(card, cmd, 9 + k, sig, sig_len);
	}
	/* Command chaining (ISO 7816-4 §5.1.1.1, G31 A.3.3): CLA 10 on all parts but the last. */
	while (k - pos > 255) {
		size_t part = 128;
		memcpy(cmd, (uint8_t[]){ HPKI_CLA_CHAIN, HPKI_INS_PSO, HPKI_PSO_P1_SIGNATURE, HPKI_PSO_P2_INPUT,
					 (uint8_t)part }, 5);
		memcpy(cmd + 5, block + pos, part);
		sw = e2e_transmit(card, cmd, 5 + part, NULL, NULL);
		if (sw != HPKI_SW_OK)
			return sw;
		pos += part;
	}
	memcpy(cmd, (uint8_t[]){ 0x00, HPKI_INS_PSO, HPKI_PSO_P1_SIGNATURE, HPKI_PSO_P2_INPUT, (uint8_t)(k - pos) }, 5);
	memcpy(cmd + 5, block + pos, k - pos);
	cmd[5 + k - pos] = 0x00;
	return e2e_transmit(card, cmd, 6 + k - pos, sig, sig_len);
}

uint16_t e2e_sign(struct e2e_card *card, int app, const uint8_t *msg, size_t msg_len, uint8_t **sig,
		  size_t *sig_len)
{
	uint8_t digest_info[sizeof sha256_prefix + 32];
	uint8_t block[1024];
	unsigned dlen = 32;
	size_t k = modulus_bytes(card, app);

	*sig = malloc(E2E_RESP_MAX);
	*sig_len = 0;
	if (*sig == NULL || k < sizeof digest_info + 11 || k > sizeof block)
		return 0;
	memcpy(digest_info, sha256_prefix, sizeof sha256_prefix);
	EVP_Digest(msg, msg_len, digest_info + sizeof sha256_prefix, &dlen, EVP_sha256(), NULL);
	if (e2e_profile_is(card, "jma-2019"))
		return sign_legacy(card, digest_info, sizeof digest_info, *sig, sig_len);
	/* EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF..FF 00 || DigestInfo, built by the host (G31 C.6.1). */
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, k - sizeof digest_info - 3);
	block[k - sizeof digest_info - 1] = 0x00;
	memcpy(block + k - sizeof digest_info, digest_info, sizeof digest_info);
	return sign_pso(card, block, k, *sig, sig_len);
}
