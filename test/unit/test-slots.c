/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The slot layer against a fake transport ops table (issue 8 §4): readers
 * unplugged and plugged, pcscd going away and coming back, a mute card.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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

static int the_context;

static enum hpki_io_status fake_open(void **context)
{
	if (world.no_service)
		return HPKI_IO_NO_SERVICE;
	world.contexts_opened++;
	*context = &the_context;
	return HPKI_IO_OK;
}

static void fake_close(void *context)
{
	(void)context;
}

static enum hpki_io_status fake_list(void *context, struct hpki_reader_state *readers, size_t max, size_t *count)
{
	(void)context;
	if (world.no_service)
		return HPKI_IO_NO_SERVICE;
	*count = world.count < max ? world.count : max;
	memcpy(readers, world.readers, *count * sizeof readers[0]);
	return HPKI_IO_OK;
}

/* Cards are never read here: connecting finds no card. */
static enum hpki_io_status fake_connect(void *context, const char *reader, struct hpki_connection **conn,
					uint8_t *atr, size_t *atr_len)
{
	(void)context;
	(void)reader;
	(void)conn;
	(void)atr;
	(void)atr_len;
	return HPKI_IO_NO_CARD;
}

static void fake_cancel(void *context)
{
	(void)context;
}

static const struct hpki_transport_ops fake_ops = {
	.open_context = fake_open,
	.close_context = fake_close,
	.list_readers = fake_list,
	.cancel_wait = fake_cancel,
	.connect = fake_connect,
};

static void on_removed(CK_SLOT_ID slot)
{
	if (world.removed_count < 16)
		world.removed[world.removed_count++] = slot;
}

static void plug(const char *name, bool card, bool mute)
{
	struct hpki_reader_state *r = &world.readers[world.count++];

	memset(r, 0, sizeof *r);
	strcpy(r->name, name);
	r->present = card;
	r->mute = mute;
	r->event_count = card ? 1 : 0;
}

static atomic_bool cancel;

static int setup(void **state)
{
	(void)state;
	memset(&world, 0, sizeof world);
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
	assert_int_equal(take_events(), 0x3); /* card inserted */
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
	assert_int_equal(take_events(), 0x3);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reader_unplugged_and_plugged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_lost_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mute_card_is_told_to_the_wait, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
