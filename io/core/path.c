#include "path.h"

#include <stdlib.h>
#include <string.h>

int fidx_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

char *fidx_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), slash = !(la && a[la - 1] == '/');
	char *s = malloc(la + slash + lb + 1);
	if (s) {
		memcpy(s, a, la);
		if (slash)
			s[la] = '/';
		memcpy(s + la + slash, b, lb + 1);
	}
	return s;
}
