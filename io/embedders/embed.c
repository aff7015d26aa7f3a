/* The embedder interface: the registry, and what every embedder gets
 * around it (the cache, the dimension learned from a first text, the
 * stats). */
#include "embed.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vcache.h"

extern const struct fidx_embedder_ops fidx_embedder_hash, fidx_embedder_api;

const struct fidx_embedder_ops *const fidx_embedders[] = {&fidx_embedder_hash, &fidx_embedder_api, NULL};

int fidx_params_set(struct fidx_params *p, const char *key, const char *val)
{
	size_t i;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			break;
	if (!val) {
		if (i < p->n) {
			memmove(p->key + i, p->key + i + 1, (p->n - i - 1) * sizeof *p->key);
			memmove(p->val + i, p->val + i + 1, (p->n - i - 1) * sizeof *p->val);
			p->n--;
		}
		return 0;
	}
	if (i == p->n) {
		if (p->n == FIDX_PARAMS_MAX)
			return -1;
		p->key[p->n++] = key;
	}
	p->val[i] = val;
	return 0;
}

const char *fidx_params_get(const struct fidx_params *p, const char *key)
{
	size_t i;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->val[i];
	return NULL;
}

struct fidx_embedder {
	const struct fidx_embedder_ops *ops;
	void *state;
	/* The caller's hooks: progress counts the cache's texts too. */
	void (*progress)(void *ctx, const struct fidx_embed_progress *p);
	void (*log)(void *ctx, const char *line);
	void *ctx;
	size_t expected, reported;
	double t0;
	struct fidx_params identity;
	size_t dim;        /* learned, maybe from the cache; 0: the embedder's own */
	struct fidx_vcache *cache;
	struct fidx_embed_stats stats;
	/* The text fidx_embedder_learn_dim embedded and its vector, handed out
	 * when the next call starts with that text, not asked for twice. */
	char *learned_text;
	size_t learned_len;
	float *learned_vec;
	/* The texts a call must embed (not in the cache). */
	size_t *miss;
	const char **mtexts;
	size_t *mlens, mcap;
	unsigned char *kept; /* rows of the call already in the cache */
	float *mout;
	size_t mout_cap;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void drop_learned(struct fidx_embedder *e)
{
	free(e->learned_text);
	free(e->learned_vec);
	e->learned_text = NULL;
	e->learned_vec = NULL;
}

/* The embedder's own progress, with the texts the cache gave added. */
static void on_progress(void *ctx, const struct fidx_embed_progress *p)
{
	struct fidx_embedder *e = ctx;
	struct fidx_embed_progress q = *p;
	q.done += e->stats.cached;
	e->reported = q.done;
	e->progress(e->ctx, &q);
}

/* Progress after a call, when the embedder itself said nothing of it. */
static void report(struct fidx_embedder *e, size_t done)
{
	struct fidx_embed_progress p = {0};
	if (!e->progress || done == e->reported)
		return;
	fidx_embedder_stats(e);
	p.done = done;
	p.total = e->expected;
	p.retries = e->stats.retries;
	p.seconds = now_s() - e->t0;
	e->reported = done;
	e->progress(e->ctx, &p);
}

int fidx_embedder_open(struct fidx_embedder **out, const struct fidx_embed_config *cfg, struct fidx_err *err)
{
	struct fidx_embed_config own = *cfg;
	const struct fidx_embedder_ops *const *all = cfg->embedders ? cfg->embedders : fidx_embedders, *const *o;
	const char *name = cfg->name ? cfg->name : FIDX_HASH_EMBEDDER;
	struct fidx_embedder *e;
	int rc;

	*out = NULL;
	for (o = all; *o && strcmp((*o)->name, name) != 0; o++)
		;
	if (!*o) {
		char known[256] = "";
		size_t len = 0;
		for (o = all; *o && len < sizeof known; o++)
			len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", o == all ? "" : ", ", (*o)->name);
		return fidx_err_set(err, FIDX_EINPUT, "unknown embedder \"%s\" (known: %s)", name, known);
	}
	if (!(e = calloc(1, sizeof *e)))
		return fidx_err_nomem(err);
	e->ops = *o;
	e->progress = cfg->progress;
	e->log = cfg->log;
	e->ctx = cfg->ctx;
	e->expected = cfg->expected;
	e->t0 = now_s();
	if (cfg->progress) {
		own.progress = on_progress;
		own.ctx = e;
	}
	if ((rc = e->ops->open(&e->state, &own, err)) != 0) {
		free(e);
		return rc;
	}
	e->ops->identity(e->state, &e->identity);
	if ((e->ops->flags & FIDX_EMBEDDER_CACHE) && !fidx_params_get(&cfg->params, "no_cache") &&
	    (rc = fidx_vcache_open(&e->cache, fidx_params_get(&cfg->params, "cache"), e->ops->name,
	                           fidx_embedder_model(e), err)) != 0) {
		fidx_embedder_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* Room for the texts of a call that the cache does not have. */
static int miss_room(struct fidx_embedder *e, size_t n, size_t dim, struct fidx_err *err)
{
	if (n > e->mcap) {
		size_t *m = realloc(e->miss, n * sizeof *m), *l;
		unsigned char *k;
		const char **t;
		if (m)
			e->miss = m;
		t = m ? realloc(e->mtexts, n * sizeof *t) : NULL;
		if (t)
			e->mtexts = t;
		l = t ? realloc(e->mlens, n * sizeof *l) : NULL;
		if (l)
			e->mlens = l;
		k = l ? realloc(e->kept, n) : NULL;
		if (!k)
			return fidx_err_nomem(err);
		e->kept = k;
		e->mcap = n;
	}
	if (n * dim > e->mout_cap) {
		float *v = realloc(e->mout, n * dim * sizeof *v);
		if (!v)
			return fidx_err_nomem(err);
		e->mout = v;
		e->mout_cap = n * dim;
	}
	return 0;
}

/* A finished row: into the cache at once, so that a call failing later
 * still leaves it there. */
static void keep(void *ctx, size_t i, const float *vec, size_t dim)
{
	struct fidx_embedder *e = ctx;
	struct fidx_err err;
	e->kept[i] = 1;
	if (!e->cache || fidx_vcache_put(e->cache, e->mtexts[i], e->mlens[i], vec, dim, &err) == 0)
		return;
	/* Going on without the cache: it only saves work. */
	if (e->log) {
		char line[FIDX_ERR_MAX + 64];
		snprintf(line, sizeof line, "cache: %s (going on without it)", err.msg);
		e->log(e->ctx, line);
	}
	fidx_vcache_close(e->cache);
	e->cache = NULL;
}

/* Embeds what the cache does not have, and caches it. *dim may be 0 only
 * for n == 1 (then out has room for FIDX_EMBED_MAX_DIM values). */
static int embed_cached(struct fidx_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                        size_t *dim, float *out, size_t *bad, struct fidx_err *err)
{
	size_t i, nmiss = 0, d;
	int rc;

	if (!e->cache)
		return e->ops->embed(e->state, texts, lens, n, dim, out, bad, NULL, err);
	if ((rc = miss_room(e, n, *dim, err)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		size_t got = 0;
		if (fidx_vcache_get(e->cache, texts[i], lens[i], *dim, out + i * *dim, &got)) {
			if (!*dim)
				*dim = got;
			e->stats.cached++;
			continue;
		}
		e->miss[nmiss] = i;
		e->mtexts[nmiss] = texts[i];
		e->mlens[nmiss] = lens[i];
		nmiss++;
	}
	if (!nmiss)
		return 0;
	d = *dim;
	/* Misses are embedded into a buffer of their own, then put in place. */
	if ((rc = miss_room(e, nmiss, d ? d : FIDX_EMBED_MAX_DIM, err)) != 0)
		return rc;
	memset(e->kept, 0, nmiss);
	{
		struct fidx_embed_sink sink = {keep, e};
		rc = e->ops->embed(e->state, e->mtexts, e->mlens, nmiss, &d, e->mout, bad, &sink, err);
	}
	if (rc) {
		if (bad && *bad < nmiss)
			*bad = e->miss[*bad];
		return rc;
	}
	*dim = d;
	for (i = 0; i < nmiss; i++) {
		if (!e->kept[i])
			keep(e, i, e->mout + i * d, d); /* rows the embedder did not hand over one by one */
		memcpy(out + e->miss[i] * d, e->mout + i * d, d * sizeof *out);
	}
	return 0;
}

int fidx_embedder_learn_dim(struct fidx_embedder *e, const char *text, size_t len, struct fidx_err *err)
{
	float *tmp;
	size_t dim = 0;
	double t0 = now_s();
	int rc;

	if (fidx_embedder_dim(e))
		return 0;
	if (!(tmp = malloc(FIDX_EMBED_MAX_DIM * sizeof *tmp)))
		return fidx_err_nomem(err);
	rc = embed_cached(e, &text, &len, 1, &dim, tmp, NULL, err);
	e->stats.seconds += now_s() - t0;
	if (rc) {
		free(tmp);
		return rc;
	}
	e->dim = dim;
	/* Keeping the vector is only an optimisation: without memory, go on
	 * without it. */
	if ((e->learned_text = malloc(len + 1)) && (e->learned_vec = malloc(dim * sizeof *tmp))) {
		memcpy(e->learned_vec, tmp, dim * sizeof *tmp);
		memcpy(e->learned_text, text, len);
		e->learned_text[len] = '\0';
		e->learned_len = len;
	} else {
		drop_learned(e);
	}
	free(tmp);
	return 0;
}

int fidx_embedder_embed(struct fidx_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n, float *out, size_t *bad, struct fidx_err *err)
{
	size_t dim = fidx_embedder_dim(e), skip = 0;
	double t0 = now_s();
	int rc;

	if (bad)
		*bad = SIZE_MAX;
	if (!n)
		return 0;
	if (!dim)
		return fidx_err_set(err, FIDX_EINTERNAL, "the %s embedder's dimension is not known yet", e->ops->name);
	if (e->learned_vec && lens[0] == e->learned_len && memcmp(texts[0], e->learned_text, lens[0]) == 0) {
		memcpy(out, e->learned_vec, dim * sizeof *out);
		skip = 1;
	}
	drop_learned(e);
	rc = embed_cached(e, texts + skip, lens + skip, n - skip, &dim, out + skip * dim, bad, err);
	if (rc && bad && *bad != SIZE_MAX)
		*bad += skip;
	e->stats.seconds += now_s() - t0;
	if (!rc) {
		fidx_embedder_stats(e);
		report(e, e->stats.cached + e->stats.embedded);
	}
	return rc;
}

const char *fidx_embedder_name(const struct fidx_embedder *e) { return e->ops->name; }
const struct fidx_params *fidx_embedder_identity(const struct fidx_embedder *e) { return &e->identity; }
size_t fidx_embedder_dim(const struct fidx_embedder *e)
{
	return e->dim ? e->dim : e->ops->dim(e->state);
}

const char *fidx_embedder_model(const struct fidx_embedder *e)
{
	return fidx_params_get(&e->identity, "model");
}

size_t fidx_embedder_chunk(const struct fidx_embedder *e)
{
	size_t n = e->ops->chunk ? e->ops->chunk(e->state) : 64;
	return n < 64 ? 64 : n > 65536 ? 65536 : n;
}

const struct fidx_embed_stats *fidx_embedder_stats(struct fidx_embedder *e)
{
	struct fidx_embed_stats s = {0};
	if (e->ops->stats)
		e->ops->stats(e->state, &s);
	e->stats.requests = s.requests;
	e->stats.retries = s.retries;
	e->stats.embedded = s.embedded;
	return &e->stats;
}

void fidx_embedder_close(struct fidx_embedder *e)
{
	if (!e)
		return;
	if (e->state)
		e->ops->close(e->state);
	fidx_vcache_close(e->cache);
	drop_learned(e);
	free(e->miss);
	free(e->mtexts);
	free(e->mlens);
	free(e->kept);
	free(e->mout);
	free(e);
}

/* ---- the offline embedder ---- */

struct hash {
	size_t dim;
};

static int hash_open(void **state, const struct fidx_embed_config *cfg, struct fidx_err *err)
{
	const char *model = fidx_params_get(&cfg->params, "model"), *dim = fidx_params_get(&cfg->params, "dim");
	struct hash *h;
	unsigned long long d = FIDX_DEFAULT_DIM;
	char *end;

	if (model && strcmp(model, FIDX_HASH_MODEL) != 0)
		return fidx_err_set(err, FIDX_EINPUT, "the hash embedder has one model, \"%s\", not \"%s\"",
		                    FIDX_HASH_MODEL, model);
	if (dim && ((d = strtoull(dim, &end, 10)) == 0 || *end))
		return fidx_err_set(err, FIDX_EINPUT, "dimension \"%s\" is not a whole number", dim);
	if (d > FIDX_EMBED_MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "dimension %llu is too large (at most %u)", d, FIDX_EMBED_MAX_DIM);
	if (!(h = calloc(1, sizeof *h)))
		return fidx_err_nomem(err);
	h->dim = (size_t)d;
	*state = h;
	return 0;
}

static void hash_identity(void *state, struct fidx_params *id)
{
	(void)state;
	fidx_params_set(id, "model", FIDX_HASH_MODEL);
}

static size_t hash_dim(void *state)
{
	return ((struct hash *)state)->dim;
}

static int hash_embed(void *state, const char *const *texts, const size_t *lens, size_t n, size_t *dim,
                      float *out, size_t *bad, const struct fidx_embed_sink *sink, struct fidx_err *err)
{
	struct hash *h = state;
	size_t i;
	(void)sink; /* not cached: it is faster than a cache */
	*dim = h->dim;
	for (i = 0; i < n; i++) {
		long got = fidx_hash_embed(texts[i], lens[i], h->dim, out + i * h->dim);
		if (got < 0)
			return fidx_err_nomem(err);
		if (got == 0) {
			if (bad)
				*bad = i;
			fidx_err_set(err, FIDX_EINPUT, "text %zu has no words to embed (it is empty or only punctuation)",
			             i + 1);
			return fidx_err_detail(err, FIDX_DETAIL_NO_WORDS);
		}
	}
	return 0;
}

const struct fidx_embedder_ops fidx_embedder_hash = {
	.name = FIDX_HASH_EMBEDDER,
	.open = hash_open,
	.identity = hash_identity,
	.dim = hash_dim,
	.embed = hash_embed,
	.close = free,
};
