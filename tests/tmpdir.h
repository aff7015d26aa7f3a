/* For tests: one scratch folder per test program, dir, made before its
 * tests and removed after them (cmocka group setup and teardown). */
#ifndef FIDX_TESTS_TMPDIR_H
#define FIDX_TESTS_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char dir[64];

/* Makes /tmp/fidx-<name>.XXXXXX into dir: 0, or -1. */
static inline int tmpdir_make(const char *name)
{
	snprintf(dir, sizeof dir, "/tmp/fidx-%s.XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

/* A group teardown that removes dir and all it holds. */
static inline int tmpdir_teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
