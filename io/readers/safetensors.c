/* Rows of embeddings from a safetensors file, Hugging Face's format for
 * tensors (how the Hub stores arrays): an 8-byte little-endian length N, N
 * bytes of JSON naming each tensor's dtype, shape and byte range
 * ("data_offsets", from the end of the header), then the tensors' bytes,
 * little-endian and in C order, back to back.
 *
 * The embedding is the 2-D tensor named by --embedding-column, else the
 * file's only 2-D tensor; its rows stream through array.h (dtypes F16,
 * BF16, F32, F64, I8, U8, I16 and U16). The header is untrusted: at most
 * MAX_HEADER bytes, read as they arrive (a length the file does not have
 * allocates nothing), of at most MAX_VALUES JSON values (the parse's
 * memory), UTF-8 JSON with only white space after it, every
 * dtype name known, every shape matching its byte count, the ranges
 * covering the data without gaps or overlaps; the file must end where the
 * last range does. The tensors before the one read are skipped, those
 * after it read through, so gzip, zstd and pipes work as for .npy. */

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "bytes.h"
#include "reader.h"
#include "utf8.h"

#define MAX_HEADER 100000000u /* the reference implementation's limit */
#define MAX_VALUES (1u << 20)  /* JSON values in a header: bounds the parse's memory */

/* Every dtype the format names, with its bits per value; those fidx reads
 * map to an array.h type. */
static const struct {
	const char *name;
	unsigned bits;
	int read; /* 1 + enum fidx_dtype, or 0 */
} dtypes[] = {
	{"F16", 16, 1 + FIDX_F16}, {"BF16", 16, 1 + FIDX_BF16}, {"F32", 32, 1 + FIDX_F32},
	{"F64", 64, 1 + FIDX_F64}, {"I8", 8, 1 + FIDX_I8},       {"U8", 8, 1 + FIDX_U8},
	{"I16", 16, 1 + FIDX_I16}, {"U16", 16, 1 + FIDX_U16},    {"BOOL", 8, 0},
	{"I32", 32, 0},            {"U32", 32, 0},               {"I64", 64, 0},
	{"U64", 64, 0},            {"C64", 64, 0},               {"F8_E5M2", 8, 0},
	{"F8_E4M3", 8, 0},         {"F8_E8M0", 8, 0},            {"F6_E2M3", 6, 0},
	{"F6_E3M2", 6, 0},         {"F4", 4, 0},
};
#define READ_DTYPES "F16, BF16, F32, F64, I8, U8, I16 or U16"

struct tensor {
	const char *name; /* in the parsed header */
	uint64_t begin, end;
	int dtype;        /* index in dtypes */
	int rank;
	uint64_t shape[2]; /* the first two */
};

struct st {
	struct fidx_array a; /* first: fidx_array_next takes the state */
	char *tensor;        /* the one read */
	int dtype;
	size_t ntensors;
};

static void st_close(void *state)
{
	struct st *s = state;
	if (!s)
		return;
	fidx_array_free(&s->a);
	free(s->tensor);
	free(s);
}

static int bad(const struct st *s, struct fidx_err *err, const char *fmt, ...) FIDX_PRINTF(3, 4);

static int bad(const struct st *s, struct fidx_err *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return fidx_err_set(err, FIDX_EINPUT, "%s: damaged safetensors header (%s)", s->a.name, what);
}

/* A name from the header, quoted for a message. */
static const char *quoted(const char *name, char *buf, size_t cap)
{
	fidx_err_quote(buf, cap, name, strlen(name));
	return buf;
}

