/* index/file.c: the container round-trips, and every damage is caught. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <libdeflate.h>

#include "crc32.h"
#include "file.h"
#include "tmpdir.h"

static int setup(void **state)
{
	(void)state;
	return tmpdir_make("test-file");
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return buf;
}

/* Writes n rows of dim floats (value i*dim+j), ids and texts if asked,
 * telling the writer to expect `expect` rows (0: nothing told). */
static void write_expecting(const char *path, uint32_t dim, size_t n, int ids, int texts, uint64_t expect)
{
	struct fidx_file_writer *w;
	struct fidx_err err = {0};
	float *row = malloc(dim * sizeof *row);
	size_t i, j;
	char buf[64];

	assert_int_equal(fidx_fw_open(&w, path, 0, 6, 0, &err), 0);
	if (expect)
		assert_int_equal(fidx_fw_expect(w, expect, &err), 0);
	assert_int_equal(fidx_fw_set_dim(w, dim, &err), 0);
	assert_int_equal(fidx_fw_expect(w, expect, &err), FIDX_EINTERNAL);
	for (i = 0; i < n; i++) {
		for (j = 0; j < dim; j++)
			row[j] = (float)(i * dim + j) * 0.001f;
		assert_int_equal(fidx_fw_vectors(w, row, 1, &err), 0);
		snprintf(buf, sizeof buf, "id-%zu", i);
		if (ids)
			assert_int_equal(fidx_fw_id(w, buf, strlen(buf), &err), 0);
		snprintf(buf, sizeof buf, "text number %zu", i);
		if (texts)
			assert_int_equal(fidx_fw_text(w, buf, strlen(buf), &err), 0);
	}
	if (fidx_fw_commit(w, "{\"hello\": 1}", &err) != 0) {
		print_error("%s\n", err.msg);
		fail();
	}
	free(row);
}

static void write_file(const char *path, uint32_t dim, size_t n, int ids, int texts)
{
	write_expecting(path, dim, n, ids, texts, 0);
}

/* Rows told ahead put the codes in place before the vectors; a wrong
 * count still gives the same rows: too many told leaves room unused, too
 * few moves the codes after the vectors (when a block, or only the
 * directory, no longer fits). Blocks of 2 rows of 64 values: 100,000
 * rows are 25.6 MB, several batches of the writer's pipeline. */
static void test_expected_rows(void **state)
{
	static const struct {
		size_t n;
		uint64_t expect;
		int in_place;
	} cases[] = {
		{100000, 100000, 1}, {100000, 100007, 1}, {100000, 99990, 0}, {100000, 1, 0},
		{50, 50, 1}, {50, 49, 0}, {51, 50, 0}, {50, 0, 0},
	};
	size_t k, i, dim = 64;
	(void)state;
	setenv("FIDX_TEST_BLOCK_ROWS", "2", 1);
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char path[128];
		struct fidx_file *f;
		struct fidx_err err = {0};
		const struct fidx_section_info *v, *c;
		size_t n = cases[k].n;
		float *got = malloc(n * dim * sizeof *got);
		snprintf(path, sizeof path, "%s/expect-%zu.fidx", dir, k);
		write_expecting(path, (uint32_t)dim, n, k % 2, 0, cases[k].expect);
		assert_int_equal(fidx_file_open(&f, path, &err), 0);
		assert_int_equal(fidx_file_verify(f, &err), 0);
		assert_int_equal(fidx_file_count(f), n);
		v = fidx_file_section(f, FIDX_SEC_VECTORS);
		c = fidx_file_section(f, FIDX_SEC_CODES);
		if (cases[k].in_place != (c->offset == 64 && c->offset < v->offset)) {
			print_error("case %zu: codes at %llu, vectors at %llu\n", k, (unsigned long long)c->offset,
			            (unsigned long long)v->offset);
			fail();
		}
		/* Exactly told, the codes end where the vectors start. */
		if (cases[k].expect == n)
			assert_true(c->offset + c->stored_bytes == v->offset);
		assert_int_equal(fidx_file_read_vectors(f, got, &err), 0);
		for (i = 0; i < n * dim; i++)
			if (got[i] != (float)i * 0.001f) {
				print_error("case %zu: value %zu is %g\n", k, i, (double)got[i]);
				fail();
			}
		fidx_file_close(f);
		free(got);
	}
	unsetenv("FIDX_TEST_BLOCK_ROWS");
}

