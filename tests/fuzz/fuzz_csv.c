/* libFuzzer target for the CSV reader (io/readers/csv.c) and the CSV rows reader
 * on top of it (io/readers/csvrows.c, with its fast path for plain numeric rows), over
 * an in-memory source (io/core/source.c: plain or gzip).
 *
 * Input layout: byte 0 picks the delimiter (odd: tab, even: comma; so a
 * seed can start with a literal ',' or '\t'), byte 1 picks the column
 * options of a second table pass (see named_opts: '0' none, '1' id, '2'
 * embedding, '3' both, '4' id and text, ...) and, with bit 6 ('@' to
 * 'G'), has pass 1 run again with the file across two reads of the
 * source; the rest is the file. For example ",0" "0,1\n0.5,1e-3\n".
 *
 * Passes:
 *   1. fidx_csv_next over every record (and, with bit 6 of byte 1, again
 *      with the file across two reads of the source);
 *   2. fidx_reader_next with default options (header guessed), its rows
 *      checked against a second, independent reading with fidx_csv_next
 *      and fidx_parse_float (so the fast path must agree with the general
 *      one), and every value against strtof (fields longer than the
 *      number target's inputs get there through gzip), unless the header
 *      is pandas' numbering beside "id" and "text" columns, which the
 *      reader then takes as ids and texts;
 *   3. fidx_reader_next with id/text/embedding column names, when byte 1
 *      asks for them.
 * Invariants: an error return carries its code and a non-empty message;
 * records have at least one NUL-terminated field; rows have dim > 0, one
 * dimension for the whole table, finite values and increasing lines.
 * Rejected input is fine; only a broken invariant aborts. */
#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"
#include "number.h"
#include "source.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SOURCE_CHUNK (256u << 10) /* io/core/source.c: RAW_CAP */

static void check_error(int rc, const struct fidx_err *err)
{
	if (rc >= 0 || err->code != rc || !memchr(err->msg, '\0', sizeof err->msg) || !err->msg[0])
		abort();
	if (rc != FIDX_EINPUT && rc != FIDX_ENOMEM)
		abort();
}

static uint32_t bits(float v)
{
	uint32_t b;
	memcpy(&b, &v, sizeof b);
	return b;
}

static void check_record(const struct fidx_csv_record *r, char delim, uint64_t prev_line)
{
	size_t i;
	if (r->n < 1 || !r->f || r->line <= prev_line)
		abort();
	for (i = 0; i < r->n; i++) {
		const struct fidx_csv_field *f = &r->f[i];
		if (!f->p || f->p[f->len] != '\0' || (f->quoted != 0 && f->quoted != 1) ||
		    memchr(f->p, '\0', f->len))
			abort();
		if (!f->quoted && (memchr(f->p, delim, f->len) || memchr(f->p, '\n', f->len) ||
		                   memchr(f->p, '\r', f->len) || memchr(f->p, '"', f->len)))
			abort();
	}
}

static void csv_pass(const uint8_t *data, size_t size, char delim)
{
	struct fidx_err err;
	struct fidx_source *src = NULL;
	struct fidx_csv *csv = NULL;
	struct fidx_csv_record r;
	uint64_t prev = 0;
	int rc;

	memset(&err, 0, sizeof err);
	if ((rc = fidx_source_open_mem(&src, "fuzz.csv", data, size, &err)) != 0) {
		check_error(rc, &err);
		return;
	}
	if ((rc = fidx_csv_open(&csv, src, delim, &err)) != 0) {
		check_error(rc, &err);
		fidx_source_close(src);
		return;
	}
	while ((rc = fidx_csv_next(csv, &r, &err)) == 1) {
		check_record(&r, delim, prev);
		prev = r.line;
	}
	if (rc != 0)
		check_error(rc, &err);
	fidx_csv_close(csv);
	fidx_source_close(src);
}

/* The reference reading of pass 2: its own CSV reader over the same bytes. */
struct ref {
	struct fidx_source *src;
	struct fidx_csv *csv;
	int skipped; /* the header, once */
};

/* The reference's next data record, or 0 at its end (or on an error). */
static int ref_next(struct ref *rf, struct fidx_csv_record *r, uint64_t want_line)
{
	struct fidx_err err;
	for (;;) {
		int rc = fidx_csv_next(rf->csv, r, &err);
		if (rc != 1)
			return 0;
		/* The first record is a header when the table skipped it. */
		if (!rf->skipped && r->line < want_line) {
			rf->skipped = 1;
			continue;
		}
		rf->skipped = 1;
		return 1;
	}
}

/* strtof in the C locale (fields are NUL-terminated). */
static float c_strtof(const char *s)
{
	static locale_t c_locale;
	locale_t old;
	float v;

	if (!c_locale && !(c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0)))
		abort();
	old = uselocale(c_locale);
	v = strtof(s, NULL);
	uselocale(old);
	return v;
}

static void check_row_against(struct ref *rf, const float *vec, size_t dim, uint64_t line)
{
	struct fidx_csv_record r;
	size_t i;

	if (!ref_next(rf, &r, line) || r.line != line || r.n != dim)
		abort();
	for (i = 0; i < r.n; i++) {
		float v;
		if (fidx_parse_float(r.f[i].p, r.f[i].len, &v) != FIDX_NUM_OK ||
		    bits(v) != bits(vec[i]) || bits(v) != bits(c_strtof(r.f[i].p)))
			abort();
	}
}

