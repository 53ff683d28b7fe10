/*
 * image_sha.h: the SHA-256 of the image a slot holds, for the device's
 * _eota._tcp TXT record (mdns.c), hashed a slice at a time on the loop's
 * idle turns: after an install the loop goes on serving connections (the
 * next upload included) instead of stopping for a pass over the whole
 * image.
 */
#ifndef EOTA_APP_DEVICE_IMAGE_SHA_H
#define EOTA_APP_DEVICE_IMAGE_SHA_H

#include <stddef.h>
#include <stdint.h>

#include "eota/posix.h"

/* All zero is an idle one. */
typedef struct dev_image_sha {
    unsigned key;        /* which image (the caller's number); 0: none yet */
    int hashing;         /* fd is open and md set (all zero: idle) */
    int fd;              /* the slot file being hashed */
    uint64_t left;       /* its bytes still to hash */
    eota_posix_hash hash; /* while hashing */
    char hex[16];        /* the first 12 hex digits, "pending" or "unknown" */
} dev_image_sha;

/* The hash of image `key`: the first `size` bytes of path. A new key
 * starts a new hash (dropping one in progress); the same key keeps what
 * is there. */
void dev_image_sha_want(dev_image_sha *s, unsigned key, const char *path, uint64_t size);
/* Hash up to budget bytes. 1 while more is left, else 0. */
int dev_image_sha_step(dev_image_sha *s, size_t budget);
int dev_image_sha_busy(const dev_image_sha *s);
/* The first 12 hex digits; "pending" while hashing, "unknown" when the
 * file could not be read. */
const char *dev_image_sha_hex(const dev_image_sha *s);
void dev_image_sha_free(dev_image_sha *s);

#endif
