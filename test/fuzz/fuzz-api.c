/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the Cryptoki API with fuzzed call sequences and arguments,
 * over a valid HPKI card — the in-process virtual card (libhpki-vcard) behind the
 * fuzzers' reader, with the module's sources linked statically.
 *
 * Input: fuzz-targets.h (enum hpki_fuzz_op). Every buffer handed to the module is
 * allocated with exactly the size announced to it, so ASan reports a write past
 * what the application gave. Asserted besides (abort() = a finding):
 * - one C_Login costs at most one VERIFY with a PIN (counted from that C_Login to
 *   the next, fuzz-reader.h), and none is sent before the first C_Login;
 * - an output reported with CKR_OK fits the buffer the application passed;
 * - C_GetAttributeValue never reports a value length larger than the buffer;
 * - a signature returned with CKR_OK has exactly the key's modulus length.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "fuzz-targets.h"
#include "fuzz-vcard.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 64
#define SESSIONS 4
#define OBJECTS 16

/* ---- reading arguments from the input ------------------------------------------------------ */

static const uint8_t *in;
static size_t in_len, in_pos;

static uint8_t u8(void)
{
	return in_pos < in_len ? in[in_pos++] : 0;
}

static uint16_t u16(void)
{
	uint16_t hi = u8();

	return (uint16_t)(hi << 8 | u8());
}

static uint32_t u32(void)
{
	uint32_t hi = u16();

	return hi << 16 | u16();
}

/* An exactly sized copy of the next n input bytes (zeros past the end); NULL for 0. */
static uint8_t *take(size_t n)
{
	uint8_t *p;
	size_t i;

	if (n == 0)
		return NULL;
	p = malloc(n);
	if (p == NULL)
		abort();
	for (i = 0; i < n; i++)
		p[i] = u8();
	return p;
}

/* ---- the state of one run ------------------------------------------------------------------ */

static CK_SESSION_HANDLE sessions[SESSIONS];
static size_t next_session;
static CK_OBJECT_HANDLE objects[OBJECTS];
static size_t object_count;
/* Modulus bytes of the key each session's signing operation uses (0 = unknown). */
static struct {
	CK_SESSION_HANDLE session;
	size_t k;
} sign_keys[SESSIONS];

static void finding(const char *what)
{
	fprintf(stderr, "fuzz-api: %s\n", what);
	abort();
}

static CK_SESSION_HANDLE session_arg(void)
{
	uint8_t b = u8();

	return b & 0x80 ? (CK_SESSION_HANDLE)(b & 0x7F) : sessions[b % SESSIONS];
}

static CK_SLOT_ID slot_arg(void)
{
	uint8_t b = u8();

	return b & 0x80 ? (CK_SLOT_ID)b << 20 | b : (CK_SLOT_ID)(b % 4);
}

static CK_OBJECT_HANDLE object_arg(void)
{
	uint8_t b = u8();

	if (b & 0x80 || object_count == 0)
		return (CK_OBJECT_HANDLE)(b & 0x7F);
	return objects[b % object_count];
}

static const CK_MECHANISM_TYPE mechanism_table[] = {
	CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS,
	CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
	CKM_SHA512_RSA_PKCS_PSS, CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA224, CKM_MD5,
	CKM_RSA_X_509, CKM_ECDSA, CKM_SHA224_RSA_PKCS, CKM_RSA_PKCS_OAEP,
};
#define TABLE_SIZE(t) (sizeof(t) / sizeof((t)[0]))

static CK_MECHANISM_TYPE mechanism_type_arg(void)
{
	uint8_t b = u8();

	return b == 0xFF ? (CK_MECHANISM_TYPE)u32() : mechanism_table[b % TABLE_SIZE(mechanism_table)];
}

static const CK_MECHANISM_TYPE hash_table[] = { CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA224, CKM_MD5 };
static const CK_RSA_PKCS_MGF_TYPE mgf_table[] = { CKG_MGF1_SHA1, CKG_MGF1_SHA256, CKG_MGF1_SHA384,
						  CKG_MGF1_SHA512, CKG_MGF1_SHA224, 0 };

