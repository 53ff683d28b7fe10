/*
 * util.c: the helpers of util.h.
 */
#include "upload/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/posix.h"

uint64_t up_now_ms(void) { return eota_posix_now_ms64(); }

static void *need(void *p)
{
    if (!p) {
        fprintf(stderr, "eota upload: out of memory\n");
        exit(2);
    }
    return p;
}

void *up_xcalloc(size_t n, size_t size) { return need(calloc(n ? n : 1, size ? size : 1)); }

void *up_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return need(NULL);
    size_t bytes = n * size;
    return need(realloc(p, bytes ? bytes : 1));
}

char *up_xstrdup(const char *s) { return need(strdup(s)); }

void up_human_bytes(char *out, size_t outlen, uint64_t n)
{
    if (n >= 1024u * 1024u)
        snprintf(out, outlen, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    else if (n >= 1024u)
        snprintf(out, outlen, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(out, outlen, "%llu B", (unsigned long long)n);
}

char *up_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t l = strlen(s);
    while (l && isspace((unsigned char)s[l - 1]))
        s[--l] = '\0';
    return s;
}
