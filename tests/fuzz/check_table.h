/* The checks the row-reader fuzz targets share: open data[0..size) (its
 * name a hint to the format) with options o, read every block of rows and
 * abort() on a broken
 * invariant. An error must carry its code (FIDX_EINPUT or FIDX_ENOMEM) and
 * a message; rows have one dimension for the whole file, in 1..2^20,
 * finite values and increasing row numbers; an id or a text, when there is
 * one, ends in a NUL just after its length and holds none before. */
#ifndef FIDX_FUZZ_CHECK_TABLE_H
#define FIDX_FUZZ_CHECK_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

void fuzz_check_table(const char *name, const struct fidx_reader_opts *o, const uint8_t *data,
                      size_t size);

#endif
