/* Readers: rows of embeddings from files, one interface for every format.
 *
 * A format (struct fidx_format) is a reader plus what tells its files
 * apart: a name (for --format and messages), file name suffixes (a hint)
 * and a look at the first bytes (its magic). The registry, fidx_formats,
 * lists them; building, --help, --list-inputs and the error for a file
 * fidx cannot read all come from it. Formats fidx recognises but does not
 * read (Arrow, numpy .npz) are listed too, without a reader, so that such
 * a file gets a clear message.
 *
 * How a file's format is chosen, first match wins:
 *   1. the format asked for (o->format), if any;
 *   2. a magic in the first bytes (decoded: gzip and zstd are undone first):
 *      Parquet's "PAR1", numpy's "\x93NUMPY", FAISS's index tags,
 *      safetensors' header length (8 bytes, the top ones zero) then '{';
 *   3. the file name's suffix (before .gz or .zst): ".csv", ".parquet", ...;
 *   4. a format whose reader recognises the start of the text (JSON Lines:
 *      the first character that is not white space is '{');
 *   5. the last format of the registry with a reader that takes anything
 *      (CSV; TSV when the first line has tabs and no commas).
 * So a Parquet file named part-0, or a .npy file named x.bin, reads as what
 * it is.
 *
 * A reader yields blocks of rows: up to FIDX_ROWS_MAX rows of one
 * dimension, each with where it starts (the line of a text format, the row
 * number from 1 of a binary one) and, when the file has them, an id and a
 * text. It validates everything it reads: a malformed or hostile file is an
 * error naming the file, the line or row and the column, never a crash or
 * an unbounded allocation. Values are returned as written (not
 * normalized).
 */
#ifndef FIDX_IO_READER_H
#define FIDX_IO_READER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

/* The settings of a read. Column names apply to formats with named
 * columns (CSV/TSV, JSON Lines, Parquet); header to CSV/TSV. */
enum fidx_header_mode { FIDX_HEADER_AUTO = -1, FIDX_HEADER_NO = 0, FIDX_HEADER_YES = 1 };
struct fidx_format;
struct fidx_reader_opts {
	const char *id_column;        /* the ids' column, or NULL */
	const char *text_column;      /* the texts' column, or NULL */
	const char *embedding_column; /* the embedding's column (a list), or NULL */
	int header;                   /* enum fidx_header_mode */
	const struct fidx_format *format; /* NULL: chosen as above */
	const struct fidx_format *const *formats; /* the registry; NULL: fidx_formats */
};

/* A block of rows, valid until the next call of the reader. */
#define FIDX_ROWS_MAX 256
struct fidx_rows {
	size_t n;             /* rows, 1 .. FIDX_ROWS_MAX */
	size_t dim;           /* values per row, the same for every block */
	const float *vec;     /* n * dim values, row-major, as written */
	const uint64_t *where; /* per row: its line, or its row number from 1 */
	/* Per row, when the file has ids (texts); else NULL. */
	const char *const *id;
	const size_t *id_len;
	const char *const *text;
	const size_t *text_len;
};

struct fidx_format {
	const char *name;             /* "csv", "parquet": for --format */
	const char *title;            /* "CSV", "Parquet": for messages */
	const char *const *suffixes;  /* NULL-terminated; the first is shown in lists */
	/* 1 when the first bytes b[0..n) carry the format's magic; NULL for
	 * formats without one. n is at least FIDX_SNIFF_BYTES unless the file
	 * is shorter. */
	int (*magic)(const unsigned char *b, size_t n);
	/* 1 when the start of a file without a magic or known suffix looks
	 * like this format (step 4 above); NULL: never. */
	int (*looks_like)(const unsigned char *b, size_t n);
	unsigned flags;               /* FIDX_FORMAT_* */
	/* The reader; NULL for a format fidx knows and does not read. open
	 * borrows src (the caller closes it after the reader), fills *state. */
	int (*open)(void **state, struct fidx_source *src, const struct fidx_reader_opts *o,
	            struct fidx_err *err);
	/* 1 and a block, 0 after the last row, or a negative fidx_code. */
	int (*next)(void *state, struct fidx_rows *rows, struct fidx_err *err);
	void (*close)(void *state);
	/* What the reader accepted although it is not quite right (Parquet: a
	 * footer's row count of 0, as parquet-rs 0.3 wrote), one line for the
	 * caller to tell, or NULL. NULL: never anything. */
	const char *(*note)(void *state);
	/* What an opened reader chose, into out (cap bytes, terminated): the
	 * columns or the array its rows come from and how their values are
	 * stored, e.g. "embedding: list column \"emb\" of FLOAT16". NULL:
	 * nothing to add to the format's title. */
	void (*describe)(void *state, char *out, size_t cap);
	/* The rows an opened reader will give, as its file's header states
	 * them and the reader holds it to (a short file is an error), or 0
	 * when not known ahead. NULL: never known. */
	uint64_t (*rows)(void *state);
};
#define FIDX_FORMAT_COLUMNS 1u  /* has named columns (--id-column and the others) */
#define FIDX_FORMAT_FALLBACK 2u /* takes a file nothing else claims (step 5) */
#define FIDX_FORMAT_TENSORS 4u  /* named arrays: --embedding-column names one; no ids or texts */
#define FIDX_FORMAT_LINES 8u    /* text: struct fidx_rows' where are lines, not row numbers */
#define FIDX_SNIFF_BYTES 512

