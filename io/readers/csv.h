/* A streaming CSV/TSV record reader (RFC 4180 as pandas reads and writes
 * it): a configurable delimiter, '"' quoting with "" escapes, quoted fields
 * spanning lines, \n, \r\n and lone \r line ends, an optional UTF-8 byte
 * order mark, blank lines skipped. Strict where pandas is strict and
 * clear where it is vague: a quote inside an unquoted field, junk after a
 * closing quote, an unterminated quote and a NUL byte are errors naming
 * the line and field.
 */
#ifndef FIDX_IO_CSV_H
#define FIDX_IO_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

struct fidx_csv;

struct fidx_csv_field {
	char *p;    /* NUL-terminated, unquoted; valid until the next call */
	size_t len;
	int quoted;
};

struct fidx_csv_record {
	struct fidx_csv_field *f;
	size_t n;      /* number of fields, >= 1 */
	uint64_t line; /* line where the record starts, from 1 */
};

/* Bytes after the end of fidx_csv_view's view that may be read (their
 * values are meaningless), so that readers can load 16 bytes at a time. */
#define FIDX_CSV_SLACK 64

/* Longest record accepted, in bytes. */
#define FIDX_CSV_MAX_RECORD (64u << 20)
/* Most fields accepted in one record. */
#define FIDX_CSV_MAX_FIELDS (1u << 21)

/* Reads records from src (not owned: close it after the reader). */
int fidx_csv_open(struct fidx_csv **csv, struct fidx_source *src, char delim,
                  struct fidx_err *err);

/* Returns 1 and fills rec, 0 at the end of the input, or a negative
 * fidx_code. */
int fidx_csv_next(struct fidx_csv *csv, struct fidx_csv_record *rec, struct fidx_err *err);

void fidx_csv_close(struct fidx_csv *csv);

/* A fast path for readers that can parse simple records themselves (all
 * numbers, say), falling back to fidx_csv_next for anything else:
 *   fidx_csv_view   the unread bytes (at least one, unless at the end), the
 *                   line they start on, and whether the input ends there;
 *   fidx_csv_more   reads more after them (1), or says the input ended (0);
 *   fidx_csv_skip   consumes bytes that held `lines` whole lines.
 * Call fidx_csv_next at least once first: it settles the byte order mark. */
int fidx_csv_view(struct fidx_csv *csv, const char **p, size_t *n, uint64_t *line, int *eof,
                  struct fidx_err *err);
int fidx_csv_more(struct fidx_csv *csv, struct fidx_err *err);
void fidx_csv_skip(struct fidx_csv *csv, size_t bytes, uint64_t lines);

#endif
