/* File names. (Which format a file holds is io/readers/reader.h's.) */
#ifndef FIDX_IO_PATH_H
#define FIDX_IO_PATH_H

/* Whether s ends with suffix. */
int fidx_has_suffix(const char *s, const char *suffix);

#endif
