/* CSV and TSV rows of embeddings, as pandas writes them:
 * DataFrame(embeddings).to_csv(path, index=False) (header "0,1,...,D-1",
 * one row per item), header-less numeric files, and files with an id column,
 * a text column and the embedding either as the remaining columns or as one
 * column holding a list "[0.1, -0.2, ...]". Without column options, a
 * header of pandas' numbering 0..D-1 beside columns named "id" and "text"
 * (DataFrame(vectors).assign(id=ids, text=texts).to_csv(index=False), the
 * layout fidx export --hub publishes) gives those as ids and texts, as
 * JSON Lines' "id" and "text" fields are. Every value is parsed exactly
 * (io/core/number.h); errors name the file, the line and the field:
 * "emb.csv:14:3: expected a number, found \"abc\"". */
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "number.h"
#include "number_fast.h"
#include "reader.h"

struct csvrows {
	struct fidx_source *src;
	struct fidx_csv *csv;
	struct fidx_reader_opts o;
	char delim;
	int started;
	size_t ncols;        /* fields per record, once known */
	long id_col, text_col, emb_col; /* -1 when absent */
	size_t dim;
	float *vec;
	char **names;        /* header names, or NULL */
	struct fidx_csv_record pending; /* first data record, when already read */
	int have_pending;
	int fast; /* every column is a number: rows may take the fast path */
	uint32_t *ends; /* field ends of a row, for the fast path */
	struct fidx_rowbuf rows;
};

static void csv_close(void *state)
{
	struct csvrows *t = state;
	size_t i;
	if (!t)
		return;
	fidx_csv_close(t->csv);
	if (t->names)
		for (i = 0; i < t->ncols; i++)
			free(t->names[i]);
	free(t->names);
	free(t->vec);
	free(t->ends);
	fidx_rowbuf_free(&t->rows);
	free(t);
}

static int open_delim(void **state, struct fidx_source *src, const struct fidx_reader_opts *o, char delim,
                      struct fidx_err *err)
{
	struct csvrows *t = calloc(1, sizeof *t);
	int rc;

	if (!t)
		return fidx_err_nomem(err);
	t->src = src;
	t->o = *o;
	t->delim = delim;
	t->id_col = t->text_col = t->emb_col = -1;
	if ((rc = fidx_csv_open(&t->csv, src, delim, err)) != 0) {
		csv_close(t);
		return rc;
	}
	*state = t;
	return 0;
}

static int csv_open(void **state, struct fidx_source *src, const struct fidx_reader_opts *o,
                    struct fidx_err *err)
{
	return open_delim(state, src, o, ',', err);
}

static int tsv_open(void **state, struct fidx_source *src, const struct fidx_reader_opts *o,
                    struct fidx_err *err)
{
	return open_delim(state, src, o, '\t', err);
}

static int is_number(const struct fidx_csv_field *f)
{
	float v;
	return fidx_parse_float(f->p, f->len, &v) == FIDX_NUM_OK;
}

/* pandas names unnamed columns 0, 1, ..., m-1. */
static int is_pandas_default_header(const struct fidx_csv_record *r)
{
	size_t i;
	char want[24];
	if (r->n < 2)
		return 0;
	for (i = 0; i < r->n; i++) {
		int len = snprintf(want, sizeof want, "%zu", i);
		if ((size_t)len != r->f[i].len || memcmp(want, r->f[i].p, (size_t)len) != 0)
			return 0;
	}
	return 1;
}

/* pandas' numbering 0..k-1 (k >= 1) with an "id" column, a "text" column
 * or both beside it, anywhere: those are the ids and texts. */
static void numbered_with_id_text(struct csvrows *t)
{
	long id = -1, text = -1;
	size_t i, k = 0;
	char want[24];
	for (i = 0; i < t->ncols; i++) {
		if (strcmp(t->names[i], "id") == 0 && id < 0) {
			id = (long)i;
		} else if (strcmp(t->names[i], "text") == 0 && text < 0) {
			text = (long)i;
		} else {
			snprintf(want, sizeof want, "%zu", k++);
			if (strcmp(t->names[i], want) != 0)
				return;
		}
	}
	if (k > 0 && (id >= 0 || text >= 0)) {
		t->id_col = id;
		t->text_col = text;
	}
}

static long find_column(struct csvrows *t, const char *name, const char *option,
                        struct fidx_err *err)
{
	size_t i;
	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->names[i], name) == 0)
			return (long)i;
	return fidx_err_set(err, FIDX_EINPUT, "%s:1: no column named \"%s\" (given to %s)",
	                    fidx_source_name(t->src), name, option);
}

