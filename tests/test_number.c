/* io/core/number.c: exact float parsing and shortest formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

static int parse(const char *s, float *v)
{
	return fidx_parse_float(s, strlen(s), v);
}

static uint32_t bits(float f)
{
	uint32_t b;
	memcpy(&b, &f, sizeof b);
	return b;
}

/* The whole-field parser and the prefix parser as a CSV row feeds it (the
 * field followed by a delimiter and more bytes, which takes the 16-byte
 * path when the CPU has it) both give strtof's bits. */
static void expect_same_as_strtof(const char *s)
{
	float got = 0, want = strtof(s, NULL), pre = 0;
	char row[96];
	const char *t = s;
	size_t used = 0, len;
	int rc = parse(s, &got), rc2;

	/* The prefix parser takes no spaces; the whole-field one trims them. */
	while (*t == ' ')
		t++;
	len = strcspn(t, " ");
	snprintf(row, sizeof row, "%.*s,0.123456789,42,-7", (int)len, t);
	rc2 = fidx_parse_float_prefix(row, strlen(row), &pre, &used);
	if (rc != FIDX_NUM_OK || bits(got) != bits(want) || rc2 != FIDX_NUM_OK || used != len ||
	    bits(pre) != bits(want)) {
		print_error("\"%s\": got %.9g (%08x, rc %d), as a prefix %.9g (%08x, rc %d, used %zu), "
		            "strtof %.9g (%08x)\n", s, got, bits(got), rc, pre, bits(pre), rc2, used, want,
		            bits(want));
		fail();
	}
}

static void test_accepts(void **state)
{
	static const char *const ok[] = {
		"0", "-0", "+1", "1.", ".5", "-.5", "007", "-0.000", "123456789012345", "1234567890123456",
		"0.1234567890123", "-9.99999999999999", "99999999999999.9", "0.1", "1e3", "1E-3", "1e+3", "  2.5  ",
		"-0.0238894503", "0.75653076171875", "1.17549435e-38", "1.4e-45", "3.40282347e38",
		"123456789012345678901234567890", "0.000000000000000000000000000000000000000001",
		"1e-50", "-1e-50", "9.99999944e-39", "16777217", "0.30000001192092896",
		"1.0000000000000000000000000000000000000001", "2.5e-45", "7.0064923216240854e-46",
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof ok / sizeof *ok; i++)
		expect_same_as_strtof(ok[i]);
}

static void test_rejects(void **state)
{
	static const struct {
		const char *s;
		int rc;
	} bad[] = {
		{"", FIDX_NUM_EMPTY},        {"   ", FIDX_NUM_EMPTY},   {"abc", FIDX_NUM_SYNTAX},
		{"1.2.3", FIDX_NUM_SYNTAX},  {"1e", FIDX_NUM_SYNTAX},   {"1e+", FIDX_NUM_SYNTAX},
		{".", FIDX_NUM_SYNTAX},      {"-", FIDX_NUM_SYNTAX},    {"1 2", FIDX_NUM_SYNTAX},
		{"nan", FIDX_NUM_NONFINITE}, {"-inf", FIDX_NUM_NONFINITE}, {"Infinity", FIDX_NUM_NONFINITE},
		{"NaN", FIDX_NUM_NONFINITE}, {"0x1p3", FIDX_NUM_HEX},   {"-0X10", FIDX_NUM_HEX},
		{"1e39", FIDX_NUM_RANGE},    {"-3.5e38", FIDX_NUM_RANGE}, {"1,5", FIDX_NUM_SYNTAX},
		{"\t1", FIDX_NUM_SYNTAX},    {"1f", FIDX_NUM_SYNTAX},   {"--1", FIDX_NUM_SYNTAX},
	};
	size_t i;
	float v;
	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = parse(bad[i].s, &v);
		if (rc != bad[i].rc) {
			print_error("\"%s\": status %d, expected %d\n", bad[i].s, rc, bad[i].rc);
			fail();
		}
	}
}

/* What the 16-byte path must leave to the general one: exponents, a second
 * dot or sign, hex, words, and numbers over 15 digits. */
static void test_prefix_forms(void **state)
{
	static const struct {
		const char *row;
		int rc;
		size_t used;
	} cases[] = {
		{"1.5e3,0000000000000000", FIDX_NUM_OK, 5},    {"1.5e,00000000000000000", FIDX_NUM_OK, 3},
		{"1.5.3,0000000000000000", FIDX_NUM_OK, 3},    {"-1-2,00000000000000000", FIDX_NUM_OK, 2},
		{"0x1p3,0000000000000000", FIDX_NUM_HEX, 0},   {"nan,000000000000000000", FIDX_NUM_NONFINITE, 0},
		{"-,0000000000000000000", FIDX_NUM_SYNTAX, 0}, {".,0000000000000000000", FIDX_NUM_SYNTAX, 0},
		{"12345678901234567890123,0", FIDX_NUM_OK, 23}, {"5.,00000000000000000000", FIDX_NUM_OK, 2},
		{"+5,00000000000000000000", FIDX_NUM_OK, 2},   {"1E-2,0000000000000000", FIDX_NUM_OK, 4},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		float v = 0;
		size_t used = 99;
		int rc = fidx_parse_float_prefix(cases[i].row, strlen(cases[i].row), &v, &used);
		if (rc != cases[i].rc || (rc == FIDX_NUM_OK && used != cases[i].used)) {
			print_error("\"%s\": status %d used %zu, expected %d and %zu\n", cases[i].row, rc, used,
			            cases[i].rc, cases[i].used);
			fail();
		}
	}
}