static void test_round_trip(void **state)
{
	char path[128];
	struct fidx_file *f;
	struct fidx_cursor *c;
	struct fidx_err err = {0};
	size_t n = 3000, dim = 200, i, len; /* 2.4 MB of vectors: several blocks */
	float *v = malloc(n * dim * sizeof *v);
	char *meta;
	const char *p;
	(void)state;
	snprintf(path, sizeof path, "%s/rt.fidx", dir);
	write_file(path, (uint32_t)dim, n, 1, 1);
	assert_int_equal(fidx_file_open(&f, path, &err), 0);
	assert_int_equal(fidx_file_dim(f), dim);
	assert_int_equal(fidx_file_count(f), n);
	assert_true(fidx_file_section(f, FIDX_SEC_VECTORS)->block_count >= 3);
	assert_int_equal(fidx_file_verify(f, &err), 0);
	assert_int_equal(fidx_file_read_vectors(f, v, &err), 0);
	for (i = 0; i < n * dim; i++)
		assert_true(v[i] == (float)i * 0.001f);
	assert_int_equal(fidx_file_read_section(f, FIDX_SEC_META, 1 << 20, &meta, &len, &err), 0);
	assert_string_equal(meta, "{\"hello\": 1}");
	free(meta);
	assert_int_equal(fidx_cursor_open(&c, f, FIDX_SEC_TEXTS, &err), 0);
	for (i = 0; i < n; i++) {
		char want[64];
		assert_int_equal(fidx_cursor_record(c, &p, &len, &err), 0);
		snprintf(want, sizeof want, "text number %zu", i);
		assert_string_equal(p, want);
	}
	assert_int_equal(fidx_cursor_left(c), 0);
	assert_int_equal(fidx_cursor_record(c, &p, &len, &err), FIDX_ECORRUPT);
	fidx_cursor_close(c);
	fidx_file_close(f);
	free(v);
}

/* Ids and texts read one record at a time are the records the cursor
 * reads: short and empty ones, ones longer than many blocks, in blocks of
 * 64 bytes; in order and not. */
static void test_records(void **state)
{
	char path[128];
	struct fidx_file_writer *w;
	struct fidx_file *f;
	struct fidx_cursor *c;
	struct fidx_records *r;
	struct fidx_err err = {0};
	size_t n = 200, i, len, glen;
	float row[2] = {1, 0};
	char *text = malloc(5000), **want = calloc(n, sizeof *want), *got;
	const char *p;
	(void)state;
	snprintf(path, sizeof path, "%s/records.fidx", dir);
	setenv("FIDX_TEST_RECORD_BYTES", "64", 1);
	assert_int_equal(fidx_fw_open(&w, path, 2, 6, 0, &err), 0);
	unsetenv("FIDX_TEST_RECORD_BYTES");
	for (i = 0; i < n; i++) {
		size_t tl = i % 17 == 0 ? 0 : i % 23 == 0 ? 300 + i * 7 : i % 5;
		memset(text, 'a' + (int)(i % 26), tl);
		assert_int_equal(fidx_fw_vectors(w, row, 1, &err), 0);
		assert_int_equal(fidx_fw_text(w, text, tl, &err), 0);
		assert_int_equal(fidx_fw_id(w, text, tl < 3 ? tl : 3, &err), 0);
	}
	assert_int_equal(fidx_fw_commit(w, "{}", &err), 0);
	assert_int_equal(fidx_file_open(&f, path, &err), 0);
	assert_int_equal(fidx_file_verify(f, &err), 0);
	assert_true(fidx_file_section(f, FIDX_SEC_TEXTS)->block_count > 50);
	assert_int_equal(fidx_cursor_open(&c, f, FIDX_SEC_TEXTS, &err), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(fidx_cursor_record(c, &p, &len, &err), 0);
		want[i] = strdup(p);
	}
	fidx_cursor_close(c);
	assert_int_equal(fidx_records_open(&r, f, FIDX_SEC_TEXTS, &err), 0);
	for (i = 0; i < 2 * n; i++) {
		size_t row_i = i < n ? i : (i * 7919) % n;
		assert_int_equal(fidx_records_get(r, row_i, &got, &glen, &err), 0);
		assert_int_equal(glen, strlen(want[row_i]));
		assert_string_equal(got, want[row_i]);
		free(got);
	}
	assert_int_equal(fidx_records_get(r, n, &got, &glen, &err), FIDX_EINTERNAL);
	fidx_records_close(r);
	fidx_file_close(f);
	for (i = 0; i < n; i++)
		free(want[i]);
	free(want);
	free(text);
}

