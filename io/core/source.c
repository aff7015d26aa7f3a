#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "sha256.h"

#define RAW_CAP (256 * 1024)
#define DIGEST_WINDOW ((size_t)32 << 20)

struct fidx_source {
	char *name;
	int fd;         /* -1 for memory */
	int own_fd;
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	int started, gzip, eof_raw, gz_done, gz_ended;
	unsigned char *raw; /* stored bytes not yet consumed */
	size_t raw_pos, raw_len;
	z_stream z;
	int z_live;
	uint64_t stored;
	struct fidx_sha256 sha;
	/* The background digest of a regular file. */
	pthread_t digester;
	int digesting, digest_errno, digest_cut;
	atomic_int stop;
	uint64_t digested;
	struct fidx_sha256 file_sha;
	struct timespec mtime; /* a regular file's, when it is trusted; else 0 */
	ZSTD_DStream *zs;      /* zstd-compressed input */
	int zs_left;           /* inside a frame */
	/* Random access: 1 with pread on fd, 2 from whole[] (in memory). */
	int ra;
	const unsigned char *whole;
	unsigned char *whole_own;
	uint64_t whole_n;
	/* Decoded bytes looked at by fidx_source_peek, handed out first. */
	unsigned char *peek;
	size_t peek_pos, peek_len;
};

/* The digest maps the file rather than reading it: one copy of every byte
 * less (1.5 GB for 1,000,000 x 384 float32). A file cut short while it is
 * mapped raises SIGBUS on the bytes gone; the digest thread's handler then
 * takes it back out of the mapping, and the digest fails as a read would.
 * The handler is there while some digest maps a file, and a SIGBUS
 * anywhere else goes to the handler there was before. */
static __thread sigjmp_buf *bus_exit;
static struct sigaction bus_before;
static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;
static int bus_users;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (bus_exit && si->si_code > 0)
		siglongjmp(*bus_exit, 1);
	/* Not the digest's: the access is made again under the handler there
	 * was before (the default: the process stops); a signal sent with
	 * kill is sent again. */
	sigaction(sig, &bus_before, NULL);
	if (si->si_code <= 0)
		raise(sig);
}

/* Puts the handler in place for one more user: 0, or -1. */
static int bus_take(void)
{
	struct sigaction sa;
	int rc = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&bus_lock);
	if (bus_users == 0 && sigaction(SIGBUS, &sa, &bus_before) != 0)
		rc = -1;
	else
		bus_users++;
	pthread_mutex_unlock(&bus_lock);
	return rc;
}

/* The last user gives the handler there was before back. */
static void bus_give(void)
{
	pthread_mutex_lock(&bus_lock);
	if (--bus_users == 0)
		sigaction(SIGBUS, &bus_before, NULL);
	pthread_mutex_unlock(&bus_lock);
}

/* Digests the file's first size bytes through mappings of DIGEST_WINDOW
 * bytes at a time, so the process never maps more than that of the file;
 * returns 0, or -1 when it cannot be mapped (the caller reads it instead). */
static int digest_mapped(struct fidx_source *s, uint64_t file_size)
{
	const volatile uint64_t size = file_size;
	const unsigned char *volatile m = NULL;
	volatile size_t len = 0;
	volatile uint64_t at = 0;
	sigjmp_buf out;

	if (size == 0 || size > SIZE_MAX || bus_take() != 0)
		return -1;
	if (sigsetjmp(out, 1)) {
		bus_exit = NULL;
		munmap((void *)m, len);
		bus_give();
		s->digest_cut = 1;
		return 0;
	}
	for (; at < size && !atomic_load_explicit(&s->stop, memory_order_relaxed); at += len) {
		len = size - at < DIGEST_WINDOW ? (size_t)(size - at) : DIGEST_WINDOW;
		m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, s->fd, (off_t)at);
		if (m == MAP_FAILED) {
			bus_give();
			if (at == 0)
				return -1;
			s->digested = at;
			return 0;
		}
#ifdef FIDX_TEST_HOOKS
		/* Tests cut the file in half once it is mapped. */
		if (at == 0 && getenv("FIDX_TEST_DIGEST_CUT") && truncate(s->name, (off_t)(size / 2)) != 0)
			abort();
#endif
		bus_exit = &out;
		fidx_sha256_update(&s->file_sha, m, len);
		bus_exit = NULL;
		munmap((void *)m, len);
	}
	bus_give();
	s->digested = at < size ? at : size;
	return 0;
}

/* Digests the whole file (the reader's offset is untouched): mapped up to
 * the size it had when opened, then read with pread to its end. */