/* Reads the first record and settles the layout: header or not, which
 * columns hold the id, the text and the embedding, and the dimension. */
static int start(struct csvrows *t, struct fidx_err *err)
{
	struct fidx_csv_record r;
	int header = t->o.header, rc;
	size_t i;
	int named = t->o.id_column || t->o.text_column || t->o.embedding_column;

	t->started = 1;
	rc = fidx_csv_next(t->csv, &r, err);
	if (rc <= 0)
		return rc;
	t->ncols = r.n;
	if (header == FIDX_HEADER_AUTO) {
		header = named || is_pandas_default_header(&r);
		for (i = 0; !header && i < r.n; i++)
			header = !is_number(&r.f[i]);
	}
	if (!header && named)
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s: column names were given but the file has no header line",
		                    fidx_source_name(t->src));
	if (header) {
		t->names = calloc(r.n, sizeof *t->names);
		if (!t->names)
			return fidx_err_nomem(err);
		for (i = 0; i < r.n; i++)
			if (!(t->names[i] = strdup(r.f[i].p)))
				return fidx_err_nomem(err);
		if (!named)
			numbered_with_id_text(t);
		if (t->o.id_column && (t->id_col = find_column(t, t->o.id_column, FIDX_SETTING("id_column"), err)) < 0)
			return (int)t->id_col;
		if (t->o.text_column &&
		    (t->text_col = find_column(t, t->o.text_column, FIDX_SETTING("text_column"), err)) < 0)
			return (int)t->text_col;
		if (t->o.embedding_column &&
		    (t->emb_col = find_column(t, t->o.embedding_column, FIDX_SETTING("embedding_column"), err)) < 0)
			return (int)t->emb_col;
		if (t->id_col >= 0 && t->id_col == t->text_col)
			return fidx_err_set(err, FIDX_EINPUT, "%s: the id and text columns are the same column",
			                    fidx_source_name(t->src));
		if (t->emb_col >= 0 && (t->emb_col == t->id_col || t->emb_col == t->text_col))
			return fidx_err_set(err, FIDX_EINPUT,
			                    "%s: the embedding column is also the id or text column",
			                    fidx_source_name(t->src));
		if (t->names[0][0] == '\0' && t->id_col != 0 && t->text_col != 0 && t->emb_col < 0)
			return fidx_err_set(err, FIDX_EINPUT,
			                    "%s:1:1: the first column has no name: a pandas index? "
			                    "(write the CSV with index=False, or pass " FIDX_SETTING("id_column") " \"\" to use it as ids)",
			                    fidx_source_name(t->src));
	} else {
		t->pending = r;
		t->have_pending = 1;
	}
	if (t->emb_col < 0) {
		t->dim = t->ncols - (t->id_col >= 0) - (t->text_col >= 0);
		if (t->dim == 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s: no embedding columns", fidx_source_name(t->src));
		t->vec = malloc(t->dim * sizeof *t->vec);
		if (!t->vec)
			return fidx_err_nomem(err);
		t->fast = t->id_col < 0 && t->text_col < 0 && t->ncols < (1u << 20);
		if (t->fast && !(t->ends = malloc(t->dim * sizeof *t->ends)))
			return fidx_err_nomem(err);
	}
	return 1;
}

#ifdef FIDX_HAVE_SSE41_PATH
/* The fields' numbers, with the 16-byte parser inlined into the loop. */
FIDX_SSE41_TARGET static int parse_fields_sse41(const char *p, size_t n, const uint32_t *ends,
                                                size_t dim, float *vec)
{
	size_t i, start = 0;
	for (i = 0; i < dim; i++) {
		size_t used;
		if (!(n - start >= 16 && fidx_parse16(p + start, &vec[i], &used)) &&
		    fidx_parse_float_prefix(p + start, n - start, &vec[i], &used) != FIDX_NUM_OK)
			return 0;
		if (used != ends[i] - start || used == 0)
			return 0;
		start = ends[i] + 1;
	}
	return 1;
}
#endif

/* Parses one record of dim numbers at p[0..n) the quick way. Returns the
 * bytes it took (through its line end), 0 when the record is not that
 * simple (quotes, spaces, blank lines, errors of any kind: the general
 * reader then takes it and reports what is wrong), or -1 when the view
 * ends before the record does. p[n..n+FIDX_CSV_SLACK) may be read.
 *
 * First the field boundaries, 16 bytes at a time, then the numbers: each
 * parse starts where the scan said, not where the previous one ended, so
 * the processor can work on several at once. */
