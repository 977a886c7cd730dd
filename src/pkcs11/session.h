/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sessions: handles, their token binding, and the state of active operations. */
#ifndef HPKI_SESSION_H
#define HPKI_SESSION_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "mechanism.h"
#include "token.h"

struct hpki_session {
	CK_SESSION_HANDLE handle;
	CK_SLOT_ID slot;
	CK_FLAGS flags;
	uint64_t generation; /* of the token it was opened on */

	bool find_active;
	CK_OBJECT_HANDLE found[HPKI_MAX_OBJECTS];
	size_t found_count, found_next;

	struct hpki_sign_op *sign;
	bool sign_needs_context_login; /* key has CKA_ALWAYS_AUTHENTICATE */
	bool sign_context_login_done;
	bool sign_multipart;

	struct hpki_verify_op *verify;
	bool verify_multipart;

	struct hpki_digest_op *digest;
	bool digest_multipart;
	bool digest_single; /* C_Digest answered a length query: only C_Digest may go on */
};

void hpki_sessions_free_all(void);
CK_RV hpki_session_open(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *handle);
CK_RV hpki_session_close(CK_SESSION_HANDLE handle);
void hpki_session_close_slot(CK_SLOT_ID slot);
/* Looks a session up and checks its token still is the one it was opened on;
 * CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT otherwise. */
CK_RV hpki_session_get(CK_SESSION_HANDLE handle, struct hpki_session **session, struct hpki_token **token);
/* True when any session of the token is between a context-specific login and its signature. */
bool hpki_sessions_context_login_pending(CK_SLOT_ID slot);
/* Count of sessions on a slot, optionally read-write only. */
CK_ULONG hpki_sessions_on_slot(CK_SLOT_ID slot, bool rw_only);
void hpki_session_end_sign(struct hpki_session *session);
void hpki_session_end_verify(struct hpki_session *session);
void hpki_session_end_digest(struct hpki_session *session);

#endif
