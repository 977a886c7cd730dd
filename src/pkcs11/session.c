/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sessions live in a small table; handles count up and are never reused, so a
 * handle from before a card removal stays invalid (NSS treats any error from
 * C_GetSessionInfo as "token replaced", consumer-expectations §4).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "slot.h"
#include "session.h"

static struct hpki_session *sessions[HPKI_MAX_SESSIONS];
static CK_SESSION_HANDLE next_session_handle = 1;

void hpki_session_end_sign(struct hpki_session *s)
{
	hpki_sign_op_free(s->sign);
	s->sign = NULL;
	s->sign_needs_context_login = false;
	s->sign_context_login_done = false;
	s->sign_multipart = false;
}

void hpki_session_end_verify(struct hpki_session *s)
{
	hpki_verify_op_free(s->verify);
	s->verify = NULL;
	s->verify_multipart = false;
}

void hpki_session_end_digest(struct hpki_session *s)
{
	hpki_digest_op_free(s->digest);
	s->digest = NULL;
	s->digest_multipart = false;
	s->digest_single = false;
}

static void free_session(size_t i)
{
	struct hpki_session *s = sessions[i];

	if (s == NULL)
		return;
	hpki_session_end_sign(s);
	hpki_session_end_verify(s);
	hpki_session_end_digest(s);
	free(s);
	sessions[i] = NULL;
}

/* The last session of a token closing ends its login (PKCS#11 2.40 §5.6). */
static void logout_if_last(CK_SLOT_ID slot)
{
	struct hpki_reader *r;
	size_t role_index;

	if (hpki_sessions_on_slot(slot, false) > 0)
		return;
	r = hpki_slot_reader(slot, &role_index);
	if (r != NULL && r->tokens[role_index] != NULL)
		r->tokens[role_index]->logged_in = false;
}

void hpki_sessions_free_all(void)
{
	size_t i;

	for (i = 0; i < HPKI_MAX_SESSIONS; i++)
		free_session(i);
}

CK_RV hpki_session_open(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *handle)
{
	struct hpki_token *token = hpki_slot_token(slot, false);
	struct hpki_session *s;
	size_t i;

	if (token == NULL)
		return CKR_TOKEN_NOT_PRESENT;
	for (i = 0; i < HPKI_MAX_SESSIONS && sessions[i] != NULL; i++)
		;
	if (i == HPKI_MAX_SESSIONS)
		return CKR_SESSION_COUNT;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return CKR_HOST_MEMORY;
	s->handle = next_session_handle++;
	s->slot = slot;
	s->flags = flags;
	s->generation = token->generation;
	sessions[i] = s;
	*handle = s->handle;
	return CKR_OK;
}

static struct hpki_session *find_session(CK_SESSION_HANDLE handle, size_t *index)
{
	size_t i;

	for (i = 0; i < HPKI_MAX_SESSIONS; i++)
		if (sessions[i] != NULL && sessions[i]->handle == handle) {
			if (index != NULL)
				*index = i;
			return sessions[i];
		}
	return NULL;
}

CK_RV hpki_session_close(CK_SESSION_HANDLE handle)
{
	size_t i;
	struct hpki_session *s = find_session(handle, &i);
	CK_SLOT_ID slot;

	if (s == NULL)
		return CKR_SESSION_HANDLE_INVALID;
	slot = s->slot;
	free_session(i);
	logout_if_last(slot);
	return CKR_OK;
}

void hpki_session_close_slot(CK_SLOT_ID slot)
{
	size_t i;

	for (i = 0; i < HPKI_MAX_SESSIONS; i++)
		if (sessions[i] != NULL && sessions[i]->slot == slot)
			free_session(i);
	logout_if_last(slot);
}

CK_RV hpki_session_get(CK_SESSION_HANDLE handle, struct hpki_session **session, struct hpki_token **token)
{
	struct hpki_session *s = find_session(handle, NULL);
	struct hpki_token *t;

	if (s == NULL)
		return CKR_SESSION_HANDLE_INVALID;
	/* The refresh may close this very session (card removed): look it up again after. */
	t = hpki_slot_token(s->slot, false);
	s = find_session(handle, NULL);
	if (s == NULL) {
		hpki_info("session %lu: closed because its card was removed", (unsigned long)handle);
		return CKR_DEVICE_REMOVED;
	}
	if (t == NULL || t->generation != s->generation) {
		hpki_info("session %lu: its token is gone", (unsigned long)handle);
		hpki_session_close(handle);
		return CKR_DEVICE_REMOVED;
	}
	*session = s;
	if (token != NULL)
		*token = t;
	return CKR_OK;
}

bool hpki_sessions_context_login_pending(CK_SLOT_ID slot)
{
	size_t i;

	for (i = 0; i < HPKI_MAX_SESSIONS; i++)
		if (sessions[i] != NULL && sessions[i]->slot == slot && sessions[i]->sign_context_login_done)
			return true;
	return false;
}

CK_ULONG hpki_sessions_on_slot(CK_SLOT_ID slot, bool rw_only)
{
	CK_ULONG n = 0;
	size_t i;

	for (i = 0; i < HPKI_MAX_SESSIONS; i++)
		if (sessions[i] != NULL && sessions[i]->slot == slot && (!rw_only || (sessions[i]->flags & CKF_RW_SESSION)))
			n++;
	return n;
}
