/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hpki-vcard: the virtual HPKI card behind vsmartcard's vpcd reader driver.
 *
 * One process plays one card in one reader slot. It connects to vpcd (which
 * listens inside pcscd), answers the reader's frames with the card model
 * (vcard.h), and serves the control socket, all from one poll() loop:
 * vpcd works in lock-step, so there is never more than one request to answer.
 */
#include "config.h"

#include "control.h"
#include "replay.h"
#include "vcard.h"
#include "vpcd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* vpcd may start after us (with-vcard starts both at once): retry this long. */
#define VCARD_CONNECT_TIMEOUT_MS 10000
#define VCARD_CONNECT_RETRY_MS 50
/* After vpcd closed the connection: a hiccup reconnects, a pcscd that has gone
 * away refuses; then we exit. */
#define VCARD_RECONNECT_WINDOW_MS 1500
#define VCARD_RECONNECT_RETRY_MS 100
#define VCARD_INSERT_TIMEOUT_MS 1000

struct vcard_program {
	struct vcard_config config;
	char *holder;                /* owned; config.holder points here */
	const char *profile_name;
	struct vcard *card;
	struct vcard_vpcd vpcd;
	struct vcard_control control;
	bool has_control;
	unsigned delay_ms;
	bool quit;
	int exit_status;
	/* A reply held back by "delay MS". */
	bool pending;
	long long pending_due_ms;
	size_t pending_len;
	uint8_t pending_resp[VCARD_VPCD_RESP_MAX];
	/* Reconnecting after vpcd closed on us. */
	bool reconnecting;
	long long reconnect_until_ms;
	long long reconnect_next_ms;
};

