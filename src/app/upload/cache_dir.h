/*
 * cache_dir.h: the one folder `eota upload` keeps its caches in (the MD5 of
 * images, digest_cache.c; the last good address of each device,
 * resolve_cache.c), chosen in one place:
 *
 *   $EOTA_CACHE_DIR      when set; the value `off` turns every cache off
 *   $XDG_CACHE_HOME/eota else
 *   $HOME/.cache/eota    else; with neither variable the caches are off:
 *                        never a folder in /tmp that every user shares
 *
 * Missing folders are created 0700. The folder is used only when it is a
 * directory owned by this user and writable by no one else (neither group
 * nor others): whoever can write there could plant a digest or, worse, the
 * address uploads go to when a name does not resolve. A refused folder
 * turns the caches off with a clear warning on stderr, once a run.
 */
#ifndef EOTA_APP_UPLOAD_CACHE_DIR_H
#define EOTA_APP_UPLOAD_CACHE_DIR_H

#include <stddef.h>

enum up_cache_choice {
    UP_CACHE_ON = 0,       /* the folder is in out */
    UP_CACHE_OFF = 1,      /* EOTA_CACHE_DIR=off, or no folder to choose */
    UP_CACHE_REFUSED = -1, /* why says which folder and why */
};

/* Choose (and create) the folder into out; why gets the reason of a
 * refusal. No output. */
enum up_cache_choice up_cache_dir_choose(char *out, size_t len, char *why, size_t why_len);

/* What the caches call: 0 and the folder in out, or -1 (off or refused;
 * a refusal is said on stderr the first time). */
int up_cache_dir(char *out, size_t len);

#endif
