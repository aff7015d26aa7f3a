#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 16
#define SLOT_PATH 4096

/* Process-wide list of temporary files to remove on a signal. Each slot's
 * path is written before the slot is marked used, and marked free before it
 * is changed, so a handler never reads a half-written path. */
static volatile sig_atomic_t slot_used[SLOTS];
static char slot_path[SLOTS][SLOT_PATH];

static int register_tmp(const char *path)
{
	int i;
	if (strlen(path) >= SLOT_PATH)
		return -1;
	for (i = 0; i < SLOTS; i++) {
		if (!slot_used[i]) {
			memcpy(slot_path[i], path, strlen(path) + 1);
			slot_used[i] = 1;
			return i;
		}
	}
	return -1;
}

static void unregister_tmp(int slot)
{
	if (slot >= 0 && slot < SLOTS)
		slot_used[slot] = 0;
}

int fidx_tmp_register(const char *path)
{
	return register_tmp(path);
}

void fidx_tmp_unregister(int slot)
{
	unregister_tmp(slot);
}

void fidx_outfile_cleanup_signal(void)
{
	int i;
	for (i = 0; i < SLOTS; i++)
		if (slot_used[i])
			unlink(slot_path[i]);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static unsigned long long entropy(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec ^
	       ((unsigned long long)getpid() << 40) ^ (unsigned long long)(uintptr_t)&ts;
}

static void crash_point(const char *name)
{
#ifdef FIDX_TEST_HOOKS
	const char *want = getenv("FIDX_TEST_CRASH");
	if (want && strcmp(want, name) == 0)
		_exit(99);
#else
	(void)name;
#endif
}

/* Nothing could be created next to target (errno e, on `what`): the
 * message names the output as the user gave it and what is wrong with its
 * folder, rather than the lock or temporary file fidx tried to make. */
static int cannot_write(const char *target, size_t dlen, const char *what, int e, struct fidx_err *err)
{
	char *dir = dir_of(target);
	const char *the = dlen ? "the folder " : "the current folder";
	const char *name = dlen ? dir : "";
	struct stat st;
	int rc;

	if (!dir)
		return fidx_err_nomem(err);
	if ((e == ENOENT || e == ENOTDIR) && stat(dir, &st) != 0)
		rc = fidx_err_set(err, FIDX_EIO, "cannot write %s: %s%s does not exist", target, the, name);
	else if ((e == ENOENT || e == ENOTDIR) && !S_ISDIR(st.st_mode))
		rc = fidx_err_set(err, FIDX_EIO, "cannot write %s: %s is not a folder", target, dir);
	else if ((e == EACCES || e == EPERM) && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
		rc = fidx_err_set(err, FIDX_EIO, "cannot write %s: %s%s is not writable", target, the, name);
	else if (e == EROFS)
		rc = fidx_err_set(err, FIDX_EIO, "cannot write %s: %s%s is on a read-only file system", target, the,
		                  name);
	else
		rc = fidx_err_sys(err, FIDX_EIO, e, "cannot write %s: %s", target, what);
	free(dir);
	return rc;
}

/* Takes the target's lock: ".<base>.lock" in its folder. */
static int lock_target(struct fidx_outfile *o, const char *target, size_t dlen, const char *base,
                       unsigned flags, struct fidx_err *err)
{
	size_t need = dlen + strlen(base) + 8;
	char *path = malloc(need);
	int rc = 0;

	if (!path)
		return fidx_err_nomem(err);
	snprintf(path, need, "%.*s.%s.lock", (int)dlen, target, base);
	o->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (o->lock_fd < 0) {
		rc = cannot_write(target, dlen, path, errno, err);
	} else {
		unsigned wait = FIDX_OUT_WAIT_OF(flags), waited_ms = 0;
		int nb = (flags & FIDX_OUT_NOWAIT) || wait;
		while (flock(o->lock_fd, LOCK_EX | (nb ? LOCK_NB : 0)) != 0) {
			if (errno == EINTR)
				continue;
			if (errno == EWOULDBLOCK && wait && waited_ms < wait * 1000u) {
				/* --wait: try again every 50 ms until the time is up. */
				struct timespec ts = {0, 50 * 1000000L};
				nanosleep(&ts, NULL);
				waited_ms += 50;
				continue;
			}
			if (errno == EWOULDBLOCK && wait)
				rc = fidx_err_set(err, FIDX_ELOCKED,
				                  "%s is still being written by another fidx after %u s (lock %s)", target,
				                  wait, path);
			else if (errno == EWOULDBLOCK)
				rc = fidx_err_set(err, FIDX_ELOCKED, "%s is being written by another fidx (lock %s)",
				                  target, path);
			else
				rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: cannot lock", path);
			break;
		}
	}
	free(path);
	return rc;
}

/* With the lock held, every temporary file of this target was left by a
 * run that died: remove them. */
static void remove_stale(const char *target, size_t dlen, const char *base)
{
	char *dir = dlen ? strndup(target, dlen) : strdup("./"), prefix[300];
	DIR *d;
	struct dirent *e;

	if (!dir)
		return;
	snprintf(prefix, sizeof prefix, ".%s.tmp-", base);
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	free(dir);
}

int fidx_outfile_open(struct fidx_outfile *o, const char *target, unsigned flags,
                      struct fidx_err *err)
{
	const char *base = strrchr(target, '/');
	size_t dlen, need;
	int tries, rc;

	memset(o, 0, sizeof *o);
	o->fd = -1;
	o->lock_fd = -1;
	o->slot = -1;
	o->keep = FIDX_OUT_KEEP_OF(flags);
	base = base ? base + 1 : target;
	if (!*base)
		return fidx_err_set(err, FIDX_EINPUT, "%s: the output must be a file name, not a folder", target);
	dlen = (size_t)(base - target);
	need = dlen + strlen(base) + 64;
	o->target = strdup(target);
	o->tmp = malloc(need);
	if (!o->target || !o->tmp) {
		fidx_outfile_abort(o);
		return fidx_err_nomem(err);
	}
	if ((rc = lock_target(o, target, dlen, base, flags, err)) != 0) {
		fidx_outfile_abort(o);
		return rc;
	}
	if (strlen(base) < 250)
		remove_stale(target, dlen, base);
	for (tries = 0; tries < 100; tries++) {
		unsigned long long r = entropy() + (unsigned long long)tries * 0x9e3779b97f4a7c15ull;
		snprintf(o->tmp, need, "%.*s.%s.tmp-%ld-%06llx", (int)dlen, target, base, (long)getpid(),
		         r & 0xffffff);
		o->fd = open(o->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (o->fd >= 0)
			break;
		if (errno != EEXIST) {
			rc = cannot_write(target, dlen, o->tmp, errno, err);
			free(o->tmp);
			o->tmp = NULL;
			fidx_outfile_abort(o);
			return rc;
		}
	}
	if (o->fd < 0) {
		free(o->tmp);
		o->tmp = NULL;
		fidx_outfile_abort(o);
		return fidx_err_set(err, FIDX_EIO, "%s: cannot find a free temporary name", target);
	}
	o->slot = register_tmp(o->tmp);
	return 0;
}

/* target.i, into buf. */
static void generation(char *buf, size_t cap, const char *target, unsigned i)
{
	snprintf(buf, cap, "%s.%u", target, i);
}

/* Moves target.(keep-1) .. target.1 one generation up (the oldest is
 * replaced), then links the target as target.1. The target itself is not
 * touched: a crash here leaves it as it was, with generations shifted. */
static int rotate(const char *target, unsigned keep, struct fidx_err *err)
{
	size_t cap = strlen(target) + 16;
	char *from = malloc(cap), *to = malloc(cap);
	unsigned i;
	int rc = 0;

	if (!from || !to) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	for (i = keep - 1; i >= 1; i--) {
		generation(from, cap, target, i);
		generation(to, cap, target, i + 1);
		if (rename(from, to) != 0 && errno != ENOENT) {
			rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot rename %s to %s", from, to);
			goto out;
		}
	}
	generation(to, cap, target, 1);
	if (unlink(to) != 0 && errno != ENOENT) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot remove %s", to);
		goto out;
	}
	if (link(target, to) != 0 && errno != ENOENT)
		rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot keep %s as %s", target, to);
out:
	free(from);
	free(to);
	return rc;
}

int fidx_outfile_commit(struct fidx_outfile *o, struct fidx_err *err)
{
	char *dir = dir_of(o->target);
	int dfd, rc = 0;

	/* The folder is opened first: once the rename is done, nothing may
	 * fail for want of memory and report a failure that did not happen. */
	if (!dir) {
		fidx_outfile_abort(o);
		return fidx_err_nomem(err);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: cannot open the folder", dir);
		free(dir);
		fidx_outfile_abort(o);
		return rc;
	}
	crash_point("before-fsync");
	if (fsync(o->fd) != 0) {
		/* Never retry a failed fsync: the data may already be lost. */
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: fsync failed", o->tmp);
		goto out;
	}
	if (close(o->fd) != 0) {
		o->fd = -1;
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: close failed", o->tmp);
		goto out;
	}
	o->fd = -1;
	if (o->keep && (rc = rotate(o->target, o->keep, err)) != 0)
		goto out;
	crash_point("before-rename");
	if (rename(o->tmp, o->target) != 0) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot rename %s to %s", o->tmp, o->target);
		goto out;
	}
	unregister_tmp(o->slot);
	o->slot = -1;
	free(o->tmp);
	o->tmp = NULL;
	crash_point("before-dirsync");
	if (fsync(dfd) != 0)
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: cannot fsync the folder after the rename", dir);
out:
	close(dfd);
	free(dir);
	fidx_outfile_abort(o);
	return rc;
}

void fidx_outfile_abort(struct fidx_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->lock_fd >= 0)
		close(o->lock_fd); /* releases the lock */
	o->lock_fd = -1;
	if (o->tmp) {
		unregister_tmp(o->slot);
		unlink(o->tmp);
	}
	o->slot = -1;
	free(o->tmp);
	free(o->target);
	o->tmp = o->target = NULL;
}