static void test_no_temp_left_and_abort(void **state)
{
	char path[128], cmd[256];
	struct fidx_file_writer *w;
	struct fidx_err err = {0};
	float row[4] = {1, 2, 3, 4};
	(void)state;
	snprintf(path, sizeof path, "%s/ab.fidx", dir);
	write_file(path, 4, 2, 0, 0);
	assert_int_equal(fidx_fw_open(&w, path, 4, 6, 0, &err), 0);
	assert_int_equal(fidx_fw_vectors(w, row, 1, &err), 0);
	fidx_fw_abort(w);
	/* The old file is intact and nothing else is in the folder. */
	snprintf(cmd, sizeof cmd, "test \"$(ls -A %s | grep -c tmp)\" = 0", dir);
	assert_int_equal(system(cmd), 0);
	{
		struct fidx_file *f;
		assert_int_equal(fidx_file_open(&f, path, &err), 0);
		assert_int_equal(fidx_file_count(f), 2);
		fidx_file_close(f);
	}
	/* Mismatched counts are refused at commit, leaving the old file. */
	assert_int_equal(fidx_fw_open(&w, path, 4, 6, 0, &err), 0);
	assert_int_equal(fidx_fw_vectors(w, row, 1, &err), 0);
	assert_int_equal(fidx_fw_vectors(w, row, 1, &err), 0);
	assert_int_equal(fidx_fw_text(w, "x", 1, &err), 0);
	assert_int_equal(fidx_fw_commit(w, "{}", &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "1 texts for 2 rows");
}

/* Opens and fully reads bytes; returns the status. */
static int load_mem(const char *data, size_t n, struct fidx_err *err)
{
	struct fidx_file *f;
	int rc = fidx_file_open_mem(&f, "x.fidx", data, n, err);
	if (rc)
		return rc;
	rc = fidx_file_verify(f, err);
	fidx_file_close(f);
	return rc;
}

/* Every single-byte change and every truncation of a small file is
 * reported as corruption; none crashes. */
static void flip_and_cut(const char *name, size_t rows_per_block, uint64_t expect)
{
	char path[128], rows[16];
	struct fidx_err err = {0};
	size_t n, i;
	char *data;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(rows, sizeof rows, "%zu", rows_per_block);
	setenv("FIDX_TEST_BLOCK_ROWS", rows, 1);
	write_expecting(path, 8, 5, 1, 1, expect);
	unsetenv("FIDX_TEST_BLOCK_ROWS");
	data = slurp(path, &n);
	assert_int_equal(load_mem(data, n, &err), 0);
	for (i = 0; i < n; i++) {
		int bit, rc;
		for (bit = 0; bit < 8; bit += 3) {
			data[i] ^= (char)(1 << bit);
			rc = load_mem(data, n, &err);
			data[i] ^= (char)(1 << bit);
			if (rc != FIDX_ECORRUPT) {
				print_error("flip of bit %d at byte %zu: status %d (%s)\n", bit, i, rc, err.msg);
				fail();
			}
		}
	}
	for (i = 0; i < n; i++)
		assert_int_equal(load_mem(data, i, &err), FIDX_ECORRUPT);
	free(data);
}

static void test_every_flip_and_cut(void **state)
{
	(void)state;
	flip_and_cut("small.fidx", 0, 0);
	/* Blocks of 2 rows: 3 blocks of vectors and of codes, and their
	 * directories; the codes after the vectors, and before them. */
	flip_and_cut("blocks.fidx", 2, 0);
	flip_and_cut("told.fidx", 2, 5);
}

static void test_messages(void **state)
{
	struct fidx_err err = {0};
	char buf[200];
	(void)state;
	memset(buf, 'x', sizeof buf);
	assert_int_equal(load_mem(buf, sizeof buf, &err), FIDX_ECORRUPT);
	assert_string_equal(err.msg, "x.fidx: not a fidx index (wrong magic number)");
	assert_int_equal(load_mem(buf, 10, &err), FIDX_ECORRUPT);
	assert_string_equal(err.msg, "x.fidx: not a fidx index (too short)");
}

static void test_version_check(void **state)
{
	char path[128];
	struct fidx_err err = {0};
	size_t n;
	char *data;
	(void)state;
	snprintf(path, sizeof path, "%s/v.fidx", dir);
	write_file(path, 4, 1, 0, 0);
	data = slurp(path, &n);
	data[8] = 4; /* version 4, with a header checksum that matches */
	{
		/* Recompute the header checksum so that only the version differs. */
		unsigned long c = crc32(0L, (const Bytef *)data, 60);
		data[60] = (char)c, data[61] = (char)(c >> 8), data[62] = (char)(c >> 16), data[63] = (char)(c >> 24);
	}
	assert_int_equal(load_mem(data, n, &err), FIDX_ECORRUPT);
	assert_string_equal(err.msg, "x.fidx: index format version 4 is not supported (this fidx reads versions 1 to 3)");
	free(data);
}

/* fidx_crc32 is libdeflate_crc32, whatever the length, alignment and
 * starting value (its fast path covers whole 256-byte steps). */
static void test_crc32(void **state)
{
	size_t cap = 70000, n, off;
	unsigned char *b = malloc(cap + 8);
	uint32_t seed = 1;
	(void)state;
	for (n = 0; n < cap + 8; n++) {
		seed = seed * 1103515245u + 12345u;
		b[n] = (unsigned char)(seed >> 16);
	}
	for (n = 0; n < 3000; n += n < 600 ? 1 : 37)
		for (off = 0; off < 3; off++)
			assert_int_equal(fidx_crc32((uint32_t)n * 2654435761u, b + off, n),
			                 libdeflate_crc32((uint32_t)n * 2654435761u, b + off, n));
	for (n = 3000; n <= cap; n = n * 5 / 4 + 3)
		assert_int_equal(fidx_crc32(0, b + 1, n), libdeflate_crc32(0, b + 1, n));
	free(b);
}

/* How many of the pages of bytes [off, off + n) of path are in the page
 * cache. */
static size_t resident_pages(const char *path, uint64_t off, uint64_t n, size_t *pages)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t lo = off / (uint64_t)pg * (uint64_t)pg, len = off + n - lo;
	size_t k = (size_t)((len + (uint64_t)pg - 1) / (uint64_t)pg), i, in = 0;
	unsigned char *vec = malloc(k);
	int fd = open(path, O_RDONLY);
	void *m;
	assert_true(fd >= 0 && vec);
	m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, (off_t)lo);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mincore(m, (size_t)len, vec), 0);
	for (i = 0; i < k; i++)
		in += vec[i] & 1;
	munmap(m, (size_t)len);
	close(fd);
	free(vec);
	*pages = k;
	return in;
}

