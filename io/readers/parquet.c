/* Rows of embeddings from an Apache Parquet file, the Hugging Face Hub's
 * own dataset format, read by fidx itself (Debian has no Parquet library
 * for C). Scoped to what embedding datasets hold:
 *   - the embedding as one list column (list<float>, list<double>,
 *     list<float16> (the FLOAT16 logical type, converted exactly), or
 *     integers; the standard three-level LIST layout, the legacy two-level
 *     one, or a bare repeated field), or as flat numeric columns, one per
 *     dimension (pandas' "0".."383");
 *   - an id column (string or integer) and a text column (string);
 *   - data pages v1 and v2 and dictionary pages, their CRC-32 verified when
 *     the writer stored one; encodings PLAIN, PLAIN_DICTIONARY /
 *     RLE_DICTIONARY, BYTE_STREAM_SPLIT, DELTA_*, RLE levels; codecs
 *     UNCOMPRESSED, SNAPPY, GZIP and ZSTD.
 * Rows stream row group by row group; memory holds one page per column.
 * The file is untrusted: every size and offset in the footer and the page
 * headers is checked against the file and against what it must cover
 * before use; decompression is bounded by what the codec can produce from
 * the bytes present. A null in an embedding or an id is an error naming
 * the row (and its row group); a null text is an empty text.
 *
 * Columns: --embedding-column unset picks the only list column of numbers, else
 * every numeric column but the id's and the text's; id and text NULL pick
 * columns named "id" and "text" when there are such (as JSON Lines does). */

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "array.h"
#include "bytes.h"
#include "reader.h"

/* Parquet's enums (parquet.thrift). */
enum { T_BOOLEAN, T_INT32, T_INT64, T_INT96, T_FLOAT, T_DOUBLE, T_BYTE_ARRAY, T_FLBA };
enum { R_REQUIRED, R_OPTIONAL, R_REPEATED };
enum { E_PLAIN = 0, E_PLAIN_DICT = 2, E_RLE = 3, E_BIT_PACKED = 4, E_DELTA_BP = 5,
       E_DELTA_LBA = 6, E_DELTA_BA = 7, E_RLE_DICT = 8, E_BSS = 9 };
enum { C_NONE, C_SNAPPY, C_GZIP, C_LZO, C_BROTLI, C_LZ4, C_ZSTD, C_LZ4_RAW };
enum { P_DATA, P_INDEX, P_DICT, P_DATA_V2 };

#define MAX_DEPTH 16             /* schema nesting, and Thrift structs */
#define MAX_PAGE (1u << 30)      /* bytes in one page, decompressed */
#define MAX_HEADER (1u << 24)    /* bytes in one page header */
#define BLOCK 256                /* rows of a wide file decoded at a time */
#define MAX_DIM (1u << 20)       /* values in an embedding, as index/file.h's FIDX_MAX_DIM */

