/* The offline lexical embedder, "fidx-hash-v1".
 *
 * 1. Bytes A-Z are lower-cased; bytes >= 0x80 (UTF-8) are kept as they are.
 * 2. Words are maximal runs of [a-z0-9] and bytes >= 0x80.
 * 3. Features of each word w: the word itself (weight 1), and the byte
 *    3-grams and 4-grams of "<w>" (weight 0.25 each), so that "premium"
 *    and "premiums" share most of their features.
 * 4. A feature's hash is 64-bit FNV-1a over a kind byte and its bytes,
 *    finished with the splitmix64 mixer; it lands in slot hash % dim with
 *    the sign of the hash's top bit (signed feature hashing).
 * 5. A feature seen c times adds sign * weight * (1 + ln c) (sublinear term
 *    frequency; c is capped at 32).
 * 6. The vector is L2-normalized.
 * The arithmetic is in double with a fixed order and no libm calls but
 * sqrt, so every IEEE machine gives the same bits.
 */
#include "embed.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 1 + ln(c) for c = 1..32. */
static const double sublinear[32] = {
	1.0, 1.6931471805599454, 2.09861228866811, 2.386294361119891,
	2.6094379124341005, 2.791759469228055, 2.9459101490553135, 3.0794415416798357,
	3.1972245773362196, 3.302585092994046, 3.3978952727983707, 3.4849066497880004,
	3.5649493574615367, 3.6390573296152584, 3.70805020110221, 3.772588722239781,
	3.833213344056216, 3.8903717578961645, 3.9444389791664403, 3.995732273553991,
	4.044522437723423, 4.091042453358316, 4.13549421592915, 4.178053830347945,
	4.218875824868201, 4.258096538021482, 4.295836866004329, 4.332204510175204,
	4.367295829986475, 4.401197381662156, 4.433987204485146, 4.465735902799727,
};

enum { KIND_WORD = 'w', KIND_GRAM = 'g' };
#define WORD_WEIGHT 1.0
#define GRAM_WEIGHT 0.25
#define MAX_WORD 64 /* longer words are hashed whole, n-grams of the first 64 bytes */

struct feature {
	uint64_t hash;
	double weight;
};

struct bag {
	struct feature *f;
	size_t n, cap;
};

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t feature_hash(int kind, const unsigned char *p, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i;
	h = (h ^ (unsigned char)kind) * UINT64_C(0x100000001b3);
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return mix(h);
}

static int add(struct bag *b, uint64_t hash, double weight)
{
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct feature *nf = realloc(b->f, ncap * sizeof *nf);
		if (!nf)
			return -1;
		b->f = nf;
		b->cap = ncap;
	}
	b->f[b->n].hash = hash;
	b->f[b->n].weight = weight;
	b->n++;
	return 0;
}

static int cmp_feature(const void *a, const void *b)
{
	const struct feature *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return 0;
}

static int is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

long fidx_hash_embed(const char *text, size_t len, size_t dim, float *out)
{
	struct bag b = {0};
	unsigned char word[MAX_WORD + 2];
	double *acc, norm = 0;
	size_t i = 0, k;
	long features = 0;

	memset(out, 0, dim * sizeof *out);
	if (!dim)
		return 0;
	while (i < len) {
		size_t wl, n, g;
		unsigned char c = (unsigned char)text[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		if (!is_word_byte(c)) {
			i++;
			continue;
		}
		word[0] = '<';
		wl = 0;
		uint64_t h = UINT64_C(0xcbf29ce484222325);
		h = (h ^ (unsigned char)KIND_WORD) * UINT64_C(0x100000001b3);
		for (; i < len; i++) {
			c = (unsigned char)text[i];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
			if (!is_word_byte(c))
				break;
			h = (h ^ c) * UINT64_C(0x100000001b3);
			if (wl < MAX_WORD)
				word[1 + wl++] = c;
		}
		if (add(&b, mix(h), WORD_WEIGHT))
			goto oom;
		word[1 + wl] = '>';
		n = wl + 2;
		for (g = 3; g <= 4; g++)
			for (k = 0; k + g <= n; k++)
				if (add(&b, feature_hash(KIND_GRAM, word + k, g), GRAM_WEIGHT))
					goto oom;
	}
	if (!b.n) {
		free(b.f);
		return 0;
	}
	/* Count equal features (same hash, same weight by construction). */
	qsort(b.f, b.n, sizeof *b.f, cmp_feature);
	acc = calloc(dim, sizeof *acc);
	if (!acc)
		goto oom;
	for (i = 0; i < b.n; i = k) {
		size_t c;
		double v;
		for (k = i + 1; k < b.n && b.f[k].hash == b.f[i].hash; k++)
			;
		c = k - i;
		v = b.f[i].weight * sublinear[(c > 32 ? 32 : c) - 1];
		acc[b.f[i].hash % dim] += (b.f[i].hash >> 63) ? -v : v;
		features++;
	}
	for (i = 0; i < dim; i++)
		norm += acc[i] * acc[i];
	norm = sqrt(norm);
	if (norm > 0)
		for (i = 0; i < dim; i++)
			out[i] = (float)(acc[i] / norm);
	else
		features = 0;
	free(acc);
	free(b.f);
	return features;
oom:
	free(b.f);
	return -1;
}
