/* Matrices of numbers behind a header, read as rows (array.h):
 *   numpy .npy files (format versions 1, 2 and 3): a 2-D array of float16,
 *   float32, float64, int8, uint8, int16 or uint16, little- or big-endian,
 *   in C or Fortran order. C-order arrays stream a block of rows at a time;
 *   a Fortran-order array is read whole first (its rows are not
 *   contiguous).
 *   FAISS flat indexes (faiss.write_index of an IndexFlatIP or IndexFlatL2):
 *   the index header, then the vectors as float32 rows. Nothing of FAISS
 *   reads them: they are untrusted input like any other file.
 * Every size in the header is checked before anything is allocated, and
 * against the rest (a file must end with its last row); values must be
 * finite. The row number (from 1) stands for the line in messages. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "bytes.h"
#include "reader.h"

#define MAX_HEADER (1u << 20)

static void npy_close(void *state)
{
	struct fidx_array *a = state;
	if (!a)
		return;
	fidx_array_free(a);
	free(a);
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

/* The dtype of a descr such as '<f4' or '|u1': 0, or -1 when fidx does not
 * read it. */
static int parse_descr(struct fidx_array *a, const char *d)
{
	static const struct {
		char kind, size;
		enum fidx_dtype t;
	} known[] = {{'f', '2', FIDX_F16}, {'f', '4', FIDX_F32}, {'f', '8', FIDX_F64}, {'i', '1', FIDX_I8},
	             {'u', '1', FIDX_U8},  {'i', '2', FIDX_I16}, {'u', '2', FIDX_U16}};
	size_t i;
	if (strnlen(d, 5) < 5 || d[0] != '\'' || (d[1] != '<' && d[1] != '>' && d[1] != '|') || d[4] != '\'')
		return -1;
	for (i = 0; i < sizeof known / sizeof *known; i++)
		if (d[2] == known[i].kind && d[3] == known[i].size && (d[1] == '|') == (d[3] == '1')) {
			a->dtype = known[i].t;
			a->big_endian = d[1] == '>';
			return 0;
		}
	return -1;
}

static int parse_header(struct fidx_array *a, const char *h, struct fidx_err *err)
{
	const char *d = field(h, "descr"), *f = field(h, "fortran_order"), *s = field(h, "shape");
	unsigned long long n, dim;
	char *end;

	if (!d || !f || !s)
		return fidx_err_set(err, FIDX_EINPUT, "%s: not a numpy header (no descr, fortran_order or shape)", a->name);
	if (parse_descr(a, d)) {
		size_t k = strcspn(d, ",}");
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array holds %.*s, not a type fidx reads (float16, "
		                    "float32, float64, int8, uint8, int16 or uint16: '<f2', '<f4', '<f8', '|i1', "
		                    "'|u1', '<i2', '<u2')", a->name, (int)(k < 40 ? k : 40), d);
	}
	if (!strncmp(f, "True", 4))
		a->fortran = 1;
	else if (strncmp(f, "False", 5) != 0)
		return fidx_err_set(err, FIDX_EINPUT, "%s: bad fortran_order in the numpy header", a->name);
	if (*s++ != '(')
		return fidx_err_set(err, FIDX_EINPUT, "%s: bad shape in the numpy header", a->name);
	n = strtoull(s, &end, 10);
	if (end == s || *end != ',')
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array is not 2-D (rows, dimension)", a->name);
	s = end + 1;
	while (*s == ' ')
		s++;
	dim = strtoull(s, &end, 10);
	if (end == s)
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array is not 2-D (rows, dimension)", a->name);
	while (*end == ' ')
		end++;
	if (*end == ',')
		end++;
	while (*end == ' ')
		end++;
	if (*end != ')')
		return fidx_err_set(err, FIDX_EINPUT, "%s: the array is not 2-D (rows, dimension)", a->name);
	if (dim > SIZE_MAX)
		dim = SIZE_MAX;
	a->rows = n;
	a->dim = (size_t)dim;
	return 0;
}

static int npy_open(void **out, struct fidx_source *src, const struct fidx_reader_opts *o,
                    struct fidx_err *err)
{
	struct fidx_array *a = calloc(1, sizeof *a);
	unsigned char pre[12];
	size_t hlen;
	char *h = NULL;
	int rc;

