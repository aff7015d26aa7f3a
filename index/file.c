#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <limits.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "outfile.h"

#define HEADER_SIZE 64
#define BLOCK_HEAD 20
#define TOC_ENTRY 40
#define BLOCK_SIZE (1u << 20)
#define MAX_BLOCK_SIZE (64u << 20)
#define STORED_FLAG 0x80000000u
#define CODEC_DEFLATE 1 /* the block deflated */
#define CODEC_PLANES 2  /* version 1: the block's byte planes deflated together */
#define CODEC_PLANES4 3 /* version 2: each byte plane deflated or stored alone */
#define PLANE_TABLE 16
/* A plane is stored as it is unless deflate saves at least 2% of it; a
 * sample of its first bytes decides for planes of random-looking bytes
 * (the low mantissa bytes), so they cost no compression time. */
#define PLANE_SAMPLE (64u << 10)
#define PLANE_GAIN(n) ((n) - (n) / 50)
/* deflate cannot expand data by more than 1032:1, so a section's decoded
 * size is bounded by its stored size: no small file can ask for a huge
 * allocation. */
#define MAX_RATIO 1032u

static const unsigned char MAGIC[8] = {0x89, 'F', 'I', 'D', 'X', '\r', '\n', 0x1a};
static const unsigned char END[8] = {'F', 'I', 'D', 'X', '-', 'E', 'N', 'D'};

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t crc(const void *p, size_t n)
{
	return libdeflate_crc32(0, p, n);
}

/* The block header's own checksum covers its position too, so a block
 * copied to another place or section is detected. */
static uint32_t head_crc(const unsigned char *h, uint32_t type, uint32_t index)
{
	unsigned char b[24];
	memcpy(b, h, 16);
	put32(b + 16, type);
	put32(b + 20, index);
	return crc(b, sizeof b);
}

static void to_planes(const unsigned char *src, unsigned char *dst, size_t n)
{
	size_t m = n / 4, i;
	for (i = 0; i < m; i++) {
		dst[i] = src[4 * i];
		dst[m + i] = src[4 * i + 1];
		dst[2 * m + i] = src[4 * i + 2];
		dst[3 * m + i] = src[4 * i + 3];
	}
}

/* dst = the m 4-byte values whose bytes are p0[i], p1[i], p2[i], p3[i]. */
static void from_planes(const unsigned char *p0, const unsigned char *p1, const unsigned char *p2,
                        const unsigned char *p3, unsigned char *dst, size_t m)
{
	size_t i = 0;
#ifdef __SSE2__
	for (; i + 16 <= m; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(p0 + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(p1 + i));
		__m128i c = _mm_loadu_si128((const __m128i *)(p2 + i));
		__m128i d = _mm_loadu_si128((const __m128i *)(p3 + i));
		__m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
		__m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
		_mm_storeu_si128((__m128i *)(dst + 4 * i), _mm_unpacklo_epi16(ab_lo, cd_lo));
		_mm_storeu_si128((__m128i *)(dst + 4 * i + 16), _mm_unpackhi_epi16(ab_lo, cd_lo));
		_mm_storeu_si128((__m128i *)(dst + 4 * i + 32), _mm_unpacklo_epi16(ab_hi, cd_hi));
		_mm_storeu_si128((__m128i *)(dst + 4 * i + 48), _mm_unpackhi_epi16(ab_hi, cd_hi));
	}
#endif
	for (; i < m; i++) {
		dst[4 * i] = p0[i];
		dst[4 * i + 1] = p1[i];
		dst[4 * i + 2] = p2[i];
		dst[4 * i + 3] = p3[i];
	}
}

/* ---------------------------------------------------------------- writer */

/* One block's encoded form. */
struct encoded {
	unsigned char head[BLOCK_HEAD];
	unsigned char *buf; /* payload, when not the raw bytes themselves */
	size_t cap;
	const unsigned char *payload;
	uint32_t stored;
};

/* Per-thread encoding state. */
struct encoder {
	struct libdeflate_compressor *c;
	unsigned char *plane;
};

struct secw {
	int fd;
	const char *name;
	uint64_t start, pos;
	uint32_t type, codec, blocks;
	uint64_t raw_total;
	int level, nthreads;
	size_t batch;         /* blocks encoded at once, in parallel */
	unsigned char *raw;   /* batch * BLOCK_SIZE bytes */
	size_t fill;
	struct encoded *enc;  /* batch entries */
	struct encoder *coders; /* nthreads entries */
};

/* Deflates src into dst (room cap); returns the size, or 0 when it does not
 * save at least 2%. */
static size_t squeeze(struct libdeflate_compressor *c, const unsigned char *src, size_t n,
                      unsigned char *dst, size_t cap)
{
	size_t got = libdeflate_deflate_compress(c, src, n, dst, cap);
	return got && got < PLANE_GAIN(n) ? got : 0;
}

static void encode(const struct secw *s, struct encoder *coder, const unsigned char *raw, size_t n,
                   uint32_t index, struct encoded *e)
{
	uint32_t stored = 0, flag = 0;

	if (s->codec == CODEC_PLANES4) {
		size_t q = n / 4, off = PLANE_TABLE;
		int p;
		to_planes(raw, coder->plane, n);
		for (p = 0; p < 4; p++) {
			const unsigned char *plane = coder->plane + (size_t)p * q;
			size_t got = 0;
			/* A sample that does not compress means the plane will not. */
			if (q <= PLANE_SAMPLE || squeeze(coder->c, plane, PLANE_SAMPLE, e->buf + off, e->cap - off))
				got = squeeze(coder->c, plane, q, e->buf + off, e->cap - off);
			if (!got) {
				memcpy(e->buf + off, plane, q);
				put32(e->buf + 4 * p, (uint32_t)q | STORED_FLAG);
				off += q;
			} else {
				put32(e->buf + 4 * p, (uint32_t)got);
				off += got;
			}
		}
		e->payload = e->buf;
		stored = (uint32_t)off;
	} else {
		size_t got = libdeflate_deflate_compress(coder->c, raw, n, e->buf, e->cap);
		if (got && got < n) {
			e->payload = e->buf;
			stored = (uint32_t)got;
		} else {
			/* Incompressible: keep the bytes as they are. */
			e->payload = raw;
			stored = (uint32_t)n;
			flag = STORED_FLAG;
		}
	}
	put32(e->head, stored | flag);
	put32(e->head + 4, (uint32_t)n);
	put32(e->head + 8, crc(raw, n));
	put32(e->head + 12, crc(e->payload, stored));
	put32(e->head + 16, head_crc(e->head, s->type, index));
	e->stored = stored;
}

