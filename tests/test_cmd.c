/* cmd/common.c's recipe: what --if-changed compares comes from the options
 * as parsed, so an option added to a command's table is in it without
 * anyone listing it; only options named as not changing the output are
 * left out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <getopt.h>
#include <string.h>

#include "common.h"

static const char *const ignore[] = {"quiet", NULL};

/* Parses argv with table (as fidx build does) and digests the result. */
static void recipe_of(const struct option *table, int argc, char **argv, char hex[65])
{
	static struct cmd_recipe r;
	int c, li = -1;
	memset(&r, 0, sizeof r);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", table, &li)) != -1) {
		cmd_recipe_note(&r, table, c, li, optarg);
		li = -1;
	}
	cmd_recipe_digest(&r, ignore, argv + optind, (size_t)(argc - optind), hex);
}

static const struct option base[] = {
	{"level", required_argument, NULL, 1},
	{"quiet", no_argument, NULL, 'q'},
	{NULL, 0, NULL, 0},
};

/* The same table with one more option, as a later change might add it. */
static const struct option grown[] = {
	{"level", required_argument, NULL, 1},
	{"quiet", no_argument, NULL, 'q'},
	{"normalize-to", required_argument, NULL, 2},
	{NULL, 0, NULL, 0},
};

static void test_recipe(void **state)
{
	char a[65], b[65], c[65], d[65], e[65];
	(void)state;
	recipe_of(base, 4, (char *[]){"build", "--level", "3", "in.csv", NULL}, a);
	/* An ignored option, short or long, changes nothing. */
	recipe_of(base, 5, (char *[]){"build", "-q", "--level", "3", "in.csv", NULL}, b);
	assert_string_equal(a, b);
	recipe_of(base, 5, (char *[]){"build", "--level", "3", "--quiet", "in.csv", NULL}, b);
	assert_string_equal(a, b);
	/* A value, or an operand, does. */
	recipe_of(base, 4, (char *[]){"build", "--level", "4", "in.csv", NULL}, c);
	assert_string_not_equal(a, c);
	recipe_of(base, 4, (char *[]){"build", "--level", "3", "other.csv", NULL}, c);
	assert_string_not_equal(a, c);
	/* The new option is in the recipe without being listed anywhere. */
	recipe_of(grown, 4, (char *[]){"build", "--level", "3", "in.csv", NULL}, d);
	assert_string_equal(a, d);
	recipe_of(grown, 6, (char *[]){"build", "--level", "3", "--normalize-to", "1", "in.csv", NULL}, d);
	assert_string_not_equal(a, d);
	/* The order options come in does not matter. */
	recipe_of(grown, 6, (char *[]){"build", "--normalize-to", "1", "--level", "3", "in.csv", NULL}, e);
	assert_string_equal(d, e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
