#include "array.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bytes.h"

#define MAX_DIM (1u << 20)

static const struct {
	const char *name;
	size_t size;
} types[] = {
	[FIDX_F16] = {"float16", 2}, [FIDX_BF16] = {"bfloat16", 2}, [FIDX_F32] = {"float32", 4},
	[FIDX_F64] = {"float64", 8}, [FIDX_I8] = {"int8", 1},       [FIDX_U8] = {"uint8", 1},
	[FIDX_I16] = {"int16", 2},   [FIDX_U16] = {"uint16", 2},
};

size_t fidx_dtype_size(enum fidx_dtype t)
{
	return types[t].size;
}

const char *fidx_dtype_name(enum fidx_dtype t)
{
	return types[t].name;
}

/* The n bytes at p as a little-endian unsigned integer. */
static uint64_t bits(const unsigned char *p, size_t n, int big_endian)
{
	uint64_t v = 0;
	size_t k;
	for (k = 0; k < n; k++)
		v = v << 8 | p[big_endian ? k : n - 1 - k];
	return v;
}

double fidx_dtype_value(enum fidx_dtype t, int big_endian, const unsigned char *p)
{
	uint64_t u = bits(p, types[t].size, big_endian);
	uint32_t w;
	float f;
	double d;
	switch (t) {
	case FIDX_F16: return fidx_half_to_float((uint16_t)u);
	case FIDX_BF16: return fidx_bf16_to_float((uint16_t)u);
	case FIDX_F32:
		w = (uint32_t)u;
		memcpy(&f, &w, sizeof f);
		return f;
	case FIDX_F64:
		memcpy(&d, &u, sizeof d);
		return d;
	case FIDX_I8: return (int8_t)(uint8_t)u;
	case FIDX_U8: return (double)u;
	case FIDX_I16: return (int16_t)(uint16_t)u;
	default: return (double)u;
	}
}

int fidx_array_read(struct fidx_array *a, void *buf, size_t n, const char *what, struct fidx_err *err)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = fidx_source_read(a->src, (char *)buf + got, n - got, err);
		if (k < 0)
			return (int)k;
		if (k == 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s: the file ends inside %s (truncated)", a->name, what);
		got += (size_t)k;
	}
	return 0;
}

int fidx_array_read_all(struct fidx_array *a, unsigned char **out, uint64_t n, const char *what,
                        struct fidx_err *err)
{
	uint64_t got = 0, cap = 0;
	unsigned char *b = NULL, *nb;
	int rc;
	*out = NULL;
	if (n >= SIZE_MAX)
		return fidx_err_set(err, FIDX_ENOMEM, "%s: out of memory for %s (%llu bytes)", a->name, what,
		                    (unsigned long long)n);
	do {
		uint64_t want = cap ? cap * 2 : 65536;
		if (want > n)
			want = n;
		if (!(nb = realloc(b, (size_t)want + 1))) {
			free(b);
			return fidx_err_set(err, FIDX_ENOMEM, "%s: out of memory for %s (%llu bytes)", a->name, what,
			                    (unsigned long long)n);
		}
		b = nb;
		cap = want;
		if ((rc = fidx_array_read(a, b + got, (size_t)(cap - got), what, err)) != 0) {
			free(b);
			return rc;
		}
		got = cap;
	} while (got < n);
	b[got] = '\0';
	*out = b;
	return 0;
}

