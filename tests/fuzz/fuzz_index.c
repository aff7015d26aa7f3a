/* libFuzzer target for the .fidx reader (index/file.c): the input is a
 * whole index file, opened from memory.
 *
 * It checks the header and table of contents (fidx_file_open_mem), every
 * block (fidx_file_verify), decodes each section whole
 * (fidx_file_read_section, up to 16 MiB), reads the ids and texts record by
 * record with a cursor and (version 3) one record at a time by number,
 * and, when the file verifies, decodes the vectors
 * (up to 64 MiB) at once and again in two pieces, then runs one exact
 * top-1 inner-product query over them, row 0 against every row (a plain
 * loop: fidx_index_load needs a path and FAISS, and the point is to touch
 * every decoded float).
 *
 * Every byte of a valid file is under a CRC-32, which a fuzzer cannot
 * forge: a mutated file would almost always stop at the first checksum. So
 * each input runs twice, as it is and with its checksums (and file size)
 * repaired the way a writer would compute them, so that mutations of
 * sizes, offsets, deflate streams and records reach the code behind the
 * checksums.
 *
 * Invariants: every failure is FIDX_ECORRUPT (or out of memory) with a
 * message; what verifies also decodes; a section read whole, through the
 * cursor and in pieces gives the same bytes. Rejected input is fine; only
 * a broken invariant aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include "error.h"
#include "file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTION_CAP (16u << 20)
#define VECTORS_CAP (64u << 20)

static void check_error(int rc, const struct fidx_err *err)
{
	if (rc >= 0 || err->code != rc || !memchr(err->msg, '\0', sizeof err->msg) || !err->msg[0])
		abort();
	if (rc != FIDX_ECORRUPT && rc != FIDX_ENOMEM)
		abort();
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static uint32_t crc(const void *p, size_t n)
{
	return libdeflate_crc32(0, p, n);
}

/* ---- checksum repair (docs/FORMAT.md), trusting nothing in the input ---- */

#define FIX_MAX_RAW (2u << 20) /* larger blocks keep their raw CRC */
#define FIX_MAX_BLOCKS 64
#define STORED_FLAG 0x80000000u

/* Inflates exactly want bytes from in[0..n) into out. */
static int inflate_exact(struct libdeflate_decompressor *d, const unsigned char *in, size_t n,
                         unsigned char *out, size_t want)
{
	size_t got = 0;
	return libdeflate_deflate_decompress(d, in, n, out, want, &got) == LIBDEFLATE_SUCCESS &&
	       got == want ? 0 : -1;
}

/* The decoded bytes of a block (raw of them, into out), as the reader
 * would produce them: codec 1 deflate, 2 deflated planes, 3 planes each
 * deflated or stored, 4 stored. Returns 0, or -1 when they cannot be
 * decoded (codec 5, residuals against the codes, is left alone: its raw
 * CRC stays as it was). */
static int decode_block(struct libdeflate_decompressor *d, uint32_t codec, int flag,
                        const unsigned char *in, size_t n, unsigned char *out, size_t raw,
                        unsigned char *tmp)
{
	const unsigned char *plane[4];
	size_t q = raw / 4, off = 16, i;
	int p;

	if (flag) {
		if (n != raw)
			return -1;
		memcpy(out, in, raw);
		return 0;
	}
	if (codec == 1)
		return inflate_exact(d, in, n, out, raw);
	if (raw % 4 || codec > 3)
		return -1;
	if (codec == 2) {
		if (inflate_exact(d, in, n, tmp, raw))
			return -1;
		for (p = 0; p < 4; p++)
			plane[p] = tmp + (size_t)p * q;
	} else {
		if (n < 16)
			return -1;
		for (p = 0; p < 4; p++) {
			uint32_t len = get32(in + 4 * p) & ~STORED_FLAG;
			if (len > n - off)
				return -1;
			if (get32(in + 4 * p) & STORED_FLAG) {
				if (len != q)
					return -1;
				plane[p] = in + off;
			} else {
				if (inflate_exact(d, in + off, len, tmp + (size_t)p * q, q))
					return -1;
				plane[p] = tmp + (size_t)p * q;
			}
			off += len;
		}
	}
	for (i = 0; i < q; i++)
		for (p = 0; p < 4; p++)
			out[4 * i + (size_t)p] = plane[p][i];
	return 0;
}

/* Recomputes the CRCs of the blocks of one table of contents entry, and
 * in version 3 its block directory. */
static void fix_section(unsigned char *b, size_t size, const unsigned char *e, uint32_t version,
                        struct libdeflate_decompressor *d)
{
	uint32_t type = get32(e), codec = get32(e + 4), count = get32(e + 32), i;
	uint64_t pos = get64(e + 8), stored = get64(e + 16), end, dir = 0;
	size_t es = type == 3 || type == 4 ? 16 : 4; /* a directory entry */

