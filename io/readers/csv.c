#include "csv.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_CAP (1u << 20)

struct fidx_csv {
	struct fidx_source *src;
	char delim;
	char *buf;
	size_t cap, start, end; /* unread bytes are buf[start..end) */
	int eof, bom_checked;
	uint64_t line;          /* line of buf[start] */
	struct fidx_csv_field *f;
	size_t fcap;
};

int fidx_csv_open(struct fidx_csv **out, struct fidx_source *src, char delim,
                  struct fidx_err *err)
{
	struct fidx_csv *c = calloc(1, sizeof *c);

	*out = NULL;
	if (!c)
		return fidx_err_nomem(err);
	c->cap = INITIAL_CAP;
	c->fcap = 64;
	c->buf = calloc(1, c->cap + FIDX_CSV_SLACK);
	c->f = malloc(c->fcap * sizeof *c->f);
	if (!c->buf || !c->f) {
		fidx_csv_close(c);
		return fidx_err_nomem(err);
	}
	c->src = src;
	c->delim = delim;
	c->line = 1;
	*out = c;
	return 0;
}

void fidx_csv_close(struct fidx_csv *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c->f);
	free(c);
}

/* Makes room and reads more bytes after buf[end]. Returns 1 if bytes were
 * added, 0 at the end of the input, or a negative code. */
static int refill(struct fidx_csv *c, struct fidx_err *err)
{
	ssize_t got;

	if (c->eof)
		return 0;
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == c->cap) {
		size_t ncap = c->cap * 2;
		char *nb;
		if (c->cap >= FIDX_CSV_MAX_RECORD)
			return fidx_err_set(err, FIDX_EINPUT,
			                    "%s:%llu: record longer than %u MiB",
			                    fidx_source_name(c->src), (unsigned long long)c->line,
			                    FIDX_CSV_MAX_RECORD >> 20);
		nb = realloc(c->buf, ncap + FIDX_CSV_SLACK);
		if (!nb)
			return fidx_err_nomem(err);
		c->buf = nb;
		c->cap = ncap;
	}
	got = fidx_source_read(c->src, c->buf + c->end, c->cap - c->end, err);
	if (got < 0)
		return (int)got;
	if (got == 0) {
		c->eof = 1;
		return 0;
	}
	c->end += (size_t)got;
	return 1;
}

static int add_field(struct fidx_csv *c, size_t n, char *p, size_t len, int quoted,
                     uint64_t line, struct fidx_err *err)
{
	if (n == c->fcap) {
		struct fidx_csv_field *nf;
		if (c->fcap >= FIDX_CSV_MAX_FIELDS)
			return fidx_err_set(err, FIDX_EINPUT, "%s:%llu: more than %u fields",
			                    fidx_source_name(c->src), (unsigned long long)line,
			                    FIDX_CSV_MAX_FIELDS);
		nf = realloc(c->f, c->fcap * 2 * sizeof *nf);
		if (!nf)
			return fidx_err_nomem(err);
		c->f = nf;
		c->fcap *= 2;
	}
	c->f[n].p = p;
	c->f[n].len = len;
	c->f[n].quoted = quoted;
	return 0;
}

enum { PARSED = 1, NEED_MORE = 2 };

static int nul_error(struct fidx_csv *c, uint64_t line, size_t field, struct fidx_err *err)
{
	return fidx_err_set(err, FIDX_EINPUT, "%s:%llu:%zu: NUL byte in the input (a binary file?)",
	                    fidx_source_name(c->src), (unsigned long long)line, field);
}

/* Removes the "" escapes of a quoted field in place. */
static size_t unescape(char *p, size_t len)
{
	size_t r, w = 0;
	for (r = 0; r < len; r++) {
		p[w++] = p[r];
		if (p[r] == '"')
			r++;
	}
	return w;
}

/* Parses one record at buf[start..end) without changing the buffer until
 * the record is known to be complete. Returns PARSED (fields in c->f, *nf
 * of them, *next the offset after the record, *lines the line ends
 * consumed), NEED_MORE if the record may continue past end, or a negative
 * code. */
static int parse(struct fidx_csv *c, size_t *nf, size_t *next, uint64_t *lines,
                 struct fidx_err *err)
{
	char *b = c->buf, d = c->delim;
	size_t pos = c->start, end = c->end, n = 0, i;
	uint64_t nl = 0;
	int rc;

