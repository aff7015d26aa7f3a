/* JSON Lines of embeddings: one object per line, the vector in a list of
 * numbers ("embedding" unless told otherwise), with optional "id" (a string
 * or an integer) and "text" fields, as datasets' to_json(lines=True) and
 * hand-made exports write them. Blank lines are skipped; errors name the
 * line and, for JSON syntax, the column. A field named explicitly must be in
 * every record; "id" and "text" found in the first record must be in all
 * the others. */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

#define MAX_LINE (256u << 20)
#define MAX_DIM (1u << 20)

struct jsonl {
	struct fidx_source *src;
	const char *name;
	const char *emb_name, *id_name, *text_name;
	int id_mode, text_mode; /* 0 not yet known, 1 every record, -1 none */
	char *buf;              /* bytes read, not yet consumed */
	size_t len, pos, cap;
	int eof;
	uint64_t line;
	cJSON *rec;             /* the current record */
	float *vec;
	size_t dim;
	char id_buf[32];
	struct fidx_rowbuf rows;
};

static int jsonl_open(void **out, struct fidx_source *src, const struct fidx_reader_opts *o,
                      struct fidx_err *err)
{
	const char *embedding = o->embedding_column, *id = o->id_column, *text = o->text_column;
	struct jsonl *j = calloc(1, sizeof *j);
	if (!j)
		return fidx_err_nomem(err);
	j->src = src;
	j->name = fidx_source_name(src);
	j->emb_name = embedding ? embedding : "embedding";
	j->id_name = id ? id : "id";
	j->text_name = text ? text : "text";
	j->id_mode = id ? 1 : 0;
	j->text_mode = text ? 1 : 0;
	*out = j;
	return 0;
}

/* The next line (without its end), or NULL at the end of the file. */
static int next_line(struct jsonl *j, char **line, size_t *n, struct fidx_err *err)
{
	for (;;) {
		char *nl = j->pos < j->len ? memchr(j->buf + j->pos, '\n', j->len - j->pos) : NULL;
		if (nl || (j->eof && j->pos < j->len)) {
			size_t end = nl ? (size_t)(nl - j->buf) : j->len;
			*line = j->buf + j->pos;
			*n = end - j->pos;
			if (*n && (*line)[*n - 1] == '\r')
				(*n)--;
			j->pos = nl ? end + 1 : end;
			j->line++;
			return 1;
		}
		if (j->eof)
			return 0;
		/* Keep the partial line, read more. */
		if (j->pos) {
			memmove(j->buf, j->buf + j->pos, j->len - j->pos);
			j->len -= j->pos;
			j->pos = 0;
		}
		if (j->cap - j->len < 65536) {
			size_t ncap = j->cap ? j->cap * 2 : 1 << 20;
			char *nb;
			if (ncap > MAX_LINE + 65536)
				return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: a line longer than %u MB", j->name,
				                    (unsigned long long)j->line + 1, MAX_LINE >> 20);
			if (!(nb = realloc(j->buf, ncap)))
				return fidx_err_nomem(err);
			j->buf = nb;
			j->cap = ncap;
		}
		{
			ssize_t got = fidx_source_read(j->src, j->buf + j->len, j->cap - j->len, err);
			if (got < 0)
				return (int)got;
			if (got == 0)
				j->eof = 1;
			j->len += (size_t)got;
		}
	}
}

/* A field that must be there or must not, as the first record decided. */
static int optional_field(struct jsonl *j, const char *key, int *mode, const cJSON **v,
                          struct fidx_err *err)
{
	*v = cJSON_GetObjectItemCaseSensitive(j->rec, key);
	if (*mode == 0)
		*mode = *v ? 1 : -1;
	if (*mode == 1 && !*v)
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: no \"%s\" field (the records before have one)", j->name,
		                    (unsigned long long)j->line, key);
	if (*mode == -1)
		*v = NULL;
	return 0;
}

