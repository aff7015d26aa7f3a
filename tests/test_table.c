/* io/readers/csvrows.c: rows of embeddings from CSV/TSV, with their error messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowit.h"

struct got {
	size_t rows, dim;
	float first[4];
	char ids[256], texts[256], err[FIDX_ERR_MAX];
	int code;
};

static void run(const char *name, const char *data, const struct fidx_reader_opts *o, struct got *g)
{
	struct fidx_source *src;
	struct fidx_reader *t;
	struct fidx_row row;
	struct fidx_err err = {0};
	int rc;

	memset(g, 0, sizeof *g);
	assert_int_equal(fidx_source_open_mem(&src, name, data, strlen(data), &err), 0);
	assert_int_equal(fidx_reader_open_source(&t, src, o, &err), 0);
	while ((rc = rowit_next(t, &row, &err)) == 1) {
		if (g->rows == 0)
			memcpy(g->first, row.vec, (row.dim < 4 ? row.dim : 4) * sizeof(float));
		g->dim = row.dim;
		if (row.id)
			snprintf(g->ids + strlen(g->ids), sizeof g->ids - strlen(g->ids), "%s;", row.id);
		if (row.text)
			snprintf(g->texts + strlen(g->texts), sizeof g->texts - strlen(g->texts), "%s;", row.text);
		g->rows++;
	}
	if (rc < 0) {
		g->code = rc;
		fidx_err_render(err.msg, g->err, sizeof g->err, NULL); /* settings as options */
	}
	rowit_close(t);
}

static const struct fidx_reader_opts plain = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};

static void test_pandas_header(void **state)
{
	struct got g;
	(void)state;
	run("e.csv", "0,1,2\n0.5,-0.25,1e-3\n1,2,3\n", &plain, &g);
	assert_string_equal(g.err, "");
	assert_int_equal(g.rows, 2);
	assert_int_equal(g.dim, 3);
	assert_true(g.first[0] == 0.5f && g.first[1] == -0.25f && g.first[2] == 1e-3f);
}

static void test_no_header(void **state)
{
	struct got g;
	struct fidx_reader_opts o = plain;
	(void)state;
	run("e.csv", "0.5,1\n2,3\n", &plain, &g);
	assert_int_equal(g.rows, 2);
	assert_true(g.first[0] == 0.5f);
	/* Forced header: the first line is names even if numeric. */
	o.header = FIDX_HEADER_YES;
	run("e.csv", "0.5,1\n2,3\n", &o, &g);
	assert_int_equal(g.rows, 1);
	/* Forced no header on the pandas header is an error on line 1? No: 0,1 are numbers. */
	o.header = FIDX_HEADER_NO;
	run("e.csv", "0,1\n2,3\n", &o, &g);
	assert_int_equal(g.rows, 2);
}

static void test_columns(void **state)
{
	struct got g;
	struct fidx_reader_opts o = plain;
	(void)state;
	o.id_column = "id";
	o.text_column = "text";
	run("e.csv", "id,text,0,1\nfaq-1,\"Hello, world\",1,0\nfaq-2,Bye,0,1\n", &o, &g);
	assert_string_equal(g.err, "");
	assert_int_equal(g.rows, 2);
	assert_int_equal(g.dim, 2);
	assert_string_equal(g.ids, "faq-1;faq-2;");
	assert_string_equal(g.texts, "Hello, world;Bye;");

	o.embedding_column = "emb";
	run("e.csv", "id,emb,text\n7,\"[0.1, -0.2, 3]\",a\n8,\"[1 2 3]\",b\n", &o, &g);
	assert_string_equal(g.err, "");
	assert_int_equal(g.rows, 2);
	assert_int_equal(g.dim, 3);
	assert_true(g.first[0] == 0.1f && g.first[1] == -0.2f && g.first[2] == 3.0f);
}

/* pandas' numbering beside "id" and "text": ids and texts without options
 * (what fidx export --hub publishes); anything else stays as it was. */