static void secw_free(struct secw *s)
{
	size_t i;
	if (s->coders)
		for (i = 0; i < (size_t)s->nthreads; i++) {
			if (s->coders[i].c)
				libdeflate_free_compressor(s->coders[i].c);
			free(s->coders[i].plane);
		}
	if (s->enc)
		for (i = 0; i < s->batch; i++)
			free(s->enc[i].buf);
	free(s->coders);
	free(s->enc);
	free(s->raw);
	s->coders = NULL;
	s->enc = NULL;
	s->raw = NULL;
}

static int secw_init(struct secw *s, int fd, const char *name, uint64_t start, uint32_t type,
                     uint32_t codec, int level, struct fidx_err *err)
{
	size_t i, bound;

	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->name = name;
	s->start = s->pos = start;
	s->type = type;
	s->codec = codec;
	s->level = level;
	/* Only the vectors are large enough to be worth several threads. */
	s->nthreads = type == FIDX_SEC_VECTORS ? omp_get_max_threads() : 1;
	if (s->nthreads < 1)
		s->nthreads = 1;
	s->batch = (size_t)s->nthreads * 2;
	s->raw = malloc(s->batch * BLOCK_SIZE);
	s->enc = calloc(s->batch, sizeof *s->enc);
	s->coders = calloc((size_t)s->nthreads, sizeof *s->coders);
	if (!s->raw || !s->enc || !s->coders)
		return fidx_err_nomem(err);
	for (i = 0; i < (size_t)s->nthreads; i++) {
		if (!(s->coders[i].c = libdeflate_alloc_compressor(level)))
			return fidx_err_nomem(err);
		if (codec == CODEC_PLANES4 && !(s->coders[i].plane = malloc(BLOCK_SIZE)))
			return fidx_err_nomem(err);
	}
	bound = libdeflate_deflate_compress_bound(s->coders[0].c, BLOCK_SIZE);
	if (codec == CODEC_PLANES4)
		bound = PLANE_TABLE + 4 * libdeflate_deflate_compress_bound(s->coders[0].c, BLOCK_SIZE / 4);
	for (i = 0; i < s->batch; i++) {
		s->enc[i].cap = bound;
		if (!(s->enc[i].buf = malloc(bound)))
			return fidx_err_nomem(err);
	}
	return 0;
}

/* Encodes the buffered blocks (in parallel) and writes them in order. */
static int secw_flush(struct secw *s, struct fidx_err *err)
{
	size_t nblk = (s->fill + BLOCK_SIZE - 1) / BLOCK_SIZE, i;
	long b;
	int rc = 0;

	if (!nblk)
		return 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->nthreads) if (nblk > 1)
	for (b = 0; b < (long)nblk; b++) {
		size_t off = (size_t)b * BLOCK_SIZE, n = s->fill - off < BLOCK_SIZE ? s->fill - off : BLOCK_SIZE;
		encode(s, &s->coders[omp_get_thread_num()], s->raw + off, n, s->blocks + (uint32_t)b, &s->enc[b]);
	}
	for (i = 0; i < nblk && !rc; i++) {
		struct encoded *e = &s->enc[i];
		rc = fidx_pwrite_all(s->fd, e->head, BLOCK_HEAD, s->pos, s->name, err);
		if (!rc)
			rc = fidx_pwrite_all(s->fd, e->payload, e->stored, s->pos + BLOCK_HEAD, s->name, err);
		s->pos += BLOCK_HEAD + (uint64_t)e->stored;
		s->raw_total += get32(e->head + 4);
	}
	s->blocks += (uint32_t)nblk;
	s->fill = 0;
	return rc;
}

