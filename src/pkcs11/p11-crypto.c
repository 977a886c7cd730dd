/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cryptoki front: signing on the card, verification and digests in software
 * (PKCS#11 2.40 §5.10–5.12), and the functions an HPKI card cannot offer.
 *
 * Two-call convention (PKCS#11 2.40 §5.2): a NULL output buffer returns the
 * length and sends nothing to the card; CKR_BUFFER_TOO_SMALL keeps the
 * operation; any other outcome ends it.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "log.h"
#include "module.h"
#include "session.h"
#include "slot.h"
#include "token.h"

static CK_RV enter_session(CK_SESSION_HANDLE hSession, struct hpki_session **session, struct hpki_token **token)
{
	CK_RV rv = hpki_enter();

	if (rv != CKR_OK)
		return rv;
	rv = hpki_session_get(hSession, session, token);
	if (rv != CKR_OK)
		hpki_leave();
	return rv;
}

static CK_RV key_for(struct hpki_token *token, CK_OBJECT_HANDLE hKey, CK_ATTRIBUTE_TYPE usage,
		     struct hpki_object **key)
{
	const CK_ATTRIBUTE *allowed;

	*key = hpki_token_object(token, hKey);
	if (*key == NULL || ((*key)->klass != CKO_PRIVATE_KEY && (*key)->klass != CKO_PUBLIC_KEY))
		return CKR_KEY_HANDLE_INVALID;
	/* A private key is invisible to a public session (PKCS#11 2.40 §4.4). C_SignInit
	 * still recognises its handle and answers CKR_USER_NOT_LOGGED_IN (§5.11), which
	 * tells the application what to do; every other use sees no key. */
	if (usage != CKA_SIGN && !hpki_object_visible(token, *key))
		return CKR_KEY_HANDLE_INVALID;
	allowed = hpki_object_attribute(*key, usage);
	if (allowed == NULL || allowed->ulValueLen != sizeof(CK_BBOOL) || *(CK_BBOOL *)allowed->pValue != CK_TRUE)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	return CKR_OK;
}

/* ---- signing ------------------------------------------------------------------ */

CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct hpki_session *session;
	struct hpki_token *token;
	struct hpki_object *key;
	CK_RV rv = enter_session(hSession, &session, &token);

	if (rv != CKR_OK)
		return rv;
	if (session->sign != NULL)
		rv = CKR_OPERATION_ACTIVE;
	else if (pMechanism == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = key_for(token, hKey, CKA_SIGN, &key);
	if (rv == CKR_OK && !token->logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	if (rv == CKR_OK)
		rv = hpki_sign_op_new(pMechanism, &token->caps, &session->sign);
	if (rv == CKR_OK)
		session->sign_needs_context_login = token->always_authenticate;
	hpki_leave();
	return rv;
}

/* Produces the signature of what the op holds (plus `data` for single-part). */
static CK_RV sign_on_card(struct hpki_session *session, struct hpki_token *token, const uint8_t *data, size_t len,
			  CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	uint8_t input[HPKI_SIGN_INPUT_MAX];
	uint8_t signature[1024];
	size_t input_len = sizeof input, signature_len = sizeof signature;
	size_t expected = hpki_sign_op_signature_len(session->sign);
	enum hpki_sign_input kind;
	CK_RV rv;

	if (pSignature == NULL) {
		*pulSignatureLen = (CK_ULONG)expected;
		return CKR_OK;
	}
	if (*pulSignatureLen < expected) {
		*pulSignatureLen = (CK_ULONG)expected;
		return CKR_BUFFER_TOO_SMALL;
	}
	/* CKA_ALWAYS_AUTHENTICATE: no signature without a fresh context-specific login,
	 * or the unused VERIFY of a C_Login(CKU_USER) made for it (G31 A.4 flow). */
	if (session->sign_needs_context_login && !session->sign_context_login_done &&
	    !hpki_token_take_user_login_consent(token)) {
		hpki_error("C_Sign: key needs CKU_CONTEXT_SPECIFIC login first; nothing sent");
		rv = CKR_USER_NOT_LOGGED_IN;
	} else {
		rv = hpki_sign_op_prepare(session->sign, data, len, &kind, input, &input_len);
	}
	if (rv == CKR_OK) {
		bool raw_rsa = token->caps.raw_rsa;

		rv = hpki_token_sign(token, kind, input, input_len, signature, &signature_len);
		/* The card turned out to pad by itself (token.c note_sign_method). */
		if (raw_rsa != token->caps.raw_rsa)
			hpki_slot_publish_mechanisms(token);
	}
	if (rv == CKR_OK && signature_len != expected) {
		hpki_error("C_Sign: card returned %zu bytes, expected %zu", signature_len, expected);
		rv = CKR_DEVICE_ERROR;
	}
	if (rv == CKR_OK) {
		memcpy(pSignature, signature, signature_len);
		*pulSignatureLen = (CK_ULONG)signature_len;
	}
	OPENSSL_cleanse(input, sizeof input);
	hpki_session_end_sign(session);
	return rv;
}

CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
	     CK_ULONG_PTR pulSignatureLen)
{
	struct hpki_session *session;
	struct hpki_token *token;
	CK_RV rv = enter_session(hSession, &session, &token);

	if (rv != CKR_OK)
		return rv;
	if (session->sign == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (session->sign_multipart)
		rv = CKR_OPERATION_ACTIVE;
	else if (pulSignatureLen == NULL || (pData == NULL && ulDataLen > 0)) {
		hpki_session_end_sign(session);
		rv = CKR_ARGUMENTS_BAD;
	} else
		rv = sign_on_card(session, token, pData, ulDataLen, pSignature, pulSignatureLen);
	hpki_leave();
	return rv;
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->sign == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (pPart == NULL && ulPartLen > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = hpki_sign_op_update(session->sign, pPart, ulPartLen);
	if (rv == CKR_OK)
		session->sign_multipart = true;
	else if (session->sign != NULL)
		hpki_session_end_sign(session);
	hpki_leave();
	return rv;
}

CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct hpki_session *session;
	struct hpki_token *token;
	CK_RV rv = enter_session(hSession, &session, &token);

	if (rv != CKR_OK)
		return rv;
	if (session->sign == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (pulSignatureLen == NULL) {
		hpki_session_end_sign(session);
		rv = CKR_ARGUMENTS_BAD;
	} else
		rv = sign_on_card(session, token, NULL, 0, pSignature, pulSignatureLen);
	hpki_leave();
	return rv;
}

/* ---- verification (software, with the public key) -------------------------------- */

static EVP_PKEY *public_key_of(const struct hpki_object *key)
{
	const CK_ATTRIBUTE *spki = hpki_object_attribute(key, CKA_PUBLIC_KEY_INFO);
	const unsigned char *p;

	if (spki == NULL)
		return NULL;
	p = spki->pValue;
	return d2i_PUBKEY(NULL, &p, (long)spki->ulValueLen);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct hpki_session *session;
	struct hpki_token *token;
	struct hpki_object *key;
	EVP_PKEY *pkey = NULL;
	CK_RV rv = enter_session(hSession, &session, &token);

	if (rv != CKR_OK)
		return rv;
	if (session->verify != NULL)
		rv = CKR_OPERATION_ACTIVE;
	else if (pMechanism == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = key_for(token, hKey, CKA_VERIFY, &key);
	if (rv == CKR_OK && (pkey = public_key_of(key)) == NULL)
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_OK)
		rv = hpki_verify_op_new(pMechanism, &token->caps, pkey, &session->verify);
	EVP_PKEY_free(pkey);
	hpki_leave();
	return rv;
}

CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
	       CK_ULONG ulSignatureLen)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->verify == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else {
		/* PKCS#11 2.40 §5.12: a call to C_Verify always ends the operation, also
		 * when it refuses to finish one begun with C_VerifyUpdate. */
		if (session->verify_multipart)
			rv = CKR_OPERATION_ACTIVE;
		else if (pSignature == NULL || (pData == NULL && ulDataLen > 0))
			rv = CKR_ARGUMENTS_BAD;
		else
			rv = hpki_verify_op_final(session->verify, pData, ulDataLen, pSignature, ulSignatureLen);
		hpki_session_end_verify(session);
	}
	hpki_leave();
	return rv;
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->verify == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (pPart == NULL && ulPartLen > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = hpki_verify_op_update(session->verify, pPart, ulPartLen);
	if (rv == CKR_OK)
		session->verify_multipart = true;
	else if (session->verify != NULL)
		hpki_session_end_verify(session);
	hpki_leave();
	return rv;
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->verify == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else {
		rv = pSignature == NULL ? CKR_ARGUMENTS_BAD
					: hpki_verify_op_final(session->verify, NULL, 0, pSignature, ulSignatureLen);
		hpki_session_end_verify(session);
	}
	hpki_leave();
	return rv;
}

/* ---- digests (software) ----------------------------------------------------------- */

CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->digest != NULL)
		rv = CKR_OPERATION_ACTIVE;
	else if (pMechanism == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = hpki_digest_op_new(pMechanism, &session->digest);
	hpki_leave();
	return rv;
}

static CK_RV digest_finish(struct hpki_session *session, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	size_t len = hpki_digest_op_len(session->digest);
	CK_RV rv;

	if (pDigest == NULL) {
		*pulDigestLen = (CK_ULONG)len;
		return CKR_OK;
	}
	if (*pulDigestLen < len) {
		*pulDigestLen = (CK_ULONG)len;
		return CKR_BUFFER_TOO_SMALL;
	}
	rv = hpki_digest_op_final(session->digest, pDigest);
	if (rv == CKR_OK)
		*pulDigestLen = (CK_ULONG)len;
	hpki_session_end_digest(session);
	return rv;
}

CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest,
	       CK_ULONG_PTR pulDigestLen)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->digest == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (session->digest_multipart) {
		/* PKCS#11 2.40 §5.10: C_Digest always ends the operation but for
		 * CKR_BUFFER_TOO_SMALL and the length query, so also this refusal. */
		hpki_session_end_digest(session);
		rv = CKR_OPERATION_ACTIVE;
	} else if (pulDigestLen == NULL || (pData == NULL && ulDataLen > 0)) {
		hpki_session_end_digest(session);
		rv = CKR_ARGUMENTS_BAD;
	} else if (pDigest == NULL || *pulDigestLen < hpki_digest_op_len(session->digest)) {
		/* Length only: the data is not consumed, and the operation stays a
		 * single-part one, which C_DigestUpdate/C_DigestFinal cannot continue. */
		session->digest_single = true;
		rv = digest_finish(session, pDigest, pulDigestLen);
	} else {
		rv = hpki_digest_op_update(session->digest, pData, ulDataLen);
		if (rv == CKR_OK)
			rv = digest_finish(session, pDigest, pulDigestLen);
		else
			hpki_session_end_digest(session);
	}
	hpki_leave();
	return rv;
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->digest == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (session->digest_single)
		rv = CKR_OPERATION_ACTIVE; /* a C_Digest is under way (its length was asked) */
	else if (pPart == NULL && ulPartLen > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = hpki_digest_op_update(session->digest, pPart, ulPartLen);
	if (rv == CKR_OK)
		session->digest_multipart = true;
	else if (session->digest != NULL)
		hpki_session_end_digest(session);
	hpki_leave();
	return rv;
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	struct hpki_session *session;
	CK_RV rv = enter_session(hSession, &session, NULL);

	if (rv != CKR_OK)
		return rv;
	if (session->digest == NULL)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (session->digest_single) {
		/* After a C_Digest length query only C_Digest may finish (the data was
		 * not consumed); §5.10: C_DigestFinal's refusal ends the operation. */
		hpki_session_end_digest(session);
		rv = CKR_OPERATION_ACTIVE;
	} else if (pulDigestLen == NULL) {
		hpki_session_end_digest(session);
		rv = CKR_ARGUMENTS_BAD;
	} else
		rv = digest_finish(session, pDigest, pulDigestLen);
	hpki_leave();
	return rv;
}
