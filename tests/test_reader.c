/* io/readers/reader.h: the registry and format detection, shown with a toy
 * format added from here: one reader written below and one line in a
 * registry, and fidx builds an index from its files (by their bytes, whatever
 * their name), lists it in --format's names, and refuses what it does not
 * read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "index.h"
#include "ingest.h"
#include "reader.h"

/* ---- the toy format: "TOY1", a u32 dimension, then rows of floats ---- */

struct toy {
	struct fidx_source *src;
	uint32_t dim;
	uint64_t row;
	float vec[FIDX_ROWS_MAX * 4];
	uint64_t where[FIDX_ROWS_MAX];
};

static int toy_magic(const unsigned char *b, size_t n)
{
	return n >= 4 && memcmp(b, "TOY1", 4) == 0;
}

static int toy_open(void **state, struct fidx_source *src, const struct fidx_reader_opts *o,
                    struct fidx_err *err)
{
	struct toy *t = calloc(1, sizeof *t);
	unsigned char head[8];
	(void)o;
	if (!t)
		return fidx_err_nomem(err);
	t->src = src;
	if (fidx_source_read(src, head, 8, err) != 8 || (t->dim = fidx_le32(head + 4)) == 0 || t->dim > 4) {
		free(t);
		return fidx_err_set(err, FIDX_EINPUT, "%s: not a toy file", fidx_source_name(src));
	}
	*state = t;
	return 0;
}

static int toy_next(void *state, struct fidx_rows *rows, struct fidx_err *err)
{
	struct toy *t = state;
	size_t n = 0;
	while (n < FIDX_ROWS_MAX) {
		ssize_t got = fidx_source_read(t->src, t->vec + n * t->dim, t->dim * sizeof(float), err);
		if (got < 0)
			return (int)got;
		if (got == 0)
			break;
		if ((size_t)got != t->dim * sizeof(float))
			return fidx_err_set(err, FIDX_EINPUT, "%s: a row cut short", fidx_source_name(t->src));
		t->where[n++] = ++t->row;
	}
	memset(rows, 0, sizeof *rows);
	rows->n = n;
	rows->dim = t->dim;
	rows->vec = t->vec;
	rows->where = t->where;
	return n > 0;
}

static void toy_close(void *state)
{
	free(state);
}

static const struct fidx_format toy = {
	.name = "toy", .title = "Toy", .suffixes = (const char *const[]){".toy", NULL},
	.magic = toy_magic, .open = toy_open, .next = toy_next, .close = toy_close,
};

/* The registry line: the toy, then every format fidx has. */
static const struct fidx_format *formats[32] = {&toy};

static int setup(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; fidx_formats[i]; i++)
		formats[i + 1] = fidx_formats[i];
	return 0;
}

static char dir[64];

static const char *write_toy(const char *name, size_t rows)
{
	static char path[128];
	const float v[3][3] = {{1, 0, 0}, {0, 2, 0}, {3, 4, 0}};
	FILE *f;
	size_t i;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "wb"));
	fwrite("TOY1\3\0\0\0", 1, 8, f);
	for (i = 0; i < rows; i++)
		fwrite(v[i % 3], sizeof(float), 3, f);
	fclose(f);
	return path;
}

static void test_toy_reads_by_its_bytes(void **state)
{
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, formats};
	struct fidx_reader *r;
	struct fidx_rows rows;
	struct fidx_err err = {0};
	char names[256];
	(void)state;

	/* Named like nothing in particular: the magic decides. */
	assert_int_equal(fidx_reader_open(&r, write_toy("data.bin", 300), &o, &err), 0);
	assert_string_equal(fidx_reader_format(r)->name, "toy");
	assert_int_equal(fidx_reader_next(r, &rows, &err), 1);
	assert_int_equal(rows.n, FIDX_ROWS_MAX);
	assert_int_equal(rows.dim, 3);
	assert_true(rows.vec[4] == 2.0f && rows.where[0] == 1 && !rows.id && !rows.text);
	assert_int_equal(fidx_reader_next(r, &rows, &err), 1);
	assert_int_equal(rows.n, 300 - FIDX_ROWS_MAX);
	assert_int_equal(rows.where[rows.n - 1], 300);
	assert_int_equal(fidx_reader_next(r, &rows, &err), 0);
	fidx_reader_close(r);

	/* Its name is in the lists; without the line, fidx does not know it. */
	fidx_formats_list(formats, 1, names, sizeof names);
	assert_string_equal(names, "toy, csv, tsv, npy, faiss, jsonl, parquet or safetensors");
	assert_ptr_equal(fidx_format_find(formats, "toy"), &toy);
	assert_null(fidx_format_find(NULL, "toy"));
	o.formats = NULL;
	assert_int_equal(fidx_reader_open(&r, write_toy("data.toy", 3), &o, &err), 0);
	assert_string_equal(fidx_reader_format(r)->name, "csv"); /* the fallback */
	fidx_reader_close(r);
}