static long fast_row(const char *p, size_t n, int eof, char delim, float *vec, size_t dim,
                     uint32_t *ends)
{
	size_t fields = 0, o, i, start;
	long line_end = -1;

	for (o = 0; o < n && line_end < 0; o += 16) {
#ifdef __SSE2__
		__m128i v = _mm_loadu_si128((const __m128i *)(p + o));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(delim)), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"')))));
#else
		unsigned m = 0, b;
		for (b = 0; b < 16; b++)
			if (p[o + b] == delim || p[o + b] == '\n' || p[o + b] == '\r' || p[o + b] == '"')
				m |= 1u << b;
#endif
		if (n - o < 16)
			m &= (1u << (n - o)) - 1;
		for (; m; m &= m - 1) {
			size_t at = o + (size_t)__builtin_ctz(m);
			char ch = p[at];
			if (ch == '"' || fields == dim)
				return 0;
			ends[fields++] = (uint32_t)at;
			if (ch != delim) {
				if (ch == '\r' && (at + 1 >= n || p[at + 1] != '\n'))
					return at + 1 >= n && !eof ? -1 : 0;
				line_end = (long)at + (ch == '\r' ? 2 : 1);
				break;
			}
		}
		if (o > (1u << 30))
			return 0;
	}
	if (line_end < 0) {
		if (!eof)
			return -1;
		if (fields == dim)
			return 0;
		ends[fields++] = (uint32_t)n; /* the last line has no line end */
		line_end = (long)n;
	}
	if (fields != dim)
		return 0;
#ifdef FIDX_HAVE_SSE41_PATH
	if (fidx_have_sse41())
		return parse_fields_sse41(p, n, ends, dim, vec) ? line_end : 0;
#endif
	for (i = 0, start = 0; i < dim; i++) {
		size_t used;
		if (fidx_parse_float_prefix(p + start, n - start, &vec[i], &used) != FIDX_NUM_OK ||
		    used != ends[i] - start || used == 0)
			return 0;
		start = ends[i] + 1;
	}
	return line_end;
}

static int number_error(struct csvrows *t, uint64_t line, size_t col, const char *p, size_t len,
                        int status, const char *where, struct fidx_err *err)
{
	char q[96];
	fidx_err_quote(q, sizeof q, p, len);
	if (status == FIDX_NUM_EMPTY)
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu:%zu: expected a number%s, found an empty field",
		                    fidx_source_name(t->src), (unsigned long long)line, col, where);
	return fidx_err_set(err, FIDX_EINPUT, "%s:%llu:%zu: expected a number%s, found \"%s\" (%s)",
	                    fidx_source_name(t->src), (unsigned long long)line, col, where, q,
	                    fidx_num_status_str(status));
}

/* Parses "[a, b, c]" (commas and/or spaces between values) into t->vec,
 * fixing the dimension on the first row. */
static int parse_list(struct csvrows *t, const struct fidx_csv_field *f, uint64_t line,
                      size_t col, struct fidx_err *err)
{
	const char *p = f->p, *e = f->p + f->len;
	size_t n = 0;
	char where[48];

	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (p >= e || *p != '[' || e[-1] != ']')
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s:%llu:%zu: expected a list of numbers such as \"[0.1, -0.2]\"",
		                    fidx_source_name(t->src), (unsigned long long)line, col);
	p++, e--;
	for (;;) {
		const char *s;
		float v;
		int st;
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p >= e)
			break;
		s = p;
		while (p < e && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		st = fidx_parse_float(s, (size_t)(p - s), &v);
		snprintf(where, sizeof where, " (list element %zu)", n + 1);
		if (st != FIDX_NUM_OK)
			return number_error(t, line, col, s, (size_t)(p - s), st, where, err);
		if (t->dim && n >= t->dim)
			return fidx_err_set(err, FIDX_EINPUT,
			                    "%s:%llu:%zu: the list has more than %zu numbers (the dimension of the first row)",
			                    fidx_source_name(t->src), (unsigned long long)line, col, t->dim);
		if (!t->dim) {
			float *nv = realloc(t->vec, (n + 1) * sizeof *nv);
			if (!nv)
				return fidx_err_nomem(err);
			t->vec = nv;
		}
		t->vec[n++] = v;
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p < e && *p == ',') {
			p++;
			while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
				p++;
			if (p >= e || *p == ',')
				return fidx_err_set(err, FIDX_EINPUT,
				                    "%s:%llu:%zu: expected a number after ',' in the list",
				                    fidx_source_name(t->src), (unsigned long long)line, col);
		}
	}
	if (n == 0)
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu:%zu: the embedding list is empty",
		                    fidx_source_name(t->src), (unsigned long long)line, col);
	if (!t->dim)
		t->dim = n;
	else if (n != t->dim)
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s:%llu:%zu: the list has %zu numbers, the first row had %zu",
		                    fidx_source_name(t->src), (unsigned long long)line, col, n, t->dim);
	return 0;
}

