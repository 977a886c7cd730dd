/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The slot layer against a fake transport ops table (issue 8 §4): readers
 * unplugged and plugged, pcscd going away and coming back, a mute card; several
 * cards read at once (issue 11).
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "module.h"
#include "settings.h"
#include "slot.h"

static struct {
	struct hpki_reader_state readers[4];
	size_t count;
	bool no_service;
	int contexts_opened;
	CK_SLOT_ID removed[16];
	size_t removed_count;
} world;

/* Contexts handed out by fake_open, so that a connection tells which one it used. */
static int contexts[64];

/* Cards that answer (world.card_delay_ms > 0): every command gets 6A 82 after the
 * delay, so an enumeration ends "not HPKI" after a few APDUs. Counted per reader,
 * from the reading threads, under world_lock. */
static struct {
	unsigned delay_ms;
	bool no_extra_context;  /* fake_open fails after the first context */
	int opened, closed;
	unsigned long apdus[4];
	void *connected_with[4];
	int active, max_active; /* transmits in progress at once */
} cards;

struct hpki_connection {
	size_t reader;
};

static struct hpki_connection connections[4];

/* The fake resource manager's state changes under this lock; waits sleep on `changed`. */
static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static bool cancelled;
static unsigned long wait_calls;

static const struct hpki_reader_state *find_world(const char *name)
{
	for (size_t i = 0; i < world.count; i++)
		if (strcmp(world.readers[i].name, name) == 0)
			return &world.readers[i];
	return NULL;
}

/* What pcsc-lite does: return at once when the caller's view differs from the truth
 * (a reader gone: NO_READER; one unknown to the caller: OK), else sleep. */
static enum hpki_io_status view_differs(struct hpki_reader_state *readers, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct hpki_reader_state *w = find_world(readers[i].name);

		if (w == NULL)
			return HPKI_IO_NO_READER;
		if (w->present != readers[i].present || w->mute != readers[i].mute ||
		    w->event_count != readers[i].event_count) {
			readers[i] = *w;
			return HPKI_IO_OK;
		}
	}
	return world.count != count ? HPKI_IO_OK : HPKI_IO_TIMEOUT;
}

static enum hpki_io_status fake_wait(void *context, struct hpki_reader_state *readers, size_t count,
				     uint32_t timeout_ms)
{
	enum hpki_io_status st;

	(void)context;
	(void)timeout_ms;
	pthread_mutex_lock(&world_lock);
	wait_calls++;
	while ((st = view_differs(readers, count)) == HPKI_IO_TIMEOUT && !cancelled)
		pthread_cond_wait(&changed, &world_lock);
	if (cancelled)
		st = HPKI_IO_CANCELLED;
	cancelled = false;
	pthread_mutex_unlock(&world_lock);
	return st;
}

static enum hpki_io_status fake_open(void **context)
{
	enum hpki_io_status st = HPKI_IO_OK;

	if (world.no_service)
		return HPKI_IO_NO_SERVICE;
	pthread_mutex_lock(&world_lock);
	if ((cards.no_extra_context && world.contexts_opened > 0) || world.contexts_opened == 64)
		st = HPKI_IO_NO_SERVICE;
	else
		*context = &contexts[world.contexts_opened++];
	cards.opened += st == HPKI_IO_OK;
	pthread_mutex_unlock(&world_lock);
	return st;
}

static void fake_close(void *context)
{
	(void)context;
	pthread_mutex_lock(&world_lock);
	cards.closed++;
	pthread_mutex_unlock(&world_lock);
}

static enum hpki_io_status fake_list(void *context, struct hpki_reader_state *readers, size_t max, size_t *count)
{
	(void)context;
	if (world.no_service)
		return HPKI_IO_NO_SERVICE;
	pthread_mutex_lock(&world_lock);
	*count = world.count < max ? world.count : max;
	memcpy(readers, world.readers, *count * sizeof readers[0]);
	pthread_mutex_unlock(&world_lock);
	return HPKI_IO_OK;
}

/* Without card_delay_ms, cards are never read: connecting finds no card. Readers
 * are named "Reader A" … "Reader D". */
