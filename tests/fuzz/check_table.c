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

void fuzz_check_table(const char *name, const struct fidx_table_opts *o, const uint8_t *data,
                      size_t size)
{
	struct fidx_source *src;
	struct fidx_table *t;
	struct fidx_row row;
	struct fidx_err err;
	size_t dim = 0, i;
	uint64_t prev = 0;
	int rc;

	memset(&err, 0, sizeof err);
	if (fidx_source_open_mem(&src, name, data, size, &err) != 0)
		return;
	if ((rc = fidx_table_open_source(&t, src, o, &err)) != 0) {
		check_error(rc, &err);
		return;
	}
	while ((rc = fidx_table_next(t, &row, &err)) == 1) {
		if (!row.dim || row.dim > (1u << 20) || (dim && row.dim != dim) || row.line <= prev)
			abort();
		dim = row.dim;
		prev = row.line;
		for (i = 0; i < row.dim; i++)
			if (!isfinite(row.vec[i]))
				abort();
		if ((row.id && strlen(row.id) != row.id_len) || (row.text && strlen(row.text) != row.text_len))
			abort();
	}
	if (rc < 0)
		check_error(rc, &err);
	fidx_table_close(t);
}
