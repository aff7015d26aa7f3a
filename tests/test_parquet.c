/* The Parquet reader against files written by third-party writers (DuckDB,
 * parquet-wasm, hyparquet-writer, parquetjs): tests/parquet/fixtures and
 * its manifest.json, made by tests/parquet/gen/make-fixtures.mjs. Every
 * value is recomputed here from the data set's formula and compared
 * exactly; every null, empty list and unsupported feature must give the
 * error that names it. Then damaged copies of the fixtures: every
 * truncation and many byte changes must end in an error or in rows, never
 * in a crash (ASan and UBSan run this too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "rowit.h"

/* A message with its settings named as the command line names them. */
static const char *rendered(const struct fidx_err *err)
{
	static char out[FIDX_ERR_MAX];
	fidx_err_render(err->msg, out, sizeof out, NULL);
	return out;
}

#ifndef FIDX_PARQUET_FIXTURES
#error "FIDX_PARQUET_FIXTURES must name tests/parquet/fixtures"
#endif

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long len;
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	b = malloc((size_t)len + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
	b[len] = '\0';
	fclose(f);
	*n = (size_t)len;
	return b;
}

static cJSON *manifest(void)
{
	size_t n;
	char *text = slurp(FIDX_PARQUET_FIXTURES "/manifest.json", &n);
	cJSON *m = cJSON_Parse(text);
	free(text);
	assert_non_null(m);
	return m;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsNumber(v));
	return (long)v->valuedouble;
}

/* The manifest's data sets, exactly representable in float (half's in
 * float16 too: the value of binary16 bits, computed here by arithmetic,
 * not by moving bits as the reader does). */
static double value(const char *set, long r, long c, long dim)
{
	if (strcmp(set, "low") == 0)
		return (double)((r * 37 + c * 11) % 101 - 50) / 32.0;
	if (strcmp(set, "half") == 0) {
		long i = r * dim + c, h = (i * 2477 + 11) % 0x7c00;
		double v = h < 0x400 ? ldexp((double)h, -24) : ldexp(1 + (double)(h & 0x3ff) / 1024, (int)(h >> 10) - 15);
		return i % 3 == 1 && h ? -v : v;
	}
	return (double)(r * dim + c) / 1024.0 - 7.5;
}

/* The error a fixture must end with, or NULL when it must read through;
 * *row is the row it names (0: none). */
static const char *expected_error(const cJSON *fx, char *buf, size_t cap, long *row)
{
	const cJSON *e, *nulls = cJSON_GetObjectItemCaseSensitive(fx, "nulls");
	long best = -1;

	*row = 0;
	if (str(fx, "expect_error")) {
		snprintf(buf, cap, "%s compression is not supported", str(fx, "codec"));
		return buf;
	}
	cJSON_ArrayForEach(e, nulls) {
		const char *col = str(e, "column");
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(fx, "text_column");
		long r = num(e, "row");
		if (cJSON_IsString(text) && strcmp(col, text->valuestring) == 0)
			continue; /* a null text is an empty one */
		if (best >= 0 && r >= best)
			continue;
		best = r;
		if (cJSON_GetObjectItemCaseSensitive(e, "element"))
			snprintf(buf, cap, "row %ld (row group %ld, row %ld): value %ld of the embedding (column \"%s\") is null",
			         r + 1, num(e, "row_group") + 1, num(e, "row_in_group") + 1, num(e, "element") + 1, col);
		else if (strcmp(col, "id") == 0)
			snprintf(buf, cap, "row %ld (row group %ld, row %ld): the id (column \"id\") is null", r + 1,
			         num(e, "row_group") + 1, num(e, "row_in_group") + 1);
		else if (strcmp(col, "embedding") == 0)
			snprintf(buf, cap, "row %ld (row group %ld, row %ld): the embedding (column \"embedding\") is null",
			         r + 1, num(e, "row_group") + 1, num(e, "row_in_group") + 1);
		else
			snprintf(buf, cap, "row %ld (row group %ld, row %ld): column \"%s\" is null", r + 1,
			         num(e, "row_group") + 1, num(e, "row_in_group") + 1, col);
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(fx, "empty_lists")) {
		long r = num(e, "row");
		if (best >= 0 && r >= best)
			continue;
		best = r;
		snprintf(buf, cap, "row %ld (row group %ld, row %ld): the embedding (column \"embedding\") is empty",
		         r + 1, num(e, "row_group") + 1, num(e, "row_in_group") + 1);
	}
	*row = best + 1;
	return best >= 0 ? buf : NULL;
}