	(void)o;
	if (!a)
		return fidx_err_nomem(err);
	a->src = src;
	a->name = fidx_source_name(src);
	if ((rc = fidx_array_read(a, pre, 10, "the numpy header", err)) != 0)
		goto fail;
	if (memcmp(pre, "\x93NUMPY", 6) != 0) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: not a numpy .npy file (no \\x93NUMPY magic)", a->name);
		goto fail;
	}
	if (pre[6] == 1) {
		hlen = fidx_le16(pre + 8);
	} else if (pre[6] == 2 || pre[6] == 3) {
		if ((rc = fidx_array_read(a, pre + 10, 2, "the numpy header", err)) != 0)
			goto fail;
		hlen = fidx_le32(pre + 8);
	} else {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: numpy format version %u is not known (1 to 3 are)", a->name, pre[6]);
		goto fail;
	}
	if (hlen == 0 || hlen > MAX_HEADER) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: a numpy header of %zu bytes", a->name, hlen);
		goto fail;
	}
	if (!(h = malloc(hlen + 1))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	if ((rc = fidx_array_read(a, h, hlen, "the numpy header", err)) != 0)
		goto fail;
	h[hlen] = '\0';
	if (strlen(h) != hlen) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: a NUL byte in the numpy header", a->name);
		goto fail;
	}
	if ((rc = parse_header(a, h, err)) != 0 || (rc = fidx_array_start(a, err)) != 0)
		goto fail;
	free(h);
	*out = a;
	return 0;
fail:
	free(h);
	npy_close(a);
	return rc;
}

static int faiss_open(void **out, struct fidx_source *src, const struct fidx_reader_opts *o,
                      struct fidx_err *err)
{
	/* fourcc, d (i32), ntotal (i64), two unused i64, is_trained (1 byte),
	 * metric_type (i32), then the codes: their count of floats (u64) and
	 * the floats. */
	unsigned char h[45];
	struct fidx_array *a = calloc(1, sizeof *a);
	uint64_t d, n, count;
	uint32_t metric;
	int rc;

	(void)o;
	if (!a)
		return fidx_err_nomem(err);
	a->src = src;
	a->name = fidx_source_name(src);
	a->dtype = FIDX_F32;
	if ((rc = fidx_array_read(a, h, 4, "the FAISS header", err)) != 0)
		goto fail;
	if (memcmp(h, "IxFI", 4) != 0 && memcmp(h, "IxF2", 4) != 0) {
		int shown = isprint(h[0]) && isprint(h[1]) && isprint(h[2]) && isprint(h[3]);
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: not a FAISS flat index (IndexFlatIP or IndexFlatL2): %s%.*s%s",
		                  a->name, shown ? "its kind is \"" : "an unknown kind", shown ? 4 : 0,
		                  (const char *)h, shown ? "\"" : "");
		goto fail;
	}
	if ((rc = fidx_array_read(a, h + 4, sizeof h - 4, "the FAISS header", err)) != 0)
		goto fail;
	d = fidx_le32(h + 4);
	n = fidx_le64(h + 8);
	metric = fidx_le32(h + 33);
	count = fidx_le64(h + 37);
	if ((metric != 0 || h[3] != 'I') && (metric != 1 || h[3] != '2')) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: the FAISS header's metric (%u) does not match its kind", a->name, metric);
		goto fail;
	}
	if (d == 0 || d > (1u << 20) || n == 0 || n > UINT64_MAX / d / 4 || count != n * d) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: a FAISS header with dimension %llu, %llu vectors and %llu floats",
		                  a->name, (unsigned long long)d, (unsigned long long)n, (unsigned long long)count);
		goto fail;
	}
	a->rows = n;
	a->dim = (size_t)d;
	if ((rc = fidx_array_start(a, err)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	npy_close(a);
	return rc;
}

static void npy_describe(void *state, char *out, size_t cap)
{
	fidx_array_describe(state, out, cap);
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
	.magic = npy_magic, .open = npy_open, .next = fidx_array_next, .close = npy_close, .describe = npy_describe,
	.rows = fidx_array_rows,
};

const struct fidx_format fidx_format_faiss = {
	.name = "faiss", .title = "FAISS flat index", .suffixes = (const char *const[]){".faiss", NULL},
	.magic = faiss_magic, .open = faiss_open, .next = fidx_array_next, .close = npy_close, .describe = npy_describe,
	.rows = fidx_array_rows,
};
