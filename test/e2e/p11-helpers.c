/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-helpers.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

CK_FUNCTION_LIST_PTR p11;

void p11_load(void)
{
	const char *path = getenv("HPKI_MODULE");
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	void *handle;

	if (path == NULL || *path == '\0')
		path = ".libs/hpki-pkcs11.so";
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
		exit(99);
	}
	*(void **)&get_list = dlsym(handle, "C_GetFunctionList");
	if (get_list == NULL || get_list(&p11) != CKR_OK) {
		fprintf(stderr, "%s: no C_GetFunctionList\n", path);
		exit(99);
	}
}

void p11_init(void)
{
	assert_int_equal(p11->C_Initialize(NULL), CKR_OK);
}

void p11_finalize(void)
{
	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
}

int vcard_ctl(char *out, size_t out_size, const char *fmt, ...)
{
	char args[512], command[1024], line[1024] = "";
	const char *vcard = getenv("HPKI_VCARD");
	va_list ap;
	FILE *f;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(command, sizeof command, "'%s' ctl %s 2>&1", vcard != NULL ? vcard : "hpki-vcard", args);
	f = popen(command, "r");
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	status = pclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (out != NULL)
		snprintf(out, out_size, "%s", line);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

long vcard_stat(const char *name)
{
	char reply[1024], key[64];
	const char *p;

	if (vcard_ctl(reply, sizeof reply, "stats") != 0)
		return -1;
	snprintf(key, sizeof key, " %s=", name);
	p = strstr(reply, key);
	return p == NULL ? -1 : strtol(p + strlen(key), NULL, 10);
}

/* vcard_ctl() talks to $HPKI_VCARD_CONTROL, so that is pointed at the card for the call. */
int vcard_ctl_on(int card, char *out, size_t out_size, const char *args)
{
	char name[64], first[512];
	const char *sock, *card0 = getenv("HPKI_VCARD_CONTROL");
	int rc;

	if (card == 0)
		return vcard_ctl(out, out_size, "%s", args);
	snprintf(name, sizeof name, "HPKI_VCARD_CONTROL_%d", card);
	sock = getenv(name);
	if (sock == NULL || card0 == NULL || strlen(card0) >= sizeof first)
		return -1;
	snprintf(first, sizeof first, "%s", card0);
	setenv("HPKI_VCARD_CONTROL", sock, 1);
	rc = vcard_ctl(out, out_size, "%s", args);
	setenv("HPKI_VCARD_CONTROL", first, 1);
	return rc;
}

long vcard_stat_on(int card, const char *name)
{
	char reply[1024], key[64];
	const char *p;

	if (vcard_ctl_on(card, reply, sizeof reply, "stats") != 0)
		return -1;
	snprintf(key, sizeof key, " %s=", name);
	p = strstr(reply, key);
	return p == NULL ? -1 : strtol(p + strlen(key), NULL, 10);
}

CK_ULONG p11_token_slots(CK_SLOT_ID *slots, CK_ULONG max)
{
	CK_ULONG count = max;

	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
	return count;
}

bool p11_find_token(const char *label_prefix, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = p11_token_slots(slots, 16), i;
	CK_TOKEN_INFO info;

	for (i = 0; i < n; i++) {
		if (p11->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		if (label_prefix == NULL || memcmp(info.label, label_prefix, strlen(label_prefix)) == 0) {
			*slot = slots[i];
			return true;
		}
	}
	return false;
}

void p11_wait_token(CK_SLOT_ID slot, bool present)
{
	CK_SLOT_INFO info;
	CK_SLOT_ID event;
	int rounds;

	alarm(20); /* a hang is a failure, not a stuck CI run */
	for (rounds = 0; rounds < 50; rounds++) {
		assert_int_equal(p11->C_GetSlotInfo(slot, &info), CKR_OK);
		if (((info.flags & CKF_TOKEN_PRESENT) != 0) == present)
			break;
		assert_int_equal(p11->C_WaitForSlotEvent(0, &event, NULL), CKR_OK);
	}
	alarm(0);
	assert_int_equal((info.flags & CKF_TOKEN_PRESENT) != 0, present);
}

void p11_drain_events(void)
{
	CK_SLOT_ID event;

	while (p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &event, NULL) == CKR_OK)
		;
}

void p11_wait_event(CK_SLOT_ID slot)
{
	CK_SLOT_ID event = (CK_SLOT_ID)-1;
	int rounds;

	alarm(20);
	for (rounds = 0; rounds < 20 && event != slot; rounds++)
		assert_int_equal(p11->C_WaitForSlotEvent(0, &event, NULL), CKR_OK);
	alarm(0);
	assert_int_equal(event, slot);
}

unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	long size;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = malloc((size_t)size + 1);
	if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = (size_t)size;
	return data;
}

void test_pki_path(char *out, size_t size, const char *holder, const char *name)
{
	const char *dir = getenv("HPKI_VCARD_DATA_DIR");

	snprintf(out, size, "%s/%s/%s", dir != NULL ? dir : "test/pki", holder, name);
}

CK_OBJECT_HANDLE p11_find_one(CK_SESSION_HANDLE session, CK_OBJECT_CLASS klass, const void *id, size_t id_len)
{
	CK_ATTRIBUTE template[2] = { { CKA_CLASS, &klass, sizeof klass }, { CKA_ID, (void *)id, id_len } };
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = 0;

	assert_int_equal(p11->C_FindObjectsInit(session, template, id != NULL ? 2 : 1), CKR_OK);
	assert_int_equal(p11->C_FindObjects(session, found, 4, &n), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(session), CKR_OK);
	assert_int_equal(n, 1);
	return found[0];
}

void *p11_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };

	assert_int_equal(p11->C_GetAttributeValue(session, object, &a, 1), CKR_OK);
	a.pValue = malloc(a.ulValueLen + 1);
	assert_non_null(a.pValue);
	assert_int_equal(p11->C_GetAttributeValue(session, object, &a, 1), CKR_OK);
	*len = a.ulValueLen;
	return a.pValue;
}
