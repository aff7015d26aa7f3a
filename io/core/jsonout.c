#include "jsonout.h"

#include "utf8.h"

void fidx_json_put_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	putc('"', f);
	while (i < n) {
		uint32_t cp;
		size_t len = fidx_utf8_decode(p + i, n - i, &cp);
		if (!len) {
			fputs("\\ufffd", f);
			i++;
		} else if (len > 1) {
			fwrite(p + i, 1, len, f);
			i += len;
		} else {
			unsigned char ch = p[i++];
			if (ch == '"' || ch == '\\')
				fprintf(f, "\\%c", ch);
			else if (ch == '\n')
				fputs("\\n", f);
			else if (ch == '\t')
				fputs("\\t", f);
			else if (ch < 0x20 || ch == 0x7f)
				fprintf(f, "\\u%04x", ch);
			else
				putc(ch, f);
		}
	}
	putc('"', f);
}
