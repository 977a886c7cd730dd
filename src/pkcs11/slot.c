/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readers and slots. Each PC/SC reader gets HPKI_SLOTS_PER_READER slots, one per
 * application role (authentication first, then signature), so slot IDs stay the
 * same for the life of the process whatever card is inserted. Readers are never
 * removed from the table: NSS cannot cope with a shrinking slot list
 * (consumer-expectations §2.2, NSS bug 1613632).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "concurrent.h"
#include "log.h"
#include "settings.h"
#include "slot.h"

static struct hpki_reader readers[HPKI_MAX_READERS];
static size_t reader_count;
/* reader_count for calls that do not take the lock (C_GetSlotList while card I/O
 * runs, issue 8 §3): readers are only ever added, so a slightly old value is a
 * prefix of the truth. */
static atomic_size_t published_reader_count;
/* A card that is in the reader but does not answer (SCARD_STATE_MUTE): told to the
 * wait so that it does not wake on that state again and again. */
static bool reader_mute[HPKI_MAX_READERS];
static uint64_t insertion_counter;
static double readers_refreshed_at = -1e9;
/* The first look after C_Initialize is the baseline: a card already present then
 * is no slot event (PKCS#11 2.40 §5.5 C_WaitForSlotEvent reports changes). */
static bool presence_baseline_pending = true;

/* PC/SC: card I/O and status under the module lock; the transport keeps a second
 * PC/SC context inside for waits, which pcsc-lite would otherwise serialise. */
static const struct hpki_transport_ops *transport;
static void *io_context;
/* io_context for hpki_slots_cancel_wait, which C_Finalize calls without the lock. */
static void *_Atomic published_context;
static hpki_slot_removed_fn slot_removed;
static const atomic_bool *card_io_cancel;
/* The PC/SC context a reader's card is connected through when it is not io_context:
 * a card read on a thread of its own was connected through a context of its own
 * (pcsc-lite serialises every call made on one context, and its API asks for one
 * context per thread: winscard_clnt.c, SCardEstablishContext). The handle belongs
 * to that context, so it lives as long as the card stays attached. */
static void *card_context[HPKI_MAX_READERS];
static void free_retired(void);
/* Each token's mechanism list, published when the card is read and withdrawn when it
 * goes (issue 8 §3); published_lock is held for a copy only, never across card I/O. */
static pthread_mutex_t published_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool present;
	size_t count;
	CK_MECHANISM_TYPE list[HPKI_PUBLISHED_MECHS];
} published_mechs[HPKI_MAX_READERS * 2];
/* Contexts of a pcscd that went away (hpki_slots_service_lost). */
#define HPKI_RETIRED_CONTEXTS 8
static void *retired[HPKI_RETIRED_CONTEXTS];
static size_t retired_count;

void hpki_slots_forget(void)
{
	memset(readers, 0, sizeof readers);
	memset(reader_mute, 0, sizeof reader_mute);
	memset(card_context, 0, sizeof card_context);
	memset(published_mechs, 0, sizeof published_mechs);
	retired_count = 0;
	reader_count = 0;
	atomic_store(&published_reader_count, 0);
	readers_refreshed_at = -1e9;
	presence_baseline_pending = true;
	io_context = NULL;
	atomic_store(&published_context, NULL);
}

void hpki_slots_init(const struct hpki_transport_ops *ops, hpki_slot_removed_fn on_removed,
		     const atomic_bool *cancel)
{
	hpki_slots_forget();
	transport = ops;
	slot_removed = on_removed;
	card_io_cancel = cancel;
}

CK_ULONG hpki_slot_count_published(void)
{
	return (CK_ULONG)(atomic_load(&published_reader_count) * HPKI_SLOTS_PER_READER);
}

bool hpki_slots_have_context(void)
{
	enum hpki_io_status status;

	if (io_context != NULL)
		return true;
	status = transport->open_context(&io_context);
	if (status != HPKI_IO_OK) {
		hpki_info("no PC/SC context yet: %s", hpki_io_status_text(status));
		io_context = NULL;
		return false;
	}
	atomic_store(&published_context, io_context);
	return true;
}