	if (pos > size || stored > size - pos)
		return;
	end = pos + stored;
	if (version >= 3) {
		dir = (uint64_t)count * es + 4;
		if (dir > stored)
			return;
		end -= dir;
	}
	for (i = 0; i < count && i < FIX_MAX_BLOCKS && pos + 20 <= end; i++) {
		unsigned char *h = b + pos, head[24];
		uint32_t n = get32(h) & ~STORED_FLAG, raw = get32(h + 4);
		int flag = (get32(h) & STORED_FLAG) != 0;
		if (n > end - pos - 20)
			break;
		if (raw <= FIX_MAX_RAW) {
			unsigned char *out = malloc(raw ? raw : 1), *tmp = malloc(raw ? raw : 1);
			if (out && tmp && decode_block(d, codec, flag, h + 20, n, out, raw, tmp) == 0)
				put32(h + 8, crc(out, raw));
			free(out);
			free(tmp);
		}
		put32(h + 12, crc(h + 20, n));
		memcpy(head, h, 16);
		put32(head + 16, type);
		put32(head + 20, i);
		put32(h + 16, crc(head, sizeof head));
		if (dir)
			put32(b + end + es * (uint64_t)i, 20 + n);
		pos += 20 + (uint64_t)n;
	}
	if (dir && i == count) {
		unsigned char t[4];
		put32(t, type);
		put32(b + end + es * (uint64_t)count, libdeflate_crc32(crc(b + end, es * (size_t)count), t, 4));
	}
}

/* A copy of data[0..size) with its checksums and file size made right. */
static unsigned char *repaired(const uint8_t *data, size_t size)
{
	struct libdeflate_decompressor *d;
	unsigned char *b;
	uint64_t toc;
	uint32_t nsec, i;

	if (size < 64 || !(b = malloc(size)))
		return NULL;
	memcpy(b, data, size);
	nsec = get32(b + 36);
	toc = get64(b + 40);
	if (nsec >= 1 && nsec <= 5 && toc <= size && (uint64_t)nsec * 40 + 4 <= size - toc) {
		if ((d = libdeflate_alloc_decompressor()) != NULL) {
			for (i = 0; i < nsec; i++)
				fix_section(b, size, b + toc + 40 * i, get32(b + 8), d);
			libdeflate_free_decompressor(d);
		}
		put32(b + toc + 40 * nsec, crc(b + toc, 40 * (size_t)nsec));
	}
	put32(b + 16, (uint32_t)size);
	put32(b + 20, (uint32_t)((uint64_t)size >> 32));
	put32(b + 60, crc(b, 60));
	return b;
}

/* Reads the records of ids or texts until the section ends or fails; when
 * the section was also decoded whole (whole != NULL), the records must be
 * its bytes. */
static void read_records(struct fidx_file *f, int type, const char *whole, size_t whole_len,
                         int verified)
{
	struct fidx_err err;
	struct fidx_cursor *c = NULL;
	size_t off = 0;
	int rc = 0;

	memset(&err, 0, sizeof err);
	if ((rc = fidx_cursor_open(&c, f, type, &err)) != 0) {
		check_error(rc, &err);
		return;
	}
	while (fidx_cursor_left(c) > 0) {
		const char *p;
		size_t len;
		if ((rc = fidx_cursor_record(c, &p, &len, &err)) != 0) {
			check_error(rc, &err);
			/* A verified section decodes: only its framing can be wrong. */
			if (verified && whole && rc == FIDX_ECORRUPT && whole_len - off >= 4 &&
			    get32((const unsigned char *)whole + off) <= whole_len - off - 4)
				abort();
			break;
		}
		if (p[len] != '\0')
			abort();
		if (whole) {
			if (off + 4 + len > whole_len || get32((const unsigned char *)whole + off) != len ||
			    memcmp(whole + off + 4, p, len) != 0)
				abort();
			off += 4 + len;
		}
	}
	/* Records that fill the section exactly are what the cursor read. */
	if (!rc && whole && off != whole_len)
		abort();
	fidx_cursor_close(c);
}

/* Version 3: every record read on its own (fidx_records_get), at most the
 * first 1,000; in a verified file each is the record the whole section
 * holds at its place. */
static void read_one_by_one(struct fidx_file *f, int type, const char *whole, size_t whole_len, int verified)
{
	struct fidx_err err;
	struct fidx_records *r = NULL;
	uint64_t row;
	size_t off = 0;
	int rc;

	memset(&err, 0, sizeof err);
	if (fidx_file_version(f) < 3)
		return;
	if ((rc = fidx_records_open(&r, f, type, &err)) != 0) {
		check_error(rc, &err);
		if (verified)
			abort();
		return;
	}
	for (row = 0; row < fidx_file_count(f) && row < 1000; row++) {
		char *p;
		size_t len;
		if ((rc = fidx_records_get(r, row, &p, &len, &err)) != 0) {
			check_error(rc, &err);
			if (verified && rc != FIDX_ENOMEM)
				abort();
			break;
		}
		if (p[len] != '\0')
			abort();
		if (verified && whole) {
			if (off + 4 + len > whole_len || get32((const unsigned char *)whole + off) != len ||
			    memcmp(whole + off + 4, p, len) != 0)
				abort();
			off += 4 + len;
		}
		free(p);
	}
	fidx_records_close(r);
}

