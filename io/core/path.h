/* File names. (Which format a file holds is io/readers/reader.h's.) */
#ifndef FIDX_IO_PATH_H
#define FIDX_IO_PATH_H

/* Whether s ends with suffix. */
int fidx_has_suffix(const char *s, const char *suffix);

/* a + "/" + b (a's own final slash not doubled), as a new string, or NULL
 * when out of memory. */
char *fidx_path_join(const char *a, const char *b);

#endif