/* A mechanism with its parameter; the parameter buffer is freed with free(). */
static CK_MECHANISM mechanism_arg(void)
{
	CK_MECHANISM m = { mechanism_type_arg(), NULL, 0 };
	uint8_t mode = u8();
	CK_RSA_PKCS_PSS_PARAMS *pss;

	switch (mode % 4) {
	case 1:
		pss = malloc(sizeof *pss);
		if (pss == NULL)
			abort();
		pss->hashAlg = hash_table[u8() % TABLE_SIZE(hash_table)];
		pss->mgf = mgf_table[u8() % TABLE_SIZE(mgf_table)];
		pss->sLen = u8();
		m.pParameter = pss;
		m.ulParameterLen = sizeof *pss;
		break;
	case 2:
		m.ulParameterLen = u8();
		m.pParameter = take(m.ulParameterLen);
		break;
	case 3:
		m.ulParameterLen = u8(); /* NULL with a length: must be refused, not read */
		break;
	default:
		break;
	}
	return m;
}

struct output {
	CK_BYTE_PTR buf;
	CK_ULONG len, cap;
	CK_ULONG_PTR len_ptr;
};

/* Output buffer: 0 length query (NULL), 1 a buffer of a fuzzed size, 2 NULL length pointer. */
static struct output output_arg(void)
{
	struct output o = { NULL, 0, 0, NULL };
	uint8_t mode = u8();

	o.len_ptr = &o.len;
	switch (mode % 3) {
	case 1:
		o.cap = o.len = u16() % 1100;
		o.buf = malloc(o.cap > 0 ? o.cap : 1); /* ASan: exactly cap usable bytes (or none) */
		if (o.buf == NULL)
			abort();
		break;
	case 2:
		o.len_ptr = NULL;
		o.buf = malloc(16);
		o.cap = 16;
		break;
	default:
		o.len = u8();
		break;
	}
	return o;
}

static void check_output(CK_RV rv, const struct output *o)
{
	/* PKCS#11 2.40 §5.2: with a buffer and CKR_OK, *len is what was written. */
	if (rv == CKR_OK && o->buf != NULL && o->len_ptr != NULL && o->len > o->cap)
		finding("CKR_OK with an output longer than the buffer");
}

struct data {
	uint8_t *p;
	CK_ULONG len;
};

static struct data data_arg(void)
{
	struct data d;

	d.len = u8();
	d.p = take(d.len);
	if (d.len > 0 && u8() == 0xFF)
		free(d.p), d.p = NULL; /* NULL with a length: must be refused */
	return d;
}

/* ---- attributes ----------------------------------------------------------------------------- */

static const CK_ATTRIBUTE_TYPE attribute_table[] = {
	CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_ID, CKA_VALUE, CKA_CERTIFICATE_TYPE, CKA_SUBJECT,
	CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_KEY_TYPE, CKA_MODULUS, CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT,
	CKA_SIGN, CKA_VERIFY, CKA_ALWAYS_AUTHENTICATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE_EXPONENT,
	CKA_PRIME_1, CKA_ALLOWED_MECHANISMS, CKA_PUBLIC_KEY_INFO, CKA_START_DATE, CKA_END_DATE,
	CKA_CHECK_VALUE, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, CKA_CERTIFICATE_CATEGORY, CKA_TRUSTED, CKA_URL,
	CKA_MODIFIABLE, CKA_DECRYPT, CKA_WRAP_TEMPLATE, CKA_VENDOR_DEFINED,
};

static CK_ATTRIBUTE_TYPE attribute_type_arg(void)
{
	uint8_t b = u8();

	return b == 0xFF ? (CK_ATTRIBUTE_TYPE)u32() : attribute_table[b % TABLE_SIZE(attribute_table)];
}