/* A JSON number that is a whole number of bytes or elements. */
static int whole(const cJSON *j, uint64_t *out)
{
	double d;
	if (!cJSON_IsNumber(j))
		return 0;
	d = j->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

/* One tensor's entry into t: NULL, or what is wrong with it. */
static const char *parse_tensor(const cJSON *j, struct tensor *t)
{
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype"),
	            *shape = cJSON_GetObjectItemCaseSensitive(j, "shape"),
	            *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets"), *e;
	uint64_t count = 1, d, bits;
	size_t i;

	if (!cJSON_IsObject(j) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(off))
		return "no dtype, shape or data_offsets";
	for (i = 0; i < sizeof dtypes / sizeof *dtypes && strcmp(dtypes[i].name, dt->valuestring); i++)
		;
	if (i == sizeof dtypes / sizeof *dtypes)
		return "an unknown dtype";
	t->dtype = (int)i;
	t->rank = 0;
	cJSON_ArrayForEach(e, shape) {
		if (!whole(e, &d))
			return "a shape that is not a list of sizes";
		if (t->rank < 2)
			t->shape[t->rank] = d;
		t->rank++;
		/* count * 64 bits must fit (no file holds more anyway). */
		if (d && count > (UINT64_MAX / 64) / d)
			return "a shape too large for any file";
		count *= d;
	}
	if (cJSON_GetArraySize(off) != 2 || !whole(off->child, &t->begin) || !whole(off->child->next, &t->end) ||
	    t->begin > t->end)
		return "data_offsets that are not [begin, end]";
	bits = count * dtypes[t->dtype].bits;
	if (bits % 8 || bits / 8 != t->end - t->begin)
		return "a shape that does not match the tensor's bytes";
	return NULL;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct tensor *)x)->name, ((const struct tensor *)y)->name);
}