static int next_row(void *state, struct fidx_row *row, struct fidx_err *err)
{
	struct jsonl *j = state;
	const cJSON *e, *v, *idv, *tv;
	const char *end = NULL;
	char *line = NULL;
	size_t n = 0, k;
	int rc;

	cJSON_Delete(j->rec);
	j->rec = NULL;
	for (;;) {
		if ((rc = next_line(j, &line, &n, err)) <= 0)
			return rc;
		for (k = 0; k < n && (line[k] == ' ' || line[k] == '\t'); k++)
			;
		if (k < n)
			break; /* not a blank line */
	}
	j->rec = cJSON_ParseWithLengthOpts(line, n, &end, 0);
	if (!j->rec) {
		if (!end || end < line || end > line + n)
			return fidx_err_nomem(err);
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu:%zu: not valid JSON", j->name, (unsigned long long)j->line,
		                    (size_t)(end - line) + 1);
	}
	if (!cJSON_IsObject(j->rec))
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: expected a JSON object", j->name, (unsigned long long)j->line);
	e = cJSON_GetObjectItemCaseSensitive(j->rec, j->emb_name);
	if (!cJSON_IsArray(e))
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: \"%s\" is %s, not a list of numbers", j->name,
		                    (unsigned long long)j->line, j->emb_name, e ? "something else" : "missing");
	n = (size_t)cJSON_GetArraySize(e);
	if (!j->dim) {
		if (!n || n > MAX_DIM)
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: an embedding of %zu values", j->name,
			                    (unsigned long long)j->line, n);
		if (!(j->vec = malloc(n * sizeof *j->vec)))
			return fidx_err_nomem(err);
		j->dim = n;
	} else if (n != j->dim) {
		return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: the embedding has %zu values, the first one %zu", j->name,
		                    (unsigned long long)j->line, n, j->dim);
	}
	k = 0;
	cJSON_ArrayForEach(v, e) {
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 3.4028234663852886e38)
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: value %zu of \"%s\" is not a finite number in float range",
			                    j->name, (unsigned long long)j->line, k + 1, j->emb_name);
		j->vec[k++] = (float)v->valuedouble;
	}
	if ((rc = optional_field(j, j->id_name, &j->id_mode, &idv, err)) != 0 ||
	    (rc = optional_field(j, j->text_name, &j->text_mode, &tv, err)) != 0)
		return rc;
	memset(row, 0, sizeof *row);
	row->vec = j->vec;
	row->dim = j->dim;
	row->where = j->line;
	if (idv) {
		if (cJSON_IsString(idv)) {
			row->id = idv->valuestring;
			row->id_len = strlen(idv->valuestring);
		} else if (cJSON_IsNumber(idv) && idv->valuedouble == floor(idv->valuedouble) &&
		           fabs(idv->valuedouble) < 9007199254740992.0) {
			row->id_len = (size_t)snprintf(j->id_buf, sizeof j->id_buf, "%.0f", idv->valuedouble);
			row->id = j->id_buf;
		} else {
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: \"%s\" is neither a string nor an integer", j->name,
			                    (unsigned long long)j->line, j->id_name);
		}
	}
	if (tv) {
		if (!cJSON_IsString(tv))
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: \"%s\" is not a string", j->name,
			                    (unsigned long long)j->line, j->text_name);
		row->text = tv->valuestring;
		row->text_len = strlen(tv->valuestring);
	}
	return 1;
}

static int jsonl_next(void *state, struct fidx_rows *rows, struct fidx_err *err)
{
	struct jsonl *j = state;
	return fidx_rowbuf_gather(&j->rows, next_row, j, rows, err);
}

static void jsonl_close(void *state)
{
	struct jsonl *j = state;
	if (!j)
		return;
	fidx_rowbuf_free(&j->rows);
	cJSON_Delete(j->rec);
	free(j->buf);
	free(j->vec);
	free(j);
}

/* The first character that is not white space opens an object. */
static int looks_jsonl(const unsigned char *b, size_t n)
{
	size_t i = n >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
		i++;
	return i < n && b[i] == '{';
}

const struct fidx_format fidx_format_jsonl = {
	.name = "jsonl", .title = "JSON Lines", .suffixes = (const char *const[]){".jsonl", ".ndjson", NULL},
	.looks_like = looks_jsonl, .flags = FIDX_FORMAT_COLUMNS | FIDX_FORMAT_LINES,
	.open = jsonl_open, .next = jsonl_next, .close = jsonl_close,
};