static void *digest_file(void *arg)
{
	struct fidx_source *s = arg;
	unsigned char *buf;
	uint64_t off = 0;
	struct stat st;

	fidx_sha256_init(&s->file_sha);
	if (fstat(s->fd, &st) == 0 && digest_mapped(s, (uint64_t)st.st_size) == 0) {
		if (s->digest_cut || atomic_load(&s->stop))
			return NULL;
		off = s->digested;
	}
	if (!(buf = malloc(RAW_CAP))) {
		s->digest_errno = ENOMEM;
		return NULL;
	}
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		ssize_t got = pread(s->fd, buf, RAW_CAP, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			s->digest_errno = errno;
			break;
		}
		if (got == 0)
			break;
		fidx_sha256_update(&s->file_sha, buf, (size_t)got);
		off += (uint64_t)got;
	}
	s->digested = off;
	free(buf);
	return NULL;
}

static int alloc_source(struct fidx_source **out, const char *name, struct fidx_err *err)
{
	struct fidx_source *s = calloc(1, sizeof *s);
	if (!s || !(s->name = strdup(name)) || !(s->raw = malloc(RAW_CAP))) {
		if (s)
			free(s->name);
		free(s);
		return fidx_err_nomem(err);
	}
	s->fd = -1;
	fidx_sha256_init(&s->sha);
	*out = s;
	return 0;
}

int fidx_source_open(struct fidx_source **out, const char *path, struct fidx_err *err)
{
	struct fidx_source *s = NULL;
	int fd, rc;

	*out = NULL;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		struct stat st;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fidx_err_sys(err, FIDX_EIO, errno, "%s", path);
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			return fidx_err_set(err, FIDX_EINPUT, "%s: is a folder", path);
		}
	}
	rc = alloc_source(&s, strcmp(path, "-") == 0 ? "<stdin>" : path, err);
	if (rc) {
		if (fd != STDIN_FILENO)
			close(fd);
		return rc;
	}
	s->fd = fd;
	s->own_fd = fd != STDIN_FILENO;
	{
		struct stat st;
		struct timespec now;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			/* A time within 2 s of now may be shared by a write still to
			 * come (timestamps are coarser than writes): not trusted. */
			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_sec - st.st_mtim.tv_sec >= 2)
				s->mtime = st.st_mtim;
			if (pthread_create(&s->digester, NULL, digest_file, s) == 0)
				s->digesting = 1;
		}
	}
	*out = s;
	return 0;
}

int fidx_source_open_mem(struct fidx_source **out, const char *name, const void *data,
                         size_t n, struct fidx_err *err)
{
	struct fidx_source *s = NULL;
	int rc = alloc_source(&s, name, err);
	if (rc)
		return rc;
	s->mem = data;
	s->mem_len = n;
	*out = s;
	return 0;
}

/* Refills raw[] with stored bytes. Returns 0, or a negative code. */
static int fill_raw(struct fidx_source *s, struct fidx_err *err)
{
	ssize_t got;

	if (s->raw_pos < s->raw_len || s->eof_raw)
		return 0;
	s->raw_pos = s->raw_len = 0;
	if (!s->mem) {
		do
			got = read(s->fd, s->raw, RAW_CAP);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: read failed", s->name);
	} else {
		size_t left = s->mem_len - s->mem_pos;
		got = (ssize_t)(left < RAW_CAP ? left : RAW_CAP);
		memcpy(s->raw, s->mem + s->mem_pos, (size_t)got);
		s->mem_pos += (size_t)got;
	}
	if (got == 0)
		s->eof_raw = 1;
	s->raw_len = (size_t)got;
	s->stored += (uint64_t)got;
	if (!s->digesting)
		fidx_sha256_update(&s->sha, s->raw, (size_t)got);
	return 0;
}

