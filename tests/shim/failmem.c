/* An LD_PRELOAD shim for out-of-memory tests: once armed, the Nth
 * allocation (FIDX_FAIL_ALLOC=N) fails, and with FIDX_FAIL_ALLOC_ALL set so
 * does every one after it. It is armed by fidx_failmem_arm(), which test
 * builds of fidx (FIDX_TEST_HOOKS) call when a command starts, so that the
 * C library's and OpenMP's own start-up is never the one to fail. Counts go
 * through malloc, calloc, realloc, posix_memalign, aligned_alloc and
 * memalign; C++ operator new uses malloc. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static long long fail_at = -1, count;
static int armed, persistent;

void fidx_failmem_arm(void);
void fidx_failmem_arm(void)
{
	const char *n = getenv("FIDX_FAIL_ALLOC"), *all = getenv("FIDX_FAIL_ALLOC_ALL");
	fail_at = n && *n ? atoll(n) : -1;
	persistent = all && *all && *all != '0';
	count = 0;
	armed = fail_at >= 0; /* 0 counts without failing */
}

/* FIDX_FAIL_ALLOC=0 with FIDX_COUNT_ALLOC_FILE: the number of allocations
 * after arming is written there at exit. */
__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("FIDX_COUNT_ALLOC_FILE");
	if (armed && fail_at == 0 && path) {
		char buf[32];
		int len = 0, fd;
		long long c = count;
		char tmp[32];
		do
			tmp[len++] = (char)('0' + c % 10);
		while ((c /= 10) > 0);
		for (fd = 0; fd < len; fd++)
			buf[fd] = tmp[len - 1 - fd];
		buf[len++] = '\n';
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, buf, (size_t)len) < 0) {
				/* nothing to do: the test will see no count */
			}
			close(fd);
		}
	}
}

/* Whether this allocation fails. */
static int fail_now(void)
{
	if (!armed)
		return 0;
	count++;
	if (fail_at > 0 && (count == fail_at || (persistent && count > fail_at))) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	return fail_now() ? NULL : __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n)
{
	return fail_now() ? NULL : __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	return fail_now() ? NULL : __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;
	if (fail_now())
		return ENOMEM;
	p = __libc_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
