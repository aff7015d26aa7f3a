/* Texts, one per item: a plain text file with one text per line (\n or
 * \r\n line ends), or a CSV/TSV file (by name: .csv, .tsv, .tab, possibly
 * .gz) from which one named column is taken. A file named as another
 * format's (.parquet, .npy, ...) is refused. Standard input is "-" (plain
 * lines). */
#ifndef FIDX_IO_TEXTS_H
#define FIDX_IO_TEXTS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

struct fidx_texts;

/* column: the CSV column to read (NULL: "text"); ignored for plain files. */
int fidx_texts_open(struct fidx_texts **t, const char *path, const char *column,
                    struct fidx_err *err);

/* Returns 1 with the next text (valid until the next call, NUL-terminated)
 * and the line it starts on, 0 at the end, or a negative fidx_code. */
int fidx_texts_next(struct fidx_texts *t, const char **p, size_t *len, uint64_t *line,
                    struct fidx_err *err);

struct fidx_source *fidx_texts_source(struct fidx_texts *t);
void fidx_texts_close(struct fidx_texts *t);

#endif