static int detect(struct fidx_source *s, struct fidx_err *err)
{
	const unsigned char *b;
	size_t n;
	int rc;

	s->started = 1;
	/* Gather enough bytes to recognise a magic number. */
	while (!s->eof_raw && s->raw_len < 6) {
		ssize_t got;
		if (s->mem) {
			rc = fill_raw(s, err);
			if (rc)
				return rc;
			break;
		}
		do
			got = read(s->fd, s->raw + s->raw_len, RAW_CAP - s->raw_len);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: read failed", s->name);
		if (got == 0)
			s->eof_raw = 1;
		if (!s->digesting)
			fidx_sha256_update(&s->sha, s->raw + s->raw_len, (size_t)got);
		s->raw_len += (size_t)got;
		s->stored += (uint64_t)got;
	}
	b = s->raw;
	n = s->raw_len;
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		s->gzip = 1;
		memset(&s->z, 0, sizeof s->z);
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			return fidx_err_nomem(err);
		s->z_live = 1;
	} else if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0) {
		return fidx_err_set(err, FIDX_EINPUT, "%s: xz-compressed input is not supported (decompress it, or use gzip)", s->name);
	} else if (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0) {
		if (!(s->zs = ZSTD_createDStream()) || ZSTD_isError(ZSTD_initDStream(s->zs)))
			return fidx_err_nomem(err);
		/* A frame may ask for a window of up to 128 MB (zstd --long). */
		ZSTD_DCtx_setParameter(s->zs, ZSTD_d_windowLogMax, 27);
	} else if (n >= 3 && memcmp(b, "BZh", 3) == 0) {
		return fidx_err_set(err, FIDX_EINPUT, "%s: bzip2-compressed input is not supported (decompress it, or use gzip)", s->name);
	}
	return 0;
}

static ssize_t read_zstd(struct fidx_source *s, unsigned char *buf, size_t cap, struct fidx_err *err)
{
	ZSTD_outBuffer out = {buf, cap, 0};
	int rc;

	while (out.pos == 0) {
		ZSTD_inBuffer in;
		size_t zr;
		if ((rc = fill_raw(s, err)) != 0)
			return rc;
		if (s->raw_pos == s->raw_len && s->eof_raw) {
			/* 0 when the last frame ended: the data is whole. */
			if (s->zs_left)
				return fidx_err_set(err, FIDX_EINPUT, "%s: truncated zstd data", s->name);
			break;
		}
		in.src = s->raw + s->raw_pos;
		in.size = s->raw_len - s->raw_pos;
		in.pos = 0;
		zr = ZSTD_decompressStream(s->zs, &out, &in);
		s->raw_pos += in.pos;
		if (ZSTD_isError(zr)) {
			if (ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation)
				return fidx_err_nomem(err);
			return fidx_err_set(err, FIDX_EINPUT, "%s: corrupt zstd data (%s)", s->name, ZSTD_getErrorName(zr));
		}
		s->zs_left = zr != 0;
	}
	return (ssize_t)out.pos;
}

static ssize_t read_gzip(struct fidx_source *s, unsigned char *buf, size_t cap, struct fidx_err *err)
{
	size_t produced = 0;
	int rc;

	while (produced == 0 && !s->gz_done) {
		int zr;
		rc = fill_raw(s, err);
		if (rc)
			return rc;
		if (s->gz_ended) {
			/* Between members: another member, zero padding, or the end. */
			size_t i;
			if (s->raw_pos == s->raw_len) {
				if (s->eof_raw) {
					s->gz_done = 1;
					break;
				}
				continue;
			}
			if (s->raw[s->raw_pos] == 0x1f) {
				inflateReset(&s->z);
				s->gz_ended = 0;
				continue;
			}
			for (i = s->raw_pos; i < s->raw_len; i++)
				if (s->raw[i])
					return fidx_err_set(err, FIDX_EINPUT, "%s: unexpected bytes after the gzip data", s->name);
			s->raw_pos = s->raw_len;
			continue;
		}
		if (s->raw_pos == s->raw_len && s->eof_raw)
			return fidx_err_set(err, FIDX_EINPUT, "%s: truncated gzip data", s->name);
		s->z.next_in = s->raw + s->raw_pos;
		s->z.avail_in = (uInt)(s->raw_len - s->raw_pos);
		s->z.next_out = buf;
		s->z.avail_out = (uInt)(cap > (1u << 30) ? (1u << 30) : cap);
		zr = inflate(&s->z, Z_NO_FLUSH);
		s->raw_pos = s->raw_len - s->z.avail_in;
		produced = (size_t)(s->z.next_out - buf);
		if (zr == Z_STREAM_END) {
			s->gz_ended = 1;
		} else if (zr == Z_BUF_ERROR) {
			if (s->raw_pos == s->raw_len && s->eof_raw)
				return fidx_err_set(err, FIDX_EINPUT, "%s: truncated gzip data", s->name);
		} else if (zr != Z_OK) {
			if (zr == Z_MEM_ERROR)
				return fidx_err_nomem(err);
			return fidx_err_set(err, FIDX_EINPUT, "%s: corrupt gzip data (%s)", s->name,
			                    s->z.msg ? s->z.msg : "inflate failed");
		}
	}
	return (ssize_t)produced;
}