/* The registry: every format, NULL-terminated, in the order lists show
 * them and formats are tried at each step. */
extern const struct fidx_format *const fidx_formats[];

/* The format named name (NULL: fidx_formats), or NULL. */
const struct fidx_format *fidx_format_find(const struct fidx_format *const *formats, const char *name);
/* The format path's name says, by its suffix (before .gz or .zst), or NULL. */
const struct fidx_format *fidx_format_by_name(const struct fidx_format *const *formats, const char *path);
/* Whether f has a reader. */
int fidx_format_readable(const struct fidx_format *f);
/* Lists, for messages and help, into out (cap bytes, always terminated):
 * the main suffixes of the formats with a reader (".csv, .tsv ... and
 * .parquet"), or with names set their names ("csv, tsv, ... or parquet"). */
void fidx_formats_list(const struct fidx_format *const *formats, int names, char *out, size_t cap);
/* The message for a file whose format fidx does not read:
 * "<name>: <title> files are not supported (fidx reads ...)". */
int fidx_format_refuse(const struct fidx_format *const *formats, const char *name, const char *title,
                       struct fidx_err *err);

/* Chooses the format of src (steps 1 to 5) by looking at its first bytes.
 * A format without a reader is FIDX_EINPUT (fidx_format_refuse). */
int fidx_format_detect(struct fidx_source *src, const struct fidx_reader_opts *o,
                       const struct fidx_format **out, struct fidx_err *err);

/* ---- reading ---- */

struct fidx_reader;

/* Opens path ("-": standard input) and chooses its format. */
int fidx_reader_open(struct fidx_reader **r, const char *path, const struct fidx_reader_opts *o,
                     struct fidx_err *err);
/* The same over an opened source, which the reader then owns. */
int fidx_reader_open_source(struct fidx_reader **r, struct fidx_source *src,
                            const struct fidx_reader_opts *o, struct fidx_err *err);
/* 1 and the next block, 0 at the end, or a negative fidx_code. */
int fidx_reader_next(struct fidx_reader *r, struct fidx_rows *rows, struct fidx_err *err);
const struct fidx_format *fidx_reader_format(const struct fidx_reader *r);
/* The format's note on this file (see struct fidx_format), or NULL. */
const char *fidx_reader_note(const struct fidx_reader *r);
/* The rows the reader will give, known from the file's header, or 0 (see
 * struct fidx_format). */
uint64_t fidx_reader_rows(const struct fidx_reader *r);
/* What the reader reads, for -v: its format's title, then, when the format
 * says, the columns or array chosen and their types ("Parquet: embedding:
 * 384 columns \"0\" to \"383\" (384 FLOAT); id: column \"id\" (INT64)"),
 * into out (cap bytes, always terminated). */
void fidx_reader_describe(const struct fidx_reader *r, char *out, size_t cap);
/* The source: its name, stored size and digest. */
struct fidx_source *fidx_reader_source(struct fidx_reader *r);
void fidx_reader_close(struct fidx_reader *r);

/* ---- for readers that find rows one at a time ---- */

/* One row, valid until the reader's next call. */
struct fidx_row {
	const float *vec;
	size_t dim;
	const char *id, *text; /* NULL when the file has none */
	size_t id_len, text_len;
	uint64_t where;        /* its line, or its row number from 1 */
};

/* Where such readers gather their rows into blocks (ids and texts are
 * copied). Zero-initialize; free with fidx_rowbuf_free. */
struct fidx_rowbuf {
	size_t n, dim, cap;
	float *vec;
	uint64_t where[FIDX_ROWS_MAX];
	char *bytes; /* ids and texts, back to back */
	size_t bytes_len, bytes_cap;
	size_t id_off[FIDX_ROWS_MAX], text_off[FIDX_ROWS_MAX];
	const char *id[FIDX_ROWS_MAX], *text[FIDX_ROWS_MAX];
	size_t id_len[FIDX_ROWS_MAX], text_len[FIDX_ROWS_MAX];
	int has_id, has_text;
	int failed;           /* an error met after some rows, for the next call */
	struct fidx_err pending;
};

/* A whole next() of such a reader: calls next_row(state, ...) until a
 * block is full or the rows end, and hands the block over. An error after
 * some rows of a block is kept for the next call, so that every row before
 * a bad one is read. */
int fidx_rowbuf_gather(struct fidx_rowbuf *b, int (*next_row)(void *, struct fidx_row *, struct fidx_err *),
                       void *state, struct fidx_rows *rows, struct fidx_err *err);
void fidx_rowbuf_free(struct fidx_rowbuf *b);

#endif