static void free_template(CK_ATTRIBUTE *t, CK_ULONG n)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		free(t[i].pValue);
}

/* ---- operations ------------------------------------------------------------------------------- */

/* C_Login inside its own window of the PIN rule (fuzz-reader.h). */
static CK_RV checked_login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	CK_RV rv;

	hpki_fuzz_login_begin();
	rv = C_Login(s, user, pin, len);
	hpki_fuzz_check_verifies("C_Login");
	return rv;
}

static void op_login(void)
{
	CK_SESSION_HANDLE s = session_arg();
	uint8_t u = u8();
	CK_USER_TYPE user = u < 3 ? (CK_USER_TYPE)u : (CK_USER_TYPE)u << 8;
	uint8_t choice = u8();
	static const char *const fixed[] = { "1234", "5678", "0000" };
	uint8_t *pin = NULL;
	CK_ULONG len = 0;

	switch (choice % 5) {
	case HPKI_FUZZ_PIN_BYTES:
		len = u8() % 24;
		pin = take(len);
		break;
	case HPKI_FUZZ_PIN_NULL:
		len = u8();
		break;
	default:
		len = 4;
		pin = malloc(4);
		if (pin == NULL)
			abort();
		memcpy(pin, fixed[choice % 5], 4);
		break;
	}
	(void)checked_login(s, user, pin, len);
	free(pin);
}

static size_t modulus_bytes_of(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
	uint8_t modulus[1024];
	CK_ATTRIBUTE a = { CKA_MODULUS, modulus, sizeof modulus };
	size_t i = 0;

	if (C_GetAttributeValue(s, key, &a, 1) != CKR_OK || a.ulValueLen > sizeof modulus)
		return 0;
	while (i < a.ulValueLen && modulus[i] == 0)
		i++;
	return a.ulValueLen - i;
}

static void remember_sign_key(CK_SESSION_HANDLE s, size_t k)
{
	size_t i, slot = 0;

	for (i = 0; i < SESSIONS; i++)
		if (sign_keys[i].session == s) {
			slot = i;
			break;
		} else if (sign_keys[i].session == CK_INVALID_HANDLE)
			slot = i;
	sign_keys[slot].session = s;
	sign_keys[slot].k = k;
}

static void check_signature(CK_SESSION_HANDLE s, CK_RV rv, const struct output *o)
{
	size_t i;

	check_output(rv, o);
	if (rv != CKR_OK || o->buf == NULL || o->len_ptr == NULL)
		return;
	for (i = 0; i < SESSIONS; i++)
		if (sign_keys[i].session == s && sign_keys[i].k != 0 && o->len != sign_keys[i].k) {
			fprintf(stderr, "fuzz-api: CKR_OK with a %lu-byte signature for a %zu-byte modulus\n",
				(unsigned long)o->len, sign_keys[i].k);
			abort();
		}
}

static void op_find(void)
{
	CK_SESSION_HANDLE s = session_arg();
	CK_ATTRIBUTE t[4];
	CK_ULONG n = u8() % 5, i, max, found = 0;
	CK_OBJECT_HANDLE *out;
	uint8_t flags;

	for (i = 0; i < n; i++) {
		t[i].type = attribute_type_arg();
		t[i].ulValueLen = u8() % 65;
		t[i].pValue = take(t[i].ulValueLen);
	}
	flags = u8();
	if (C_FindObjectsInit(s, (flags & 1) ? NULL : t, n) == CKR_OK) {
		max = u8() % (OBJECTS + 1);
		out = malloc((max > 0 ? max : 1) * sizeof *out);
		if (out == NULL)
			abort();
		if (C_FindObjects(s, (flags & 2) ? NULL : out, max, &found) == CKR_OK) {
			if (found > max)
				finding("C_FindObjects found more than asked for");
			object_count = 0;
			for (i = 0; i < found && object_count < OBJECTS; i++)
				objects[object_count++] = out[i];
		}
		free(out);
		if (!(flags & 4))
			(void)C_FindObjectsFinal(s);
	}
	free_template(t, n);
}

