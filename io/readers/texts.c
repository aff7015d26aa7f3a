#include "texts.h"

#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "reader.h"

#define MAX_LINE (64u << 20)

struct fidx_texts {
	struct fidx_source *src;
	struct fidx_csv *csv; /* NULL for plain lines */
	long col;
	size_t ncols;
	/* plain lines */
	char *buf;
	size_t cap, start, end;
	int eof;
	uint64_t line;
};

int fidx_texts_open(struct fidx_texts **out, const char *path, const char *column,
                    struct fidx_err *err)
{
	struct fidx_texts *t = calloc(1, sizeof *t);
	int rc;

	const struct fidx_format *f = strcmp(path, "-") != 0 ? fidx_format_by_name(NULL, path) : NULL;

	*out = NULL;
	if (!t)
		return fidx_err_nomem(err);
	t->line = 1;
	if (f && strcmp(f->name, "csv") != 0 && strcmp(f->name, "tsv") != 0) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: texts are read from text files (one per line), CSV or TSV, "
		                  "not from %s files", path, f->title);
		goto fail;
	}
	if ((rc = fidx_source_open(&t->src, path, err)) != 0)
		goto fail;
	if (f) {
		struct fidx_csv_record r;
		size_t i;
		if (!column)
			column = "text";
		if ((rc = fidx_csv_open(&t->csv, t->src, f->name[0] == 't' ? '\t' : ',', err)) != 0)
			goto fail;
		rc = fidx_csv_next(t->csv, &r, err);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			rc = fidx_err_set(err, FIDX_EINPUT, "%s: empty file (expected a header line)", path);
			goto fail;
		}
		t->col = -1;
		t->ncols = r.n;
		for (i = 0; i < r.n; i++)
			if (strcmp(r.f[i].p, column) == 0)
				t->col = (long)i;
		if (t->col < 0) {
			rc = fidx_err_set(err, FIDX_EINPUT, "%s:1: no column named \"%s\"", path, column);
			goto fail;
		}
	} else {
		t->cap = 1u << 16;
		if (!(t->buf = malloc(t->cap + 1))) {
			rc = fidx_err_nomem(err);
			goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	fidx_texts_close(t);
	return rc;
}

static int next_line(struct fidx_texts *t, const char **p, size_t *len, uint64_t *line,
                     struct fidx_err *err)
{
	for (;;) {
		char *nl = t->start < t->end ? memchr(t->buf + t->start, '\n', t->end - t->start) : NULL;
		if (nl || (t->eof && t->start < t->end)) {
			char *s = t->buf + t->start;
			size_t n = nl ? (size_t)(nl - s) : t->end - t->start;
			t->start += n + (nl != NULL);
			if (n && s[n - 1] == '\r')
				n--;
			if (memchr(s, '\0', n))
				return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: NUL byte in a text",
				                    fidx_source_name(t->src), (unsigned long long)t->line);
			s[n] = '\0';
			*p = s;
			*len = n;
			*line = t->line++;
			return 1;
		}
		if (t->eof)
			return 0;
		if (t->start > 0) {
			memmove(t->buf, t->buf + t->start, t->end - t->start);
			t->end -= t->start;
			t->start = 0;
		}
		if (t->end == t->cap) {
			char *nb;
			if (t->cap >= MAX_LINE)
				return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: line longer than %u MiB",
				                    fidx_source_name(t->src), (unsigned long long)t->line, MAX_LINE >> 20);
			nb = realloc(t->buf, t->cap * 2 + 1);
			if (!nb)
				return fidx_err_nomem(err);
			t->buf = nb;
			t->cap *= 2;
		}
		{
			ssize_t got = fidx_source_read(t->src, t->buf + t->end, t->cap - t->end, err);
			if (got < 0)
				return (int)got;
			if (got == 0)
				t->eof = 1;
			t->end += (size_t)got;
		}
	}
}

int fidx_texts_next(struct fidx_texts *t, const char **p, size_t *len, uint64_t *line,
                    struct fidx_err *err)
{
	struct fidx_csv_record r;
	int rc;

	if (!t->csv)
		return next_line(t, p, len, line, err);
	rc = fidx_csv_next(t->csv, &r, err);
	if (rc <= 0)
		return rc;
	if (r.n != t->ncols)
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: expected %zu fields, found %zu",
		                    fidx_source_name(t->src), (unsigned long long)r.line, t->ncols, r.n);
	*p = r.f[t->col].p;
	*len = r.f[t->col].len;
	*line = r.line;
	return 1;
}

struct fidx_source *fidx_texts_source(struct fidx_texts *t)
{
	return t->src;
}

void fidx_texts_close(struct fidx_texts *t)
{
	if (!t)
		return;
	fidx_csv_close(t->csv);
	fidx_source_close(t->src);
	free(t->buf);
	free(t);
}
