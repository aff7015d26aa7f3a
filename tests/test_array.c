/* Binary numbers as embedding files store them (io/readers/array.h), read
 * through numpy .npy and safetensors files made here in memory: every
 * finite float16 and bfloat16 value, subnormals included, every int8,
 * uint8, int16 and uint16, and float64 rounded, each compared bit for bit
 * with a reference computed here by arithmetic (ldexp), not by moving bits
 * as the reader does. Then the safetensors header's checks, one message
 * each, and the choice of the tensor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "rowit.h"

/* A message with its settings named as the command line names them. */
static const char *rendered(const struct fidx_err *err)
{
	static char out[FIDX_ERR_MAX];
	fidx_err_render(err->msg, out, sizeof out, NULL);
	return out;
}

/* ---- references ---- */

static float ref_half(unsigned h)
{
	int e = (int)(h >> 10) & 31;
	unsigned m = h & 1023;
	double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
	return (float)(h & 0x8000 ? -v : v);
}

static float ref_bf16(unsigned h)
{
	int e = (int)(h >> 7) & 255;
	unsigned m = h & 127;
	double v = e ? ldexp(128 + m, e - 134) : ldexp(m, -133);
	return (float)(h & 0x8000 ? -v : v);
}

/* ---- files ---- */

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		assert_non_null(b->p = realloc(b->p, b->cap));
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* A .npy file (version 1) of the given descr and shape around data. */
static struct buf npy(const char *descr, int fortran, size_t rows, size_t dim, const void *data, size_t n)
{
	struct buf b = {0};
	char h[256];
	int len = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': %s, 'shape': (%zu, %zu), }", descr,
	                   fortran ? "True" : "False", rows, dim);
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
	while ((len + 11) % 64)
		h[len++] = ' ';
	h[len++] = '\n';
	pre[8] = (unsigned char)len;
	pre[9] = (unsigned char)(len >> 8);
	put(&b, pre, 10);
	put(&b, h, (size_t)len);
	put(&b, data, n);
	return b;
}

/* A safetensors file: the header as given (its length first), then data. */
static struct buf st(const char *json, const void *data, size_t n)
{
	struct buf b = {0};
	unsigned char len[8];
	fidx_put_le64(len, strlen(json));
	put(&b, len, 8);
	put(&b, json, strlen(json));
	put(&b, data, n);
	return b;
}

/* The header of one tensor "emb" of a dtype and shape, at offset 0. */
static struct buf st1(const char *dtype, size_t rows, size_t dim, size_t size, const void *data)
{
	char json[256];
	snprintf(json, sizeof json, "{\"__metadata__\":{\"format\":\"pt\"},\"emb\":{\"dtype\":\"%s\",\"shape\":[%zu,%zu],"
	         "\"data_offsets\":[0,%zu]}}", dtype, rows, dim, rows * dim * size);
	return st(json, data, rows * dim * size);
}

/* Reads every row of b: the status, the values (into *out, malloc'd), and
 * the rows' dimension. */