static struct vcard_program program; /* large buffers: static, not on the stack */
static volatile sig_atomic_t stop_signal;
static sigset_t unblocked_mask;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps, but returns at once on SIGTERM/SIGINT (they are only unblocked here and in the loop). */
static void sleep_interruptible(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	(void)ppoll(NULL, 0, &ts, &unblocked_mask);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	/* Blocked except inside ppoll(): no signal is lost between the flag test and the wait. */
	sigprocmask(SIG_BLOCK, &block, &unblocked_mask);
	sigdelset(&unblocked_mask, SIGTERM);
	sigdelset(&unblocked_mask, SIGINT);
	sigdelset(&unblocked_mask, SIGHUP);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- insertion and removal ------------------------------------------------------ */

static int connect_with_retry(struct vcard_program *p, int timeout_ms)
{
	long long until = now_ms() + timeout_ms;

	for (;;) {
		if (vcard_vpcd_connect(&p->vpcd) == 0) {
			vcard_log(1, "connected to vpcd %s:%u (card inserted)", p->vpcd.host, p->vpcd.port);
			return 0;
		}
		if (errno != ECONNREFUSED && errno != ETIMEDOUT)
			return -1;
		if (stop_signal || now_ms() >= until)
			return -1;
		sleep_interruptible(VCARD_CONNECT_RETRY_MS);
	}
}

static void card_remove(struct vcard_program *p)
{
	if (vcard_vpcd_connected(&p->vpcd))
		vcard_log(1, "card removed");
	vcard_vpcd_close(&p->vpcd);
	p->pending = false;
	p->reconnecting = false;
	/* A real card loses power when it leaves the reader. */
	vcard_power_off(p->card);
}

static struct vcard *ops_card(void *ctx)
{
	return ((struct vcard_program *)ctx)->card;
}

static int ops_remove(void *ctx, const char **error)
{
	card_remove(ctx);
	return 0;
}

static int ops_insert(void *ctx, const char **error)
{
	struct vcard_program *p = ctx;

	if (vcard_vpcd_connected(&p->vpcd)) {
		*error = "card already inserted";
		return -1;
	}
	p->reconnecting = false;
	if (connect_with_retry(p, VCARD_INSERT_TIMEOUT_MS) != 0) {
		*error = "vpcd is not listening";
		return -1;
	}
	return 0;
}

static bool holder_name_ok(const char *holder)
{
	/* A directory name under the data dir, nothing that climbs out of it. */
	return *holder != '\0' && strchr(holder, '/') == NULL && strcmp(holder, ".") && strcmp(holder, "..");
}

static int ops_swap(void *ctx, const char *holder, const char **error)
{
	struct vcard_program *p = ctx;
	struct vcard_config config = p->config;
	char *copy;
	struct vcard *card;

	if (!holder_name_ok(holder)) {
		*error = "bad holder name";
		return -1;
	}
	copy = strdup(holder);
	if (copy == NULL) {
		*error = "out of memory";
		return -1;
	}
	config.holder = copy;
	/* Build the new card first, so that a failure leaves the old one in place. */
	card = vcard_new(&config, error);
	if (card == NULL) {
		free(copy);
		return -1;
	}
	card_remove(p);
	vcard_free(p->card);
	free(p->holder);
	p->card = card;
	p->holder = copy;
	p->config = config;
	vcard_log(1, "swapped in holder %s", copy);
	return ops_insert(p, error);
}

static void ops_set_delay(void *ctx, unsigned ms)
{
	((struct vcard_program *)ctx)->delay_ms = ms;
}

static void ops_quit(void *ctx)
{
	((struct vcard_program *)ctx)->quit = true;
}

static const char *response_mode_name(enum vcard_response_mode mode)
{
	switch (mode) {
	case VCARD_RESPONSE_GET_RESPONSE:
		return "get-response";
	case VCARD_RESPONSE_WRONG_LE:
		return "wrong-le";
	default:
		return "direct";
	}
}

static const char *apps_name(enum vcard_apps apps)
{
	switch (apps) {
	case VCARD_APPS_SIGNATURE_ONLY:
		return "sig";
	case VCARD_APPS_AUTHENTICATION_ONLY:
		return "auth";
	default:
		return "both";
	}
}

/* Switches the fixed status fields show already, in their historical form. */
static bool shown_in_fixed_fields(const char *name)
{
	return !strcmp(name, "extended-length") || !strcmp(name, "chaining") || !strcmp(name, "response-mode");
}

/* " name=value" of every other card switch (card-switches.c), and "extended-scope"
 * (all, pso or none: the extended-length switch's value). */
static void append_switches(const struct vcard_config *config, char *buf, size_t size)
{
	const char *name;
	char value[32];
	size_t len = strlen(buf);

	vcard_switch_get(config, "extended-length", value, sizeof value);
	snprintf(buf + len, size - len, " extended-scope=%s", value);
	len += strlen(buf + len);
	for (size_t i = 0; (name = vcard_switch_name(i)) != NULL && len < size; i++) {
		if (shown_in_fixed_fields(name))
			continue;
		vcard_switch_get(config, name, value, sizeof value);
		snprintf(buf + len, size - len, " %s=%s", name, value);
		len += strlen(buf + len);
	}
}

/* The fixed fields keep their historical form (test/e2e/e2e-util.c reads them); the
 * other switches follow. */
static void ops_status(void *ctx, char *buf, size_t size)
{
	struct vcard_program *p = ctx;

	snprintf(buf, size,
		 "%s profile=%s holder=%s apps=%s extended-length=%s chaining=%s response-mode=%s delay=%u port=%u "
		 "data-dir=%s state-dir=%s",
		 vcard_vpcd_connected(&p->vpcd) ? "inserted" : "removed", p->profile_name, p->holder,
		 apps_name(p->config.apps), p->config.extended_length ? "yes" : "no",
		 p->config.command_chaining ? "yes" : "no", response_mode_name(p->config.response_mode), p->delay_ms,
		 p->vpcd.port, p->config.data_dir != NULL ? p->config.data_dir : "default", p->config.state_dir != NULL ? p->config.state_dir : "-");
	append_switches(&p->config, buf, size);
}

static const struct vcard_control_ops control_ops = {
	.card = ops_card,
	.remove = ops_remove,
	.insert = ops_insert,
	.swap = ops_swap,
	.set_delay = ops_set_delay,
	.quit = ops_quit,
	.status = ops_status,
};

/* ---- the reader side ------------------------------------------------------------ */

static void vpcd_lost(struct vcard_program *p)
{
	long long now = now_ms();

	vcard_log(1, "vpcd closed the connection");
	vcard_vpcd_close(&p->vpcd);
	vcard_power_off(p->card);
	p->pending = false;
	p->reconnecting = true;
	p->reconnect_until_ms = now + VCARD_RECONNECT_WINDOW_MS;
	p->reconnect_next_ms = now + VCARD_RECONNECT_RETRY_MS;
}

static void reply_now(struct vcard_program *p, const uint8_t *resp, size_t len)
{
	if (vcard_vpcd_send(&p->vpcd, resp, len) != 0)
		vpcd_lost(p);
}

static void handle_frame(struct vcard_program *p, const uint8_t *payload, size_t len)
{
	static uint8_t resp[VCARD_VPCD_RESP_MAX];
	size_t resp_len;
	bool is_apdu = len >= 2;

	switch (vcard_vpcd_dispatch(p->card, payload, len, resp, &resp_len)) {
	case VCARD_VPCD_NO_REPLY:
		return;
	case VCARD_VPCD_MUTE:
		/* vpcd has no timeout: a card that stays silent would hang pcscd. Going
		 * away is the closest honest behaviour; the card stays out until "insert". */
		vcard_log(1, "fault mute: card goes silent (removed)");
		card_remove(p);
		return;
	case VCARD_VPCD_REPLY:
		break;
	}
	if (is_apdu && p->delay_ms > 0) {
		memcpy(p->pending_resp, resp, resp_len);
		p->pending_len = resp_len;
		p->pending = true;
		p->pending_due_ms = now_ms() + p->delay_ms;
		return;
	}
	reply_now(p, resp, resp_len);
}

static void handle_vpcd_input(struct vcard_program *p)
{
	/* Lock-step: at most a couple of frames are ever waiting (e.g. POWER_ON then
	 * GET_ATR); the bound only guards against a misbehaving peer. */
	for (int i = 0; i < 16 && vcard_vpcd_connected(&p->vpcd) && !p->pending; i++) {
		const uint8_t *payload;
		size_t len;
		int r = vcard_vpcd_receive(&p->vpcd, &payload, &len);
		if (r < 0) {
			vpcd_lost(p);
			return;
		}
		if (r == 0)
			return;
		handle_frame(p, payload, len);
		vcard_vpcd_next_frame(&p->vpcd);
	}
}

static void handle_timers(struct vcard_program *p)
{
	long long now = now_ms();

	if (p->pending && now >= p->pending_due_ms) {
		p->pending = false;
		reply_now(p, p->pending_resp, p->pending_len);
	}
	if (p->reconnecting && now >= p->reconnect_next_ms) {
		if (vcard_vpcd_connect(&p->vpcd) == 0) {
			vcard_log(1, "reconnected to vpcd");
			p->reconnecting = false;
		} else if (now >= p->reconnect_until_ms) {
			vcard_log(1, "vpcd is gone; exiting");
			p->quit = true;
		} else {
			p->reconnect_next_ms = now + VCARD_RECONNECT_RETRY_MS;
		}
	}
}

static int next_timeout_ms(const struct vcard_program *p)
{
	long long now = now_ms(), due = -1;

	if (p->pending)
		due = p->pending_due_ms;
	if (p->reconnecting && (due < 0 || p->reconnect_next_ms < due))
		due = p->reconnect_next_ms;
	if (due < 0)
		return -1;
	return due <= now ? 0 : (int)(due - now);
}

static void run_loop(struct vcard_program *p)
{
	while (!stop_signal && !p->quit) {
		struct pollfd fds[1 + 1 + VCARD_CONTROL_MAX_CLIENTS];
		size_t n = 0, ctl_first;
		int vpcd_index = -1;
		int timeout = next_timeout_ms(p);
		struct timespec ts = { .tv_sec = timeout / 1000, .tv_nsec = (long)(timeout % 1000) * 1000000L };

		if (vcard_vpcd_connected(&p->vpcd) && !p->pending) {
			vpcd_index = (int)n;
			fds[n++] = (struct pollfd){ .fd = p->vpcd.fd, .events = POLLIN };
		}
		ctl_first = n;
		if (p->has_control)
			n += vcard_control_pollfds(&p->control, fds + n, sizeof fds / sizeof fds[0] - n);
		int r = ppoll(fds, n, timeout < 0 ? NULL : &ts, &unblocked_mask);
		if (r < 0 && errno != EINTR) {
			perror("hpki-vcard: ppoll");
			p->exit_status = 1;
			return;
		}
		if (r > 0 && vpcd_index >= 0 && fds[vpcd_index].revents != 0)
			handle_vpcd_input(p);
		if (r > 0 && p->has_control)
			vcard_control_handle(&p->control, fds + ctl_first, n - ctl_first, &control_ops, p);
		handle_timers(p);
	}
}

/* ---- command line ------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hpki-vcard [OPTIONS]            play a virtual HPKI card to vpcd\n"
		"       hpki-vcard [--control PATH] ctl COMMAND...   send a control command\n"
		"\n"
		"  --port PORT           vpcd port of the reader slot (default %u)\n"
		"  --host ADDR           vpcd address (default 127.0.0.1)\n"
		"  --profile NAME        jma (default), jahis, jma-2019, blank, jma-strict\n"
		"  --holder NAME         test PKI holder directory (default doctor)\n"
		"  --data-dir DIR        test PKI (default $HPKI_VCARD_DATA_DIR, else the installed\n"
		"                        copy, else the source tree's test/pki)\n"
		"  --state-dir DIR       keep PIN try counters here (default: not kept)\n"
		"  --apps both|sig|auth  applications on the card (default both)\n"
		"  --no-extended-length  refuse extended Lc/Le (= --extended-length none)\n"
		"  --no-chaining         refuse command chaining with 6884 (= --chaining no)\n"
		"card behaviours (the first value is the default; doc/virtual-card.md):\n"
		"  --df-select honour-p2|always-fci|refuse-XXXX   SELECT AID with P2=0C\n"
		"  --empty-verify status|always-63cx    VERIFY without data when verified\n"
		"  --extended-length all|pso|none      which commands may be extended\n"
		"  --chaining yes|no                    command chaining\n"
		"  --prkd-key-reference yes|no          keyReference in EF.PrKD\n"
		"  --mse-errors 6a88|by-file            wrong MSE reference, PSO without MSE\n"
		"  --reselect keep-pin|clear-pin        SELECT of the current application\n"
		"  --read-past-eof 6282|ff-9000         READ BINARY beyond the end\n"
		"  --files minimal|jma                  EFs 0008, 0009, 000F of JMA cards\n"
		"  --response-mode direct|get-response|wrong-le   61xx (T=0 style), 6Cxx\n"
		"  --iso-signature no|yes               jma-2019: MSE + ISO PSO as well\n"
		"  --auth-pin PIN        authentication PIN (default 1234)\n"
		"  --sign-pin PIN        signature PIN (default 5678)\n"
		"  --ca-shares-key-id    EF.CD gives the issuing CA certificate the key's iD\n"
		"  --shared-ca-entry     both applications list their (different) issuing CA\n"
		"                        certificates under one iD and FID, as G31 B.4.6\n"
		"  --control PATH        control socket (default $HPKI_VCARD_CONTROL)\n"
		"  --start-removed       wait for the control command 'insert'\n"
		"  --replay REPORT       answer like the card of an hpki-tool diagnose report\n"
		"  -v, --verbose         log events (twice: APDUs too) to stderr\n"
		"\n"
		"control commands: remove, insert, swap HOLDER, delay MS, fault sw XXXX [N],\n"
		"  fault truncate|garbage|oversize SIZE [N], fault get-response-loop, fault mute,\n"
		"  fault none, corrupt sig|auth FID truncate|huge-length|garbage, stats, stats-reset,\n"
		"  tries sig|auth, status, quit, help\n",
		VCARD_VPCD_DEFAULT_PORT);
}

struct options {
	const char *host;
	unsigned port;
	const char *control;
	bool start_removed;
	const char *replay_path;     /* --replay REPORT (replay.h) */
};

