#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "bytes.h"
#include "crc32.h"
#include "outfile.h"
#include "quant.h"

#define HEADER_SIZE 64
#define BLOCK_HEAD 20
#define TOC_ENTRY 40
#define BLOCK_SIZE (1u << 20)
/* Version 3's vectors and codes come in blocks of whole rows, about this
 * many bytes of float32 each, so that scoring one row again decodes
 * little (with planes below 32 KiB, zstd is 2.5 times slower per byte). */
#define ROW_BLOCK_BYTES (128u << 10)
/* Blocks encoded at once (in parallel) by the writer: about this many raw
 * bytes. */
#define BATCH_BYTES (8u << 20)
/* Ids and texts: blocks small enough that reading one record decodes
 * little. */
#define RECORD_BLOCK (64u << 10)
/* The codes are written (and spooled sections copied into the file) in
 * pieces that end on multiples of this: the page cache then holds them in
 * folios this large, which search maps at a fraction of the cost of small
 * pages. Not 2 MiB: where a virtual machine hands free memory back to its
 * host in blocks of 2 MiB (free page reporting), a 2 MiB folio is such a
 * block, and copying into it faults in the host at every 4 KiB (400 MB of
 * codes, dd after the machine idled 6 s: 1.0 s of system time in 2 MiB
 * writes, 0.08 s in 1 MiB ones). 1 MiB folios cost a warm search of
 * 1,000,000 rows about 3 ms (31 against 28 ms). */
#define COPY_CHUNK (1u << 20)
/* The vectors are written around the page cache (O_DIRECT) in pieces this
 * big, at offsets and of lengths that are multiples of DIRECT_ALIGN (what
 * every Linux file system with O_DIRECT accepts), and read back the same
 * way to be verified. */
#define DIRECT_CHUNK (4u << 20)
#define DIRECT_ALIGN 4096u
#define MAX_BLOCK_SIZE (64u << 20)
#define STORED_FLAG 0x80000000u
#define CODEC_DEFLATE 1  /* the block deflated */
#define CODEC_PLANES 2   /* version 1: the block's byte planes deflated together */
#define CODEC_PLANES4 3  /* version 2: each byte plane deflated or stored alone */
#define CODEC_ROWS 4     /* version 3 codes: records stored as they are */
#define CODEC_RESIDUAL 5 /* version 3 vectors: planes of residuals, zstd or stored */
#define PLANE_TABLE 16
/* A plane is stored as it is unless compressing saves at least 2% of it; a
 * sample of its first bytes decides for planes of random-looking bytes
 * (the low residual bytes), so they cost little compression time. */
#define PLANE_SAMPLE (4u << 10)
#define PLANE_GAIN(n) ((n) - (n) / 50)
/* deflate cannot expand data by more than 1032:1, so a section's decoded
 * size is bounded by its stored size: no small file can ask for a huge
 * allocation. */
#define MAX_RATIO 1032u

/* DIRECT_CHUNK, or smaller for tests (FIDX_TEST_DIRECT_CHUNK, a multiple
 * of DIRECT_ALIGN), so that small files take several. */
static size_t direct_chunk(void)
{
	const char *t = getenv("FIDX_TEST_DIRECT_CHUNK");
	unsigned long v = t ? strtoul(t, NULL, 10) : 0;
	return v >= DIRECT_ALIGN && v <= DIRECT_CHUNK && v % DIRECT_ALIGN == 0 ? (size_t)v : DIRECT_CHUNK;
}

/* The read-back reads a quarter of that at a time: 1 MiB windows, one per
 * thread (4 on 2 cores), verify as fast as 4 MiB ones and hold less
 * (fidx merge of 100,000 rows: 40 MB peak instead of 50). */
static size_t direct_run(void)
{
	size_t n = direct_chunk() / 4 / DIRECT_ALIGN * DIRECT_ALIGN;
	return n ? n : DIRECT_ALIGN;
}

static const unsigned char MAGIC[8] = {0x89, 'F', 'I', 'D', 'X', '\r', '\n', 0x1a};
static const unsigned char END[8] = {'F', 'I', 'D', 'X', '-', 'E', 'N', 'D'};

static uint32_t crc(const void *p, size_t n)
{
	return fidx_crc32(0, p, n);
}

/* The block header's own checksum covers its position too, so a block
 * copied to another place or section is detected. */
static uint32_t head_crc(const unsigned char *h, uint32_t type, uint32_t index)
{
	unsigned char b[24];
	memcpy(b, h, 16);
	fidx_put_le32(b + 16, type);
	fidx_put_le32(b + 20, index);
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

static void put_head(unsigned char *h, uint32_t stored, uint32_t raw, uint32_t raw_crc, uint32_t stored_crc,
                     uint32_t type, uint32_t index)
{
	fidx_put_le32(h, stored);
	fidx_put_le32(h + 4, raw);
	fidx_put_le32(h + 8, raw_crc);
	fidx_put_le32(h + 12, stored_crc);
	fidx_put_le32(h + 16, head_crc(h, type, index));
}

/* A block directory's entries: each block's length; for ids and texts
 * also where its first record starts and that record's number. */
static size_t dir_entry(uint32_t type)
{
	return type == FIDX_SEC_IDS || type == FIDX_SEC_TEXTS ? 16 : 4;
}

/* A block directory's checksum covers its section's type too. */
static uint32_t dir_crc(const unsigned char *p, size_t n, uint32_t type)
{
	unsigned char t[4];
	fidx_put_le32(t, type);
	return fidx_crc32(crc(p, n), t, 4);
}

/* ---------------------------------------------------------------- writer */

/* One block's encoded form: its header, then its stored bytes. */
struct encoded {
	unsigned char *buf;
	size_t cap;
	uint32_t stored;
	unsigned char *codes; /* CODEC_RESIDUAL: the codes block, header included */
	uint32_t codes_len;
};

/* Per-thread encoding state. */
struct encoder {
	struct libdeflate_compressor *c; /* CODEC_DEFLATE */
	ZSTD_CCtx *z;                    /* CODEC_RESIDUAL */
	unsigned char *plane;
	uint32_t *resid;
};

/* Where a block's first record starts (NO_START: none starts in it). */
struct rec_start {
	uint32_t off;
	uint64_t row;
};
#define NO_START 0xFFFFFFFFu

/* The vectors' writer thread: it writes one batch while the caller fills
 * the next, the two buffers handed over in turn. The batch's blocks are
 * encoded by whoever claims them first: the writer's threads, and the
 * caller when its next batch is full before the writer is done; the
 * writer writes each block as soon as it and those before it are
 * encoded. */
struct pipe {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int started, busy, quit, rc;
	struct fidx_err err;
	unsigned char *raw;   /* the batch being written */
	size_t fill;
	size_t nblk, next, written; /* its blocks; the next to claim; those written */
	unsigned char *done;  /* per block: encoded */
	uint32_t first;       /* the number of its first block */
};

/* A thread that writes one piece of a section at a time while its caller
 * fills the next: the vectors' chunks around the page cache (the disk
 * works while the cores encode), the codes' pieces into it (the copy is
 * most of such a write). */
struct dio {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd, busy, quit;
	const unsigned char *buf;
	size_t n, done;
	uint64_t off;
};

/* Writes n bytes of buf at off, retrying short writes and EINTR; returns
 * how many were written before the first failure (n when none). */
static size_t write_upto(int fd, const unsigned char *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t got = pwrite(fd, buf + done, n - done, (off_t)(off + done));
		if (got > 0)
			done += (size_t)got;
		else if (got == 0 || errno != EINTR)
			break;
	}
	return done;
}

static void *dio_main(void *arg)
{
	struct dio *d = arg;
	pthread_setname_np(pthread_self(), "fidx-dio");
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->busy && !d->quit)
			pthread_cond_wait(&d->cond, &d->lock);
		if (!d->busy)
			break;
		pthread_mutex_unlock(&d->lock);
		d->done = write_upto(d->fd, d->buf, d->n, d->off);
		pthread_mutex_lock(&d->lock);
		d->busy = 0;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Waits until d is idle. */
static void dio_idle(struct dio *d)
{
	pthread_mutex_lock(&d->lock);
	while (d->busy)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
}

static struct dio *dio_start(void)
{
	struct dio *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	if (pthread_create(&d->thread, NULL, dio_main, d) != 0) {
		pthread_mutex_destroy(&d->lock);
		pthread_cond_destroy(&d->cond);
		free(d);
		return NULL;
	}
	return d;
}

static void dio_stop(struct dio *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	while (d->busy)
		pthread_cond_wait(&d->cond, &d->lock);
	d->quit = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
}

struct secw {
	int fd;
	const char *name;
	uint64_t start, pos;
	uint32_t type, codec, blocks, block_size, dim;
	uint64_t raw_total;
	int level, nthreads;
	size_t batch;         /* blocks encoded at once, in parallel */
	unsigned char *raw;   /* batch * block_size bytes */
	size_t fill;
	struct encoded *enc;  /* batch entries */
	struct encoder *coders; /* nthreads entries */
	uint32_t *dir;        /* each block's length, header included */
	size_t dir_cap;
	/* Ids and texts: where the first record that starts in each block
	 * starts, and its number. */
	struct rec_start *starts;
	size_t nstarts, starts_cap;
	uint64_t put_bytes, records;
	struct secw *codes;   /* CODEC_RESIDUAL: the codes, written alongside */
	struct pipe *pipe;    /* the vectors, with 2 threads or more */
	/* CODEC_ROWS: blocks gathered into writes that end on COPY_CHUNK
	 * boundaries of the file (see there); stage holds the bytes
	 * [pos - staged, pos). */
	unsigned char *stage;
	size_t staged, stage_cap;
	unsigned char *stage_next; /* the buffer stage swaps with, or NULL */
	/* CODEC_ROWS written in place (fidx_fw_expect): where their room
	 * ends (0: no bound), and the spool they move to if it runs out. */
	uint64_t limit;
	int spill_fd;
	/* The vectors, written around the page cache: dfd (O_DIRECT, -1 when
	 * not) takes whole chunks of dcap bytes gathered in dbuf, which holds the
	 * bytes [dbase, dbase + dfill) of the file; the bytes before dbase
	 * (the first aligned offset) and the last piece go through fd. */
	int dfd;
	unsigned char *dbuf;
	uint64_t dbase;
	size_t dfill, dcap;
	/* The section's writing thread (the vectors' chunks, the codes'
	 * pieces), started at its first write; dnext is the buffer dbuf
	 * swaps with. */
	struct dio *dio;
	unsigned char *dnext;
};

