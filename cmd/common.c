#include "common.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <time.h>

#include "api.h"
#include "crc32.h"
#include "embed.h"
#include "number.h"
#include "outfile.h"
#include "quant.h"
#include "reader.h"
#include "remote.h"
#include "sha256.h"

#ifndef FIDX_FAISS_VERSION
#define FIDX_FAISS_VERSION "unknown"
#endif

int fidx_verbosity = 1;
static int progress_mode = -1; /* --progress 1, --no-progress 0, else -1 */
static const char *prog_name = "fidx";

static void on_signal(int sig)
{
	fidx_outfile_cleanup_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

void cmd_init(const char *prog)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	size_t i;
	prog_name = prog;
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
	/* A closed pipe is a write error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	/* A library that exits on its own (libgomp when out of memory) must
	 * not leave temporary files behind either. */
	atexit(fidx_outfile_cleanup_signal);
#ifdef FIDX_TEST_HOOKS
	{
		/* tests/shim/failmem.c, when preloaded, starts counting here. */
		void (*arm)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "fidx_failmem_arm");
		if (arm)
			arm();
	}
#endif
}

const char *cmd_prog(void)
{
	return prog_name;
}

/* --log-format json: the run's one summary line, built up as it goes. */
static cJSON *run_log;
static struct timespec run_t0;

static void rfc3339(const struct timespec *ts, char *buf, size_t cap)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	gmtime_r(&t, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts->tv_nsec / 1000000));
}