	for (;;) {
		size_t fstart = pos;
		if (pos < end && b[pos] == '"') {
			size_t r = pos + 1;
			int escaped = 0;
			uint64_t qline = c->line + nl;
			for (;;) {
				const char *q;
				if (r >= end) {
					if (!c->eof)
						return NEED_MORE;
					return fidx_err_set(err, FIDX_EINPUT,
					                    "%s:%llu:%zu: quoted field not closed before the end of the input",
					                    fidx_source_name(c->src), (unsigned long long)qline, n + 1);
				}
				q = memchr(b + r, '"', end - r);
				if (!q)
					q = b + end;
				for (; b + r < q; r++) {
					if (b[r] == '\0')
						return nul_error(c, c->line + nl, n + 1, err);
					if (b[r] == '\n' || (b[r] == '\r' && (r + 1 >= end || b[r + 1] != '\n')))
						nl++;
				}
				if (r >= end)
					continue;
				if (r + 1 >= end && !c->eof)
					return NEED_MORE;
				if (r + 1 < end && b[r + 1] == '"') {
					escaped = 1;
					r += 2;
					continue;
				}
				break;
			}
			rc = add_field(c, n, b + fstart + 1, r - fstart - 1, 1 + escaped, c->line, err);
			if (rc)
				return rc;
			n++;
			pos = r + 1;
			if (pos < end && b[pos] != d && b[pos] != '\n' && b[pos] != '\r') {
				char delim[3] = {d, 0, 0};
				if (d == '\t')
					memcpy(delim, "\\t", 3);
				return fidx_err_set(err, FIDX_EINPUT,
				                    "%s:%llu:%zu: expected '%s' or a line end after a closing quote",
				                    fidx_source_name(c->src), (unsigned long long)(c->line + nl), n,
				                    delim);
			}
		} else {
			for (; pos < end; pos++) {
				char ch = b[pos];
				if (ch == d || ch == '\n' || ch == '\r')
					break;
				if (ch == '"')
					return fidx_err_set(err, FIDX_EINPUT,
					                    "%s:%llu:%zu: '\"' inside an unquoted field (quote the whole field)",
					                    fidx_source_name(c->src), (unsigned long long)(c->line + nl), n + 1);
				if (ch == '\0')
					return nul_error(c, c->line + nl, n + 1, err);
			}
			if (pos >= end && !c->eof)
				return NEED_MORE;
			rc = add_field(c, n, b + fstart, pos - fstart, 0, c->line, err);
			if (rc)
				return rc;
			n++;
		}
		/* After a field: a delimiter, a line end, or the end of the input. */
		if (pos >= end)
			break;
		if (b[pos] == d) {
			pos++;
			continue;
		}
		if (b[pos] == '\r') {
			if (pos + 1 >= end && !c->eof)
				return NEED_MORE;
			pos += (pos + 1 < end && b[pos + 1] == '\n') ? 2 : 1;
		} else {
			pos++;
		}
		nl++;
		break;
	}
	/* Complete: now unescape and terminate the fields in place. */
	b[end] = '\0';
	for (i = 0; i < n; i++) {
		if (c->f[i].quoted == 2) {
			c->f[i].len = unescape(c->f[i].p, c->f[i].len);
			c->f[i].quoted = 1;
		}
		c->f[i].p[c->f[i].len] = '\0';
	}
	*nf = n;
	*next = pos;
	*lines = nl;
	return PARSED;
}

int fidx_csv_next(struct fidx_csv *c, struct fidx_csv_record *rec, struct fidx_err *err)
{
	for (;;) {
		size_t nf = 0, next = 0;
		uint64_t lines = 0;
		int rc;

		if (c->start == c->end) {
			rc = refill(c, err);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return 0;
		}
		if (!c->bom_checked) {
			if (c->end - c->start < 3 && !c->eof) {
				rc = refill(c, err);
				if (rc < 0)
					return rc;
				continue;
			}
			c->bom_checked = 1;
			if (c->end - c->start >= 3 && memcmp(c->buf + c->start, "\xef\xbb\xbf", 3) == 0)
				c->start += 3;
			continue;
		}
		rc = parse(c, &nf, &next, &lines, err);
		if (rc == NEED_MORE) {
			rc = refill(c, err);
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;
		rec->f = c->f;
		rec->n = nf;
		rec->line = c->line;
		c->start = next;
		c->line += lines;
		/* Blank lines are skipped, as pandas does. */
		if (nf == 1 && c->f[0].len == 0 && !c->f[0].quoted)
			continue;
		return 1;
	}
}

int fidx_csv_view(struct fidx_csv *c, const char **p, size_t *n, uint64_t *line, int *eof,
                  struct fidx_err *err)
{
	if (c->start == c->end) {
		int rc = refill(c, err);
		if (rc < 0)
			return rc;
	}
	*p = c->buf + c->start;
	*n = c->end - c->start;
	*line = c->line;
	*eof = c->eof;
	return 0;
}

int fidx_csv_more(struct fidx_csv *c, struct fidx_err *err)
{
	return refill(c, err);
}

void fidx_csv_skip(struct fidx_csv *c, size_t bytes, uint64_t lines)
{
	c->start += bytes;
	c->line += lines;
}
