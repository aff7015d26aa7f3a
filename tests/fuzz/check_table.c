#include "check_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "source.h"

static void check_error(int rc, const struct fidx_err *err)
{
	if (err->code != rc || !err->msg[0] || (rc != FIDX_EINPUT && rc != FIDX_ENOMEM))
		abort();
}

void fuzz_check_table(const char *name, const struct fidx_reader_opts *o, const uint8_t *data,
                      size_t size)
{
	struct fidx_source *src;
	struct fidx_reader *t;
	struct fidx_rows rows;
	struct fidx_err err;
	size_t dim = 0, i, r;
	uint64_t prev = 0;
	int rc;

	memset(&err, 0, sizeof err);
	if (fidx_source_open_mem(&src, name, data, size, &err) != 0)
		return;
	if ((rc = fidx_reader_open_source(&t, src, o, &err)) != 0) {
		check_error(rc, &err);
		return;
	}
	while ((rc = fidx_reader_next(t, &rows, &err)) == 1) {
		if (!rows.n || rows.n > FIDX_ROWS_MAX || !rows.dim || rows.dim > (1u << 20) || (dim && rows.dim != dim))
			abort();
		dim = rows.dim;
		for (r = 0; r < rows.n; r++) {
			if (rows.where[r] <= prev)
				abort();
			prev = rows.where[r];
			for (i = 0; i < rows.dim; i++)
				if (!isfinite(rows.vec[r * rows.dim + i]))
					abort();
			if ((rows.id && strlen(rows.id[r]) != rows.id_len[r]) ||
			    (rows.text && strlen(rows.text[r]) != rows.text_len[r]))
				abort();
		}
	}
	if (rc < 0)
		check_error(rc, &err);
	fidx_reader_close(t);
}