static int by_offset(const void *x, const void *y)
{
	const struct tensor *a = x, *b = y;
	if (a->begin != b->begin)
		return a->begin < b->begin ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

/* The header's tensors into *out (n of them, by offset), checked: known
 * dtypes, shapes that match the bytes, names given once, ranges covering
 * the data from 0 without gaps or overlaps. __metadata__ must map strings
 * to strings. */
static int read_tensors(struct st *s, const cJSON *root, struct tensor **out, size_t *n_out,
                        struct fidx_err *err)
{
	const cJSON *j;
	struct tensor *t;
	size_t n = 0, i;
	const char *why;
	char q[128];

	cJSON_ArrayForEach(j, root) n++;
	if (!(t = *out = calloc(n ? n : 1, sizeof *t)))
		return fidx_err_nomem(err);
	n = 0;
	cJSON_ArrayForEach(j, root) {
		if (!strcmp(j->string, "__metadata__")) {
			const cJSON *m;
			if (!cJSON_IsObject(j))
				return bad(s, err, "__metadata__ is not an object");
			cJSON_ArrayForEach(m, j) {
				if (!cJSON_IsString(m))
					return bad(s, err, "__metadata__ \"%s\" is not a string", quoted(m->string, q, sizeof q));
			}
			continue;
		}
		t[n].name = j->string;
		if ((why = parse_tensor(j, &t[n])) != NULL)
			return bad(s, err, "tensor \"%s\": %s", quoted(j->string, q, sizeof q), why);
		n++;
	}
	*n_out = n;
	qsort(t, n, sizeof *t, by_name);
	for (i = 1; i < n; i++)
		if (!strcmp(t[i - 1].name, t[i].name))
			return bad(s, err, "tensor \"%s\" is given twice", quoted(t[i].name, q, sizeof q));
	qsort(t, n, sizeof *t, by_offset);
	for (i = 0; i < n; i++)
		if (t[i].begin != (i ? t[i - 1].end : 0))
			return bad(s, err, "tensor \"%s\": %s", quoted(t[i].name, q, sizeof q),
			           i && t[i].begin < t[i - 1].end ? "its bytes overlap another's"
			                                          : "bytes before it that no tensor covers");
	return 0;
}

/* The names of the tensors (2-D ones only, when only2), for messages. */
static void list_names(const struct tensor *t, size_t n, int only2, char *out, size_t cap)
{
	size_t i, used = 0;
	char q[64];
	out[0] = '\0';
	for (i = 0; i < n && used + 8 < cap; i++)
		if (!only2 || t[i].rank == 2)
			used += (size_t)snprintf(out + used, cap - used, "%s\"%s\"", used ? ", " : "",
			                         quoted(t[i].name, q, sizeof q));
	if (used >= cap)
		strcpy(out + cap - 4, "...");
}

/* The tensor to read: the one named, else the only 2-D one. */
static int choose(struct st *s, const struct tensor *t, size_t n, const char *want, const struct tensor **out,
                  struct fidx_err *err)
{
	const struct tensor *pick = NULL;
	char names[256], q[128];
	size_t i, two = 0;

	for (i = 0; i < n; i++) {
		if (want ? !strcmp(t[i].name, want) : t[i].rank == 2 && !two++)
			pick = &t[i];
	}
	if (!n)
		return fidx_err_set(err, FIDX_EINPUT, "%s: the safetensors file holds no tensors", s->a.name);
	list_names(t, n, 0, names, sizeof names);
	if (want && !pick)
		return fidx_err_set(err, FIDX_EINPUT, "%s: no tensor named \"%s\" (given to "
		                    FIDX_SETTING("embedding_column") "); it has %s", s->a.name, quoted(want, q, sizeof q),
		                    names);
	if (!want && two == 0)
		return fidx_err_set(err, FIDX_EINPUT, "%s: no 2-D tensor (rows, dimension) to read; it has %s",
		                    s->a.name, names);
	if (!want && two > 1) {
		list_names(t, n, 1, names, sizeof names);
		return fidx_err_set(err, FIDX_EINPUT, "%s: several 2-D tensors (%s): choose the embedding with "
		                    FIDX_SETTING("embedding_column"), s->a.name, names);
	}
	quoted(pick->name, q, sizeof q);
	if (pick->rank != 2)
		return fidx_err_set(err, FIDX_EINPUT, "%s: tensor \"%s\" is not 2-D (rows, dimension): its shape has "
		                    "%d dimension%s", s->a.name, q, pick->rank, pick->rank == 1 ? "" : "s");
	if (!dtypes[pick->dtype].read)
		return fidx_err_set(err, FIDX_EINPUT, "%s: tensor \"%s\" holds %s, not a type fidx reads (" READ_DTYPES ")",
		                    s->a.name, q, dtypes[pick->dtype].name);
	*out = pick;
	return 0;
}

/* The header's bytes: UTF-8, no NUL, a JSON object then only white space,
 * of at most MAX_VALUES values (counted before parsing: a comma, a colon or
 * an opening bracket outside strings, or a string, starts one). */
static int parse_header(struct st *s, const char *h, size_t n, cJSON **root, struct fidx_err *err)
{
	const char *end = NULL;
	size_t i, k, values = 0;
	int in_str = 0, esc = 0;
	uint32_t cp;

	for (i = 0; i < n; i += k) {
		if (!h[i] || !(k = fidx_utf8_decode((const unsigned char *)h + i, n - i, &cp)))
			return bad(s, err, "%s at byte %zu", h[i] ? "not UTF-8" : "a NUL byte", i);
		if (esc)
			esc = 0;
		else if (in_str)
			esc = h[i] == '\\', in_str = h[i] != '"';
		else if (h[i] == '"')
			in_str = 1, values++;
		else
			values += h[i] == ',' || h[i] == ':' || h[i] == '[' || h[i] == '{';
	}
	if (values > MAX_VALUES)
		return bad(s, err, "more than %u JSON values", MAX_VALUES);
	if (h[0] != '{')
		return bad(s, err, "it does not start with '{'");
	if (!(*root = cJSON_ParseWithLengthOpts(h, n, &end, 0))) {
		/* cJSON tells a syntax error from a failed allocation only by where
		 * it stops: a syntax error stops at the same byte every time, and
		 * never at the '{' the header starts with. */
		const char *again = NULL;
		if (!(*root = cJSON_ParseWithLengthOpts(h, n, &again, 0))) {
			if (!end || again != end || end == h)
				return fidx_err_nomem(err);
			return bad(s, err, "not JSON at byte %zu", (size_t)(end - h));
		}
		end = again;
	}
	if (!cJSON_IsObject(*root))
		return bad(s, err, "not a JSON object");
	for (i = (size_t)(end - h); i < n; i++) /* writers pad with spaces */
		if (!strchr(" \t\n\r", h[i]))
			return bad(s, err, "bytes after the JSON object that are not white space");
	return 0;
}

static int st_open(void **out, struct fidx_source *src, const struct fidx_reader_opts *o,
                   struct fidx_err *err)
{
	struct st *s = calloc(1, sizeof *s);
	unsigned char len[8];
	uint64_t n, begin;
	char *h = NULL;
	cJSON *root = NULL;
	struct tensor *t = NULL;
	const struct tensor *pick = NULL;
	size_t nt = 0;
	int rc;

	if (!s)
		return fidx_err_nomem(err);
	s->a.src = src;
	s->a.name = fidx_source_name(src);
	if ((rc = fidx_array_read(&s->a, len, 8, "the safetensors header", err)) != 0)
		goto fail;
	n = fidx_le64(len);
	if (n < 2 || n > MAX_HEADER) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: a safetensors header of %llu bytes (2 to %u are possible)",
		                  s->a.name, (unsigned long long)n, MAX_HEADER);
		goto fail;
	}
	if ((rc = fidx_array_read_all(&s->a, (unsigned char **)&h, n, "the safetensors header", err)) != 0 ||
	    (rc = parse_header(s, h, (size_t)n, &root, err)) != 0 ||
	    (rc = read_tensors(s, root, &t, &nt, err)) != 0 ||
	    (rc = choose(s, t, nt, o->embedding_column, &pick, err)) != 0)
		goto fail;
	begin = pick->begin;
	s->ntensors = nt;
	s->dtype = pick->dtype;
	s->a.dtype = (enum fidx_dtype)(dtypes[pick->dtype].read - 1);
	s->a.rows = pick->shape[0];
	s->a.dim = pick->shape[1] > SIZE_MAX ? SIZE_MAX : (size_t)pick->shape[1];
	s->a.after = t[nt - 1].end - pick->end; /* the tensors after it */
	if (!(s->tensor = strdup(pick->name))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	free(t);
	t = NULL;
	cJSON_Delete(root);
	root = NULL;
	free(h);
	h = NULL;
	if ((rc = fidx_array_skip(&s->a, begin, "the tensors before the one read", err)) != 0 ||
	    (rc = fidx_array_start(&s->a, err)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	free(t);
	cJSON_Delete(root);
	free(h);
	st_close(s);
	return rc;
}

static uint64_t st_rows(void *state)
{
	return fidx_array_rows(&((struct st *)state)->a);
}

static void st_describe(void *state, char *out, size_t cap)
{
	const struct st *s = state;
	char q[128];
	int n = snprintf(out, cap, "tensor \"%s\", %llu x %zu %s", quoted(s->tensor, q, sizeof q),
	                 (unsigned long long)s->a.rows, s->a.dim, dtypes[s->dtype].name);
	if (s->ntensors > 1 && n >= 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, " (one of %zu tensors)", s->ntensors);
}

/* An 8-byte length no text begins with (its top bytes are zero), then '{'. */
static int st_magic(const unsigned char *b, size_t n)
{
	uint64_t len;
	if (n < 10 || b[8] != '{')
		return 0;
	len = fidx_le64(b);
	return len >= 2 && len <= MAX_HEADER;
}

const struct fidx_format fidx_format_safetensors = {
	.name = "safetensors", .title = "safetensors", .suffixes = (const char *const[]){".safetensors", NULL},
	.magic = st_magic, .flags = FIDX_FORMAT_TENSORS,
	.open = st_open, .next = fidx_array_next, .close = st_close, .describe = st_describe,
	.rows = st_rows,
};