static bool parse_profile(const char *name, enum vcard_profile *profile)
{
	static const struct {
		const char *name;
		enum vcard_profile profile;
	} names[] = { { "jma", VCARD_PROFILE_JMA },
		      { "jahis", VCARD_PROFILE_JAHIS },
		      { "jma-2019", VCARD_PROFILE_JMA_2019 },
		      { "blank", VCARD_PROFILE_BLANK } };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!strcmp(name, names[i].name)) {
			*profile = names[i].profile;
			return true;
		}
	}
	return false;
}

/* jma-strict is jma with the strictest value of every card switch. */
static bool apply_profile(const char *name, struct vcard_config *cfg, struct vcard_program *p)
{
	p->profile_name = name;
	if (!strcmp(name, "jma-strict")) {
		vcard_config_set_jma_strict(cfg);
		return true;
	}
	return parse_profile(name, &cfg->profile);
}

static bool parse_apps(const char *name, enum vcard_apps *apps)
{
	if (!strcmp(name, "both"))
		*apps = VCARD_APPS_BOTH;
	else if (!strcmp(name, "sig") || !strcmp(name, "signature"))
		*apps = VCARD_APPS_SIGNATURE_ONLY;
	else if (!strcmp(name, "auth") || !strcmp(name, "authentication"))
		*apps = VCARD_APPS_AUTHENTICATION_ONLY;
	else
		return false;
	return true;
}