static int secw_put(struct secw *s, const void *data, size_t n, struct fidx_err *err)
{
	const unsigned char *p = data;
	size_t cap = s->batch * BLOCK_SIZE;
	while (n) {
		size_t take = cap - s->fill;
		if (take > n)
			take = n;
		memcpy(s->raw + s->fill, p, take);
		s->fill += take, p += take, n -= take;
		if (s->fill == cap) {
			int rc = secw_flush(s, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}
static int secw_finish(struct secw *s, struct fidx_section_info *info, struct fidx_err *err)
{
	int rc = secw_flush(s, err);
	if (rc)
		return rc;
	info->type = s->type;
	info->codec = s->codec;
	info->offset = s->start;
	info->stored_bytes = s->pos - s->start;
	info->raw_bytes = s->raw_total;
	info->block_count = s->blocks;
	info->block_size = BLOCK_SIZE;
	return 0;
}

/* Ids, texts and metadata are small next to the vectors and compress well:
 * they get at least level 6 whatever the vectors get. */
static int text_level(int level)
{
	return level < 6 ? 6 : level;
}

struct fidx_file_writer {
	struct fidx_outfile out;
	uint32_t dim;
	int level;
	uint64_t rows, nids, ntexts;
	int ids_fd, texts_fd;
	struct secw vec, ids, texts;
};

int fidx_file_check_target(const char *path, int force, struct fidx_err *err)
{
	unsigned char head[sizeof MAGIC];
	struct stat st;
	ssize_t got = 0;
	int fd;

	if (stat(path, &st) != 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return fidx_err_set(err, FIDX_EINPUT, "%s is a folder, not an index file", path);
	if (force || !S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		while ((got = pread(fd, head, sizeof head, 0)) < 0 && errno == EINTR)
			;
		close(fd);
	}
	if (got == (ssize_t)sizeof head && memcmp(head, MAGIC, sizeof MAGIC) == 0)
		return 0;
	return fidx_err_set(err, FIDX_EINPUT, "%s exists and is not a fidx index: give " FIDX_SETTING("force") " to replace it", path);
}

int fidx_fw_open(struct fidx_file_writer **out, const char *path, uint32_t dim, int level,
                 unsigned flags, struct fidx_err *err)
{
	struct fidx_file_writer *w;
	int rc;

	*out = NULL;
	if (dim > FIDX_MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "dimension %u is out of range (1..%u)", dim, FIDX_MAX_DIM);
	w = calloc(1, sizeof *w);
	if (!w)
		return fidx_err_nomem(err);
	w->ids_fd = w->texts_fd = -1;
	w->out.fd = -1;
	w->dim = dim;
	w->level = level;
	rc = fidx_outfile_open(&w->out, path, flags, err);
	if (rc)
		goto fail;
	if ((w->ids_fd = fidx_spool_open(path, err)) < 0) {
		rc = w->ids_fd;
		goto fail;
	}
	if ((w->texts_fd = fidx_spool_open(path, err)) < 0) {
		rc = w->texts_fd;
		goto fail;
	}
	if ((rc = secw_init(&w->vec, w->out.fd, w->out.tmp, HEADER_SIZE, FIDX_SEC_VECTORS,
	                    CODEC_PLANES4, level, err)) != 0 ||
	    (rc = secw_init(&w->ids, w->ids_fd, w->out.tmp, 0, FIDX_SEC_IDS, CODEC_DEFLATE,
	                    text_level(level), err)) != 0 ||
	    (rc = secw_init(&w->texts, w->texts_fd, w->out.tmp, 0, FIDX_SEC_TEXTS, CODEC_DEFLATE,
	                    text_level(level), err)) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	fidx_fw_abort(w);
	return rc;
}

int fidx_fw_set_dim(struct fidx_file_writer *w, uint32_t dim, struct fidx_err *err)
{
	if (dim == 0 || dim > FIDX_MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "dimension %u is out of range (1..%u)", dim, FIDX_MAX_DIM);
	if (w->dim && w->dim != dim)
		return fidx_err_set(err, FIDX_EINTERNAL, "the dimension of %s was already set", w->out.target);
	w->dim = dim;
	return 0;
}

void fidx_fw_abort(struct fidx_file_writer *w)
{
	if (!w)
		return;
	secw_free(&w->vec);
	secw_free(&w->ids);
	secw_free(&w->texts);
	if (w->ids_fd >= 0)
		close(w->ids_fd);
	if (w->texts_fd >= 0)
		close(w->texts_fd);
	fidx_outfile_abort(&w->out);
	free(w);
}

int fidx_fw_vectors(struct fidx_file_writer *w, const float *rows, size_t n, struct fidx_err *err)
{
	int rc = secw_put(&w->vec, rows, n * w->dim * sizeof *rows, err);
	if (!rc)
		w->rows += n;
	return rc;
}

static int put_record(struct secw *s, const char *p, size_t len, struct fidx_err *err)
{
	unsigned char head[4];
	int rc;
	if (len > UINT32_MAX)
		return fidx_err_set(err, FIDX_EINPUT, "a value of %zu bytes is too long", len);
	put32(head, (uint32_t)len);
	rc = secw_put(s, head, 4, err);
	return rc ? rc : secw_put(s, p, len, err);
}

int fidx_fw_id(struct fidx_file_writer *w, const char *id, size_t len, struct fidx_err *err)
{
	int rc = put_record(&w->ids, id, len, err);
	if (!rc)
		w->nids++;
	return rc;
}

int fidx_fw_text(struct fidx_file_writer *w, const char *text, size_t len, struct fidx_err *err)
{
	int rc = put_record(&w->texts, text, len, err);
	if (!rc)
		w->ntexts++;
	return rc;
}

uint64_t fidx_fw_count(const struct fidx_file_writer *w)
{
	return w->rows;
}

/* Appends a spooled section to the output at *pos. */
static int copy_spool(struct fidx_file_writer *w, int fd, struct fidx_section_info *info,
                      uint64_t *pos, struct fidx_err *err)
{
	unsigned char *buf = malloc(BLOCK_SIZE);
	uint64_t off = 0;
	int rc = 0;

	if (!buf)
		return fidx_err_nomem(err);
	while (off < info->stored_bytes) {
		size_t take = info->stored_bytes - off < BLOCK_SIZE ? (size_t)(info->stored_bytes - off) : BLOCK_SIZE;
		rc = fidx_pread_all(fd, buf, take, off, "scratch file", err);
		if (rc) {
			if (rc == FIDX_ECORRUPT)
				rc = fidx_err_set(err, FIDX_EIO, "scratch file: short read");
			break;
		}
		rc = fidx_pwrite_all(w->out.fd, buf, take, *pos + off, w->out.tmp, err);
		if (rc)
			break;
		off += take;
	}
	free(buf);
	if (!rc) {
		info->offset = *pos;
		*pos += info->stored_bytes;
	}
	return rc;
}

int fidx_fw_commit(struct fidx_file_writer *w, const char *meta_json, struct fidx_err *err)
{
	struct fidx_section_info sec[FIDX_SEC_MAX];
	unsigned char head[HEADER_SIZE], *toc = NULL;
	struct secw meta;
	struct fidx_file *check = NULL;
	size_t nsec = 0, i;
	uint64_t pos;
	int rc;

	memset(&meta, 0, sizeof meta);
	if (w->nids && w->nids != w->rows) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%llu ids for %llu rows",
		                  (unsigned long long)w->nids, (unsigned long long)w->rows);
		goto out;
	}
	if (w->ntexts && w->ntexts != w->rows) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%llu texts for %llu rows",
		                  (unsigned long long)w->ntexts, (unsigned long long)w->rows);
		goto out;
	}
	if ((rc = secw_finish(&w->vec, &sec[nsec++], err)) != 0)
		goto out;
	pos = w->vec.pos;
	if (w->nids) {
		if ((rc = secw_finish(&w->ids, &sec[nsec], err)) != 0 ||
		    (rc = copy_spool(w, w->ids_fd, &sec[nsec], &pos, err)) != 0)
			goto out;
		nsec++;
	}
	if (w->ntexts) {
		if ((rc = secw_finish(&w->texts, &sec[nsec], err)) != 0 ||
		    (rc = copy_spool(w, w->texts_fd, &sec[nsec], &pos, err)) != 0)
			goto out;
		nsec++;
	}
	if ((rc = secw_init(&meta, w->out.fd, w->out.tmp, pos, FIDX_SEC_META, CODEC_DEFLATE, text_level(w->level),
	                    err)) != 0 ||
	    (rc = secw_put(&meta, meta_json, strlen(meta_json), err)) != 0 ||
	    (rc = secw_finish(&meta, &sec[nsec++], err)) != 0)
		goto out;
	pos = meta.pos;

	toc = malloc(nsec * TOC_ENTRY + 4 + sizeof END);
	if (!toc) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	for (i = 0; i < nsec; i++) {
		unsigned char *e = toc + i * TOC_ENTRY;
		put32(e, sec[i].type);
		put32(e + 4, sec[i].codec);
		put64(e + 8, sec[i].offset);
		put64(e + 16, sec[i].stored_bytes);
		put64(e + 24, sec[i].raw_bytes);
		put32(e + 32, sec[i].block_count);
		put32(e + 36, sec[i].block_size);
	}
	put32(toc + nsec * TOC_ENTRY, crc(toc, nsec * TOC_ENTRY));
	memcpy(toc + nsec * TOC_ENTRY + 4, END, sizeof END);
	if ((rc = fidx_pwrite_all(w->out.fd, toc, nsec * TOC_ENTRY + 4 + sizeof END, pos, w->out.tmp,
	                          err)) != 0)
		goto out;

	memset(head, 0, sizeof head);
	memcpy(head, MAGIC, sizeof MAGIC);
	put32(head + 8, FIDX_FORMAT_VERSION);
	put32(head + 12, HEADER_SIZE);
	put64(head + 16, pos + nsec * TOC_ENTRY + 4 + sizeof END);
	put64(head + 24, w->rows);
	put32(head + 32, w->dim);
	put32(head + 36, (uint32_t)nsec);
	put64(head + 40, pos);
	put32(head + 48, (uint32_t)(nsec * TOC_ENTRY + 4));
	put32(head + 60, crc(head, 60));
	if ((rc = fidx_pwrite_all(w->out.fd, head, sizeof head, 0, w->out.tmp, err)) != 0)
		goto out;
	if (ftruncate(w->out.fd, (off_t)(pos + nsec * TOC_ENTRY + 4 + sizeof END)) != 0) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: truncate failed", w->out.tmp);
		goto out;
	}

	/* Read back what was written before it replaces anything. */
	rc = fidx_file_open(&check, w->out.tmp, err);
	if (!rc)
		rc = fidx_file_verify(check, err);
	fidx_file_close(check);
	if (rc) {
		fidx_err_prefix(err, "the new index failed verification");
		goto out;
	}
	rc = fidx_outfile_commit(&w->out, err);
out:
	secw_free(&meta);
	free(toc);
	fidx_fw_abort(w);
	return rc;
}