static int read_all(const char *name, const struct buf *b, const char *emb, float **out, size_t *rows,
                    size_t *dim, struct fidx_err *err)
{
	struct fidx_reader_opts o = {NULL, NULL, emb, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_source *src;
	struct fidx_reader *r;
	struct fidx_row row;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*rows = *dim = 0;
	memset(err, 0, sizeof *err);
	assert_int_equal(fidx_source_open_mem(&src, name, b->p, b->n, err), 0);
	if ((rc = fidx_reader_open_source(&r, src, &o, err)) != 0)
		return rc;
	while ((rc = rowit_next(r, &row, err)) == 1) {
		if ((*rows + 1) * row.dim > cap) {
			cap = (*rows + 1) * row.dim * 2;
			assert_non_null(*out = realloc(*out, cap * sizeof **out));
		}
		memcpy(*out + *rows * row.dim, row.vec, row.dim * sizeof **out);
		*dim = row.dim;
		++*rows;
	}
	rowit_close(r);
	return rc;
}

/* Reads b and compares its values with want[0..n), bit for bit. */
static void expect_values(const char *name, const struct buf *b, const float *want, size_t n, size_t dim)
{
	struct fidx_err err;
	float *got;
	size_t rows, d, i;
	int rc = read_all(name, b, NULL, &got, &rows, &d, &err);
	if (rc)
		fail_msg("%s: %d: %s", name, rc, err.msg);
	assert_int_equal(d, dim);
	assert_int_equal(rows * d, n);
	for (i = 0; i < n; i++)
		if (memcmp(&got[i], &want[i], sizeof *got) != 0)
			fail_msg("%s: value %zu: %a, not %a", name, i, got[i], want[i]);
	free(got);
}

static void expect_error(const char *name, const struct buf *b, const char *emb, const char *want)
{
	struct fidx_err err;
	float *got;
	size_t rows, d;
	int rc = read_all(name, b, emb, &got, &rows, &d, &err);
	free(got);
	if (rc != FIDX_EINPUT || !strstr(rendered(&err), want))
		fail_msg("%s: wanted \"%s\", got %d: %s", name, want, rc, rendered(&err));
}

/* ---- values ---- */

#define DIM 64

/* Every finite half (or bfloat16) bit pattern, as little- and big-endian
 * bytes, with its reference value. Returns the count (a multiple of DIM). */
static size_t finite16(int bf, unsigned char *le, unsigned char *be, float *want)
{
	unsigned h;
	size_t n = 0;
	for (h = 0; h < 0x10000; h++) {
		unsigned exp = bf ? (h >> 7) & 255 : (h >> 10) & 31;
		if (exp == (bf ? 255u : 31u))
			continue;
		le[2 * n] = be[2 * n + 1] = (unsigned char)h;
		le[2 * n + 1] = be[2 * n] = (unsigned char)(h >> 8);
		want[n++] = bf ? ref_bf16(h) : ref_half(h);
	}
	return n - n % DIM;
}

static void test_half(void **state)
{
	static unsigned char le[2 << 16], be[2 << 16], fo[2 << 16];
	static float want[1 << 16];
	size_t n = finite16(0, le, be, want), rows = n / DIM, i, j;
	struct buf b;
	(void)state;
	assert_int_equal(n, 63488); /* 2 * 31 * 1024 */
	b = npy("<f2", 0, rows, DIM, le, 2 * n);
	expect_values("h.npy", &b, want, n, DIM);
	free(b.p);
	b = npy(">f2", 0, rows, DIM, be, 2 * n);
	expect_values("h.npy", &b, want, n, DIM);
	free(b.p);
	for (i = 0; i < rows; i++) /* column after column */
		for (j = 0; j < DIM; j++)
			memcpy(fo + 2 * (j * rows + i), le + 2 * (i * DIM + j), 2);
	b = npy("<f2", 1, rows, DIM, fo, 2 * n);
	expect_values("h.npy", &b, want, n, DIM);
	free(b.p);
	b = st1("F16", rows, DIM, 2, le);
	expect_values("h.safetensors", &b, want, n, DIM);
	free(b.p);
}

static void test_bfloat16(void **state)
{
	static unsigned char le[2 << 16], be[2 << 16];
	static float want[1 << 16];
	size_t n = finite16(1, le, be, want);
	struct buf b;
	(void)state;
	assert_int_equal(n, 65280); /* 2 * 255 * 128 */
	b = st1("BF16", n / DIM, DIM, 2, le);
	expect_values("b.safetensors", &b, want, n, DIM);
	free(b.p);
}

static void test_integers(void **state)
{
	static unsigned char le[2 << 16], be[2 << 16];
	static float want[1 << 16];
	static const struct {
		const char *npy, *st;
		int size, sign;
	} types[] = {{"|i1", "I8", 1, 1}, {"|u1", "U8", 1, 0}, {"<i2", "I16", 2, 1}, {"<u2", "U16", 2, 0}};
	size_t t, i;
	(void)state;
	for (t = 0; t < 4; t++) {
		size_t n = (size_t)1 << (8 * types[t].size);
		struct buf b;
		char bename[8];
		for (i = 0; i < n; i++) {
			le[types[t].size * i] = (unsigned char)i;
			if (types[t].size == 2) {
				le[2 * i + 1] = (unsigned char)(i >> 8);
				be[2 * i] = (unsigned char)(i >> 8);
				be[2 * i + 1] = (unsigned char)i;
			}
			/* two's complement, by arithmetic */
			want[i] = (float)(types[t].sign && i >= n / 2 ? (double)i - (double)n : (double)i);
		}
		b = npy(types[t].npy, 0, n / 16, 16, le, n * types[t].size);
		expect_values("i.npy", &b, want, n, 16);
		free(b.p);
		b = st1(types[t].st, n / 16, 16, (size_t)types[t].size, le);
		expect_values("i.safetensors", &b, want, n, 16);
		free(b.p);
		if (types[t].size == 2) {
			snprintf(bename, sizeof bename, ">%s", types[t].npy + 1);
			b = npy(bename, 0, n / 16, 16, be, n * 2);
			expect_values("i.npy", &b, want, n, 16);
			free(b.p);
		}
	}
}

static void test_wide_floats(void **state)
{
	static const double d[8] = {0.1, -1e-40, 3.4028234663852886e38, 1.0 / 3, -0.0, 1e-46, 65504, 2.5};
	float want[8], f[8];
	unsigned char le[64];
	struct buf b;
	size_t i;
	(void)state;
	for (i = 0; i < 8; i++) {
		want[i] = (float)d[i];
		f[i] = want[i];
		fidx_put_le64(le + 8 * i, 0);
		memcpy(le + 8 * i, &d[i], 8); /* the machine is little-endian here */
	}
	b = st1("F64", 2, 4, 8, le);
	expect_values("d.safetensors", &b, want, 8, 4);
	free(b.p);
	b = st1("F32", 2, 4, 4, f);
	expect_values("f.safetensors", &b, want, 8, 4);
	free(b.p);
}

/* NaN and infinity: the row and the column, as for float32. */
static void test_not_finite(void **state)
{
	unsigned char h[8] = {0, 0x3c, 0, 0x3c, 0, 0x3c, 0x00, 0x7e}; /* 1, 1, 1, NaN */
	unsigned char bf[8] = {0x80, 0x3f, 0x80, 0xff, 0, 0, 0, 0};  /* 1, -inf, 0, 0 */
	struct buf b;
	(void)state;
	b = npy("<f2", 0, 2, 2, h, 8);
	expect_error("h.npy", &b, NULL, "h.npy: row 2, column 2: not a finite number");
	free(b.p);
	b = st1("F16", 2, 2, 2, h);
	expect_error("h.safetensors", &b, NULL, "h.safetensors: row 2, column 2: not a finite number");
	free(b.p);
	b = st1("BF16", 1, 4, 2, bf);
	expect_error("b.safetensors", &b, NULL, "b.safetensors: row 1, column 2: not a finite number");
	free(b.p);
	/* float32 as stored here, read in place: each of NaN, +inf and -inf,
	 * in the first row, a middle one and the last. */
	{
		static const uint32_t bad[] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f800001u};
		float f32[300 * 3];
		size_t k, i;
		for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
			static const size_t at[] = {0, 3 * 150 + 1, 3 * 299 + 2};
			for (i = 0; i < 3; i++) {
				char want[64];
				size_t j;
				for (j = 0; j < 300 * 3; j++)
					f32[j] = (float)j;
				memcpy(&f32[at[i]], &bad[k], 4);
				snprintf(want, sizeof want, "f.npy: row %zu, column %zu: not a finite number", at[i] / 3 + 1,
				         at[i] % 3 + 1);
				b = npy("<f4", 0, 300, 3, f32, sizeof f32);
				expect_error("f.npy", &b, NULL, want);
				free(b.p);
			}
		}
	}
}