static void test_numbered_with_id_text(void **state)
{
	struct got g;
	(void)state;
	run("e.csv", "0,1,id,text\n1,0,a,\"hello, \"\"world\"\"\"\n0,1,b,\"two\nlines\"\n", &plain, &g);
	assert_string_equal(g.err, "");
	assert_int_equal(g.rows, 2);
	assert_int_equal(g.dim, 2);
	assert_string_equal(g.ids, "a;b;");
	assert_string_equal(g.texts, "hello, \"world\";two\nlines;");
	run("e.csv", "id,0,1,2\n5,1,0,0\n", &plain, &g);
	assert_string_equal(g.ids, "5;");
	assert_string_equal(g.texts, "");
	assert_int_equal(g.dim, 3);
	run("e.csv", "text,0\nhi,1\n", &plain, &g);
	assert_string_equal(g.texts, "hi;");
	assert_int_equal(g.dim, 1);
	/* not the numbering: all embedding columns, as before */
	run("e.csv", "1,2,id\n1,0,3\n", &plain, &g);
	assert_int_equal(g.dim, 3);
	assert_string_equal(g.ids, "");
	run("e.csv", "0,2,id\n1,0,3\n", &plain, &g);
	assert_int_equal(g.dim, 3);
	run("e.csv", "0,1,id,id\n1,0,3,4\n", &plain, &g);
	assert_int_equal(g.dim, 4);
	assert_string_equal(g.ids, "");
}

static void test_tsv(void **state)
{
	struct got g;
	(void)state;
	run("e.tsv", "0\t1\n0.5\t0.25\n", &plain, &g);
	assert_string_equal(g.err, "");
	assert_int_equal(g.rows, 1);
	assert_int_equal(g.dim, 2);
}

static void expect_error(const char *name, const char *data, const struct fidx_reader_opts *o,
                         const char *msg)
{
	struct got g;
	run(name, data, o, &g);
	if (g.code != FIDX_EINPUT || strcmp(g.err, msg) != 0) {
		print_error("got (%d) \"%s\"\nwant \"%s\"\n", g.code, g.err, msg);
		fail();
	}
}

static void test_errors(void **state)
{
	struct fidx_reader_opts o = plain;
	(void)state;
	expect_error("e.csv", "0,1,2\n0.1,abc,0.3\n", &plain,
	             "e.csv:2:2: expected a number, found \"abc\" (not a number)");
	expect_error("e.csv", "0,1,2\n0.1,0.2\n", &plain, "e.csv:2: expected 3 fields, found 2");
	expect_error("e.csv", "0,1\n0.1,\n", &plain, "e.csv:2:2: expected a number, found an empty field");
	expect_error("e.csv", "0,1\n0.1,nan\n", &plain,
	             "e.csv:2:2: expected a number, found \"nan\" (not a finite number)");
	expect_error("e.csv", "0,1\n0.1,1e40\n", &plain,
	             "e.csv:2:2: expected a number, found \"1e40\" (out of range)");
	expect_error("e.csv", "0,1\n0.1,0x1p3\n", &plain,
	             "e.csv:2:2: expected a number, found \"0x1p3\" (a hexadecimal float (not accepted))");
	o.id_column = "id";
	expect_error("e.csv", "key,0\n1,2\n", &o, "e.csv:1: no column named \"id\" (given to --id-column)");
	expect_error("e.csv", ",0,1\n0,1,2\n", &plain,
	             "e.csv:1:1: the first column has no name: a pandas index? (write the CSV with index=False, or pass --id-column \"\" to use it as ids)");
	o.id_column = NULL;
	o.embedding_column = "emb";
	expect_error("e.csv", "emb\n\"[1,2]\"\n\"[1,2,3]\"\n", &o,
	             "e.csv:3:1: the list has more than 2 numbers (the dimension of the first row)");
	expect_error("e.csv", "emb\n\"1,2\"\n", &o,
	             "e.csv:2:1: expected a list of numbers such as \"[0.1, -0.2]\"");
	expect_error("e.csv", "emb\n\"[1,x]\"\n", &o,
	             "e.csv:2:1: expected a number (list element 2), found \"x\" (not a number)");
	o.embedding_column = NULL;
	o.header = FIDX_HEADER_NO;
	o.text_column = "t";
	expect_error("e.csv", "1,2\n", &o, "e.csv: column names were given but the file has no header line");
}

static void test_named_column_in_error(void **state)
{
	struct got g;
	struct fidx_reader_opts o = plain;
	(void)state;
	o.id_column = "id";
	run("e.csv", "id,x,y\n1,0.5,oops\n", &o, &g);
	assert_string_equal(g.err, "e.csv:2:3: expected a number in column \"y\", found \"oops\" (not a number)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pandas_header), cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_columns),       cmocka_unit_test(test_tsv),
		cmocka_unit_test(test_numbered_with_id_text),
		cmocka_unit_test(test_errors),        cmocka_unit_test(test_named_column_in_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