void hpki_slots_cancel_wait(void)
{
	void *context = atomic_load(&published_context);

	if (context != NULL)
		transport->cancel_wait(context);
}

static CK_SLOT_ID slot_id_of(size_t reader, size_t role_index)
{
	return (CK_SLOT_ID)(reader * HPKI_SLOTS_PER_READER + role_index);
}

void hpki_slots_after_fork(void)
{
	static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	memcpy(&published_lock, &fresh, sizeof fresh);
}

static void publish_mechanisms(CK_SLOT_ID slot, const struct hpki_token *token)
{
	pthread_mutex_lock(&published_lock);
	published_mechs[slot].present = token != NULL;
	published_mechs[slot].count = token != NULL ? hpki_mech_list(&token->caps, published_mechs[slot].list,
								      HPKI_PUBLISHED_MECHS) : 0;
	pthread_mutex_unlock(&published_lock);
}

void hpki_slot_publish_mechanisms(const struct hpki_token *token)
{
	const struct hpki_reader *r = token->reader;

	for (size_t i = 0; i < HPKI_SLOTS_PER_READER; i++)
		if (r->tokens[i] == token)
			publish_mechanisms(slot_id_of((size_t)(r - readers), i), token);
}

CK_RV hpki_slot_mechanisms_published(CK_SLOT_ID slot, CK_MECHANISM_TYPE *list, size_t *count)
{
	CK_RV rv = CKR_OK;

	if (slot >= hpki_slot_count_published())
		return CKR_SLOT_ID_INVALID;
	pthread_mutex_lock(&published_lock);
	if (!published_mechs[slot].present)
		rv = CKR_TOKEN_NOT_PRESENT;
	*count = published_mechs[slot].count;
	memcpy(list, published_mechs[slot].list, *count * sizeof list[0]);
	pthread_mutex_unlock(&published_lock);
	return rv;
}

/* Disconnects the card, and closes the context it had to itself. */
static void release_card(struct hpki_reader *r)
{
	size_t index = (size_t)(r - readers);

	hpki_card_detach(&r->card);
	if (card_context[index] != NULL) {
		transport->close_context(card_context[index]);
		card_context[index] = NULL;
	}
}

static void drop_card(struct hpki_reader *r)
{
	size_t i;

	for (i = 0; i < HPKI_SLOTS_PER_READER; i++) {
		if (slot_removed != NULL)
			slot_removed(slot_id_of((size_t)(r - readers), i));
		hpki_token_free(r->tokens[i]);
		r->tokens[i] = NULL;
		publish_mechanisms(slot_id_of((size_t)(r - readers), i), NULL);
	}
	release_card(r);
	r->card_read = false;
}

void hpki_slots_free(void)
{
	size_t i;

	for (i = 0; i < reader_count; i++)
		drop_card(&readers[i]);
	if (io_context != NULL)
		transport->close_context(io_context);
	free_retired();
	hpki_slots_forget();
}

static struct hpki_reader *find_reader(const char *name)
{
	size_t i;

	for (i = 0; i < reader_count; i++)
		if (strcmp(readers[i].name, name) == 0)
			return &readers[i];
	return NULL;
}

static void mark_event(struct hpki_reader *r)
{
	size_t i;

	for (i = 0; i < HPKI_SLOTS_PER_READER; i++)
		r->event_pending[i] = true;
}

/* A reader that left the system keeps its slots, without a token. */
static void reader_gone(struct hpki_reader *r)
{
	if (r->card_present) {
		hpki_info("reader '%s' removed", r->name);
		drop_card(r);
		mark_event(r);
	}
	r->attached_to_system = false;
	r->card_present = false;
}