static bool parse_port(const char *text, unsigned *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65534)
		return false;
	*port = (unsigned)v;
	return true;
}

enum { OPT_HOST = 256, OPT_PORT, OPT_PROFILE, OPT_HOLDER, OPT_DATA, OPT_STATE, OPT_APPS, OPT_NO_EXT,
       OPT_NO_CHAIN, OPT_SWITCH, OPT_CONTROL, OPT_REMOVED, OPT_AUTH_PIN, OPT_SIGN_PIN, OPT_CA_ID, OPT_HELP,
       OPT_REPLAY, OPT_SHARED_CA };

static const struct option long_options[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "holder", required_argument, NULL, OPT_HOLDER },
	{ "data-dir", required_argument, NULL, OPT_DATA },
	{ "state-dir", required_argument, NULL, OPT_STATE },
	{ "apps", required_argument, NULL, OPT_APPS },
	{ "no-extended-length", no_argument, NULL, OPT_NO_EXT },
	{ "no-chaining", no_argument, NULL, OPT_NO_CHAIN },
	/* The card switches: the option name is the switch name (card-switches.c). */
	{ "df-select", required_argument, NULL, OPT_SWITCH },
	{ "empty-verify", required_argument, NULL, OPT_SWITCH },
	{ "extended-length", required_argument, NULL, OPT_SWITCH },
	{ "chaining", required_argument, NULL, OPT_SWITCH },
	{ "prkd-key-reference", required_argument, NULL, OPT_SWITCH },
	{ "mse-errors", required_argument, NULL, OPT_SWITCH },
	{ "reselect", required_argument, NULL, OPT_SWITCH },
	{ "read-past-eof", required_argument, NULL, OPT_SWITCH },
	{ "files", required_argument, NULL, OPT_SWITCH },
	{ "response-mode", required_argument, NULL, OPT_SWITCH },
	{ "iso-signature", required_argument, NULL, OPT_SWITCH },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "start-removed", no_argument, NULL, OPT_REMOVED },
	{ "auth-pin", required_argument, NULL, OPT_AUTH_PIN },
	{ "sign-pin", required_argument, NULL, OPT_SIGN_PIN },
	{ "ca-shares-key-id", no_argument, NULL, OPT_CA_ID },
	{ "shared-ca-entry", no_argument, NULL, OPT_SHARED_CA },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "replay", required_argument, NULL, OPT_REPLAY }, /* replay.h */
	{ NULL, 0, NULL, 0 },
};

