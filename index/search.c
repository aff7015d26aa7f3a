#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "idset.h"

struct fidx_collection {
	struct fidx_index **ix;
	uint64_t *offset; /* for implicit ids */
	size_t n;
	int keep_apart, kind;
	struct fidx_embedder *embedder; /* for text queries, opened on the first */
	char dim[24];
};

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

size_t fidx_collection_size(const struct fidx_collection *c) { return c->n; }
struct fidx_index *fidx_collection_index(const struct fidx_collection *c, size_t i) { return c->ix[i]; }
uint32_t fidx_collection_dim(const struct fidx_collection *c) { return fidx_index_dim(c->ix[0]); }
int fidx_collection_id_kind(const struct fidx_collection *c) { return c->kind; }

int64_t fidx_collection_id_int(const struct fidx_collection *c, size_t i, uint64_t row)
{
	int implicit = fidx_index_meta(c->ix[i])->id_kind == FIDX_IDS_IMPLICIT;
	return fidx_index_id_int(c->ix[i], row) + (implicit ? (int64_t)c->offset[i] : 0);
}

const char *fidx_collection_id(const struct fidx_collection *c, size_t i, uint64_t row,
                               char buf[24], size_t *len)
{
	if (fidx_index_meta(c->ix[i])->id_kind == FIDX_IDS_IMPLICIT) {
		*len = (size_t)snprintf(buf, 24, "%lld", (long long)fidx_collection_id_int(c, i, row));
		return buf;
	}
	return fidx_index_id(c->ix[i], row, buf, len);
}

/* Checks that no id is in two indexes. */
static int check_collisions(struct fidx_collection *c, const char *const *paths, struct fidx_err *err)
{
	struct fidx_idset *set;
	size_t i, explicit = 0;
	int rc = 0;

	for (i = 0; i < c->n; i++)
		explicit += fidx_index_meta(c->ix[i])->id_kind != FIDX_IDS_IMPLICIT;
	if (!explicit)
		return 0; /* renumbered ids never collide */
	for (i = 0; i < c->n; i++)
		if ((rc = fidx_index_all_ids(c->ix[i], err)) != 0)
			return rc;
	if (!(set = fidx_idset_new()))
		return fidx_err_nomem(err);
	for (i = 0; rc == 0 && i < c->n; i++) {
		uint64_t r, prev;
		for (r = 0; r < fidx_index_count(c->ix[i]); r++) {
			char buf[24], q[96];
			size_t len;
			const char *id = fidx_collection_id(c, i, r, buf, &len);
			int put = fidx_idset_put(set, id, len, i, 0, &prev);
			if (put < 0) {
				rc = fidx_err_nomem(err);
				break;
			}
			if (put == 0) {
				fidx_err_quote(q, sizeof q, id, len);
				rc = fidx_err_set(err, FIDX_EINPUT,
				                  "id \"%s\" is in both %s and %s (use " FIDX_SETTING("keep_apart") " to search them side by side)",
				                  q, paths[prev], paths[i]);
				break;
			}
		}
	}
	fidx_idset_free(set);
	return rc;
}

int fidx_collection_open(struct fidx_collection **out, const char *const *paths, size_t n,
                         int keep_apart, struct fidx_err *err)
{
	struct fidx_collection *c = calloc(1, sizeof *c);
	uint64_t total = 0;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!c || !(c->ix = calloc(n, sizeof *c->ix)) || !(c->offset = calloc(n, sizeof *c->offset))) {
		fidx_collection_free(c);
		return fidx_err_nomem(err);
	}
	c->n = n;
	c->keep_apart = keep_apart;
	c->kind = FIDX_IDS_INT;
	for (i = 0; rc == 0 && i < n; i++) {
		const struct fidx_meta *m, *m0;
		if ((rc = fidx_index_open(&c->ix[i], paths[i], err)) != 0)
			break;
		m = fidx_index_meta(c->ix[i]);
		m0 = fidx_index_meta(c->ix[0]);
		c->offset[i] = keep_apart ? 0 : total;
		total += m->count;
		if (m->id_kind == FIDX_IDS_STRING)
			c->kind = FIDX_IDS_STRING;
		if (m->dim != m0->dim)
			rc = fidx_err_set(err, FIDX_EINPUT, "%s has %u dimensions, %s has %u", paths[i], m->dim,
			                  paths[0], m0->dim);
		else if (!same_str(m->embedder, m0->embedder) || !same_str(m->model, m0->model))
			rc = fidx_err_set(err, FIDX_EINPUT, "%s and %s were embedded differently (%s/%s vs %s/%s)",
			                  paths[i], paths[0], m->embedder ? m->embedder : "unknown",
			                  m->model ? m->model : "unknown", m0->embedder ? m0->embedder : "unknown",
			                  m0->model ? m0->model : "unknown");
	}
	if (rc == 0 && n > 1 && !keep_apart)
		rc = check_collisions(c, paths, err);
	if (rc) {
		fidx_collection_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void fidx_collection_free(struct fidx_collection *c)
{
	size_t i;
	if (!c)
		return;
	if (c->ix)
		for (i = 0; i < c->n; i++)
			fidx_index_free(c->ix[i]);
	free(c->ix);
	free(c->offset);
	fidx_embedder_close(c->embedder);
	free(c);
}

int fidx_collection_find(struct fidx_collection *c, const char *id, size_t len, size_t *index,
                         uint64_t *row, struct fidx_err *err)
{
	size_t i;
	for (i = 0; i < c->n; i++) {
		const struct fidx_meta *m = fidx_index_meta(c->ix[i]);
		int rc;
		if (m->id_kind == FIDX_IDS_IMPLICIT && c->offset[i]) {
			/* Renumbered: look for id - offset. */
			char buf[24];
			long long v;
			char *end;
			if (len == 0 || len >= sizeof buf)
				continue;
			memcpy(buf, id, len);
			buf[len] = '\0';
			v = strtoll(buf, &end, 10);
			if (*end || v < (long long)c->offset[i] || (uint64_t)v - c->offset[i] >= m->count)
				continue;
			*index = i;
			*row = (uint64_t)v - c->offset[i];
			return 1;
		}
		rc = fidx_index_find(c->ix[i], id, len, row, err);
		if (rc) {
			*index = i;
			return rc;
		}
	}
	return 0;
}

/* Opens the embedder the indexes record: their name, model, dimension
 * and parameters, base's parameters overriding the recorded ones. */
static int open_embedder(struct fidx_collection *c, const struct fidx_embed_config *base, struct fidx_err *err)
{
	const struct fidx_meta *m = fidx_index_meta(c->ix[0]);
	struct fidx_embed_config cfg;
	size_t i;
	int rc;

	if (!m->embedder)
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s records no embedder (its vectors came from files), so text queries cannot be embedded; "
		                    "search with " FIDX_SETTING("vectors") " or " FIDX_SETTING("id") ", or build with " FIDX_SETTING("embedder") " NAME",
		                    fidx_index_path(c->ix[0]));
	if (base)
		cfg = *base;
	else
		memset(&cfg, 0, sizeof cfg);
	cfg.name = m->embedder;
	snprintf(c->dim, sizeof c->dim, "%u", m->dim);
	/* What the index records decides the vectors; the caller may point
	 * at another copy of the service (its url, its format). */
	rc = fidx_params_set(&cfg.params, "model", m->model) || fidx_params_set(&cfg.params, "dim", c->dim);
	for (i = 0; !rc && i < m->nparams; i++)
		if (!fidx_params_get(&cfg.params, m->params[i].key))
			rc = fidx_params_set(&cfg.params, m->params[i].key, m->params[i].value);
	if (rc)
		return fidx_err_set(err, FIDX_EINTERNAL, "too many embedder parameters");
	if ((rc = fidx_embedder_open(&c->embedder, &cfg, err)) != 0)
		return rc;
	if (fidx_embedder_dim(c->embedder) && fidx_embedder_dim(c->embedder) != m->dim) {
		rc = fidx_err_set(err, FIDX_EINPUT, "the %s embedder gives %zu dimensions, the index has %u", m->embedder,
		                  fidx_embedder_dim(c->embedder), m->dim);
		fidx_embedder_close(c->embedder);
		c->embedder = NULL;
	}
	return rc;
}

