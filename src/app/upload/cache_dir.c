/*
 * cache_dir.c: the folder of `eota upload`'s caches, chosen, created and
 * checked in one place (cache_dir.h).
 */
#include "upload/cache_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder the environment names into out: UP_CACHE_ON, or
 * UP_CACHE_OFF (said so, or nothing to go by). */
static enum up_cache_choice name_folder(char *out, size_t len)
{
    const char *dir = getenv("EOTA_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (dir && *dir) {
        if (strcmp(dir, "off") == 0)
            return UP_CACHE_OFF;
        n = snprintf(out, len, "%s", dir);
    } else if (xdg && *xdg) {
        n = snprintf(out, len, "%s/eota", xdg);
    } else if (home && *home) {
        n = snprintf(out, len, "%s/.cache/eota", home);
    } else {
        return UP_CACHE_OFF;
    }
    return n < 0 || (size_t)n >= len ? UP_CACHE_OFF : UP_CACHE_ON;
}

/* mkdir -p with 0700 for what is missing: 0, or -1 with errno. */
static int make_folders(char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -1;
    char *slash = strrchr(path, '/');
    while (slash && slash > path && slash[-1] == '/')
        slash--; /* "a//b" */
    if (!slash || slash == path)
        return -1;
    *slash = '\0';
    int rc = make_folders(path);
    *slash = '/';
    if (rc != 0)
        return -1;
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Whether a folder is safe to keep caches in: ours, and only ours to write. */
static int check_folder(const char *path, char *why, size_t why_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, why_len, "cannot use the cache folder %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, why_len, "the cache folder %s is not a directory", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, why_len, "the cache folder %s belongs to another user (uid %ld, not %ld)", path,
                 (long)st.st_uid, (long)geteuid());
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, why_len, "the cache folder %s can be written by %s (mode %04o)", path,
                 st.st_mode & S_IWOTH ? "every user" : "its group", (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

enum up_cache_choice up_cache_dir_choose(char *out, size_t len, char *why, size_t why_len)
{
    if (why_len)
        why[0] = '\0';
    if (name_folder(out, len) != UP_CACHE_ON)
        return UP_CACHE_OFF;
    if (make_folders(out) != 0) {
        snprintf(why, why_len, "cannot create the cache folder %s: %s", out, strerror(errno));
        return UP_CACHE_REFUSED;
    }
    return check_folder(out, why, why_len) == 0 ? UP_CACHE_ON : UP_CACHE_REFUSED;
}

int up_cache_dir(char *out, size_t len)
{
    static int warned;
    char why[600];
    enum up_cache_choice c = up_cache_dir_choose(out, len, why, sizeof why);
    if (c == UP_CACHE_REFUSED && !warned) {
        warned = 1;
        fprintf(stderr,
                "eota upload: warning: %s; the caches are off for this run "
                "(set EOTA_CACHE_DIR to a folder of yours, or EOTA_CACHE_DIR=off)\n",
                why);
    }
    return c == UP_CACHE_ON ? 0 : -1;
}
