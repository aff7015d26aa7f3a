/* `fidx export`: an index's contents in the formats other tools read. */
#ifndef FIDX_INDEX_EXPORT_H
#define FIDX_INDEX_EXPORT_H

#include <stdint.h>

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

#endif
