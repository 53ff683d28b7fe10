/*
 * image_sha.c: the SHA-256 of a slot's image a slice at a time
 * (image_sha.h), through the port's hash seam (eota_posix_hash).
 */
#include "image_sha.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eota/status.h"

static void stop(dev_image_sha *s)
{
    if (s->hashing)
        close(s->fd);
    s->hashing = 0;
    s->fd = -1;
    eota_posix_hash_free(&s->hash);
    s->left = 0;
}

static eota_hash seam(dev_image_sha *s) { return eota_posix_hash_seam(&s->hash); }

void dev_image_sha_want(dev_image_sha *s, unsigned key, const char *path, uint64_t size)
{
    if (s->key == key && s->hex[0])
        return;
    stop(s);
    s->key = key;
    snprintf(s->hex, sizeof s->hex, "unknown");
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return;
    s->hashing = 1;
    if (eota_posix_hash_init(&s->hash) != EOTA_OK || seam(s).ops->begin(seam(s).ctx, EOTA_HASH_SHA256) != EOTA_OK) {
        stop(s);
        return;
    }
    s->left = size;
    snprintf(s->hex, sizeof s->hex, "pending");
}

static void finish(dev_image_sha *s)
{
    uint8_t md[EOTA_SHA256_LEN];
    int ok = seam(s).ops->finish(seam(s).ctx, md) == EOTA_OK;
    stop(s);
    if (!ok)
        return; /* hex stays "unknown" */
    for (int i = 0; i < 6; i++)
        snprintf(s->hex + 2 * i, 3, "%02x", md[i]);
}

int dev_image_sha_step(dev_image_sha *s, size_t budget)
{
    unsigned char buf[65536];
    while (s->hashing && s->left > 0 && budget > 0) {
        size_t want = s->left < sizeof buf ? (size_t)s->left : sizeof buf;
        want = want < budget ? want : budget;
        ssize_t n = read(s->fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            stop(s);
            snprintf(s->hex, sizeof s->hex, "unknown"); /* unreadable, or shorter than recorded */
            return 0;
        }
        seam(s).ops->update(seam(s).ctx, buf, (size_t)n);
        s->left -= (uint64_t)n;
        budget -= (size_t)n;
    }
    if (s->hashing && s->left == 0)
        finish(s);
    return dev_image_sha_busy(s);
}

int dev_image_sha_busy(const dev_image_sha *s) { return s->hashing; }

const char *dev_image_sha_hex(const dev_image_sha *s) { return s->hex[0] ? s->hex : "unknown"; }

void dev_image_sha_free(dev_image_sha *s) { stop(s); }
