/* fidx error reporting: a code plus a message, filled by library code.
 *
 * Library functions (io/, index/) never print and never exit: they return
 * 0 on success or a negative fidx_code, and describe the failure in a
 * struct fidx_err the caller owns. Messages follow the project's style:
 * lowercase, no final full stop, location first when there is one
 * ("emb.csv:14:3: expected a number, found \"abc\""). Only cmd/ prints them
 * and maps the code to an exit status.
 *
 * A message that names one of the caller's settings (the id column, the
 * token file) names it as the library calls it, with FIDX_SETTING("name"):
 * each front end renders it its own way (fidx_err_render: the command
 * line as "--name", '_' as '-'). A failure a front end may want to tell
 * apart carries a detail (enum fidx_detail) beside its code.
 */
#ifndef FIDX_IO_ERROR_H
#define FIDX_IO_ERROR_H

#include <stddef.h>

enum fidx_code {
	FIDX_OK = 0,
	FIDX_EINPUT = -1,    /* bad input data or incompatible inputs */
	FIDX_EIO = -2,       /* a read, write, fsync or rename failed */
	FIDX_ECORRUPT = -3,  /* an index file is damaged, truncated or foreign */
	FIDX_EAPI = -4,      /* a service (an embedding API, the Hub) failed */
	FIDX_ENOMEM = -5,    /* out of memory */
	FIDX_EINTERNAL = -6, /* a dependency failed unexpectedly */
	FIDX_ELOCKED = -7,   /* another fidx is writing the same output */
	FIDX_EDENIED = -8,   /* a service refused access: no token, a bad one, a gated or private repository */
};

#define FIDX_ERR_MAX 1024

/* What some failures are, beyond their code. */
enum fidx_detail {
	FIDX_DETAIL_NONE = 0,
	FIDX_DETAIL_NO_WORDS = 1, /* a text gives the embedder nothing to embed */
};

struct fidx_err {
	int code;
	int detail; /* enum fidx_detail; set again to none by every fidx_err_set */
	char msg[FIDX_ERR_MAX];
};

/* A setting named in a message: a marker, the setting's name, a marker. */
#define FIDX_SETTING(name) "\x1d" name "\x1d"

/* Copies msg into out (cap bytes, always terminated), each setting named
 * with FIDX_SETTING rendered by name (NULL: "--" then the name with '_'
 * turned into '-', as the command line spells options). */
void fidx_err_render(const char *msg, char *out, size_t cap,
                     void (*name)(const char *setting, size_t len, char *out, size_t cap));

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

/* Sets the detail of the failure err holds; returns err's code. */
int fidx_err_detail(struct fidx_err *err, int detail);

/* Out of memory, as an error. */
int fidx_err_nomem(struct fidx_err *err);

/* The callback through which the libraries tell what they do (requests,
 * retries, files brought in; never a token): one line, no newline. */
typedef void (*fidx_log_fn)(void *ctx, const char *line);

/* Formats a line (at most 1,023 bytes kept) and passes it to log, when log
 * is set. */
void fidx_logf(fidx_log_fn log, void *ctx, const char *fmt, ...) FIDX_PRINTF(3, 4);

/* Writes a printable rendering of bytes s[0..n) into out (size cap >= 8):
 * control bytes escaped, long values cut with "...". For quoting what was
 * found in an input inside an error message. */
void fidx_err_quote(char *out, size_t cap, const char *s, size_t n);

#endif
