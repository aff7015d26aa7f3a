/* SHA-256 (FIPS 180-4), streaming. Used for the digests of source files
 * recorded in an index. */
#ifndef FIDX_IO_SHA256_H
#define FIDX_IO_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct fidx_sha256 {
	uint32_t h[8];
	uint64_t total;
	unsigned char block[64];
	size_t fill;
};

void fidx_sha256_init(struct fidx_sha256 *s);
void fidx_sha256_update(struct fidx_sha256 *s, const void *data, size_t n);
void fidx_sha256_final(struct fidx_sha256 *s, unsigned char digest[32]);
/* Lowercase hex of a digest, NUL-terminated. */
void fidx_sha256_hex(const unsigned char digest[32], char hex[65]);

#endif
