/* A set of ids (byte strings), each with a 64-bit value: for detecting
 * duplicate ids and for finding an id's row. Open addressing, grows as
 * needed; the ids are copied into an arena the set owns. */
#ifndef FIDX_INDEX_IDSET_H
#define FIDX_INDEX_IDSET_H

#include <stddef.h>
#include <stdint.h>

struct fidx_idset;

struct fidx_idset *fidx_idset_new(void);
void fidx_idset_free(struct fidx_idset *s);

/* Inserts id with value. Returns 1 if it was new, 0 if it was already
 * there (then *prev, when not NULL, gets the stored value, and the stored
 * value is replaced by value when replace is set), -1 when out of memory. */
int fidx_idset_put(struct fidx_idset *s, const char *id, size_t len, uint64_t value, int replace,
                   uint64_t *prev);

/* Returns 1 and sets *value when id is in the set, else 0. */
int fidx_idset_get(const struct fidx_idset *s, const char *id, size_t len, uint64_t *value);

size_t fidx_idset_size(const struct fidx_idset *s);

#endif
