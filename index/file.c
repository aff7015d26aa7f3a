#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "outfile.h"

#define HEADER_SIZE 64
#define BLOCK_HEAD 20
#define TOC_ENTRY 40
#define BLOCK_SIZE (1u << 20)
#define MAX_BLOCK_SIZE (64u << 20)
#define STORED_FLAG 0x80000000u
#define CODEC_DEFLATE 1
#define CODEC_PLANES 2 /* deflate over byte planes of 4-byte values */
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
	uint32_t c = (uint32_t)crc32(0L, Z_NULL, 0);
	const unsigned char *b = p;
	while (n) {
		uInt take = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c = (uint32_t)crc32(c, b, take);
		b += take;
		n -= take;
	}
	return c;
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

static void from_planes(const unsigned char *src, unsigned char *dst, size_t n)
{
	size_t m = n / 4, i;
	for (i = 0; i < m; i++) {
		dst[4 * i] = src[i];
		dst[4 * i + 1] = src[m + i];
		dst[4 * i + 2] = src[2 * m + i];
		dst[4 * i + 3] = src[3 * m + i];
	}
}

/* ---------------------------------------------------------------- writer */

struct secw {
	int fd;
	const char *name;
	uint64_t start, pos;
	uint32_t type, codec, blocks;
	uint64_t raw_total;
	unsigned char *raw, *plane, *out;
	size_t fill, out_cap;
	z_stream z;
	int z_live;
};

