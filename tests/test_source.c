/* io/core/source.c and io/core/sha256.c: plain and gzip input, digests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zlib.h>

#include "sha256.h"
#include "source.h"
#include "tmpdir.h"

static size_t gz(const char *text, unsigned char *out, size_t cap)
{
	z_stream z;
	size_t n;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

/* Reads everything; returns the text or "ERR message". */
static char *slurp(const void *data, size_t n, int *code)
{
	struct fidx_source *s;
	struct fidx_err err = {0};
	char *out = malloc(1 << 20);
	size_t len = 0;
	ssize_t got;

	assert_int_equal(fidx_source_open_mem(&s, "in", data, n, &err), 0);
	while ((got = fidx_source_read(s, out + len, 7, &err)) > 0)
		len += (size_t)got;
	*code = (int)got;
	if (got < 0)
		len = (size_t)snprintf(out, 1 << 20, "ERR %s", err.msg);
	out[len] = '\0';
	fidx_source_close(s);
	return out;
}

static void test_sha256(void **state)
{
	struct fidx_sha256 s;
	unsigned char d[32];
	char hex[65];
	(void)state;
	fidx_sha256_init(&s);
	fidx_sha256_update(&s, "abc", 3);
	fidx_sha256_final(&s, d);
	fidx_sha256_hex(d, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	fidx_sha256_init(&s);
	fidx_sha256_final(&s, d);
	fidx_sha256_hex(d, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	{
		const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
		size_t i;
		fidx_sha256_init(&s);
		for (i = 0; m[i]; i++)
			fidx_sha256_update(&s, m + i, 1);
		fidx_sha256_final(&s, d);
		fidx_sha256_hex(d, hex);
		assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	}
}

/* A million 'a's, fed in uneven pieces, crossing the block buffer. */
static void test_sha256_long(void **state)
{
	struct fidx_sha256 s;
	unsigned char d[32];
	char hex[65], *a = malloc(1000000);
	size_t off = 0, step = 1;
	(void)state;
	memset(a, 'a', 1000000);
	fidx_sha256_init(&s);
	while (off < 1000000) {
		size_t take = 1000000 - off < step ? 1000000 - off : step;
		fidx_sha256_update(&s, a + off, take);
		off += take;
		step = step * 3 % 9973 + 1;
	}
	fidx_sha256_final(&s, d);
	fidx_sha256_hex(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* SHA-1 (FIPS 180-4 vectors) and git's blob ids, which are SHA-1 of
 * "blob SIZE\0" and the content. */
static void test_sha1(void **state)
{
	struct fidx_sha1 s;
	unsigned char d[20];
	char hex[41], *a = malloc(1000000);
	size_t i;
	(void)state;
	fidx_sha1_init(&s);
	fidx_sha1_update(&s, "abc", 3);
	fidx_sha1_final(&s, d);
	fidx_sha1_hex(d, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	fidx_sha1_init(&s);
	fidx_sha1_final(&s, d);
	fidx_sha1_hex(d, hex);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	memset(a, 'a', 1000000);
	fidx_sha1_init(&s);
	for (i = 0; i < 1000000; i += 999)
		fidx_sha1_update(&s, a + i, 1000000 - i < 999 ? 1000000 - i : 999);
	fidx_sha1_final(&s, d);
	fidx_sha1_hex(d, hex);
	assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
	fidx_sha1_init(&s);
	fidx_sha1_update(&s, "blob 0", 7);
	fidx_sha1_final(&s, d);
	fidx_sha1_hex(d, hex);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"); /* git's empty blob */
	fidx_sha1_init(&s);
	fidx_sha1_update(&s, "blob 12\0hello world\n", 20);
	fidx_sha1_final(&s, d);
	fidx_sha1_hex(d, hex);
	assert_string_equal(hex, "3b18e512dba79e4c8300dd08aeb37f8e728b8dad");
}

/* A copy of a state taken mid-stream goes on by itself (the embedding
 * cache digests its prefix once and copies it for every text). */
static void test_sha256_copy(void **state)
{
	struct fidx_sha256 prefix, a, b;
	unsigned char d[32];
	char hex[65];
	(void)state;
	fidx_sha256_init(&prefix);
	fidx_sha256_update(&prefix, "ab", 2);
	a = prefix;
	b = prefix;
	fidx_sha256_update(&a, "c", 1);
	fidx_sha256_final(&a, d);
	fidx_sha256_hex(d, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	fidx_sha256_final(&b, d);
	fidx_sha256_hex(d, hex);
	assert_string_equal(hex, "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603");
}

static void test_plain_and_digest(void **state)
{
	struct fidx_source *s;
	struct fidx_err err = {0};
	char buf[64];
	unsigned char d[32];
	char hex[65];
	(void)state;
	assert_int_equal(fidx_source_open_mem(&s, "in", "abc", 3, &err), 0);
	assert_int_equal(fidx_source_read(s, buf, sizeof buf, &err), 3);
	assert_int_equal(fidx_source_read(s, buf, sizeof buf, &err), 0);
	{
		uint64_t bytes;
		assert_int_equal(fidx_source_digest(s, &bytes, d, &err), 0);
		assert_int_equal(bytes, 3);
	}
	fidx_sha256_hex(d, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_false(fidx_source_is_gzip(s));
	fidx_source_close(s);
}

static void test_gzip(void **state)
{
	unsigned char buf[4096];
	size_t n1, n2;
	int code;
	char *got;
	(void)state;
	n1 = gz("hello, ", buf, sizeof buf);
	n2 = gz("world\n", buf + n1, sizeof buf - n1);
	got = slurp(buf, n1 + n2, &code); /* two members read as one stream */
	assert_string_equal(got, "hello, world\n");
	free(got);
	memset(buf + n1 + n2, 0, 10);  /* zero padding after the data is fine */
	got = slurp(buf, n1 + n2 + 10, &code);
	assert_string_equal(got, "hello, world\n");
	free(got);
	buf[n1 + n2] = 'x';             /* other bytes are not */
	got = slurp(buf, n1 + n2 + 10, &code);
	assert_string_equal(got, "ERR in: unexpected bytes after the gzip data");
	free(got);
	got = slurp(buf, n1 - 3, &code); /* truncated */
	assert_string_equal(got, "ERR in: truncated gzip data");
	assert_int_equal(code, FIDX_EINPUT);
	free(got);
	buf[12] ^= 0xff; /* corrupt */
	got = slurp(buf, n1 + n2, &code);
	assert_int_equal(strncmp(got, "ERR in: ", 8), 0);
	free(got);
}

static void test_other_compressors(void **state)
{
	int code;
	char *got;
	(void)state;
	got = slurp("\xfd" "7zXZ\0rest", 10, &code);
	assert_string_equal(got, "ERR in: xz-compressed input is not supported (decompress it, or use gzip)");
	free(got);
	got = slurp("\x28\xb5\x2f\xfd....", 8, &code);
	assert_int_equal(strncmp(got, "ERR in: corrupt zstd data (", 27), 0);
	free(got);
}

static void test_zstd(void **state)
{
	const char *a = "0,1,2\n1.5,2.5,3.5\n", *b = "4,5,6\n";
	char buf[256], *got;
	size_t n1, n2;
	int code;
	(void)state;
	/* Two frames, one after the other, read as one stream. */
	n1 = ZSTD_compress(buf, sizeof buf, a, strlen(a), 3);
	n2 = ZSTD_compress(buf + n1, sizeof buf - n1, b, strlen(b), 19);
	assert_false(ZSTD_isError(n1) || ZSTD_isError(n2));
	got = slurp(buf, n1 + n2, &code);
	assert_string_equal(got, "0,1,2\n1.5,2.5,3.5\n4,5,6\n");
	free(got);
	got = slurp(buf, n1 + n2 - 3, &code);
	assert_string_equal(got, "ERR in: truncated zstd data");
	free(got);
}

static void test_missing_file(void **state)
{
	struct fidx_source *s;
	struct fidx_err err = {0};
	(void)state;
	assert_int_equal(fidx_source_open(&s, "/nonexistent/x.csv", &err), FIDX_EIO);
	assert_string_equal(err.msg, "/nonexistent/x.csv: No such file or directory");
	assert_int_equal(fidx_source_open(&s, "/tmp", &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "/tmp: is a folder");
}

static int setup(void **state)
{
	(void)state;
	return tmpdir_make("test-source");
}

/* Writes n bytes of a pattern to dir/name; returns the path (static). */
static const char *pattern_file(const char *name, size_t n, unsigned char *bytes)
{
	static char path[128];
	FILE *f;
	size_t i;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	for (i = 0; i < n; i++)
		bytes[i] = (unsigned char)(i * 131 + (i >> 12));
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	fclose(f);
	return path;
}

/* Reads s to its end; returns the bytes read. */
static size_t drain(struct fidx_source *s)
{
	static char buf[1 << 16];
	struct fidx_err err = {0};
	size_t n = 0;
	ssize_t got;
	while ((got = fidx_source_read(s, buf, sizeof buf, &err)) > 0)
		n += (size_t)got;
	assert_int_equal(got, 0);
	return n;
}

/* A file's digest (mapped by its own thread) is that of its bytes. */
static void test_file_digest(void **state)
{
	/* More than two of the windows the digest maps (32 MiB), the last
	 * one partly filled. */
	size_t n = (70u << 20) + 12345;
	unsigned char *bytes = malloc(n), d[32], want[32];
	struct fidx_sha256 h;
	struct fidx_source *s;
	struct fidx_err err = {0};
	uint64_t got;
	(void)state;
	assert_int_equal(fidx_source_open(&s, pattern_file("digest.bin", n, bytes), &err), 0);
	assert_int_equal(drain(s), n);
	assert_int_equal(fidx_source_digest(s, &got, d, &err), 0);
	assert_int_equal(got, n);
	fidx_sha256_init(&h);
	fidx_sha256_update(&h, bytes, n);
	fidx_sha256_final(&h, want);
	assert_memory_equal(d, want, 32);
	fidx_source_close(s);
	free(bytes);
}

/* A file cut short while its digest maps it (a test hook cuts it in
 * half once it is mapped, in its second window of 32 MiB, the third then
 * wholly past its end): the digest fails, the process goes on. */
static void test_file_cut_short(void **state)
{
#ifdef FIDX_TEST_HOOKS
	size_t n = 70u << 20;
	unsigned char *bytes = malloc(n), d[32];
	struct fidx_source *s;
	struct fidx_err err = {0};
	uint64_t got;
	const char *path;
	(void)state;
	path = pattern_file("cut.bin", n, bytes);
	setenv("FIDX_TEST_DIGEST_CUT", "1", 1);
	assert_int_equal(fidx_source_open(&s, path, &err), 0);
	drain(s);
	assert_int_equal(fidx_source_digest(s, &got, d, &err), FIDX_EIO);
	unsetenv("FIDX_TEST_DIGEST_CUT");
	assert_non_null(strstr(err.msg, "cut.bin: the file was cut short while it was read"));
	fidx_source_close(s);
	free(bytes);
#else
	(void)state;
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),           cmocka_unit_test(test_sha256_long),
		cmocka_unit_test(test_sha256_copy),      cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_plain_and_digest),
		cmocka_unit_test(test_gzip),             cmocka_unit_test(test_other_compressors), cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_missing_file),     cmocka_unit_test(test_file_digest),
		cmocka_unit_test(test_file_cut_short),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
