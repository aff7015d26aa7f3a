/* Building an index row by row: each row is L2-normalized and written
 * through the container writer (index/file.h); ids are checked for
 * duplicates; the metadata is collected and written on commit.
 *
 * Either every row has an id or none has (then ids are the row numbers
 * 0..n-1). Ids are integers when every one is a canonical decimal int64,
 * strings otherwise. Either every row has a text or none has. */
#ifndef FIDX_INDEX_BUILDER_H
#define FIDX_INDEX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "embed.h"
#include "meta.h"

struct fidx_builder_opts {
	const char *out;      /* the index file to write */
	const char *embedder; /* how the vectors were made, or NULL */
	/* The embedder's identity (io/embedders/embed.h): "model", then the
	 * other parameters that decide its vectors; or NULL. */
	const struct fidx_params *identity;
	int level;            /* compression level, 1..12 */
	unsigned flags;       /* io/core/outfile.h's FIDX_OUT_NOWAIT */
};

struct fidx_builder;

/* Takes the output's lock (io/core/outfile.h) at once: whatever the caller
 * reads after this (the index an update replaces, say) stays the current
 * version until commit. */
int fidx_builder_open(struct fidx_builder **b, const struct fidx_builder_opts *o,
                      struct fidx_err *err);

/* Adds a row of dim values as written (normalized here). id and text may
 * be NULL. where and line locate the row in messages ("emb.csv:14"). */
int fidx_builder_add(struct fidx_builder *b, const float *vec, size_t dim, const char *id,
                     size_t id_len, const char *text, size_t text_len, const char *where,
                     uint64_t line, struct fidx_err *err);

/* Adds an already normalized row whose id is known to be unique among the
 * rows added (merge). id_kind is that of the id's source. */
int fidx_builder_add_trusted(struct fidx_builder *b, const float *vec, size_t dim, const char *id,
                             size_t id_len, int id_kind, const char *text, size_t text_len,
                             struct fidx_err *err);

/* The rows that will be added, when known before the first (see
 * index/file.h's fidx_fw_expect: a build writes less that way). */
int fidx_builder_expect(struct fidx_builder *b, uint64_t rows, struct fidx_err *err);

/* The metadata being collected (sources can be added to it). */
struct fidx_meta *fidx_builder_meta(struct fidx_builder *b);
uint64_t fidx_builder_count(const struct fidx_builder *b);

/* Writes and publishes the index. An index with no rows is refused.
 * Frees b whatever happens. */
int fidx_builder_commit(struct fidx_builder *b, struct fidx_err *err);
void fidx_builder_abort(struct fidx_builder *b);

#endif