/* Per attribute: a size byte (FF length query, 80+n n×32 bytes, else n bytes), then its type. */
static void op_get_attr(void)
{
	CK_SESSION_HANDLE s = session_arg();
	CK_OBJECT_HANDLE o = object_arg();
	CK_ATTRIBUTE t[6];
	CK_ULONG cap[6], n = u8() % 7, i;
	CK_RV rv;

	for (i = 0; i < n; i++) {
		uint8_t size = u8();

		t[i].type = attribute_type_arg();
		if (size == 0xFF) { /* a length query */
			t[i].pValue = NULL;
			cap[i] = t[i].ulValueLen = 0;
			continue;
		}
		cap[i] = t[i].ulValueLen = size >= 0x80 ? (CK_ULONG)(size - 0x80) * 32 : size;
		t[i].pValue = malloc(cap[i] > 0 ? cap[i] : 1);
		if (t[i].pValue == NULL)
			abort();
	}
	rv = C_GetAttributeValue(s, o, u8() == 0xEE ? NULL : t, n);
	for (i = 0; i < n && (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_SENSITIVE ||
			      rv == CKR_ATTRIBUTE_TYPE_INVALID); i++)
		if (t[i].pValue != NULL && t[i].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[i].ulValueLen > cap[i])
			finding("C_GetAttributeValue reports a value longer than the buffer");
	free_template(t, n);
}

static void op_sign_init(void)
{
	CK_SESSION_HANDLE s = session_arg();
	CK_MECHANISM m = mechanism_arg();
	CK_OBJECT_HANDLE key = object_arg();

	if (C_SignInit(s, u8() == 0xEE ? NULL : &m, key) == CKR_OK)
		remember_sign_key(s, modulus_bytes_of(s, key));
	free(m.pParameter);
}

static void op_sign(bool final)
{
	CK_SESSION_HANDLE s = session_arg();
	struct data d = final ? (struct data){ NULL, 0 } : data_arg();
	struct output o = output_arg();
	CK_RV rv = final ? C_SignFinal(s, o.buf, o.len_ptr) : C_Sign(s, d.p, d.len, o.buf, o.len_ptr);

	check_signature(s, rv, &o);
	free(d.p);
	free(o.buf);
}

static void op_digest(int which)
{
	CK_SESSION_HANDLE s = session_arg();
	struct data d = which == 2 ? (struct data){ NULL, 0 } : data_arg();
	struct output o = which == 1 ? (struct output){ NULL, 0, 0, NULL } : output_arg();
	CK_RV rv;

	if (which == 0)
		rv = C_Digest(s, d.p, d.len, o.buf, o.len_ptr);
	else if (which == 1)
		rv = C_DigestUpdate(s, d.p, d.len);
	else
		rv = C_DigestFinal(s, o.buf, o.len_ptr);
	check_output(rv, &o);
	free(d.p);
	free(o.buf);
}

static void op_verify(int which)
{
	CK_SESSION_HANDLE s = session_arg();
	struct data d = which == 2 ? (struct data){ NULL, 0 } : data_arg();
	struct data sig = which == 1 ? (struct data){ NULL, 0 } : data_arg();

	if (which == 0)
		(void)C_Verify(s, d.p, d.len, sig.p, sig.len);
	else if (which == 1)
		(void)C_VerifyUpdate(s, d.p, d.len);
	else
		(void)C_VerifyFinal(s, sig.p, sig.len);
	free(d.p);
	free(sig.p);
}

static void op_slot_list(void)
{
	uint8_t flags = u8();
	CK_ULONG cap = u8() % 9, count = cap;
	CK_SLOT_ID *list = malloc((cap > 0 ? cap : 1) * sizeof *list);
	CK_RV rv;

	if (list == NULL)
		abort();
	rv = C_GetSlotList((flags & 1) ? CK_TRUE : CK_FALSE, (flags & 2) ? NULL : list, &count);
	if (rv == CKR_OK && !(flags & 2) && count > cap)
		finding("C_GetSlotList reports more slots than the buffer holds");
	free(list);
}

