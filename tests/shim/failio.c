/* An LD_PRELOAD shim for the reliability tests: makes writes fail with
 * ENOSPC once FIDX_FAIL_WRITE_AFTER bytes have been written to files (not
 * to standard input, output or error), fsync/fdatasync fail with EIO when
 * FIDX_FAIL_FSYNC is set, and, with FIDX_SHORT_READS set, read and pread
 * return at most a few bytes at a time and every fifth call fails with
 * EINTR. Without those variables it changes nothing. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static long long budget = -2; /* -2: not read yet, -1: no limit */

static long long limit(void)
{
	if (budget == -2) {
		const char *v = getenv("FIDX_FAIL_WRITE_AFTER");
		budget = v && *v ? atoll(v) : -1;
	}
	return budget;
}

/* How many of n bytes may be written now: n, fewer, or 0 (then ENOSPC). */
static size_t allow(int fd, size_t n)
{
	long long b = limit();
	if (fd <= 2 || b < 0)
		return n;
	if ((long long)n > b)
		n = (size_t)b;
	budget = b - (long long)n;
	return n;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

/* The next definition of a symbol, looked up once. */
#define REAL(name, type)                 \
	static type real = NULL;         \
	if (!real)                       \
		real = (type)dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t n)
{
	size_t ok;
	REAL("write", write_fn);
	if (!n)
		return real(fd, buf, n);
	if (!(ok = allow(fd, n))) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, ok);
}

static ssize_t do_pwrite(pwrite_fn real, int fd, const void *buf,
                         size_t n, off_t off)
{
	size_t ok;
	if (!n)
		return real(fd, buf, n, off);
	if (!(ok = allow(fd, n))) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, ok, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL("pwrite", pwrite_fn);
	return do_pwrite(real, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL("pwrite64", pwrite_fn);
	return do_pwrite(real, fd, buf, n, off);
}

static int fail_fsync(void)
{
	const char *v = getenv("FIDX_FAIL_FSYNC");
	return v && *v && *v != '0';
}

int fsync(int fd)
{
	REAL("fsync", sync_fn);
	if (fail_fsync()) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int fdatasync(int fd)
{
	REAL("fdatasync", sync_fn);
	if (fail_fsync()) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

/* How many bytes a read may return now, or 0 for an EINTR. */
static size_t short_read(size_t n)
{
	static unsigned calls;
	const char *v = getenv("FIDX_SHORT_READS");
	if (!v || !*v || *v == '0' || n == 0)
		return n;
	calls++;
	if (calls % 5 == 0)
		return 0;
	return n < 1 + calls % 7 ? n : 1 + calls % 7;
}

ssize_t read(int fd, void *buf, size_t n)
{
	size_t ok;
	REAL("read", read_fn);
	if (fd > 2 || fd == 0) {
		if (!(ok = short_read(n)) && n) {
			errno = EINTR;
			return -1;
		}
		n = ok;
	}
	return real(fd, buf, n);
}

static ssize_t do_pread(pread_fn real, int fd, void *buf, size_t n, off_t off)
{
	size_t ok = short_read(n);
	if (!ok && n) {
		errno = EINTR;
		return -1;
	}
	return real(fd, buf, ok, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REAL("pread", pread_fn);
	return do_pread(real, fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	REAL("pread64", pread_fn);
	return do_pread(real, fd, buf, n, off);
}
