/* Embedders: texts in, L2-normalized float vectors out.
 *
 * An embedder is named by a spec (name, model, dimension, and for remote
 * embedders an endpoint). An index records the spec that made its vectors
 * so that search can embed queries the same way, and refuse to when the
 * spec differs.
 *
 * Built in:
 *   "hash"  the offline lexical embedder, model "fidx-hash-v1": feature
 *           hashing of words and character n-grams. Deterministic, needs
 *           no network and no model weights. It is NOT a neural model: it
 *           matches shared words and word pieces, not meaning.
 */
#ifndef FIDX_IO_EMBED_H
#define FIDX_IO_EMBED_H

#include <stddef.h>

#include "error.h"

#define FIDX_HASH_EMBEDDER "hash"
#define FIDX_HASH_MODEL "fidx-hash-v1"
#define FIDX_DEFAULT_DIM 384

struct fidx_embedder_spec {
	const char *name;     /* "hash" */
	const char *model;    /* NULL: the embedder's default model */
	size_t dim;           /* 0: the embedder's default dimension */
};

struct fidx_embedder;

int fidx_embedder_open(struct fidx_embedder **e, const struct fidx_embedder_spec *spec,
                       struct fidx_err *err);

/* Embeds texts[i] (lens[i] bytes, not necessarily NUL-terminated) into
 * out[i*dim .. (i+1)*dim), each row L2-normalized. A text that yields no
 * features (empty, or only punctuation) is an error naming its index. */
int fidx_embedder_embed(struct fidx_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n, float *out, struct fidx_err *err);

const char *fidx_embedder_name(const struct fidx_embedder *e);
const char *fidx_embedder_model(const struct fidx_embedder *e);
size_t fidx_embedder_dim(const struct fidx_embedder *e);

void fidx_embedder_close(struct fidx_embedder *e);

/* The offline embedder itself, on one text, into out[0..dim): returns the
 * number of distinct features found (0 leaves out all zero), or -1 when
 * out of memory. */
long fidx_hash_embed(const char *text, size_t len, size_t dim, float *out);

#endif