int fidx_array_skip(struct fidx_array *a, uint64_t n, const char *what, struct fidx_err *err)
{
	unsigned char b[16384];
	while (n) {
		size_t k = n < sizeof b ? (size_t)n : sizeof b;
		int rc = fidx_array_read(a, b, k, what, err);
		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

int fidx_array_start(struct fidx_array *a, struct fidx_err *err)
{
	a->size = types[a->dtype].size;
	if (a->dim == 0 || a->dim > MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "%s: dimension %zu is out of range (1..%u)", a->name, a->dim, MAX_DIM);
	if (a->rows == 0)
		return fidx_err_set(err, FIDX_EINPUT, "%s: no rows", a->name);
	if (a->rows > UINT64_MAX / a->dim / a->size)
		return fidx_err_set(err, FIDX_EINPUT, "%s: the shape is too large", a->name);
	if (a->fortran) {
		/* Columns are contiguous: the whole array first. */
		int rc = fidx_array_read_all(a, &a->buf, a->rows * a->dim * a->size, "the Fortran-order array", err);
		if (rc)
			return rc;
	} else if (!(a->buf = malloc(FIDX_ROWS_MAX * a->dim * a->size))) {
		return fidx_err_nomem(err);
	}
	if (!(a->vec = malloc(FIDX_ROWS_MAX * a->dim * sizeof *a->vec)))
		return fidx_err_nomem(err);
	return 0;
}

/* 1 when the d floats of row are all finite. Without an early exit, so
 * that the compiler checks many values at once. */
static int all_finite(const float *row, size_t d)
{
	uint32_t bad = 0;
	size_t j;
	for (j = 0; j < d; j++) {
		uint32_t u;
		memcpy(&u, row + j, sizeof u);
		bad |= (u & 0x7f800000u) == 0x7f800000u;
	}
	return !bad;
}

/* float32 rows stored as this machine holds floats, in C order: read
 * straight into the rows handed over. */
static int as_is(const struct fidx_array *a)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return a->dtype == FIDX_F32 && !a->fortran && !a->big_endian;
#else
	return 0;
#endif
}

/* A row of contiguous little-endian values at p, one loop per type: 1 when
 * every value is finite, 0 when the general path must take the row (for
 * its type, or to name the value that is not finite). */
static int convert_fast(const struct fidx_array *a, const unsigned char *p, float *row)
{
	size_t j, d = a->dim;
	if (a->fortran || (a->big_endian && a->size > 1))
		return 0;
	switch (a->dtype) {
	case FIDX_F32:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(row, p, d * sizeof *row); /* np.save of float32 here: the row as it is */
		return all_finite(row, d);
#else
		return 0;
#endif
	case FIDX_F16:
		for (j = 0; j < d; j++)
			row[j] = fidx_half_to_float(fidx_le16(p + 2 * j));
		break;
	case FIDX_BF16:
		for (j = 0; j < d; j++)
			row[j] = fidx_bf16_to_float(fidx_le16(p + 2 * j));
		break;
	case FIDX_I8:
		for (j = 0; j < d; j++)
			row[j] = (float)(int8_t)p[j];
		return 1;
	case FIDX_U8:
		for (j = 0; j < d; j++)
			row[j] = (float)p[j];
		return 1;
	case FIDX_I16:
		for (j = 0; j < d; j++)
			row[j] = (float)(int16_t)fidx_le16(p + 2 * j);
		return 1;
	case FIDX_U16:
		for (j = 0; j < d; j++)
			row[j] = (float)fidx_le16(p + 2 * j);
		return 1;
	default:
		return 0;
	}
	for (j = 0; j < d && isfinite(row[j]); j++)
		;
	return j == d;
}

/* Converts row `at` (its bytes at p, unless Fortran order) into row. */
static int convert(struct fidx_array *a, uint64_t at, const unsigned char *p, float *row, struct fidx_err *err)
{
	size_t j;
	if (convert_fast(a, p, row))
		return 0;
	for (j = 0; j < a->dim; j++) {
		const unsigned char *v = a->fortran ? a->buf + (j * a->rows + at) * a->size : p + j * a->size;
		double x = fidx_dtype_value(a->dtype, a->big_endian, v);
		if (!isfinite(x) || fabs(x) > 3.4028234663852886e38)
			return fidx_err_set(err, FIDX_EINPUT, "%s: row %llu, column %zu: %s", a->name,
			                    (unsigned long long)at + 1, j + 1,
			                    isfinite(x) ? "beyond float range" : "not a finite number");
		row[j] = (float)x;
	}
	return 0;
}

int fidx_array_next(void *state, struct fidx_rows *rows, struct fidx_err *err)
{
	struct fidx_array *a = state;
	size_t k, i, row_bytes = a->dim * a->size;
	int rc = 0, in_place = as_is(a);

	if (a->failed) {
		if (err)
			*err = a->pending;
		return a->pending.code;
	}
	if (a->next == a->rows) {
		char extra;
		ssize_t got;
		if (a->after && (rc = fidx_array_skip(a, a->after, "the tensors after the one read", err)) != 0)
			return rc;
		a->after = 0;
		if ((got = fidx_source_read(a->src, &extra, 1, err)) < 0)
			return (int)got;
		if (got > 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s: bytes after the last of the %llu rows the header gives",
			                    a->name, (unsigned long long)a->rows);
		return 0;
	}
	k = a->rows - a->next < FIDX_ROWS_MAX ? (size_t)(a->rows - a->next) : FIDX_ROWS_MAX;
	for (i = 0; i < k; i++) {
		float *row = a->vec + i * a->dim;
		unsigned char *p = in_place ? (unsigned char *)row : a->buf + i * row_bytes;
		/* Row by row, so that a truncated file names its row. */
		if (!a->fortran && (rc = fidx_array_read(a, p, row_bytes, "a row", err)) != 0) {
			if (rc == FIDX_EINPUT)
				fidx_err_set(err, rc, "%s: the file ends in row %llu of the %llu the header gives (truncated)",
				             a->name, (unsigned long long)a->next + 1, (unsigned long long)a->rows);
			break;
		}
		if (in_place) {
			if (all_finite(row, a->dim)) {
				a->where[i] = ++a->next;
				continue;
			}
			/* The general path names the value that is not finite. */
			memcpy(a->buf + i * row_bytes, row, row_bytes);
			p = a->buf + i * row_bytes;
		}
		if ((rc = convert(a, a->next, p, row, err)) != 0)
			break;
		a->where[i] = ++a->next;
	}
	if (i < k && i == 0)
		return rc;
	if (i < k) {
		/* Hand over the rows before the bad one; the error comes next. */
		a->failed = 1;
		a->pending.code = rc;
		snprintf(a->pending.msg, sizeof a->pending.msg, "%s", err ? err->msg : "");
	}
	memset(rows, 0, sizeof *rows);
	rows->n = i;
	rows->dim = a->dim;
	rows->vec = a->vec;
	rows->where = a->where;
	return 1;
}

uint64_t fidx_array_rows(void *state)
{
	return ((const struct fidx_array *)state)->rows;
}

void fidx_array_describe(const struct fidx_array *a, char *out, size_t cap)
{
	snprintf(out, cap, "%llu x %zu %s%s%s", (unsigned long long)a->rows, a->dim, types[a->dtype].name,
	         a->big_endian && a->size > 1 ? ", big-endian" : "", a->fortran ? ", Fortran order" : "");
}

void fidx_array_free(struct fidx_array *a)
{
	free(a->buf);
	free(a->vec);
	a->buf = NULL;
	a->vec = NULL;
}
