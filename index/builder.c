#include "builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "idset.h"
#include "number.h"
#include "outfile.h"
#include "vec.h"

#define LINE_MASK ((UINT64_C(1) << 40) - 1)

struct fidx_builder {
	struct fidx_builder_opts o;
	char *out;
	struct fidx_file_writer *w;
	struct fidx_meta meta;
	struct fidx_idset *ids;
	uint64_t n;
	int with_ids, with_texts; /* -1 until the first row */
	int all_int;
};

int fidx_builder_open(struct fidx_builder **out, const struct fidx_builder_opts *o,
                      struct fidx_err *err)
{
	struct fidx_builder *b;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = fidx_file_check_target(o->out, (o->flags & FIDX_OUT_FORCE) != 0, err)) != 0)
		return rc;
	if (!(b = calloc(1, sizeof *b)))
		return fidx_err_nomem(err);
	b->o = *o;
	b->with_ids = b->with_texts = -1;
	b->all_int = 1;
	if (!(b->out = strdup(o->out)) || fidx_meta_set(&b->meta.embedder, o->embedder, err)) {
		fidx_builder_abort(b);
		return fidx_err_nomem(err);
	}
	for (i = 0; o->identity && i < o->identity->n; i++)
		if (strcmp(o->identity->key[i], "model") == 0 ? fidx_meta_set(&b->meta.model, o->identity->val[i], err)
		                                              : fidx_meta_set_param(&b->meta, o->identity->key[i],
		                                                                    o->identity->val[i], err)) {
			fidx_builder_abort(b);
			return fidx_err_nomem(err);
		}
	if ((rc = fidx_fw_open(&b->w, b->out, 0, b->o.level, b->o.flags, err)) != 0) {
		fidx_builder_abort(b);
		return rc;
	}
	*out = b;
	return 0;
}

void fidx_builder_abort(struct fidx_builder *b)
{
	if (!b)
		return;
	fidx_fw_abort(b->w);
	fidx_meta_free(&b->meta);
	fidx_idset_free(b->ids);
	free(b->out);
	free(b);
}

int fidx_builder_expect(struct fidx_builder *b, uint64_t rows, struct fidx_err *err)
{
	return fidx_fw_expect(b->w, rows, err);
}

struct fidx_meta *fidx_builder_meta(struct fidx_builder *b)
{
	return &b->meta;
}

uint64_t fidx_builder_count(const struct fidx_builder *b)
{
	return b->n;
}

/* Settles the layout on the first row; checks later rows against it. */
static int shape(struct fidx_builder *b, size_t dim, int has_id, int has_text, const char *where,
                 uint64_t line, struct fidx_err *err)
{
	int rc;
	if (!b->meta.dim) {
		if (dim == 0 || dim > FIDX_MAX_DIM)
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: dimension %zu is out of range (1..%u)",
			                    where, (unsigned long long)line, dim, FIDX_MAX_DIM);
		if ((rc = fidx_fw_set_dim(b->w, (uint32_t)dim, err)) != 0)
			return rc;
		b->meta.dim = (uint32_t)dim;
		b->with_ids = has_id;
		b->with_texts = has_text;
		if (has_id && !(b->ids = fidx_idset_new()))
			return fidx_err_nomem(err);
		return 0;
	}
	if (dim != b->meta.dim)
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s:%llu: the row has %zu dimensions, earlier rows have %u",
		                    where, (unsigned long long)line, dim, b->meta.dim);
	if (has_id != b->with_ids)
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: %s, earlier rows %s", where,
		                    (unsigned long long)line, has_id ? "the row has an id" : "the row has no id",
		                    has_id ? "have none" : "have ids");
	if (has_text != b->with_texts)
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: %s, earlier rows %s", where,
		                    (unsigned long long)line, has_text ? "the row has a text" : "the row has no text",
		                    has_text ? "have none" : "have texts");
	return 0;
}

static int write_row(struct fidx_builder *b, const float *normalized, const char *id, size_t id_len,
                     const char *text, size_t text_len, struct fidx_err *err)
{
	int rc = fidx_fw_vectors(b->w, normalized, 1, err);
	if (!rc && id)
		rc = fidx_fw_id(b->w, id, id_len, err);
	if (!rc && text)
		rc = fidx_fw_text(b->w, text, text_len, err);
	if (!rc)
		b->n++;
	return rc;
}

int fidx_builder_add(struct fidx_builder *b, const float *vec, size_t dim, const char *id,
                     size_t id_len, const char *text, size_t text_len, const char *where,
                     uint64_t line, struct fidx_err *err)
{
	int rc = shape(b, dim, id != NULL, text != NULL, where, line, err);
	float *row;
	if (rc)
		return rc;
	/* Normalized straight into the writer's buffer. */
	row = fidx_fw_slot(b->w);
	if (fidx_vec_normalize(vec, row, dim))
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s:%llu: the vector is all zeros and cannot be normalized",
		                    where, (unsigned long long)line);
	if (id) {
		int64_t v;
		char q[96];
		if (id_len == 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: the id is empty", where,
			                    (unsigned long long)line);
		/* The value remembers where the id was seen: source number and line. */
		uint64_t here = (uint64_t)b->meta.nsources << 40 | (line & LINE_MASK), first = 0;
		rc = fidx_idset_put(b->ids, id, id_len, here, 0, &first);
		if (rc < 0)
			return fidx_err_nomem(err);
		if (rc == 0) {
			size_t src = (size_t)(first >> 40);
			fidx_err_quote(q, sizeof q, id, id_len);
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: duplicate id \"%s\" (first seen at %s:%llu)",
			                    where, (unsigned long long)line, q,
			                    src < b->meta.nsources ? b->meta.sources[src].path : where,
			                    (unsigned long long)(first & LINE_MASK));
		}
		if (b->all_int && !fidx_parse_canonical_i64(id, id_len, &v))
			b->all_int = 0;
	}
	return write_row(b, row, id, id_len, text, text_len, err);
}

int fidx_builder_add_trusted(struct fidx_builder *b, const float *vec, size_t dim, const char *id,
                             size_t id_len, int id_kind, const char *text, size_t text_len,
                             struct fidx_err *err)
{
	int rc = shape(b, dim, id != NULL, text != NULL, "merge", b->n + 1, err);
	if (rc)
		return rc;
	if (id && id_kind != FIDX_IDS_INT)
		b->all_int = 0;
	return write_row(b, vec, id, id_len, text, text_len, err);
}

int fidx_builder_commit(struct fidx_builder *b, struct fidx_err *err)
{
	char *json = NULL;
	int rc;

	if (!b->n) {
		fidx_builder_abort(b);
		return fidx_err_set(err, FIDX_EINPUT, "no rows to index");
	}
	b->meta.count = b->n;
	b->meta.id_kind = b->with_ids ? (b->all_int ? FIDX_IDS_INT : FIDX_IDS_STRING) : FIDX_IDS_IMPLICIT;
	b->meta.has_texts = b->with_texts;
	rc = fidx_meta_stamp(&b->meta, err);
	if (!rc)
		rc = fidx_meta_to_json(&b->meta, &json, err);
	if (!rc) {
		rc = fidx_fw_commit(b->w, json, err);
		b->w = NULL;
	}
	free(json);
	fidx_builder_abort(b);
	return rc;
}