static void test_not_nul_terminated(void **state)
{
	const char buf[] = "0.25,7";
	float v;
	(void)state;
	assert_int_equal(fidx_parse_float(buf, 4, &v), FIDX_NUM_OK);
	assert_true(v == 0.25f);
}

/* Random floats written the ways writers write them (9 significant digits,
 * the shortest round-trip form, 17 digits of the double) read back exactly
 * as strtof reads them. */
static void test_random_round_trip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char s[64];
	int i, p;
	(void)state;
	for (i = 0; i < 300000; i++) {
		uint32_t b;
		float f;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		b = (uint32_t)(x >> 11);
		if (i % 3 == 0)
			b = (b & 0x80000000u) | (0x30000000u + (b % 0x10000000u)); /* embedding-like magnitudes */
		memcpy(&f, &b, sizeof f);
		if (!isfinite(f))
			continue;
		snprintf(s, sizeof s, "%.9g", f);
		expect_same_as_strtof(s);
		for (p = 1; p <= 9; p++) {
			snprintf(s, sizeof s, "%.*g", p, f);
			if (strtof(s, NULL) == f)
				break;
		}
		expect_same_as_strtof(s);
		snprintf(s, sizeof s, "%.17g", (double)f);
		expect_same_as_strtof(s);
		snprintf(s, sizeof s, "%.6f", f);
		expect_same_as_strtof(s);
	}
}

/* Decimal strings near float rounding boundaries, where double rounding
 * would go wrong. */
static void test_halfway_cases(void **state)
{
	char s[64];
	int i;
	(void)state;
	for (i = 0; i < 20000; i++) {
		float lo = 1.0f + (float)i * 1e-4f, hi = nextafterf(lo, 2.0f);
		double mid = ((double)lo + (double)hi) / 2;
		snprintf(s, sizeof s, "%.17g", mid);
		expect_same_as_strtof(s);
		snprintf(s, sizeof s, "%.25g", mid);
		expect_same_as_strtof(s);
		snprintf(s, sizeof s, "%.9g", mid);
		expect_same_as_strtof(s);
	}
}

static void test_locale_independent(void **state)
{
	float v;
	(void)state;
	if (!setlocale(LC_ALL, "de_DE.UTF-8") && !setlocale(LC_ALL, "fr_FR.UTF-8"))
		skip();
	assert_int_equal(parse("0.5", &v), FIDX_NUM_OK);
	assert_true(v == 0.5f);
	assert_int_equal(parse("0,5", &v), FIDX_NUM_SYNTAX);
	{
		char out[32];
		fidx_format_double(0.25, out);
		assert_string_equal(out, "0.25");
	}
	setlocale(LC_ALL, "C");
}

static void test_format_double(void **state)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{0.75653076171875, "0.75653076171875"}, {1.0, "1.0"}, {-1.0, "-1.0"}, {0.1, "0.1"},
		{1e-05, "1e-05"}, {0.0, "0.0"}, {(double)0.7418993711471558f, "0.7418993711471558"},
		{123.5, "123.5"}, {100.0, "100.0"}, {1e15, "1000000000000000.0"}, {1e16, "1e+16"},
		{-0.0, "-0.0"}, {0.0001, "0.0001"}, {1.5e300, "1.5e+300"}, {5e-324, "5e-324"},
		{123456789012345680.0, "1.2345678901234568e+17"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
	};
	size_t i;
	char out[32];
	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		fidx_format_double(cases[i].v, out);
		assert_string_equal(out, cases[i].s);
	}
}

static void test_canonical_int(void **state)
{
	int64_t v;
	(void)state;
	assert_true(fidx_parse_canonical_i64("0", 1, &v) && v == 0);
	assert_true(fidx_parse_canonical_i64("-17", 3, &v) && v == -17);
	assert_true(fidx_parse_canonical_i64("9223372036854775807", 19, &v) && v == INT64_MAX);
	assert_true(fidx_parse_canonical_i64("-9223372036854775808", 20, &v) && v == INT64_MIN);
	assert_false(fidx_parse_canonical_i64("9223372036854775808", 19, &v));
	assert_false(fidx_parse_canonical_i64("007", 3, &v));
	assert_false(fidx_parse_canonical_i64("-0", 2, &v));
	assert_false(fidx_parse_canonical_i64("+1", 2, &v));
	assert_false(fidx_parse_canonical_i64("1a", 2, &v));
	assert_false(fidx_parse_canonical_i64("", 0, &v));
	assert_false(fidx_parse_canonical_i64("-", 1, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_prefix_forms),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_halfway_cases),
		cmocka_unit_test(test_locale_independent),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_canonical_int),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
