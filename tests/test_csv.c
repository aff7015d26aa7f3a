/* io/readers/csv.c: the record reader, on the edge cases of the CSV checklist. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* Reads all records of data, renders them as "f1|f2|...\n" lines with the
 * line number, or "ERR <message>" on error. */
static char *render(const char *data, size_t n, char delim)
{
	struct fidx_source *src;
	struct fidx_csv *csv;
	struct fidx_csv_record r;
	struct fidx_err err = {0};
	size_t cap = 2 * n + (1 << 16), len = 0, i;
	char *out = malloc(cap);
	int rc;

	assert_non_null(out);
	out[0] = '\0';
	assert_int_equal(fidx_source_open_mem(&src, "t.csv", data, n, &err), 0);
	assert_int_equal(fidx_csv_open(&csv, src, delim, &err), 0);
	while ((rc = fidx_csv_next(csv, &r, &err)) == 1) {
		len += (size_t)snprintf(out + len, cap - len, "%llu:", (unsigned long long)r.line);
		for (i = 0; i < r.n; i++)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "|" : "", r.f[i].p);
		len += (size_t)snprintf(out + len, cap - len, "\n");
	}
	if (rc < 0)
		snprintf(out + len, cap - len, "ERR %s", err.msg);
	fidx_csv_close(csv);
	fidx_source_close(src);
	return out;
}

static void check(const char *data, const char *want)
{
	char *got = render(data, strlen(data), ',');
	if (strcmp(got, want) != 0) {
		print_error("input:\n%s\ngot:\n%s\nwant:\n%s\n", data, got, want);
		free(got);
		fail();
	}
	free(got);
}

static void test_plain(void **state)
{
	(void)state;
	check("a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
	check("a,b\n1,2", "1:a|b\n2:1|2\n");                 /* no final newline */
	check("a,b\r\n1,2\r\n", "1:a|b\n2:1|2\n");           /* CRLF */
	check("a,b\r1,2\r", "1:a|b\n2:1|2\n");               /* bare CR */
	check("a,b\n\n\n1,2\n\n", "1:a|b\n4:1|2\n");         /* blank lines skipped */
	check("a,\n,b\n", "1:a|\n2:|b\n");                   /* empty fields */
	check("a,b,\n", "1:a|b|\n");                         /* trailing comma */
	check("", "");
	check("\n\n", "");
	check("\xef\xbb\xbf" "a,b\n", "1:a|b\n");            /* BOM */
}

static void test_quotes(void **state)
{
	(void)state;
	check("\"a,b\",c\n", "1:a,b|c\n");
	check("\"say \"\"hi\"\"\",x\n", "1:say \"hi\"|x\n");
	check("\"two\nlines\",x\n2,y\n", "1:two\nlines|x\n3:2|y\n");
	check("\"crlf\r\ninside\",x\r\n", "1:crlf\r\ninside|x\n");
	check("\"\",x\n", "1:|x\n");
	check("\"\"\n", "1:\n");                             /* a quoted empty field is a record */
	check("\xef\xbb\xbf\"id\",\"text\"\n1,a\n", "1:id|text\n2:1|a\n");
	check("x,\"a\"\"\"\n", "1:x|a\"\n");
}

static void test_errors(void **state)
{
	(void)state;
	check("a,b\"c\n", "ERR t.csv:1:2: '\"' inside an unquoted field (quote the whole field)");
	check("ok\n\"a\"b,c\n", "1:ok\nERR t.csv:2:1: expected ',' or a line end after a closing quote");
	check("ok\n\"never closed,\nmore\n", "1:ok\nERR t.csv:2:1: quoted field not closed before the end of the input");
	{
		char *got = render("a,b\n1,\0\n", 8, ',');
		assert_string_equal(got, "1:a|b\nERR t.csv:2:2: NUL byte in the input (a binary file?)");
		free(got);
	}
}

static void test_tab(void **state)
{
	const char *in = "a\tb,c\n\"x\ty\"\tz\n";
	char *got = render(in, strlen(in), '\t');
	(void)state;
	assert_string_equal(got, "1:a|b,c\n2:x\ty|z\n");
	free(got);
}

/* Records and quoted fields larger than the reader's first buffer, and
 * records split across refills at every kind of boundary. */
static void test_large(void **state)
{
	size_t big = (3u << 20) + 17, i;
	char *data = malloc(big + 64), *got;
	(void)state;
	assert_non_null(data);
	data[0] = '"';
	for (i = 1; i < big; i++)
		data[i] = (char)('a' + i % 26);
	memcpy(data + big, "\",tail\nx,y\n", 11);
	got = render(data, big + 11, ',');
	assert_int_equal(strncmp(got, "1:bcdefgh", 9), 0);
	assert_non_null(strstr(got, "|tail\n2:x|y\n"));
	free(got);
	free(data);
}

/* A record count that crosses many buffer refills stays exact. */
static void test_many(void **state)
{
	size_t n = 200000, i, len = 0;
	char *data = malloc(n * 24), *got;
	struct fidx_source *src;
	struct fidx_csv *csv;
	struct fidx_csv_record r;
	struct fidx_err err = {0};
	uint64_t count = 0;
	(void)state;
	(void)got;
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(data + len, i % 3 ? "%zu,\"q%zu\"\r\n" : "%zu,v%zu\n", i, i);
	assert_int_equal(fidx_source_open_mem(&src, "m.csv", data, len, &err), 0);
	assert_int_equal(fidx_csv_open(&csv, src, ',', &err), 0);
	while (fidx_csv_next(csv, &r, &err) == 1) {
		char want[32];
		assert_int_equal(r.n, 2);
		assert_int_equal(r.line, count + 1);
		sprintf(want, "%llu", (unsigned long long)count);
		assert_string_equal(r.f[0].p, want);
		count++;
	}
	assert_int_equal(count, n);
	fidx_csv_close(csv);
	fidx_source_close(src);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),  cmocka_unit_test(test_quotes), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_tab),    cmocka_unit_test(test_large),  cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