static void test_toy_builds_an_index(void **state)
{
	struct fidx_ingest_opts o;
	struct fidx_ingest_stats st;
	struct fidx_err err = {0};
	struct fidx_index *ix;
	const char *in[1];
	char out[128];
	(void)state;

	memset(&o, 0, sizeof o);
	in[0] = write_toy("rows.toy", 3);
	snprintf(out, sizeof out, "%s/toy.fidx", dir);
	o.out = out;
	o.inputs = in;
	o.ninputs = 1;
	o.level = 1;
	o.read.header = FIDX_HEADER_AUTO;
	o.read.formats = formats;
	assert_int_equal(fidx_ingest(&o, &st, &err), 0);
	assert_int_equal(st.rows, 3);
	assert_int_equal(fidx_index_load(&ix, out, &err), 0);
	assert_int_equal(fidx_index_dim(ix), 3);
	/* (3, 4, 0) normalized: exactly 0.6 and 0.8 in float. */
	assert_true(fidx_index_vector(ix, 2)[0] == 0.6f && fidx_index_vector(ix, 2)[1] == 0.8f);
	fidx_index_free(ix);
}

/* The order of the steps: a magic beats the name, the name beats a look
 * at the text, and CSV takes the rest. */
static void test_detection_order(void **state)
{
	static const struct {
		const char *name, *bytes, *want;
	} cases[] = {
		{"a.csv", "PAR1xxxxPAR1", "parquet"},
		{"a.parquet", "0,1\n1,2\n", "parquet"}, /* then its reader says it is not Parquet */
		{"a.tsv", "{\"embedding\": [1]}\n", "tsv"},
		{"a", "{\"embedding\": [1]}\n", "jsonl"},
		{"a", "0\t1\n1\t2\n", "tsv"},
		{"a", "0,1\t2\n", "csv"},
		{"a", "\x93NUMPY", "npy"},
		{"a", "IxFI", "faiss"},
		{"a.txt", "", "csv"},
	};
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct fidx_source *src;
		const struct fidx_format *f = NULL;
		struct fidx_err err = {0};
		assert_int_equal(fidx_source_open_mem(&src, cases[i].name, cases[i].bytes, strlen(cases[i].bytes), &err), 0);
		assert_int_equal(fidx_format_detect(src, &o, &f, &err), 0);
		if (strcmp(f->name, cases[i].want) != 0)
			fail_msg("%s %s: %s, not %s", cases[i].name, cases[i].bytes, f->name, cases[i].want);
		fidx_source_close(src);
	}
}

/* A peek at a compressed or piped source hands its bytes out again. */
static void test_peek_then_read(void **state)
{
	static const unsigned char gz[] = {
		/* gzip of "0,1\n1,2\n" */
		0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x33, 0xd0, 0x31, 0xe4,
		0x32, 0xd4, 0x31, 0xe2, 0x02, 0x00, 0x7a, 0x8e, 0x01, 0x19, 0x08, 0x00, 0x00, 0x00};
	struct fidx_source *src;
	struct fidx_err err = {0};
	char buf[64];
	ssize_t n;
	(void)state;
	assert_int_equal(fidx_source_open_mem(&src, "x.gz", gz, sizeof gz, &err), 0);
	assert_int_equal(fidx_source_peek(src, buf, 3, &err), 3);
	assert_memory_equal(buf, "0,1", 3);
	n = fidx_source_read(src, buf, sizeof buf, &err);
	assert_true(n > 0);
	while (n < 8) {
		ssize_t k = fidx_source_read(src, buf + n, sizeof buf - (size_t)n, &err);
		assert_true(k > 0);
		n += k;
	}
	assert_memory_equal(buf, "0,1\n1,2\n", 8);
	assert_int_equal(fidx_source_read(src, buf, sizeof buf, &err), 0);
	fidx_source_close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toy_reads_by_its_bytes),
		cmocka_unit_test(test_toy_builds_an_index),
		cmocka_unit_test(test_detection_order),
		cmocka_unit_test(test_peek_then_read),
	};
	int rc;
	strcpy(dir, "/tmp/fidx-test-reader.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, setup, NULL);
	if (rc == 0) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		rc = system(cmd) != 0;
	}
	return rc;
}
