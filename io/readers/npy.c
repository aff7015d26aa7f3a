/* Matrices of floats behind a header, read as rows:
 *   numpy .npy files (format versions 1, 2 and 3): a 2-D array of float32
 *   or float64, little- or big-endian, in C or Fortran order. C-order arrays
 *   stream a block of rows at a time; a Fortran-order array is read whole
 *   first (its rows are not contiguous).
 *   FAISS flat indexes (faiss.write_index of an IndexFlatIP or IndexFlatL2):
 *   the index header, then the vectors as float32 rows. Nothing of FAISS
 *   reads them: they are untrusted input like any other file.
 * Every size in the header is checked before anything is allocated, and
 * against the rest (a file must end with its last row); values must be
 * finite. The row number (from 1) stands for the line in messages. */

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "reader.h"

#define MAX_HEADER (1u << 20)
#define MAX_DIM (1u << 20)

struct npy {
	struct fidx_source *src;
	const char *name;
	uint64_t rows, next;
	size_t dim, size; /* values per row, bytes per value */
	int big_endian, fortran;
	unsigned char *buf; /* a block of rows, or the whole array (Fortran order) */
	float *vec;         /* a block of rows, as floats */
	uint64_t where[FIDX_ROWS_MAX];
	int failed; /* an error met after some rows of a block, for the next call */
	struct fidx_err pending;
};

static void npy_close(void *state)
{
	struct npy *r = state;
	if (!r)
		return;
	free(r->buf);
	free(r->vec);
	free(r);
}

/* The buffers of a block of rows, once the shape is known. */
static int alloc_block(struct npy *r, struct fidx_err *err)
{
	if ((!r->fortran && !(r->buf = malloc(FIDX_ROWS_MAX * r->dim * r->size))) ||
	    !(r->vec = malloc(FIDX_ROWS_MAX * r->dim * sizeof *r->vec)))
		return fidx_err_nomem(err);
	return 0;
}

/* Reads exactly n bytes; a short file is an error. */
static int read_full(struct npy *r, void *buf, size_t n, const char *what, struct fidx_err *err)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = fidx_source_read(r->src, (char *)buf + got, n - got, err);
		if (k < 0)
			return (int)k;
		if (k == 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s: the file ends inside %s (truncated)", r->name, what);
		got += (size_t)k;
	}
	return 0;
}

/* The value of 'key': in the header dict, or NULL. */
static const char *field(const char *h, const char *key)
{
	char pat[32];
	const char *p;
	snprintf(pat, sizeof pat, "'%s'", key);
	if (!(p = strstr(h, pat)))
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

static int parse_header(struct npy *r, const char *h, struct fidx_err *err)
{
	const char *d = field(h, "descr"), *f = field(h, "fortran_order"), *s = field(h, "shape");
	unsigned long long n, dim;
	char *end;

	if (!d || !f || !s)
		return fidx_err_set(err, FIDX_EINPUT, "%s: not a numpy header (no descr, fortran_order or shape)", r->name);
	if (!strncmp(d, "'<f4'", 5) || !strncmp(d, "'<f8'", 5) || !strncmp(d, "'>f4'", 5) || !strncmp(d, "'>f8'", 5)) {
		r->big_endian = d[1] == '>';
		r->size = d[3] == '4' ? 4 : 8;
	} else {
		size_t k = strcspn(d, ",}");
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array holds %.*s, not float32 or float64 ('<f4', '<f8')",
		                    r->name, (int)(k < 40 ? k : 40), d);
	}
	if (!strncmp(f, "True", 4))
		r->fortran = 1;
	else if (strncmp(f, "False", 5) != 0)
		return fidx_err_set(err, FIDX_EINPUT, "%s: bad fortran_order in the numpy header", r->name);
	if (*s++ != '(')
		return fidx_err_set(err, FIDX_EINPUT, "%s: bad shape in the numpy header", r->name);
	n = strtoull(s, &end, 10);
	if (end == s || *end != ',')
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array is not 2-D (rows, dimension)", r->name);
	s = end + 1;
	while (*s == ' ')
		s++;
	dim = strtoull(s, &end, 10);
	if (end == s)
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array is not 2-D (rows, dimension)", r->name);
	while (*end == ' ')
		end++;
	if (*end == ',')
		end++;
	while (*end == ' ')
		end++;
	if (*end != ')')
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array is not 2-D (rows, dimension)", r->name);
	if (dim == 0 || dim > MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "%s: dimension %llu is out of range (1..%u)", r->name, dim, MAX_DIM);
	if (n == 0)
		return fidx_err_set(err, FIDX_EINPUT, "%s: no rows", r->name);
	if (n > UINT64_MAX / dim / r->size)
		return fidx_err_set(err, FIDX_EINPUT, "%s: the shape is too large", r->name);
	r->rows = n;
	r->dim = (size_t)dim;
	return 0;
}

