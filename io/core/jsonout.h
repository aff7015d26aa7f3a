/* Writing JSON string literals. */
#ifndef FIDX_IO_JSONOUT_H
#define FIDX_IO_JSONOUT_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..n) to f as a quoted JSON string: '"' and '\' escaped,
 * control characters as \uXXXX, and bytes that are not UTF-8 as U+FFFD, so
 * that any bytes give JSON every parser accepts. */
void fidx_json_put_string(FILE *f, const char *s, size_t n);

#endif