static enum hpki_io_status fake_connect(void *context, const char *reader, struct hpki_connection **conn,
					uint8_t *atr, size_t *atr_len)
{
	static const uint8_t some_atr[] = { 0x3B, 0x80, 0x80, 0x01, 0x01 };
	size_t index = (size_t)(reader[strlen(reader) - 1] - 'A');

	if (cards.delay_ms == 0 || index >= 4)
		return HPKI_IO_NO_CARD;
	pthread_mutex_lock(&world_lock);
	cards.connected_with[index] = context;
	pthread_mutex_unlock(&world_lock);
	connections[index].reader = index;
	*conn = &connections[index];
	memcpy(atr, some_atr, sizeof some_atr);
	*atr_len = sizeof some_atr;
	return HPKI_IO_OK;
}

static void sleep_ms(long ms);

static enum hpki_io_status fake_transmit(struct hpki_connection *conn, const uint8_t *cmd, size_t cmd_len,
					 uint8_t *resp, size_t *resp_len)
{
	(void)cmd;
	(void)cmd_len;
	pthread_mutex_lock(&world_lock);
	cards.apdus[conn->reader]++;
	if (++cards.active > cards.max_active)
		cards.max_active = cards.active;
	pthread_mutex_unlock(&world_lock);
	sleep_ms(cards.delay_ms);
	pthread_mutex_lock(&world_lock);
	cards.active--;
	pthread_mutex_unlock(&world_lock);
	resp[0] = 0x6A;
	resp[1] = 0x82;
	*resp_len = 2;
	return HPKI_IO_OK;
}

static enum hpki_io_status fake_begin(struct hpki_connection *conn)
{
	(void)conn;
	return HPKI_IO_OK;
}

static void fake_end(struct hpki_connection *conn)
{
	(void)conn;
}

static void fake_cancel(void *context)
{
	(void)context;
	pthread_mutex_lock(&world_lock);
	cancelled = true;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&world_lock);
}

static const struct hpki_transport_ops fake_ops = {
	.open_context = fake_open,
	.close_context = fake_close,
	.list_readers = fake_list,
	.wait_readers = fake_wait,
	.cancel_wait = fake_cancel,
	.connect = fake_connect,
	.reconnect = fake_begin,
	.disconnect = fake_end,
	.begin = fake_begin,
	.end = fake_end,
	.transmit = fake_transmit,
};

static void on_removed(CK_SLOT_ID slot)
{
	if (world.removed_count < 16)
		world.removed[world.removed_count++] = slot;
}

static void plug(const char *name, bool card, bool mute)
{
	struct hpki_reader_state *r;

	pthread_mutex_lock(&world_lock);
	r = &world.readers[world.count++];
	memset(r, 0, sizeof *r);
	strcpy(r->name, name);
	r->present = card;
	r->mute = mute;
	r->event_count = card ? 1 : 0;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&world_lock);
}

static void unplug_all(void)
{
	pthread_mutex_lock(&world_lock);
	world.count = 0;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&world_lock);
}

static atomic_bool cancel;

static int setup(void **state)
{
	(void)state;
	memset(&world, 0, sizeof world);
	memset(&cards, 0, sizeof cards);
	atomic_store(&cancel, false);
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	hpki_settings_load();
	hpki_slots_init(&fake_ops, on_removed, &cancel);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hpki_slots_free();
	return 0;
}

/* Every pending event, as a bit per slot. */
static unsigned take_events(void)
{
	unsigned events = 0;
	CK_SLOT_ID slot;

	while (hpki_slots_take_event(true, &slot))
		events |= 1u << slot;
	return events;
}

/* A reader with a card unplugged: both its slots report an event and lose their
 * sessions; the slots stay; a reader plugged in later gets new slots. */
static void test_reader_unplugged_and_plugged(void **state)
{
	(void)state;
	plug("Reader A", true, false);
	/* Present at the first look: the baseline, no event (PKCS#11 2.40 §5.5). */
	assert_int_equal(take_events(), 0);
	world.count = 0;
	assert_int_equal(take_events(), 0x3); /* card gone with its reader */
	assert_int_equal(world.removed_count >= 2, true);
	assert_int_equal(hpki_slot_count(), 2);
	plug("Reader B", true, false);
	assert_int_equal(take_events(), 0xC);
	assert_int_equal(hpki_slot_count(), 4);
}

