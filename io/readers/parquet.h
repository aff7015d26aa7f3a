/* Rows of embeddings from an Apache Parquet file, the Hugging Face Hub's
 * own dataset format, read by fidx itself (Debian has no Parquet library
 * for C). Scoped to what embedding datasets hold:
 *   - the embedding as one list column (list<float>, list<double>, or
 *     integers; the standard three-level LIST layout, the legacy two-level
 *     one, or a bare repeated field), or as flat numeric columns, one per
 *     dimension (pandas' "0".."383");
 *   - an id column (string or integer) and a text column (string);
 *   - data pages v1 and v2 and dictionary pages; encodings PLAIN,
 *     PLAIN_DICTIONARY / RLE_DICTIONARY, BYTE_STREAM_SPLIT, RLE levels;
 *     codecs UNCOMPRESSED, SNAPPY, GZIP and ZSTD.
 * Rows stream row group by row group; memory holds one page per column.
 * The file is untrusted: every size and offset in the footer and the page
 * headers is checked against the file and against what it must cover
 * before use; decompression is bounded by what the codec can produce from
 * the bytes present. A null in an embedding or an id is an error naming
 * the row (and its row group); a null text is an empty text.
 *
 * Columns: embedding NULL picks the only list column of numbers, else
 * every numeric column but the id's and the text's; id and text NULL pick
 * columns named "id" and "text" when there are such (as JSON Lines does). */
#ifndef FIDX_IO_PARQUET_H
#define FIDX_IO_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"
#include "table.h"

struct fidx_parquet;

/* src is borrowed. Reads and checks the footer and settles the columns. */
int fidx_parquet_open(struct fidx_parquet **p, struct fidx_source *src, const char *embedding,
                      const char *id, const char *text, struct fidx_err *err);
/* 1 and a row (valid until the next call; row->line is the row's number in
 * the file, from 1), 0 at the end, or a negative fidx_code. */
int fidx_parquet_next(struct fidx_parquet *p, struct fidx_row *row, struct fidx_err *err);
void fidx_parquet_close(struct fidx_parquet *p);

#endif