static ssize_t read_decoded(struct fidx_source *s, void *buf, size_t cap, struct fidx_err *err);

ssize_t fidx_source_read(struct fidx_source *s, void *buf, size_t cap, struct fidx_err *err)
{
	if (s->peek_pos < s->peek_len) {
		size_t take = s->peek_len - s->peek_pos < cap ? s->peek_len - s->peek_pos : cap;
		memcpy(buf, s->peek + s->peek_pos, take);
		s->peek_pos += take;
		return (ssize_t)take;
	}
	return read_decoded(s, buf, cap, err);
}

static int is_compressed(const unsigned char *b, size_t n);

ssize_t fidx_source_peek(struct fidx_source *s, void *buf, size_t cap, struct fidx_err *err)
{
	ssize_t got;
	struct stat st;

	if (s->peek) {
		size_t n = s->peek_len < cap ? s->peek_len : cap;
		memcpy(buf, s->peek, n);
		return (ssize_t)n;
	}
	if (s->started || s->ra)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: looked at after reading", s->name);
	if (s->mem && !is_compressed(s->mem, s->mem_len)) {
		size_t n = s->mem_len < cap ? s->mem_len : cap;
		memcpy(buf, s->mem, n);
		return (ssize_t)n;
	}
	if (!s->mem && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		do
			got = pread(s->fd, buf, cap, 0);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: read failed", s->name);
		if (!is_compressed(buf, (size_t)got))
			return got;
	}
	/* Decode the start once, and keep it for the reads to come. */
	if (!(s->peek = malloc(cap ? cap : 1)))
		return fidx_err_nomem(err);
	while (s->peek_len < cap) {
		got = read_decoded(s, s->peek + s->peek_len, cap - s->peek_len, err);
		if (got < 0)
			return got;
		if (got == 0)
			break;
		s->peek_len += (size_t)got;
	}
	memcpy(buf, s->peek, s->peek_len);
	return (ssize_t)s->peek_len;
}

static ssize_t read_decoded(struct fidx_source *s, void *buf, size_t cap, struct fidx_err *err)
{
	int rc;
	size_t take;

	if (!s->started && (rc = detect(s, err)) != 0)
		return rc;
	if (s->gzip)
		return read_gzip(s, buf, cap, err);
	if (s->zs)
		return read_zstd(s, buf, cap, err);
	if (s->raw_pos == s->raw_len && !s->eof_raw && !s->mem && cap >= RAW_CAP) {
		/* Large plain reads go straight into the caller's buffer. */
		ssize_t got;
		do
			got = read(s->fd, buf, cap);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: read failed", s->name);
		if (got == 0)
			s->eof_raw = 1;
		s->stored += (uint64_t)got;
		if (!s->digesting)
			fidx_sha256_update(&s->sha, buf, (size_t)got);
		return got;
	}
	if ((rc = fill_raw(s, err)) != 0)
		return rc;
	take = s->raw_len - s->raw_pos;
	if (take > cap)
		take = cap;
	memcpy(buf, s->raw + s->raw_pos, take);
	s->raw_pos += take;
	return (ssize_t)take;
}

/* Whether b[0..n) starts with magic (NULL: anything does). */
static int starts(const unsigned char *b, size_t n, const char *magic)
{
	return !magic || (n >= strlen(magic) && memcmp(b, magic, strlen(magic)) == 0);
}

/* Reads the rest of the decoded stream into whole_own, once its first
 * bytes match magic: 0, 1 when they do not, or a negative code. */