/* Compresses a plane (zstd) into dst (room cap); returns the size, or 0
 * when that does not save at least 2% (judged on a sample first). */
static size_t squeeze(ZSTD_CCtx *z, const unsigned char *src, size_t n, unsigned char *dst, size_t cap)
{
	size_t got;
	if (n > PLANE_SAMPLE) {
		got = ZSTD_compress2(z, dst, cap, src, PLANE_SAMPLE);
		if (ZSTD_isError(got) || got >= PLANE_GAIN(PLANE_SAMPLE))
			return 0;
	}
	got = ZSTD_compress2(z, dst, cap, src, n);
	return !ZSTD_isError(got) && got < PLANE_GAIN(n) ? got : 0;
}

/* The codes of the block's rows, and its floats as residuals against
 * them, in byte planes each compressed or stored. Returns the stored
 * size. */
static uint32_t encode_residual(const struct secw *s, struct encoder *coder, const unsigned char *raw, size_t n,
                                uint32_t index, struct encoded *e)
{
	size_t dim = s->dim, rows = n / 4 / dim, rec = fidx_quant_record(dim), q = n / 4, off = PLANE_TABLE, r;
	unsigned char *codes = e->codes + BLOCK_HEAD, *out = e->buf + BLOCK_HEAD;
	uint32_t c;
	int p;

	/* Version 3 stores each float as its difference from its codes'
	 * prediction (index/quant.h): the high bytes are then mostly zero. */
	for (r = 0; r < rows; r++) {
		const float *x = (const float *)raw + r * dim;
		fidx_quant_encode(x, dim, codes + r * rec);
		fidx_quant_residuals(codes + r * rec, x, dim, coder->resid + r * dim);
	}
	c = crc(codes, rows * rec);
	put_head(e->codes, (uint32_t)(rows * rec) | STORED_FLAG, (uint32_t)(rows * rec), c, c, FIDX_SEC_CODES, index);
	e->codes_len = (uint32_t)(BLOCK_HEAD + rows * rec);

	to_planes((const unsigned char *)coder->resid, coder->plane, n);
	for (p = 0; p < 4; p++) {
		const unsigned char *plane = coder->plane + (size_t)p * q;
		size_t got = squeeze(coder->z, plane, q, out + off, e->cap - BLOCK_HEAD - off);
		if (!got) {
			memcpy(out + off, plane, q);
			fidx_put_le32(out + 4 * p, (uint32_t)q | STORED_FLAG);
			off += q;
		} else {
			fidx_put_le32(out + 4 * p, (uint32_t)got);
			off += got;
		}
	}
	return (uint32_t)off;
}

static void encode(const struct secw *s, struct encoder *coder, const unsigned char *raw, size_t n,
                   uint32_t index, struct encoded *e)
{
	unsigned char *out = e->buf + BLOCK_HEAD;
	uint32_t stored, flag = 0;

	if (s->codec == CODEC_RESIDUAL) {
		stored = encode_residual(s, coder, raw, n, index, e);
	} else {
		size_t got = libdeflate_deflate_compress(coder->c, raw, n, out, e->cap - BLOCK_HEAD);
		if (got && got < n) {
			stored = (uint32_t)got;
		} else {
			/* Incompressible: keep the bytes as they are. */
			memcpy(out, raw, n);
			stored = (uint32_t)n;
			flag = STORED_FLAG;
		}
	}
	put_head(e->buf, stored | flag, (uint32_t)n, crc(raw, n), crc(out, stored), s->type, index);
	e->stored = stored;
}

static void pipe_stop(struct pipe *p)
{
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->quit = 1;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		p->started = 0;
	}
}

static void secw_free(struct secw *s)
{
	size_t i;
	if (s->pipe) {
		pipe_stop(s->pipe);
		pthread_mutex_destroy(&s->pipe->lock);
		pthread_cond_destroy(&s->pipe->cond);
		free(s->pipe->raw);
		free(s->pipe->done);
		free(s->pipe);
		s->pipe = NULL;
	}
	if (s->coders)
		for (i = 0; i < (size_t)s->nthreads; i++) {
			if (s->coders[i].c)
				libdeflate_free_compressor(s->coders[i].c);
			ZSTD_freeCCtx(s->coders[i].z);
			free(s->coders[i].plane);
			free(s->coders[i].resid);
		}
	if (s->enc)
		for (i = 0; i < s->batch; i++) {
			free(s->enc[i].buf);
			free(s->enc[i].codes);
		}
	free(s->coders);
	free(s->enc);
	dio_stop(s->dio);
	s->dio = NULL;
	free(s->stage);
	free(s->stage_next);
	s->stage = s->stage_next = NULL;
	if (s->dfd >= 0)
		close(s->dfd);
	s->dfd = -1;
	free(s->dbuf);
	free(s->dnext);
	s->dbuf = s->dnext = NULL;
	free(s->raw);
	free(s->dir);
	free(s->starts);
	s->starts = NULL;
	s->coders = NULL;
	s->enc = NULL;
	s->raw = NULL;
	s->dir = NULL;
}

/* A section written at start of fd, in blocks of block_size raw bytes.
 * CODEC_ROWS sections only receive the blocks another section encodes. */