/* Returns 0 to go on, 1/2 to exit with status 0/2. The profile was applied by
 * apply_profile before: the switches given on the command line refine it. */
static int apply_option(int c, const char *arg, const char *name, struct vcard_config *cfg, struct options *opt)
{
	bool ok = true;

	switch (c) {
	case OPT_HOST: opt->host = arg; break;
	case OPT_PORT: ok = parse_port(arg, &opt->port); break;
	case OPT_PROFILE: break;
	case OPT_HOLDER: ok = holder_name_ok(arg); cfg->holder = arg; break;
	case OPT_DATA: cfg->data_dir = arg; break;
	case OPT_STATE: cfg->state_dir = arg; break;
	case OPT_APPS: ok = parse_apps(arg, &cfg->apps); break;
	case OPT_NO_EXT: vcard_switch_set(cfg, "extended-length", "none"); break;
	case OPT_NO_CHAIN: vcard_switch_set(cfg, "chaining", "no"); break;
	case OPT_SWITCH: ok = vcard_switch_set(cfg, name, arg) == 0; break;
	case OPT_CONTROL: opt->control = arg; break;
	case OPT_REMOVED: opt->start_removed = true; break;
	case OPT_AUTH_PIN: cfg->auth_pin = arg; break;
	case OPT_SIGN_PIN: cfg->sign_pin = arg; break;
	case OPT_CA_ID: cfg->ca_shares_key_id = true; break;
	case OPT_SHARED_CA: cfg->ca_entry_shared = true; break;
	case 'v': vcard_verbosity++; break;
	case OPT_REPLAY: opt->replay_path = arg; break;
	case OPT_HELP: usage(stdout); return 1;
	default: usage(stderr); return 2;
	}
	if (!ok) {
		fprintf(stderr, "hpki-vcard: bad value '%s'\n", arg);
		return 2;
	}
	return 0;
}