/* The vectors written around the page cache give the same bytes as
 * through it, whether the codes lie before them or after, and stay out of
 * the page cache (where the file system takes O_DIRECT). Chunks of 8 KiB
 * and blocks of 2 rows: a small file takes many chunks, and blocks
 * straddle every chunk's edge. */
static void test_direct_same_bytes(void **state)
{
	static const uint64_t expect[] = {0, 3001};
	size_t k;
	int fd;
	char probe[128];
	(void)state;
	snprintf(probe, sizeof probe, "%s/probe", dir);
	fd = open(probe, O_WRONLY | O_CREAT | O_DIRECT, 0644);
	if (fd < 0)
		print_message("O_DIRECT refused here: only the bytes are compared\n");
	else
		close(fd);
	setenv("FIDX_TEST_BLOCK_ROWS", "2", 1);
	setenv("FIDX_TEST_DIRECT_CHUNK", "8192", 1);
	for (k = 0; k < sizeof expect / sizeof expect[0]; k++) {
		char a[128], b[128];
		size_t na, nb, pages, in;
		char *da, *db;
		struct fidx_file *f;
		struct fidx_err err = {0};
		const struct fidx_section_info *v;
		snprintf(a, sizeof a, "%s/direct-%zu.fidx", dir, k);
		snprintf(b, sizeof b, "%s/cached-%zu.fidx", dir, k);
		write_expecting(a, 8, 3001, 1, 0, expect[k]);
		setenv("FIDX_TEST_NO_DIRECT", "1", 1);
		write_expecting(b, 8, 3001, 1, 0, expect[k]);
		unsetenv("FIDX_TEST_NO_DIRECT");
		assert_int_equal(fidx_file_open(&f, a, &err), 0);
		v = fidx_file_section(f, FIDX_SEC_VECTORS);
		in = resident_pages(a, v->offset, v->stored_bytes, &pages);
		assert_true(pages > 20);
		/* Around the page cache but for the pages it shares with the
		 * other sections, and the last of its chunks. */
		if (fd >= 0 && in > 4) {
			print_error("%zu of the vectors' %zu pages are in the page cache\n", in, pages);
			fail();
		}
		assert_int_equal(resident_pages(b, v->offset, v->stored_bytes, &pages), pages);
		fidx_file_close(f);
		da = slurp(a, &na);
		db = slurp(b, &nb);
		assert_int_equal(na, nb);
		assert_memory_equal(da, db, na);
		free(da);
		free(db);
	}
	unsetenv("FIDX_TEST_DIRECT_CHUNK");
	unsetenv("FIDX_TEST_BLOCK_ROWS");
}

