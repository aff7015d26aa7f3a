/* The peak private memory of a process, for bench/run (LD_PRELOAD).
 *
 *   LD_PRELOAD=libfidx_memprobe.so FIDX_MEMPROBE_OUT=file command...
 *
 * A thread samples RssAnon (resident anonymous pages: the process's own
 * memory, not the page cache it maps) from /proc/self/status every 200
 * microseconds, and once more as the process exits; the largest value, in
 * KiB, is appended to the file as "rss_anon_kb <n> rss_kb <n>" (rss: the
 * largest resident total, VmHWM, file pages included). A process that execs
 * another (the fidx front) leaves the measure to the one it becomes. A
 * sample can miss a peak shorter than its interval. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long peak_anon;
static pthread_t sampler;
static volatile int stop;

static void sample(long *anon, long *hwm)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	*anon = *hwm = 0;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "RssAnon:", 8) == 0)
			*anon = atol(line + 8);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = atol(line + 6);
	}
	fclose(f);
}

static void *run(void *arg)
{
	struct timespec t = {0, 200000};
	(void)arg;
	while (!stop) {
		long anon, hwm;
		sample(&anon, &hwm);
		if (anon > peak_anon)
			peak_anon = anon;
		nanosleep(&t, NULL);
	}
	return NULL;
}

__attribute__((constructor)) static void start(void)
{
	pthread_create(&sampler, NULL, run, NULL);
}

__attribute__((destructor)) static void finish(void)
{
	const char *out = getenv("FIDX_MEMPROBE_OUT");
	long anon, hwm;
	FILE *f;
	stop = 1;
	pthread_join(sampler, NULL);
	sample(&anon, &hwm);
	if (anon > peak_anon)
		peak_anon = anon;
	if (out && (f = fopen(out, "a")) != NULL) {
		fprintf(f, "rss_anon_kb %ld rss_kb %ld\n", peak_anon, hwm);
		fclose(f);
	}
}