/*
 * pcscd went away (stopped, restarted: SCARD_E_NO_SERVICE / INVALID_HANDLE): every
 * card handle and both contexts are void. Each reader loses its card (sessions
 * close, slots report an event) and keeps its slots; the context is opened again on
 * the next call, and the readers come back under the same slot IDs (issue 8 §4).
 * The old context is not freed here: a C_WaitForSlotEvent on another thread may
 * still be inside it. It is kept until C_Finalize.
 */
void hpki_slots_service_lost(void)
{
	size_t i;

	if (io_context == NULL)
		return;
	hpki_error("the PC/SC service is gone; readers are dropped until it is back");
	for (i = 0; i < reader_count; i++)
		reader_gone(&readers[i]);
	atomic_store(&published_context, NULL);
	if (retired_count < HPKI_RETIRED_CONTEXTS)
		retired[retired_count++] = io_context;
	io_context = NULL;
	readers_refreshed_at = -1e9;
}

static void free_retired(void)
{
	size_t i;

	for (i = 0; i < retired_count; i++)
		transport->close_context(retired[i]);
	retired_count = 0;
}

CK_ULONG hpki_slot_count(void)
{
	return (CK_ULONG)(reader_count * HPKI_SLOTS_PER_READER);
}

static void refresh_readers(bool force);

struct hpki_reader *hpki_slot_reader(CK_SLOT_ID slot_id, size_t *role_index)
{
	size_t reader = (size_t)(slot_id / HPKI_SLOTS_PER_READER);

	/* A slot ID may come from the application's configuration rather than from
	 * C_GetSlotList (SunPKCS11 "slot = 1" calls C_GetSlotInfo right after
	 * C_Initialize): an unknown ID first looks at the readers, at most once per
	 * refresh interval, before it is CKR_SLOT_ID_INVALID (PKCS#11 2.40 §5.5). */
	if (slot_id >= hpki_slot_count())
		refresh_readers(false);
	if (slot_id >= hpki_slot_count())
		return NULL;
	if (role_index != NULL)
		*role_index = (size_t)(slot_id % HPKI_SLOTS_PER_READER);
	return &readers[reader];
}

/* A card was inserted, removed or swapped since we last looked. */
static void apply_presence(struct hpki_reader *r, const struct hpki_reader_state *state)
{
	bool present = state->present && !state->mute;
	/* The event counter catches a swap between two looks (pcsc-lite dwEventState high word). */
	bool changed = present != r->card_present || (present && state->event_count != r->event_count);

	reader_mute[r - readers] = state->present && state->mute;
	if (!changed) {
		/* Without a card there is no swap to tell apart; the wait must know the
		 * counter all the same, or a mute card would wake it at once, forever. */
		if (!present)
			r->event_count = state->event_count;
		return;
	}
	hpki_info("reader '%s': card %s", r->name, present ? "inserted" : "removed");
	drop_card(r);
	r->read_failures = 0;
	r->retry_at = 0;
	r->card_present = present;
	r->event_count = state->event_count;
	r->generation = ++insertion_counter;
	if (!presence_baseline_pending)
		mark_event(r);
}

static struct hpki_reader *add_reader(const char *name)
{
	struct hpki_reader *r;

	if (reader_count == HPKI_MAX_READERS) {
		hpki_error("more than %d readers: '%s' ignored", HPKI_MAX_READERS, name);
		return NULL;
	}
	r = &readers[reader_count++];
	memset(r, 0, sizeof *r);
	atomic_store(&published_reader_count, reader_count);
	/* Names came from the transport, which bounds them by HPKI_READER_NAME_MAX. */
	memcpy(r->name, name, sizeof r->name);
	r->name[sizeof r->name - 1] = '\0';
	hpki_info("reader '%s' gets slots from %lu", r->name, (unsigned long)slot_id_of((size_t)(r - readers), 0));
	return r;
}

/*
 * Readers and card presence from the resource manager in one call, no APDU;
 * at most once per refresh interval unless forced (NSS polls every second,
 * consumer-expectations §4). New readers get slots; readers never lose theirs.
 */