/* Opens path, reads its vectors around the page cache, verifies it. */
static int verify_direct(const char *path, struct fidx_err *err)
{
	struct fidx_file *f;
	int rc = fidx_file_open(&f, path, err);
	if (rc)
		return rc;
	fidx_file_read_direct(f);
	rc = fidx_file_verify(f, err);
	fidx_file_close(f);
	return rc;
}

static void flip_at(const char *path, uint64_t off)
{
	unsigned char c;
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

/* Read around the page cache a chunk at a time, the vectors round-trip,
 * and a flipped byte anywhere in them is still reported: at every byte
 * near the edges of chunks and pages (where a block is taken from one read
 * or another), and every 101st elsewhere. */
static void test_direct_read_flips(void **state)
{
	char path[128];
	struct fidx_file *f;
	struct fidx_err err = {0};
	const struct fidx_section_info *v;
	float *got;
	uint64_t i, lo, hi;
	size_t n = 3001, dim = 8, flips = 0;
	(void)state;
	snprintf(path, sizeof path, "%s/flips.fidx", dir);
	setenv("FIDX_TEST_BLOCK_ROWS", "2", 1);
	setenv("FIDX_TEST_DIRECT_CHUNK", "8192", 1);
	write_expecting(path, (uint32_t)dim, n, 0, 0, n);
	assert_int_equal(fidx_file_open(&f, path, &err), 0);
	fidx_file_read_direct(f);
	got = malloc(n * dim * sizeof *got);
	assert_int_equal(fidx_file_read_vectors(f, got, &err), 0);
	for (i = 0; i < n * dim; i++)
		assert_true(got[i] == (float)i * 0.001f);
	free(got);
	v = fidx_file_section(f, FIDX_SEC_VECTORS);
	lo = v->offset;
	hi = v->offset + v->stored_bytes;
	fidx_file_close(f);
	assert_int_equal(verify_direct(path, &err), 0);
	for (i = lo; i < hi; i++) {
		uint64_t edge = i % 4096;
		int rc;
		if (edge >= 12 && edge < 4096 - 12 && i % 101)
			continue;
		flip_at(path, i);
		rc = verify_direct(path, &err);
		flip_at(path, i);
		if (rc != FIDX_ECORRUPT) {
			print_error("flip at byte %llu: status %d (%s)\n", (unsigned long long)i, rc, err.msg);
			fail();
		}
		flips++;
	}
	assert_true(flips > 500);
	assert_int_equal(verify_direct(path, &err), 0);
	unsetenv("FIDX_TEST_DIRECT_CHUNK");
	unsetenv("FIDX_TEST_BLOCK_ROWS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_no_temp_left_and_abort),
		cmocka_unit_test(test_every_flip_and_cut), cmocka_unit_test(test_messages),
		cmocka_unit_test(test_version_check),    cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_records),          cmocka_unit_test(test_expected_rows),
		cmocka_unit_test(test_direct_same_bytes), cmocka_unit_test(test_direct_read_flips),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
