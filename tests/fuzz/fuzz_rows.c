/* libFuzzer target for the row readers beside CSV, through io/table.h over
 * an in-memory source (plain, gzip or zstd): numpy .npy, JSON Lines and
 * FAISS flat index files (io/npy.c, io/jsonl.c).
 *
 * Input layout: byte 0 picks the format by its low two bits (0 .npy,
 * 1 .jsonl, 2 .faiss, 3 .jsonl with id/text/embedding column names); the
 * rest is the file. Invariants: an error carries its code (FIDX_EINPUT or
 * FIDX_ENOMEM) and a message; rows have one dimension for the whole file,
 * in 1..2^20, finite values, and increasing line (row) numbers; an id or a
 * text, when there is one, is as long as it says. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "source.h"
#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"fuzz.npy", "fuzz.jsonl", "fuzz.faiss", "fuzz.jsonl"};
	struct fidx_table_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, 0};
	struct fidx_source *src;
	struct fidx_table *t;
	struct fidx_row row;
	struct fidx_err err;
	size_t dim = 0, i;
	uint64_t prev = 0;
	int kind, rc;

	if (size < 1)
		return 0;
	kind = data[0] & 3;
	if (kind == 3) {
		o.id_column = "key";
		o.text_column = "body";
		o.embedding_column = "v";
	}
	memset(&err, 0, sizeof err);
	if (fidx_source_open_mem(&src, names[kind], data + 1, size - 1, &err) != 0)
		return 0;
	if ((rc = fidx_table_open_source(&t, src, &o, &err)) != 0) {
		if (err.code != rc || !err.msg[0] || (rc != FIDX_EINPUT && rc != FIDX_ENOMEM))
			abort();
		return 0;
	}
	while ((rc = fidx_table_next(t, &row, &err)) == 1) {
		if (!row.dim || row.dim > (1u << 20) || (dim && row.dim != dim) || row.line <= prev)
			abort();
		dim = row.dim;
		prev = row.line;
		for (i = 0; i < row.dim; i++)
			if (!isfinite(row.vec[i]))
				abort();
		if ((row.id && memchr(row.id, '\0', row.id_len)) || (row.text && strlen(row.text) < row.text_len))
			abort();
	}
	if (rc < 0 && (err.code != rc || !err.msg[0] || (rc != FIDX_EINPUT && rc != FIDX_ENOMEM)))
		abort();
	fidx_table_close(t);
	return 0;
}