static void refresh_readers(bool force)
{
	struct hpki_reader_state listed[HPKI_MAX_READERS];
	size_t count = 0, i, j;
	enum hpki_io_status status;
	double now = hpki_now();

	if (!force && now - readers_refreshed_at < hpki_settings()->refresh_interval)
		return;
	if (!hpki_slots_have_context())
		return;
	readers_refreshed_at = now;
	status = transport->list_readers(io_context, listed, HPKI_MAX_READERS, &count);
	if (status == HPKI_IO_NO_SERVICE) {
		hpki_slots_service_lost();
		return;
	}
	if (status != HPKI_IO_OK) {
		hpki_info("listing readers: %s", hpki_io_status_text(status));
		count = 0;
	}
	for (i = 0; i < reader_count; i++) {
		bool still_there = false;

		for (j = 0; j < count; j++)
			still_there |= strcmp(readers[i].name, listed[j].name) == 0;
		if (!still_there && readers[i].attached_to_system)
			reader_gone(&readers[i]);
	}
	for (j = 0; j < count; j++) {
		struct hpki_reader *r = find_reader(listed[j].name);

		if (r == NULL && (r = add_reader(listed[j].name)) == NULL)
			continue;
		r->attached_to_system = true;
		apply_presence(r, &listed[j]);
	}
	if (status == HPKI_IO_OK)
		presence_baseline_pending = false;
}

void hpki_slots_refresh(bool force)
{
	refresh_readers(force);
}

static size_t role_slot_index(enum hpki_app_role role)
{
	if (HPKI_BUILD_APPS != HPKI_BUILD_ALL)
		return 0;
	return role == HPKI_ROLE_SIGNATURE ? 1 : 0;
}

static bool role_wanted(enum hpki_app_role role)
{
	switch (HPKI_BUILD_APPS) {
	case HPKI_BUILD_SIGNATURE:
		return role == HPKI_ROLE_SIGNATURE;
	case HPKI_BUILD_AUTHENTICATION:
		return role == HPKI_ROLE_AUTHENTICATION;
	default:
		if (role == HPKI_ROLE_SIGNATURE)
			return hpki_settings()->show_signature;
		if (role == HPKI_ROLE_AUTHENTICATION)
			return hpki_settings()->show_authentication;
		return true;
	}
}

/* The roles whose tokens this process shows: the card library reads no other
 * application (issue 11: a hidden token costs no APDU). */
static unsigned wanted_roles(void)
{
	unsigned roles = 0;

	if (role_wanted(HPKI_ROLE_SIGNATURE))
		roles |= HPKI_ROLE_BIT(HPKI_ROLE_SIGNATURE);
	if (role_wanted(HPKI_ROLE_AUTHENTICATION))
		roles |= HPKI_ROLE_BIT(HPKI_ROLE_AUTHENTICATION);
	return roles;
}

static void make_tokens(struct hpki_reader *r)
{
	size_t app;

	for (app = 0; app < r->card.app_count; app++) {
		enum hpki_app_role role = r->card.apps[app].role;
		size_t index = role_slot_index(role);

		if (!role_wanted(role))
			continue;
		if (role == HPKI_ROLE_UNKNOWN && r->tokens[index] != NULL)
			index = (index + 1) % HPKI_SLOTS_PER_READER;
		if (r->tokens[index] != NULL) {
			hpki_error("'%s': application %zu has no free slot; ignored", r->name, app);
			continue;
		}
		r->tokens[index] = hpki_token_new(r, app, r->generation);
		publish_mechanisms(slot_id_of((size_t)(r - readers), index), r->tokens[index]);
	}
}

/* A failure worth another try: the card was busy or being moved, not "not HPKI". */
static bool transient_failure(enum hpki_card_status status)
{
	return status == HPKI_CARD_IO_ERROR || status == HPKI_CARD_BUSY || status == HPKI_CARD_REMOVED;
}

#define HPKI_READ_ATTEMPTS 3

static bool card_to_read(const struct hpki_reader *r, double now)
{
	return r->card_present && !r->card_read && now >= r->retry_at;
}

