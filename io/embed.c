#include "embed.h"

#include <stdlib.h>
#include <string.h>

struct fidx_embedder {
	char *name;
	char *model;
	size_t dim;
};

int fidx_embedder_open(struct fidx_embedder **out, const struct fidx_embedder_spec *spec,
                       struct fidx_err *err)
{
	struct fidx_embedder *e;

	*out = NULL;
	if (!spec->name || strcmp(spec->name, FIDX_HASH_EMBEDDER) != 0)
		return fidx_err_set(err, FIDX_EINPUT, "unknown embedder \"%s\" (known: hash)",
		                    spec->name ? spec->name : "");
	if (spec->model && strcmp(spec->model, FIDX_HASH_MODEL) != 0)
		return fidx_err_set(err, FIDX_EINPUT,
		                    "the hash embedder has one model, \"%s\", not \"%s\"",
		                    FIDX_HASH_MODEL, spec->model);
	if (spec->dim > (1u << 20))
		return fidx_err_set(err, FIDX_EINPUT, "dimension %zu is too large (at most %u)",
		                    spec->dim, 1u << 20);
	e = calloc(1, sizeof *e);
	if (!e || !(e->name = strdup(FIDX_HASH_EMBEDDER)) || !(e->model = strdup(FIDX_HASH_MODEL))) {
		fidx_embedder_close(e);
		return fidx_err_nomem(err);
	}
	e->dim = spec->dim ? spec->dim : FIDX_DEFAULT_DIM;
	*out = e;
	return 0;
}

int fidx_embedder_embed(struct fidx_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n, float *out, struct fidx_err *err)
{
	size_t i;
	for (i = 0; i < n; i++) {
		long got = fidx_hash_embed(texts[i], lens[i], e->dim, out + i * e->dim);
		if (got < 0)
			return fidx_err_nomem(err);
		if (got == 0)
			return fidx_err_set(err, FIDX_EINPUT,
			                    "text %zu has no words to embed (it is empty or only punctuation)",
			                    i + 1);
	}
	return 0;
}

const char *fidx_embedder_name(const struct fidx_embedder *e)
{
	return e->name;
}

const char *fidx_embedder_model(const struct fidx_embedder *e)
{
	return e->model;
}

size_t fidx_embedder_dim(const struct fidx_embedder *e)
{
	return e->dim;
}

void fidx_embedder_close(struct fidx_embedder *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->model);
	free(e);
}
