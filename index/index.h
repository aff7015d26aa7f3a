/* A loaded index: its metadata, its vectors in a FAISS IndexFlatIP (exact
 * inner product over L2-normalized rows, that is cosine similarity), its
 * ids and its texts. Everything read from the file is validated first;
 * FAISS only ever receives a matrix fidx has checked. */
#ifndef FIDX_INDEX_INDEX_H
#define FIDX_INDEX_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "meta.h"

struct fidx_index;

struct fidx_hit {
	uint64_t row;
	float score;
};

/* Loads an index with all its vectors decoded into memory. */
int fidx_index_load(struct fidx_index **ix, const char *path, struct fidx_err *err);
/* Opens an index for search: the vectors of a version 3 file stay in the
 * file (a search reads its codes, mapped, and decodes only the blocks it
 * needs; a batch of 20 queries or more loads them all). Older files are
 * loaded. */
int fidx_index_open(struct fidx_index **ix, const char *path, struct fidx_err *err);
void fidx_index_free(struct fidx_index *ix);

const char *fidx_index_path(const struct fidx_index *ix);
const struct fidx_meta *fidx_index_meta(const struct fidx_index *ix);
uint64_t fidx_index_count(const struct fidx_index *ix);
uint32_t fidx_index_dim(const struct fidx_index *ix);

/* The stored (normalized) vector of a row; NULL while the vectors are in
 * the file (fidx_index_open). */
const float *fidx_index_vector(const struct fidx_index *ix, uint64_t row);
/* Copies the stored vector of a row into out (dim floats), decoding its
 * block if need be. */
int fidx_index_row(struct fidx_index *ix, uint64_t row, float *out, struct fidx_err *err);
/* The id of a row as bytes (not NUL-terminated); implicit ids are written
 * into buf. */
const char *fidx_index_id(const struct fidx_index *ix, uint64_t row, char buf[24], size_t *len);
/* The id of a row as an integer; only for implicit and int ids. */
int64_t fidx_index_id_int(const struct fidx_index *ix, uint64_t row);
/* The text of a row, or NULL when the index has no texts. */
const char *fidx_index_text(const struct fidx_index *ix, uint64_t row, size_t *len);

/* An index opened with fidx_index_open reads from the file the ids and
 * texts of the hits fidx_index_search returns, and only those:
 * fidx_index_id, fidx_index_id_int and fidx_index_text are for those rows,
 * and for the rows fidx_index_fetch read; fidx_index_all_ids reads every
 * id (for code that needs them all). */
int fidx_index_fetch(struct fidx_index *ix, const uint64_t *rows, size_t n, struct fidx_err *err);
int fidx_index_all_ids(struct fidx_index *ix, struct fidx_err *err);

/* Finds the row of an id given as text. Returns 1 and sets *row, 0 when no
 * row has it, or a negative fidx_code. */
int fidx_index_find(struct fidx_index *ix, const char *id, size_t len, uint64_t *row,
                    struct fidx_err *err);

/* Orders two rows' ids: integers numerically, strings bytewise. */
int fidx_index_id_cmp(const struct fidx_index *ix, uint64_t a, uint64_t b);

/* Top hits for nq normalized queries (nq * dim floats): for each query q,
 * counts[q] = min(k, count) hits in hits[q*k ...], by score descending,
 * then id ascending.
 *
 * Scores are float32 inner products computed one of two ways. Fewer than
 * 20 queries are scanned with FAISS's inner-product kernel compiled into
 * fidx: the same bits on every CPU that runs the build, with any number of
 * threads, whichever index, shard or block holds a row. From 20 queries on,
 * BLAS (sgemm, whose kernel OpenBLAS picks for the CPU at run time)
 * computes them: the last bits may differ from the scan's and between
 * CPUs. Either way a score is within d * 2^-24 of the exact inner product
 * of the stored unit vectors (d additions, each rounding by at most 2^-24
 * of a sum bounded by |q||x| = 1), so two ways differ by at most
 * d * 2^-23, and hits whose scores are that close may trade places.
 * The environment variable FIDX_TEST_SEARCH=scan or =blas forces one way
 * for any nq, =full the scan without the codes first (for tests; honoured
 * in every build).
 *
 * However the rows are found (a version 3 file's scan of 8-bit codes, then
 * only the candidate rows scored again), each score is that kernel's on the
 * stored float32 row, so the hits and bits are those of a scan of every row;
 * ties at the k-th place keep the lowest rows. */
int fidx_index_search(struct fidx_index *ix, const float *queries, size_t nq, size_t k,
                      struct fidx_hit *hits, size_t *counts, struct fidx_err *err);

/* What the searches of an index have read so far. */
struct fidx_search_stats {
	uint64_t queries;
	uint64_t rows_scanned;    /* rows bounded by the first pass (codes) */
	uint64_t code_bytes;      /* bytes of codes it read */
	uint64_t blocks_rescored; /* blocks of vectors decoded and scored */
	uint64_t rows_rescored;
	uint64_t vector_bytes;    /* bytes of the file those blocks took */
};
const struct fidx_search_stats *fidx_index_stats(const struct fidx_index *ix);

#endif