void cmd_log_json(void)
{
	char when[64];
	if (run_log)
		return;
	clock_gettime(CLOCK_REALTIME, &run_t0);
	rfc3339(&run_t0, when, sizeof when);
	if ((run_log = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(run_log, "start", when);
		cJSON_AddStringToObject(run_log, "command", prog_name);
	}
}

void cmd_log_num(const char *key, double v)
{
	if (run_log) {
		cJSON_DeleteItemFromObjectCaseSensitive(run_log, key);
		cJSON_AddNumberToObject(run_log, key, v);
	}
}

void cmd_log_str(const char *key, const char *v)
{
	if (run_log && v) {
		cJSON_DeleteItemFromObjectCaseSensitive(run_log, key);
		cJSON_AddStringToObject(run_log, key, v);
	}
}

/* Ends the line: the end, the duration, the outcome and the exit status. */
static void log_end(int code)
{
	struct timespec t1;
	char when[64], *line;
	if (!run_log)
		return;
	clock_gettime(CLOCK_REALTIME, &t1);
	rfc3339(&t1, when, sizeof when);
	cJSON_AddStringToObject(run_log, "end", when);
	cJSON_AddNumberToObject(run_log, "seconds",
	                        (double)(t1.tv_sec - run_t0.tv_sec) + (double)(t1.tv_nsec - run_t0.tv_nsec) / 1e9);
	if (!cJSON_GetObjectItemCaseSensitive(run_log, "outcome"))
		cJSON_AddStringToObject(run_log, "outcome", code ? "failed" : "ok");
	cJSON_AddNumberToObject(run_log, "exit", code);
	if ((line = cJSON_PrintUnformatted(run_log)) != NULL) {
		fprintf(stderr, "%s\n", line);
		cJSON_free(line);
	}
	cJSON_Delete(run_log);
	run_log = NULL;
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	char raw[2 * FIDX_ERR_MAX], buf[2 * FIDX_ERR_MAX];
	vsnprintf(raw, sizeof raw, fmt, ap);
	/* Settings a library names, as options of the command line. */
	fidx_err_render(raw, buf, sizeof buf, NULL);
	if (run_log) {
		/* Errors and warnings go in the summary line; notes are in its
		 * fields already. */
		if (strcmp(kind, "error: ") == 0)
			cmd_log_str("error", buf);
		else if (strcmp(kind, "warning: ") == 0)
			cmd_log_str("warning", buf);
		return;
	}
	cmd_progress_done();
	fflush(stdout);
	fprintf(stderr, "%s: %s%s\n", prog_name, kind, buf);
}

void cmd_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void cmd_warn(const char *fmt, ...)
{
	va_list ap;
	if (fidx_verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void cmd_note(const char *fmt, ...)
{
	va_list ap;
	if (fidx_verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cmd_verbose(const char *fmt, ...)
{
	va_list ap;
	if (fidx_verbosity < 2)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cmd_reader_note(void *ctx, const char *line)
{
	(void)ctx;
	if (fidx_verbosity >= 2)
		cmd_warn("%s", line);
}

int cmd_exit_code(int code)
{
	switch (code) {
	case FIDX_OK: return FIDX_EXIT_OK;
	case FIDX_EINPUT: return FIDX_EXIT_INPUT;
	case FIDX_EIO: return FIDX_EXIT_IO;
	case FIDX_ECORRUPT: return FIDX_EXIT_CORRUPT;
	case FIDX_EAPI: return FIDX_EXIT_API;
	case FIDX_ELOCKED: return FIDX_EXIT_LOCKED;
	case FIDX_EDENIED: return FIDX_EXIT_DENIED;
	default: return FIDX_EXIT_FAILURE;
	}
}

int cmd_fail(const struct fidx_err *err)
{
	cmd_error("%s", err->msg);
	return cmd_exit_code(err->code);
}

int cmd_usage_error(const char *fmt, ...)
{
	char raw[FIDX_ERR_MAX], buf[FIDX_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	fidx_err_render(raw, buf, sizeof buf, NULL);
	fflush(stdout);
	fprintf(stderr, "%s: error: %s (see '%s --help')\n", prog_name, buf, prog_name);
	return FIDX_EXIT_USAGE;
}

void cmd_print_version(void)
{
	const char *cpu = "baseline x86-64";
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		cpu = "avx512f";
	else if (__builtin_cpu_supports("avx2"))
		cpu = "avx2";
#endif
	printf("%s %s\n", prog_name, FIDX_VERSION);
	printf("faiss %s, C API\n", FIDX_FAISS_VERSION);
	printf("cpu: %s\n", cpu);
	printf("search: codes %s, crc32 %s\n", fidx_quant_kernel(), fidx_crc32_kernel());
}

int cmd_common_option(int c, const char *usage, char **argv)
{
	switch (c) {
	case 'q':
		fidx_verbosity = 0;
		return CMD_CONTINUE;
	case 'v':
		fidx_verbosity = 2;
		return CMD_CONTINUE;
	case CMD_OPT_PROGRESS: progress_mode = 1; return CMD_CONTINUE;
	case CMD_OPT_NO_PROGRESS: progress_mode = 0; return CMD_CONTINUE;
	case CMD_OPT_THREADS: {
		size_t n;
		if (cmd_parse_size("--threads", optarg, 1, 1024, &n))
			return FIDX_EXIT_USAGE;
		omp_set_num_threads((int)n);
		return CMD_CONTINUE;
	}
	case 'h': {
		/* The formats' names come from the readers' registry. */
		const char *at = strstr(usage, CMD_FORMATS);
		char names[256];
		fidx_formats_list(NULL, 1, names, sizeof names);
		if (at)
			printf("%.*s%s%s", (int)(at - usage), usage, names, at + strlen(CMD_FORMATS));
		else
			fputs(usage, stdout);
		return cmd_finish(FIDX_EXIT_OK);
	}
	case CMD_OPT_VERSION:
		cmd_print_version();
		return cmd_finish(FIDX_EXIT_OK);
	case ':':
		return cmd_usage_error("%s needs a value", argv[optind - 1]);
	default:
		return cmd_usage_error("unknown option %s", argv[optind - 1]);
	}
}

int cmd_out_option(int c, unsigned *flags, int *level)
{
	size_t n;
	switch (c) {
	case CMD_OPT_LEVEL:
		if (cmd_parse_size("--level", optarg, 1, 12, &n))
			return FIDX_EXIT_USAGE;
		*level = (int)n;
		return CMD_CONTINUE;
	case CMD_OPT_NO_WAIT: *flags |= FIDX_OUT_NOWAIT; return CMD_CONTINUE;
	case CMD_OPT_FORCE: *flags |= FIDX_OUT_FORCE; return CMD_CONTINUE;
	case CMD_OPT_WAIT:
		if (cmd_parse_size("--wait", optarg, 1, 0xffff, &n))
			return FIDX_EXIT_USAGE;
		*flags = (*flags & ~FIDX_OUT_WAIT(0xffff)) | FIDX_OUT_WAIT(n);
		return CMD_CONTINUE;
	case CMD_OPT_LOG_FORMAT:
		if (strcmp(optarg, "json") == 0)
			cmd_log_json();
		else if (strcmp(optarg, "text") != 0)
			return cmd_usage_error("--log-format expects text or json, not \"%s\"", optarg);
		return CMD_CONTINUE;
	case CMD_OPT_KEEP:
		if (cmd_parse_size("--keep", optarg, 0, 127, &n))
			return FIDX_EXIT_USAGE;
		*flags = (*flags & ~FIDX_OUT_KEEP(127)) | FIDX_OUT_KEEP(n);
		return CMD_CONTINUE;
	}
	return -2;
}

/* Sets an embedder setting from the command line; a full set of
 * settings is a usage error (it takes more options than there are). */
static int set_param(struct fidx_embed_config *cfg, const char *key, const char *value)
{
	if (fidx_params_set(&cfg->params, key, value))
		return cmd_usage_error("too many embedder options");
	return CMD_CONTINUE;
}

int cmd_api_option(int c, struct fidx_embed_config *cfg)
{
	size_t n;
	switch (c) {
	case CMD_OPT_API_URL: return set_param(cfg, "url", optarg);
	case CMD_OPT_API_FORMAT:
		if (!fidx_api_format_parse(optarg))
			return cmd_usage_error("--api-format expects hf, tei or openai, not \"%s\"", optarg);
		return set_param(cfg, "format", optarg);
	case CMD_OPT_TOKEN_FILE: return set_param(cfg, "token_file", optarg);
	case CMD_OPT_BATCH:
		if (cmd_parse_size("--batch", optarg, 1, 4096, &n))
			return FIDX_EXIT_USAGE;
		return set_param(cfg, "batch", optarg);
	case CMD_OPT_CONCURRENCY:
		if (cmd_parse_size("--concurrency", optarg, 1, 256, &n))
			return FIDX_EXIT_USAGE;
		return set_param(cfg, "concurrency", optarg);
	case CMD_OPT_RETRIES:
		if (cmd_parse_size("--retries", optarg, 0, 100, &n))
			return FIDX_EXIT_USAGE;
		return set_param(cfg, "retries", optarg);
	case CMD_OPT_TIMEOUT:
		if (cmd_parse_size("--timeout", optarg, 1, 86400 * 7, &n))
			return FIDX_EXIT_USAGE;
		return set_param(cfg, "timeout", optarg);
	case CMD_OPT_CACHE: return set_param(cfg, "cache", optarg);
	case CMD_OPT_NO_CACHE: return set_param(cfg, "no_cache", "1");
	}
	return -2;
}

static int progress_shown;

static void on_progress(void *ctx, const struct fidx_embed_progress *p)
{
	double rate = p->seconds > 0 ? (double)p->done / p->seconds : 0;
	(void)ctx;
	if (p->total)
		fprintf(stderr, "\r%s: embedded %zu/%zu texts", prog_name, p->done, p->total);
	else
		fprintf(stderr, "\r%s: embedded %zu texts", prog_name, p->done);
	if (rate > 0)
		fprintf(stderr, ", %.0f texts/s", rate);
	if (rate > 0 && p->total > p->done)
		fprintf(stderr, ", %.0f s left", (double)(p->total - p->done) / rate);
	if (p->retries)
		fprintf(stderr, ", %zu retr%s", p->retries, p->retries == 1 ? "y" : "ies");
	fputs("\033[K", stderr);
	progress_shown = 1;
}

static void on_log(void *ctx, const char *line)
{
	char buf[2 * FIDX_ERR_MAX];
	(void)ctx;
	fidx_err_render(line, buf, sizeof buf, NULL);
	cmd_progress_done();
	fprintf(stderr, "%s: %s\n", prog_name, buf);
}

int cmd_progress_on(void)
{
	if (run_log || progress_mode == 0)
		return 0;
	return progress_mode == 1 || (fidx_verbosity >= 1 && isatty(STDERR_FILENO));
}

/* Rows, rows/s and, when the share done is known, the time left; redrawn
 * at most four times a second. */
static void on_rows(void *ctx, uint64_t rows, double fraction)
{
	static struct timespec t0, last;
	struct timespec now;
	double secs;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!t0.tv_sec && !t0.tv_nsec)
		t0 = now;
	if ((double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9 < 0.25)
		return;
	last = now;
	secs = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "\r%s: %llu rows", prog_name, (unsigned long long)rows);
	if (secs > 0.5)
		fprintf(stderr, ", %.0f rows/s", (double)rows / secs);
	if (fraction > 0 && fraction <= 1) {
		fprintf(stderr, ", %.0f%%", fraction * 100);
		if (secs > 0.5)
			fprintf(stderr, ", %.0f s left", secs * (1 - fraction) / fraction);
	}
	fputs("\033[K", stderr);
	progress_shown = 1;
}

struct fidx_progress cmd_rows_progress(void)
{
	struct fidx_progress p = {NULL, NULL};
	if (cmd_progress_on())
		p.fn = on_rows;
	return p;
}

void cmd_embed_hooks(struct fidx_embed_config *cfg)
{
	if (cmd_progress_on())
		cfg->progress = on_progress;
	if (fidx_verbosity >= 2)
		cfg->log = on_log;
}

/* A size in bytes for people: 512 bytes, 1.5 kB, 12.3 MB ... */
static void human(double b, char *out, size_t cap)
{
	static const char *const unit[] = {"bytes", "kB", "MB", "GB", "TB"};
	int u = 0;
	while (b >= 1000 && u < 4) {
		b /= 1000;
		u++;
	}
	snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

/* One file's download: bytes, rate and time left, redrawn at most four
 * times a second and when it ends. */
static void on_download(void *ctx, const char *name, uint64_t done, uint64_t total)
{
	static struct timespec t0, last;
	static char file[512];
	struct timespec now;
	double secs;
	char a[32], b[32], r[32];
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (strcmp(file, name) != 0) {
		snprintf(file, sizeof file, "%s", name);
		t0 = now;
		last.tv_sec = 0;
	}
	if (done < total &&
	    (double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9 < 0.25)
		return;
	last = now;
	secs = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
	human((double)done, a, sizeof a);
	human((double)total, b, sizeof b);
	fprintf(stderr, "\r%s: downloading %s: %s of %s", prog_name, name, a, b);
	if (secs > 0.5 && done) {
		human((double)done / secs, r, sizeof r);
		fprintf(stderr, ", %s/s", r);
		if (done < total)
			fprintf(stderr, ", %.0f s left", secs * (double)(total - done) / (double)done);
	}
	fputs("\033[K", stderr);
	progress_shown = 1;
}

void cmd_hub_hooks(struct fidx_hub_opts *o)
{
	if (cmd_progress_on())
		o->progress = on_download;
	if (fidx_verbosity >= 2)
		o->log = on_log;
}

void cmd_hub_report(const struct fidx_hub_stats *st, int note)
{
	char b[32];
	if (!st->requests && !st->downloaded && !st->cached)
		return;
	cmd_log_num("hub_requests", (double)st->requests);
	cmd_log_num("hub_bytes", (double)st->bytes);
	cmd_log_num("hub_downloaded", (double)st->downloaded);
	cmd_log_num("hub_cached", (double)st->cached);
	if (!note)
		return;
	human((double)st->bytes, b, sizeof b);
	cmd_note("the Hub: %llu request%s, %llu file%s downloaded (%s), %llu from the cache", st->requests,
	         st->requests == 1 ? "" : "s", st->downloaded, st->downloaded == 1 ? "" : "s", b, st->cached);
}

void cmd_progress_done(void)
{
	if (progress_shown)
		fputc('\n', stderr);
	progress_shown = 0;
}

int cmd_parse_format(const char *s, const struct fidx_format **format)
{
	char names[256];
	if ((*format = fidx_format_find(NULL, s)) != NULL && fidx_format_readable(*format))
		return 0;
	fidx_formats_list(NULL, 1, names, sizeof names);
	return cmd_usage_error("--format expects %s, not \"%s\"", names, s);
}

int cmd_parse_size(const char *opt, const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;
	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = (size_t)v;
	return 0;
bad:
	cmd_usage_error("%s expects a whole number from %zu to %zu, not \"%s\"", opt, min, max, s);
	return -1;
}

int cmd_parse_float(const char *opt, const char *s, float *out)
{
	if (fidx_parse_float(s, strlen(s), out) != FIDX_NUM_OK) {
		cmd_usage_error("%s expects a number, not \"%s\"", opt, s);
		return -1;
	}
	return 0;
}

int cmd_finish(int code)
{
	static int finished;
	int failed, e;

	if (finished)
		return code;
	finished = 1;
	log_end(code);
	failed = fflush(stdout) != 0 || ferror(stdout);
	e = errno;
	if (fclose(stdout) != 0 && !failed) {
		failed = 1;
		e = errno;
	}
	if (failed) {
		fprintf(stderr, "%s: error: cannot write the output: %s\n", prog_name, strerror(e));
		return code ? code : FIDX_EXIT_IO;
	}
	return code;
}

void cmd_recipe_note(struct cmd_recipe *r, const struct option *opts, int c, int longindex, const char *arg)
{
	const char *name = NULL;
	int i;
	if (longindex >= 0) {
		name = opts[longindex].name;
	} else {
		for (i = 0; opts[i].name && !name; i++)
			if (opts[i].val == c && !opts[i].flag)
				name = opts[i].name;
	}
	if (!name || r->n == CMD_RECIPE_MAX)
		return; /* not an option (getopt's '?' and ':'), or past any sane count */
	r->name[r->n] = name;
	r->arg[r->n] = arg;
	r->n++;
}

static void digest_field(struct fidx_sha256 *h, const char *kind, const char *name, const char *v)
{
	fidx_sha256_update(h, kind, strlen(kind) + 1);
	fidx_sha256_update(h, name, strlen(name) + 1);
	fidx_sha256_update(h, v ? "=" : "-", 1);
	if (v)
		fidx_sha256_update(h, v, strlen(v) + 1);
}

void cmd_recipe_digest(const struct cmd_recipe *r, const char *const *ignore, char *const *operands,
                       size_t noperands, char hex[65])
{
	struct fidx_sha256 h;
	unsigned char d[32];
	unsigned char done[CMD_RECIPE_MAX] = {0};
	size_t i, j, k;

	fidx_sha256_init(&h);
	digest_field(&h, "fidx", "version", FIDX_VERSION);
	for (i = 0; i < r->n; i++)
		for (k = 0; ignore && ignore[k]; k++)
			if (strcmp(r->name[i], ignore[k]) == 0)
				done[i] = 1;
	/* By name, so that the order options are given in does not matter;
	 * repeats of one option keep their order. */
	for (;;) {
		const char *least = NULL;
		for (i = 0; i < r->n; i++)
			if (!done[i] && (!least || strcmp(r->name[i], least) < 0))
				least = r->name[i];
		if (!least)
			break;
		for (j = 0; j < r->n; j++)
			if (!done[j] && strcmp(r->name[j], least) == 0) {
				digest_field(&h, "option", r->name[j], r->arg[j]);
				done[j] = 1;
			}
	}
	for (i = 0; i < noperands; i++)
		digest_field(&h, "operand", "", operands[i]);
	fidx_sha256_final(&h, d);
	fidx_sha256_hex(d, hex);
}
