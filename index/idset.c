#include "idset.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t hash; /* 0: empty */
	uint64_t off;  /* in the arena */
	uint64_t value;
	uint32_t len;
};

struct fidx_idset {
	struct slot *t;
	size_t cap, n; /* cap is a power of two */
	char *arena;
	size_t used, room;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * UINT64_C(0x100000001b3);
	h ^= h >> 29;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 32;
	return h ? h : 1;
}

struct fidx_idset *fidx_idset_new(void)
{
	struct fidx_idset *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cap = 64;
	s->t = calloc(s->cap, sizeof *s->t);
	if (!s->t) {
		free(s);
		return NULL;
	}
	return s;
}

void fidx_idset_free(struct fidx_idset *s)
{
	if (!s)
		return;
	free(s->t);
	free(s->arena);
	free(s);
}

size_t fidx_idset_size(const struct fidx_idset *s)
{
	return s->n;
}

static struct slot *find(const struct fidx_idset *s, uint64_t h, const char *id, size_t len)
{
	size_t i = (size_t)h & (s->cap - 1);
	for (;; i = (i + 1) & (s->cap - 1)) {
		struct slot *e = &s->t[i];
		if (!e->hash || (e->hash == h && e->len == len && memcmp(s->arena + e->off, id, len) == 0))
			return e;
	}
}

static int grow(struct fidx_idset *s)
{
	struct slot *old = s->t;
	size_t oldcap = s->cap, i;
	struct slot *nt = calloc(oldcap * 2, sizeof *nt);
	if (!nt)
		return -1;
	s->t = nt;
	s->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++) {
		if (old[i].hash) {
			size_t j = (size_t)old[i].hash & (s->cap - 1);
			while (s->t[j].hash)
				j = (j + 1) & (s->cap - 1);
			s->t[j] = old[i];
		}
	}
	free(old);
	return 0;
}

int fidx_idset_put(struct fidx_idset *s, const char *id, size_t len, uint64_t value, int replace,
                   uint64_t *prev)
{
	uint64_t h = hash_bytes(id, len);
	struct slot *e;

	if (len > UINT32_MAX)
		return -1;
	e = find(s, h, id, len);
	if (e->hash) {
		if (prev)
			*prev = e->value;
		if (replace)
			e->value = value;
		return 0;
	}
	if (s->used + len > s->room) {
		size_t room = s->room ? s->room * 2 : 4096;
		char *na;
		while (room < s->used + len)
			room *= 2;
		na = realloc(s->arena, room);
		if (!na)
			return -1;
		s->arena = na;
		s->room = room;
	}
	if ((s->n + 1) * 4 > s->cap * 3) {
		if (grow(s))
			return -1;
		e = find(s, h, id, len);
	}
	memcpy(s->arena + s->used, id, len);
	e->hash = h;
	e->off = s->used;
	e->len = (uint32_t)len;
	e->value = value;
	s->used += len;
	s->n++;
	return 1;
}

int fidx_idset_get(const struct fidx_idset *s, const char *id, size_t len, uint64_t *value)
{
	const struct slot *e = find(s, hash_bytes(id, len), id, len);
	if (!e->hash)
		return 0;
	*value = e->value;
	return 1;
}