/* Exact top-1 by inner product with row 0 as the query, as "fidx search
 * --id" asks: every decoded value is read. Returns the row, or UINT64_MAX
 * when there is none (no rows, or only NaN scores). */
static uint64_t top1(const float *v, uint64_t count, uint32_t dim, float *best_score)
{
	uint64_t r, best = UINT64_MAX;
	uint32_t d;

	*best_score = 0;
	for (r = 0; r < count; r++) {
		float s = 0;
		for (d = 0; d < dim; d++)
			s += v[d] * v[r * dim + d];
		/* NaN never wins; ties keep the first row. */
		if (s == s && (best == UINT64_MAX || s > *best_score)) {
			best = r;
			*best_score = s;
		}
	}
	return best;
}

static void read_vectors(struct fidx_file *f)
{
	struct fidx_err err;
	uint64_t count = fidx_file_count(f), half, bytes;
	uint32_t dim = fidx_file_dim(f);
	float *all, *parts, score;
	struct fidx_dest d[2];
	volatile uint64_t sink;
	int rc;

	if (dim == 0 || count > VECTORS_CAP / 4 / dim)
		return;
	bytes = count * dim * 4;
	all = malloc(bytes ? (size_t)bytes : 1);
	parts = malloc(bytes ? (size_t)bytes : 1);
	if (!all || !parts) {
		free(all);
		free(parts);
		return;
	}
	memset(&err, 0, sizeof err);
	rc = fidx_file_read_vectors(f, all, &err);
	if (rc) {
		/* The file verified: only memory can fail now. */
		check_error(rc, &err);
		if (rc != FIDX_ENOMEM)
			abort();
		goto out;
	}
	/* Two pieces that split blocks: decoded aside, then copied. */
	half = count / 2;
	d[0].first_row = half;
	d[0].rows = count - half;
	d[0].ptr = parts + half * dim;
	d[1].first_row = 0;
	d[1].rows = half;
	d[1].ptr = parts;
	rc = fidx_file_read_rows(f, d, 2, &err);
	if (rc) {
		check_error(rc, &err);
		if (rc != FIDX_ENOMEM)
			abort();
		goto out;
	}
	if (memcmp(all, parts, (size_t)bytes) != 0)
		abort();
	sink = top1(all, count, dim, &score);
	(void)sink;
	(void)score;
out:
	free(all);
	free(parts);
}

static void run(const uint8_t *data, size_t size)
{
	struct fidx_err err;
	struct fidx_file *f = NULL;
	char *sec[FIDX_SEC_MAX + 1] = {0};
	size_t len[FIDX_SEC_MAX + 1] = {0};
	int rc, type, verified;

	memset(&err, 0, sizeof err);
	rc = fidx_file_open_mem(&f, "fuzz.fidx", data, size, &err);
	if (rc) {
		check_error(rc, &err);
		if (f)
			abort();
		return;
	}
	if (!f || fidx_file_size(f) != size || fidx_file_dim(f) == 0 ||
	    fidx_file_dim(f) > FIDX_MAX_DIM || !fidx_file_section(f, FIDX_SEC_META) ||
	    !fidx_file_section(f, FIDX_SEC_VECTORS))
		abort();

	rc = fidx_file_verify(f, &err);
	if (rc)
		check_error(rc, &err);
	verified = rc == 0;

	for (type = 1; type <= FIDX_SEC_MAX; type++) {
		const struct fidx_section_info *s = fidx_file_section(f, type);
		if (!s)
			continue;
		if (s->stored_bytes > size || s->offset > size - s->stored_bytes)
			abort();
		if (s->raw_bytes > SECTION_CAP)
			continue;
		memset(&err, 0, sizeof err);
		rc = fidx_file_read_section(f, type, SECTION_CAP, &sec[type], &len[type], &err);
		if (rc) {
			check_error(rc, &err);
			if (sec[type] || (verified && rc != FIDX_ENOMEM))
				abort();
		} else if (!sec[type] || len[type] != s->raw_bytes || sec[type][len[type]] != '\0') {
			abort();
		}
	}

	for (type = FIDX_SEC_IDS; type <= FIDX_SEC_TEXTS; type++)
		if (fidx_file_section(f, type)) {
			read_records(f, type, sec[type], len[type], verified);
			read_one_by_one(f, type, sec[type], len[type], verified);
		}

	if (verified)
		read_vectors(f);

	for (type = 1; type <= FIDX_SEC_MAX; type++)
		free(sec[type]);
	fidx_file_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *fixed;

	run(data, size);
	fixed = repaired(data, size);
	if (fixed && memcmp(fixed, data, size) != 0)
		run(fixed, size);
	free(fixed);
	return 0;
}