static void table_pass(const uint8_t *data, size_t size, const struct fidx_reader_opts *o, char delim,
                       int reference)
{
	struct fidx_err err;
	struct fidx_source *src = NULL;
	struct fidx_reader *t = NULL;
	struct fidx_rows block;
	struct ref rf;
	uint64_t prev = 0, rows = 0;
	size_t dim = 0, i, b;
	int rc;

	memset(&err, 0, sizeof err);
	memset(&rf, 0, sizeof rf);
	if ((rc = fidx_source_open_mem(&src, "fuzz.csv", data, size, &err)) != 0) {
		check_error(rc, &err);
		return;
	}
	/* Owns src from here on, whatever it returns. */
	if ((rc = fidx_reader_open_source(&t, src, o, &err)) != 0) {
		check_error(rc, &err);
		return;
	}
	if (reference) {
		struct fidx_err rerr;
		if (fidx_source_open_mem(&rf.src, "ref.csv", data, size, &rerr) != 0 ||
		    fidx_csv_open(&rf.csv, rf.src, delim, &rerr) != 0)
			reference = 0;
	}
	while ((rc = fidx_reader_next(t, &block, &err)) == 1) {
		if (!block.vec || block.n == 0 || block.n > FIDX_ROWS_MAX || block.dim == 0 || (dim && block.dim != dim))
			abort();
		dim = block.dim;
		if (!o->id_column && !o->text_column && !o->embedding_column) {
			/* ids and texts of a numbered header's "id" and "text" columns:
			 * the reference reads every column as a number, so it stops */
			if (block.id || block.text)
				reference = 0;
		} else if (!o->id_column != !block.id || !o->text_column != !block.text) {
			abort();
		}
		for (b = 0; b < block.n; b++) {
			const float *vec = block.vec + b * block.dim;
			if (block.where[b] <= prev)
				abort();
			prev = block.where[b];
			for (i = 0; i < block.dim; i++)
				if (!isfinite(vec[i]))
					abort();
			if ((block.id && block.id[b][block.id_len[b]] != '\0') ||
			    (block.text && block.text[b][block.text_len[b]] != '\0'))
				abort();
			if (reference)
				check_row_against(&rf, vec, block.dim, block.where[b]);
			rows++;
		}
	}
	if (rc != 0) {
		check_error(rc, &err);
	} else if (reference) {
		/* The table's end is the reference's end (after a lone header). */
		struct fidx_csv_record r;
		if (ref_next(&rf, &r, rows ? UINT64_MAX : 0) && (rows || ref_next(&rf, &r, 0)))
			abort();
	}
	fidx_csv_close(rf.csv);
	fidx_source_close(rf.src);
	fidx_reader_close(t);
}

/* Column options for pass 3, from byte 1: bits 0-2 the names (0: no
 * pass), bits 3-4 the header mode (0: yes, 1: no, else guessed). */
static int named_opts(unsigned char sel, char delim, struct fidx_reader_opts *o)
{
	static const char *const names[8][3] = {
		/* id, text, embedding */
		{NULL, NULL, NULL},
		{"id", NULL, NULL},
		{NULL, NULL, "embedding"},
		{"id", NULL, "embedding"},
		{"id", "text", NULL},
		{"id", "text", "embedding"},
		{"", NULL, NULL},
		{NULL, "text", NULL},
	};
	/* '0'..'7' (0x30..0x37) guess the header, as the defaults do. */
	static const int modes[4] = {FIDX_HEADER_YES, FIDX_HEADER_NO, FIDX_HEADER_AUTO, FIDX_HEADER_AUTO};

	memset(o, 0, sizeof *o);
	o->format = fidx_format_find(NULL, delim == '\t' ? "tsv" : "csv");
	o->id_column = names[sel & 7][0];
	o->text_column = names[sel & 7][1];
	o->embedding_column = names[sel & 7][2];
	o->header = modes[(sel >> 3) & 3];
	return (sel & 7) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char delim = size > 0 && (data[0] & 1) ? '\t' : ',';
	unsigned char sel = size > 1 ? data[1] : 0;
	struct fidx_reader_opts o;
	const uint8_t *body = data + (size < 2 ? size : 2);
	size_t n = size < 2 ? 0 : size - 2;

	csv_pass(body, n, delim);

	/* Small inputs arrive in one read. With bit 6 of byte 1, pass 1 runs
	 * again with a long quoted record in front, so that the first read
	 * (io/core/source.c hands memory out SOURCE_CHUNK bytes at a time) ends
	 * 1 + (byte 0 >> 1) bytes into the file: its records then straddle two
	 * reads. (Blank lines would keep the table's view of the file, but cost
	 * a hundred times more.) */
	if (sel & 0x40) {
		size_t fill = SOURCE_CHUNK - 1 - (size_t)(data[0] >> 1);
		uint8_t *shifted = malloc(fill + n);
		if (shifted) {
			shifted[0] = '"';
			memset(shifted + 1, 'x', fill - 3);
			memcpy(shifted + fill - 2, "\"\n", 2);
			memcpy(shifted + fill, body, n);
			csv_pass(shifted, fill + n, delim);
			free(shifted);
		}
	}

	memset(&o, 0, sizeof o);
	o.header = FIDX_HEADER_AUTO;
	o.format = fidx_format_find(NULL, delim == '\t' ? "tsv" : "csv");
	table_pass(body, n, &o, delim, 1);

	if (named_opts(sel, delim, &o))
		table_pass(body, n, &o, delim, 0);
	return 0;
}
