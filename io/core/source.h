/* A byte source: a file, standard input ("-"), either of them plain or
 * gzip-compressed (detected from the bytes, not the name; concatenated
 * gzip members are read as one stream). It also counts and digests the
 * bytes as stored, so an index can record what it was built from: for a
 * regular file, a second thread maps and digests the file beside the
 * reader, 32 MiB of it at a time (SHA-256 would otherwise cost a quarter
 * of a CSV build; a file cut short meanwhile fails the digest, see
 * fidx_source_digest); for a pipe, the bytes are digested as they are
 * read. */
#ifndef FIDX_IO_SOURCE_H
#define FIDX_IO_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct fidx_source;

/* Opens path, or standard input when path is "-". */
int fidx_source_open(struct fidx_source **src, const char *path, struct fidx_err *err);

/* Opens an in-memory buffer (not copied; must outlive the source). For
 * tests and fuzzing. */
int fidx_source_open_mem(struct fidx_source **src, const char *name, const void *data,
                         size_t n, struct fidx_err *err);

/* Reads up to cap decoded bytes into buf. Returns the count, 0 at the end,
 * or a negative fidx_code with err filled. */
ssize_t fidx_source_read(struct fidx_source *src, void *buf, size_t cap, struct fidx_err *err);

/* The first decoded bytes, without consuming them: fills buf with up to
 * cap bytes (fewer only when the stream is shorter) and returns the count,
 * or a negative fidx_code. A plain regular file or memory is looked at in
 * place; anything else (a pipe, gzip, zstd) is decoded once and its first
 * bytes are handed out again by the reads that follow. Call before any
 * read. */
ssize_t fidx_source_peek(struct fidx_source *src, void *buf, size_t cap, struct fidx_err *err);

/* The name to use in messages: the path, or "<stdin>". */
const char *fidx_source_name(const struct fidx_source *src);

/* Random access, for formats read out of order (Parquet keeps its index
 * at its end). fidx_source_random sets it up and gives the decoded size:
 * 0, 1 when the contents do not start with magic (a file shorter than it
 * included; then nothing more is read), or a negative fidx_code. A plain
 * regular file is read in place with pread; anything else (standard input,
 * a pipe, gzip or zstd) is read whole into memory once its start matches.
 * fidx_source_pread then reads exactly n bytes at off (past the end is
 * FIDX_EINPUT). Not to be mixed with fidx_source_read; progress moves with
 * fidx_source_seen. */
int fidx_source_random(struct fidx_source *src, const char *magic, uint64_t *size,
                       struct fidx_err *err);
int fidx_source_pread(struct fidx_source *src, void *buf, size_t n, uint64_t off,
                      struct fidx_err *err);
/* Records that the stored bytes up to stored have been consumed. */
void fidx_source_seen(struct fidx_source *src, uint64_t stored);

/* The stored bytes read so far (for progress). */
uint64_t fidx_source_stored(const struct fidx_source *src);

/* Whether the stored bytes are gzip-compressed. Valid after the first read. */
int fidx_source_is_gzip(const struct fidx_source *src);

/* The stored (undecoded) bytes and their SHA-256: of the whole file for a
 * regular file, else of what was read so far. Call once fidx_source_read
 * has returned 0. Returns 0, or a negative fidx_code when the file could
 * not be read for the digest (FIDX_EIO, also when it was cut short while
 * it was read). */
int fidx_source_digest(struct fidx_source *src, uint64_t *bytes, unsigned char digest[32],
                       struct fidx_err *err);

/* The modification time a regular file had when it was opened: 0, or -1
 * when there is none or it is within 2 s of the opening (a later write
 * could share it, so it cannot vouch for the contents). */
int fidx_source_mtime(const struct fidx_source *src, int64_t *sec, int32_t *nsec);

void fidx_source_close(struct fidx_source *src);

#endif