/* ---------------------------------------------------------------- reader */

struct fidx_file {
	char *name;
	int fd;
	const unsigned char *mem;
	uint64_t size;
	uint32_t version, dim, nsec;
	uint64_t count;
	struct fidx_section_info sec[FIDX_SEC_MAX + 1]; /* by type */
	int has[FIDX_SEC_MAX + 1];
};

static int corrupt(const struct fidx_file *f, struct fidx_err *err, const char *what)
{
	return fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: %s", f->name, what);
}

static int rd(const struct fidx_file *f, uint64_t off, void *buf, size_t n, struct fidx_err *err)
{
	if (off > f->size || n > f->size - off)
		return corrupt(f, err, "a read goes past the end of the file");
	if (f->mem) {
		memcpy(buf, f->mem + off, n);
		return 0;
	}
	return fidx_pread_all(f->fd, buf, n, off, f->name, err);
}

static int check_sections(struct fidx_file *f, struct fidx_err *err)
{
	uint64_t toc_off, limit;
	uint32_t toc_size, i, j;
	unsigned char head[HEADER_SIZE], tail[sizeof END], *toc;
	int rc;

	if (f->size < HEADER_SIZE + sizeof END) {
		if (f->size >= sizeof MAGIC) {
			rc = rd(f, 0, head, sizeof MAGIC, err);
			if (rc)
				return rc;
			if (memcmp(head, MAGIC, sizeof MAGIC) == 0)
				return corrupt(f, err, "truncated header");
		}
		return fidx_err_set(err, FIDX_ECORRUPT, "%s: not a fidx index (too short)", f->name);
	}
	if ((rc = rd(f, 0, head, HEADER_SIZE, err)) != 0)
		return rc;
	if (memcmp(head, MAGIC, sizeof MAGIC) != 0)
		return fidx_err_set(err, FIDX_ECORRUPT, "%s: not a fidx index (wrong magic number)", f->name);
	if (get32(head + 60) != crc(head, 60))
		return corrupt(f, err, "header checksum mismatch");
	f->version = get32(head + 8);
	if (f->version < 1 || f->version > FIDX_FORMAT_VERSION)
		return fidx_err_set(err, FIDX_ECORRUPT,
		                    "%s: index format version %u is not supported (this fidx reads versions 1 to %u)",
		                    f->name, f->version, FIDX_FORMAT_VERSION);
	if (get32(head + 12) != HEADER_SIZE)
		return corrupt(f, err, "unexpected header size");
	if (get64(head + 16) != f->size) {
		if (get64(head + 16) > f->size)
			return corrupt(f, err, "the file is truncated");
		return corrupt(f, err, "the file has extra bytes at its end");
	}
	f->count = get64(head + 24);
	f->dim = get32(head + 32);
	f->nsec = get32(head + 36);
	toc_off = get64(head + 40);
	toc_size = get32(head + 48);
	if (f->dim == 0 || f->dim > FIDX_MAX_DIM)
		return corrupt(f, err, "dimension out of range");
	if (f->nsec < 2 || f->nsec > FIDX_SEC_MAX || toc_size != f->nsec * TOC_ENTRY + 4)
		return corrupt(f, err, "bad table of contents size");
	if (toc_off < HEADER_SIZE || toc_off + toc_size + sizeof END != f->size)
		return corrupt(f, err, "bad table of contents offset");
	if ((rc = rd(f, f->size - sizeof END, tail, sizeof END, err)) != 0)
		return rc;
	if (memcmp(tail, END, sizeof END) != 0)
		return corrupt(f, err, "missing end marker");
	toc = malloc(toc_size);
	if (!toc)
		return fidx_err_nomem(err);
	if ((rc = rd(f, toc_off, toc, toc_size, err)) != 0) {
		free(toc);
		return rc;
	}
	if (get32(toc + f->nsec * TOC_ENTRY) != crc(toc, f->nsec * TOC_ENTRY)) {
		free(toc);
		return corrupt(f, err, "table of contents checksum mismatch");
	}
	limit = toc_off;
	for (i = 0; i < f->nsec; i++) {
		const unsigned char *e = toc + i * TOC_ENTRY;
		struct fidx_section_info s;
		uint64_t blocks_min;
		s.type = get32(e);
		s.codec = get32(e + 4);
		s.offset = get64(e + 8);
		s.stored_bytes = get64(e + 16);
		s.raw_bytes = get64(e + 24);
		s.block_count = get32(e + 32);
		s.block_size = get32(e + 36);
		if (s.type < 1 || s.type > FIDX_SEC_MAX || f->has[s.type]) {
			free(toc);
			return corrupt(f, err, "unknown or repeated section");
		}
		if (s.codec != (s.type != FIDX_SEC_VECTORS ? CODEC_DEFLATE : f->version == 1 ? CODEC_PLANES : CODEC_PLANES4)) {
			free(toc);
			return corrupt(f, err, "unknown section encoding");
		}
		if (s.block_size < 4 || s.block_size > MAX_BLOCK_SIZE || s.block_size % 4) {
			free(toc);
			return corrupt(f, err, "bad block size");
		}
		blocks_min = s.raw_bytes / s.block_size + (s.raw_bytes % s.block_size != 0);
		if (s.offset < HEADER_SIZE || s.offset > limit || s.stored_bytes > limit - s.offset ||
		    s.block_count != blocks_min ||
		    s.stored_bytes < (uint64_t)s.block_count * BLOCK_HEAD ||
		    s.raw_bytes / MAX_RATIO > s.stored_bytes) {
			free(toc);
			return corrupt(f, err, "section sizes do not fit the file");
		}
		f->sec[s.type] = s;
		f->has[s.type] = 1;
	}
	free(toc);
	/* Sections must not overlap. */
	for (i = 1; i <= FIDX_SEC_MAX; i++)
		for (j = i + 1; j <= FIDX_SEC_MAX; j++) {
			const struct fidx_section_info *a = &f->sec[i], *b = &f->sec[j];
			if (f->has[i] && f->has[j] && a->offset < b->offset + b->stored_bytes &&
			    b->offset < a->offset + a->stored_bytes)
				return corrupt(f, err, "sections overlap");
		}
	if (!f->has[FIDX_SEC_META] || !f->has[FIDX_SEC_VECTORS])
		return corrupt(f, err, "missing metadata or vectors");
	if (f->count > UINT64_MAX / 4 / f->dim ||
	    f->sec[FIDX_SEC_VECTORS].raw_bytes != f->count * f->dim * 4)
		return corrupt(f, err, "the vectors do not match the dimension and count");
	if (f->sec[FIDX_SEC_META].raw_bytes > (16u << 20))
		return corrupt(f, err, "metadata too large");
	for (i = FIDX_SEC_IDS; i <= FIDX_SEC_TEXTS; i++)
		if (f->has[i] && (f->count > UINT64_MAX / 4 || f->sec[i].raw_bytes < f->count * 4))
			return corrupt(f, err, "ids or texts do not match the count");
	return 0;
}

