/*
 * digest_cache.h: the MD5 of firmware files `eota upload` has already read,
 * kept between runs, so that sending the same unchanged image again (the
 * next device, a retry, a resumed rollout) does not read and hash all of it
 * again before the first byte can go: the protocol announces the MD5 before
 * the data, so this pass is otherwise on every upload's critical path.
 *
 * An entry is one small file per image, named by the file's device and
 * inode, holding its size, mtime and ctime (nanoseconds) and the MD5; it is
 * used only when all of these still match, and it is written only for a
 * file whose times are at least two seconds old, so that a file changed in
 * the same timestamp tick as its entry was made is never mistaken for the
 * old one (git's "racy clean" rule). A wrong entry could only make the
 * device refuse the image (it checks the MD5 itself); nothing is installed
 * on the strength of a cached digest.
 *
 * The folder is cache_dir.h's ($EOTA_CACHE_DIR, else $XDG_CACHE_HOME/eota,
 * else ~/.cache/eota; EOTA_CACHE_DIR=off turns the cache off). Failures to
 * read or write an entry are silent, never an error.
 */
#ifndef EOTA_APP_UPLOAD_DIGEST_CACHE_H
#define EOTA_APP_UPLOAD_DIGEST_CACHE_H

#include <stdint.h>
#include <sys/stat.h>

/* 1 and md5 filled when the cache holds the digest of this file as st
 * describes it; 0 otherwise. */
int up_digest_cache_get(const struct stat *st, uint8_t md5[16]);

/* Remember md5 for the file st describes (when it is old enough). */
void up_digest_cache_put(const struct stat *st, const uint8_t md5[16]);

/* Forget the entry of this file (its digest was refused). */
void up_digest_cache_drop(const struct stat *st);

#endif
