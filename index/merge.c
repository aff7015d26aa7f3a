#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "file.h"
#include "idset.h"
#include "meta.h"

#define ROW_BITS 40
#define ROW_MASK ((UINT64_C(1) << ROW_BITS) - 1)

struct input {
	struct fidx_file *f;
	struct fidx_meta meta;
	uint64_t offset; /* rows of the inputs before this one */
};

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int open_inputs(const struct fidx_merge_opts *o, struct input *in, struct fidx_err *err)
{
	uint64_t total = 0;
	size_t i;
	int rc;

	for (i = 0; i < o->ninputs; i++) {
		if ((rc = fidx_file_open(&in[i].f, o->inputs[i], err)) != 0 ||
		    (rc = fidx_meta_read(in[i].f, &in[i].meta, err)) != 0)
			return rc;
		if (in[i].meta.count > ROW_MASK || i > (SIZE_MAX >> 1))
			return fidx_err_set(err, FIDX_EINPUT, "%s: too many rows to merge", o->inputs[i]);
		in[i].offset = total;
		total += in[i].meta.count;
		if (i == 0)
			continue;
		if (in[i].meta.dim != in[0].meta.dim)
			return fidx_err_set(err, FIDX_EINPUT, "%s has %u dimensions, %s has %u", o->inputs[i],
			                    in[i].meta.dim, o->inputs[0], in[0].meta.dim);
		if (!same_str(in[i].meta.embedder, in[0].meta.embedder) || !same_str(in[i].meta.model, in[0].meta.model))
			return fidx_err_set(err, FIDX_EINPUT, "%s was embedded with %s/%s, %s with %s/%s", o->inputs[i],
			                    in[i].meta.embedder ? in[i].meta.embedder : "(unknown)",
			                    in[i].meta.model ? in[i].meta.model : "(unknown)", o->inputs[0],
			                    in[0].meta.embedder ? in[0].meta.embedder : "(unknown)",
			                    in[0].meta.model ? in[0].meta.model : "(unknown)");
		if (in[i].meta.has_texts != in[0].meta.has_texts)
			return fidx_err_set(err, FIDX_EINPUT, "%s %s texts, %s %s", o->inputs[i],
			                    in[i].meta.has_texts ? "has" : "has no", o->inputs[0],
			                    in[0].meta.has_texts ? "has" : "has no");
	}
	return 0;
}

/* The id of row r of input i, as text: stored, or renumbered. */
static int row_id(struct fidx_cursor *ids, const struct input *in, uint64_t r, char buf[24],
                  const char **p, size_t *len, struct fidx_err *err)
{
	if (ids)
		return fidx_cursor_record(ids, p, len, err);
	*len = (size_t)snprintf(buf, 24, "%llu", (unsigned long long)(in->offset + r));
	*p = buf;
	return 0;
}

/* Pass 1: who owns each id. Without dedupe, a second owner is an error. */
static int collect_ids(const struct fidx_merge_opts *o, struct input *in, struct fidx_idset *set,
                       struct fidx_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < o->ninputs; i++) {
		struct fidx_cursor *c = NULL;
		uint64_t r;
		if (in[i].meta.id_kind != FIDX_IDS_IMPLICIT &&
		    (rc = fidx_cursor_open(&c, in[i].f, FIDX_SEC_IDS, err)) != 0)
			return rc;
		for (r = 0; rc == 0 && r < in[i].meta.count; r++) {
			char buf[24], q[96];
			const char *p;
			size_t len;
			uint64_t prev;
			int put;
			if ((rc = row_id(c, &in[i], r, buf, &p, &len, err)) != 0)
				break;
			put = fidx_idset_put(set, p, len, (uint64_t)i << ROW_BITS | r, o->dedupe, &prev);
			if (put < 0) {
				rc = fidx_err_nomem(err);
			} else if (put == 0 && !o->dedupe) {
				fidx_err_quote(q, sizeof q, p, len);
				rc = fidx_err_set(err, FIDX_EINPUT, "id \"%s\" is in both %s and %s (use " FIDX_SETTING("dedupe") " to keep the last)",
				                  q, o->inputs[prev >> ROW_BITS], o->inputs[i]);
			}
		}
		fidx_cursor_close(c);
	}
	return rc;
}

/* Progress over all the inputs: rows copied or dropped so far, of total. */
struct tally {
	const struct fidx_progress *pg;
	uint64_t done, total;
};

static int copy_rows(struct input *in, size_t i,
                     struct fidx_idset *set, int explicit_out, struct fidx_builder *b,
                     struct fidx_merge_stats *st, struct tally *t, struct fidx_err *err)
{
	struct fidx_cursor *vc = NULL, *ic = NULL, *tc = NULL;
	uint32_t dim = in[i].meta.dim;
	float *vec = malloc(dim * sizeof *vec);
	uint64_t r;
	int rc;