int fidx_spool_open(const char *near_path, struct fidx_err *err)
{
	char *dir = dir_of(near_path), *tmpl;
	int fd;

	if (!dir)
		return fidx_err_nomem(err);
#ifdef O_TMPFILE
	fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd >= 0) {
		free(dir);
		return fd;
	}
#endif
	tmpl = malloc(strlen(dir) + 32);
	if (!tmpl) {
		free(dir);
		return fidx_err_nomem(err);
	}
	sprintf(tmpl, "%s/.fidx-spool-XXXXXX", dir);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(tmpl);
		fidx_err_sys(err, FIDX_EIO, e, "cannot create a scratch file in %s", dir);
		free(dir);
		return FIDX_EIO;
	}
	unlink(tmpl);
	free(tmpl);
	free(dir);
	return fd;
}

int fidx_pwrite_all(int fd, const void *buf, size_t n, unsigned long long off, const char *name,
                    struct fidx_err *err)
{
	const char *p = buf;
	while (n) {
		ssize_t w = pwrite(fd, p, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: write failed", name);
		}
		if (w == 0)
			return fidx_err_set(err, FIDX_EIO, "%s: write failed: no progress", name);
		p += w;
		n -= (size_t)w;
		off += (unsigned long long)w;
	}
	return 0;
}

int fidx_pread_all(int fd, void *buf, size_t n, unsigned long long off, const char *name,
                   struct fidx_err *err)
{
	char *p = buf;
	while (n) {
		ssize_t r = pread(fd, p, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: read failed", name);
		}
		if (r == 0)
			return fidx_err_set(err, FIDX_ECORRUPT, "%s: unexpected end of file", name);
		p += r;
		n -= (size_t)r;
		off += (unsigned long long)r;
	}
	return 0;
}