/* What reading a card does with the card alone: it touches nothing but this
 * reader's card, so several of them may run at once on threads of their own. */
static enum hpki_card_status attach_and_enumerate(struct hpki_reader *r, void *context)
{
	enum hpki_card_status status;

	status = hpki_card_attach(&r->card, transport, context, r->name);
	r->card.link.cancel = card_io_cancel;
	r->card.cache_dir = hpki_settings()->cache_dir;
	r->card.warm_start = hpki_settings()->warm_start;
	if (status == HPKI_CARD_OK)
		status = hpki_card_enumerate_roles(&r->card, wanted_roles());
	return status;
}

/*
 * Reads the card once per insertion (consumer-expectations §3.1: never probe
 * forever). A transient failure — another process holding the card, a card
 * pulled out mid-read — is tried again at most HPKI_READ_ATTEMPTS times, one
 * refresh interval apart; a card that is not HPKI is not asked again.
 * This half publishes what attach_and_enumerate() found, on the caller's thread.
 */
static void finish_read(struct hpki_reader *r, enum hpki_card_status status)
{
	r->read_status = status;
	if (status == HPKI_CARD_OK) {
		r->card_read = true;
		hpki_info("'%s': %zu HPKI application(s), %lu APDUs", r->name, r->card.app_count,
			  r->card.link.apdu_count);
		make_tokens(r);
		return;
	}
	release_card(r);
	if (transient_failure(status) && ++r->read_failures < HPKI_READ_ATTEMPTS) {
		r->retry_at = hpki_now() + hpki_settings()->refresh_interval;
		hpki_info("'%s': reading the card failed (%s); will try again", r->name, hpki_card_status_text(status));
		return;
	}
	/* Not HPKI, or unreadable: the slot stays token-less until the card changes. */
	r->card_read = true;
	hpki_info("'%s': no token (%s)", r->name, hpki_card_status_text(status));
}

/* Every reader's card may be read at once. */
_Static_assert(HPKI_MAX_READERS <= HPKI_CONCURRENT_MAX, "hpki_run_concurrently must take a job per reader");

/* One card of a concurrent read (read_cards). */
struct read_job {
	struct hpki_reader *r;
	void *shared_context; /* io_context */
	void *own_context;    /* opened by the job; NULL: it uses shared_context */
	bool wants_own;
	enum hpki_card_status status;
};

static void read_job_run(void *arg)
{
	struct read_job *job = arg;

	/* Without a context of its own (pcscd's limit on clients, default 200 for all
	 * processes) the card is read through the shared one: pcsc-lite then serialises
	 * it with the others — slower, still correct. */
	if (job->wants_own && transport->open_context(&job->own_context) != HPKI_IO_OK)
		job->own_context = NULL;
	job->status = attach_and_enumerate(job->r, job->own_context != NULL ? job->own_context : job->shared_context);
}

/*
 * Reads every card that waits to be read, `first` among them, at once (issue 11:
 * a clinic's terminal may have two or three readers; read one after another, four
 * cards took four times as long as one). An application that looks at one slot
 * looks at all of them (NSS, p11-kit and pkcs11-tool walk the slot list), so when
 * one card must be read the others are read with it and cost the time of the
 * slowest card rather than the sum.
 *
 * The first card is read on the caller's thread through io_context, exactly as a
 * single card is; each other one on a short-lived thread through a context of its
 * own. The threads touch only their own reader's card (and the thread-safe log);
 * the caller holds the module's lock throughout and publishes the results after
 * every thread has ended, so no other thread can see a card half read. Each card
 * keeps its own budget (pkcs11-spec "Card budgets"), C_Finalize's cancel flag stops
 * all of them before their next APDU, and a card that hangs delays the others' tokens
 * by no more than its budget. In a forked child the threads do not exist; the
 * contexts are forgotten with the readers (hpki_slots_forget).
 */