static void config_defaults(struct vcard_config *cfg, struct options *opt, struct vcard_program *p)
{
	const char *data = getenv("HPKI_VCARD_DATA_DIR");

	*cfg = (struct vcard_config){
		.profile = VCARD_PROFILE_JMA,
		.apps = VCARD_APPS_BOTH,
		.holder = "doctor",
		.data_dir = data != NULL && *data != '\0' ? data : NULL, /* NULL: the card model's default */
		.state_dir = NULL,
		.extended_length = true,
		.command_chaining = true,
		.response_mode = VCARD_RESPONSE_DIRECT,
		.auth_pin = "1234",
		.sign_pin = "5678",
	};
	*opt = (struct options){ .host = "127.0.0.1", .port = VCARD_VPCD_DEFAULT_PORT,
				 .control = getenv("HPKI_VCARD_CONTROL") };
	p->profile_name = "jma";
}

/* ---- main ---------------------------------------------------------------------- */

static int start_card(struct vcard_program *p, const struct options *opt)
{
	const char *error = "unknown error";

	/* The 2019 card has no extended length at all (hpki-card-facts §4.2). */
	if (p->config.profile == VCARD_PROFILE_JMA_2019)
		p->config.extended_length = false;
	vcard_vpcd_init(&p->vpcd, opt->host, opt->port);
	p->holder = strdup(p->config.holder);
	if (p->holder == NULL)
		return -1;
	p->config.holder = p->holder;
	if (opt->replay_path != NULL &&
	    (vcard_replay_active = vcard_replay_load(opt->replay_path, &p->config, &error)) == NULL) {
		fprintf(stderr, "hpki-vcard: --replay %s: %s\n", opt->replay_path, error);
		return -1;
	}
	p->card = vcard_new(&p->config, &error);
	if (p->card == NULL) {
		fprintf(stderr, "hpki-vcard: cannot make the card: %s\n", error);
		return -1;
	}
	if (opt->control != NULL && *opt->control != '\0') {
		if (vcard_control_open(&p->control, opt->control) != 0) {
			fprintf(stderr, "hpki-vcard: control socket %s: %s\n", opt->control, strerror(errno));
			return -1;
		}
		p->has_control = true;
	}
	if (!opt->start_removed && connect_with_retry(p, VCARD_CONNECT_TIMEOUT_MS) != 0) {
		if (!stop_signal)
			fprintf(stderr, "hpki-vcard: cannot connect to vpcd at %s:%u: %s\n", opt->host, opt->port,
				strerror(errno));
		return stop_signal ? 0 : -1;
	}
	return 0;
}

static void stop_card(struct vcard_program *p)
{
	vcard_vpcd_close(&p->vpcd);
	if (p->has_control)
		vcard_control_close(&p->control);
	vcard_free(p->card);
	vcard_replay_free(vcard_replay_active);
	free(p->holder);
}

int main(int argc, char **argv)
{
	struct vcard_program *p = &program;
	struct options opt;
	int c, index = 0;

	config_defaults(&p->config, &opt, p);
	/* Two passes: the profile first (jma-strict sets many switches), then every other
	 * option, so that a switch refines the profile wherever it stands. '+': stop at
	 * the first non-option, so that "ctl COMMAND -x" reaches the client untouched. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+v", long_options, NULL)) != -1)
		if (c == OPT_PROFILE && !apply_profile(optarg, &p->config, p)) {
			fprintf(stderr, "hpki-vcard: bad value '%s'\n", optarg);
			return 2;
		}
	opterr = 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+v", long_options, &index)) != -1) {
		int r = apply_option(c, optarg, long_options[index].name, &p->config, &opt);
		if (r != 0)
			return r == 1 ? 0 : 2;
	}
	if (optind < argc && !strcmp(argv[optind], "ctl"))
		return vcard_control_client_main(opt.control, argc - optind - 1, argv + optind + 1);
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	setup_signals();
	if (start_card(p, &opt) != 0) {
		stop_card(p);
		return 1;
	}
	run_loop(p);
	if (stop_signal)
		vcard_log(1, "signal %d: exiting", (int)stop_signal);
	stop_card(p);
	return p->exit_status;
}
