/* `fidx merge` as a library call: several indexes in, one out, streamed
 * block by block.
 *
 * The inputs must agree on dimension, embedder and model, and on having
 * texts. Implicit ids (0..n-1) are renumbered consecutively in input order
 * (each input's rows are offset by the rows of the inputs before it), so
 * merging the indexes of two halves of a file equals indexing the whole
 * file. Explicit ids are kept; an id in two inputs is an error, unless
 * dedupe is set: then the last occurrence is kept (nightly increments).
 * The output may be one of the inputs: it is written to a temporary file
 * and renamed over the target only when complete. */
#ifndef FIDX_INDEX_MERGE_H
#define FIDX_INDEX_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "progress.h"

struct fidx_merge_opts {
	const char *out;
	const char *const *inputs;
	size_t ninputs;
	int dedupe;
	int level;
	unsigned flags; /* io/core/outfile.h: FIDX_OUT_NOWAIT, _WAIT(s), _KEEP(n) */
	struct fidx_progress progress; /* rows copied, of all the inputs' */
};

struct fidx_merge_stats {
	uint64_t rows;     /* written */
	uint64_t replaced; /* dropped by dedupe */
};

int fidx_merge(const struct fidx_merge_opts *o, struct fidx_merge_stats *st, struct fidx_err *err);

#endif