static int open_common(struct fidx_file *f, struct fidx_err *err)
{
	int rc = check_sections(f, err);
	if (rc)
		fidx_file_close(f);
	return rc;
}

int fidx_file_open(struct fidx_file **out, const char *path, struct fidx_err *err)
{
	struct fidx_file *f;
	struct stat st;

	*out = NULL;
	f = calloc(1, sizeof *f);
	if (!f || !(f->name = strdup(path))) {
		free(f);
		return fidx_err_nomem(err);
	}
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		int e = errno;
		fidx_file_close(f);
		return fidx_err_sys(err, FIDX_EIO, e, "%s", path);
	}
	if (fstat(f->fd, &st) != 0) {
		int e = errno;
		fidx_file_close(f);
		return fidx_err_sys(err, FIDX_EIO, e, "%s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		fidx_file_close(f);
		return fidx_err_set(err, FIDX_EINPUT, "%s: not a regular file", path);
	}
	f->size = (uint64_t)st.st_size;
	if (open_common(f, err))
		return err ? err->code : FIDX_ECORRUPT;
	*out = f;
	return 0;
}

int fidx_file_open_mem(struct fidx_file **out, const char *name, const void *data, size_t n,
                       struct fidx_err *err)
{
	struct fidx_file *f;

	*out = NULL;
	f = calloc(1, sizeof *f);
	if (!f || !(f->name = strdup(name))) {
		free(f);
		return fidx_err_nomem(err);
	}
	f->fd = -1;
	f->mem = data;
	f->size = n;
	if (open_common(f, err))
		return err ? err->code : FIDX_ECORRUPT;
	*out = f;
	return 0;
}

