/* SHA-256 and SHA-1 (FIPS 180-4), streaming, by nettle (which uses the x86
 * SHA extensions when the CPU has them). SHA-256: the digests of source
 * files recorded in an index, and the embedding cache's keys; SHA-1: git's
 * object ids, which the Hub names files by. The state is a plain struct:
 * copying it mid-stream forks the digest (the cache digests its prefix
 * once and copies it per text). */
#ifndef FIDX_IO_SHA256_H
#define FIDX_IO_SHA256_H

#include <stddef.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

struct fidx_sha256 {
	struct sha256_ctx ctx;
};

struct fidx_sha1 {
	struct sha1_ctx ctx;
};

void fidx_sha256_init(struct fidx_sha256 *s);
void fidx_sha256_update(struct fidx_sha256 *s, const void *data, size_t n);
/* Writes the digest; s must be initialized again before more use. */
void fidx_sha256_final(struct fidx_sha256 *s, unsigned char digest[32]);
/* Lowercase hex of a digest, NUL-terminated. */
void fidx_sha256_hex(const unsigned char digest[32], char hex[65]);

void fidx_sha1_init(struct fidx_sha1 *s);
void fidx_sha1_update(struct fidx_sha1 *s, const void *data, size_t n);
void fidx_sha1_final(struct fidx_sha1 *s, unsigned char digest[20]);
void fidx_sha1_hex(const unsigned char digest[20], char hex[41]);

#endif
