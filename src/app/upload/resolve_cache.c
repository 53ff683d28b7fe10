/*
 * resolve_cache.c: the last good address of each device name (resolve.h),
 * in the file `addresses` of the folder cache_dir.h chooses: "NAME
 * ADDRESS" lines, replaced whole (write to a temporary file, rename).
 * With the caches off nothing is read or written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "upload/cache_dir.h"
#include "upload/resolve.h"
#include "upload/util.h"

#define CACHE_MAX 1024

typedef struct cache_entry {
    char host[256];
    char ip[INET6_ADDRSTRLEN];
} cache_entry;

struct up_addr_cache {
    char path[4096];
    cache_entry *e;
    size_t n;
    int dirty;
};

up_addr_cache *up_addr_cache_load(void)
{
    up_addr_cache *c = up_xcalloc(1, sizeof *c);
    c->e = up_xcalloc(CACHE_MAX, sizeof *c->e);
    char dir[4000];
    if (up_cache_dir(dir, sizeof dir) != 0)
        return c; /* off: no path, nothing read or written */
    snprintf(c->path, sizeof c->path, "%s/addresses", dir);
    FILE *f = fopen(c->path, "re");
    char line[512];
    while (f && c->n < CACHE_MAX && fgets(line, sizeof line, f)) {
        cache_entry *e = &c->e[c->n];
        if (sscanf(line, "%255s %45s", e->host, e->ip) == 2)
            c->n++;
    }
    if (f)
        fclose(f);
    return c;
}

int up_addr_cache_get(const up_addr_cache *c, const char *host, char *out)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->e[i].host, host)) {
            snprintf(out, INET6_ADDRSTRLEN, "%s", c->e[i].ip);
            return 1;
        }
    return 0;
}

void up_addr_cache_put(up_addr_cache *c, const char *host, const char *ip)
{
    size_t i = 0;
    while (i < c->n && strcasecmp(c->e[i].host, host))
        i++;
    if (i == c->n && c->n == CACHE_MAX)
        return;
    if (i < c->n && !strcmp(c->e[i].ip, ip))
        return;
    snprintf(c->e[i].host, sizeof c->e[i].host, "%s", host);
    snprintf(c->e[i].ip, sizeof c->e[i].ip, "%s", ip);
    c->n += i == c->n;
    c->dirty = 1;
}

void up_addr_cache_save(up_addr_cache *c)
{
    if (!c->dirty || !c->path[0])
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", c->path, (long)getpid());
    FILE *f = fopen(tmp, "we");
    if (!f)
        return;
    for (size_t i = 0; i < c->n; i++)
        fprintf(f, "%s %s\n", c->e[i].host, c->e[i].ip);
    if (fclose(f) != 0 || rename(tmp, c->path) != 0)
        unlink(tmp);
}

const char *up_addr_cache_path(const up_addr_cache *c) { return c->path; }

void up_addr_cache_free(up_addr_cache *c)
{
    if (!c)
        return;
    free(c->e);
    free(c);
}
