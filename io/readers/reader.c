#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

extern const struct fidx_format fidx_format_parquet, fidx_format_npy, fidx_format_faiss,
	fidx_format_jsonl, fidx_format_csv, fidx_format_tsv, fidx_format_safetensors;

/* Formats fidx recognises and does not read: a clear refusal, not a CSV
 * parse error on binary bytes. */
static int arrow_magic(const unsigned char *b, size_t n)
{
	return n >= 6 && memcmp(b, "ARROW1", 6) == 0;
}

#define KNOWN(var, nm, ttl, sfx, ...) \
	static const struct fidx_format var = {.name = nm, .title = ttl, .suffixes = (const char *const[]){sfx, NULL}, __VA_ARGS__}
KNOWN(arrow, "arrow", "Arrow", ".arrow", .magic = arrow_magic);
KNOWN(json, "json", "JSON", ".json");
KNOWN(npz, "npz", "numpy .npz", ".npz");
KNOWN(xz, "xz", "xz", ".xz");
KNOWN(bz2, "bz2", "bzip2", ".bz2");
KNOWN(lz4, "lz4", "lz4", ".lz4");

const struct fidx_format *const fidx_formats[] = {
	&fidx_format_csv, &fidx_format_tsv, &fidx_format_npy, &fidx_format_faiss, &fidx_format_jsonl,
	&fidx_format_parquet, &fidx_format_safetensors,
	&arrow, &json, &npz, &xz, &bz2, &lz4,
	NULL,
};

static const struct fidx_format *const *registry(const struct fidx_format *const *formats)
{
	return formats ? formats : fidx_formats;
}

int fidx_format_readable(const struct fidx_format *f)
{
	return f->open != NULL;
}

const struct fidx_format *fidx_format_find(const struct fidx_format *const *formats, const char *name)
{
	const struct fidx_format *const *f;
	for (f = registry(formats); *f; f++)
		if (strcmp((*f)->name, name) == 0)
			return *f;
	return NULL;
}

/* The length of path without a compression suffix (.gz, .zst). */
static size_t stem_len(const char *path)
{
	size_t len = strlen(path);
	if (fidx_has_suffix(path, ".gz"))
		return len - 3;
	if (fidx_has_suffix(path, ".zst"))
		return len - 4;
	return len;
}

const struct fidx_format *fidx_format_by_name(const struct fidx_format *const *formats, const char *path)
{
	const struct fidx_format *const *f;
	size_t len = stem_len(path), i;
	for (f = registry(formats); *f; f++)
		for (i = 0; (*f)->suffixes && (*f)->suffixes[i]; i++) {
			size_t m = strlen((*f)->suffixes[i]);
			if (len >= m && strncmp(path + len - m, (*f)->suffixes[i], m) == 0)
				return *f;
		}
	return NULL;
}

void fidx_formats_list(const struct fidx_format *const *formats, int names, char *out, size_t cap)
{
	const struct fidx_format *const *f;
	size_t n = 0, k = 0, len = 0;

	for (f = registry(formats); *f; f++)
		n += fidx_format_readable(*f) && (names || (*f)->suffixes);
	out[0] = '\0';
	for (f = registry(formats); *f && len < cap; f++) {
		const char *item = names ? (*f)->name : (*f)->suffixes ? (*f)->suffixes[0] : NULL;
		if (!fidx_format_readable(*f) || !item)
			continue;
		k++;
		len += (size_t)snprintf(out + len, cap - len, "%s%s", k == 1 ? "" : k == n ? (names ? " or " : " and ") : ", ",
		                        item);
	}
}

int fidx_format_refuse(const struct fidx_format *const *formats, const char *name, const char *title,
                       struct fidx_err *err)
{
	char list[256];
	fidx_formats_list(formats, 0, list, sizeof list);
	return fidx_err_set(err, FIDX_EINPUT, "%s: %s files are not supported (fidx reads %s, optionally .gz or .zst)",
	                    name, title, list);
}

