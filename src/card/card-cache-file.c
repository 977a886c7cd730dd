/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card cache's files: a per-user directory (0700), files 0600 written
 * atomically (temporary file, fsync, rename), read only when they are regular files
 * of this user that nobody else may write (doc/card-cache.md "Files").
 */
#include "config.h"

#include "card-cache.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Far above a card's content (two applications, eight certificates of 2 KB). */
#define CACHE_FILE_MAX (256 * 1024)

static bool path_of(const char *dir, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return n > 0 && (size_t)n < size;
}

/* The directory is ours and closed to others; created 0700 (parents too) if missing. */
static bool directory_ready(const char *dir, bool create)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		char parent[PATH_MAX];
		char *slash;

		if (!create || errno != ENOENT || strlen(dir) >= sizeof parent)
			return false;
		strcpy(parent, dir);
		slash = strrchr(parent, '/');
		if (slash != NULL && slash != parent) {
			*slash = '\0';
			if (access(parent, F_OK) != 0 && mkdir(parent, 0700) != 0 && errno != EEXIST)
				return false;
		}
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return false;
		if (lstat(dir, &st) != 0)
			return false;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 0022) != 0) {
		hpki_info("cache directory %s: not a directory of this user closed to others; not used", dir);
		return false;
	}
	return true;
}

bool hpki_cache_file_read(const char *dir, const char *name, uint8_t **data, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	*data = NULL;
	*len = 0;
	if (!directory_ready(dir, false) || !path_of(dir, name, path, sizeof path))
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 0022) != 0 ||
	    st.st_size <= 0 || st.st_size > CACHE_FILE_MAX || (buf = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return false;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return false;
	}
	*data = buf;
	*len = got;
	return true;
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* A reader sees the old file or the new one, never a part: rename(2) is atomic, and
 * the data is on disk (fsync) before the name points at it. */
bool hpki_cache_file_write(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	char tmp_name[128];
	int fd;
	bool ok;

	if (!directory_ready(dir, true))
		return false;
	snprintf(tmp_name, sizeof tmp_name, ".%.64s.%ld.%lx.tmp", name, (long)getpid(), (unsigned long)random());
	if (!path_of(dir, name, path, sizeof path) || !path_of(dir, tmp_name, tmp, sizeof tmp))
		return false;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		hpki_info("cache: cannot create %s (%s)", tmp, strerror(errno));
		return false;
	}
	ok = write_all(fd, data, len) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok)
		ok = rename(tmp, path) == 0;
	if (!ok) {
		hpki_info("cache: writing %s failed (%s); not stored", path, strerror(errno));
		unlink(tmp);
	}
	return ok;
}

bool hpki_cache_sha256(const void *a, size_t a_len, const void *b, size_t b_len, uint8_t out[HPKI_CACHE_DIGEST_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = HPKI_CACHE_DIGEST_LEN;
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, a, a_len) == 1 &&
		  (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) && EVP_DigestFinal_ex(ctx, out, &n) == 1 &&
		  n == HPKI_CACHE_DIGEST_LEN;

	if (!ok)
		memset(out, 0, HPKI_CACHE_DIGEST_LEN);
	EVP_MD_CTX_free(ctx);
	return ok;
}

void hpki_cache_hex(const uint8_t *d, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}
