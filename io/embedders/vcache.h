/* A cache of embeddings on disk, keyed by embedder, model and text, so
 * that re-indexing sends only new or changed texts to an embedding API, and
 * a build killed half-way resumes without embedding finished batches again.
 *
 * One small file per text, named by the SHA-256 of (embedder, model, text),
 * under two-letter subfolders. Each holds a magic, the dimension, a CRC-32
 * of the values and the values; a damaged or foreign entry is a miss, never
 * trusted. Entries are written to a temporary file and renamed, so builds
 * sharing a cache never see half an entry. */
#ifndef FIDX_IO_VCACHE_H
#define FIDX_IO_VCACHE_H

#include <stddef.h>

#include "error.h"

struct fidx_vcache;

/* dir NULL: $XDG_CACHE_HOME/fidx/embeddings, else ~/.cache/fidx/embeddings.
 * The folder is created when missing. */
int fidx_vcache_open(struct fidx_vcache **c, const char *dir, const char *embedder,
                     const char *model, struct fidx_err *err);

/* Returns 1 and fills vec (dim floats) when the text is cached with that
 * dimension (dim 0: any, reported in *got), else 0. */
int fidx_vcache_get(struct fidx_vcache *c, const char *text, size_t len, size_t dim, float *vec,
                    size_t *got);

/* Stores a vector. Returns 0 or a negative fidx_code (the caller may go on
 * without the cache). */
int fidx_vcache_put(struct fidx_vcache *c, const char *text, size_t len, const float *vec,
                    size_t dim, struct fidx_err *err);

const char *fidx_vcache_dir(const struct fidx_vcache *c);
void fidx_vcache_close(struct fidx_vcache *c);

#endif