void fidx_file_close(struct fidx_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->name);
	free(f);
}

const char *fidx_file_name(const struct fidx_file *f) { return f->name; }
uint32_t fidx_file_version(const struct fidx_file *f) { return f->version; }
uint32_t fidx_file_dim(const struct fidx_file *f) { return f->dim; }
uint64_t fidx_file_count(const struct fidx_file *f) { return f->count; }
uint64_t fidx_file_size(const struct fidx_file *f) { return f->size; }

const struct fidx_section_info *fidx_file_section(const struct fidx_file *f, int type)
{
	return type >= 1 && type <= FIDX_SEC_MAX && f->has[type] ? &f->sec[type] : NULL;
}

/* ---------------------------------------------------------------- blocks */

struct blk {
	uint64_t pos;      /* of the header */
	uint64_t raw_off;  /* of the decoded bytes in the section */
	uint32_t stored, raw, index, flag, raw_crc, stored_crc;
};

/* Reads and checks the header of block `index`, which starts at pos and
 * decodes to the section's bytes from raw_off. */
static int read_head(struct fidx_file *f, const struct fidx_section_info *s, uint64_t pos,
                     uint32_t index, uint64_t raw_off, struct blk *b, struct fidx_err *err)
{
	unsigned char head[BLOCK_HEAD];
	uint64_t end = s->offset + s->stored_bytes, expect;
	int rc;

	if (index >= s->block_count)
		return corrupt(f, err, "a section ends early");
	if (pos + BLOCK_HEAD > end)
		return corrupt(f, err, "a block header goes past its section");
	if ((rc = rd(f, pos, head, BLOCK_HEAD, err)) != 0)
		return rc;
	if (get32(head + 16) != head_crc(head, s->type, index))
		return corrupt(f, err, "block header checksum mismatch");
	b->pos = pos;
	b->raw_off = raw_off;
	b->index = index;
	b->flag = get32(head) & STORED_FLAG;
	b->stored = get32(head) & ~STORED_FLAG;
	b->raw = get32(head + 4);
	b->raw_crc = get32(head + 8);
	b->stored_crc = get32(head + 12);
	expect = s->raw_bytes - raw_off < s->block_size ? s->raw_bytes - raw_off : s->block_size;
	if (b->raw != expect || b->stored > end - pos - BLOCK_HEAD ||
	    (b->flag && (b->stored != b->raw || s->codec == CODEC_PLANES4)) ||
	    (s->codec != CODEC_DEFLATE && b->raw % 4) ||
	    (s->codec == CODEC_PLANES4 && b->stored < PLANE_TABLE))
		return corrupt(f, err, "block sizes do not fit their section");
	if (index + 1 == s->block_count && pos + BLOCK_HEAD + b->stored != end)
		return corrupt(f, err, "a section has bytes after its last block");
	return 0;
}

/* The headers of all blocks of a section. */
static int block_table(struct fidx_file *f, const struct fidx_section_info *s, struct blk **out,
                       struct fidx_err *err)
{
	struct blk *t = malloc(((size_t)s->block_count + 1) * sizeof *t);
	uint64_t pos = s->offset, raw = 0;
	uint32_t i;
	int rc;

	*out = NULL;
	if (!t)
		return fidx_err_nomem(err);
	for (i = 0; i < s->block_count; i++) {
		if ((rc = read_head(f, s, pos, i, raw, &t[i], err)) != 0) {
			free(t);
			return rc;
		}
		pos += BLOCK_HEAD + (uint64_t)t[i].stored;
		raw += t[i].raw;
	}
	*out = t;
	return 0;
}

/* Per-thread decoding state: the stored bytes of a block and its planes. */
struct decoder {
	struct libdeflate_decompressor *d;
	unsigned char *stored, *plane;
	size_t stored_cap, block;
};

static void decoder_free(struct decoder *c)
{
	if (c->d)
		libdeflate_free_decompressor(c->d);
	free(c->stored);
	free(c->plane);
	memset(c, 0, sizeof *c);
}

/* Sized for the blocks of section s. */
static int decoder_init(struct decoder *c, const struct fidx_section_info *s, struct fidx_err *err)
{
	size_t bs = s->raw_bytes < s->block_size ? (size_t)s->raw_bytes : s->block_size;
	memset(c, 0, sizeof *c);
	if (!bs)
		bs = 4;
	c->block = bs;
	/* Largest stored payload: the raw size plus deflate's worst expansion. */
	c->stored_cap = bs + bs / 8 + 1024 + PLANE_TABLE;
	c->d = libdeflate_alloc_decompressor();
	c->stored = malloc(c->stored_cap);
	c->plane = malloc(bs);
	if (!c->d || !c->stored || !c->plane) {
		decoder_free(c);
		return fidx_err_nomem(err);
	}
	return 0;
}