static int secw_init(struct secw *s, int fd, const char *name, uint64_t start, uint32_t type,
                     uint32_t codec, int level, struct fidx_err *err)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->name = name;
	s->start = s->pos = start;
	s->type = type;
	s->codec = codec;
	if (deflateInit2(&s->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return fidx_err_nomem(err);
	s->z_live = 1;
	s->out_cap = deflateBound(&s->z, BLOCK_SIZE);
	s->raw = malloc(BLOCK_SIZE);
	s->out = malloc(s->out_cap);
	if (codec == CODEC_PLANES)
		s->plane = malloc(BLOCK_SIZE);
	if (!s->raw || !s->out || (codec == CODEC_PLANES && !s->plane))
		return fidx_err_nomem(err);
	return 0;
}

static void secw_free(struct secw *s)
{
	if (s->z_live)
		deflateEnd(&s->z);
	s->z_live = 0;
	free(s->raw);
	free(s->plane);
	free(s->out);
	s->raw = s->plane = s->out = NULL;
}

static int secw_flush(struct secw *s, struct fidx_err *err)
{
	unsigned char head[BLOCK_HEAD];
	const unsigned char *payload;
	uint32_t stored;
	int rc;

	if (!s->fill)
		return 0;
	if (s->codec == CODEC_PLANES)
		to_planes(s->raw, s->plane, s->fill);
	deflateReset(&s->z);
	s->z.next_in = s->codec == CODEC_PLANES ? s->plane : s->raw;
	s->z.avail_in = (uInt)s->fill;
	s->z.next_out = s->out;
	s->z.avail_out = (uInt)s->out_cap;
	if (deflate(&s->z, Z_FINISH) != Z_STREAM_END)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: deflate failed", s->name);
	stored = (uint32_t)(s->out_cap - s->z.avail_out);
	if (stored >= s->fill) {
		/* Incompressible: keep the bytes as they are. */
		payload = s->raw;
		stored = (uint32_t)s->fill;
		put32(head, stored | STORED_FLAG);
	} else {
		payload = s->out;
		put32(head, stored);
	}
	put32(head + 4, (uint32_t)s->fill);
	put32(head + 8, crc(s->raw, s->fill));
	put32(head + 12, crc(payload, stored));
	put32(head + 16, head_crc(head, s->type, s->blocks));
	rc = fidx_pwrite_all(s->fd, head, BLOCK_HEAD, s->pos, s->name, err);
	if (!rc)
		rc = fidx_pwrite_all(s->fd, payload, stored, s->pos + BLOCK_HEAD, s->name, err);
	if (rc)
		return rc;
	s->pos += BLOCK_HEAD + (uint64_t)stored;
	s->raw_total += s->fill;
	s->blocks++;
	s->fill = 0;
	return 0;
}

static int secw_put(struct secw *s, const void *data, size_t n, struct fidx_err *err)
{
	const unsigned char *p = data;
	while (n) {
		size_t take = BLOCK_SIZE - s->fill;
		if (take > n)
			take = n;
		memcpy(s->raw + s->fill, p, take);
		s->fill += take, p += take, n -= take;
		if (s->fill == BLOCK_SIZE) {
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

struct fidx_file_writer {
	struct fidx_outfile out;
	uint32_t dim;
	int level;
	uint64_t rows, nids, ntexts;
	int ids_fd, texts_fd;
	struct secw vec, ids, texts;
};

int fidx_fw_open(struct fidx_file_writer **out, const char *path, uint32_t dim, int level,
                 struct fidx_err *err)
{
	struct fidx_file_writer *w;
	int rc;

	*out = NULL;
	if (dim == 0 || dim > FIDX_MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "dimension %u is out of range (1..%u)", dim, FIDX_MAX_DIM);
	w = calloc(1, sizeof *w);
	if (!w)
		return fidx_err_nomem(err);
	w->ids_fd = w->texts_fd = -1;
	w->out.fd = -1;
	w->dim = dim;
	w->level = level;
	rc = fidx_outfile_open(&w->out, path, err);
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
	                    CODEC_PLANES, level, err)) != 0 ||
	    (rc = secw_init(&w->ids, w->ids_fd, w->out.tmp, 0, FIDX_SEC_IDS, CODEC_DEFLATE, level,
	                    err)) != 0 ||
	    (rc = secw_init(&w->texts, w->texts_fd, w->out.tmp, 0, FIDX_SEC_TEXTS, CODEC_DEFLATE,
	                    level, err)) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	fidx_fw_abort(w);
	return rc;
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
	if ((rc = secw_init(&meta, w->out.fd, w->out.tmp, pos, FIDX_SEC_META, CODEC_DEFLATE, w->level,
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
	if (f->version != FIDX_FORMAT_VERSION)
		return fidx_err_set(err, FIDX_ECORRUPT,
		                    "%s: index format version %u is not supported (this fidx reads version %u)",
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
		if (s.codec != CODEC_DEFLATE && s.codec != CODEC_PLANES) {
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
	if (f->sec[FIDX_SEC_VECTORS].codec != CODEC_PLANES ||
	    f->count > UINT64_MAX / 4 / f->dim ||
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

/* Block-by-block decoding of one section. */
struct fidx_cursor {
	struct fidx_file *f;
	const struct fidx_section_info *s;
	uint64_t pos;        /* file offset of the next block header */
	uint64_t raw_done;   /* decoded bytes of blocks already loaded */
	uint32_t next_block;
	unsigned char *stored, *plane, *block;
	size_t stored_cap;
	size_t have, at;     /* bytes in block[], read position */
	z_stream z;
	int z_live;
	char *rec;
	size_t rec_cap;
};

/* Decodes the next block into dst (room for its raw size). Returns the
 * decoded size through *n. */
static int next_block(struct fidx_cursor *c, unsigned char *dst, size_t *n, struct fidx_err *err)
{
	const struct fidx_section_info *s = c->s;
	unsigned char head[BLOCK_HEAD];
	uint32_t stored, raw, flags;
	uint64_t end = s->offset + s->stored_bytes, expect;
	int rc;

	if (c->next_block >= s->block_count)
		return corrupt(c->f, err, "a section ends early");
	if (c->pos + BLOCK_HEAD > end)
		return corrupt(c->f, err, "a block header goes past its section");
	if ((rc = rd(c->f, c->pos, head, BLOCK_HEAD, err)) != 0)
		return rc;
	if (get32(head + 16) != head_crc(head, s->type, c->next_block))
		return corrupt(c->f, err, "block header checksum mismatch");
	flags = get32(head) & STORED_FLAG;
	stored = get32(head) & ~STORED_FLAG;
	raw = get32(head + 4);
	expect = s->raw_bytes - c->raw_done < s->block_size ? s->raw_bytes - c->raw_done : s->block_size;
	if (raw != expect || stored > end - c->pos - BLOCK_HEAD || stored > c->stored_cap ||
	    (flags && stored != raw))
		return corrupt(c->f, err, "block sizes do not fit their section");
	if ((rc = rd(c->f, c->pos + BLOCK_HEAD, c->stored, stored, err)) != 0)
		return rc;
	/* The stored bytes have their own checksum: a flip in bits that
	 * inflate ignores (the padding of the last byte) is caught too. */
	if (crc(c->stored, stored) != get32(head + 12))
		return corrupt(c->f, err, "block checksum mismatch");
	if (flags) {
		memcpy(dst, c->stored, raw);
	} else {
		unsigned char *to = s->codec == CODEC_PLANES ? c->plane : dst;
		int zr;
		inflateReset(&c->z);
		c->z.next_in = c->stored;
		c->z.avail_in = stored;
		c->z.next_out = to;
		c->z.avail_out = raw;
		zr = inflate(&c->z, Z_FINISH);
		if (zr != Z_STREAM_END || c->z.avail_out != 0 || c->z.avail_in != 0)
			return corrupt(c->f, err, zr == Z_MEM_ERROR ? "out of memory while inflating" : "a block does not inflate");
		if (s->codec == CODEC_PLANES)
			from_planes(c->plane, dst, raw);
	}
	if (crc(dst, raw) != get32(head + 8))
		return corrupt(c->f, err, "block checksum mismatch");
	c->pos += BLOCK_HEAD + (uint64_t)stored;
	c->raw_done += raw;
	c->next_block++;
	if (c->next_block == s->block_count && c->pos != end)
		return corrupt(c->f, err, "a section has bytes after its last block");
	*n = raw;
	return 0;
}

int fidx_cursor_open(struct fidx_cursor **out, struct fidx_file *f, int type, struct fidx_err *err)
{
	struct fidx_cursor *c;
	const struct fidx_section_info *s = fidx_file_section(f, type);
	size_t bs;

	*out = NULL;
	if (!s)
		return corrupt(f, err, "a section is missing");
	c = calloc(1, sizeof *c);
	if (!c)
		return fidx_err_nomem(err);
	c->f = f;
	c->s = s;
	c->pos = s->offset;
	/* Largest stored payload a block may have: raw plus deflate's worst
	 * case expansion. */
	bs = s->raw_bytes < s->block_size ? (size_t)s->raw_bytes : s->block_size;
	if (!bs)
		bs = 4;
	c->stored_cap = bs + bs / 8 + 1024;
	c->stored = malloc(c->stored_cap);
	c->block = malloc(bs);
	if (s->codec == CODEC_PLANES)
		c->plane = malloc(bs);
	if (!c->stored || !c->block || (s->codec == CODEC_PLANES && !c->plane) ||
	    inflateInit2(&c->z, -15) != Z_OK) {
		fidx_cursor_close(c);
		return fidx_err_nomem(err);
	}
	c->z_live = 1;
	*out = c;
	return 0;
}

void fidx_cursor_close(struct fidx_cursor *c)
{
	if (!c)
		return;
	if (c->z_live)
		inflateEnd(&c->z);
	free(c->stored);
	free(c->plane);
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
			if (n >= c->s->block_size && c->next_block < c->s->block_count) {
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
	struct fidx_cursor *c;
	char *buf;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return corrupt(f, err, "a section is missing");
	if (s->raw_bytes > cap || s->raw_bytes >= SIZE_MAX)
		return corrupt(f, err, "a section is larger than expected");
	if ((rc = fidx_cursor_open(&c, f, type, err)) != 0)
		return rc;
	buf = malloc((size_t)s->raw_bytes + 1);
	if (!buf) {
		fidx_cursor_close(c);
		return fidx_err_nomem(err);
	}
	rc = fidx_cursor_read(c, buf, (size_t)s->raw_bytes, err);
	fidx_cursor_close(c);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[s->raw_bytes] = '\0';
	*out = buf;
	*n = (size_t)s->raw_bytes;
	return 0;
}

int fidx_file_read_vectors(struct fidx_file *f, float *dst, struct fidx_err *err)
{
	struct fidx_cursor *c;
	int rc = fidx_cursor_open(&c, f, FIDX_SEC_VECTORS, err);
	if (rc)
		return rc;
	rc = fidx_cursor_read(c, dst, (size_t)(f->count * f->dim * 4), err);
	fidx_cursor_close(c);
	return rc;
}

int fidx_file_verify(struct fidx_file *f, struct fidx_err *err)
{
	int type;
	for (type = 1; type <= FIDX_SEC_MAX; type++) {
		struct fidx_cursor *c;
		int rc;
		size_t n;
		if (!f->has[type])
			continue;
		if ((rc = fidx_cursor_open(&c, f, type, err)) != 0)
			return rc;
		while (c->next_block < c->s->block_count)
			if ((rc = next_block(c, c->block, &n, err)) != 0)
				break;
		fidx_cursor_close(c);
		if (rc)
			return rc;
	}
	return 0;
}
