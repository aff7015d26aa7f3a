#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(struct fidx_err *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int fidx_err_set(struct fidx_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vset(err, fmt, ap);
		va_end(ap);
		err->code = code;
		err->detail = FIDX_DETAIL_NONE;
	}
	return code;
}

int fidx_err_detail(struct fidx_err *err, int detail)
{
	if (!err)
		return FIDX_EINTERNAL;
	err->detail = detail;
	return err->code;
}

static void option_name(const char *setting, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;
	for (i = 0; i < 2 && o + 1 < cap; i++)
		out[o++] = '-';
	for (i = 0; i < len && o + 1 < cap; i++)
		out[o++] = setting[i] == '_' ? '-' : setting[i];
	out[o] = '\0';
}

void fidx_err_render(const char *msg, char *out, size_t cap,
                     void (*name)(const char *setting, size_t len, char *out, size_t cap))
{
	size_t o = 0;
	if (!cap)
		return;
	if (!name)
		name = option_name;
	while (*msg && o + 1 < cap) {
		const char *end;
		if (*msg == '\x1d' && (end = strchr(msg + 1, '\x1d')) != NULL) {
			name(msg + 1, (size_t)(end - msg - 1), out + o, cap - o);
			o += strlen(out + o);
			msg = end + 1;
			continue;
		}
		out[o++] = *msg++;
	}
	out[o] = '\0';
}

int fidx_err_sys(struct fidx_err *err, int code, int errnum, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		size_t len;
		va_start(ap, fmt);
		vset(err, fmt, ap);
		va_end(ap);
		len = strlen(err->msg);
		snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
		err->code = code;
		err->detail = FIDX_DETAIL_NONE;
	}
	return code;
}

int fidx_err_prefix(struct fidx_err *err, const char *fmt, ...)
{
	char both[2 * FIDX_ERR_MAX + 2];
	size_t len;
	va_list ap;

	if (!err)
		return FIDX_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(both, FIDX_ERR_MAX, fmt, ap);
	va_end(ap);
	len = strlen(both);
	memcpy(both + len, ": ", 2);
	memcpy(both + len + 2, err->msg, strnlen(err->msg, FIDX_ERR_MAX - 1) + 1);
	memcpy(err->msg, both, FIDX_ERR_MAX - 1);
	err->msg[FIDX_ERR_MAX - 1] = '\0';
	return err->code;
}

int fidx_err_nomem(struct fidx_err *err)
{
	return fidx_err_set(err, FIDX_ENOMEM, "out of memory");
}

void fidx_err_quote(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (cap < 8) {
		if (cap)
			out[0] = '\0';
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? 4 : 1;
		if (o + need + 4 >= cap) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void fidx_logf(fidx_log_fn log, void *ctx, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log(ctx, line);
}