static int npy_open(void **out, struct fidx_source *src, const struct fidx_reader_opts *o,
                    struct fidx_err *err)
{
	struct npy *r = calloc(1, sizeof *r);
	unsigned char pre[12];
	size_t hlen, fixed;
	char *h = NULL;
	int rc;

	(void)o;
	if (!r)
		return fidx_err_nomem(err);
	r->src = src;
	r->name = fidx_source_name(src);
	if ((rc = read_full(r, pre, 10, "the numpy header", err)) != 0)
		goto fail;
	if (memcmp(pre, "\x93NUMPY", 6) != 0) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: not a numpy .npy file (no \\x93NUMPY magic)", r->name);
		goto fail;
	}
	if (pre[6] == 1) {
		hlen = fidx_le16(pre + 8);
		fixed = 10;
	} else if (pre[6] == 2 || pre[6] == 3) {
		if ((rc = read_full(r, pre + 10, 2, "the numpy header", err)) != 0)
			goto fail;
		hlen = fidx_le32(pre + 8);
		fixed = 12;
	} else {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: numpy format version %u is not known (1 to 3 are)", r->name, pre[6]);
		goto fail;
	}
	(void)fixed;
	if (hlen == 0 || hlen > MAX_HEADER) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: a numpy header of %zu bytes", r->name, hlen);
		goto fail;
	}
	if (!(h = malloc(hlen + 1))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	if ((rc = read_full(r, h, hlen, "the numpy header", err)) != 0)
		goto fail;
	h[hlen] = '\0';
	if (strlen(h) != hlen) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: a NUL byte in the numpy header", r->name);
		goto fail;
	}
	if ((rc = parse_header(r, h, err)) != 0)
		goto fail;
	free(h);
	h = NULL;
	if (r->fortran) {
		/* Columns are contiguous: the whole array first. */
		uint64_t bytes = r->rows * r->dim * r->size;
		if (bytes > SIZE_MAX || !(r->buf = malloc((size_t)bytes))) {
			rc = fidx_err_set(err, FIDX_ENOMEM, "%s: out of memory for a Fortran-order array of %llu bytes",
			                  r->name, (unsigned long long)bytes);
			goto fail;
		}
		if ((rc = read_full(r, r->buf, (size_t)bytes, "the array", err)) != 0)
			goto fail;
	}
	if ((rc = alloc_block(r, err)) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	free(h);
	npy_close(r);
	return rc;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

static int faiss_open(void **out, struct fidx_source *src, const struct fidx_reader_opts *o,
                      struct fidx_err *err)
{
	/* fourcc, d (i32), ntotal (i64), two unused i64, is_trained (1 byte),
	 * metric_type (i32), then the codes: their count of floats (u64) and
	 * the floats. */
	unsigned char h[45];
	struct npy *r = calloc(1, sizeof *r);
	uint64_t d, n, count;
	uint32_t metric;
	int rc;

	(void)o;
	if (!r)
		return fidx_err_nomem(err);
	r->src = src;
	r->name = fidx_source_name(src);
	r->size = 4;
	if ((rc = read_full(r, h, 4, "the FAISS header", err)) != 0)
		goto fail;
	if (memcmp(h, "IxFI", 4) != 0 && memcmp(h, "IxF2", 4) != 0) {
		int shown = isprint(h[0]) && isprint(h[1]) && isprint(h[2]) && isprint(h[3]);
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: not a FAISS flat index (IndexFlatIP or IndexFlatL2): %s%.*s%s",
		                  r->name, shown ? "its kind is \"" : "an unknown kind", shown ? 4 : 0,
		                  (const char *)h, shown ? "\"" : "");
		goto fail;
	}
	if ((rc = read_full(r, h + 4, sizeof h - 4, "the FAISS header", err)) != 0)
		goto fail;
	d = le(h + 4, 4);
	n = le(h + 8, 8);
	metric = (uint32_t)le(h + 33, 4);
	count = le(h + 37, 8);
	if ((metric != 0 || h[3] != 'I') && (metric != 1 || h[3] != '2')) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: the FAISS header's metric (%u) does not match its kind", r->name, metric);
		goto fail;
	}
	if (d == 0 || d > MAX_DIM || n == 0 || n > UINT64_MAX / d / 4 || count != n * d) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: a FAISS header with dimension %llu, %llu vectors and %llu floats",
		                  r->name, (unsigned long long)d, (unsigned long long)n, (unsigned long long)count);
		goto fail;
	}
	r->rows = n;
	r->dim = (size_t)d;
	if ((rc = alloc_block(r, err)) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	npy_close(r);
	return rc;
}

