/* Publishing an output file atomically.
 *
 * Only one fidx writes a given target at a time: fidx_outfile_open takes an
 * exclusive lock (flock) on ".<target name>.lock" next to it, held until
 * commit or abort and released by the kernel if the process dies, so a
 * killed run never blocks the next one. The lock file stays (removing it
 * would race with a waiting writer). With the lock held, temporary files
 * of that target left by killed runs are removed.
 *
 * fidx_outfile_open creates a temporary file next to the target (same
 * folder, so the final rename stays on one file system); the caller writes
 * it through the descriptor; fidx_outfile_commit fsyncs it, renames it over
 * the target and fsyncs the folder. Until the rename the target is never
 * touched, so a failed, interrupted or killed run leaves the previous file
 * as it was. fidx_outfile_abort removes the temporary file.
 *
 * Temporary files are named ".<target name>.tmp-<pid>-<random>" and are
 * registered in a process-wide list so that fidx_outfile_cleanup_signal()
 * (async-signal-safe, for SIGINT/SIGTERM handlers) can remove them. This
 * list is the one piece of global state in fidx, as in git's lockfile.
 */
#ifndef FIDX_IO_OUTFILE_H
#define FIDX_IO_OUTFILE_H

#include "error.h"

struct fidx_outfile {
	char *target;
	char *tmp;
	int fd;
	int lock_fd;
	int slot; /* in the cleanup list, or -1 */
	unsigned keep; /* generations to keep (FIDX_OUT_KEEP) */
};

/* flags:
 *   FIDX_OUT_NOWAIT     fail with FIDX_ELOCKED at once when another fidx
 *                       holds the target's lock (default: wait for it)
 *   FIDX_OUT_WAIT(s)    wait for the lock at most s seconds (1..65535), then
 *                       fail with FIDX_ELOCKED
 *   FIDX_OUT_KEEP(n)    keep the n previous versions (1..127) of the target
 *                       as target.1 (the newest) .. target.n: when
 *                       committing, each moves one generation up, the
 *                       oldest drops off, and the current target becomes
 *                       target.1 (a hard link, so the target never goes
 *                       missing). */
#define FIDX_OUT_NOWAIT 1u
#define FIDX_OUT_KEEP(n) (((unsigned)(n) & 127u) << 1)
#define FIDX_OUT_WAIT(s) (((unsigned)(s) & 0xffffu) << 8)
#define FIDX_OUT_KEEP_OF(flags) (((flags) >> 1) & 127u)
#define FIDX_OUT_WAIT_OF(flags) (((flags) >> 8) & 0xffffu)
/* Not used here: for callers that refuse to replace a file that is not
 * theirs unless told to (index/file.h's fidx_file_check_target). */
#define FIDX_OUT_FORCE (1u << 24)
int fidx_outfile_open(struct fidx_outfile *o, const char *target, unsigned flags,
                      struct fidx_err *err);

/* fsync, rename over the target, fsync the folder. On failure the
 * temporary file is removed and the target is untouched. */
int fidx_outfile_commit(struct fidx_outfile *o, struct fidx_err *err);

/* Removes the temporary file (if any) and releases o. Safe to call after
 * commit and more than once. */
void fidx_outfile_abort(struct fidx_outfile *o);

/* An anonymous scratch file in the folder of path (removed when closed):
 * O_TMPFILE where the file system has it, else a file unlinked at once.
 * Returns the descriptor or a negative fidx_code. */
int fidx_spool_open(const char *near_path, struct fidx_err *err);

/* Test builds (FIDX_TEST_HOOKS) stop the process with _exit(99) at the
 * point named by the environment variable FIDX_TEST_CRASH: "before-fsync"
 * (all written), "before-rename" (fsynced), "before-dirsync" (renamed). */

/* Removes every registered temporary file. Async-signal-safe. */
void fidx_outfile_cleanup_signal(void);

/* Registers path, a temporary file of the caller's own (a download, say),
 * for removal by fidx_outfile_cleanup_signal. Returns its slot, or -1 when
 * it cannot be registered (all slots taken, or too long a path). */
int fidx_tmp_register(const char *path);
void fidx_tmp_unregister(int slot);

/* Writes all of buf at offset (pwrite, retried on EINTR and short writes). */
int fidx_pwrite_all(int fd, const void *buf, size_t n, unsigned long long off, const char *name,
                    struct fidx_err *err);

/* Reads exactly n bytes at offset; a short file is an error (FIDX_ECORRUPT
 * with "unexpected end of file"). */
int fidx_pread_all(int fd, void *buf, size_t n, unsigned long long off, const char *name,
                   struct fidx_err *err);

#endif