static int is_null_text(const cJSON *fx, long r)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(fx, "nulls"))
		if (strcmp(str(e, "column"), "text") == 0 && num(e, "row") == r)
			return 1;
	return 0;
}

static void check_fixture(const cJSON *fx)
{
	const char *file = str(fx, "file"), *set = str(fx, "dataset"), *layout = str(fx, "layout");
	const cJSON *idc = cJSON_GetObjectItemCaseSensitive(fx, "id_column");
	const cJSON *textc = cJSON_GetObjectItemCaseSensitive(fx, "text_column");
	const cJSON *scale = cJSON_GetObjectItemCaseSensitive(fx, "int_scale");
	const cJSON *offset = cJSON_GetObjectItemCaseSensitive(fx, "int_offset");
	long rows = num(fx, "rows"), dim = num(fx, "dim"), r = 0, c, err_row;
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_reader *t;
	struct fidx_row row;
	struct fidx_err err;
	char path[512], want[512];
	const char *expect = expected_error(fx, want, sizeof want, &err_row);
	int rc;

	snprintf(path, sizeof path, "%s/%s", FIDX_PARQUET_FIXTURES, file);
	/* Named the way a user would; a wide file's dimensions are the rest. */
	o.id_column = cJSON_IsObject(idc) ? str(idc, "name") : NULL;
	o.text_column = cJSON_IsString(textc) ? textc->valuestring : NULL;
	o.embedding_column = strcmp(layout, "wide") != 0 ? "embedding" : NULL;
	memset(&err, 0, sizeof err);
	if ((rc = fidx_reader_open(&t, path, &o, &err)) != 0)
		t = NULL;
	while (t && (rc = rowit_next(t, &row, &err)) == 1) {
		char id[32], text[64];
		if (r >= rows)
			fail_msg("%s: more than %ld rows", file, rows);
		if ((size_t)dim != row.dim)
			fail_msg("%s: row %ld has %zu values, not %ld", file, r, row.dim, dim);
		if ((long)row.where != r + 1)
			fail_msg("%s: row %ld numbered %llu", file, r, (unsigned long long)row.where);
		for (c = 0; c < dim; c++) {
			double want_v = value(set, r, c, dim) * (cJSON_IsNumber(scale) ? scale->valuedouble : 1) +
			                (cJSON_IsNumber(offset) ? offset->valuedouble : 0);
			if (row.vec[c] != (float)want_v)
				fail_msg("%s: row %ld, value %ld: %.9g, not %.9g", file, r, c, row.vec[c], want_v);
		}
		if (o.id_column) {
			if (strcmp(str(idc, "type"), "string") == 0)
				snprintf(id, sizeof id, "doc-%ld", r);
			else
				snprintf(id, sizeof id, "%ld", r * 10 + 3);
			if (!row.id || strcmp(row.id, id) != 0 || row.id_len != strlen(id))
				fail_msg("%s: row %ld: id \"%s\", not \"%s\"", file, r, row.id ? row.id : "(none)", id);
		} else if (row.id) {
			fail_msg("%s: an id column was found (\"%s\")", file, row.id);
		}
		if (o.text_column) {
			snprintf(text, sizeof text, "text %ld caf\xc3\xa9", r);
			if (is_null_text(fx, r))
				text[0] = '\0';
			if (!row.text || strcmp(row.text, text) != 0 || row.text_len != strlen(text))
				fail_msg("%s: row %ld: text \"%s\", not \"%s\"", file, r, row.text ? row.text : "(none)", text);
		}
		r++;
	}
	if (expect) {
		if (rc != FIDX_EINPUT || !strstr(err.msg, expect))
			fail_msg("%s: wanted an error with \"%s\", got %d: %s", file, expect, rc, err.msg);
		if (err_row && r != err_row - 1)
			fail_msg("%s: %ld rows before the error, not %ld", file, r, err_row - 1);
	} else {
		if (rc != 0)
			fail_msg("%s: status %d: %s", file, rc, err.msg);
		if (r != rows)
			fail_msg("%s: %ld rows, not %ld", file, r, rows);
	}
	rowit_close(t);
}

