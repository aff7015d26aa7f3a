#include "npy.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

#define MAX_HEADER (1u << 20)
#define MAX_DIM (1u << 20)

struct fidx_npy {
	struct fidx_source *src;
	const char *name;
	uint64_t rows, next;
	size_t dim, size; /* values per row, bytes per value */
	int big_endian, fortran;
	unsigned char *buf; /* one row, or the whole array (Fortran order) */
};

/* Reads exactly n bytes; a short file is an error. */
static int read_full(struct fidx_npy *r, void *buf, size_t n, const char *what, struct fidx_err *err)
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

static int parse_header(struct fidx_npy *r, const char *h, struct fidx_err *err)
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

int fidx_npy_open(struct fidx_npy **out, struct fidx_source *src, struct fidx_err *err)
{
	struct fidx_npy *r = calloc(1, sizeof *r);
	unsigned char pre[12];
	size_t hlen, fixed;
	char *h = NULL;
	int rc;

	*out = NULL;
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
	} else if (!(r->buf = malloc(r->dim * r->size))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	free(h);
	fidx_npy_close(r);
	return rc;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

int fidx_faiss_flat_open(struct fidx_npy **out, struct fidx_source *src, struct fidx_err *err)
{
	/* fourcc, d (i32), ntotal (i64), two unused i64, is_trained (1 byte),
	 * metric_type (i32), then the codes: their count of floats (u64) and
	 * the floats. */
	unsigned char h[45];
	struct fidx_npy *r = calloc(1, sizeof *r);
	uint64_t d, n, count;
	uint32_t metric;
	int rc;

	*out = NULL;
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
	if (!(r->buf = malloc(r->dim * 4))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	fidx_npy_close(r);
	return rc;
}

uint64_t fidx_npy_rows(const struct fidx_npy *r) { return r->rows; }
size_t fidx_npy_dim(const struct fidx_npy *r) { return r->dim; }

/* Value i of the array's bytes p, as a double. */
static double value(const struct fidx_npy *r, const unsigned char *p)
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

int fidx_npy_next(struct fidx_npy *r, float *row, struct fidx_err *err)
{
	size_t j;
	int rc;

	if (r->next == r->rows) {
		char extra;
		ssize_t k = fidx_source_read(r->src, &extra, 1, err);
		if (k < 0)
			return (int)k;
		if (k > 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s: bytes after the last of the %llu rows the header gives",
			                    r->name, (unsigned long long)r->rows);
		return 0;
	}
	if (!r->fortran && (rc = read_full(r, r->buf, r->dim * r->size, "a row", err)) != 0) {
		if (rc == FIDX_EINPUT)
			fidx_err_set(err, rc, "%s: the file ends in row %llu of the %llu the header gives (truncated)",
			             r->name, (unsigned long long)r->next + 1, (unsigned long long)r->rows);
		return rc;
	}
	if (!r->fortran && !r->big_endian && r->size == 4) {
		/* The common case, np.save of float32 here: the row as it is. */
		memcpy(row, r->buf, r->dim * sizeof *row);
		for (j = 0; j < r->dim && isfinite(row[j]); j++)
			;
		if (j == r->dim) {
			r->next++;
			return 1;
		}
	}
	for (j = 0; j < r->dim; j++) {
		const unsigned char *p = r->fortran ? r->buf + (j * r->rows + r->next) * r->size : r->buf + j * r->size;
		double v = value(r, p);
		if (!isfinite(v) || fabs(v) > 3.4028234663852886e38)
			return fidx_err_set(err, FIDX_EINPUT, "%s: row %llu, column %zu: %s", r->name,
			                    (unsigned long long)r->next + 1, j + 1,
			                    isfinite(v) ? "beyond float range" : "not a finite number");
		row[j] = (float)v;
	}
	r->next++;
	return 1;
}

void fidx_npy_close(struct fidx_npy *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}
