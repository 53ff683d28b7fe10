/*
 * digest_cache.c: the MD5 of firmware files kept between runs
 * (digest_cache.h), in the folder cache_dir.h chooses.
 */
#include "upload/digest_cache.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "upload/cache_dir.h"

#define RACY_SECONDS 2

static int entry_path(const struct stat *st, char *out, size_t len)
{
    char dir[512];
    if (up_cache_dir(dir, sizeof dir) != 0)
        return -1;
    int n = snprintf(out, len, "%s/md5-%jx-%jx", dir, (uintmax_t)st->st_dev, (uintmax_t)st->st_ino);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The line an entry holds for st, without the digest. */
static void entry_key(const struct stat *st, char *out, size_t len)
{
    snprintf(out, len, "%jd %jd.%09ld %jd.%09ld", (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
             st->st_mtim.tv_nsec, (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

static int parse_hex16(const char *hex, uint8_t md5[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        md5[i] = (uint8_t)v;
    }
    return 0;
}

int up_digest_cache_get(const struct stat *st, uint8_t md5[16])
{
    char path[600], key[128], line[256];
    if (entry_path(st, path, sizeof path) != 0)
        return 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int hit = 0;
    if (fgets(line, sizeof line, f)) {
        entry_key(st, key, sizeof key);
        size_t k = strlen(key);
        hit = strncmp(line, key, k) == 0 && line[k] == ' ' && strlen(line + k + 1) >= 32 &&
              parse_hex16(line + k + 1, md5) == 0;
    }
    fclose(f);
    return hit;
}

/* Whether a file with these times may have changed in the tick the entry
 * would be written in. */
static int racy(const struct stat *st)
{
    time_t now = time(NULL);
    return st->st_mtim.tv_sec > now - RACY_SECONDS || st->st_ctim.tv_sec > now - RACY_SECONDS;
}

void up_digest_cache_put(const struct stat *st, const uint8_t md5[16])
{
    char path[600], tmp[640], key[128];
    if (racy(st) || entry_path(st, path, sizeof path) != 0)
        return;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "we");
    if (!f)
        return;
    entry_key(st, key, sizeof key);
    fprintf(f, "%s ", key);
    for (int i = 0; i < 16; i++)
        fprintf(f, "%02x", md5[i]);
    fputc('\n', f);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        unlink(tmp);
}

void up_digest_cache_drop(const struct stat *st)
{
    char path[600];
    if (entry_path(st, path, sizeof path) == 0)
        unlink(path);
}
