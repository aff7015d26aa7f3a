/* JSON Lines of embeddings: one object per line, the vector in a list of
 * numbers ("embedding" unless told otherwise), with optional "id" (a string
 * or an integer) and "text" fields, as datasets' to_json(lines=True) and
 * hand-made exports write them. Blank lines are skipped; errors name the
 * line and, for JSON syntax, the column. */
#ifndef FIDX_IO_JSONL_H
#define FIDX_IO_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

struct fidx_jsonl;

struct fidx_jsonl_row {
	const float *vec;
	size_t dim;
	const char *id, *text; /* NULL when the file has no such field */
	size_t id_len, text_len;
	uint64_t line;
};

/* src is borrowed. Field names NULL: "embedding", and "id" and "text" when
 * the first record has them. A field named explicitly must be in every
 * record; one found in the first record must be in all the others. */
int fidx_jsonl_open(struct fidx_jsonl **j, struct fidx_source *src, const char *embedding,
                    const char *id, const char *text, struct fidx_err *err);
/* 1 and a row (valid until the next call), 0 at the end, or a negative
 * fidx_code. */
int fidx_jsonl_next(struct fidx_jsonl *j, struct fidx_jsonl_row *row, struct fidx_err *err);
void fidx_jsonl_close(struct fidx_jsonl *j);

#endif