static int secw_init(struct secw *s, int fd, const char *name, uint64_t start, uint32_t type, uint32_t codec,
                     uint32_t block_size, uint32_t dim, int level, struct fidx_err *err)
{
	size_t i, bound;

	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->name = name;
	s->start = s->pos = start;
	s->type = type;
	s->codec = codec;
	s->block_size = block_size;
	s->dim = dim;
	s->level = level;
	s->spill_fd = -1;
	s->dfd = -1;
	if (codec == CODEC_ROWS) {
		s->stage_cap = COPY_CHUNK + BLOCK_HEAD + (size_t)block_size;
		s->stage_next = malloc(s->stage_cap); /* without it, written here */
		return (s->stage = malloc(s->stage_cap)) ? 0 : fidx_err_nomem(err);
	}
	/* Only the vectors are large enough to be worth several threads. */
	s->nthreads = type == FIDX_SEC_VECTORS ? omp_get_max_threads() : 1;
	if (s->nthreads < 1)
		s->nthreads = 1;
	s->batch = (size_t)s->nthreads * 2;
	if (type == FIDX_SEC_VECTORS && s->batch < BATCH_BYTES / block_size)
		s->batch = BATCH_BYTES / block_size;
	s->raw = malloc(s->batch * block_size);
	s->enc = calloc(s->batch, sizeof *s->enc);
	s->coders = calloc((size_t)s->nthreads, sizeof *s->coders);
	if (!s->raw || !s->enc || !s->coders)
		return fidx_err_nomem(err);
	if (s->nthreads > 1) {
		if (!(s->pipe = calloc(1, sizeof *s->pipe)))
			return fidx_err_nomem(err);
		pthread_mutex_init(&s->pipe->lock, NULL);
		pthread_cond_init(&s->pipe->cond, NULL);
		if (!(s->pipe->raw = malloc(s->batch * block_size)) || !(s->pipe->done = calloc(s->batch, 1)))
			return fidx_err_nomem(err);
	}
	for (i = 0; i < (size_t)s->nthreads; i++) {
		struct encoder *c = &s->coders[i];
		if (codec != CODEC_RESIDUAL) {
			if (!(c->c = libdeflate_alloc_compressor(level)))
				return fidx_err_nomem(err);
			continue;
		}
		if (!(c->z = ZSTD_createCCtx()) || !(c->plane = malloc(block_size)) || !(c->resid = malloc(block_size)))
			return fidx_err_nomem(err);
		/* Planes are a quarter of a block (32 KiB): a hash table of 2^10
		 * entries, cleared for every plane, rather than the level's 2^12
		 * or more, and matches of 7 bytes or more (shorter ones seldom
		 * pay in residuals). 1M x 384 from a .npy: 12% less user time,
		 * the same size. */
		if (ZSTD_isError(ZSTD_CCtx_setParameter(c->z, ZSTD_c_compressionLevel, level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(c->z, ZSTD_c_hashLog, 10)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(c->z, ZSTD_c_minMatch, 7)))
			return fidx_err_set(err, FIDX_EINTERNAL, "zstd: cannot set level %d", level);
	}
	if (codec == CODEC_RESIDUAL)
		bound = PLANE_TABLE + (size_t)block_size + 1024;
	else
		bound = libdeflate_deflate_compress_bound(s->coders[0].c, block_size);
	for (i = 0; i < s->batch; i++) {
		s->enc[i].cap = BLOCK_HEAD + bound;
		if (!(s->enc[i].buf = malloc(s->enc[i].cap)))
			return fidx_err_nomem(err);
		if (codec == CODEC_RESIDUAL &&
		    !(s->enc[i].codes = malloc(BLOCK_HEAD + block_size / 4 / dim * fidx_quant_record(dim))))
			return fidx_err_nomem(err);
	}
	return 0;
}

/* Copies n bytes from one file to another. */
static int copy_range(int from, uint64_t from_off, int to, uint64_t to_off, uint64_t n, const char *to_name,
                      struct fidx_err *err)
{
	unsigned char *buf = malloc(COPY_CHUNK);
	uint64_t off = 0;
	int rc = 0;

	if (!buf)
		return fidx_err_nomem(err);
	while (off < n && !rc) {
		/* Writes that end on multiples of COPY_CHUNK in the file (see
		 * struct secw's stage). */
		size_t take = COPY_CHUNK - (size_t)((to_off + off) % COPY_CHUNK);
		if (take > n - off)
			take = (size_t)(n - off);
		rc = fidx_pread_all(from, buf, take, from_off + off, "scratch file", err);
		if (rc == FIDX_ECORRUPT)
			rc = fidx_err_set(err, FIDX_EIO, "scratch file: short read");
		if (!rc)
			rc = fidx_pwrite_all(to, buf, take, to_off + off, to_name, err);
		off += take;
	}
	free(buf);
	return rc;
}

/* Writes n bytes of buf at off: through dfd while it takes them, through
 * fd from where it does not (a file system may refuse O_DIRECT for a
 * file, or a write fail: fd then reports the error). done bytes are
 * written already. */
static int direct_rest(struct secw *s, const unsigned char *buf, size_t n, uint64_t off, size_t done,
                       struct fidx_err *err)
{
	if (done < n && s->dfd >= 0) {
		done += write_upto(s->dfd, buf + done, n - done, off + done);
		if (done < n) {
			close(s->dfd);
			s->dfd = -1;
		}
	}
	return done < n ? fidx_pwrite_all(s->fd, buf + done, n - done, off + done, s->name, err) : 0;
}

/* Waits for the piece being written on the section's thread, and
 * finishes it if the write fell short. */
static int bg_wait(struct secw *s, struct fidx_err *err)
{
	struct dio *d = s->dio;
	size_t n;
	if (!d || !d->n)
		return 0;
	dio_idle(d);
	n = d->n;
	d->n = 0;
	return direct_rest(s, d->buf, n, d->off, d->done, err);
}

/* Hands the write of n bytes of buf at off through fd to the section's
 * thread (started the first time; bg_wait must come first). Returns 0, or
 * -1 when there is no thread: the caller writes them itself. */
static int bg_submit(struct secw *s, int fd, const unsigned char *buf, size_t n, uint64_t off)
{
	if (!s->dio && !(s->dio = dio_start()))
		return -1;
	pthread_mutex_lock(&s->dio->lock);
	s->dio->fd = fd;
	s->dio->buf = buf;
	s->dio->n = n;
	s->dio->off = off;
	s->dio->busy = 1;
	pthread_cond_broadcast(&s->dio->cond);
	pthread_mutex_unlock(&s->dio->lock);
	return 0;
}

/* Writes the first n bytes of dbuf at dbase, on the section's thread when
 * it can: dbuf then swaps with the other buffer. */
static int direct_write(struct secw *s, size_t n, struct fidx_err *err)
{
	int rc = bg_wait(s, err);
	unsigned char *t;
	if (rc || !n)
		return rc;
	if (s->dfd < 0 || !s->dnext || bg_submit(s, s->dfd, s->dbuf, n, s->dbase) != 0)
		return direct_rest(s, s->dbuf, n, s->dbase, 0, err);
	t = s->dbuf, s->dbuf = s->dnext, s->dnext = t;
	return 0;
}

/* Writes len bytes at pos: gathered into whole chunks when the
 * section is written around the page cache. */
static int put_at(struct secw *s, const unsigned char *b, size_t len, struct fidx_err *err)
{
	uint64_t at = s->pos;
	int rc = 0;
	if (!s->dbuf)
		return fidx_pwrite_all(s->fd, b, len, at, s->name, err);
	while (len && !rc) {
		size_t take;
		if (at < s->dbase) {
			take = s->dbase - at < len ? (size_t)(s->dbase - at) : len;
			rc = fidx_pwrite_all(s->fd, b, take, at, s->name, err);
		} else {
			take = s->dcap - s->dfill < len ? s->dcap - s->dfill : len;
			memcpy(s->dbuf + s->dfill, b, take);
			if ((s->dfill += take) == s->dcap) {
				rc = direct_write(s, s->dcap, err);
				s->dbase += s->dcap;
				s->dfill = 0;
			}
		}
		at += take, b += take, len -= take;
	}
	return rc;
}

/* Writes what dbuf holds: its whole DIRECT_ALIGN pieces around the page
 * cache, the rest through it. */
static int direct_finish(struct secw *s, struct fidx_err *err)
{
	size_t whole = s->dfill / DIRECT_ALIGN * DIRECT_ALIGN;
	int rc;
	if (!s->dbuf)
		return 0;
	rc = bg_wait(s, err);
	if (!rc)
		rc = direct_rest(s, s->dbuf, whole, s->dbase, 0, err);
	if (!rc && whole < s->dfill)
		rc = fidx_pwrite_all(s->fd, s->dbuf + whole, s->dfill - whole, s->dbase + whole, s->name, err);
	s->dbase += s->dfill;
	s->dfill = 0;
	free(s->dbuf);
	free(s->dnext);
	s->dbuf = s->dnext = NULL;
	return rc;
}

/* Writes the staged bytes up to the last COPY_CHUNK boundary before pos,
 * or all of them. */
static int stage_write(struct secw *s, int all, struct fidx_err *err)
{
	uint64_t from = s->pos - s->staged, to = all ? s->pos : s->pos / COPY_CHUNK * COPY_CHUNK;
	size_t n;
	int rc;

	/* The piece written meanwhile first: the file is whole after all. */
	if ((all || to > from) && (rc = bg_wait(s, err)) != 0)
		return rc;
	if (to <= from)
		return 0;
	n = (size_t)(to - from);
	/* Copying into the page cache is most of a write, and slow where its
	 * pages are fresh: a thread of the section's own does it while the
	 * blocks after are encoded, the rest moved to the other buffer. */
	if (!all && s->stage_next && bg_submit(s, s->fd, s->stage, n, from) == 0) {
		unsigned char *t = s->stage;
		memcpy(s->stage_next, s->stage + n, s->staged - n);
		s->stage = s->stage_next, s->stage_next = t;
	} else {
		if ((rc = fidx_pwrite_all(s->fd, s->stage, n, from, s->name, err)) != 0)
			return rc;
		memmove(s->stage, s->stage + n, s->staged - n);
	}
	s->staged -= n;
	return 0;
}

/* Makes room for len more bytes of a section written in place: when its
 * room runs out (more rows than fidx_fw_expect was told), what it has so
 * far moves to its spool, and it goes on there like a section whose
 * size was not known; the room stays in the file, unused. */
static int room_for(struct secw *s, uint64_t len, struct fidx_err *err)
{
	int rc;
	if (!s->limit || s->pos + len <= s->limit)
		return 0;
	if ((rc = stage_write(s, 1, err)) != 0 ||
	    (rc = copy_range(s->fd, s->start, s->spill_fd, 0, s->pos - s->start, s->name, err)) != 0)
		return rc;
	s->fd = s->spill_fd;
	s->pos -= s->start;
	s->start = 0;
	s->limit = 0;
	return 0;
}

/* Appends one encoded block (header included) to section s. */
static int secw_block(struct secw *s, const unsigned char *b, uint32_t len, uint32_t raw, struct fidx_err *err)
{
	int rc;
	if (s->blocks == s->dir_cap) {
		size_t ncap = s->dir_cap ? s->dir_cap * 2 : 256;
		uint32_t *nd = realloc(s->dir, ncap * sizeof *nd);
		if (!nd)
			return fidx_err_nomem(err);
		s->dir = nd;
		s->dir_cap = ncap;
	}
	if (s->stage) {
		if ((rc = room_for(s, len, err)) != 0)
			return rc;
		memcpy(s->stage + s->staged, b, len);
		s->staged += len;
	} else if ((rc = put_at(s, b, len, err)) != 0) {
		return rc;
	}
	s->dir[s->blocks++] = len;
	s->pos += len;
	s->raw_total += raw;
	return s->stage ? stage_write(s, 0, err) : 0;
}

/* Writes block i of the batch, encoded, and its codes. */
static int write_encoded(struct secw *s, size_t i, struct fidx_err *err)
{
	struct encoded *e = &s->enc[i];
	int rc = secw_block(s, e->buf, BLOCK_HEAD + e->stored, fidx_le32(e->buf + 4), err);
	if (!rc && s->codes)
		rc = secw_block(s->codes, e->codes, e->codes_len, e->codes_len - BLOCK_HEAD, err);
	return rc;
}

/* Encodes fill bytes of raw (on `team` threads) and writes the blocks in
 * order. */
static int write_batch(struct secw *s, const unsigned char *raw, size_t fill, int team, struct fidx_err *err)
{
	size_t nblk = (fill + s->block_size - 1) / s->block_size, i;
	long b;
	int rc = 0;

	if (!nblk)
		return 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (nblk > 1 && team > 1)
	for (b = 0; b < (long)nblk; b++) {
		size_t off = (size_t)b * s->block_size;
		size_t n = fill - off < s->block_size ? fill - off : s->block_size;
		encode(s, &s->coders[omp_get_thread_num()], raw + off, n, s->blocks + (uint32_t)b, &s->enc[b]);
	}
	for (i = 0; i < nblk && !rc; i++)
		rc = write_encoded(s, i, err);
	return rc;
}

/* Claims and encodes up to max blocks of the writer's batch with coder.
 * Called, and returns, with the pipe's lock held. */
static void pipe_encode(struct secw *s, struct encoder *coder, size_t max)
{
	struct pipe *p = s->pipe;
	while (max-- && p->next < p->nblk) {
		size_t b = p->next++, off = b * s->block_size;
		size_t n = p->fill - off < s->block_size ? p->fill - off : s->block_size;
		pthread_mutex_unlock(&p->lock);
		encode(s, coder, p->raw + off, n, p->first + (uint32_t)b, &s->enc[b]);
		pthread_mutex_lock(&p->lock);
		p->done[b] = 1;
		pthread_cond_broadcast(&p->cond);
	}
}

/* The writer's share of a batch, on the writer's threads but for a core
 * the caller keeps for filling the next batch: its first thread writes
 * the blocks in order as they are encoded and encodes one when none is
 * ready; the others only encode. */
static int pipe_batch(struct secw *s, struct fidx_err *err)
{
	struct pipe *p = s->pipe;
	int team = s->nthreads - 1, rc = 0;

#pragma omp parallel num_threads(team) if (team > 1)
	{
		int me = omp_get_thread_num();
		pthread_mutex_lock(&p->lock);
		if (me) {
			pipe_encode(s, &s->coders[me], SIZE_MAX);
		} else {
			while (p->written < p->nblk) {
				if (p->done[p->written]) {
					pthread_mutex_unlock(&p->lock);
					if (!rc)
						rc = write_encoded(s, p->written, err);
					pthread_mutex_lock(&p->lock);
					p->written++;
				} else if (p->next < p->nblk) {
					pipe_encode(s, &s->coders[0], 1);
				} else {
					pthread_cond_wait(&p->cond, &p->lock);
				}
			}
		}
		pthread_mutex_unlock(&p->lock);
	}
	return rc;
}

static void *pipe_main(void *arg)
{
	struct secw *s = arg;
	struct pipe *p = s->pipe;
	pthread_setname_np(pthread_self(), "fidx-writer");
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct fidx_err e = {0};
		int rc;
		while (!p->busy && !p->quit)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->busy)
			break;
		pthread_mutex_unlock(&p->lock);
		rc = pipe_batch(s, &e);
		pthread_mutex_lock(&p->lock);
		if (rc && !p->rc) {
			p->rc = rc;
			p->err = e;
		}
		p->busy = 0;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Waits until the writer thread is idle, encoding blocks of its batch
 * meanwhile with the last coder (the writer's threads have the others);
 * returns its first failure. */
static int pipe_wait(struct secw *s, struct fidx_err *err)
{
	struct pipe *p = s->pipe;
	int rc;
	pthread_mutex_lock(&p->lock);
	while (p->busy) {
		if (p->next < p->nblk)
			pipe_encode(s, &s->coders[s->nthreads - 1], 1);
		else
			pthread_cond_wait(&p->cond, &p->lock);
	}
	rc = p->rc;
	if (rc && err)
		*err = p->err;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* Writes the buffered blocks: hands them to the writer thread when there
 * is one (and the caller goes on filling the other buffer), else encodes
 * them on all threads here. */
static int secw_flush(struct secw *s, int last, struct fidx_err *err)
{
	struct pipe *p = s->pipe;
	unsigned char *t;
	int rc;

	if (!p || last) {
		if (p && (rc = pipe_wait(s, err)) != 0)
			return rc;
		rc = write_batch(s, s->raw, s->fill, s->nthreads, err);
		s->fill = 0;
		return rc;
	}
	if ((rc = pipe_wait(s, err)) != 0)
		return rc;
	if (!p->started) {
		if (pthread_create(&p->thread, NULL, pipe_main, s) != 0)
			return fidx_err_set(err, FIDX_EINTERNAL, "cannot start a thread");
		p->started = 1;
	}
	pthread_mutex_lock(&p->lock);
	t = p->raw, p->raw = s->raw, s->raw = t;
	p->fill = s->fill;
	p->nblk = (s->fill + s->block_size - 1) / s->block_size;
	p->next = p->written = 0;
	memset(p->done, 0, p->nblk);
	p->first = s->blocks;
	p->busy = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	s->fill = 0;
	return 0;
}

static int secw_put(struct secw *s, const void *data, size_t n, struct fidx_err *err)
{
	const unsigned char *p = data;
	size_t cap = s->batch * s->block_size;
	s->put_bytes += n;
	while (n) {
		size_t take = cap - s->fill;
		if (take > n)
			take = n;
		if (p != s->raw + s->fill) /* else made in place (fidx_fw_slot) */
			memcpy(s->raw + s->fill, p, take);
		s->fill += take, p += take, n -= take;
		if (s->fill == cap) {
			int rc = secw_flush(s, 0, err);
			if (rc) {
				s->fill = 0; /* lost with the build; fidx_fw_slot stays in bounds */
				return rc;
			}
		}
	}
	return 0;
}

/* Writes the last blocks and the directory. */
static int secw_finish(struct secw *s, struct fidx_section_info *info, struct fidx_err *err)
{
	size_t n, i;
	unsigned char *dir;
	int rc = secw_flush(s, 1, err);
	if (rc)
		return rc;
	if (s->pipe)
		pipe_stop(s->pipe);
	if ((rc = direct_finish(s, err)) != 0)
		return rc;
	n = (size_t)s->blocks * dir_entry(s->type);
	if (s->stage && ((rc = room_for(s, n + 4, err)) != 0 || (rc = stage_write(s, 1, err)) != 0))
		return rc;
	if (!(dir = malloc(n + 4)))
		return fidx_err_nomem(err);
	for (i = 0; i < s->blocks; i++) {
		unsigned char *e = dir + i * dir_entry(s->type);
		fidx_put_le32(e, s->dir[i]);
		if (dir_entry(s->type) > 4) {
			struct rec_start st = {NO_START, 0};
			if (i < s->nstarts)
				st = s->starts[i];
			fidx_put_le32(e + 4, st.off);
			fidx_put_le64(e + 8, st.row);
		}
	}
	fidx_put_le32(dir + n, dir_crc(dir, n, s->type));
	rc = fidx_pwrite_all(s->fd, dir, n + 4, s->pos, s->name, err);
	free(dir);
	if (rc)
		return rc;
	s->pos += n + 4;
	info->type = s->type;
	info->codec = s->codec;
	info->offset = s->start;
	info->stored_bytes = s->pos - s->start;
	info->raw_bytes = s->raw_total;
	info->block_count = s->blocks;
	info->block_size = s->block_size;
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
	uint64_t expect; /* fidx_fw_expect's rows, or 0 */
	int codes_fd, ids_fd, texts_fd;
	struct secw vec, codes, ids, texts;
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

/* The vectors are most of the file, and a search reads them again only
 * for the few rows it scores exactly: written around the page cache, they
 * cost no copy into it (nor the memory), and reading them back checks
 * what reached the disk. Where the file system refuses O_DIRECT (or
 * FIDX_TEST_NO_DIRECT is set), they go through the page cache as the
 * other sections do. */
static void direct_start(struct secw *s, const char *path)
{
	const char *no = getenv("FIDX_TEST_NO_DIRECT");
	if ((no && *no) || (s->dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC)) < 0)
		return;
	s->dcap = direct_chunk();
	if (posix_memalign((void **)&s->dbuf, DIRECT_ALIGN, s->dcap) != 0) {
		s->dbuf = NULL;
		close(s->dfd);
		s->dfd = -1;
		return;
	}
	/* Without a second buffer, the chunks are written one after the other. */
	if (posix_memalign((void **)&s->dnext, DIRECT_ALIGN, s->dcap) != 0)
		s->dnext = NULL;
	s->dbase = (s->pos + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN;
	s->dfill = 0;
}

/* The vectors and their codes, once the dimension is known: blocks of
 * whole rows, about ROW_BLOCK_BYTES of float32 each. FIDX_TEST_BLOCK_ROWS
 * makes them smaller, so that tests can cover many blocks with few rows.
 * With the rows' count known ahead, the codes are written in place after
 * the header, in room made for exactly that many, and the vectors after
 * them; else the codes go to a spool, copied after the vectors at commit. */
static int start_vectors(struct fidx_file_writer *w, struct fidx_err *err)
{
	const char *test = getenv("FIDX_TEST_BLOCK_ROWS");
	uint32_t dim = w->dim, rows = ROW_BLOCK_BYTES / 4 / dim ? ROW_BLOCK_BYTES / 4 / dim : 1;
	uint64_t room = 0;
	int rc;
	if (test && strtoul(test, NULL, 10) > 0 && strtoul(test, NULL, 10) < rows)
		rows = (uint32_t)strtoul(test, NULL, 10);
	if (w->expect) {
		uint64_t blocks = (w->expect + rows - 1) / rows;
		room = blocks * (BLOCK_HEAD + dir_entry(FIDX_SEC_CODES)) + w->expect * fidx_quant_record(dim) + 4;
	}
	if ((rc = secw_init(&w->vec, w->out.fd, w->out.tmp, HEADER_SIZE + room, FIDX_SEC_VECTORS, CODEC_RESIDUAL,
	                    rows * dim * 4, dim, w->level, err)) != 0 ||
	    (rc = secw_init(&w->codes, room ? w->out.fd : w->codes_fd, w->out.tmp, room ? HEADER_SIZE : 0,
	                    FIDX_SEC_CODES, CODEC_ROWS, rows * (uint32_t)fidx_quant_record(dim), dim, w->level,
	                    err)) != 0)
		return rc;
	w->codes.limit = room ? HEADER_SIZE + room : 0;
	w->codes.spill_fd = w->codes_fd;
	w->vec.codes = &w->codes;
	direct_start(&w->vec, w->out.tmp);
	return 0;
}

int fidx_fw_expect(struct fidx_file_writer *w, uint64_t rows, struct fidx_err *err)
{
	if (w->dim)
		return fidx_err_set(err, FIDX_EINTERNAL, "the rows of %s were told after its dimension",
		                    w->out.target);
	/* A count no file could hold is no help. */
	w->expect = rows < (UINT64_C(1) << 40) ? rows : 0;
	return 0;
}

int fidx_fw_open(struct fidx_file_writer **out, const char *path, uint32_t dim, int level,
                 unsigned flags, struct fidx_err *err)
{
	struct fidx_file_writer *w;
	/* FIDX_TEST_RECORD_BYTES makes the blocks of ids and texts smaller,
	 * so that tests can cover records across many blocks. */
	const char *test = getenv("FIDX_TEST_RECORD_BYTES");
	uint32_t rb = RECORD_BLOCK;
	int rc;

	*out = NULL;
	if (test && strtoul(test, NULL, 10) >= 4 && strtoul(test, NULL, 10) < rb)
		rb = (uint32_t)strtoul(test, NULL, 10) / 4 * 4;
	if (dim > FIDX_MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "dimension %u is out of range (1..%u)", dim, FIDX_MAX_DIM);
	w = calloc(1, sizeof *w);
	if (!w)
		return fidx_err_nomem(err);
	w->codes_fd = w->ids_fd = w->texts_fd = -1;
	w->out.fd = -1;
	w->dim = dim;
	w->level = level;
	rc = fidx_outfile_open(&w->out, path, flags, err);
	if (rc)
		goto fail;
	if ((w->codes_fd = fidx_spool_open(path, err)) < 0) {
		rc = w->codes_fd;
		goto fail;
	}
	if ((w->ids_fd = fidx_spool_open(path, err)) < 0) {
		rc = w->ids_fd;
		goto fail;
	}
	if ((w->texts_fd = fidx_spool_open(path, err)) < 0) {
		rc = w->texts_fd;
		goto fail;
	}
	if ((rc = secw_init(&w->ids, w->ids_fd, w->out.tmp, 0, FIDX_SEC_IDS, CODEC_DEFLATE, rb, 0,
	                    text_level(level), err)) != 0 ||
	    (rc = secw_init(&w->texts, w->texts_fd, w->out.tmp, 0, FIDX_SEC_TEXTS, CODEC_DEFLATE, rb, 0,
	                    text_level(level), err)) != 0 ||
	    (dim && (rc = start_vectors(w, err)) != 0))
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
	if (w->dim)
		return 0;
	w->dim = dim;
	return start_vectors(w, err);
}

void fidx_fw_abort(struct fidx_file_writer *w)
{
	if (!w)
		return;
	secw_free(&w->vec);
	secw_free(&w->codes);
	secw_free(&w->ids);
	secw_free(&w->texts);
	if (w->codes_fd >= 0)
		close(w->codes_fd);
	if (w->ids_fd >= 0)
		close(w->ids_fd);
	if (w->texts_fd >= 0)
		close(w->texts_fd);
	fidx_outfile_abort(&w->out);
	free(w);
}

float *fidx_fw_slot(struct fidx_file_writer *w)
{
	/* The vectors' buffer holds whole rows, so one always fits. */
	return (float *)(void *)(w->vec.raw + w->vec.fill);
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
	size_t b = (size_t)(s->put_bytes / s->block_size);
	int rc;
	if (len > UINT32_MAX)
		return fidx_err_set(err, FIDX_EINPUT, "a value of %zu bytes is too long", len);
	/* The block this record starts in, if none has started in it yet. */
	if (b >= s->nstarts) {
		if (b >= s->starts_cap) {
			size_t ncap = b + 1 > s->starts_cap * 2 ? b + 1 : s->starts_cap * 2;
			struct rec_start *ns = realloc(s->starts, ncap * sizeof *ns);
			if (!ns)
				return fidx_err_nomem(err);
			s->starts = ns;
			s->starts_cap = ncap;
		}
		while (s->nstarts < b) {
			s->starts[s->nstarts].off = NO_START;
			s->starts[s->nstarts++].row = 0;
		}
		s->starts[b].off = (uint32_t)(s->put_bytes - (uint64_t)b * s->block_size);
		s->starts[b].row = s->records;
		s->nstarts = b + 1;
	}
	s->records++;
	fidx_put_le32(head, (uint32_t)len);
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
	int rc = copy_range(fd, 0, w->out.fd, *pos, info->stored_bytes, w->out.tmp, err);
	if (!rc) {
		info->offset = *pos;
		*pos += info->stored_bytes;
	}
	return rc;
}

struct early_sync {
	pthread_t thread;
	int fd, errnum;
};

static void *sync_main(void *arg)
{
	struct early_sync *e = arg;
	pthread_setname_np(pthread_self(), "fidx-fsync");
	e->errnum = fsync(e->fd) != 0 ? errno : 0;
	return NULL;
}

int fidx_fw_commit(struct fidx_file_writer *w, const char *meta_json, struct fidx_err *err)
{
	struct fidx_section_info sec[FIDX_SEC_MAX];
	unsigned char head[HEADER_SIZE], *toc = NULL;
	struct secw meta;
	struct fidx_file *check = NULL;
	struct early_sync sync = {0};
	int syncing, direct;
	size_t nsec = 0, i;
	uint64_t pos;
	int rc;

	memset(&meta, 0, sizeof meta);
	if (!w->dim) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: no vectors to write (no dimension)", w->out.target);
		goto out;
	}
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
	direct = w->vec.dfd >= 0;
	pos = w->vec.pos;
	if ((rc = secw_finish(&w->codes, &sec[nsec], err)) != 0 ||
	    (w->codes.fd != w->out.fd && (rc = copy_spool(w, w->codes_fd, &sec[nsec], &pos, err)) != 0))
		goto out;
	nsec++;
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
	if ((rc = secw_init(&meta, w->out.fd, w->out.tmp, pos, FIDX_SEC_META, CODEC_DEFLATE, BLOCK_SIZE, 0,
	                    text_level(w->level), err)) != 0 ||
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
		fidx_put_le32(e, sec[i].type);
		fidx_put_le32(e + 4, sec[i].codec);
		fidx_put_le64(e + 8, sec[i].offset);
		fidx_put_le64(e + 16, sec[i].stored_bytes);
		fidx_put_le64(e + 24, sec[i].raw_bytes);
		fidx_put_le32(e + 32, sec[i].block_count);
		fidx_put_le32(e + 36, sec[i].block_size);
	}
	fidx_put_le32(toc + nsec * TOC_ENTRY, crc(toc, nsec * TOC_ENTRY));
	memcpy(toc + nsec * TOC_ENTRY + 4, END, sizeof END);
	if ((rc = fidx_pwrite_all(w->out.fd, toc, nsec * TOC_ENTRY + 4 + sizeof END, pos, w->out.tmp,
	                          err)) != 0)
		goto out;

	memset(head, 0, sizeof head);
	memcpy(head, MAGIC, sizeof MAGIC);
	fidx_put_le32(head + 8, FIDX_FORMAT_VERSION);
	fidx_put_le32(head + 12, HEADER_SIZE);
	fidx_put_le64(head + 16, pos + nsec * TOC_ENTRY + 4 + sizeof END);
	fidx_put_le64(head + 24, w->rows);
	fidx_put_le32(head + 32, w->dim);
	fidx_put_le32(head + 36, (uint32_t)nsec);
	fidx_put_le64(head + 40, pos);
	fidx_put_le32(head + 48, (uint32_t)(nsec * TOC_ENTRY + 4));
	fidx_put_le32(head + 60, crc(head, 60));
	if ((rc = fidx_pwrite_all(w->out.fd, head, sizeof head, 0, w->out.tmp, err)) != 0)
		goto out;
	if (ftruncate(w->out.fd, (off_t)(pos + nsec * TOC_ENTRY + 4 + sizeof END)) != 0) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: truncate failed", w->out.tmp);
		goto out;
	}

	/* Read back what was written before it replaces anything, while
	 * another thread fsyncs it: the disk works while the CPU checks, and
	 * the commit's own fsync then finds nothing left to write. */
	sync.fd = w->out.fd;
	syncing = pthread_create(&sync.thread, NULL, sync_main, &sync) == 0;
	rc = fidx_file_open(&check, w->out.tmp, err);
	/* The vectors were written around the page cache: read back from the
	 * disk the same way, not into the page cache. */
	if (!rc && direct)
		fidx_file_read_direct(check);
	if (!rc)
		rc = fidx_file_verify(check, err);
	fidx_file_close(check);
	if (syncing)
		pthread_join(sync.thread, NULL);
	if (rc) {
		fidx_err_prefix(err, "the new index failed verification");
		goto out;
	}
	if (syncing && sync.errnum) {
		/* Never retried: the data may already be lost. */
		rc = fidx_err_sys(err, FIDX_EIO, sync.errnum, "%s: fsync failed", w->out.tmp);
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
	int dfd; /* O_DIRECT, for the vectors, or -1 (fidx_fw_commit's read-back) */
	const unsigned char *mem;
	uint64_t size;
	uint32_t version, dim, nsec;
	uint64_t count;
	uint32_t block_rows; /* version 3: rows per block of the vectors and codes */
	struct fidx_section_info sec[FIDX_SEC_MAX + 1]; /* by type */
	int has[FIDX_SEC_MAX + 1];
	uint64_t *pos[FIDX_SEC_MAX + 1]; /* where each block starts, once asked for */
	struct rec_start *starts[FIDX_SEC_MAX + 1]; /* version 3 ids and texts: their first records */
	void *map;                       /* the codes, mapped */
	size_t map_len;
	const unsigned char *codes;      /* the codes section's first byte */
};

void fidx_file_read_direct(struct fidx_file *f)
{
	struct stat a, b;
	if (f->dfd >= 0 || f->fd < 0 || (f->dfd = open(f->name, O_RDONLY | O_DIRECT | O_CLOEXEC)) < 0)
		return;
	/* The same file, not one renamed over it since. */
	if (fstat(f->fd, &a) != 0 || fstat(f->dfd, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(f->dfd);
		f->dfd = -1;
	}
}

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

/* Version 3 ends every section with its block directory. */
static uint64_t dir_size(const struct fidx_file *f, const struct fidx_section_info *s)
{
	return f->version >= 3 ? (uint64_t)s->block_count * dir_entry(s->type) + 4 : 0;
}

/* Where a section's blocks end. */
static uint64_t blocks_end(const struct fidx_file *f, const struct fidx_section_info *s)
{
	return s->offset + s->stored_bytes - dir_size(f, s);
}

/* The encoding each section must have in each version. */
static uint32_t codec_of(uint32_t version, uint32_t type)
{
	if (type == FIDX_SEC_VECTORS)
		return version == 1 ? CODEC_PLANES : version == 2 ? CODEC_PLANES4 : CODEC_RESIDUAL;
	if (type == FIDX_SEC_CODES)
		return version >= 3 ? CODEC_ROWS : 0;
	return CODEC_DEFLATE;
}

/* Version 3's vectors and codes: blocks of the same rows. */
static int check_rows(struct fidx_file *f, struct fidx_err *err)
{
	const struct fidx_section_info *v = &f->sec[FIDX_SEC_VECTORS], *c = &f->sec[FIDX_SEC_CODES];
	uint64_t rec = fidx_quant_record(f->dim);
	if (!f->has[FIDX_SEC_CODES])
		return corrupt(f, err, "the codes are missing");
	f->block_rows = v->block_size / 4 / f->dim;
	if (!f->block_rows || v->block_size % (4 * f->dim))
		return corrupt(f, err, "the vectors' blocks are not whole rows");
	if (f->count > UINT64_MAX / rec || c->raw_bytes != f->count * rec || c->block_size != f->block_rows * rec ||
	    c->block_count != v->block_count ||
	    c->stored_bytes != (uint64_t)c->block_count * BLOCK_HEAD + c->raw_bytes + dir_size(f, c))
		return corrupt(f, err, "the codes do not match the vectors");
	return 0;
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
	if (fidx_le32(head + 60) != crc(head, 60))
		return corrupt(f, err, "header checksum mismatch");
	f->version = fidx_le32(head + 8);
	if (f->version < 1 || f->version > FIDX_FORMAT_VERSION)
		return fidx_err_set(err, FIDX_ECORRUPT,
		                    "%s: index format version %u is not supported (this fidx reads versions 1 to %u)",
		                    f->name, f->version, FIDX_FORMAT_VERSION);
	if (fidx_le32(head + 12) != HEADER_SIZE)
		return corrupt(f, err, "unexpected header size");
	if (fidx_le64(head + 16) != f->size) {
		if (fidx_le64(head + 16) > f->size)
			return corrupt(f, err, "the file is truncated");
		return corrupt(f, err, "the file has extra bytes at its end");
	}
	f->count = fidx_le64(head + 24);
	f->dim = fidx_le32(head + 32);
	f->nsec = fidx_le32(head + 36);
	toc_off = fidx_le64(head + 40);
	toc_size = fidx_le32(head + 48);
	if (f->dim == 0 || f->dim > FIDX_MAX_DIM)
		return corrupt(f, err, "dimension out of range");
	if (f->nsec < 2 || f->nsec > (f->version >= 3 ? 5u : 4u) || toc_size != f->nsec * TOC_ENTRY + 4)
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
	if (fidx_le32(toc + f->nsec * TOC_ENTRY) != crc(toc, f->nsec * TOC_ENTRY)) {
		free(toc);
		return corrupt(f, err, "table of contents checksum mismatch");
	}
	limit = toc_off;
	for (i = 0; i < f->nsec; i++) {
		const unsigned char *e = toc + i * TOC_ENTRY;
		struct fidx_section_info s;
		uint64_t blocks_min, dir;
		s.type = fidx_le32(e);
		s.codec = fidx_le32(e + 4);
		s.offset = fidx_le64(e + 8);
		s.stored_bytes = fidx_le64(e + 16);
		s.raw_bytes = fidx_le64(e + 24);
		s.block_count = fidx_le32(e + 32);
		s.block_size = fidx_le32(e + 36);
		if (s.type < 1 || s.type > (f->version >= 3 ? 5u : 4u) || f->has[s.type]) {
			free(toc);
			return corrupt(f, err, "unknown or repeated section");
		}
		if (s.codec != codec_of(f->version, s.type)) {
			free(toc);
			return corrupt(f, err, "unknown section encoding");
		}
		if (s.block_size < 4 || s.block_size > MAX_BLOCK_SIZE || (s.block_size % 4 && s.codec != CODEC_ROWS)) {
			free(toc);
			return corrupt(f, err, "bad block size");
		}
		blocks_min = s.raw_bytes / s.block_size + (s.raw_bytes % s.block_size != 0);
		dir = dir_size(f, &s);
		/* Version 3's vectors are bounded by their codes instead (see
		 * check_rows): they can compress much more than deflate can. */
		if (s.offset < HEADER_SIZE || s.offset > limit || s.stored_bytes > limit - s.offset ||
		    s.block_count != blocks_min || s.stored_bytes < (uint64_t)s.block_count * BLOCK_HEAD + dir ||
		    (s.codec != CODEC_RESIDUAL && s.raw_bytes / MAX_RATIO > s.stored_bytes)) {
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
	if (f->version >= 3 && (rc = check_rows(f, err)) != 0)
		return rc;
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
	f->dfd = -1;
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
	f->fd = f->dfd = -1;
	f->mem = data;
	f->size = n;
	if (open_common(f, err))
		return err ? err->code : FIDX_ECORRUPT;
	*out = f;
	return 0;
}

void fidx_file_close(struct fidx_file *f)
{
	int i;
	if (!f)
		return;
	if (f->map)
		munmap(f->map, f->map_len);
	for (i = 0; i <= FIDX_SEC_MAX; i++) {
		free(f->pos[i]);
		free(f->starts[i]);
	}
	if (f->fd >= 0)
		close(f->fd);
	if (f->dfd >= 0)
		close(f->dfd);
	free(f->name);
	free(f);
}

const char *fidx_file_name(const struct fidx_file *f) { return f->name; }
uint32_t fidx_file_version(const struct fidx_file *f) { return f->version; }
uint32_t fidx_file_dim(const struct fidx_file *f) { return f->dim; }
uint64_t fidx_file_count(const struct fidx_file *f) { return f->count; }
uint64_t fidx_file_size(const struct fidx_file *f) { return f->size; }
uint32_t fidx_file_block_rows(const struct fidx_file *f) { return f->block_rows; }

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

/* Checks the header h of block `index`, found at pos. */
static int parse_head(const struct fidx_file *f, const struct fidx_section_info *s, const unsigned char *h,
                      uint64_t pos, uint32_t index, struct blk *b, struct fidx_err *err)
{
	uint64_t end = blocks_end(f, s), expect;

	memset(b, 0, sizeof *b);
	if (fidx_le32(h + 16) != head_crc(h, s->type, index))
		return corrupt(f, err, "block header checksum mismatch");
	b->pos = pos;
	b->index = index;
	b->raw_off = (uint64_t)index * s->block_size;
	b->flag = fidx_le32(h) & STORED_FLAG;
	b->stored = fidx_le32(h) & ~STORED_FLAG;
	b->raw = fidx_le32(h + 4);
	b->raw_crc = fidx_le32(h + 8);
	b->stored_crc = fidx_le32(h + 12);
	expect = s->raw_bytes - b->raw_off < s->block_size ? s->raw_bytes - b->raw_off : s->block_size;
	if (b->raw != expect || b->stored > end - pos - BLOCK_HEAD ||
	    (b->flag && b->stored != b->raw) ||
	    (b->flag && (s->codec == CODEC_PLANES4 || s->codec == CODEC_RESIDUAL)) ||
	    (s->codec == CODEC_ROWS && (!b->flag || b->raw_crc != b->stored_crc)) ||
	    (s->codec != CODEC_DEFLATE && s->codec != CODEC_ROWS && b->raw % 4) ||
	    ((s->codec == CODEC_PLANES4 || s->codec == CODEC_RESIDUAL) && b->stored < PLANE_TABLE))
		return corrupt(f, err, "block sizes do not fit their section");
	if (index + 1 == s->block_count && pos + BLOCK_HEAD + b->stored != end)
		return corrupt(f, err, "a section has bytes after its last block");
	return 0;
}

struct decoder;
static const unsigned char *in_window(const struct decoder *c, uint64_t off, size_t n);

/* Reads and checks the header of block `index`, which starts at pos (from
 * c's window when it holds it; c may be NULL). */
static int read_head_in(struct fidx_file *f, const struct fidx_section_info *s, uint64_t pos, uint32_t index,
                        const struct decoder *c, struct blk *b, struct fidx_err *err)
{
	unsigned char head[BLOCK_HEAD];
	const unsigned char *w;
	int rc;

	if (index >= s->block_count)
		return corrupt(f, err, "a section ends early");
	if (pos < s->offset || pos > blocks_end(f, s) || blocks_end(f, s) - pos < BLOCK_HEAD)
		return corrupt(f, err, "a block header goes past its section");
	if ((w = in_window(c, pos, BLOCK_HEAD)) != NULL)
		return parse_head(f, s, w, pos, index, b, err);
	if ((rc = rd(f, pos, head, BLOCK_HEAD, err)) != 0)
		return rc;
	return parse_head(f, s, head, pos, index, b, err);
}

static int read_head(struct fidx_file *f, const struct fidx_section_info *s, uint64_t pos, uint32_t index,
                     struct blk *b, struct fidx_err *err)
{
	return read_head_in(f, s, pos, index, NULL, b, err);
}

/* Where the blocks of section type start (block_count + 1 offsets, the
 * last one where they end): version 3 reads them from the section's
 * directory, earlier versions walk the block headers. Kept until close;
 * not for use by several threads at once. */
static int positions(struct fidx_file *f, int type, const uint64_t **out, struct fidx_err *err)
{
	const struct fidx_section_info *s = &f->sec[type];
	uint64_t *t, pos = s->offset, end = blocks_end(f, s);
	uint32_t i;
	int rc = 0;

	if (f->pos[type]) {
		*out = f->pos[type];
		return 0;
	}
	if (!(t = malloc(((size_t)s->block_count + 1) * sizeof *t)))
		return fidx_err_nomem(err);
	if (f->version >= 3) {
		size_t es = dir_entry(s->type), n = (size_t)s->block_count * es;
		unsigned char *dir = malloc(n + 4);
		struct rec_start *st = es > 4 ? malloc(((size_t)s->block_count + 1) * sizeof *st) : NULL;
		if (!dir || (es > 4 && !st))
			rc = fidx_err_nomem(err);
		else if ((rc = rd(f, end, dir, n + 4, err)) == 0 && fidx_le32(dir + n) != dir_crc(dir, n, s->type))
			rc = corrupt(f, err, "block directory checksum mismatch");
		uint64_t next = 0; /* the least number the next start may have */
		for (i = 0; !rc && i < s->block_count; i++) {
			const unsigned char *e = dir + es * (size_t)i;
			uint32_t len = fidx_le32(e);
			t[i] = pos;
			if (len < BLOCK_HEAD || len > end - pos)
				rc = corrupt(f, err, "the block directory does not fit its section");
			pos += len;
			if (st) {
				st[i].off = fidx_le32(e + 4);
				st[i].row = fidx_le64(e + 8);
				/* Starts within their blocks, numbers rising from 0,
				 * record 0 at 0 (whether they are right, fidx info
				 * checks). */
				if (st[i].off == NO_START ? i == 0
				                          : (uint64_t)i * s->block_size + st[i].off >= s->raw_bytes ||
				                                st[i].off >= s->block_size || st[i].row >= f->count ||
				                                st[i].row < next || (i == 0 && (st[i].off || st[i].row)))
					rc = corrupt(f, err, "the block directory's records do not fit their section");
				if (st[i].off != NO_START)
					next = st[i].row + 1;
			}
		}
		if (!rc && pos != end)
			rc = corrupt(f, err, "the block directory does not fit its section");
		free(dir);
		if (rc)
			free(st);
		else
			f->starts[type] = st;
	} else {
		for (i = 0; !rc && i < s->block_count; i++) {
			struct blk b;
			t[i] = pos;
			if ((rc = read_head(f, s, pos, i, &b, err)) == 0)
				pos += BLOCK_HEAD + (uint64_t)b.stored;
		}
	}
	if (rc) {
		free(t);
		return rc;
	}
	t[s->block_count] = end;
	*out = f->pos[type] = t;
	return 0;
}

/* Reads the header of block i at the position the table says. */
static int head_at(struct fidx_file *f, const struct fidx_section_info *s, const uint64_t *t, uint32_t i,
                   const struct decoder *c, struct blk *b, struct fidx_err *err)
{
	int rc = read_head_in(f, s, t[i], i, c, b, err);
	if (!rc && t[i] + BLOCK_HEAD + b->stored != t[i + 1])
		return corrupt(f, err, "a block does not match the block directory");
	return rc;
}

/* Per-thread decoding state: the stored bytes of a block and its planes;
 * for residual vectors, the codes of its rows. */
struct decoder {
	struct libdeflate_decompressor *d;
	ZSTD_DCtx *z;
	unsigned char *stored, *plane, *codes;
	size_t stored_cap, block;
	/* Bytes [win_off, win_off + win_len) of the file, read at once
	 * (read_run), where blocks are taken from when they lie in it. */
	unsigned char *win;
	uint64_t win_off;
	size_t win_len, win_cap;
};

/* The n bytes at off, when c's window holds them. */
static const unsigned char *in_window(const struct decoder *c, uint64_t off, size_t n)
{
	if (!c || !c->win_len || off < c->win_off || off - c->win_off > c->win_len || n > c->win_len - (off - c->win_off))
		return NULL;
	return c->win + (off - c->win_off);
}

static void decoder_free(struct decoder *c)
{
	if (c->d)
		libdeflate_free_decompressor(c->d);
	ZSTD_freeDCtx(c->z);
	free(c->stored);
	free(c->plane);
	free(c->codes);
	free(c->win);
	memset(c, 0, sizeof *c);
}

/* Sized for the blocks of section s. */
static int decoder_init(struct decoder *c, const struct fidx_file *f, const struct fidx_section_info *s,
                        struct fidx_err *err)
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
	if (s->codec == CODEC_RESIDUAL &&
	    (!(c->z = ZSTD_createDCtx()) || !(c->codes = malloc((size_t)f->block_rows * fidx_quant_record(f->dim))))) {
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

/* The records of codes block `index`, checked, read into c->codes. */
static int read_codes(struct fidx_file *f, uint32_t index, struct decoder *c, const unsigned char **out,
                      struct fidx_err *err)
{
	const struct fidx_section_info *s = &f->sec[FIDX_SEC_CODES];
	struct blk b;
	int rc = read_head(f, s, s->offset + (uint64_t)index * (BLOCK_HEAD + s->block_size), index, &b, err);
	if (rc || (rc = rd(f, b.pos + BLOCK_HEAD, c->codes, b.raw, err)) != 0)
		return rc;
	if (crc(c->codes, b.raw) != b.raw_crc)
		return corrupt(f, err, "block checksum mismatch");
	*out = c->codes;
	return 0;
}

/* Decodes the four planes of an encoding 3 or 5 block (its stored bytes
 * st) into dst. */
static int decode_planes(struct fidx_file *f, const struct fidx_section_info *s, const struct blk *b,
                         struct decoder *c, const unsigned char *st, unsigned char *dst, struct fidx_err *err)
{
	const unsigned char *plane[4];
	size_t q = b->raw / 4, off = PLANE_TABLE;
	int p;
	for (p = 0; p < 4; p++) {
		uint32_t len = fidx_le32(st + 4 * p) & ~STORED_FLAG;
		int raw = (fidx_le32(st + 4 * p) & STORED_FLAG) != 0;
		if (len > b->stored - off || (raw && len != q))
			return corrupt(f, err, "block sizes do not fit their section");
		if (raw) {
			plane[p] = st + off;
		} else {
			unsigned char *to = c->plane + (size_t)p * q;
			if (s->codec == CODEC_PLANES4 ? inflate_exact(c->d, st + off, len, to, q) != 0
			                              : ZSTD_decompressDCtx(c->z, to, q, st + off, len) != q)
				return corrupt(f, err, "a block does not decompress");
			plane[p] = to;
		}
		off += len;
	}
	if (off != b->stored)
		return corrupt(f, err, "block sizes do not fit their section");
	from_planes(plane[0], plane[1], plane[2], plane[3], dst, q);
	return 0;
}

/* Decodes block b into dst (b->raw bytes) and checks its checksums; a
 * block of residual vectors needs its rows' codes: given, already
 * checked, or read here when codes is NULL. */
static int decode(struct fidx_file *f, const struct fidx_section_info *s, const struct blk *b,
                  struct decoder *c, unsigned char *dst, const unsigned char *codes, struct fidx_err *err)
{
	size_t r, rows = b->raw / 4 / f->dim;
	int rc;

	const unsigned char *st = c->stored, *w;

	if (b->stored > c->stored_cap || b->raw > c->block)
		return corrupt(f, err, "block sizes do not fit their section");
	/* In memory, the stored bytes are read where they are. */
	if (f->mem && b->pos + BLOCK_HEAD <= f->size && b->stored <= f->size - b->pos - BLOCK_HEAD)
		st = f->mem + b->pos + BLOCK_HEAD;
	else if ((w = in_window(c, b->pos + BLOCK_HEAD, b->stored)) != NULL)
		st = w;
	else if ((rc = rd(f, b->pos + BLOCK_HEAD, c->stored, b->stored, err)) != 0)
		return rc;
	/* The stored bytes have their own checksum: a flip in bits that
	 * inflate ignores (the padding of the last byte) is caught too. */
	if (crc(st, b->stored) != b->stored_crc)
		return corrupt(f, err, "block checksum mismatch");
	if (b->flag) {
		memcpy(dst, st, b->raw);
	} else if (s->codec == CODEC_DEFLATE) {
		if (inflate_exact(c->d, st, b->stored, dst, b->raw))
			return corrupt(f, err, "a block does not inflate");
	} else if (s->codec == CODEC_PLANES) {
		if (inflate_exact(c->d, st, b->stored, c->plane, b->raw))
			return corrupt(f, err, "a block does not inflate");
		from_planes(c->plane, c->plane + b->raw / 4, c->plane + b->raw / 2, c->plane + b->raw / 4 * 3,
		            dst, b->raw / 4);
	} else if ((rc = decode_planes(f, s, b, c, st, dst, err)) != 0) {
		return rc;
	}
	if (s->codec == CODEC_RESIDUAL) {
		if (!codes && (rc = read_codes(f, b->index, c, &codes, err)) != 0)
			return rc;
		for (r = 0; r < rows; r++)
			fidx_quant_unresiduals(codes + r * fidx_quant_record(f->dim), (uint32_t *)dst + r * f->dim,
			                       f->dim);
	}
	if (crc(dst, b->raw) != b->raw_crc)
		return corrupt(f, err, "block checksum mismatch");
	/* What search relies on: every row within its codes' bound. */
	if (s->codec == CODEC_RESIDUAL)
		for (r = 0; r < rows; r++)
			if (fidx_quant_check(codes + r * fidx_quant_record(f->dim), (const float *)dst + r * f->dim,
			                     f->dim))
				return corrupt(f, err, "a row is not within the bound of its codes");
	return 0;
}

struct span {
	uint64_t off, len;
	unsigned char *ptr;
};

/* Decodes block i (its position t[i]) to the destination that holds its
 * whole range, or aside and copied piece by piece. */
static int decode_one(struct fidx_file *f, const struct fidx_section_info *s, const uint64_t *t, uint32_t i,
                      struct decoder *c, unsigned char *aside, const struct span *dests, size_t nd,
                      struct fidx_err *err)
{
	struct blk b;
	unsigned char *dst = aside;
	size_t j;
	if (head_at(f, s, t, i, c, &b, err) != 0)
		return -1;
	for (j = 0; j < nd; j++)
		if (b.raw_off >= dests[j].off && b.raw_off + b.raw <= dests[j].off + dests[j].len)
			dst = dests[j].ptr + (b.raw_off - dests[j].off);
	if (decode(f, s, &b, c, dst, NULL, err) != 0)
		return -1;
	if (dst == aside)
		for (j = 0; j < nd; j++) {
			uint64_t lo = b.raw_off > dests[j].off ? b.raw_off : dests[j].off;
			uint64_t hi = b.raw_off + b.raw < dests[j].off + dests[j].len ? b.raw_off + b.raw
			                                                              : dests[j].off + dests[j].len;
			if (lo < hi)
				memcpy(dests[j].ptr + (lo - dests[j].off), aside + (lo - b.raw_off), hi - lo);
		}
	return 0;
}

/* Reads the bytes [t[b0], t[b1]) of the file into c's window, through
 * f->dfd (O_DIRECT: aligned offset, length and memory). When that cannot
 * be done the window stays empty: the blocks are then read one by one. */
static void read_run(struct fidx_file *f, const uint64_t *t, uint32_t b0, uint32_t b1, struct decoder *c)
{
	uint64_t lo = t[b0] / DIRECT_ALIGN * DIRECT_ALIGN;
	size_t want = (size_t)(t[b1] - lo), need = (want + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN, got = 0;
	c->win_len = 0;
	if (need > c->win_cap) {
		free(c->win);
		c->win = NULL;
		if (posix_memalign((void **)&c->win, DIRECT_ALIGN, need) != 0) {
			c->win = NULL;
			c->win_cap = 0;
			return;
		}
		c->win_cap = need;
	}
	while (got < want) {
		ssize_t n = pread(f->dfd, c->win + got, need - got, (off_t)(lo + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || ((size_t)n % DIRECT_ALIGN && got + (size_t)n < want))
			return;
		got += (size_t)n;
	}
	c->win_off = lo;
	c->win_len = want;
}

/* Decodes every block of section type in parallel. Each block's bytes go
 * to the destination that holds its whole range, if one does; otherwise
 * they are decoded aside and copied piece by piece (dests sorted by
 * offset, covering the section; nd == 0 only checks). With f->dfd, the
 * vectors are read around the page cache, direct_run() bytes at a time. */
static int decode_all(struct fidx_file *f, int type, const struct span *dests, size_t nd,
                      struct fidx_err *err)
{
	const struct fidx_section_info *s = fidx_file_section(f, type);
	const uint64_t *t = NULL;
	uint32_t *runs = NULL, nruns = 0, i;
	size_t chunk = direct_run();
	long first_bad = LONG_MAX, r;
	int rc, nthreads, direct = f->dfd >= 0 && type == FIDX_SEC_VECTORS;

	if (!s)
		return corrupt(f, err, "a section is missing");
	if ((rc = positions(f, type, &t, err)) != 0)
		return rc;
	/* Runs of blocks: run r is blocks runs[r] .. runs[r + 1] - 1 (one
	 * block each unless read around the page cache). */
	if (!(runs = malloc(((size_t)s->block_count + 1) * sizeof *runs)))
		return fidx_err_nomem(err);
	for (i = 0; i < s->block_count; i++)
		if (!nruns || !direct || t[i] - t[runs[nruns - 1]] >= chunk)
			runs[nruns++] = i;
	runs[nruns] = s->block_count;
	/* Reading around the page cache waits for the disk: twice as many
	 * threads as cores keep them busy meanwhile. */
	nthreads = nruns > 1 ? omp_get_max_threads() * (direct ? 2 : 1) : 1;
#pragma omp parallel num_threads(nthreads)
	{
		struct decoder c;
		struct fidx_err mine = {0};
		unsigned char *aside = NULL;
		long bad = LONG_MAX;
		int ok = decoder_init(&c, f, s, &mine) == 0;
		if (ok && !(aside = malloc(c.block)))
			ok = 0, fidx_err_nomem(&mine);
		if (!ok)
			bad = -1;
#pragma omp for schedule(dynamic, 1)
		for (r = 0; r < (long)nruns; r++) {
			uint32_t b;
			if (!ok || runs[r] > bad)
				continue;
			if (direct)
				read_run(f, t, runs[r], runs[r + 1], &c);
			for (b = runs[r]; b < runs[r + 1] && (long)b <= bad; b++)
				if (decode_one(f, s, t, b, &c, aside, dests, nd, &mine) != 0)
					bad = b;
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
	free(runs);
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

static int verify_starts(struct fidx_file *f, int type, struct fidx_err *err);

int fidx_file_verify(struct fidx_file *f, struct fidx_err *err)
{
	const uint64_t *t;
	int type, rc;
	for (type = 1; type <= FIDX_SEC_MAX; type++) {
		if (!f->has[type])
			continue;
		/* Version 3's codes are read and checked block by block with the
		 * vectors they belong to: only their directory is left. */
		if (type == FIDX_SEC_CODES && f->version >= 3)
			rc = positions(f, type, &t, err);
		else
			rc = decode_all(f, type, NULL, 0, err);
		if (rc)
			return rc;
	}
	for (type = FIDX_SEC_IDS; type <= FIDX_SEC_TEXTS; type++)
		if (f->has[type] && f->version >= 3 && (rc = verify_starts(f, type, err)) != 0)
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
	int rc = read_head(c->f, c->s, c->pos, c->next_block, &b, err);
	if (rc || (rc = decode(c->f, c->s, &b, &c->c, dst, NULL, err)) != 0)
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
	if ((rc = decoder_init(&c->c, f, s, err)) != 0) {
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
	n = fidx_le32(head);
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

/* ---------------------------------------------------------------- search */

int fidx_file_map_codes(struct fidx_file *f, struct fidx_err *err)
{
	const struct fidx_section_info *s = fidx_file_section(f, FIDX_SEC_CODES);
	long page = sysconf(_SC_PAGESIZE);
	uint64_t from;
	void *p;

	if (!s)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: the index has no codes", f->name);
	if (f->codes)
		return 0;
	if (f->mem) {
		f->codes = f->mem + s->offset;
		return 0;
	}
	/* From a multiple of 2 MiB, so that the kernel may map whole large
	 * folios of the page cache at once. */
	if (page <= 0 || page < (2 << 20))
		page = 2 << 20;
	from = s->offset / (uint64_t)page * (uint64_t)page;
	f->map_len = (size_t)(s->offset + s->stored_bytes - from);
	p = mmap(NULL, f->map_len, PROT_READ, MAP_SHARED, f->fd, (off_t)from);
	if (p == MAP_FAILED)
		return fidx_err_sys(err, FIDX_EIO, errno, "%s: cannot map the codes", f->name);
	/* Pages not yet in the page cache come in 2 MiB folios (those a build
	 * wrote are in COPY_CHUNK folios), which the kernel maps whole (a
	 * fraction of the cost of 4 KiB pages); then
	 * read front to back, so readahead may go far ahead. */
#ifdef MADV_HUGEPAGE
	madvise(p, f->map_len, MADV_HUGEPAGE);
#endif
	madvise(p, f->map_len, MADV_SEQUENTIAL);
	f->map = p;
	f->codes = (const unsigned char *)p + (s->offset - from);
	return 0;
}

int fidx_file_codes_block(const struct fidx_file *f, uint32_t index, const unsigned char **recs,
                          uint32_t *rows, struct fidx_err *err)
{
	const struct fidx_section_info *s = &f->sec[FIDX_SEC_CODES];
	uint64_t at = (uint64_t)index * (BLOCK_HEAD + s->block_size);
	const unsigned char *h = f->codes + at;
	struct blk b;
	int rc;

	if (!f->codes || index >= s->block_count)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: no such block of codes", f->name);
	/* The section's size was checked against its blocks at open: the
	 * header and its records lie inside it. */
	if ((rc = parse_head(f, s, h, s->offset + at, index, &b, err)) != 0)
		return rc;
	if (crc(h + BLOCK_HEAD, b.raw) != b.raw_crc)
		return corrupt(f, err, "block checksum mismatch");
	*recs = h + BLOCK_HEAD;
	*rows = (uint32_t)(b.raw / fidx_quant_record(f->dim));
	return 0;
}

struct fidx_block_reader {
	struct fidx_file *f;
	const uint64_t *pos;
	struct decoder c;
	uint64_t bytes;
};

int fidx_block_reader_open(struct fidx_block_reader **out, struct fidx_file *f, struct fidx_err *err)
{
	struct fidx_block_reader *r;
	int rc;

	*out = NULL;
	if (!f->block_rows)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: the vectors are not in blocks of rows", f->name);
	if (!(r = calloc(1, sizeof *r)))
		return fidx_err_nomem(err);
	r->f = f;
	if ((rc = positions(f, FIDX_SEC_VECTORS, &r->pos, err)) != 0 ||
	    (rc = decoder_init(&r->c, f, &f->sec[FIDX_SEC_VECTORS], err)) != 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int fidx_block_read(struct fidx_block_reader *r, uint32_t index, const unsigned char *codes, float *dst,
                    uint32_t *rows, struct fidx_err *err)
{
	const struct fidx_section_info *s = &r->f->sec[FIDX_SEC_VECTORS];
	struct blk b;
	int rc;

	if (index >= s->block_count)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: no such block of vectors", r->f->name);
	if ((rc = head_at(r->f, s, r->pos, index, NULL, &b, err)) != 0 ||
	    (rc = decode(r->f, s, &b, &r->c, (unsigned char *)dst, codes, err)) != 0)
		return rc;
	r->bytes += BLOCK_HEAD + (uint64_t)b.stored;
	*rows = b.raw / 4 / r->f->dim;
	return 0;
}

uint64_t fidx_block_reader_bytes(const struct fidx_block_reader *r)
{
	return r->bytes;
}

void fidx_block_reader_close(struct fidx_block_reader *r)
{
	if (!r)
		return;
	decoder_free(&r->c);
	free(r);
}

/* ---------------------------------------------------------------- records */

struct fidx_records {
	struct fidx_file *f;
	const struct fidx_section_info *s;
	const uint64_t *pos;
	const struct rec_start *starts;
	uint32_t *with_start; /* the blocks where a record starts, in order */
	uint32_t nwith;
	struct decoder c;
	unsigned char *block; /* the last block decoded */
	int64_t cached;       /* its number, or -1 */
};

int fidx_records_open(struct fidx_records **out, struct fidx_file *f, int type, struct fidx_err *err)
{
	struct fidx_records *r;
	uint32_t i;
	int rc;

	*out = NULL;
	if (f->version < 3 || (type != FIDX_SEC_IDS && type != FIDX_SEC_TEXTS) || !f->has[type])
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: no records to read one by one", f->name);
	if (!(r = calloc(1, sizeof *r)))
		return fidx_err_nomem(err);
	r->f = f;
	r->s = &f->sec[type];
	r->cached = -1;
	if ((rc = positions(f, type, &r->pos, err)) != 0 || (rc = decoder_init(&r->c, f, r->s, err)) != 0) {
		free(r);
		return rc;
	}
	r->starts = f->starts[type];
	if (!(r->block = malloc(r->c.block)) ||
	    !(r->with_start = malloc(((size_t)r->s->block_count + 1) * sizeof *r->with_start))) {
		fidx_records_close(r);
		return fidx_err_nomem(err);
	}
	for (i = 0; i < r->s->block_count; i++)
		if (r->starts[i].off != NO_START)
			r->with_start[r->nwith++] = i;
	*out = r;
	return 0;
}

void fidx_records_close(struct fidx_records *r)
{
	if (!r)
		return;
	decoder_free(&r->c);
	free(r->block);
	free(r->with_start);
	free(r);
}

/* n decoded bytes of the section, from offset off. */
static int records_read(struct fidx_records *r, uint64_t off, void *dst, size_t n, struct fidx_err *err)
{
	const struct fidx_section_info *s = r->s;
	unsigned char *d = dst;
	int rc;

	if (off > s->raw_bytes || n > s->raw_bytes - off)
		return corrupt(r->f, err, "a record is longer than its section");
	while (n) {
		uint32_t b = (uint32_t)(off / s->block_size);
		uint64_t at = off - (uint64_t)b * s->block_size;
		size_t take;
		if (r->cached != (int64_t)b) {
			struct blk blk;
			r->cached = -1;
			if ((rc = head_at(r->f, s, r->pos, b, NULL, &blk, err)) != 0 ||
			    (rc = decode(r->f, s, &blk, &r->c, r->block, NULL, err)) != 0)
				return rc;
			r->cached = b;
		}
		take = s->raw_bytes - off < s->block_size - at ? (size_t)(s->raw_bytes - off) : (size_t)(s->block_size - at);
		if (take > n)
			take = n;
		memcpy(d, r->block + at, take);
		off += take, d += take, n -= take;
	}
	return 0;
}

int fidx_records_get(struct fidx_records *r, uint64_t row, char **out, size_t *len, struct fidx_err *err)
{
	const struct rec_start *st = r->starts;
	uint32_t lo = 0, hi = r->nwith, b;
	uint64_t off, at;
	unsigned char head[4];
	char *p;
	int rc;

	*out = NULL;
	if (row >= r->f->count || !r->nwith)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: record %llu out of range", r->f->name,
		                    (unsigned long long)row);
	/* The last block whose first record is at most row. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (st[r->with_start[mid]].row <= row)
			lo = mid;
		else
			hi = mid;
	}
	b = r->with_start[lo];
	off = (uint64_t)b * r->s->block_size + st[b].off;
	for (at = st[b].row; at < row; at++) {
		if ((rc = records_read(r, off, head, 4, err)) != 0)
			return rc;
		off += 4 + (uint64_t)fidx_le32(head);
	}
	if ((rc = records_read(r, off, head, 4, err)) != 0)
		return rc;
	*len = fidx_le32(head);
	if (*len > r->s->raw_bytes - off - 4)
		return corrupt(r->f, err, "a record is longer than its section");
	if (!(p = malloc(*len + 1)))
		return fidx_err_nomem(err);
	if ((rc = records_read(r, off + 4, p, *len, err)) != 0) {
		free(p);
		return rc;
	}
	p[*len] = '\0';
	*out = p;
	return 0;
}

/* Version 3 ids and texts: the directory says rightly where each block's
 * first record starts (what fidx_records_get relies on). */
static int verify_starts(struct fidx_file *f, int type, struct fidx_err *err)
{
	const struct fidx_section_info *s = &f->sec[type];
	const uint64_t *t;
	struct fidx_cursor *c;
	const struct rec_start *st;
	uint64_t off = 0, row, b, next = 0; /* next: the first block not yet checked */
	int rc;

	if ((rc = positions(f, type, &t, err)) != 0 || (rc = fidx_cursor_open(&c, f, type, err)) != 0)
		return rc;
	st = f->starts[type];
	for (row = 0; row < f->count && !rc; row++) {
		const char *p;
		size_t len;
		b = off / s->block_size;
		for (; next < b && !rc; next++)
			if (st[next].off != NO_START)
				rc = corrupt(f, err, "the block directory's records are not where it says");
		if (!rc && next == b) {
			if (st[b].off != off - b * s->block_size || st[b].row != row)
				rc = corrupt(f, err, "the block directory's records are not where it says");
			next++;
		}
		if (!rc && (rc = fidx_cursor_record(c, &p, &len, err)) == 0)
			off += 4 + len;
	}
	for (; next < s->block_count && !rc; next++)
		if (st[next].off != NO_START)
			rc = corrupt(f, err, "the block directory's records are not where it says");
	fidx_cursor_close(c);
	return rc;
}
