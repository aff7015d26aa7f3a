/* For tests: the rows of a reader one at a time, across its blocks. One
 * reader at a time (the state is this file's); close it with rowit_close. */
#ifndef FIDX_TESTS_ROWIT_H
#define FIDX_TESTS_ROWIT_H

#include <string.h>

#include "reader.h"

static struct {
	struct fidx_reader *r;
	struct fidx_rows b;
	size_t i;
} rowit;

static inline int rowit_next(struct fidx_reader *r, struct fidx_row *row, struct fidx_err *err)
{
	size_t i;
	if (rowit.r != r) {
		memset(&rowit, 0, sizeof rowit);
		rowit.r = r;
	}
	if (rowit.i >= rowit.b.n) {
		int rc = fidx_reader_next(r, &rowit.b, err);
		if (rc != 1)
			return rc;
		rowit.i = 0;
	}
	i = rowit.i++;
	memset(row, 0, sizeof *row);
	row->vec = rowit.b.vec + i * rowit.b.dim;
	row->dim = rowit.b.dim;
	row->where = rowit.b.where[i];
	if (rowit.b.id) {
		row->id = rowit.b.id[i];
		row->id_len = rowit.b.id_len[i];
	}
	if (rowit.b.text) {
		row->text = rowit.b.text[i];
		row->text_len = rowit.b.text_len[i];
	}
	return 1;
}

static inline void rowit_close(struct fidx_reader *r)
{
	memset(&rowit, 0, sizeof rowit);
	fidx_reader_close(r);
}

#endif
