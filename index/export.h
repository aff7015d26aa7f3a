/* `fidx export`: an index's contents in the formats other tools read. */
#ifndef FIDX_INDEX_EXPORT_H
#define FIDX_INDEX_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct fidx_export_opts {
	const char *index;
	/* Each output that is not NULL is written (atomically, io/core/outfile.h): */
	const char *faiss; /* a FAISS IndexFlatIP (faiss.read_index loads it) */
	const char *npy;   /* numpy .npy, float32 (count, dim), C order */
	const char *csv;   /* DataFrame(vectors).to_csv(index=False): header 0..dim-1 */
	const char *jsonl; /* one {"id": ..., "text": ...} per row, in row order */
	unsigned flags;    /* io/core/outfile.h's flags */
};

struct fidx_export_stats {
	uint64_t rows;
	uint32_t dim;
	int outputs;
};

/* The vectors are exported as stored: L2-normalized float32, in row order
 * (row i of every output is the same item). */
int fidx_export(const struct fidx_export_opts *o, struct fidx_export_stats *st, struct fidx_err *err);

/* The CSV fidx export --hub publishes, into f: --csv's columns 0..D-1,
 * then "id" when the index has ids of its own and "text" when it has
 * texts, quoted as pandas' to_csv quotes (a field with a comma, a quote or
 * a line break in quotes, quotes doubled); fidx build reads them back as
 * ids and texts (io/readers/csvrows.c). FIDX_EINPUT for a text or id with
 * a NUL byte, which a CSV cannot hold. */
struct fidx_index;
int fidx_export_hub_csv(const struct fidx_index *ix, FILE *f, struct fidx_err *err);

#endif