/* Every fixture, with exact values, ids, texts and errors. */
static void test_fixtures(void **state)
{
	cJSON *m = manifest(), *fx;
	int n = 0, writers[8] = {0};
	const char *names[] = {"duckdb", "parquet-wasm", "hyparquet-writer", "parquetjs"};
	size_t i;
	(void)state;
	cJSON_ArrayForEach(fx, cJSON_GetObjectItemCaseSensitive(m, "fixtures")) {
		check_fixture(fx);
		for (i = 0; i < 4; i++)
			if (strcmp(str(fx, "writer"), names[i]) == 0)
				writers[i]++;
		n++;
	}
	/* The matrix is really there: dozens of files, from each writer. */
	assert_true(n >= 60);
	for (i = 0; i < 3; i++)
		assert_true(writers[i] >= 10);
	cJSON_Delete(m);
}

/* Reads a damaged copy through the table API: it must end in rows or an
 * input error, never anything else. */
static void read_damaged(const char *name, const unsigned char *b, size_t n, const char *emb)
{
	struct fidx_reader_opts o = {NULL, NULL, emb, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_source *src;
	struct fidx_reader *t;
	struct fidx_row row;
	struct fidx_err err;
	int rc;
	assert_int_equal(fidx_source_open_mem(&src, name, b, n, &err), 0);
	if ((rc = fidx_reader_open_source(&t, src, &o, &err)) == 0) {
		while ((rc = rowit_next(t, &row, &err)) == 1)
			;
		rowit_close(t);
	}
	if (rc != 0 && rc != FIDX_EINPUT)
		fail_msg("%s: status %d: %s", name, rc, err.msg);
	if (rc == FIDX_EINPUT && !strstr(err.msg, "x.parquet: "))
		fail_msg("%s: the message does not name the file: %s", name, err.msg);
}

static void damage(const char *file, const char *emb)
{
	char path[512];
	size_t n, i, k;
	unsigned char *b, *copy;
	uint32_t seed = 12345;

	snprintf(path, sizeof path, "%s/%s", FIDX_PARQUET_FIXTURES, file);
	b = (unsigned char *)slurp(path, &n);
	copy = malloc(n);
	assert_non_null(copy);
	for (i = 0; i <= n; i++) /* every truncation, at the front and at the back */
		read_damaged("x.parquet", b, i, emb), read_damaged("x.parquet", b + n - i, i, emb);
	for (i = 0; i < n; i++) { /* every byte, changed three ways */
		static const unsigned char ch[] = {0xff, 0x01, 0x80};
		for (k = 0; k < 3; k++) {
			memcpy(copy, b, n);
			copy[i] ^= ch[k];
			read_damaged("x.parquet", copy, n, emb);
		}
	}
	for (i = 0; i < 3000; i++) { /* and a few bytes at once, at random */
		memcpy(copy, b, n);
		for (k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			copy[(seed >> 8) % n] = (unsigned char)(seed >> 3);
		}
		read_damaged("x.parquet", copy, n, emb);
	}
	free(copy);
	free(b);
}

static void test_damaged(void **state)
{
	(void)state;
	damage("duckdb-list3-float-snappy-v1-low-intid.parquet", "embedding");
	damage("duckdb-list3-float-gzip-v2-high.parquet", NULL);
	damage("duckdb-wide-int64-zstd-v2-high.parquet", NULL);
	damage("hyparquet-list3-double-snappy-pv2-high-bss.parquet", "embedding");
	damage("pqwasm-list3-double-zstd-pv2-high-bss.parquet", NULL);
	damage("pqwasm-wide-float16-zstd-pv2-low.parquet", NULL);
	damage("hyparquet-list3-float16-zstd-pv2-half-bss.parquet", "embedding");
	damage("pqwasm-list3-float16-zstd-pv2-half-nodict.parquet", "embedding");
}

/* Hand-made damage with a known message. */
static void expect_open_error(const unsigned char *b, size_t n, const char *want)
{
	struct fidx_source *src;
	struct fidx_reader *r;
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_err err;
	o.format = fidx_format_find(NULL, "parquet");
	assert_int_equal(fidx_source_open_mem(&src, "x.parquet", b, n, &err), 0);
	assert_int_equal(fidx_reader_open_source(&r, src, &o, &err), FIDX_EINPUT);
	if (!strstr(err.msg, want))
		fail_msg("wanted \"%s\", got: %s", want, err.msg);
}

static void test_bad_files(void **state)
{
	char path[512];
	size_t n;
	unsigned char *b;
	(void)state;
	expect_open_error((const unsigned char *)"PAR1", 4, "not a Parquet file (4 bytes)");
	expect_open_error((const unsigned char *)"PAR2\0\0\0\0\0\0\0\0PAR1", 16, "does not start with PAR1");
	expect_open_error((const unsigned char *)"PAR1\0\0\0\0\0\0\0\0PARE", 16, "encrypted");
	expect_open_error((const unsigned char *)"PAR1\0\0\0\0\0\0\0\0PAR2", 16, "does not end with PAR1");
	expect_open_error((const unsigned char *)"PAR1\0\0\0\0\xff\0\0\0PAR1", 16,
	                  "damaged Parquet footer (its length is more than the file)");
	expect_open_error((const unsigned char *)"PAR1\0\0\0\0\0\0\0\0PAR1", 16, "damaged Parquet footer");
	snprintf(path, sizeof path, "%s/%s", FIDX_PARQUET_FIXTURES, "duckdb-list3-float-snappy-v1-low-intid.parquet");
	b = (unsigned char *)slurp(path, &n);
	/* A footer cut short: its length says more than the bytes before it. */
	b[n - 8] = 0xff, b[n - 7] = 0xff;
	expect_open_error(b, n, "its length is more than the file");
	free(b);
}

/* Column choices: named columns that are not there, or not of the kind
 * an option needs, are errors listing what there is. */
static void test_columns(void **state)
{
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_reader *t;
	struct fidx_row row = {0};
	struct fidx_err err;
	const char *list = FIDX_PARQUET_FIXTURES "/duckdb-list3-float-snappy-v1-low.parquet";
	const char *wide = FIDX_PARQUET_FIXTURES "/duckdb-wide-float-snappy-v1-low.parquet";
	(void)state;

	/* Nothing named: the list column, and id and text by their names. */
	assert_int_equal(fidx_reader_open(&t, list, &o, &err), 0);
	assert_int_equal(rowit_next(t, &row, &err), 1);
	assert_int_equal(row.dim, 8);
	assert_string_equal(row.id, "doc-0");
	assert_string_equal(row.text, "text 0 caf\xc3\xa9");
	rowit_close(t);
	o.embedding_column = "nosuch";
	assert_int_equal(fidx_reader_open(&t, list, &o, &err), FIDX_EINPUT);
	assert_non_null(strstr(rendered(&err), "no column named \"nosuch\" (given to --embedding-column); it has \"id\", \"text\", \"embedding\""));
	o.embedding_column = "text";
	assert_int_equal(fidx_reader_open(&t, list, &o, &err), FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "the embedding column is also the id or text column"));
	o.embedding_column = NULL;
	o.id_column = "embedding";
	assert_int_equal(fidx_reader_open(&t, list, &o, &err), FIDX_EINPUT);
	assert_non_null(strstr(rendered(&err), "column \"embedding\" (given to --id-column) is not a string or integer column"));
	/* Wide: every numeric column is a dimension. */
	o.id_column = NULL;
	o.embedding_column = "3";
	assert_int_equal(fidx_reader_open(&t, wide, &o, &err), FIDX_EINPUT);
	assert_non_null(strstr(rendered(&err), "is not a list of numbers (without --embedding-column, every numeric column is a dimension)"));
	o.embedding_column = NULL;
	o.text_column = "id";
	o.id_column = "text";
	assert_int_equal(fidx_reader_open(&t, wide, &o, &err), 0);
	assert_int_equal(rowit_next(t, &row, &err), 1);
	assert_int_equal(row.dim, 8);
	assert_string_equal(row.id, "text 0 caf\xc3\xa9");
	rowit_close(t);
}