static void read_cards(struct hpki_reader *first)
{
	struct read_job jobs[HPKI_MAX_READERS];
	void *job_ptrs[HPKI_MAX_READERS];
	size_t i, n = 0;
	double now = hpki_now();

	if (!card_to_read(first, now))
		return;
	jobs[n++] = (struct read_job){ .r = first, .shared_context = io_context };
	for (i = 0; i < reader_count; i++)
		if (&readers[i] != first && card_to_read(&readers[i], now))
			jobs[n++] = (struct read_job){ .r = &readers[i], .shared_context = io_context, .wants_own = true };
	for (i = 0; i < n; i++)
		job_ptrs[i] = &jobs[i];
	if (n > 1)
		hpki_info("reading %zu cards at once", n);
	hpki_run_concurrently(read_job_run, job_ptrs, n);
	for (i = 0; i < n; i++) {
		card_context[jobs[i].r - readers] = jobs[i].own_context;
		finish_read(jobs[i].r, jobs[i].status);
	}
}

struct hpki_token *hpki_slot_token(CK_SLOT_ID slot_id, bool force_refresh)
{
	size_t role_index;
	struct hpki_reader *r = hpki_slot_reader(slot_id, &role_index);

	refresh_readers(force_refresh);
	if (r == NULL)
		return NULL;
	read_cards(r);
	return r->tokens[role_index];
}

CK_RV hpki_slot_info(CK_SLOT_ID slot_id, CK_SLOT_INFO *info)
{
	size_t role_index;
	struct hpki_reader *r = hpki_slot_reader(slot_id, &role_index);
	struct hpki_token *token;
	char description[HPKI_READER_NAME_MAX + 16];

	if (r == NULL)
		return CKR_SLOT_ID_INVALID;
	token = hpki_slot_token(slot_id, false);
	memset(info, 0, sizeof *info);
	/* G31 §5.2.2: slot description = PC/SC reader name; manufacturer blank. The
	 * role suffix keeps the two slots of one reader apart in PKCS#11 URIs. */
	if (HPKI_SLOTS_PER_READER > 1)
		snprintf(description, sizeof description, "%s (%s)", r->name, role_index == 0 ? "auth" : "sign");
	else
		snprintf(description, sizeof description, "%s", r->name);
	hpki_pad_field(info->slotDescription, sizeof info->slotDescription, description);
	hpki_pad_field(info->manufacturerID, sizeof info->manufacturerID, "");
	info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
	if (token != NULL)
		info->flags |= CKF_TOKEN_PRESENT;
	return CKR_OK;
}

bool hpki_slots_take_event(bool force_refresh, CK_SLOT_ID *slot_id)
{
	size_t i, k;

	refresh_readers(force_refresh);
	for (i = 0; i < reader_count; i++) {
		for (k = 0; k < HPKI_SLOTS_PER_READER; k++)
			if (readers[i].event_pending[k]) {
				readers[i].event_pending[k] = false;
				*slot_id = slot_id_of(i, k);
				return true;
			}
	}
	return false;
}

void hpki_slots_prepare_wait(struct hpki_slot_wait *wait)
{
	size_t i, n = 0;

	memset(wait, 0, sizeof *wait);
	wait->ops = transport;
	wait->context = io_context;
	for (i = 0; i < reader_count && n < HPKI_MAX_READERS; i++) {
		if (!readers[i].attached_to_system)
			continue;
		memcpy(wait->states[n].name, readers[i].name, sizeof wait->states[n].name);
		/* A mute card is "present and mute" to pcsc-lite; telling it "empty" would
		 * make every wait return at once, forever (issue 8 §4). */
		wait->states[n].present = readers[i].card_present || reader_mute[i];
		wait->states[n].mute = reader_mute[i];
		wait->states[n].event_count = readers[i].event_count;
		n++;
	}
	wait->count = n;
}

enum hpki_io_status hpki_slots_wait(struct hpki_slot_wait *wait)
{
	return wait->ops->wait_readers(wait->context, wait->states, wait->count, UINT32_MAX);
}