static int slurp(struct fidx_source *s, const char *magic, struct fidx_err *err)
{
	size_t cap = 1 << 16, n = 0, want = magic ? strlen(magic) : 0;
	unsigned char *buf = malloc(cap), *nb;
	ssize_t got;

	if (!buf)
		return fidx_err_nomem(err);
	for (;;) {
		if (n == cap) {
			if (cap > SIZE_MAX / 2 || !(nb = realloc(buf, cap * 2))) {
				free(buf);
				return fidx_err_nomem(err);
			}
			buf = nb;
			cap *= 2;
		}
		got = fidx_source_read(s, buf + n, cap - n, err);
		if (got < 0) {
			free(buf);
			return (int)got;
		}
		if (want && (n + (size_t)got >= want || got == 0)) {
			if (!starts(buf, n + (size_t)got, magic)) {
				free(buf);
				return 1;
			}
			want = 0;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	s->whole = s->whole_own = buf;
	s->whole_n = n;
	s->ra = 2;
	return 0;
}

static int is_compressed(const unsigned char *b, size_t n)
{
	return (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) || (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0);
}

/* Sets up random access: in place for a plain regular file whose digest
 * runs beside (a pread never disturbs it), else the whole stream in memory.
 * 0, 1 when the start is not magic, or a negative code. */
static int start_ra(struct fidx_source *s, const char *magic, struct fidx_err *err)
{
	struct stat st;
	unsigned char m[16];
	ssize_t got;

	if (s->ra)
		return 0;
	if (s->mem && !s->started && !is_compressed(s->mem, s->mem_len)) {
		if (!starts(s->mem, s->mem_len, magic))
			return 1;
		s->whole = s->mem;
		s->whole_n = s->mem_len;
		s->ra = 2;
		return 0;
	}
	if (!s->mem && !s->started && s->digesting && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		do
			got = pread(s->fd, m, sizeof m, 0);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: read failed", s->name);
		if (!is_compressed(m, (size_t)got)) {
			if (!starts(m, (size_t)got, magic))
				return 1;
			s->whole_n = (uint64_t)st.st_size;
			s->ra = 1;
			return 0;
		}
	}
	return slurp(s, magic, err);
}

int fidx_source_random(struct fidx_source *s, const char *magic, uint64_t *size,
                       struct fidx_err *err)
{
	int rc = start_ra(s, magic, err);
	*size = rc ? 0 : s->whole_n;
	return rc;
}

int fidx_source_pread(struct fidx_source *s, void *buf, size_t n, uint64_t off,
                      struct fidx_err *err)
{
	unsigned char *b = buf;
	int rc = start_ra(s, NULL, err);

	if (rc)
		return rc;
	if (off > s->whole_n || n > s->whole_n - off)
		return fidx_err_set(err, FIDX_EINPUT, "%s: %zu bytes at offset %llu are past the end "
		                    "of the file (%llu bytes)", s->name, n, (unsigned long long)off,
		                    (unsigned long long)s->whole_n);
	if (s->ra == 2) {
		if (n)
			memcpy(b, s->whole + off, n);
		return 0;
	}
	while (n) {
		ssize_t got = pread(s->fd, b, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fidx_err_sys(err, FIDX_EIO, errno, "%s: read failed", s->name);
		if (got == 0)
			return fidx_err_set(err, FIDX_EIO, "%s: the file shrank while being read", s->name);
		b += got;
		off += (uint64_t)got;
		n -= (size_t)got;
	}
	return 0;
}

void fidx_source_seen(struct fidx_source *s, uint64_t stored)
{
	if (s->ra == 1 && stored > s->stored)
		s->stored = stored;
}

uint64_t fidx_source_stored(const struct fidx_source *s)
{
	return s->stored;
}

int fidx_source_mtime(const struct fidx_source *s, int64_t *sec, int32_t *nsec)
{
	if (!s->mtime.tv_sec)
		return -1;
	*sec = (int64_t)s->mtime.tv_sec;
	*nsec = (int32_t)s->mtime.tv_nsec;
	return 0;
}

const char *fidx_source_name(const struct fidx_source *s)
{
	return s->name;
}

int fidx_source_is_gzip(const struct fidx_source *s)
{
	return s->gzip;
}

static void stop_digest(struct fidx_source *s)
{
	if (s->digesting) {
		atomic_store(&s->stop, 1);
		pthread_join(s->digester, NULL);
		s->digesting = 0;
	}
}

int fidx_source_digest(struct fidx_source *s, uint64_t *bytes, unsigned char digest[32],
                       struct fidx_err *err)
{
	struct fidx_sha256 copy;
	if (s->digesting) {
		pthread_join(s->digester, NULL);
		s->digesting = 0;
		if (s->digest_errno == ENOMEM)
			return fidx_err_nomem(err);
		if (s->digest_errno)
			return fidx_err_sys(err, FIDX_EIO, s->digest_errno, "%s: cannot read for the digest", s->name);
		if (s->digest_cut)
			return fidx_err_set(err, FIDX_EIO, "%s: the file was cut short while it was read", s->name);
		s->sha = s->file_sha;
		s->stored = s->digested;
	}
	copy = s->sha;
	fidx_sha256_final(&copy, digest);
	*bytes = s->stored;
	return 0;
}

void fidx_source_close(struct fidx_source *s)
{
	if (!s)
		return;
	stop_digest(s);
	if (s->z_live)
		inflateEnd(&s->z);
	ZSTD_freeDStream(s->zs);
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	free(s->raw);
	free(s->whole_own);
	free(s->peek);
	free(s->name);
	free(s);
}
