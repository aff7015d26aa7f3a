#include "embed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "embed_api.h"

struct fidx_embedder {
	char *name;
	char *model;
	size_t dim;
	struct fidx_api_client *api; /* NULL for hash */
	/* The text fidx_embedder_learn_dim embedded and its vector, handed out
	 * when the next call starts with that text, not asked for twice. */
	char *learned_text;
	size_t learned_len;
	float *learned_vec;
};

static void drop_learned(struct fidx_embedder *e)
{
	free(e->learned_text);
	free(e->learned_vec);
	e->learned_text = NULL;
	e->learned_vec = NULL;
}

static int open_hash(struct fidx_embedder *e, const struct fidx_embedder_spec *spec,
                     struct fidx_err *err)
{
	if (spec->model && strcmp(spec->model, FIDX_HASH_MODEL) != 0)
		return fidx_err_set(err, FIDX_EINPUT, "the hash embedder has one model, \"%s\", not \"%s\"",
		                    FIDX_HASH_MODEL, spec->model);
	if (!(e->name = strdup(FIDX_HASH_EMBEDDER)) || !(e->model = strdup(FIDX_HASH_MODEL)))
		return fidx_err_nomem(err);
	e->dim = spec->dim ? spec->dim : FIDX_DEFAULT_DIM;
	return 0;
}

static int open_api(struct fidx_embedder *e, const struct fidx_embedder_spec *spec,
                    struct fidx_err *err)
{
	int rc = fidx_api_client_open(&e->api, spec, err);
	if (rc)
		return rc;
	if (!(e->name = strdup(FIDX_API_EMBEDDER)) || !(e->model = strdup(fidx_api_client_model(e->api))))
		return fidx_err_nomem(err);
	e->dim = spec->dim;
	return 0;
}

int fidx_embedder_open(struct fidx_embedder **out, const struct fidx_embedder_spec *spec,
                       struct fidx_err *err)
{
	struct fidx_embedder *e;
	int rc;

	*out = NULL;
	if (!spec->name || (strcmp(spec->name, FIDX_HASH_EMBEDDER) != 0 && strcmp(spec->name, FIDX_API_EMBEDDER) != 0))
		return fidx_err_set(err, FIDX_EINPUT, "unknown embedder \"%s\" (known: hash, api)",
		                    spec->name ? spec->name : "");
	if (spec->dim > FIDX_EMBED_MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "dimension %zu is too large (at most %u)", spec->dim,
		                    FIDX_EMBED_MAX_DIM);
	if (!(e = calloc(1, sizeof *e)))
		return fidx_err_nomem(err);
	rc = strcmp(spec->name, FIDX_HASH_EMBEDDER) == 0 ? open_hash(e, spec, err) : open_api(e, spec, err);
	if (rc) {
		fidx_embedder_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

int fidx_embedder_learn_dim(struct fidx_embedder *e, const char *text, size_t len,
                            struct fidx_err *err)
{
	float *tmp;
	size_t dim = 0;
	int rc;

	if (e->dim || !e->api)
		return 0;
	if (!(tmp = malloc(FIDX_EMBED_MAX_DIM * sizeof *tmp)))
		return fidx_err_nomem(err);
	rc = fidx_api_client_embed(e->api, &text, &len, 1, &dim, tmp, NULL, err);
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
	size_t i;
	if (e->api) {
		size_t dim = e->dim, skip = 0;
		int rc;
		if (!dim && n)
			return fidx_err_set(err, FIDX_EINTERNAL, "the API embedder's dimension is not known yet");
		if (e->learned_vec && n && lens[0] == e->learned_len &&
		    memcmp(texts[0], e->learned_text, lens[0]) == 0) {
			memcpy(out, e->learned_vec, dim * sizeof *out);
			skip = 1;
		}
		drop_learned(e);
		rc = fidx_api_client_embed(e->api, texts + skip, lens + skip, n - skip, &dim, out + skip * dim,
		                           bad, err);
		if (rc && bad && *bad != SIZE_MAX)
			*bad += skip;
		return rc;
	}
	for (i = 0; i < n; i++) {
		long got = fidx_hash_embed(texts[i], lens[i], e->dim, out + i * e->dim);
		if (got < 0)
			return fidx_err_nomem(err);
		if (got == 0 && bad)
			*bad = i;
		if (got == 0) {
			fidx_err_set(err, FIDX_EINPUT, "text %zu has no words to embed (it is empty or only punctuation)",
			             i + 1);
			return fidx_err_detail(err, FIDX_DETAIL_NO_WORDS);
		}
	}
	return 0;
}

const char *fidx_embedder_name(const struct fidx_embedder *e) { return e->name; }
const char *fidx_embedder_model(const struct fidx_embedder *e) { return e->model; }
size_t fidx_embedder_dim(const struct fidx_embedder *e) { return e->dim; }

size_t fidx_embedder_chunk(const struct fidx_embedder *e)
{
	size_t n = e->api ? fidx_api_client_chunk(e->api) : 64;
	return n < 64 ? 64 : n > 65536 ? 65536 : n;
}

const char *fidx_embedder_url(const struct fidx_embedder *e)
{
	return e->api ? fidx_api_client_url(e->api) : NULL;
}

const char *fidx_embedder_format(const struct fidx_embedder *e)
{
	return e->api ? fidx_api_format_name(fidx_api_client_format(e->api)) : NULL;
}

const struct fidx_api_stats *fidx_embedder_stats(const struct fidx_embedder *e)
{
	return e->api ? fidx_api_client_stats(e->api) : NULL;
}

void fidx_embedder_close(struct fidx_embedder *e)
{
	if (!e)
		return;
	fidx_api_client_close(e->api);
	drop_learned(e);
	free(e->name);
	free(e->model);
	free(e);
}