/* A shape the file does not have: an error once the bytes run out, with
 * no more allocated than they fill (ASan would stop a 2^50-byte malloc). */
static void test_lying_shape(void **state)
{
	struct buf b;
	(void)state;
	b = npy("<i2", 1, (size_t)1 << 48, 4, "\1\0\2\0\3\0\4\0", 8);
	expect_error("f.npy", &b, NULL, "f.npy: the file ends inside the Fortran-order array (truncated)");
	free(b.p);
	b = npy("<f2", 0, (size_t)1 << 48, 4, "\0\x3c\0\x3c\0\x3c\0\x3c", 8);
	expect_error("c.npy", &b, NULL, "c.npy: the file ends in row 2 of the 281474976710656 the header gives (truncated)");
	free(b.p);
}

/* ---- safetensors ---- */

static const float rows2[6] = {1, 2, 3, 4, 5, 6};

/* The tensor read: named, or the only 2-D one; the others skipped, before
 * and after it. */
static void test_st_choice(void **state)
{
	unsigned char data[8 + 24 + 6];
	float *got;
	size_t rows, dim;
	struct fidx_err err;
	struct buf b;
	(void)state;
	memset(data, 7, 8);
	memcpy(data + 8, rows2, 24);
	memset(data + 32, 9, 6);
	b = st("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
	       "\"emb\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
	       "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[6],\"data_offsets\":[32,38]}}   ", data, sizeof data);
	assert_int_equal(read_all("x.safetensors", &b, NULL, &got, &rows, &dim, &err), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(dim, 3);
	assert_memory_equal(got, rows2, sizeof rows2);
	free(got);
	assert_int_equal(read_all("x.safetensors", &b, "emb", &got, &rows, &dim, &err), 0);
	assert_int_equal(rows, 2);
	free(got);
	expect_error("x.safetensors", &b, "mask", "x.safetensors: tensor \"mask\" is not 2-D (rows, dimension): its shape has 1 dimension");
	expect_error("x.safetensors", &b, "nope", "x.safetensors: no tensor named \"nope\" (given to --embedding-column); "
	             "it has \"ids\", \"emb\", \"mask\"");
	/* Cut short in the tensors after the one read, or longer than they are. */
	b.n--;
	expect_error("x.safetensors", &b, NULL, "x.safetensors: the file ends inside the tensors after the one read (truncated)");
	b.n += 2;
	b.p[b.n - 1] = 0;
	expect_error("x.safetensors", &b, NULL, "x.safetensors: bytes after the last of the 2 rows the header gives");
	free(b.p);

	b = st("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[0,12]},"
	       "\"b\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[12,24]}}", rows2, 24);
	expect_error("x.safetensors", &b, NULL, "x.safetensors: several 2-D tensors (\"a\", \"b\"): choose the "
	             "embedding with --embedding-column");
	free(b.p);
	b = st("{\"a\":{\"dtype\":\"I64\",\"shape\":[3,1],\"data_offsets\":[0,24]}}", rows2, 24);
	expect_error("x.safetensors", &b, NULL, "x.safetensors: tensor \"a\" holds I64, not a type fidx reads (F16, "
	             "BF16, F32, F64, I8, U8, I16 or U16)");
	free(b.p);
	b = st("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}", rows2, 24);
	expect_error("x.safetensors", &b, NULL, "x.safetensors: no 2-D tensor (rows, dimension) to read; it has \"a\"");
	free(b.p);
	b = st("{\"__metadata__\":{}}", NULL, 0);
	expect_error("x.safetensors", &b, NULL, "x.safetensors: the safetensors file holds no tensors");
	free(b.p);
	b = st("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}", NULL, 0);
	expect_error("x.safetensors", &b, NULL, "x.safetensors: no rows");
	free(b.p);
	/* No ids or texts in a file of tensors. */
	{
		struct fidx_reader_opts o = {"id", NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
		struct fidx_source *src;
		struct fidx_reader *r;
		b = st1("F32", 2, 3, 4, rows2);
		assert_int_equal(fidx_source_open_mem(&src, "x.safetensors", b.p, b.n, &err), 0);
		assert_int_equal(fidx_reader_open_source(&r, src, &o, &err), FIDX_EINPUT);
		assert_string_equal(rendered(&err), "x.safetensors holds only tensors: it has no ids or texts for --id-column "
		                             "or --text-column");
		free(b.p);
	}
}

/* Every check of the header, with its message. */
static void test_st_header(void **state)
{
	static const struct {
		const char *json, *want;
	} bad[] = {
		{"[1]", "it does not start with '{'"},
		{"{\"a\":", "not JSON at byte 4"},
		{"{} x", "bytes after the JSON object that are not white space"},
		{"{}\x01", "bytes after the JSON object that are not white space"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3]}}", "tensor \"a\": no dtype, shape or data_offsets"},
		{"{\"a\":{\"dtype\":\"F33\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", "tensor \"a\": an unknown dtype"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,24]}}", "tensor \"a\": a shape that is not a list of sizes"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3.5],\"data_offsets\":[0,24]}}", "tensor \"a\": a shape that is not a list of sizes"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0]}}", "tensor \"a\": data_offsets that are not [begin, end]"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[24,0]}}", "tensor \"a\": data_offsets that are not [begin, end]"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}",
		 "tensor \"a\": a shape that does not match the tensor's bytes"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,24]}}",
		 "tensor \"a\": a shape too large for any file"},
		{"{\"a\":{\"dtype\":\"F4\",\"shape\":[3,1],\"data_offsets\":[0,1]}}",
		 "tensor \"a\": a shape that does not match the tensor's bytes"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[0,12]},"
		 "\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[12,24]}}", "tensor \"a\" is given twice"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[0,12]},"
		 "\"b\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[16,24]}}",
		 "tensor \"b\": bytes before it that no tensor covers"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[0,12]},"
		 "\"b\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[8,20]}}", "tensor \"b\": its bytes overlap another's"},
		{"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[4,16]}}",
		 "tensor \"a\": bytes before it that no tensor covers"},
		{"{\"__metadata__\":[1]}", "__metadata__ is not an object"},
		{"{\"__metadata__\":{\"k\":1}}", "__metadata__ \"k\" is not a string"},
		{"{\"a\xff\":{}}", "not UTF-8 at byte 3"},
	};
	struct buf b;
	size_t i;
	char want[256];
	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		b = st(bad[i].json, rows2, 24);
		snprintf(want, sizeof want, "x.safetensors: damaged safetensors header (%s", bad[i].want);
		expect_error("x.safetensors", &b, NULL, want);
		free(b.p);
	}
	/* Values beyond what fidx parses (a string's commas do not count). */
	{
		size_t k, n = 0;
		char *json = malloc(3u << 20);
		assert_non_null(json);
		n += (size_t)sprintf(json, "{\"a,,,,\\\",,,,,\":[");
		for (k = 0; k < (1u << 20) - 4; k++)
			json[n++] = '0', json[n++] = ',';
		strcpy(json + n, "0]}");
		b = st(json, NULL, 0);
		expect_error("x.safetensors", &b, NULL, "tensor \"a,,,,\\\",,,,,\": no dtype, shape or data_offsets");
		free(b.p);
		strcpy(json + n, "0,0]}");
		b = st(json, NULL, 0);
		expect_error("x.safetensors", &b, NULL, "damaged safetensors header (more than 1048576 JSON values)");
		free(b.p);
		free(json);
	}
	/* A NUL, and lengths the file cannot have or the format forbids. */
	b = st("{\"a\":1}", rows2, 24);
	b.p[10] = 0;
	expect_error("x.safetensors", &b, NULL, "damaged safetensors header (a NUL byte at byte 2)");
	fidx_put_le64(b.p, 1000);
	expect_error("x.safetensors", &b, NULL, "x.safetensors: the file ends inside the safetensors header (truncated)");
	fidx_put_le64(b.p, 100000001);
	expect_error("x.safetensors", &b, "a", "x.safetensors: a safetensors header of 100000001 bytes (2 to 100000000 "
	             "are possible)");
	free(b.p);
}