/* tests/parquet/hostile: files made by hand (make.py there) to reach one
 * check each. */
static int read_hostile(const char *file, const char *id_column, struct fidx_row *first, size_t *rows,
                        struct fidx_err *err)
{
	struct fidx_reader_opts o = {id_column, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_reader *t;
	struct fidx_row row;
	static float vec[8];
	static char id[32];
	char path[512];
	int rc;
	snprintf(path, sizeof path, "%s/../hostile/%s", FIDX_PARQUET_FIXTURES, file);
	*rows = 0;
	memset(err, 0, sizeof *err);
	if ((rc = fidx_reader_open(&t, path, &o, err)) != 0)
		return rc;
	while ((rc = rowit_next(t, &row, err)) == 1) {
		if (!(*rows)++) {
			*first = row;
			memcpy(vec, row.vec, (row.dim < 8 ? row.dim : 8) * sizeof *vec);
			first->vec = vec;
			if (row.id)
				first->id = strncpy(id, row.id, sizeof id - 1);
		}
	}
	rowit_close(t);
	return rc;
}

static void expect_hostile(const char *file, const char *want)
{
	struct fidx_row row;
	struct fidx_err err;
	size_t rows;
	int rc = read_hostile(file, NULL, &row, &rows, &err);
	if (rc != FIDX_EINPUT || !strstr(err.msg, want))
		fail_msg("%s: wanted \"%s\", got %d: %s", file, want, rc, err.msg);
}

static void test_hostile(void **state)
{
	struct fidx_row row;
	struct fidx_err err;
	size_t rows;
	(void)state;
	/* Refused from its header, not after decoding 2^62 lengths. */
	expect_hostile("delta-count.parquet", "column \"text\", row group 1, page at byte 25: damaged "
	               "DELTA_LENGTH_BYTE_ARRAY lengths");
	/* Stopped at 2^20 values, not grown to 2^26. */
	expect_hostile("long-list.parquet", "row 1 (row group 1, row 1): the embedding has more than 1048576 values");
	expect_hostile("field-id.parquet", "damaged Parquet footer (a field has the wrong type or is too deep)");
	/* Refused before 64 MiB is decompressed for it. */
	expect_hostile("zstd-bomb.parquet", "column \"c0\", row group 1, page at byte 4: 67108864 bytes for 1 "
	               "values of 4 bytes");
	/* Read as they are. */
	assert_int_equal(read_hostile("converted.parquet", NULL, &row, &rows, &err), 0);
	assert_int_equal(rows, 3);
	assert_true(row.vec[0] == 1.0f);
	assert_int_equal(read_hostile("v2-null-page.parquet", NULL, &row, &rows, &err), 0);
	assert_int_equal(rows, 1);
	assert_int_equal(row.text_len, 0);
	assert_int_equal(read_hostile("uint32.parquet", "id", &row, &rows, &err), 0);
	assert_int_equal(rows, 1);
	assert_string_equal(row.id, "3000000000");
	assert_true(row.vec[0] == 7.0f);
	/* parquet-rs 0.3's footer row count of 0: the row group's 3 rows, and
	 * a note saying so; none for a file that is right. */
	assert_int_equal(read_hostile("zero-rows.parquet", NULL, &row, &rows, &err), 0);
	assert_int_equal(rows, 3);
	assert_true(row.vec[0] == 1.0f);
	{
		struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
		struct fidx_reader *t;
		assert_int_equal(fidx_reader_open(&t, FIDX_PARQUET_FIXTURES "/../hostile/zero-rows.parquet", &o, &err), 0);
		assert_non_null(fidx_reader_note(t));
		assert_non_null(strstr(fidx_reader_note(t), "zero-rows.parquet: the Parquet footer says 0 rows, its row "
		                                            "groups hold 3: read by the row groups"));
		fidx_reader_close(t);
		assert_int_equal(fidx_reader_open(&t, FIDX_PARQUET_FIXTURES "/../hostile/ok.parquet", &o, &err), 0);
		assert_null(fidx_reader_note(t));
		fidx_reader_close(t);
	}
	expect_hostile("two-rows.parquet", "damaged Parquet footer (the row groups hold 3 rows, the file 2)");
	/* FLOAT16: a NaN or an infinity names its row and column. */
	expect_hostile("half-nan.parquet", "half-nan.parquet: row 2 (row group 1, row 2): column \"b\": nan is not a finite float");
	expect_hostile("half-list-inf.parquet", "row 1 (row group 1, row 1): column \"embedding\": -inf is not a finite float");
	/* Page checksums: a v2 page's covers its levels and compressed values. */
	assert_int_equal(read_hostile("crc-ok.parquet", NULL, &row, &rows, &err), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(row.text_len, 2); /* "hi" */
	expect_hostile("crc-bad.parquet", "crc-bad.parquet: column \"text\", row group 1, page at byte 35: checksum "
	               "mismatch: the page's bytes give CRC-32 6c968dba, its header says 6c968dbb (the file is damaged)");
}

/* Reads file of $FIDX_PARQUET_TESTING (apache/parquet-testing's data/ folder) whole: its status, its rows
 * (at most cap of their first values into v) and the error. */
static int read_upstream(const char *file, const char *text, float *v, size_t cap, size_t *rows,
                         struct fidx_err *err)
{
	struct fidx_reader_opts o = {NULL, text, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_reader *t;
	struct fidx_row row;
	char path[512];
	int rc;
	snprintf(path, sizeof path, "%s/%s", getenv("FIDX_PARQUET_TESTING"), file);
	*rows = 0;
	memset(err, 0, sizeof *err);
	if ((rc = fidx_reader_open(&t, path, &o, err)) != 0)
		return rc;
	while ((rc = rowit_next(t, &row, err)) == 1) {
		if ((*rows + 1) * row.dim <= cap)
			memcpy(v + *rows * row.dim, row.vec, row.dim * sizeof *v);
		++*rows;
	}
	rowit_close(t);
	return rc;
}

/* apache/parquet-testing's files from other writers: parquet-java's page
 * checksums, right and wrong, and pyarrow's FLOAT16 columns. They are not
 * part of fidx's tree: skipped unless FIDX_PARQUET_TESTING names a checkout
 * of that repository's data/ folder (docs/parquet.md lists their SHA-256). */
static void test_upstream(void **state)
{
	static float a[5120 * 2], b[5120 * 2];
	struct fidx_err err;
	size_t n, m;
	const char *dir = getenv("FIDX_PARQUET_TESTING");
	(void)state;
	if (!dir || !*dir) {
		skip();
		return;
	}
	/* Right checksums, compressed or not: the same rows. */
	assert_int_equal(read_upstream("datapage_v1-uncompressed-checksum.parquet", NULL, a, 5120 * 2, &n, &err), 0);
	assert_int_equal(read_upstream("datapage_v1-snappy-compressed-checksum.parquet", NULL, b, 5120 * 2, &m, &err), 0);
	assert_int_equal(n, 5120);
	assert_int_equal(m, 5120);
	assert_memory_equal(a, b, sizeof a);
	assert_int_equal(read_upstream("plain-dict-uncompressed-checksum.parquet", "binary_field", a, 0, &n, &err), 0);
	assert_int_equal(read_upstream("rle-dict-snappy-checksum.parquet", "binary_field", a, 0, &m, &err), 0);
	assert_true(n > 0 && n == m);
	/* Wrong ones: the damage is named before any row of the page. */
	assert_int_equal(read_upstream("datapage_v1-corrupt-checksum.parquet", NULL, a, 0, &n, &err), FIDX_EINPUT);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.msg, "datapage_v1-corrupt-checksum.parquet: column \"a\", row group 1, page at byte 4: "
	                                "checksum mismatch: the page's bytes give CRC-32 0f4f6d0a, its header says "
	                                "bbce3b9d (the file is damaged)"));
	assert_int_equal(read_upstream("rle-dict-uncompressed-corrupt-checksum.parquet", "binary_field", a, 0, &n, &err),
	                 FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "column \"long_field\", row group 1, page at byte 4: checksum mismatch"));
	/* FLOAT16: the first row is null. */
	assert_int_equal(read_upstream("float16_nonzeros_and_nans.parquet", NULL, a, 0, &n, &err), FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "row 1 (row group 1, row 1): column \"x\" is null"));
	assert_int_equal(read_upstream("float16_zeros_and_nans.parquet", NULL, a, 0, &n, &err), FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "row 1 (row group 1, row 1): column \"x\" is null"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_upstream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