static int inflate_exact(struct libdeflate_decompressor *d, const unsigned char *in, size_t n,
                         unsigned char *out, size_t want)
{
	size_t got_in = 0, got = 0;
	enum libdeflate_result r = libdeflate_deflate_decompress_ex(d, in, n, out, want, &got_in, &got);
	return r == LIBDEFLATE_SUCCESS && got == want && got_in == n ? 0 : -1;
}

/* Decodes block b into dst (b->raw bytes) and checks both checksums. */
static int decode(struct fidx_file *f, const struct fidx_section_info *s, const struct blk *b,
                  struct decoder *c, unsigned char *dst, struct fidx_err *err)
{
	int rc;

	if (b->stored > c->stored_cap || b->raw > c->block)
		return corrupt(f, err, "block sizes do not fit their section");
	if ((rc = rd(f, b->pos + BLOCK_HEAD, c->stored, b->stored, err)) != 0)
		return rc;
	/* The stored bytes have their own checksum: a flip in bits that
	 * inflate ignores (the padding of the last byte) is caught too. */
	if (crc(c->stored, b->stored) != b->stored_crc)
		return corrupt(f, err, "block checksum mismatch");
	if (b->flag) {
		memcpy(dst, c->stored, b->raw);
	} else if (s->codec == CODEC_DEFLATE) {
		if (inflate_exact(c->d, c->stored, b->stored, dst, b->raw))
			return corrupt(f, err, "a block does not inflate");
	} else if (s->codec == CODEC_PLANES) {
		if (inflate_exact(c->d, c->stored, b->stored, c->plane, b->raw))
			return corrupt(f, err, "a block does not inflate");
		from_planes(c->plane, c->plane + b->raw / 4, c->plane + b->raw / 2, c->plane + b->raw / 4 * 3,
		            dst, b->raw / 4);
	} else {
		const unsigned char *plane[4];
		size_t q = b->raw / 4, off = PLANE_TABLE;
		int p;
		for (p = 0; p < 4; p++) {
			uint32_t len = get32(c->stored + 4 * p) & ~STORED_FLAG;
			int raw = (get32(c->stored + 4 * p) & STORED_FLAG) != 0;
			if (len > b->stored - off || (raw && len != q))
				return corrupt(f, err, "block sizes do not fit their section");
			if (raw) {
				plane[p] = c->stored + off;
			} else {
				if (inflate_exact(c->d, c->stored + off, len, c->plane + (size_t)p * q, q))
					return corrupt(f, err, "a block does not inflate");
				plane[p] = c->plane + (size_t)p * q;
			}
			off += len;
		}
		if (off != b->stored)
			return corrupt(f, err, "block sizes do not fit their section");
		from_planes(plane[0], plane[1], plane[2], plane[3], dst, q);
	}
	if (crc(dst, b->raw) != b->raw_crc)
		return corrupt(f, err, "block checksum mismatch");
	return 0;
}

/* Decodes every block of section type in parallel. Each block's bytes go
 * to the destination that holds its whole range, if one does; otherwise
 * they are decoded aside and copied piece by piece (dests sorted by
 * offset, covering the section; nd == 0 only checks). */
struct span {
	uint64_t off, len;
	unsigned char *ptr;
};

static int decode_all(struct fidx_file *f, int type, const struct span *dests, size_t nd,
                      struct fidx_err *err)
{
	const struct fidx_section_info *s = fidx_file_section(f, type);
	struct blk *t = NULL;
	long first_bad = LONG_MAX, i;
	int rc, nthreads;

	if (!s)
		return corrupt(f, err, "a section is missing");
	if ((rc = block_table(f, s, &t, err)) != 0)
		return rc;
	nthreads = s->block_count > 1 ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(nthreads)
	{
		struct decoder c;
		struct fidx_err mine = {0};
		unsigned char *aside = NULL;
		long bad = LONG_MAX;
		int ok = decoder_init(&c, s, &mine) == 0;
		if (ok && !(aside = malloc(c.block)))
			ok = 0, fidx_err_nomem(&mine);
		if (!ok)
			bad = -1;
#pragma omp for schedule(dynamic, 1)
		for (i = 0; i < (long)s->block_count; i++) {
			const struct blk *b = &t[i];
			unsigned char *dst = aside;
			size_t j;
			if (!ok || i > bad)
				continue;
			for (j = 0; j < nd; j++)
				if (b->raw_off >= dests[j].off && b->raw_off + b->raw <= dests[j].off + dests[j].len)
					dst = dests[j].ptr + (b->raw_off - dests[j].off);
			if (decode(f, s, b, &c, dst, &mine) != 0) {
				bad = i;
				continue;
			}
			if (dst == aside)
				for (j = 0; j < nd; j++) {
					uint64_t lo = b->raw_off > dests[j].off ? b->raw_off : dests[j].off;
					uint64_t hi = b->raw_off + b->raw < dests[j].off + dests[j].len
					                  ? b->raw_off + b->raw : dests[j].off + dests[j].len;
					if (lo < hi)
						memcpy(dests[j].ptr + (lo - dests[j].off), aside + (lo - b->raw_off), hi - lo);
				}
		}
		/* The lowest failing block reports, whichever thread met it. */
#pragma omp critical(fidx_decode_error)
		if (bad < first_bad) {
			first_bad = bad;
			if (err)
				*err = mine;
		}
		free(aside);
		decoder_free(&c);
	}
	free(t);
	if (first_bad != LONG_MAX)
		return err && err->code ? err->code : FIDX_ECORRUPT;
	return 0;
}

int fidx_file_read_rows(struct fidx_file *f, const struct fidx_dest *d, size_t nd,
                        struct fidx_err *err)
{
	struct span *sp = malloc((nd ? nd : 1) * sizeof *sp);
	uint64_t row_bytes = (uint64_t)f->dim * 4;
	size_t i;
	int rc;