static int next_row(void *state, struct fidx_row *row, struct fidx_err *err)
{
	struct csvrows *t = state;
	struct fidx_csv_record r;
	size_t i, k;
	int rc;

	if (!t->started) {
		rc = start(t, err);
		if (rc <= 0)
			return rc;
	}
	if (t->have_pending) {
		r = t->pending;
		t->have_pending = 0;
	} else if (t->fast) {
		/* Plain numeric rows straight from the reader's buffer. */
		for (;;) {
			const char *p;
			size_t n;
			uint64_t line;
			int eof;
			long used;
			if ((rc = fidx_csv_view(t->csv, &p, &n, &line, &eof, err)) != 0)
				return rc;
			if (!n)
				break;
			used = fast_row(p, n, eof, t->delim, t->vec, t->dim, t->ends);
			if (used > 0) {
				fidx_csv_skip(t->csv, (size_t)used, 1);
				memset(row, 0, sizeof *row);
				row->vec = t->vec;
				row->dim = t->dim;
				row->where = line;
				return 1;
			}
			if (used == 0 || eof)
				break;
			if ((rc = fidx_csv_more(t->csv, err)) < 0)
				return rc;
		}
		rc = fidx_csv_next(t->csv, &r, err);
		if (rc <= 0)
			return rc;
	} else {
		rc = fidx_csv_next(t->csv, &r, err);
		if (rc <= 0)
			return rc;
	}
	if (r.n != t->ncols)
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: expected %zu fields, found %zu",
		                    fidx_source_name(t->src), (unsigned long long)r.line, t->ncols, r.n);
	memset(row, 0, sizeof *row);
	if (t->emb_col >= 0) {
		rc = parse_list(t, &r.f[t->emb_col], r.line, (size_t)t->emb_col + 1, err);
		if (rc)
			return rc;
	} else {
		for (i = 0, k = 0; i < r.n; i++) {
			int st;
			if ((long)i == t->id_col || (long)i == t->text_col)
				continue;
			st = fidx_parse_float(r.f[i].p, r.f[i].len, &t->vec[k]);
			if (st != FIDX_NUM_OK) {
				char where[64] = "", idx[24];
				/* Name the column unless it is pandas' default name. */
				snprintf(idx, sizeof idx, "%zu", i);
				if (t->names && t->names[i][0] && strcmp(t->names[i], idx) != 0)
					snprintf(where, sizeof where, " in column \"%.40s\"", t->names[i]);
				return number_error(t, r.line, i + 1, r.f[i].p, r.f[i].len, st, where, err);
			}
			k++;
		}
	}
	row->vec = t->vec;
	row->dim = t->dim;
	row->where = r.line;
	if (t->id_col >= 0) {
		row->id = r.f[t->id_col].p;
		row->id_len = r.f[t->id_col].len;
	}
	if (t->text_col >= 0) {
		row->text = r.f[t->text_col].p;
		row->text_len = r.f[t->text_col].len;
	}
	return 1;
}

static int csv_next(void *state, struct fidx_rows *rows, struct fidx_err *err)
{
	struct csvrows *t = state;
	return fidx_rowbuf_gather(&t->rows, next_row, t, rows, err);
}

/* The first line has tabs and no commas, and does not open JSON. */
static int looks_tsv(const unsigned char *b, size_t n)
{
	size_t i;
	int tab = 0;
	if (n && (b[0] == '{' || b[0] == '['))
		return 0;
	for (i = 0; i < n && b[i] != '\n' && b[i] != '\r'; i++) {
		if (b[i] == ',')
			return 0;
		tab |= b[i] == '\t';
	}
	return tab;
}

const struct fidx_format fidx_format_csv = {
	.name = "csv", .title = "CSV", .suffixes = (const char *const[]){".csv", NULL},
	.flags = FIDX_FORMAT_COLUMNS | FIDX_FORMAT_FALLBACK | FIDX_FORMAT_LINES,
	.open = csv_open, .next = csv_next, .close = csv_close,
};

const struct fidx_format fidx_format_tsv = {
	.name = "tsv", .title = "TSV", .suffixes = (const char *const[]){".tsv", ".tab", NULL},
	.looks_like = looks_tsv, .flags = FIDX_FORMAT_COLUMNS | FIDX_FORMAT_LINES,
	.open = tsv_open, .next = csv_next, .close = csv_close,
};
