#include "vcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bytes.h"
#include "sha256.h"

#define MAGIC "FIDXVEC1"
#define HEAD 16
#define MAX_DIM (1u << 20)

struct fidx_vcache {
	char *dir;
	struct fidx_sha256 prefix; /* (embedder, model) digested, reused per text */
};

static int mkdirs(const char *path, struct fidx_err *err)
{
	char *p = strdup(path), *s;
	if (!p)
		return fidx_err_nomem(err);
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			fidx_err_sys(err, FIDX_EIO, e, "cache folder %s", p);
			free(p);
			return FIDX_EIO;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		fidx_err_sys(err, FIDX_EIO, e, "cache folder %s", p);
		free(p);
		return FIDX_EIO;
	}
	free(p);
	return 0;
}

int fidx_vcache_open(struct fidx_vcache **out, const char *dir, const char *embedder,
                     const char *model, struct fidx_err *err)
{
	struct fidx_vcache *c;
	const char *base;
	char path[4096];
	int rc;

	*out = NULL;
	if (!dir) {
		if ((base = getenv("XDG_CACHE_HOME")) && *base)
			snprintf(path, sizeof path, "%s/fidx/embeddings", base);
		else if ((base = getenv("HOME")) && *base)
			snprintf(path, sizeof path, "%s/.cache/fidx/embeddings", base);
		else
			return fidx_err_set(err, FIDX_EINPUT, "no cache folder: set XDG_CACHE_HOME or HOME, or use " FIDX_SETTING("no_cache"));
		dir = path;
	}
	if ((rc = mkdirs(dir, err)) != 0)
		return rc;
	c = calloc(1, sizeof *c);
	if (!c || !(c->dir = strdup(dir))) {
		free(c);
		return fidx_err_nomem(err);
	}
	fidx_sha256_init(&c->prefix);
	fidx_sha256_update(&c->prefix, "fidx-cache-v1", 14);
	fidx_sha256_update(&c->prefix, embedder, strlen(embedder) + 1);
	fidx_sha256_update(&c->prefix, model ? model : "", strlen(model ? model : "") + 1);
	*out = c;
	return 0;
}

const char *fidx_vcache_dir(const struct fidx_vcache *c)
{
	return c->dir;
}

void fidx_vcache_close(struct fidx_vcache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c);
}

/* The entry's path: dir/ab/cdef... */
static void entry_path(const struct fidx_vcache *c, const char *text, size_t len, char *out,
                       size_t cap, char sub[3])
{
	struct fidx_sha256 s = c->prefix;
	unsigned char d[32];
	char hex[65];
	fidx_sha256_update(&s, text, len);
	fidx_sha256_final(&s, d);
	fidx_sha256_hex(d, hex);
	memcpy(sub, hex, 2);
	sub[2] = '\0';
	snprintf(out, cap, "%s/%.2s/%s", c->dir, hex, hex + 2);
}

int fidx_vcache_get(struct fidx_vcache *c, const char *text, size_t len, size_t dim, float *vec,
                    size_t *got)
{
	char path[4200], sub[3];
	unsigned char head[HEAD];
	struct stat st;
	size_t d;
	int fd, ok = 0;

	entry_path(c, text, len, path, sizeof path, sub);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_size >= HEAD && read(fd, head, HEAD) == HEAD &&
	    memcmp(head, MAGIC, 8) == 0) {
		d = fidx_le32(head + 8);
		if (d > 0 && d <= MAX_DIM && (!dim || d == dim) && (uint64_t)st.st_size == HEAD + (uint64_t)d * 4 &&
		    read(fd, vec, d * 4) == (ssize_t)(d * 4) &&
		    (uint32_t)crc32(0L, (const Bytef *)vec, (uInt)(d * 4)) == fidx_le32(head + 12)) {
			ok = 1;
			if (got)
				*got = d;
		}
	}
	close(fd);
	return ok;
}

int fidx_vcache_put(struct fidx_vcache *c, const char *text, size_t len, const float *vec,
                    size_t dim, struct fidx_err *err)
{
	char path[4200], tmp[4300], sub[3], subdir[4200];
	unsigned char head[HEAD];
	uint32_t v;
	int fd, i, ok;

	entry_path(c, text, len, path, sizeof path, sub);
	snprintf(subdir, sizeof subdir, "%s/%s", c->dir, sub);
	if (mkdir(subdir, 0755) != 0 && errno != EEXIST)
		return fidx_err_sys(err, FIDX_EIO, errno, "cache folder %s", subdir);
	snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fidx_err_sys(err, FIDX_EIO, errno, "cache entry %s", tmp);
	memcpy(head, MAGIC, 8);
	v = (uint32_t)dim;
	for (i = 0; i < 4; i++)
		head[8 + i] = (unsigned char)(v >> (8 * i));
	v = (uint32_t)crc32(0L, (const Bytef *)vec, (uInt)(dim * 4));
	for (i = 0; i < 4; i++)
		head[12 + i] = (unsigned char)(v >> (8 * i));
	ok = write(fd, head, HEAD) == HEAD && write(fd, vec, dim * 4) == (ssize_t)(dim * 4);
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return fidx_err_sys(err, FIDX_EIO, e, "cache entry %s", path);
	}
	return 0;
}