static void op_slot_info(void)
{
	CK_SLOT_ID slot = slot_arg();
	CK_MECHANISM_TYPE type = mechanism_type_arg();
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_MECHANISM_INFO mi;
	CK_ULONG cap = u8() % 24, count = cap;
	CK_MECHANISM_TYPE *list = malloc((cap > 0 ? cap : 1) * sizeof *list);

	if (list == NULL)
		abort();
	(void)C_GetSlotInfo(slot, &si);
	(void)C_GetTokenInfo(slot, &ti);
	if (C_GetMechanismList(slot, list, &count) == CKR_OK && count > cap)
		finding("C_GetMechanismList reports more than the buffer holds");
	(void)C_GetMechanismInfo(slot, type, &mi);
	free(list);
}

static void op_open(void)
{
	CK_SLOT_ID slot = slot_arg();
	uint8_t f = u8();
	CK_FLAGS flags = ((f & 1) ? 0 : CKF_SERIAL_SESSION) | ((f & 2) ? CKF_RW_SESSION : 0);
	CK_SESSION_HANDLE h;

	if (C_OpenSession(slot, flags, NULL, NULL, &h) == CKR_OK)
		sessions[next_session++ % SESSIONS] = h;
}

static void op_reinit(void)
{
	CK_C_INITIALIZE_ARGS args = { 0 };

	CK_RV finalized = C_Finalize(u8() == 0xEE ? (CK_VOID_PTR)&args : NULL); /* pReserved must be NULL */
	CK_RV rv;

	args.flags = CKF_OS_LOCKING_OK;
	rv = C_Initialize((u8() & 1) ? &args : NULL);
	if (rv != (finalized == CKR_OK ? CKR_OK : CKR_CRYPTOKI_ALREADY_INITIALIZED))
		finding("C_Initialize after C_Finalize answered unexpectedly");
	object_count = 0;
}

static void op_fault(struct vcard *card)
{
	struct vcard_fault f = { 0 };

	f.kind = (enum vcard_fault_kind)(1 + u8() % 6); /* no GET RESPONSE loop: it would only burn time */
	f.sw = u16();
	f.size = u8();
	f.count = 1;
	if (f.kind == VCARD_FAULT_GET_RESPONSE_LOOP)
		f.kind = VCARD_FAULT_STATUS_WORD;
	vcard_set_fault(card, &f);
}

static void op_misc(void)
{
	CK_SESSION_HANDLE s = session_arg();
	uint8_t which = u8(), buf[64];
	CK_INFO info;
	CK_ULONG size = 0, len = sizeof buf;

	switch (which % 5) {
	case 0:
		(void)C_GetInfo(&info);
		break;
	case 1:
		(void)C_GetObjectSize(s, object_arg(), &size);
		break;
	case 2:
		(void)C_SeedRandom(s, buf, u8() % sizeof buf);
		(void)C_GenerateRandom(s, buf, u8() % sizeof buf);
		break;
	case 3:
		(void)C_GetOperationState(s, buf, &len);
		break;
	default: {
		CK_FUNCTION_LIST_PTR list = NULL;

		if (C_GetFunctionList(&list) != CKR_OK || list == NULL)
			finding("C_GetFunctionList failed");
		break;
	}
	}
}

