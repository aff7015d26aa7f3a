/* Embedders: texts in, L2-normalized float vectors out.
 *
 * An embedder is named by a spec (name, model, dimension, and for the API
 * embedder its URL and protocol). An index records how its vectors were
 * made, so that search can embed queries the same way, and refuse to when
 * they differ.
 *
 *   "hash"  the offline lexical embedder, model "fidx-hash-v1": feature
 *           hashing of words and character n-grams. Deterministic, needs
 *           no network and no model weights. It is NOT a neural model: it
 *           matches shared words and word pieces, not meaning.
 *   "api"   a sentence model behind an HTTP API (io/embedders/api.h, io/embedders/embed_api.c):
 *           the Hugging Face Inference API, text-embeddings-inference or an
 *           OpenAI-compatible server, with batching, concurrent requests,
 *           retries and an on-disk cache (io/embedders/vcache.h).
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

/* The whole job's progress, over all calls of fidx_embedder_embed. */
struct fidx_embed_progress {
	size_t done, total; /* texts; total 0 when not known */
	size_t retries;
	double seconds;
};

struct fidx_api_stats {
	size_t requests, retries, embedded, cached;
	double seconds; /* spent embedding, cache look-ups included */
};

struct fidx_embedder_spec {
	const char *name;       /* "hash" or "api" */
	const char *model;      /* NULL: the embedder's default */
	size_t dim;             /* 0: the default (hash), or what the API returns */
	/* "api" only */
	const char *url;        /* NULL: the Hugging Face router URL for the model */
	const char *format;     /* "hf", "tei", "openai"; NULL: from the URL */
	const char *token_file; /* NULL: the usual places (io/embedders/api.h) */
	size_t batch;           /* texts per request; 0: 32 */
	size_t concurrency;     /* requests in flight; 0: 4 */
	int retries;            /* retries per batch; 0: 5, -1: none */
	double timeout;         /* seconds for the whole job; 0: 600 */
	const char *cache_dir;  /* NULL: the default cache folder */
	int no_cache;
	size_t expected;        /* texts the job will embed, when known, for progress */
	/* Optional callbacks, for the command line: progress (a few times a
	 * second at most) and log lines (requests, retries; never the token). */
	void (*progress)(void *ctx, const struct fidx_embed_progress *p);
	void (*log)(void *ctx, const char *line);
	void *ctx;
};

struct fidx_embedder;

int fidx_embedder_open(struct fidx_embedder **e, const struct fidx_embedder_spec *spec,
                       struct fidx_err *err);

/* Embeds texts[i] (lens[i] bytes, not necessarily NUL-terminated) into
 * out[i*dim .. (i+1)*dim), each row L2-normalized; dim is
 * fidx_embedder_dim's, which must be known (see fidx_embedder_learn_dim). A
 * text that yields no features (hash: empty, or only punctuation) is
 * FIDX_EINPUT, with its index in *bad when bad is not NULL. API failures
 * are FIDX_EAPI (or FIDX_EINPUT for a bad URL or token), with *bad the index
 * of the first text of the batch that failed, or SIZE_MAX when no one
 * batch did (the --timeout of the whole job ran out). */
int fidx_embedder_embed(struct fidx_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n, float *out, size_t *bad, struct fidx_err *err);

/* The API embedder learns its dimension from the service: embeds one text
 * (cached like any other) when the dimension is not known yet. */
int fidx_embedder_learn_dim(struct fidx_embedder *e, const char *text, size_t len,
                            struct fidx_err *err);

const char *fidx_embedder_name(const struct fidx_embedder *e);
const char *fidx_embedder_model(const struct fidx_embedder *e);
/* 0 while an API embedder's dimension is not known. */
size_t fidx_embedder_dim(const struct fidx_embedder *e);
/* The API embedder's URL and protocol name ("hf", "tei", "openai"); NULL
 * for the hash embedder. */
const char *fidx_embedder_url(const struct fidx_embedder *e);
const char *fidx_embedder_format(const struct fidx_embedder *e);
/* How many texts to hand fidx_embedder_embed at a time for full speed. */
size_t fidx_embedder_chunk(const struct fidx_embedder *e);
/* Requests, retries and cache hits so far; NULL for the hash embedder. */
const struct fidx_api_stats *fidx_embedder_stats(const struct fidx_embedder *e);

void fidx_embedder_close(struct fidx_embedder *e);

/* The offline embedder itself, on one text, into out[0..dim): returns the
 * number of distinct features found (0 leaves out all zero), or -1 when
 * out of memory. */
long fidx_hash_embed(const char *text, size_t len, size_t dim, float *out);

#endif