int fidx_format_detect(struct fidx_source *src, const struct fidx_reader_opts *o,
                       const struct fidx_format **out, struct fidx_err *err)
{
	const struct fidx_format *const *all = registry(o->formats), *const *f, *pick = o->format;
	unsigned char head[FIDX_SNIFF_BYTES];
	ssize_t n = 0;

	if (!pick) {
		if ((n = fidx_source_peek(src, head, sizeof head, err)) < 0)
			return (int)n;
		for (f = all; *f && !pick; f++)
			if ((*f)->magic && (*f)->magic(head, (size_t)n))
				pick = *f;
	}
	if (!pick)
		pick = fidx_format_by_name(all, fidx_source_name(src));
	for (f = all; *f && !pick; f++)
		if ((*f)->looks_like && (*f)->looks_like(head, (size_t)n))
			pick = *f;
	for (f = all; *f && !pick; f++)
		if ((*f)->flags & FIDX_FORMAT_FALLBACK)
			pick = *f;
	if (!pick)
		return fidx_err_set(err, FIDX_EINPUT, "%s: not a format fidx reads", fidx_source_name(src));
	if (!fidx_format_readable(pick))
		return fidx_format_refuse(all, fidx_source_name(src), pick->title, err);
	*out = pick;
	return 0;
}

/* ---- reading ---- */

struct fidx_reader {
	const struct fidx_format *fmt;
	void *state;
	struct fidx_source *src;
};

