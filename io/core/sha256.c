#include "sha256.h"

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

void fidx_sha256_init(struct fidx_sha256 *s)
{
	sha256_init(&s->ctx);
}

void fidx_sha256_update(struct fidx_sha256 *s, const void *data, size_t n)
{
	sha256_update(&s->ctx, n, data);
}

void fidx_sha256_final(struct fidx_sha256 *s, unsigned char digest[32])
{
	sha256_digest(&s->ctx, SHA256_DIGEST_SIZE, digest);
}

void fidx_sha256_hex(const unsigned char digest[32], char hex[65])
{
	to_hex(digest, 32, hex);
}

void fidx_sha1_init(struct fidx_sha1 *s)
{
	sha1_init(&s->ctx);
}

void fidx_sha1_update(struct fidx_sha1 *s, const void *data, size_t n)
{
	sha1_update(&s->ctx, n, data);
}

void fidx_sha1_final(struct fidx_sha1 *s, unsigned char digest[20])
{
	sha1_digest(&s->ctx, SHA1_DIGEST_SIZE, digest);
}

void fidx_sha1_hex(const unsigned char digest[20], char hex[41])
{
	to_hex(digest, 20, hex);
}
