/* Embedders: texts in, L2-normalized float vectors out, one interface for
 * every embedder.
 *
 * An embedder (struct fidx_embedder_ops) is opened from a name and named
 * settings (struct fidx_params: "model", "dim", "url", ...; each embedder
 * takes those it knows and leaves the rest alone). Once open, it says what
 * decides its vectors, its identity: "model" always, and whatever else
 * its vectors depend on ("url" and "format" for a service). An index
 * records the embedder's name and identity, so that search embeds queries
 * the same way; an embedder flagged FIDX_EMBEDDER_CACHE gets the on-disk
 * cache of embeddings (io/embedders/vcache.h) around it, keyed by name and
 * model.
 *
 * The registry, fidx_embedders, has:
 *   "hash"  the offline lexical embedder, model "fidx-hash-v1": feature
 *           hashing of words and character n-grams. Deterministic, needs
 *           no network and no model weights. It is NOT a neural model: it
 *           matches shared words and word pieces, not meaning. Settings:
 *           model, dim.
 *   "api"   a sentence model behind an HTTP API (io/embedders/embed_api.c):
 *           the Hugging Face Inference API, text-embeddings-inference or an
 *           OpenAI-compatible server, with batching, concurrent requests
 *           and retries. Settings: model, dim, url, format, token_file,
 *           batch, concurrency, retries, timeout; cache and no_cache (the
 *           cache's folder, or none).
 */
#ifndef FIDX_IO_EMBED_H
#define FIDX_IO_EMBED_H

#include <stddef.h>

#include "error.h"

#define FIDX_HASH_EMBEDDER "hash"
#define FIDX_HASH_MODEL "fidx-hash-v1"
#define FIDX_API_EMBEDDER "api"
#define FIDX_DEFAULT_DIM 384
#define FIDX_EMBED_MAX_DIM (1u << 20)

/* Named settings as strings, in the order they were set (not copied:
 * their owner keeps them alive). */
#define FIDX_PARAMS_MAX 24
struct fidx_params {
	size_t n;
	const char *key[FIDX_PARAMS_MAX];
	const char *val[FIDX_PARAMS_MAX];
};
/* Sets key to val (replacing an earlier value; val NULL removes it).
 * Returns 0, or -1 when there is no room. */
int fidx_params_set(struct fidx_params *p, const char *key, const char *val);
/* The value of key, or NULL. */
const char *fidx_params_get(const struct fidx_params *p, const char *key);

/* The whole job's progress, over all calls of fidx_embedder_embed. */
struct fidx_embed_progress {
	size_t done, total; /* texts; total 0 when not known */
	size_t retries;
	double seconds;
};

struct fidx_embed_stats {
	size_t requests, retries, embedded, cached;
	double seconds; /* spent embedding, cache look-ups included */
};

struct fidx_embedder_ops;

/* Where an embedder hands finished rows: row i of the call, dim values. */
struct fidx_embed_sink {
	void (*row)(void *ctx, size_t i, const float *vec, size_t dim);
	void *ctx;
};

/* How to open an embedder. */
struct fidx_embed_config {
	const char *name;          /* NULL: "hash" */
	struct fidx_params params; /* its settings */
	size_t expected;           /* texts the job will embed, when known, for progress */
	/* Optional: progress (a few times a second at most) and log lines
	 * (requests, retries; never a token). */
	void (*progress)(void *ctx, const struct fidx_embed_progress *p);
	void (*log)(void *ctx, const char *line);
	void *ctx;
	const struct fidx_embedder_ops *const *embedders; /* the registry; NULL: fidx_embedders */
};

struct fidx_embedder_ops {
	const char *name;
	unsigned flags; /* FIDX_EMBEDDER_* */
	/* Reads its settings in cfg (unknown ones ignored) and opens. */
	int (*open)(void **state, const struct fidx_embed_config *cfg, struct fidx_err *err);
	/* Adds its identity to id: "model", then what else decides its vectors.
	 * The strings stay valid until close. */
	void (*identity)(void *state, struct fidx_params *id);
	/* The dimension, or 0 while it is not known. */
	size_t (*dim)(void *state);
	/* Embeds texts[0..n) into out (n * *dim values, each row normalized).
	 * With *dim 0 (not known yet), n is 1 and out has room for
	 * FIDX_EMBED_MAX_DIM values: it learns *dim from that text. A text
	 * with nothing to embed is FIDX_EINPUT with detail
	 * FIDX_DETAIL_NO_WORDS; *bad, when not NULL, is the index of the text
	 * (or of the first of the batch) that failed, SIZE_MAX when no one
	 * text's. An embedder that works in batches hands each finished row
	 * to sink (when not NULL) as soon as it has it, whatever the call
	 * returns later: the cache keeps what a failed call did finish. */
	int (*embed)(void *state, const char *const *texts, const size_t *lens, size_t n, size_t *dim,
	             float *out, size_t *bad, const struct fidx_embed_sink *sink, struct fidx_err *err);
	/* How many texts to hand embed at a time for full speed; NULL: 64. */
	size_t (*chunk)(void *state);
	/* Requests and retries so far; NULL: it makes none. */
	void (*stats)(void *state, struct fidx_embed_stats *s);
	void (*close)(void *state);
};
#define FIDX_EMBEDDER_CACHE 1u /* worth caching on disk (a remote or slow model) */

/* The registry: every embedder, NULL-terminated. */
extern const struct fidx_embedder_ops *const fidx_embedders[];

struct fidx_embedder;

int fidx_embedder_open(struct fidx_embedder **e, const struct fidx_embed_config *cfg, struct fidx_err *err);

/* Embeds texts[i] (lens[i] bytes, not necessarily NUL-terminated) into
 * out[i*dim .. (i+1)*dim), each row L2-normalized; dim is
 * fidx_embedder_dim's, which must be known (see fidx_embedder_learn_dim).
 * Cached texts are taken from the cache. Failures as ops->embed's, with
 * *bad an index into texts. */
int fidx_embedder_embed(struct fidx_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n, float *out, size_t *bad, struct fidx_err *err);

/* Learns the dimension, when it is not known yet, by embedding one text
 * (kept, and handed out again when the next call starts with it). */
int fidx_embedder_learn_dim(struct fidx_embedder *e, const char *text, size_t len,
                            struct fidx_err *err);

const char *fidx_embedder_name(const struct fidx_embedder *e);
/* The identity: "model" first, then the embedder's own. */
const struct fidx_params *fidx_embedder_identity(const struct fidx_embedder *e);
const char *fidx_embedder_model(const struct fidx_embedder *e);
/* 0 while it is not known. */
size_t fidx_embedder_dim(const struct fidx_embedder *e);
size_t fidx_embedder_chunk(const struct fidx_embedder *e);
/* Requests, retries and cache hits so far. */
const struct fidx_embed_stats *fidx_embedder_stats(struct fidx_embedder *e);

void fidx_embedder_close(struct fidx_embedder *e);

/* The offline embedder itself, on one text, into out[0..dim): returns the
 * number of distinct features found (0 leaves out all zero), or -1 when
 * out of memory. */
long fidx_hash_embed(const char *text, size_t len, size_t dim, float *out);

#endif