	if (!sp)
		return fidx_err_nomem(err);
	for (i = 0; i < nd; i++) {
		if (d[i].first_row > f->count || d[i].rows > f->count - d[i].first_row) {
			free(sp);
			return fidx_err_set(err, FIDX_EINTERNAL, "rows out of range");
		}
		sp[i].off = d[i].first_row * row_bytes;
		sp[i].len = d[i].rows * row_bytes;
		sp[i].ptr = (unsigned char *)d[i].ptr;
	}
	rc = decode_all(f, FIDX_SEC_VECTORS, sp, nd, err);
	free(sp);
	return rc;
}

int fidx_file_read_vectors(struct fidx_file *f, float *dst, struct fidx_err *err)
{
	struct fidx_dest d = {0, f->count, dst};
	return fidx_file_read_rows(f, &d, 1, err);
}

int fidx_file_verify(struct fidx_file *f, struct fidx_err *err)
{
	int type, rc;
	for (type = 1; type <= FIDX_SEC_MAX; type++)
		if (f->has[type] && (rc = decode_all(f, type, NULL, 0, err)) != 0)
			return rc;
	return 0;
}

/* ---------------------------------------------------------------- cursor */

struct fidx_cursor {
	struct fidx_file *f;
	const struct fidx_section_info *s;
	uint64_t pos;      /* file offset of the next block header */
	uint64_t raw_done; /* decoded bytes of blocks already loaded */
	uint32_t next_block;
	struct decoder c;
	unsigned char *block;
	size_t have, at;   /* bytes in block[], read position */
	char *rec;
	size_t rec_cap;
};

/* Decodes the next block into dst (room for its raw size). */
static int next_block(struct fidx_cursor *c, unsigned char *dst, size_t *n, struct fidx_err *err)
{
	struct blk b;
	int rc = read_head(c->f, c->s, c->pos, c->next_block, c->raw_done, &b, err);
	if (rc || (rc = decode(c->f, c->s, &b, &c->c, dst, err)) != 0)
		return rc;
	c->pos += BLOCK_HEAD + (uint64_t)b.stored;
	c->raw_done += b.raw;
	c->next_block++;
	*n = b.raw;
	return 0;
}

int fidx_cursor_open(struct fidx_cursor **out, struct fidx_file *f, int type, struct fidx_err *err)
{
	struct fidx_cursor *c;
	const struct fidx_section_info *s = fidx_file_section(f, type);
	int rc;

	*out = NULL;
	if (!s)
		return corrupt(f, err, "a section is missing");
	c = calloc(1, sizeof *c);
	if (!c)
		return fidx_err_nomem(err);
	c->f = f;
	c->s = s;
	c->pos = s->offset;
	if ((rc = decoder_init(&c->c, s, err)) != 0) {
		free(c);
		return rc;
	}
	if (!(c->block = malloc(c->c.block))) {
		fidx_cursor_close(c);
		return fidx_err_nomem(err);
	}
	*out = c;
	return 0;
}

void fidx_cursor_close(struct fidx_cursor *c)
{
	if (!c)
		return;
	decoder_free(&c->c);
	free(c->block);
	free(c->rec);
	free(c);
}

uint64_t fidx_cursor_left(const struct fidx_cursor *c)
{
	return c->s->raw_bytes - c->raw_done + (c->have - c->at);
}

int fidx_cursor_read(struct fidx_cursor *c, void *buf, size_t n, struct fidx_err *err)
{
	unsigned char *p = buf;
	while (n) {
		size_t take;
		if (c->at == c->have) {
			int rc;
			c->at = c->have = 0;
			/* Whole blocks go straight to the caller's buffer. */
			if (n >= c->c.block && c->next_block < c->s->block_count) {
				size_t got;
				rc = next_block(c, p, &got, err);
				if (rc)
					return rc;
				p += got, n -= got;
				continue;
			}
			rc = next_block(c, c->block, &c->have, err);
			if (rc)
				return rc;
		}
		take = c->have - c->at < n ? c->have - c->at : n;
		memcpy(p, c->block + c->at, take);
		c->at += take, p += take, n -= take;
	}
	return 0;
}

int fidx_cursor_record(struct fidx_cursor *c, const char **p, size_t *len, struct fidx_err *err)
{
	unsigned char head[4];
	uint32_t n;
	int rc = fidx_cursor_read(c, head, 4, err);
	if (rc)
		return rc;
	n = get32(head);
	if (n > fidx_cursor_left(c))
		return corrupt(c->f, err, "a record is longer than its section");
	if ((size_t)n + 1 > c->rec_cap) {
		char *nr = realloc(c->rec, (size_t)n + 1);
		if (!nr)
			return fidx_err_nomem(err);
		c->rec = nr;
		c->rec_cap = (size_t)n + 1;
	}
	if ((rc = fidx_cursor_read(c, c->rec, n, err)) != 0)
		return rc;
	c->rec[n] = '\0';
	*p = c->rec;
	*len = n;
	return 0;
}

int fidx_file_read_section(struct fidx_file *f, int type, size_t cap, char **out, size_t *n,
                           struct fidx_err *err)
{
	const struct fidx_section_info *s = fidx_file_section(f, type);
	struct span sp;
	char *buf;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return corrupt(f, err, "a section is missing");
	if (s->raw_bytes > cap || s->raw_bytes >= SIZE_MAX)
		return corrupt(f, err, "a section is larger than expected");
	if (!(buf = malloc((size_t)s->raw_bytes + 1)))
		return fidx_err_nomem(err);
	sp.off = 0;
	sp.len = s->raw_bytes;
	sp.ptr = (unsigned char *)buf;
	if ((rc = decode_all(f, type, &sp, 1, err)) != 0) {
		free(buf);
		return rc;
	}
	buf[s->raw_bytes] = '\0';
	*out = buf;
	*n = (size_t)s->raw_bytes;
	return 0;
}
