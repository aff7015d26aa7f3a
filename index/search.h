/* Searching one or several indexes as one collection.
 *
 * The indexes must agree on dimension, embedder and model. Ids form one
 * space, as `fidx merge` would make it: implicit ids are renumbered
 * consecutively in the order the indexes are given, explicit ids are kept,
 * and an id in two indexes is an error, unless keep_apart is set: then
 * each index keeps its own ids and every hit says which index it came
 * from. Hits are ordered by score descending, then id ascending (then
 * index, when kept apart). */
#ifndef FIDX_INDEX_SEARCH_H
#define FIDX_INDEX_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "embed.h"
#include "index.h"

struct fidx_collection;

struct fidx_result {
	size_t index; /* which index */
	uint64_t row; /* row in that index */
	float score;
};

int fidx_collection_open(struct fidx_collection **c, const char *const *paths, size_t n,
                         int keep_apart, struct fidx_err *err);
void fidx_collection_free(struct fidx_collection *c);

size_t fidx_collection_size(const struct fidx_collection *c);
struct fidx_index *fidx_collection_index(const struct fidx_collection *c, size_t i);
uint32_t fidx_collection_dim(const struct fidx_collection *c);
/* FIDX_IDS_STRING when any index has string ids, else FIDX_IDS_INT. */
int fidx_collection_id_kind(const struct fidx_collection *c);

/* The id of a hit: as an integer (integer collections), and as text. */
int64_t fidx_collection_id_int(const struct fidx_collection *c, size_t index, uint64_t row);
const char *fidx_collection_id(const struct fidx_collection *c, size_t index, uint64_t row,
                               char buf[24], size_t *len);

/* Finds an id (as text). Returns 1 with *index and *row, 0 when absent, or
 * a negative fidx_code. With keep_apart, the first index that has it. */
int fidx_collection_find(struct fidx_collection *c, const char *id, size_t len, size_t *index,
                         uint64_t *row, struct fidx_err *err);

/* Embeds query texts the way the collection's vectors were made
 * (normalized, n * dim floats): the recorded embedder, model, dimension
 * and parameters (a service's URL and protocol), with the other settings
 * (token file, cache, timeouts, callbacks) taken from base (may be NULL),
 * whose url and format, when set, point at another copy of the service.
 * The embedder opens on the first call and stays open for the next ones.
 * Fails when the indexes record no embedder. */
int fidx_collection_embed(struct fidx_collection *c, const struct fidx_embed_config *base,
                          const char *const *texts, const size_t *lens, size_t n, float *out,
                          struct fidx_err *err);

/* For nq normalized queries: counts[q] hits in out[q*k ...], at most k,
 * only those scoring at least min_score. */
int fidx_collection_search(struct fidx_collection *c, const float *queries, size_t nq, size_t k,
                           float min_score, struct fidx_result *out, size_t *counts,
                           struct fidx_err *err);

#endif