/* pcscd restarted: the cards are dropped (events), the context is opened again by
 * itself, and the reader comes back under the same slot IDs. */
static void test_service_lost_and_back(void **state)
{
	(void)state;
	plug("Reader A", true, false);
	assert_int_equal(take_events(), 0); /* the baseline */
	world.no_service = true;
	assert_int_equal(take_events(), 0x3);
	assert_false(hpki_slots_have_context());
	world.no_service = false;
	assert_int_equal(take_events(), 0x3); /* the card is back */
	assert_int_equal(world.contexts_opened, 2);
	assert_int_equal(hpki_slot_count(), 2);
}

/* A card present but mute: the wait is told exactly that state, so that
 * pcsc-lite does not report it as a change on every call. */
static void test_mute_card_is_told_to_the_wait(void **state)
{
	struct hpki_slot_wait wait;

	(void)state;
	plug("Reader A", true, true);
	assert_int_equal(take_events(), 0); /* no token, no event */
	hpki_slots_prepare_wait(&wait);
	assert_int_equal(wait.count, 1);
	assert_true(wait.states[0].present);
	assert_true(wait.states[0].mute);
}

/* ---- several cards read at once (issue 11) -------------------------------------- */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void plug_four_cards(unsigned delay_ms)
{
	cards.delay_ms = delay_ms;
	plug("Reader A", true, false);
	plug("Reader B", true, false);
	plug("Reader C", true, false);
	plug("Reader D", true, false);
}

/* Looking at one slot reads every card waiting to be read, each through a PC/SC
 * context of its own but the first (pcsc-lite serialises the calls of one context),
 * at the same time; each card is read once, and its context closes with it. */
static void test_cards_are_read_at_once(void **state)
{
	(void)state;
	plug_four_cards(20);
	assert_null(hpki_slot_token(2, true)); /* not HPKI: no token, but read */
	print_message("APDUs per card: %lu %lu %lu %lu; at most %d at once\n", cards.apdus[0], cards.apdus[1],
		      cards.apdus[2], cards.apdus[3], cards.max_active);
	for (int i = 0; i < 4; i++) {
		assert_true(cards.apdus[i] > 0);
		assert_int_equal(cards.apdus[i], cards.apdus[0]);
		for (int k = 0; k < i; k++)
			assert_ptr_not_equal(cards.connected_with[i], cards.connected_with[k]);
	}
	assert_true(cards.max_active >= 2);
	assert_int_equal(cards.opened, 4); /* the module's context and three for reading */
	/* A card that is not HPKI is not asked again. */
	unsigned long before = cards.apdus[0] + cards.apdus[1] + cards.apdus[2] + cards.apdus[3];
	assert_null(hpki_slot_token(0, true));
	assert_null(hpki_slot_token(6, true));
	assert_int_equal(cards.apdus[0] + cards.apdus[1] + cards.apdus[2] + cards.apdus[3], before);
	/* The extra contexts went with the cards ("not HPKI": nothing kept). */
	assert_int_equal(cards.closed, 3);
}

static void *cancel_soon(void *arg)
{
	(void)arg;
	sleep_ms(150);
	atomic_store(&cancel, true);
	return NULL;
}

/* C_Finalize's cancel flag stops every card being read before its next APDU: the
 * read of four slow cards ends after about one APDU, not four cards' worth. */
