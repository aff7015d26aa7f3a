/* Progress of a long job (a build, a merge), for a display. */
#ifndef FIDX_IO_PROGRESS_H
#define FIDX_IO_PROGRESS_H

#include <stdint.h>

/* fn, when set, is called every few thousand rows with the rows done so
 * far and the fraction of the work done (0..1), or -1 when unknown. */
struct fidx_progress {
	void (*fn)(void *ctx, uint64_t rows, double fraction);
	void *ctx;
};

#define FIDX_PROGRESS_EVERY 8192

#endif
