/* fidx error reporting: a code plus a message, filled by library code.
 *
 * Library functions (io/, index/) never print and never exit: they return
 * 0 on success or a negative fidx_code, and describe the failure in a
 * struct fidx_err the caller owns. Messages follow the project's style:
 * lowercase, no final full stop, location first when there is one
 * ("emb.csv:14:3: expected a number, found \"abc\""). Only cmd/ prints them
 * and maps the code to an exit status.
 */
#ifndef FIDX_IO_ERROR_H
#define FIDX_IO_ERROR_H

#include <stddef.h>

enum fidx_code {
	FIDX_OK = 0,
	FIDX_EINPUT = -1,    /* bad input data or incompatible inputs */
	FIDX_EIO = -2,       /* a read, write, fsync or rename failed */
	FIDX_ECORRUPT = -3,  /* an index file is damaged, truncated or foreign */
	FIDX_EAPI = -4,      /* an embedding service failed */
	FIDX_ENOMEM = -5,    /* out of memory */
	FIDX_EINTERNAL = -6, /* a dependency failed unexpectedly */
	FIDX_ELOCKED = -7,   /* another fidx is writing the same output */
};

#define FIDX_ERR_MAX 1024

struct fidx_err {
	int code;
	char msg[FIDX_ERR_MAX];
};

#if defined(__GNUC__)
#define FIDX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FIDX_PRINTF(a, b)
#endif

/* Sets err (when not NULL) and returns code, so callers can write
 * `return fidx_err_set(err, FIDX_EINPUT, "...", ...);`. */
int fidx_err_set(struct fidx_err *err, int code, const char *fmt, ...)
	FIDX_PRINTF(3, 4);

/* Like fidx_err_set, with ": strerror(errnum)" appended. */
int fidx_err_sys(struct fidx_err *err, int code, int errnum, const char *fmt, ...)
	FIDX_PRINTF(4, 5);

/* Puts "prefix: " in front of the message already in err; keeps the code. */
int fidx_err_prefix(struct fidx_err *err, const char *fmt, ...) FIDX_PRINTF(2, 3);

/* Out of memory, as an error. */
int fidx_err_nomem(struct fidx_err *err);

/* Writes a printable rendering of bytes s[0..n) into out (size cap >= 8):
 * control bytes escaped, long values cut with "...". For quoting what was
 * found in an input inside an error message. */
void fidx_err_quote(char *out, size_t cap, const char *s, size_t n);

#endif