int fidx_reader_open_source(struct fidx_reader **out, struct fidx_source *src,
                            const struct fidx_reader_opts *o, struct fidx_err *err)
{
	struct fidx_reader *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (!r) {
		fidx_source_close(src);
		return fidx_err_nomem(err);
	}
	r->src = src;
	if ((rc = fidx_format_detect(src, o, &r->fmt, err)) == 0 && !(r->fmt->flags & FIDX_FORMAT_COLUMNS)) {
		if (r->fmt->flags & FIDX_FORMAT_TENSORS) {
			if (o->id_column || o->text_column)
				rc = fidx_err_set(err, FIDX_EINPUT, "%s holds only tensors: it has no ids or texts for "
				                  FIDX_SETTING("id_column") " or " FIDX_SETTING("text_column"), fidx_source_name(src));
		} else if (o->id_column || o->text_column || o->embedding_column) {
			rc = fidx_err_set(err, FIDX_EINPUT, "%s holds only vectors: it has no columns for "
			                  FIDX_SETTING("id_column") ", " FIDX_SETTING("text_column") " or "
			                  FIDX_SETTING("embedding_column"), fidx_source_name(src));
		}
	}
	if (rc == 0)
		rc = r->fmt->open(&r->state, src, o, err);
	if (rc) {
		fidx_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int fidx_reader_open(struct fidx_reader **r, const char *path, const struct fidx_reader_opts *o,
                     struct fidx_err *err)
{
	struct fidx_source *src;
	int rc = fidx_source_open(&src, path, err);
	*r = NULL;
	return rc ? rc : fidx_reader_open_source(r, src, o, err);
}

int fidx_reader_next(struct fidx_reader *r, struct fidx_rows *rows, struct fidx_err *err)
{
	return r->fmt->next(r->state, rows, err);
}

const struct fidx_format *fidx_reader_format(const struct fidx_reader *r)
{
	return r->fmt;
}

const char *fidx_reader_note(const struct fidx_reader *r)
{
	return r->fmt->note ? r->fmt->note(r->state) : NULL;
}

uint64_t fidx_reader_rows(const struct fidx_reader *r)
{
	return r->fmt->rows ? r->fmt->rows(r->state) : 0;
}

void fidx_reader_describe(const struct fidx_reader *r, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s", r->fmt->title);
	if (r->fmt->describe && n >= 0 && (size_t)n + 2 < cap) {
		memcpy(out + n, ": ", 3);
		r->fmt->describe(r->state, out + n + 2, cap - (size_t)n - 2);
		if (!out[n + 2])
			out[n] = '\0';
	}
}

struct fidx_source *fidx_reader_source(struct fidx_reader *r)
{
	return r->src;
}

void fidx_reader_close(struct fidx_reader *r)
{
	if (!r)
		return;
	if (r->state)
		r->fmt->close(r->state);
	fidx_source_close(r->src);
	free(r);
}

/* ---- rows one at a time ---- */

static int keep_bytes(struct fidx_rowbuf *b, const char *p, size_t len, size_t *off, struct fidx_err *err)
{
	if (b->bytes_cap - b->bytes_len < len + 1) {
		size_t cap = b->bytes_cap ? b->bytes_cap : 4096;
		char *nb;
		while (cap - b->bytes_len < len + 1)
			cap *= 2;
		if (!(nb = realloc(b->bytes, cap)))
			return fidx_err_nomem(err);
		b->bytes = nb;
		b->bytes_cap = cap;
	}
	memcpy(b->bytes + b->bytes_len, p, len);
	b->bytes[b->bytes_len + len] = '\0';
	*off = b->bytes_len;
	b->bytes_len += len + 1;
	return 0;
}

/* Copies a row into the block. */
static int add(struct fidx_rowbuf *b, const struct fidx_row *row, struct fidx_err *err)
{
	size_t i = b->n;
	int rc;

	if (i == 0) {
		b->dim = row->dim;
		b->has_id = row->id != NULL;
		b->has_text = row->text != NULL;
	}
	if (row->dim != b->dim || (row->id != NULL) != b->has_id || (row->text != NULL) != b->has_text)
		return fidx_err_set(err, FIDX_EINTERNAL, "a reader changed the shape of its rows");
	if (b->cap < FIDX_ROWS_MAX * row->dim) {
		float *v = realloc(b->vec, FIDX_ROWS_MAX * row->dim * sizeof *v);
		if (!v)
			return fidx_err_nomem(err);
		b->vec = v;
		b->cap = FIDX_ROWS_MAX * row->dim;
	}
	memcpy(b->vec + i * row->dim, row->vec, row->dim * sizeof *b->vec);
	if (row->id && (rc = keep_bytes(b, row->id, row->id_len, &b->id_off[i], err)) != 0)
		return rc;
	if (row->text && (rc = keep_bytes(b, row->text, row->text_len, &b->text_off[i], err)) != 0)
		return rc;
	b->where[i] = row->where;
	b->id_len[i] = row->id_len;
	b->text_len[i] = row->text_len;
	b->n++;
	return 0;
}

int fidx_rowbuf_gather(struct fidx_rowbuf *b, int (*next_row)(void *, struct fidx_row *, struct fidx_err *),
                       void *state, struct fidx_rows *rows, struct fidx_err *err)
{
	struct fidx_row row;
	size_t i;
	int rc = 1;

	if (b->failed) {
		if (err)
			*err = b->pending;
		return b->pending.code;
	}
	b->n = b->bytes_len = 0;
	while (b->n < FIDX_ROWS_MAX && (rc = next_row(state, &row, err)) == 1)
		if ((rc = add(b, &row, err)) != 0)
			break;
	if (rc < 0 && b->n == 0)
		return rc;
	if (rc < 0) {
		b->failed = 1;
		b->pending.code = rc;
		snprintf(b->pending.msg, sizeof b->pending.msg, "%s", err ? err->msg : "");
	}
	if (b->n == 0)
		return 0;
	for (i = 0; i < b->n; i++) {
		b->id[i] = b->has_id ? b->bytes + b->id_off[i] : NULL;
		b->text[i] = b->has_text ? b->bytes + b->text_off[i] : NULL;
	}
	memset(rows, 0, sizeof *rows);
	rows->n = b->n;
	rows->dim = b->dim;
	rows->vec = b->vec;
	rows->where = b->where;
	if (b->has_id) {
		rows->id = b->id;
		rows->id_len = b->id_len;
	}
	if (b->has_text) {
		rows->text = b->text;
		rows->text_len = b->text_len;
	}
	return 1;
}

void fidx_rowbuf_free(struct fidx_rowbuf *b)
{
	free(b->vec);
	free(b->bytes);
	memset(b, 0, sizeof *b);
}