/* Told from other files by its first bytes, whatever its name. */
static void test_st_detect(void **state)
{
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_source *src;
	struct fidx_reader *r;
	struct fidx_err err;
	char desc[256];
	struct buf b = st1("F16", 1, 2, 2, "\0\x3c\0\x3c");
	(void)state;
	assert_int_equal(fidx_source_open_mem(&src, "data.bin", b.p, b.n, &err), 0);
	assert_int_equal(fidx_reader_open_source(&r, src, &o, &err), 0);
	assert_string_equal(fidx_reader_format(r)->name, "safetensors");
	fidx_reader_describe(r, desc, sizeof desc);
	assert_string_equal(desc, "safetensors: tensor \"emb\", 1 x 2 F16");
	fidx_reader_close(r);
	free(b.p);
	b = npy("|u1", 0, 3, 2, "\1\2\3\4\5\6", 6);
	assert_int_equal(fidx_source_open_mem(&src, "data.bin", b.p, b.n, &err), 0);
	assert_int_equal(fidx_reader_open_source(&r, src, &o, &err), 0);
	fidx_reader_describe(r, desc, sizeof desc);
	assert_string_equal(desc, "numpy .npy: 3 x 2 uint8");
	fidx_reader_close(r);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half),       cmocka_unit_test(test_bfloat16),  cmocka_unit_test(test_integers),
		cmocka_unit_test(test_wide_floats), cmocka_unit_test(test_not_finite), cmocka_unit_test(test_lying_shape),
		cmocka_unit_test(test_st_choice),
		cmocka_unit_test(test_st_header),  cmocka_unit_test(test_st_detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