	if (!vec)
		return fidx_err_nomem(err);
	rc = fidx_cursor_open(&vc, in[i].f, FIDX_SEC_VECTORS, err);
	if (!rc && in[i].meta.id_kind != FIDX_IDS_IMPLICIT)
		rc = fidx_cursor_open(&ic, in[i].f, FIDX_SEC_IDS, err);
	if (!rc && in[i].meta.has_texts)
		rc = fidx_cursor_open(&tc, in[i].f, FIDX_SEC_TEXTS, err);
	for (r = 0; rc == 0 && r < in[i].meta.count; r++) {
		char buf[24];
		const char *id, *text = NULL;
		size_t id_len, text_len = 0;
		uint64_t owner;
		if ((rc = fidx_cursor_read(vc, vec, dim * sizeof *vec, err)) != 0 ||
		    (rc = row_id(ic, &in[i], r, buf, &id, &id_len, err)) != 0 ||
		    (tc && (rc = fidx_cursor_record(tc, &text, &text_len, err)) != 0))
			break;
		if (++t->done % FIDX_PROGRESS_EVERY == 0 && t->pg->fn)
			t->pg->fn(t->pg->ctx, fidx_builder_count(b), (double)t->done / (double)t->total);
		if (set && fidx_idset_get(set, id, id_len, &owner) && owner != ((uint64_t)i << ROW_BITS | r)) {
			st->replaced++;
			continue;
		}
		rc = fidx_builder_add_trusted(b, vec, dim, explicit_out ? id : NULL, id_len,
		                              in[i].meta.id_kind == FIDX_IDS_STRING ? FIDX_IDS_STRING : FIDX_IDS_INT,
		                              tc ? text : NULL, text_len, err);
	}
	fidx_cursor_close(vc);
	fidx_cursor_close(ic);
	fidx_cursor_close(tc);
	free(vec);
	return rc;
}

int fidx_merge(const struct fidx_merge_opts *o, struct fidx_merge_stats *st, struct fidx_err *err)
{
	struct fidx_builder_opts bo = {.out = o->out, .level = o->level, .flags = o->flags};
	struct fidx_builder *b = NULL;
	struct fidx_idset *set = NULL;
	struct tally t = {&o->progress, 0, 0};
	struct input *in;
	int explicit_out = 0, rc;
	size_t i, j;

	memset(st, 0, sizeof *st);
	if (!o->ninputs)
		return fidx_err_set(err, FIDX_EINPUT, "nothing to merge");
	in = calloc(o->ninputs, sizeof *in);
	if (!in)
		return fidx_err_nomem(err);
	/* The output's lock first: an input that is the output (merging a
	 * nightly increment into the main index) is then read as the version
	 * this merge replaces, never one another writer is about to replace. */
	if ((rc = fidx_builder_open(&b, &bo, err)) != 0 || (rc = open_inputs(o, in, err)) != 0)
		goto out;
	for (i = 0; i < o->ninputs; i++)
		explicit_out |= in[i].meta.id_kind != FIDX_IDS_IMPLICIT;
	if (explicit_out) {
		if (!(set = fidx_idset_new())) {
			rc = fidx_err_nomem(err);
			goto out;
		}
		if ((rc = collect_ids(o, in, set, err)) != 0)
			goto out;
	}
	{
		struct fidx_meta *m = fidx_builder_meta(b);
		if ((rc = fidx_meta_set(&m->embedder, in[0].meta.embedder, err)) != 0 ||
		    (rc = fidx_meta_set(&m->model, in[0].meta.model, err)) != 0)
			goto out;
		for (i = 0; i < in[0].meta.nparams; i++)
			if ((rc = fidx_meta_set_param(m, in[0].meta.params[i].key, in[0].meta.params[i].value, err)) != 0)
				goto out;
	}
	for (i = 0; rc == 0 && i < o->ninputs; i++)
		for (j = 0; rc == 0 && j < in[i].meta.nsources; j++) {
			const struct fidx_meta_source *s = &in[i].meta.sources[j];
			rc = fidx_meta_add_source(fidx_builder_meta(b), s->path, s->bytes, s->sha256[0] ? s->sha256 : NULL,
			                          s->rows, err);
		}
	for (i = 0; i < o->ninputs; i++)
		t.total += in[i].meta.count;
	/* Every id is one row of the output, once. */
	if (rc == 0)
		rc = fidx_builder_expect(b, set ? fidx_idset_size(set) : t.total, err);
	for (i = 0; rc == 0 && i < o->ninputs; i++)
		rc = copy_rows(in, i, set, explicit_out, b, st, &t, err);
	if (rc == 0) {
		st->rows = fidx_builder_count(b);
		rc = fidx_builder_commit(b, err);
		b = NULL;
	}
out:
	fidx_builder_abort(b);
	fidx_idset_free(set);
	for (i = 0; i < o->ninputs; i++) {
		fidx_file_close(in[i].f);
		fidx_meta_free(&in[i].meta);
	}
	free(in);
	return rc;
}