static void test_cancel_stops_every_card(void **state)
{
	pthread_t thread;
	double start;

	(void)state;
	plug_four_cards(300);
	assert_int_equal(pthread_create(&thread, NULL, cancel_soon, NULL), 0);
	start = seconds();
	assert_null(hpki_slot_token(0, true));
	print_message("four slow cards cancelled after %.3f s\n", seconds() - start);
	assert_int_equal(pthread_join(thread, NULL), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(cards.apdus[i], 1);
	assert_true(seconds() - start < 1.5);
}

/* No context to spare (pcscd's limit on clients): the cards are read all the same,
 * through the module's one context. */
static void test_without_extra_contexts_cards_are_still_read(void **state)
{
	(void)state;
	cards.no_extra_context = true;
	plug_four_cards(5);
	assert_null(hpki_slot_token(0, true));
	for (int i = 0; i < 4; i++) {
		assert_true(cards.apdus[i] > 0);
		assert_ptr_equal(cards.connected_with[i], &contexts[0]);
	}
	assert_int_equal(cards.opened, 1);
}

/* ---- through C_WaitForSlotEvent ------------------------------------------------ */

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	unsigned events[8];
	CK_RV last_rv;
} waiter = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *wait_events(void *arg)
{
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)arg;
	while ((rv = C_WaitForSlotEvent(0, &slot, NULL)) == CKR_OK) {
		pthread_mutex_lock(&waiter.lock);
		if (slot < 8)
			waiter.events[slot]++;
		pthread_mutex_unlock(&waiter.lock);
	}
	waiter.last_rv = rv;
	return NULL;
}

/* Events per slot as a bit mask, after up to 2 s for `want` to show up. */
static unsigned events_seen(unsigned want)
{
	unsigned mask = 0;

	for (int i = 0; i < 200; i++) {
		mask = 0;
		pthread_mutex_lock(&waiter.lock);
		for (int k = 0; k < 8; k++)
			mask |= waiter.events[k] > 0 ? 1u << k : 0;
		pthread_mutex_unlock(&waiter.lock);
		if ((mask & want) == want)
			break;
		sleep_ms(10);
	}
	return mask;
}

static void clear_events(void)
{
	pthread_mutex_lock(&waiter.lock);
	memset(waiter.events, 0, sizeof waiter.events);
	pthread_mutex_unlock(&waiter.lock);
}

static int setup_module(void **state)
{
	(void)state;
	memset(&world, 0, sizeof world);
	memset(&cards, 0, sizeof cards);
	memset(waiter.events, 0, sizeof waiter.events);
	cancelled = false;
	wait_calls = 0;
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	hpki_module_set_transport(&fake_ops);
	return 0;
}

/* A reader unplugged during a blocking wait: the wait reports both its slots and
 * goes on waiting; a reader plugged in later is reported too; C_Finalize ends it. */
static void test_wait_survives_unplug_and_sees_new_reader(void **state)
{
	CK_SLOT_ID slot;

	(void)state;
	plug("Reader A", true, false);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	while (C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL) == CKR_OK)
		;
	assert_int_equal(pthread_create(&waiter.thread, NULL, wait_events, NULL), 0);
	sleep_ms(50);
	unplug_all();
	assert_int_equal(events_seen(0x3), 0x3);
	clear_events();
	plug("Reader B", true, false);
	assert_int_equal(events_seen(0xC), 0xC);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	assert_int_equal(pthread_join(waiter.thread, NULL), 0);
	assert_int_equal(waiter.last_rv, CKR_CRYPTOKI_NOT_INITIALIZED);
}

/* A card present but mute: the blocking wait sleeps instead of waking again and
 * again (at most the first look and one wait in 300 ms). */
static void test_mute_card_does_not_spin_the_wait(void **state)
{
	unsigned long calls;

	(void)state;
	plug("Reader A", true, true);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(pthread_create(&waiter.thread, NULL, wait_events, NULL), 0);
	sleep_ms(300);
	pthread_mutex_lock(&world_lock);
	calls = wait_calls;
	pthread_mutex_unlock(&world_lock);
	print_message("wait_readers calls in 300 ms with a mute card: %lu\n", calls);
	assert_true(calls <= 2);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	assert_int_equal(pthread_join(waiter.thread, NULL), 0);
	assert_int_equal(waiter.last_rv, CKR_CRYPTOKI_NOT_INITIALIZED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reader_unplugged_and_plugged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_lost_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mute_card_is_told_to_the_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cards_are_read_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_stops_every_card, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_extra_contexts_cards_are_still_read, setup, teardown),
		cmocka_unit_test_setup(test_wait_survives_unplug_and_sees_new_reader, setup_module),
		cmocka_unit_test_setup(test_mute_card_does_not_spin_the_wait, setup_module),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
