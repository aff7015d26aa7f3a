/* Rows of embeddings from a CSV or TSV file (plain or gzip), as pandas
 * writes them: `DataFrame(embeddings).to_csv(path, index=False)` (header
 * "0,1,...,D-1", one row per item), header-less numeric files, and files
 * with an id column, a text column and the embedding either as the
 * remaining columns or as one column holding a list "[0.1, -0.2, ...]".
 *
 * Every value is parsed exactly (io/core/number.h). Errors name the file, the
 * line and the field: "emb.csv:14:3: expected a number, found \"abc\"".
 * The reader does not normalize: it returns the numbers as written.
 */
#ifndef FIDX_IO_TABLE_H
#define FIDX_IO_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

enum fidx_header_mode { FIDX_HEADER_AUTO = -1, FIDX_HEADER_NO = 0, FIDX_HEADER_YES = 1 };

struct fidx_table_opts {
	const char *id_column;        /* header name, or NULL */
	const char *text_column;      /* header name, or NULL */
	const char *embedding_column; /* header name of a list column, or NULL */
	int header;                   /* enum fidx_header_mode */
	char delim;                   /* 0: by file name (io/core/path.h) */
};

struct fidx_row {
	const float *vec; /* dim values, as written */
	size_t dim;
	const char *id;   /* NULL when there is no id column */
	size_t id_len;
	const char *text; /* NULL when there is no text column */
	size_t text_len;
	uint64_t line;    /* where the row starts */
};

struct fidx_table;

/* Opens path ("-" for standard input) for reading rows. */
int fidx_table_open(struct fidx_table **t, const char *path, const struct fidx_table_opts *o,
                    struct fidx_err *err);

/* As fidx_table_open, over an already opened source (owned afterwards). */
int fidx_table_open_source(struct fidx_table **t, struct fidx_source *src,
                           const struct fidx_table_opts *o, struct fidx_err *err);

/* Returns 1 and fills row (valid until the next call), 0 at the end, or a
 * negative fidx_code. All rows of one table share one dimension. */
int fidx_table_next(struct fidx_table *t, struct fidx_row *row, struct fidx_err *err);

/* The underlying source: its name, stored size and digest. */
struct fidx_source *fidx_table_source(struct fidx_table *t);

void fidx_table_close(struct fidx_table *t);

#endif