int fidx_collection_embed(struct fidx_collection *c, const struct fidx_embed_config *base,
                          const char *const *texts, const size_t *lens, size_t n, float *out,
                          struct fidx_err *err)
{
	int rc;
	if (!c->embedder && (rc = open_embedder(c, base, err)) != 0)
		return rc;
	return fidx_embedder_embed(c->embedder, texts, lens, n, out, NULL, err);
}

static int result_cmp(const struct fidx_collection *c, const struct fidx_result *a,
                      const struct fidx_result *b)
{
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (c->kind == FIDX_IDS_STRING) {
		char ba[24], bb[24];
		size_t la, lb;
		const char *pa = fidx_collection_id(c, a->index, a->row, ba, &la);
		const char *pb = fidx_collection_id(c, b->index, b->row, bb, &lb);
		int r = memcmp(pa, pb, la < lb ? la : lb);
		if (r || la != lb)
			return r ? r : (la < lb ? -1 : 1);
	} else {
		int64_t ia = fidx_collection_id_int(c, a->index, a->row);
		int64_t ib = fidx_collection_id_int(c, b->index, b->row);
		if (ia != ib)
			return ia < ib ? -1 : 1;
	}
	return (a->index > b->index) - (a->index < b->index);
}

static int result_order(const void *a, const void *b, void *ctx)
{
	return result_cmp(ctx, a, b);
}

int fidx_collection_search(struct fidx_collection *c, const float *queries, size_t nq, size_t k,
                           float min_score, struct fidx_result *out, size_t *counts,
                           struct fidx_err *err)
{
	struct fidx_hit *hits = NULL;
	struct fidx_result *cand = NULL;
	size_t *hc = NULL, i, q, j;
	int rc = 0;

	if (k == 0 || nq == 0) {
		for (q = 0; q < nq; q++)
			counts[q] = 0;
		return 0;
	}
	hits = malloc(nq * k * sizeof *hits);
	hc = malloc(nq * sizeof *hc);
	cand = malloc(2 * k * sizeof *cand);
	if (!hits || !hc || !cand) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	for (q = 0; q < nq; q++)
		counts[q] = 0;
	/* Each index's top k, then the best k of those, per query. */
	for (i = 0; i < c->n; i++) {
		if ((rc = fidx_index_search(c->ix[i], queries, nq, k, hits, hc, err)) != 0)
			goto out;
		for (q = 0; q < nq; q++) {
			struct fidx_result *r = out + q * k;
			size_t m = 0;
			/* Merge this index's hits with the results so far. */
			for (j = 0; j < counts[q]; j++)
				cand[m++] = r[j];
			for (j = 0; j < hc[q]; j++) {
				if (hits[q * k + j].score < min_score)
					continue;
				cand[m].index = i;
				cand[m].row = hits[q * k + j].row;
				cand[m].score = hits[q * k + j].score;
				m++;
			}
			qsort_r(cand, m, sizeof *cand, result_order, c);
			counts[q] = m < k ? m : k;
			memcpy(r, cand, counts[q] * sizeof *r);
		}
	}
out:
	free(hits);
	free(hc);
	free(cand);
	return rc;
}