static const char *type_name(int t)
{
	static const char *const n[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
	                                "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
	return t >= 0 && t < 8 ? n[t] : "an unknown type";
}

static const char *enc_name(int e)
{
	static const char *const n[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
	                                "BIT_PACKED", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
	                                "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
	return e >= 0 && e < 10 ? n[e] : "an unknown encoding";
}

static const char *codec_name(int c)
{
	static const char *const n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4",
	                                "ZSTD", "LZ4_RAW"};
	return c >= 0 && c < 8 ? n[c] : "an unknown codec";
}

/* ---- Thrift compact protocol ------------------------------------------ */

struct tc {
	const unsigned char *p, *e;
	int depth;
	int eof; /* ran past the end */
	int bad; /* malformed */
};

enum { TT_STOP, TT_TRUE, TT_FALSE, TT_BYTE, TT_I16, TT_I32, TT_I64, TT_DOUBLE, TT_BINARY,
       TT_LIST, TT_SET, TT_MAP, TT_STRUCT };

static uint64_t tc_varint(struct tc *t)
{
	uint64_t v = 0;
	int shift = 0;
	for (;;) {
		unsigned char b;
		if (t->p >= t->e) {
			t->eof = 1;
			return 0;
		}
		b = *t->p++;
		if (shift == 63 && (b & 0x7e)) {
			t->bad = 1;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
		if ((shift += 7) > 63) {
			t->bad = 1;
			return 0;
		}
	}
}

static int64_t tc_zigzag(struct tc *t)
{
	uint64_t v = tc_varint(t);
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int tc_ok(const struct tc *t)
{
	return !t->eof && !t->bad;
}

/* The next field of a struct: 1 with its id and type, 0 at its end (or on
 * an error, left in t). */
static int tc_field(struct tc *t, int *last, int *id, int *type)
{
	unsigned char b;
	if (t->p >= t->e) {
		t->eof = 1;
		return 0;
	}
	b = *t->p++;
	if (b == TT_STOP)
		return 0;
	*type = b & 0x0f;
	{
		int64_t v = (b >> 4) ? (int64_t)*last + (b >> 4) : tc_zigzag(t);
		if (v < INT16_MIN || v > INT16_MAX) /* field ids are i16 */
			t->bad = 1;
		*id = (int)(int16_t)v;
	}
	*last = *id;
	if (*type > TT_STRUCT)
		t->bad = 1;
	return tc_ok(t);
}

static void tc_skip(struct tc *t, int type);

/* A list or set header; n is checked against the bytes left (every element
 * takes at least one). */
static uint64_t tc_list(struct tc *t, int *etype)
{
	uint64_t n;
	unsigned char b;
	if (t->p >= t->e) {
		t->eof = 1;
		return 0;
	}
	b = *t->p++;
	*etype = b & 0x0f;
	n = b >> 4;
	if (n == 15)
		n = tc_varint(t);
	if (n > (uint64_t)(t->e - t->p)) {
		t->eof = 1;
		return 0;
	}
	return n;
}

static void tc_skip_struct(struct tc *t)
{
	int last = 0, id, type;
	if (++t->depth > MAX_DEPTH) {
		t->bad = 1;
		return;
	}
	while (tc_field(t, &last, &id, &type))
		tc_skip(t, type);
	t->depth--;
}

static void tc_skip(struct tc *t, int type)
{
	uint64_t n, i;
	int et, kt, vt;
	switch (type) {
	case TT_TRUE:
	case TT_FALSE:
		break;
	case TT_BYTE:
		if (t->p >= t->e)
			t->eof = 1;
		else
			t->p++;
		break;
	case TT_I16:
	case TT_I32:
	case TT_I64:
		(void)tc_varint(t);
		break;
	case TT_DOUBLE:
		if (t->e - t->p < 8)
			t->eof = 1;
		else
			t->p += 8;
		break;
	case TT_BINARY:
		n = tc_varint(t);
		if (n > (uint64_t)(t->e - t->p))
			t->eof = 1;
		else
			t->p += n;
		break;
	case TT_LIST:
	case TT_SET:
		n = tc_list(t, &et);
		if (++t->depth > MAX_DEPTH) {
			t->bad = 1;
			return;
		}
		for (i = 0; i < n && tc_ok(t); i++)
			tc_skip(t, et == TT_TRUE || et == TT_FALSE ? TT_BYTE : et);
		t->depth--;
		break;
	case TT_MAP:
		n = tc_varint(t);
		if (n == 0)
			break;
		if (t->p >= t->e || n > (uint64_t)(t->e - t->p)) {
			t->eof = 1;
			return;
		}
		kt = *t->p >> 4;
		vt = *t->p++ & 0x0f;
		if (++t->depth > MAX_DEPTH) {
			t->bad = 1;
			return;
		}
		for (i = 0; i < n && tc_ok(t); i++) {
			tc_skip(t, kt == TT_TRUE || kt == TT_FALSE ? TT_BYTE : kt);
			tc_skip(t, vt == TT_TRUE || vt == TT_FALSE ? TT_BYTE : vt);
		}
		t->depth--;
		break;
	case TT_STRUCT:
		tc_skip_struct(t);
		break;
	default:
		t->bad = 1;
	}
}

static int64_t tc_int(struct tc *t, int type)
{
	if (type == TT_BYTE) {
		if (t->p >= t->e) {
			t->eof = 1;
			return 0;
		}
		return (signed char)*t->p++;
	}
	if (type == TT_I16 || type == TT_I32 || type == TT_I64)
		return tc_zigzag(t);
	t->bad = 1;
	return 0;
}

/* An i32 field that must fit: out of range is malformed. */
static int32_t tc_i32(struct tc *t, int type)
{
	int64_t v = tc_int(t, type);
	if (v < INT32_MIN || v > INT32_MAX)
		t->bad = 1;
	return (int32_t)v;
}

static int tc_bool(struct tc *t, int type)
{
	if (type == TT_TRUE || type == TT_FALSE)
		return type == TT_TRUE;
	t->bad = 1;
	return 0;
}

static const unsigned char *tc_binary(struct tc *t, int type, size_t *len)
{
	uint64_t n;
	const unsigned char *s;
	*len = 0;
	if (type != TT_BINARY) {
		t->bad = 1;
		return NULL;
	}
	n = tc_varint(t);
	if (n > (uint64_t)(t->e - t->p)) {
		t->eof = 1;
		return NULL;
	}
	s = t->p;
	t->p += n;
	*len = (size_t)n;
	return s;
}

/* Enters a struct field: 0 when the type is not a struct or too deep. */
static int tc_enter(struct tc *t, int type)
{
	if (type != TT_STRUCT || ++t->depth > MAX_DEPTH) {
		t->bad = 1;
		return 0;
	}
	return 1;
}

/* ---- the file's metadata ---------------------------------------------- */

struct elem { /* a SchemaElement */
	char *name;
	int type, type_length, rep, nchild, converted, has_type, logical_list, logical_string, logical_half;
};

struct leaf {
	const char *name; /* the top-level field's */
	int type, type_length, converted, logical_string;
	int unsign; /* UINT_8..UINT_64: INT32 and INT64 read unsigned */
	int half;   /* FLOAT16: a FIXED_LEN_BYTE_ARRAY of 2 bytes, IEEE half precision */
	int max_def, max_rep;
	int rep_def; /* definition level of the repeated node (lists) */
	int top_opt; /* the top-level field is optional */
	int top;     /* index of its top-level field */
};

struct chunk {
	int64_t start, size, values;
	int codec, type;
};

struct rowgroup {
	int64_t rows;
	struct chunk *chunks; /* one per leaf */
};

struct cur;

struct parquet {
	struct fidx_source *src;
	const char *name;
	uint64_t size;
	struct elem *elems;
	size_t nelems;
	struct leaf *leaves;
	size_t nleaves, ntop;
	struct rowgroup *rgs;
	size_t nrgs;
	int64_t rows;
	/* the columns read */
	int list;        /* the embedding is one list column */
	int *emb;        /* leaf indices of the embedding (one when list) */
	size_t nemb;
	int id, text;    /* leaf indices, or -1 */
	struct cur *cur; /* emb cursors, then id's, then text's */
	size_t ncur;
	/* position */
	size_t rg;         /* the row group being read, or nrgs before the first */
	int64_t rg_row;    /* rows of it returned */
	uint64_t rg_lo, rg_hi; /* where its columns read lie in the file, for progress */
	uint64_t row;      /* rows of the file returned */
	int started, done;
	uint64_t data_end; /* where the footer starts */
	size_t dim;
	float *vec;
	size_t vec_cap;
	/* Wide files: the next rows of every dimension, read column by column
	 * (BLOCK values of column j at blk[j * BLOCK]); rows blk_i..blk_n-1
	 * are still to return. A null or an error met at blk_stop is returned
	 * when that row's turn comes: blk_kind 1 a null in column blk_col, 2
	 * a column that ends early, or the negative code saved in blk_err. */
	float *blk;
	size_t blk_i, blk_n, blk_stop, blk_col;
	int blk_kind;
	struct fidx_err blk_err;
	struct fidx_rowbuf block;
	char *str[2]; /* the row's id and text, each ending in a NUL */
	size_t str_cap[2];
	char note[FIDX_ERR_MAX]; /* parquet_note's */
	/* A column's stored page, once decompressed, is not needed: its
	 * buffer waits here for the next column that reads one. */
	unsigned char *spare;
	size_t spare_cap;
};

static int bad_footer(struct parquet *p, struct fidx_err *err, const char *what)
{
	return fidx_err_set(err, FIDX_EINPUT, "%s: damaged Parquet footer (%s)", p->name, what);
}

static int parse_schema_elem(struct tc *t, struct elem *e)
{
	int last = 0, id, type;
	size_t len;
	const unsigned char *s;

	e->rep = R_REQUIRED;
	e->type = -1;
	while (tc_field(t, &last, &id, &type)) {
		switch (id) {
		case 1:
			e->type = tc_i32(t, type);
			e->has_type = 1;
			break;
		case 2:
			e->type_length = tc_i32(t, type);
			break;
		case 3:
			e->rep = tc_i32(t, type);
			break;
		case 4:
			s = tc_binary(t, type, &len);
			free(e->name);
			e->name = NULL;
			if (s && !(e->name = strndup((const char *)s, len)))
				return -1;
			break;
		case 5:
			e->nchild = tc_i32(t, type);
			break;
		case 6: { /* ConvertedType: 0..21; kept + 1, so that 0 is none */
			int32_t v = tc_i32(t, type);
			e->converted = v >= 0 && v <= 21 ? v + 1 : 0;
			break;
		}
		case 10: { /* LogicalType: a union; STRING is 1, LIST is 3, FLOAT16 is 15 */
			int l2 = 0, id2, type2;
			if (!tc_enter(t, type))
				break;
			while (tc_field(t, &l2, &id2, &type2)) {
				if (id2 == 1)
					e->logical_string = 1;
				if (id2 == 3)
					e->logical_list = 1;
				if (id2 == 15)
					e->logical_half = 1;
				tc_skip(t, type2);
			}
			t->depth--;
			break;
		}
		default:
			tc_skip(t, type);
		}
	}
	return 0;
}

static int parse_column_meta(struct tc *t, struct chunk *c)
{
	int last = 0, id, type;
	int64_t data = -1, dict = 0;
	c->codec = -1;
	c->type = -1;
	c->size = -1;
	c->values = -1;
	while (tc_field(t, &last, &id, &type)) {
		switch (id) {
		case 1: c->type = tc_i32(t, type); break;
		case 4: c->codec = tc_i32(t, type); break;
		case 5: c->values = tc_int(t, type); break;
		case 7: c->size = tc_int(t, type); break;
		case 9: data = tc_int(t, type); break;
		case 11: dict = tc_int(t, type); break;
		default: tc_skip(t, type);
		}
	}
	/* Some writers leave a dictionary offset of 0 for none. */
	c->start = dict > 0 && dict < data ? dict : data;
	return 0;
}

/* A RowGroup: its columns into rg->chunks (nleaves of them). Returns 0, or
 * a message for what is wrong. */
static const char *parse_rowgroup(struct tc *t, struct rowgroup *rg, size_t nleaves)
{
	int last = 0, id, type, et;
	uint64_t n, i;
	rg->rows = -1;
	while (tc_field(t, &last, &id, &type)) {
		if (id == 1 && type == TT_LIST && !rg->chunks) {
			n = tc_list(t, &et);
			if (!tc_ok(t))
				break;
			if (et != TT_STRUCT)
				return "a column chunk is not a struct";
			if (n != nleaves)
				return "a row group has not one column chunk per column";
			if (!(rg->chunks = calloc(n ? n : 1, sizeof *rg->chunks)))
				return "";
			for (i = 0; i < n && tc_ok(t); i++) {
				int l2 = 0, id2, type2, meta = 0;
				if (!tc_enter(t, TT_STRUCT))
					break;
				while (tc_field(t, &l2, &id2, &type2)) {
					if (id2 == 1) {
						tc_skip(t, type2);
						return "a column chunk in another file (file_path): not supported";
					}
					if (id2 == 3 && tc_enter(t, type2)) {
						parse_column_meta(t, &rg->chunks[i]);
						t->depth--;
						meta = 1;
					} else {
						tc_skip(t, type2);
					}
				}
				t->depth--;
				if (tc_ok(t) && !meta)
					return "a column chunk has no metadata";
			}
		} else if (id == 3) {
			rg->rows = tc_int(t, type);
		} else {
			tc_skip(t, type);
		}
	}
	return NULL;
}

/* Walks the children of elems[*next - 1] (n of them), depth first,
 * collecting the leaves with their levels. */
static int walk(struct parquet *p, size_t *next, int n, int depth, int def, int rep,
                int rep_def, long top, struct fidx_err *err)
{
	int i;
	if (depth > MAX_DEPTH)
		return bad_footer(p, err, "the schema nests too deep");
	for (i = 0; i < n; i++) {
		struct elem *e;
		int d, r, rd;
		long tp = top;
		if (*next >= p->nelems)
			return bad_footer(p, err, "the schema has fewer elements than its groups say");
		e = &p->elems[(*next)++];
		if (e->rep < R_REQUIRED || e->rep > R_REPEATED || e->nchild < 0)
			return bad_footer(p, err, "a schema element has a bad repetition or child count");
		d = def + (e->rep != R_REQUIRED);
		r = rep + (e->rep == R_REPEATED);
		rd = e->rep == R_REPEATED ? d : rep_def;
		if (depth == 1)
			tp = (long)(e - p->elems);
		if (e->nchild > 0) {
			int rc = walk(p, next, e->nchild, depth + 1, d, r, rd, tp, err);
			if (rc)
				return rc;
		} else {
			struct leaf *l = &p->leaves[p->nleaves++];
			if (!e->has_type)
				return bad_footer(p, err, "a leaf of the schema has no type");
			l->name = p->elems[tp].name ? p->elems[tp].name : "";
			l->type = e->type;
			l->type_length = e->type_length;
			l->converted = e->converted;
			l->unsign = e->converted - 1 >= 11 && e->converted - 1 <= 14;
			l->logical_string = e->logical_string;
			l->half = e->logical_half && e->type == T_FLBA && e->type_length == 2;
			l->max_def = d;
			l->max_rep = r;
			l->rep_def = rd;
			l->top_opt = p->elems[tp].rep == R_OPTIONAL;
			l->top = (int)tp;
		}
	}
	return 0;
}

static int build_leaves(struct parquet *p, struct fidx_err *err)
{
	size_t next = 1;
	int rc;
	if (!(p->leaves = calloc(p->nelems, sizeof *p->leaves)))
		return fidx_err_nomem(err);
	if (p->elems[0].nchild <= 0)
		return bad_footer(p, err, "the schema has no columns");
	if ((rc = walk(p, &next, p->elems[0].nchild, 1, 0, 0, 0, 0, err)) != 0)
		return rc;
	if (next != p->nelems)
		return bad_footer(p, err, "the schema has elements outside its tree");
	return 0;
}

static int parse_footer(struct parquet *p, const unsigned char *b, size_t n,
                        struct fidx_err *err)
{
	struct tc t = {b, b + n, 0, 0, 0};
	int last = 0, id, type, et;
	uint64_t k, i;
	const char *why = NULL;

	p->rows = -1;
	while (tc_field(&t, &last, &id, &type)) {
		if (id == 2 && type == TT_LIST && !p->elems) {
			k = tc_list(&t, &et);
			if (!tc_ok(&t))
				break;
			if (et != TT_STRUCT || k == 0)
				return bad_footer(p, err, "the schema is not a list of elements");
			if (!(p->elems = calloc(k, sizeof *p->elems)))
				return fidx_err_nomem(err);
			p->nelems = k;
			for (i = 0; i < k && tc_ok(&t); i++) {
				if (!tc_enter(&t, TT_STRUCT))
					break;
				if (parse_schema_elem(&t, &p->elems[i]))
					return fidx_err_nomem(err);
				t.depth--;
			}
		} else if (id == 3) {
			p->rows = tc_int(&t, type);
		} else if (id == 4 && type == TT_LIST && !p->rgs && p->elems) {
			k = tc_list(&t, &et);
			if (!tc_ok(&t))
				break;
			if (et != TT_STRUCT)
				return bad_footer(p, err, "row groups are not structs");
			if (k && !(p->rgs = calloc(k, sizeof *p->rgs)))
				return fidx_err_nomem(err);
			p->nrgs = k;
			if (!p->leaves)
				return bad_footer(p, err, "row groups before the schema");
			for (i = 0; i < k && tc_ok(&t); i++) {
				if (!tc_enter(&t, TT_STRUCT))
					break;
				if ((why = parse_rowgroup(&t, &p->rgs[i], p->nleaves)) != NULL)
					return *why ? bad_footer(p, err, why) : fidx_err_nomem(err);
				t.depth--;
			}
		} else {
			tc_skip(&t, type);
		}
		/* The leaves are needed to check the row groups' chunks. */
		if (p->elems && !p->leaves && tc_ok(&t)) {
			int rc = build_leaves(p, err);
			if (rc)
				return rc;
		}
	}
	if (t.eof)
		return bad_footer(p, err, "it ends inside a field");
	if (t.bad)
		return bad_footer(p, err, "a field has the wrong type or is too deep");
	if (!p->elems)
		return bad_footer(p, err, "no schema");
	if (p->rows < 0)
		return bad_footer(p, err, "no row count");
	return 0;
}

/* ---- pages ------------------------------------------------------------ */

/* The RLE / bit-packed hybrid encoding of levels and dictionary indices. */
struct rle {
	const unsigned char *p, *e;
	int bw;
	uint64_t left; /* values left in the current run */
	int packed;
	uint32_t val;            /* an RLE run's value */
	const unsigned char *bp; /* a bit-packed run's bytes */
	uint64_t bi;             /* its next value */
};

static void rle_init(struct rle *r, const unsigned char *p, size_t n, int bw)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->e = p + n;
	r->bw = bw;
}

static int rle_fill(struct rle *r);

/* The next value: 0, or -1 when the data ends or is malformed. */
static int rle_next(struct rle *r, uint32_t *v)
{
	if (r->left == 0 && rle_fill(r))
		return -1;
	r->left--;
	if (!r->packed) {
		*v = r->val;
	} else {
		uint64_t off = r->bi++ * (uint64_t)r->bw, x = 0;
		const unsigned char *b = r->bp + (off >> 3);
		unsigned sh = (unsigned)(off & 7), k, nb = (sh + (unsigned)r->bw + 7) >> 3;
		for (k = 0; k < nb; k++)
			x |= (uint64_t)b[k] << (8 * k);
		*v = (uint32_t)((x >> sh) & (r->bw == 32 ? 0xffffffffu : (1u << r->bw) - 1));
	}
	return 0;
}

/* Starts the next run when the current one is used up: 0, or -1 when the
 * data ends or is malformed. */
static int rle_fill(struct rle *r)
{
	while (r->left == 0) {
		struct tc t = {r->p, r->e, 0, 0, 0};
		uint64_t h;
		if (r->p >= r->e)
			return -1;
		h = tc_varint(&t);
		if (!tc_ok(&t))
			return -1;
		r->p = t.p;
		if (h & 1) {
			uint64_t groups = h >> 1;
			if (groups > UINT64_MAX / 8 ||
			    (r->bw && groups > (uint64_t)(r->e - r->p) / (uint64_t)r->bw))
				return -1;
			r->bp = r->p;
			r->bi = 0;
			r->packed = 1;
			r->left = groups * 8;
			r->p += groups * (uint64_t)r->bw;
		} else {
			int nb = (r->bw + 7) / 8, i;
			if (r->e - r->p < nb)
				return -1;
			r->val = 0;
			for (i = 0; i < nb; i++)
				r->val |= (uint32_t)r->p[i] << (8 * i);
			r->p += nb;
			r->packed = 0;
			r->left = h >> 1;
		}
	}
	return 0;
}

/* DELTA_BINARY_PACKED: blocks of deltas from a first value, each block a
 * minimum delta and miniblocks bit-packed at their own widths. */
struct dbp {
	const unsigned char *p, *e;
	uint64_t per_block, nmini, per_mini, left;
	uint64_t last;
	int first;                  /* the first value is still to come */
	uint64_t min_delta;
	const unsigned char *widths; /* the block's miniblock bit widths */
	uint64_t mi, in_mini;        /* the miniblock, and values taken from it */
	const unsigned char *mp;     /* its bits */
	unsigned bw;
};

static int dbp_init(struct dbp *d, const unsigned char *p, const unsigned char *e)
{
	struct tc t = {p, e, 0, 0, 0};
	memset(d, 0, sizeof *d);
	d->per_block = tc_varint(&t);
	d->nmini = tc_varint(&t);
	d->left = tc_varint(&t);
	d->last = (uint64_t)tc_zigzag(&t);
	if (!tc_ok(&t) || d->per_block == 0 || d->per_block % 128 || d->per_block > (1u << 20) ||
	    d->nmini == 0 || d->per_block % d->nmini || (d->per_block / d->nmini) % 32)
		return -1;
	d->per_mini = d->per_block / d->nmini;
	d->p = t.p;
	d->e = e;
	d->first = d->left > 0;
	d->in_mini = d->per_mini;
	d->mi = d->nmini - 1;
	return 0;
}

static int dbp_next(struct dbp *d, uint64_t *v)
{
	uint64_t x = 0, off, need;
	unsigned got = 0;
	if (d->left == 0)
		return -1;
	d->left--;
	if (d->first) {
		d->first = 0;
		*v = d->last;
		return 0;
	}
	if (d->in_mini == d->per_mini) { /* the next miniblock */
		if (d->mi + 1 < d->nmini) {
			d->mp += d->per_mini * d->bw / 8;
			d->mi++;
		} else { /* the next block */
			struct tc t = {d->p, d->e, 0, 0, 0};
			d->min_delta = (uint64_t)tc_zigzag(&t);
			if (!tc_ok(&t) || (uint64_t)(d->e - t.p) < d->nmini)
				return -1;
			d->widths = t.p;
			d->mp = t.p + d->nmini;
			d->mi = 0;
		}
		d->bw = d->widths[d->mi];
		d->in_mini = 0;
		if (d->bw > 64)
			return -1;
		/* The bits the values left need (the last miniblock is padded;
		 * those after it are not written at all). */
		need = d->left + 1 < d->per_mini ? d->left + 1 : d->per_mini;
		if ((need * d->bw + 7) / 8 > (uint64_t)(d->e - d->mp))
			return -1;
		d->p = d->mp + d->per_mini * d->bw / 8 > d->e ? d->e : d->mp + d->per_mini * d->bw / 8;
	}
	off = d->in_mini++ * d->bw;
	while (got < d->bw) {
		unsigned sh = (unsigned)((off + got) & 7), take = 8 - sh;
		if (take > d->bw - got)
			take = d->bw - got;
		x |= (uint64_t)((d->mp[(off + got) >> 3] >> sh) & ((1u << take) - 1)) << got;
		got += take;
	}
	d->last += d->min_delta + x; /* wraps, as the encoding intends */
	*v = d->last;
	return 0;
}

/* Where n values of DELTA_BINARY_PACKED data at p end, walking block and
 * miniblock headers (not the values); *n is its count, which must be at
 * most max (the page's values). NULL when the data is damaged. */
static const unsigned char *dbp_end(const unsigned char *p, const unsigned char *e, uint64_t max,
                                    uint64_t *n)
{
	struct dbp d;
	uint64_t left, m;
	if (dbp_init(&d, p, e) || d.left > max)
		return NULL;
	*n = d.left;
	left = d.left ? d.left - 1 : 0; /* the first value is in the header */
	p = d.p;
	while (left) {
		struct tc t = {p, e, 0, 0, 0};
		(void)tc_zigzag(&t); /* the block's minimum delta */
		if (!tc_ok(&t) || (uint64_t)(e - t.p) < d.nmini)
			return NULL;
		p = t.p + d.nmini;
		for (m = 0; m < d.nmini && left; m++) {
			uint64_t bytes = d.per_mini * t.p[m] / 8;
			if (t.p[m] > 64 || bytes > (uint64_t)(e - p))
				return NULL;
			p += bytes;
			left -= left < d.per_mini ? left : d.per_mini;
		}
	}
	return p;
}

/* Takes n values of r that must all be v: 0, or -1 when one is not or the
 * data ends (r is then left part way). Runs of 1s packed one bit each (the
 * repetition levels of a list) go a byte at a time. */
static int rle_take_all(struct rle *r, uint32_t v, uint64_t n)
{
	uint32_t x;
	while (n) {
		uint64_t k, i;
		if (r->left == 0 && rle_fill(r))
			return -1;
		k = n < r->left ? n : r->left;
		if (!r->packed) {
			if (r->val != v)
				return -1;
		} else if (r->bw == 1 && v == 1) {
			for (i = 0; i < k;) {
				uint64_t bi = r->bi + i;
				if ((bi & 7) == 0 && k - i >= 8) {
					if (r->bp[bi >> 3] != 0xff)
						return -1;
					i += 8;
				} else {
					if (!((r->bp[bi >> 3] >> (bi & 7)) & 1))
						return -1;
					i++;
				}
			}
			r->bi += k;
		} else {
			for (i = 0; i < k; i++)
				if (rle_next(r, &x) || x != v)
					return -1;
			n -= k;
			continue;
		}
		r->left -= k;
		n -= k;
	}
	return 0;
}

static int bit_width(int max)
{
	int w = 0;
	while (max >> w)
		w++;
	return w;
}

struct val {
	uint32_t def, rep;
	const unsigned char *b; /* a fixed-size value, little-endian */
	const unsigned char *s; /* a BYTE_ARRAY value */
	uint32_t len;
	unsigned char tmp[8];
};

struct page_header {
	int type;
	int32_t usize, csize;
	int32_t nvals, enc, def_enc, rep_enc; /* data pages (v1 and v2), dictionary */
	int32_t def_len, rep_len;             /* v2 */
	int compressed;                       /* v2 */
	int has_sub;
	int has_crc;
	uint32_t crc; /* CRC-32 of the page's bytes as stored, when the writer gave one */
};

static void parse_page_header(struct tc *t, struct page_header *h)
{
	int last = 0, id, type;
	memset(h, 0, sizeof *h);
	h->type = -1;
	h->usize = h->csize = -1;
	h->compressed = 1;
	h->def_enc = h->rep_enc = E_RLE;
	while (tc_field(t, &last, &id, &type)) {
		if (id == 1)
			h->type = tc_i32(t, type);
		else if (id == 2)
			h->usize = tc_i32(t, type);
		else if (id == 3)
			h->csize = tc_i32(t, type);
		else if (id == 4) {
			h->crc = (uint32_t)tc_i32(t, type);
			h->has_crc = 1;
		} else if ((id == 5 || id == 7 || id == 8) && id == (h->type == P_DATA ? 5 : h->type == P_DICT ? 7 : 8)) {
			int l2 = 0, id2, type2;
			if (!tc_enter(t, type))
				return;
			h->has_sub = 1;
			while (tc_field(t, &l2, &id2, &type2)) {
				/* DataPageHeader: 1 num_values, 2 encoding, 3 and 4 the
				 * level encodings; DictionaryPageHeader: 1, 2; v2: 1, 4
				 * encoding, 5 and 6 the level lengths, 7 is_compressed.
				 * Statistics and the rest are skipped. */
				int32_t *dst = id2 == 1 ? &h->nvals
				             : id == 5 ? (id2 == 2 ? &h->enc : id2 == 3 ? &h->def_enc : id2 == 4 ? &h->rep_enc : NULL)
				             : id == 7 ? (id2 == 2 ? &h->enc : NULL)
				             : (id2 == 4 ? &h->enc : id2 == 5 ? &h->def_len : id2 == 6 ? &h->rep_len : NULL);
				if (dst)
					*dst = tc_i32(t, type2);
				else if (id == 8 && id2 == 7)
					h->compressed = tc_bool(t, type2);
				else
					tc_skip(t, type2);
			}
			t->depth--;
		} else {
			tc_skip(t, type);
		}
	}
}

/* A column being read, through the pages of one row group's chunk. */
struct cur {
	struct parquet *p;
	const struct leaf *lf;
	int col;
	int width; /* bytes of a fixed-size value; 0 for BYTE_ARRAY */
	uint64_t pos, end;  /* the next page header; the chunk's end */
	int64_t chunk_left; /* values its pages still hold */
	int codec;
	/* The dictionary: its page, decoded, and where each value starts. */
	unsigned char *dict;
	uint32_t dict_n, *dict_at;
	int have_dict;
	/* The current page. */
	uint64_t page_at;
	unsigned char *raw, *out; /* as stored; decompressed */
	size_t raw_cap, out_cap;
	int64_t page_left;
	struct rle rep, def, idx;
	int enc;
	const unsigned char *vp, *ve; /* the values */
	uint64_t bss_n, bss_i;        /* BYTE_STREAM_SPLIT: values in the page; the next */
	struct dbp lens, pre;         /* DELTA_*: lengths (of suffixes), prefixes */
	unsigned char *str;           /* DELTA_BYTE_ARRAY: the value being built */
	size_t str_cap;
	uint64_t str_len;
	struct val la;                /* a value read ahead and put back */
	int have_la;
};

/* An input error: fmt's message, to be prefixed with where. */
#define INPUT_ERR(err, fmt)                                                  \
	do {                                                                 \
		va_list ap_;                                                 \
		va_start(ap_, fmt);                                          \
		(err)->code = FIDX_EINPUT;                                   \
		vsnprintf((err)->msg, sizeof (err)->msg, fmt, ap_);          \
		va_end(ap_);                                                 \
	} while (0)

static int page_err(const struct cur *c, struct fidx_err *err, const char *fmt, ...)
	FIDX_PRINTF(3, 4);

static int page_err(const struct cur *c, struct fidx_err *err, const char *fmt, ...)
{
	INPUT_ERR(err, fmt);
	return fidx_err_prefix(err, "%s: column \"%s\", row group %zu, page at byte %llu", c->p->name,
	                       c->lf->name, c->p->rg + 1, (unsigned long long)c->page_at);
}

/* A column's stored page is no longer needed: its buffer becomes the
 * reader's spare (the larger of the two is kept), so the pages of a wide
 * row group are held once (decompressed), not twice, and no page costs
 * an allocation, which for pages of a megabyte or more means fresh pages
 * from the kernel, zeroed, each time (0.6 s of a 4 s build). */
static void release(struct cur *c)
{
	struct parquet *p = c->p;
	unsigned char *b = c->raw;
	size_t cap = c->raw_cap;
	if (cap > p->spare_cap) {
		unsigned char *sb = p->spare;
		p->spare = b;
		p->spare_cap = cap;
		b = sb;
	}
	free(b);
	c->raw = NULL;
	c->raw_cap = 0;
}

static int grow(unsigned char **buf, size_t *cap, size_t n)
{
	unsigned char *nb;
	if (n <= *cap && *buf)
		return 0;
	if (!(nb = realloc(*buf, n ? n : 1)))
		return -1;
	*buf = nb;
	*cap = n;
	return 0;
}

/* Room for n stored bytes of a page in c->raw, the reader's spare taken
 * first when the column has let its own buffer go. */
static int raw_room(struct cur *c, size_t n)
{
	if (!c->raw && c->p->spare) {
		c->raw = c->p->spare;
		c->raw_cap = c->p->spare_cap;
		c->p->spare = NULL;
		c->p->spare_cap = 0;
	}
	return grow(&c->raw, &c->raw_cap, n);
}

/* Decompresses n stored bytes into want bytes; *out points at them (at in
 * itself when there is no codec). The size a codec can reach from n bytes
 * bounds want before anything is allocated. */
static int decompress(struct cur *c, const unsigned char *in, size_t n, size_t want,
                      const unsigned char **out, struct fidx_err *err)
{
	static const uint64_t ratio[] = {1, 22, 1100, 0, 0, 0, 33000};
	size_t got;

	if (want == 0) { /* nothing to make: some writers store 0 bytes, others an empty stream */
		*out = in;
		return 0;
	}
	if (c->codec == C_NONE) {
		if (want != n)
			return page_err(c, err, "%zu bytes stored for %zu uncompressed", n, want);
		*out = in;
		return 0;
	}
	if (want > MAX_PAGE || want > (uint64_t)n * ratio[c->codec] + 65536)
		return page_err(c, err, "%s cannot make %zu bytes out of %zu", codec_name(c->codec),
		                want, n);
	if (grow(&c->out, &c->out_cap, want))
		return fidx_err_nomem(err);
	*out = c->out;
	if (c->codec == C_SNAPPY) {
		got = want;
		if (snappy_uncompressed_length((const char *)in, n, &got) != SNAPPY_OK || got != want ||
		    snappy_uncompress((const char *)in, n, (char *)c->out, &got) != SNAPPY_OK || got != want)
			return page_err(c, err, "corrupt SNAPPY data");
	} else if (c->codec == C_GZIP) {
		z_stream z;
		int zr;
		memset(&z, 0, sizeof z);
		if (inflateInit2(&z, 15 + 32) != Z_OK)
			return fidx_err_nomem(err);
		z.next_in = (unsigned char *)(uintptr_t)in;
		z.avail_in = (uInt)n;
		z.next_out = c->out;
		z.avail_out = (uInt)want;
		zr = inflate(&z, Z_FINISH);
		got = z.total_out;
		inflateEnd(&z);
		if (zr == Z_MEM_ERROR)
			return fidx_err_nomem(err);
		if (zr != Z_STREAM_END || got != want)
			return page_err(c, err, "corrupt GZIP data");
	} else {
		got = ZSTD_decompress(c->out, want, in, n);
		if (ZSTD_isError(got) || got != want)
			return page_err(c, err, "corrupt ZSTD data");
	}
	return 0;
}

/* Levels at b[0..n): a v1 page prefixes them with their length. */
static int levels_v1(struct cur *c, struct rle *r, int max, int enc, const unsigned char **b,
                     const unsigned char *e, struct fidx_err *err)
{
	uint32_t len;
	if (!max)
		return 0;
	if (enc != E_RLE)
		return page_err(c, err, "levels in %s encoding are not supported", enc_name(enc));
	if (e - *b < 4 || (len = fidx_le32(*b)) > (uint64_t)(e - *b - 4))
		return page_err(c, err, "the levels run past the page");
	rle_init(r, *b + 4, len, bit_width(max));
	*b += 4 + len;
	return 0;
}

static int load_dict(struct cur *c, const struct page_header *h, const unsigned char *b,
                     size_t n, struct fidx_err *err)
{
	uint32_t i, at;
	if (c->have_dict)
		return page_err(c, err, "a second dictionary page");
	if (h->enc != E_PLAIN && h->enc != E_PLAIN_DICT)
		return page_err(c, err, "a dictionary in %s encoding", enc_name(h->enc));
	if (h->nvals < 0 || (c->width && (uint64_t)h->nvals * (uint64_t)c->width > n) ||
	    (!c->width && (uint64_t)h->nvals * 4 > n))
		return page_err(c, err, "the dictionary holds %d values in %zu bytes", h->nvals, n);
	free(c->dict);
	free(c->dict_at);
	c->dict_at = NULL;
	if (!(c->dict = malloc(n ? n : 1)))
		return fidx_err_nomem(err);
	memcpy(c->dict, b, n);
	c->dict_n = (uint32_t)h->nvals;
	if (!c->width) {
		if (!(c->dict_at = malloc(((size_t)c->dict_n + 1) * sizeof *c->dict_at)))
			return fidx_err_nomem(err);
		for (i = 0, at = 0; i < c->dict_n; i++) {
			uint32_t len;
			if (n - at < 4 || (len = fidx_le32(c->dict + at)) > n - at - 4)
				return page_err(c, err, "dictionary value %u runs past the page", i);
			c->dict_at[i] = at;
			at += 4 + len;
		}
	}
	c->have_dict = 1;
	return 0;
}

/* Reads page headers and pages until a data page is ready: 1, 0 at the
 * chunk's end, or a negative fidx_code. */
static int next_page(struct cur *c, struct fidx_err *err)
{
	const struct leaf *lf = c->lf;
	for (;;) {
		struct page_header h;
		size_t want = 256, hlen;
		const unsigned char *b, *e;
		int rc;

		if (c->chunk_left <= 0)
			return 0;
		c->page_at = c->pos;
		if (c->pos >= c->end)
			return page_err(c, err, "the column chunk ends %lld values short",
			                (long long)c->chunk_left);
		for (;;) { /* the header, in a window that grows until it fits */
			uint64_t avail = c->end - c->pos;
			size_t n = avail < want ? (size_t)avail : want;
			struct tc t;
			if (raw_room(c, n))
				return fidx_err_nomem(err);
			if ((rc = fidx_source_pread(c->p->src, c->raw, n, c->pos, err)) != 0)
				return rc;
			t = (struct tc){c->raw, c->raw + n, 0, 0, 0};
			parse_page_header(&t, &h);
			if (t.eof && n < avail && want < MAX_HEADER) {
				want *= 8;
				continue;
			}
			if (!tc_ok(&t) || h.type < 0 || h.usize < 0 || h.csize < 0)
				return page_err(c, err, "damaged page header");
			hlen = (size_t)(t.p - c->raw);
			break;
		}
		if ((uint64_t)h.csize > c->end - c->pos - hlen)
			return page_err(c, err, "the page (%d bytes) runs past its column chunk", h.csize);
		c->pos += hlen + (uint64_t)h.csize;
		if (h.type != P_DATA && h.type != P_DICT && h.type != P_DATA_V2)
			continue; /* index pages and the like */
		if (!h.has_sub)
			return page_err(c, err, "a page header without its page type's fields");
		if (raw_room(c, (size_t)h.csize))
			return fidx_err_nomem(err);
		if ((rc = fidx_source_pread(c->p->src, c->raw, (size_t)h.csize, c->page_at + hlen, err)) != 0)
			return rc;
		if (h.has_crc) {
			uint32_t crc = (uint32_t)crc32(0, c->raw, (uInt)h.csize);
			if (crc != h.crc)
				return page_err(c, err, "checksum mismatch: the page's bytes give CRC-32 %08x, its "
				                "header says %08x (the file is damaged)", crc, h.crc);
		}
		if (h.type == P_DICT) {
			if ((rc = decompress(c, c->raw, (size_t)h.csize, (size_t)h.usize, &b, err)) != 0 ||
			    (rc = load_dict(c, &h, b, (size_t)h.usize, err)) != 0)
				return rc;
			continue;
		}
		if (h.nvals < 0 || h.nvals > c->chunk_left)
			return page_err(c, err, "the page holds %d values, more than its column chunk's %lld left",
			                h.nvals, (long long)c->chunk_left);
		/* A page of numbers cannot need much more than its values and
		 * their levels, whatever the encoding: that bounds what its codec
		 * is asked to make (strings have no such bound). */
		if (c->width && (uint64_t)h.usize > (uint64_t)h.nvals * ((uint64_t)c->width + 16) + 1024)
			return page_err(c, err, "%d bytes for %d values of %d bytes", h.usize, h.nvals, c->width);
		if (h.type == P_DATA) {
			if ((rc = decompress(c, c->raw, (size_t)h.csize, (size_t)h.usize, &b, err)) != 0)
				return rc;
			e = b + h.usize;
			if (c->codec != C_NONE && c->raw_cap > (64u << 10))
				release(c);
			if ((rc = levels_v1(c, &c->rep, lf->max_rep, h.rep_enc, &b, e, err)) != 0 ||
			    (rc = levels_v1(c, &c->def, lf->max_def, h.def_enc, &b, e, err)) != 0)
				return rc;
		} else {
			uint64_t lv = (uint64_t)(h.rep_len < 0 ? -1 : h.rep_len) + (uint64_t)(h.def_len < 0 ? -1 : h.def_len);
			if (h.rep_len < 0 || h.def_len < 0 || lv > (uint64_t)h.csize || lv > (uint64_t)h.usize)
				return page_err(c, err, "the levels (%d and %d bytes) run past the page",
				                h.rep_len, h.def_len);
			rle_init(&c->rep, c->raw, (size_t)h.rep_len, bit_width(lf->max_rep));
			rle_init(&c->def, c->raw + h.rep_len, (size_t)h.def_len, bit_width(lf->max_def));
			b = c->raw + lv;
			if (h.compressed) {
				if ((rc = decompress(c, b, (size_t)h.csize - lv, (size_t)h.usize - lv, &b, err)) != 0)
					return rc;
			} else if (h.csize != h.usize) {
				return page_err(c, err, "an uncompressed page of %d bytes stores %d", h.usize, h.csize);
			}
			e = b + (h.usize - lv);
		}
		c->vp = b;
		c->ve = e;
		c->enc = h.enc;
		switch (h.enc) {
		case E_PLAIN:
			if (lf->type == T_BOOLEAN)
				return page_err(c, err, "BOOLEAN values are not supported");
			break;
		case E_PLAIN_DICT:
		case E_RLE_DICT:
			if (!c->have_dict)
				return page_err(c, err, "dictionary-encoded values without a dictionary page");
			/* A page of nulls may have no values at all, not even the
			 * indices' bit width. */
			if (b < e && *b > 32)
				return page_err(c, err, "a bad bit width for dictionary indices");
			rle_init(&c->idx, b + (b < e), (size_t)(e - b - (b < e)), b < e ? *b : 0);
			c->enc = E_RLE_DICT;
			break;
		case E_BSS:
			if (!c->width || c->width > 8 || (size_t)(e - b) % (size_t)c->width)
				return page_err(c, err, "BYTE_STREAM_SPLIT values of %d bytes in %zu bytes",
				                c->width, (size_t)(e - b));
			c->bss_n = (uint64_t)(e - b) / (uint64_t)c->width;
			c->bss_i = 0;
			break;
		case E_DELTA_BP:
			if (lf->type != T_INT32 && lf->type != T_INT64)
				return page_err(c, err, "%s values in DELTA_BINARY_PACKED encoding", type_name(lf->type));
			if (dbp_init(&c->lens, b, e))
				return page_err(c, err, "a damaged DELTA_BINARY_PACKED header");
			break;
		case E_DELTA_BA:
		case E_DELTA_LBA: {
			uint64_t n = 0, n2;
			const unsigned char *q = b;
			if (lf->type != T_BYTE_ARRAY && lf->type != T_FLBA)
				return page_err(c, err, "%s values in %s encoding", type_name(lf->type), enc_name(h.enc));
			if (h.enc == E_DELTA_BA) {
				if (!(q = dbp_end(b, e, (uint64_t)h.nvals, &n)) || dbp_init(&c->pre, b, e))
					return page_err(c, err, "damaged DELTA_BYTE_ARRAY prefix lengths");
			}
			/* The lengths come first, then the bytes: each length is
			 * checked against the bytes left as it is used. */
			if (!(c->vp = dbp_end(q, e, (uint64_t)h.nvals, &n2)) ||
			    (h.enc == E_DELTA_BA && n2 != n) || dbp_init(&c->lens, q, e))
				return page_err(c, err, "damaged %s lengths", enc_name(h.enc));
			c->str_len = 0;
			break;
		}
		default:
			return page_err(c, err, "values in %s encoding are not supported", enc_name(h.enc));
		}
		c->page_left = h.nvals;
		if (h.nvals)
			return 1;
	}
}

/* The next value with its levels: 1, 0 at the chunk's end, or a negative
 * fidx_code. v->b (or v->s) is set when the value is not null. */
static int cur_next(struct cur *c, struct val *v, struct fidx_err *err)
{
	const struct leaf *lf = c->lf;
	uint32_t x;
	if (c->have_la) {
		*v = c->la;
		if (c->la.b == c->la.tmp)
			v->b = v->tmp;
		c->have_la = 0;
		return 1;
	}
	v->b = v->s = NULL;
	while (c->page_left == 0) {
		int rc = next_page(c, err);
		if (rc <= 0)
			return rc;
	}
	c->page_left--;
	c->chunk_left--;
	v->rep = v->def = 0;
	if (lf->max_rep && (rle_next(&c->rep, &v->rep) || v->rep > (uint32_t)lf->max_rep))
		return page_err(c, err, "repetition levels end early or are out of range");
	if (lf->max_def && (rle_next(&c->def, &v->def) || v->def > (uint32_t)lf->max_def))
		return page_err(c, err, "definition levels end early or are out of range");
	if (v->def < (uint32_t)lf->max_def)
		return 1;
	switch (c->enc) {
	case E_PLAIN:
		if (c->width) {
			if (c->ve - c->vp < c->width)
				return page_err(c, err, "the values end early");
			v->b = c->vp;
			c->vp += c->width;
		} else {
			if (c->ve - c->vp < 4 || (x = fidx_le32(c->vp)) > (uint64_t)(c->ve - c->vp - 4))
				return page_err(c, err, "the values end early");
			v->s = c->vp + 4;
			v->len = x;
			c->vp += 4 + (size_t)x;
		}
		break;
	case E_RLE_DICT:
		if (rle_next(&c->idx, &x) || x >= c->dict_n)
			return page_err(c, err, "dictionary indices end early or are out of range");
		if (c->width) {
			v->b = c->dict + (size_t)x * (size_t)c->width;
		} else {
			v->s = c->dict + c->dict_at[x] + 4;
			v->len = fidx_le32(c->dict + c->dict_at[x]);
		}
		break;
	case E_DELTA_BP: {
		uint64_t w;
		if (dbp_next(&c->lens, &w))
			return page_err(c, err, "the values end early");
		for (x = 0; x < 8; x++)
			v->tmp[x] = (unsigned char)(w >> (8 * x));
		v->b = v->tmp;
		break;
	}
	case E_DELTA_LBA:
	case E_DELTA_BA: {
		uint64_t pre = 0, len;
		if ((c->enc == E_DELTA_BA && dbp_next(&c->pre, &pre)) || dbp_next(&c->lens, &len) ||
		    len > (uint64_t)(c->ve - c->vp) || pre > c->str_len)
			return page_err(c, err, "the values end early or a prefix is too long");
		if (c->enc == E_DELTA_LBA) {
			v->s = c->vp;
			v->len = (uint32_t)len;
		} else {
			if (pre + len > UINT32_MAX || grow(&c->str, &c->str_cap, (size_t)(pre + len)))
				return fidx_err_nomem(err);
			memcpy(c->str + pre, c->vp, (size_t)len);
			c->str_len = pre + len;
			v->s = c->str;
			v->len = (uint32_t)c->str_len;
		}
		c->vp += len;
		if (c->width) { /* FIXED_LEN_BYTE_ARRAY: parquet-rs writes FLOAT16 so */
			if (v->len != (uint32_t)c->width)
				return page_err(c, err, "a value of %u bytes in a column of %d-byte values", v->len, c->width);
			v->b = v->s;
			v->s = NULL;
		}
		break;
	}
	default: /* E_BSS */
		if (c->bss_i >= c->bss_n)
			return page_err(c, err, "the values end early");
		for (x = 0; x < (uint32_t)c->width && x < sizeof v->tmp; x++)
			v->tmp[x] = c->vp[x * c->bss_n + c->bss_i];
		c->bss_i++;
		v->b = v->tmp;
	}
	return 1;
}

/* Puts v back, to be read again. */
static void cur_unread(struct cur *c, const struct val *v)
{
	c->la = *v;
	if (v->b == v->tmp)
		c->la.b = c->la.tmp;
	c->have_la = 1;
}

/* Whether the chunk's values are all read. */
static int cur_done(const struct cur *c)
{
	return !c->have_la && c->chunk_left == 0;
}

/* A fixed-size value as a double. */
static double number(const struct cur *c, const struct val *v)
{
	uint32_t u;
	uint64_t w;
	float f;
	double d;
	switch (c->lf->type) {
	case T_FLOAT:
		u = fidx_le32(v->b);
		memcpy(&f, &u, sizeof f);
		return f;
	case T_DOUBLE:
		w = fidx_le64(v->b);
		memcpy(&d, &w, sizeof d);
		return d;
	case T_INT32:
		return c->lf->unsign ? (double)fidx_le32(v->b) : (double)(int32_t)fidx_le32(v->b);
	case T_FLBA: /* FLOAT16 */
		return fidx_half_to_float(fidx_le16(v->b));
	default:
		return c->lf->unsign ? (double)fidx_le64(v->b) : (double)(int64_t)fidx_le64(v->b);
	}
}

/* Reads up to n numbers of a flat column into out, as floats. Returns how
 * many, and in *stop why it stopped short: 1 at a null, 2 at the chunk's
 * end, or a negative fidx_code (err filled); 0 when it did not. PLAIN
 * FLOAT values with no nulls in sight are copied whole. */
static size_t cur_numbers(struct cur *c, float *out, size_t n, int *stop, struct fidx_err *err)
{
	const struct leaf *lf = c->lf;
	size_t got = 0;
	struct val v;
	int rc;

	*stop = 0;
	while (got < n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (c->page_left > 0 && c->enc == E_PLAIN && lf->type == T_FLOAT && !c->have_la &&
		    (!lf->max_def || (rle_fill(&c->def) == 0 && !c->def.packed &&
		                      c->def.val == (uint32_t)lf->max_def))) {
			uint64_t k = n - got;
			if (k > (uint64_t)c->page_left)
				k = (uint64_t)c->page_left;
			if (k > (uint64_t)(c->ve - c->vp) / 4)
				k = (uint64_t)(c->ve - c->vp) / 4;
			if (lf->max_def && k > c->def.left)
				k = c->def.left;
			if (k) {
				memcpy(out + got, c->vp, (size_t)k * 4);
				c->vp += k * 4;
				c->page_left -= (int64_t)k;
				c->chunk_left -= (int64_t)k;
				if (lf->max_def)
					c->def.left -= k;
				got += (size_t)k;
				continue;
			}
		}
#endif
		if ((rc = cur_next(c, &v, err)) <= 0) {
			*stop = rc ? rc : 2;
			break;
		}
		if (v.def < (uint32_t)lf->max_def) {
			*stop = 1;
			break;
		}
		out[got++] = (float)number(c, &v);
	}
	return got;
}

static int cur_start(struct cur *c, size_t rg, struct fidx_err *err)
{
	struct parquet *p = c->p;
	const struct chunk *k = &p->rgs[rg].chunks[c->col];
	uint64_t data_end = p->data_end;
	c->page_at = (uint64_t)(k->start < 0 ? 0 : k->start);
	if (k->codec != C_NONE && k->codec != C_SNAPPY && k->codec != C_GZIP && k->codec != C_ZSTD)
		return page_err(c, err, "%s compression is not supported (UNCOMPRESSED, SNAPPY, GZIP and "
		                "ZSTD are)", codec_name(k->codec));
	if (k->type != c->lf->type)
		return page_err(c, err, "the chunk's type (%s) is not the schema's (%s)",
		                type_name(k->type), type_name(c->lf->type));
	if (k->start < 4 || k->size < 0 || k->values < 0 || (uint64_t)k->start > data_end ||
	    (uint64_t)k->size > data_end - (uint64_t)k->start)
		return page_err(c, err, "the column chunk (%lld bytes at %lld) is outside the file's data",
		                (long long)k->size, (long long)k->start);
	c->codec = k->codec;
	c->pos = (uint64_t)k->start;
	c->end = (uint64_t)(k->start + k->size);
	c->chunk_left = k->values;
	c->page_left = 0;
	c->have_dict = 0;
	c->have_la = 0;
	return 0;
}

/* ---- columns and rows ------------------------------------------------- */

static int is_numeric(const struct leaf *l)
{
	if (l->type == T_FLOAT || l->type == T_DOUBLE || l->half)
		return 1;
	/* Integers, unless a converted type makes them dates, decimals... */
	return (l->type == T_INT32 || l->type == T_INT64) &&
	       (l->converted == 0 || (l->converted - 1 >= 11 && l->converted - 1 <= 18));
}

static int is_string(const struct leaf *l)
{
	return (l->type == T_BYTE_ARRAY || l->type == T_FLBA) && !l->half;
}

/* The first leaf of the top-level field named name, or -1; *n is its number
 * of leaves. */
static int find_field(const struct parquet *p, const char *name, int *n)
{
	size_t i;
	int first = -1;
	*n = 0;
	for (i = 0; i < p->nleaves; i++)
		if (strcmp(p->leaves[i].name, name) == 0) {
			if (first < 0)
				first = (int)i;
			++*n;
		}
	return first;
}

/* Whether leaf i is its top-level field's only leaf (a field's leaves are
 * consecutive). */
static int alone(const struct parquet *p, size_t i)
{
	int top = p->leaves[i].top;
	return (i == 0 || p->leaves[i - 1].top != top) && (i + 1 == p->nleaves || p->leaves[i + 1].top != top);
}

static void list_fields(const struct parquet *p, char *buf, size_t cap)
{
	size_t i, used = 0;
	buf[0] = '\0';
	for (i = 0; i < p->nleaves && used + 1 < cap; i++) {
		if (i && p->leaves[i].top == p->leaves[i - 1].top)
			continue;
		used += (size_t)snprintf(buf + used, cap - used, "%s\"%s\"", used ? ", " : "",
		                         p->leaves[i].name);
	}
	if (used >= cap && cap > 4)
		strcpy(buf + cap - 4, "...");
}

/* The column named by an option, which must be one flat leaf that ok()
 * accepts; -1 when name is NULL or, for a guessed name, not suitable. */
static int pick(struct parquet *p, const char *name, const char *option, int guessed,
                int (*ok)(const struct leaf *), const char *want, int *out, struct fidx_err *err)
{
	int n, i;
	char names[256];
	*out = -1;
	if (!name)
		return 0;
	i = find_field(p, name, &n);
	if (i < 0 && guessed)
		return 0;
	if (i < 0) {
		list_fields(p, names, sizeof names);
		return fidx_err_set(err, FIDX_EINPUT, "%s: no column named \"%s\" (given to %s); it has %s",
		                    p->name, name, option, names);
	}
	if (n != 1 || p->leaves[i].max_rep || !ok(&p->leaves[i])) {
		if (guessed)
			return 0;
		return fidx_err_set(err, FIDX_EINPUT, "%s: column \"%s\" (given to %s) is not %s", p->name,
		                    name, option, want);
	}
	*out = i;
	return 0;
}

static int is_id(const struct leaf *l)
{
	return is_string(l) || l->type == T_INT32 || l->type == T_INT64;
}

static int select_columns(struct parquet *p, const char *emb, const char *id,
                          const char *text, struct fidx_err *err)
{
	size_t i;
	int rc, n, list = -1;
	char names[256];

	if ((rc = pick(p, id ? id : "id", FIDX_SETTING("id_column"), !id, is_id, "a string or integer column",
	               &p->id, err)) != 0 ||
	    (rc = pick(p, text ? text : "text", FIDX_SETTING("text_column"), !text, is_string, "a string column",
	               &p->text, err)) != 0)
		return rc;
	if (p->id >= 0 && p->id == p->text)
		return fidx_err_set(err, FIDX_EINPUT, "%s: the id and text columns are the same column", p->name);
	if (!(p->emb = malloc(p->nleaves * sizeof *p->emb)))
		return fidx_err_nomem(err);
	if (emb) { /* named: it must be a list of numbers */
		const struct leaf *l;
		int k = find_field(p, emb, &n);
		if (k < 0) {
			list_fields(p, names, sizeof names);
			return fidx_err_set(err, FIDX_EINPUT, "%s: no column named \"%s\" (given to "
			                    FIDX_SETTING("embedding_column") "); it has %s", p->name, emb, names);
		}
		l = &p->leaves[k];
		if (k == p->id || k == p->text)
			return fidx_err_set(err, FIDX_EINPUT, "%s: the embedding column is also the id or text column", p->name);
		if (n != 1 || l->max_rep != 1 || !is_numeric(l))
			return fidx_err_set(err, FIDX_EINPUT, "%s: column \"%s\" (given to " FIDX_SETTING("embedding_column") ") "
			                    "is not a list of numbers%s", p->name, emb,
			                    n == 1 && !l->max_rep && is_numeric(l)
			                        ? " (without " FIDX_SETTING("embedding_column") ", every numeric column is a dimension)"
			                        : "");
		list = k;
	} else { /* else the only list of numbers, if there is one */
		for (i = 0; i < p->nleaves; i++) {
			const struct leaf *l = &p->leaves[i];
			if ((int)i != p->id && (int)i != p->text && l->max_rep == 1 && is_numeric(l) && alone(p, i)) {
				if (list >= 0)
					return fidx_err_set(err, FIDX_EINPUT, "%s: several columns hold lists of numbers: "
					                    "choose the embedding with " FIDX_SETTING("embedding_column"), p->name);
				list = (int)i;
			}
		}
	}
	if (list >= 0) {
		p->emb[0] = list;
		p->nemb = 1;
		p->list = 1;
		return 0;
	}
	for (i = 0; i < p->nleaves; i++) {
		const struct leaf *l = &p->leaves[i];
		if ((int)i == p->id || (int)i == p->text)
			continue;
		if (l->max_rep || !is_numeric(l) || !alone(p, i))
			return fidx_err_set(err, FIDX_EINPUT, "%s: column \"%s\" (%s) is not a number: name the "
			                    "embedding with " FIDX_SETTING("embedding_column") ", or this column with " FIDX_SETTING("id_column") " "
			                    "or " FIDX_SETTING("text_column"), p->name, l->name,
			                    l->max_rep ? "a list" : !alone(p, i) ? "a group" : type_name(l->type));
		p->emb[p->nemb++] = (int)i;
	}
	if (!p->nemb)
		return fidx_err_set(err, FIDX_EINPUT, "%s: no embedding columns", p->name);
	if (p->nemb > MAX_DIM)
		return fidx_err_set(err, FIDX_EINPUT, "%s: %zu numeric columns: an embedding has at most %u",
		                    p->name, p->nemb, MAX_DIM);
	return 0;
}

static int fixed_width(const struct leaf *l)
{
	switch (l->type) {
	case T_INT32:
	case T_FLOAT:
		return 4;
	case T_INT64:
	case T_DOUBLE:
		return 8;
	case T_INT96:
		return 12;
	case T_FLBA:
		return l->type_length;
	default:
		return 0;
	}
}

static void parquet_close(void *state);

static int parquet_open(void **out, struct fidx_source *src, const struct fidx_reader_opts *o,
                        struct fidx_err *err)
{
	const char *emb = o->embedding_column, *id = o->id_column, *text = o->text_column;
	struct parquet *p = calloc(1, sizeof *p);
	unsigned char m[8], *footer = NULL;
	uint32_t flen;
	int64_t sum = 0;
	size_t i;
	int rc;

	if (!p)
		return fidx_err_nomem(err);
	p->src = src;
	p->name = fidx_source_name(src);
	p->id = p->text = -1;
	if ((rc = fidx_source_random(src, "PAR1", &p->size, err)) < 0)
		goto fail;
	if (rc == 1 || p->size < 12) {
		rc = rc == 1 ? fidx_err_set(err, FIDX_EINPUT, "%s: not a Parquet file (it does not start with PAR1)", p->name)
		             : fidx_err_set(err, FIDX_EINPUT, "%s: not a Parquet file (%llu bytes)", p->name,
		                            (unsigned long long)p->size);
		goto fail;
	}
	if ((rc = fidx_source_pread(src, m, 8, p->size - 8, err)) != 0)
		goto fail;
	if (memcmp(m + 4, "PAR1", 4) != 0) {
		rc = fidx_err_set(err, FIDX_EINPUT, memcmp(m + 4, "PARE", 4) == 0
		                  ? "%s: an encrypted Parquet file: not supported"
		                  : "%s: truncated or damaged Parquet file (it does not end with PAR1)", p->name);
		goto fail;
	}
	flen = fidx_le32(m);
	if (flen > p->size - 12) {
		rc = bad_footer(p, err, "its length is more than the file");
		goto fail;
	}
	if (!(footer = malloc(flen ? flen : 1))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	if ((rc = fidx_source_pread(src, footer, flen, p->size - 8 - flen, err)) != 0 ||
	    (rc = parse_footer(p, footer, flen, err)) != 0)
		goto fail;
	free(footer);
	footer = NULL;
	p->data_end = p->size - 8 - flen;
	for (i = 0; i < p->nrgs; i++) {
		if (!p->rgs[i].chunks && p->nleaves) {
			rc = bad_footer(p, err, "a row group without columns");
			goto fail;
		}
		if (p->rgs[i].rows < 0 || p->rgs[i].rows > INT64_MAX - sum) {
			rc = bad_footer(p, err, "a row group's row count");
			goto fail;
		}
		sum += p->rgs[i].rows;
	}
	if (p->rows == 0 && sum > 0) {
		/* parquet-rs 0.3 wrote 0 whatever its row groups held; DuckDB
		 * and others go by the row groups, which the pages are checked
		 * against as they are read. */
		snprintf(p->note, sizeof p->note,
		         "%s: the Parquet footer says 0 rows, its row groups hold %lld: read by the row groups "
		         "(old writers such as parquet-rs 0.3 wrote 0)",
		         p->name, (long long)sum);
		p->rows = sum;
	} else if (sum != p->rows) {
		char why[100];
		snprintf(why, sizeof why, "the row groups hold %lld rows, the file %lld", (long long)sum,
		         (long long)p->rows);
		rc = bad_footer(p, err, why);
		goto fail;
	}
	if ((rc = select_columns(p, emb, id, text, err)) != 0)
		goto fail;
	p->ncur = p->nemb + (p->id >= 0) + (p->text >= 0);
	if (!(p->cur = calloc(p->ncur, sizeof *p->cur))) {
		rc = fidx_err_nomem(err);
		goto fail;
	}
	for (i = 0; i < p->ncur; i++) {
		struct cur *c = &p->cur[i];
		c->p = p;
		c->col = i < p->nemb ? p->emb[i] : i == p->nemb && p->id >= 0 ? p->id : p->text;
		c->lf = &p->leaves[c->col];
		c->width = fixed_width(c->lf);
		if (c->lf->type == T_FLBA && (c->width <= 0 || c->width > (1 << 20))) {
			rc = bad_footer(p, err, "a FIXED_LEN_BYTE_ARRAY column's length");
			goto fail;
		}
	}
	if (!p->list) {
		p->dim = p->nemb;
		if (!(p->vec = malloc(p->dim * sizeof *p->vec)) ||
		    !(p->blk = malloc(p->dim * BLOCK * sizeof *p->blk))) {
			rc = fidx_err_nomem(err);
			goto fail;
		}
	}
	p->rg = p->nrgs;
	*out = p;
	return 0;
fail:
	free(footer);
	parquet_close(p);
	return rc;
}

static int row_err(const struct parquet *p, struct fidx_err *err, const char *fmt, ...)
	FIDX_PRINTF(3, 4);

static int row_err(const struct parquet *p, struct fidx_err *err, const char *fmt, ...)
{
	INPUT_ERR(err, fmt);
	return fidx_err_prefix(err, "%s: row %llu (row group %zu, row %lld)", p->name,
	                       (unsigned long long)p->row, p->rg + 1, (long long)p->rg_row);
}

/* A value that must be there, for the row being read. */
static int must(struct parquet *p, struct cur *c, struct val *v, struct fidx_err *err)
{
	int rc = cur_next(c, v, err);
	if (rc == 0)
		return row_err(p, err, "column \"%s\" has fewer values than the row group's %lld rows",
		               c->lf->name, (long long)p->rgs[p->rg].rows);
	return rc < 0 ? rc : 0;
}

static int store(struct parquet *p, size_t at, double x, const char *col, struct fidx_err *err)
{
	float f = (float)x;
	if (!isfinite(f))
		return row_err(p, err, "column \"%s\": %g is not a finite float", col, x);
	p->vec[at] = f;
	return 0;
}

/* Decodes the next rows of every dimension of a wide file. */
static void fill_block(struct parquet *p, struct fidx_err *err)
{
	int64_t left = p->rgs[p->rg].rows - (p->rg_row - 1);
	size_t n = left < BLOCK ? (size_t)left : BLOCK, upto = n, j;
	struct fidx_err e;

	p->blk_kind = 0;
	for (j = 0; j < p->nemb; j++) {
		int stop;
		size_t got = cur_numbers(&p->cur[j], p->blk + j * BLOCK, upto, &stop, &e);
		if (stop) { /* the first one in row order wins */
			upto = got;
			p->blk_kind = stop;
			p->blk_col = j;
			if (stop < 0)
				p->blk_err = e;
		}
	}
	(void)err;
	p->blk_i = 0;
	p->blk_n = n;
	p->blk_stop = upto;
}

/* The next row of a wide file, from the block. */
static int wide_row(struct parquet *p, struct fidx_err *err)
{
	size_t i, j;
	if (p->blk_i == p->blk_n)
		fill_block(p, err);
	i = p->blk_i;
	if (p->blk_kind && i == p->blk_stop) {
		const char *col = p->cur[p->blk_col].lf->name;
		for (j = 0; j < p->blk_col; j++) /* the row's columns before it come first */
			if (!isfinite(p->blk[j * BLOCK + i]))
				return row_err(p, err, "column \"%s\": %g is not a finite float",
				               p->cur[j].lf->name, p->blk[j * BLOCK + i]);
		if (p->blk_kind == 1)
			return row_err(p, err, "column \"%s\" is null", col);
		if (p->blk_kind == 2)
			return row_err(p, err, "column \"%s\" has fewer values than the row group's %lld rows",
			               col, (long long)p->rgs[p->rg].rows);
		*err = p->blk_err;
		return p->blk_kind;
	}
	p->blk_i++;
	for (j = 0; j < p->nemb; j++) {
		float f = p->blk[j * BLOCK + i];
		if (!isfinite(f))
			return row_err(p, err, "column \"%s\": %g is not a finite float", p->cur[j].lf->name, f);
		p->vec[j] = f;
	}
	return 0;
}

/* A row of a list column the quick way, when it is plain: PLAIN floats,
 * the row and the next one's start inside the page, levels saying dim
 * values and no nulls, every value finite. The row's first value may
 * already have been read ahead (c->la). Returns 1 when it took the row, 0
 * when the general reader must (nothing is consumed then). */
static int quick_list_row(struct parquet *p, struct cur *c)
{
	const struct leaf *lf = c->lf;
	struct rle rep = c->rep, def = c->def, peek;
	uint32_t x;
	size_t i, dim = p->dim, ahead = (size_t)c->have_la, need = dim - ahead;

	if (!p->started || c->enc != E_PLAIN || lf->type != T_FLOAT || lf->max_rep != 1 ||
	    c->page_left <= (int64_t)need || (uint64_t)(c->ve - c->vp) / 4 < need ||
	    (ahead && (c->la.rep != 0 || c->la.def != (uint32_t)lf->max_def)))
		return 0;
	if ((!ahead && (rle_next(&rep, &x) || x != 0)) || rle_take_all(&rep, 1, dim - 1) ||
	    (lf->max_def && rle_take_all(&def, (uint32_t)lf->max_def, need)))
		return 0;
	peek = rep;
	if (rle_next(&peek, &x) || x != 0) /* the next row starts right after */
		return 0;
	if (ahead)
		p->vec[0] = (float)number(c, &c->la);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p->vec + ahead, c->vp, need * sizeof *p->vec);
#else
	for (i = 0; i < need; i++) {
		uint32_t u = fidx_le32(c->vp + 4 * i);
		memcpy(&p->vec[ahead + i], &u, sizeof u);
	}
#endif
	for (i = 0; i < dim; i++)
		if (!isfinite(p->vec[i]))
			return 0;
	c->rep = rep;
	c->def = def;
	c->have_la = 0;
	c->vp += need * 4;
	c->page_left -= (int64_t)need;
	c->chunk_left -= (int64_t)need;
	return 1;
}

/* The embedding of a list column: values until the next row starts. */
static int read_list(struct parquet *p, struct fidx_err *err)
{
	struct cur *c = &p->cur[0];
	const struct leaf *lf = c->lf;
	struct val v;
	size_t n = 0;
	int rc;

	if (quick_list_row(p, c))
		return 0;
	if ((rc = must(p, c, &v, err)) != 0)
		return rc;
	if (v.rep != 0)
		return row_err(p, err, "column \"%s\": the row does not start a list", lf->name);
	for (;;) {
		if (v.def < (uint32_t)lf->max_def) {
			if (v.def < (uint32_t)lf->rep_def)
				return row_err(p, err, "the embedding (column \"%s\") is %s", lf->name,
				               lf->top_opt && v.def == 0 ? "null" : "empty");
			return row_err(p, err, "value %zu of the embedding (column \"%s\") is null", n + 1, lf->name);
		}
		if (n == p->vec_cap) {
			size_t cap = p->vec_cap ? p->vec_cap * 2 : 64;
			float *nv;
			if (p->started)
				return row_err(p, err, "the embedding has more than %zu values, as the first row has",
				               p->dim);
			if (n >= MAX_DIM)
				return row_err(p, err, "the embedding has more than %u values", MAX_DIM);
			if (!(nv = realloc(p->vec, cap * sizeof *nv)))
				return fidx_err_nomem(err);
			p->vec = nv;
			p->vec_cap = cap;
		}
		if ((rc = store(p, n++, number(c, &v), lf->name, err)) != 0)
			return rc;
		/* The next value, unless this was the chunk's last. */
		if (cur_done(c))
			break;
		if ((rc = must(p, c, &v, err)) != 0)
			return rc;
		if (v.rep == 0) {
			cur_unread(c, &v); /* it starts the next row */
			break;
		}
	}
	if (!p->started) {
		p->dim = n;
		p->started = 1;
	} else if (n != p->dim) {
		return row_err(p, err, "the embedding has %zu values; the first row's had %zu", n, p->dim);
	}
	return 0;
}

/* Moves to the next row group with rows: 1, 0 after the last, or a negative
 * fidx_code. The one finished must have no values left over. */
static int next_rowgroup(struct parquet *p, struct fidx_err *err)
{
	size_t i;
	int rc;
	for (;;) {
		if (p->rg < p->nrgs) {
			uint64_t end = 0;
			for (i = 0; i < p->ncur; i++) {
				const struct cur *c = &p->cur[i];
				if (!cur_done(c))
					return fidx_err_set(err, FIDX_EINPUT, "%s: row group %zu: column \"%s\" has "
					                    "more values than its %lld rows", p->name, p->rg + 1,
					                    c->lf->name, (long long)p->rgs[p->rg].rows);
				if (c->end > end)
					end = c->end;
			}
			fidx_source_seen(p->src, end);
		}
		p->rg = p->rg == p->nrgs ? 0 : p->rg + 1;
		if (p->rg >= p->nrgs) {
			p->rg = p->nrgs;
			fidx_source_seen(p->src, p->size);
			return 0;
		}
		p->rg_row = 0;
		p->blk_i = p->blk_n = 0;
		p->rg_lo = UINT64_MAX;
		p->rg_hi = 0;
		for (i = 0; i < p->ncur; i++) {
			if ((rc = cur_start(&p->cur[i], p->rg, err)) != 0)
				return rc;
			if (p->cur[i].pos < p->rg_lo)
				p->rg_lo = p->cur[i].pos;
			if (p->cur[i].end > p->rg_hi)
				p->rg_hi = p->cur[i].end;
		}
		if (p->rgs[p->rg].rows > 0)
			return 1;
	}
}

/* Copies an id (slot 0) or a text (1) out of its page, ending it in a NUL
 * as the other readers do; one holding a NUL byte is an error. */
static int keep(struct parquet *p, int slot, const void *s, size_t n, const char *what,
                const char **out, size_t *len, struct fidx_err *err)
{
	if (n && memchr(s, '\0', n))
		return row_err(p, err, "the %s holds a NUL byte", what);
	if (grow((unsigned char **)&p->str[slot], &p->str_cap[slot], n + 1))
		return fidx_err_nomem(err);
	if (n)
		memcpy(p->str[slot], s, n);
	p->str[slot][n] = '\0';
	*out = p->str[slot];
	*len = n;
	return 0;
}

static int next_row(void *state, struct fidx_row *row, struct fidx_err *err)
{
	struct parquet *p = state;
	struct val v;
	size_t i;
	int rc;

	if (p->done)
		return 0;
	if (p->rg == p->nrgs || p->rg_row == p->rgs[p->rg].rows) {
		if ((rc = next_rowgroup(p, err)) <= 0) {
			p->done = rc == 0;
			return rc;
		}
	}
	p->row++;
	p->rg_row++;
	if (p->rg_row % 1024 == 0) /* progress: the row group's bytes, in proportion */
		fidx_source_seen(p->src, p->rg_lo + (uint64_t)((double)(p->rg_hi - p->rg_lo) *
		                                              (double)p->rg_row / (double)p->rgs[p->rg].rows));
	if (p->list) {
		if ((rc = read_list(p, err)) != 0)
			return rc;
	} else if ((rc = wide_row(p, err)) != 0) {
		return rc;
	}
	memset(row, 0, sizeof *row);
	row->vec = p->vec;
	row->dim = p->dim;
	row->where = p->row;
	i = p->nemb;
	if (p->id >= 0) {
		struct cur *c = &p->cur[i++];
		if ((rc = must(p, c, &v, err)) != 0)
			return rc;
		if (v.def < (uint32_t)c->lf->max_def)
			return row_err(p, err, "the id (column \"%s\") is null", c->lf->name);
		if (c->lf->type == T_INT32 || c->lf->type == T_INT64) {
			char num[24];
			uint64_t u = c->lf->type == T_INT32 ? fidx_le32(v.b) : fidx_le64(v.b);
			int n = c->lf->unsign ? snprintf(num, sizeof num, "%llu", (unsigned long long)u)
			        : snprintf(num, sizeof num, "%lld", c->lf->type == T_INT32
			                   ? (long long)(int32_t)u : (long long)(int64_t)u);
			rc = keep(p, 0, num, (size_t)n, "id", &row->id, &row->id_len, err);
		} else {
			rc = keep(p, 0, v.s ? v.s : v.b, v.s ? v.len : (size_t)c->width, "id", &row->id,
			          &row->id_len, err);
		}
		if (rc)
			return rc;
	}
	if (p->text >= 0) {
		struct cur *c = &p->cur[i];
		if ((rc = must(p, c, &v, err)) != 0)
			return rc;
		if (v.def < (uint32_t)c->lf->max_def)
			v.len = 0; /* null: an empty text */
		else if (!v.s)
			v.len = (uint32_t)c->width;
		if ((rc = keep(p, 1, v.s ? v.s : v.b, v.len, "text", &row->text, &row->text_len, err)) != 0)
			return rc;
	}
	return 1;
}

static int parquet_next(void *state, struct fidx_rows *rows, struct fidx_err *err)
{
	struct parquet *p = state;
	return fidx_rowbuf_gather(&p->block, next_row, p, rows, err);
}

static void parquet_close(void *state)
{
	struct parquet *p = state;
	size_t i;
	if (!p)
		return;
	fidx_rowbuf_free(&p->block);
	for (i = 0; p->cur && i < p->ncur; i++) {
		free(p->cur[i].dict);
		free(p->cur[i].dict_at);
		free(p->cur[i].raw);
		free(p->cur[i].out);
		free(p->cur[i].str);
	}
	free(p->cur);
	for (i = 0; i < p->nelems; i++)
		free(p->elems[i].name);
	free(p->elems);
	free(p->leaves);
	for (i = 0; i < p->nrgs; i++)
		free(p->rgs[i].chunks);
	free(p->rgs);
	free(p->emb);
	free(p->vec);
	free(p->blk);
	free(p->spare);
	free(p->str[0]);
	free(p->str[1]);
	free(p);
}

static const char *parquet_note(void *state)
{
	struct parquet *p = state;
	return p->note[0] ? p->note : NULL;
}

/* A leaf's type as a reader of the file would name it. */
static const char *leaf_type(const struct leaf *l)
{
	static const char *const ints[] = {"UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64"};
	if (l->half)
		return "FLOAT16";
	if ((l->type == T_INT32 || l->type == T_INT64) && l->converted - 1 >= 11 && l->converted - 1 <= 18)
		return ints[l->converted - 1 - 11];
	return type_name(l->type);
}

static void parquet_describe(void *state, char *out, size_t cap)
{
	const struct parquet *p = state;
	size_t used = 0, i, j;
#define ADD(...) (used += used < cap ? (size_t)snprintf(out + used, cap - used, __VA_ARGS__) : 0)
	if (p->list) {
		ADD("embedding: list column \"%s\" of %s", p->leaves[p->emb[0]].name, leaf_type(&p->leaves[p->emb[0]]));
	} else {
		/* Each type once, with its count, and the names of the columns of
		 * a type few have (an integer column among floats stands out). */
		ADD("embedding: %zu column%s", p->nemb, p->nemb == 1 ? "" : "s");
		if (p->nemb > 1)
			ADD(", \"%s\" to \"%s\"", p->leaves[p->emb[0]].name, p->leaves[p->emb[p->nemb - 1]].name);
		ADD(" (");
		for (i = 0; i < p->nemb; i++) {
			const char *t = leaf_type(&p->leaves[p->emb[i]]);
			size_t n = 0, k;
			for (j = 0; j < i && strcmp(leaf_type(&p->leaves[p->emb[j]]), t); j++)
				;
			if (j < i)
				continue; /* counted already */
			for (j = i; j < p->nemb; j++)
				n += !strcmp(leaf_type(&p->leaves[p->emb[j]]), t);
			ADD("%s%zu %s", i ? ", " : "", n, t);
			if (n <= 3 && n < p->nemb)
				for (j = i, k = 0; j < p->nemb; j++)
					if (!strcmp(leaf_type(&p->leaves[p->emb[j]]), t))
						ADD("%s\"%s\"", k++ ? ", " : ": ", p->leaves[p->emb[j]].name);
		}
		ADD(")");
	}
	if (p->id >= 0)
		ADD("; id: column \"%s\" (%s)", p->leaves[p->id].name, leaf_type(&p->leaves[p->id]));
	else
		ADD("; no id column");
	if (p->text >= 0)
		ADD("; text: column \"%s\"", p->leaves[p->text].name);
	else
		ADD("; no text column");
#undef ADD
	if (used >= cap && cap > 4)
		strcpy(out + cap - 4, "...");
}

/* The row groups' sum, which the pages are held to as they are read. */
static uint64_t parquet_rows(void *state)
{
	const struct parquet *p = state;
	return p->rows > 0 ? (uint64_t)p->rows : 0;
}

static int parquet_magic(const unsigned char *b, size_t n)
{
	return n >= 4 && memcmp(b, "PAR1", 4) == 0;
}

const struct fidx_format fidx_format_parquet = {
	.name = "parquet", .title = "Parquet", .suffixes = (const char *const[]){".parquet", NULL},
	.magic = parquet_magic, .flags = FIDX_FORMAT_COLUMNS,
	.open = parquet_open, .next = parquet_next, .close = parquet_close, .note = parquet_note,
	.describe = parquet_describe, .rows = parquet_rows,
};