/* Value i of the array's bytes p, as a double. */
static double value(const struct npy *r, const unsigned char *p)
{
	unsigned char b[8];
	size_t k;
	for (k = 0; k < r->size; k++)
		b[k] = r->big_endian ? p[r->size - 1 - k] : p[k];
	if (r->size == 4) {
		float f;
		memcpy(&f, b, 4);
		return f;
	} else {
		double d;
		memcpy(&d, b, 8);
		return d;
	}
}

/* Converts row `at` (its bytes at p) into row. */
static int convert(struct npy *r, uint64_t at, const unsigned char *p, float *row, struct fidx_err *err)
{
	size_t j;
	if (!r->fortran && !r->big_endian && r->size == 4) {
		/* The common case, np.save of float32 here: the row as it is. */
		memcpy(row, p, r->dim * sizeof *row);
		for (j = 0; j < r->dim && isfinite(row[j]); j++)
			;
		if (j == r->dim)
			return 0;
	}
	for (j = 0; j < r->dim; j++) {
		const unsigned char *v = r->fortran ? r->buf + (j * r->rows + at) * r->size : p + j * r->size;
		double x = value(r, v);
		if (!isfinite(x) || fabs(x) > 3.4028234663852886e38)
			return fidx_err_set(err, FIDX_EINPUT, "%s: row %llu, column %zu: %s", r->name,
			                    (unsigned long long)at + 1, j + 1,
			                    isfinite(x) ? "beyond float range" : "not a finite number");
		row[j] = (float)x;
	}
	return 0;
}

static int npy_next(void *state, struct fidx_rows *rows, struct fidx_err *err)
{
	struct npy *r = state;
	size_t k, i, row_bytes = r->dim * r->size;
	int rc;

	if (r->failed) {
		if (err)
			*err = r->pending;
		return r->pending.code;
	}
	if (r->next == r->rows) {
		char extra;
		ssize_t got = fidx_source_read(r->src, &extra, 1, err);
		if (got < 0)
			return (int)got;
		if (got > 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s: bytes after the last of the %llu rows the header gives",
			                    r->name, (unsigned long long)r->rows);
		return 0;
	}
	k = r->rows - r->next < FIDX_ROWS_MAX ? (size_t)(r->rows - r->next) : FIDX_ROWS_MAX;
	for (i = 0; i < k; i++) {
		/* Row by row, so that a truncated file names its row. */
		if (!r->fortran && (rc = read_full(r, r->buf + i * row_bytes, row_bytes, "a row", err)) != 0) {
			if (rc == FIDX_EINPUT)
				fidx_err_set(err, rc, "%s: the file ends in row %llu of the %llu the header gives (truncated)",
				             r->name, (unsigned long long)r->next + 1, (unsigned long long)r->rows);
			break;
		}
		if ((rc = convert(r, r->next, r->buf + i * row_bytes, r->vec + i * r->dim, err)) != 0)
			break;
		r->where[i] = ++r->next;
	}
	if (i < k && i == 0)
		return rc;
	if (i < k) {
		/* Hand over the rows before the bad one; the error comes next. */
		r->failed = 1;
		r->pending.code = rc;
		snprintf(r->pending.msg, sizeof r->pending.msg, "%s", err ? err->msg : "");
	}
	memset(rows, 0, sizeof *rows);
	rows->n = i;
	rows->dim = r->dim;
	rows->vec = r->vec;
	rows->where = r->where;
	return 1;
}

static int npy_magic(const unsigned char *b, size_t n)
{
	return n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0;
}

static int faiss_magic(const unsigned char *b, size_t n)
{
	return n >= 4 && (memcmp(b, "IxFI", 4) == 0 || memcmp(b, "IxF2", 4) == 0);
}

const struct fidx_format fidx_format_npy = {
	.name = "npy", .title = "numpy .npy", .suffixes = (const char *const[]){".npy", NULL},
	.magic = npy_magic, .open = npy_open, .next = npy_next, .close = npy_close,
};

const struct fidx_format fidx_format_faiss = {
	.name = "faiss", .title = "FAISS flat index", .suffixes = (const char *const[]){".faiss", NULL},
	.magic = faiss_magic, .open = faiss_open, .next = npy_next, .close = npy_close,
};