static void run_ops(struct vcard *card)
{
	int n;

	for (n = 0; n < MAX_OPS && in_pos < in_len; n++) {
		uint8_t op = u8() % HPKI_FUZZ_OP_COUNT;
		CK_SESSION_INFO si;
		CK_SLOT_ID slot;

		switch ((enum hpki_fuzz_op)op) {
		case HPKI_FUZZ_OP_SLOT_LIST: op_slot_list(); break;
		case HPKI_FUZZ_OP_SLOT_INFO: op_slot_info(); break;
		case HPKI_FUZZ_OP_OPEN: op_open(); break;
		case HPKI_FUZZ_OP_CLOSE: (void)C_CloseSession(session_arg()); break;
		case HPKI_FUZZ_OP_FIND: op_find(); break;
		case HPKI_FUZZ_OP_GET_ATTR: op_get_attr(); break;
		case HPKI_FUZZ_OP_LOGIN: op_login(); break;
		case HPKI_FUZZ_OP_LOGOUT: (void)C_Logout(session_arg()); break;
		case HPKI_FUZZ_OP_SIGN_INIT: op_sign_init(); break;
		case HPKI_FUZZ_OP_SIGN: op_sign(false); break;
		case HPKI_FUZZ_OP_SIGN_UPDATE: {
			CK_SESSION_HANDLE s = session_arg();
			struct data d = data_arg();

			(void)C_SignUpdate(s, d.p, d.len);
			free(d.p);
			break;
		}
		case HPKI_FUZZ_OP_SIGN_FINAL: op_sign(true); break;
		case HPKI_FUZZ_OP_DIGEST_INIT: {
			CK_SESSION_HANDLE s = session_arg();
			CK_MECHANISM m = mechanism_arg();

			(void)C_DigestInit(s, &m);
			free(m.pParameter);
			break;
		}
		case HPKI_FUZZ_OP_DIGEST: op_digest(0); break;
		case HPKI_FUZZ_OP_DIGEST_UPDATE: op_digest(1); break;
		case HPKI_FUZZ_OP_DIGEST_FINAL: op_digest(2); break;
		case HPKI_FUZZ_OP_VERIFY_INIT: {
			CK_SESSION_HANDLE s = session_arg();
			CK_MECHANISM m = mechanism_arg();

			(void)C_VerifyInit(s, &m, object_arg());
			free(m.pParameter);
			break;
		}
		case HPKI_FUZZ_OP_VERIFY: op_verify(0); break;
		case HPKI_FUZZ_OP_VERIFY_UPDATE: op_verify(1); break;
		case HPKI_FUZZ_OP_VERIFY_FINAL: op_verify(2); break;
		case HPKI_FUZZ_OP_SESSION_INFO: (void)C_GetSessionInfo(session_arg(), &si); break;
		case HPKI_FUZZ_OP_CLOSE_ALL: slot = slot_arg(); (void)C_CloseAllSessions(slot); break;
		case HPKI_FUZZ_OP_REINIT: op_reinit(); break;
		case HPKI_FUZZ_OP_CARD_RESET: hpki_fuzz_reader_inject_reset(); break;
		case HPKI_FUZZ_OP_EVENT: (void)C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL); break;
		case HPKI_FUZZ_OP_FAULT: op_fault(card); break;
		case HPKI_FUZZ_OP_MISC: op_misc(); break;
		case HPKI_FUZZ_OP_COUNT: break;
		}
		hpki_fuzz_check_verifies("an operation");
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Re-read reader presence on every call: the run must not depend on the clock. */
	setenv("HPKI_PKCS11_REFRESH_INTERVAL", "0", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vcard *card;
	struct hpki_fuzz_card reader_card;

	if (size < 1)
		return 0;
	/* A card as new for every input: PIN counters and faults never leak into the next run. */
	card = hpki_fuzz_vcard_fresh(data[0] % hpki_fuzz_variant_count);
	if (card == NULL)
		abort();
	reader_card = hpki_fuzz_vcard_reader(card);
	hpki_fuzz_reader_live(&reader_card, false);
	in = data + 1;
	in_len = size - 1;
	in_pos = 0;
	memset(sessions, 0, sizeof sessions);
	memset(sign_keys, 0, sizeof sign_keys);
	next_session = object_count = 0;
	if (C_Initialize(NULL) != CKR_OK)
		finding("C_Initialize failed");
	run_ops(card);
	(void)C_Finalize(NULL);
	return 0;
}
