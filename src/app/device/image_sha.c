/*
 * image_sha.c: the SHA-256 of a slot's image a slice at a time
 * (image_sha.h), over OpenSSL's EVP digest.
 */
#include "image_sha.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void stop(dev_image_sha *s)
{
    if (s->hashing)
        close(s->fd);
    s->hashing = 0;
    s->fd = -1;
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
    s->left = 0;
}

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
    s->md = EVP_MD_CTX_new();
    if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
        stop(s);
        return;
    }
    s->left = size;
    snprintf(s->hex, sizeof s->hex, "pending");
}

static void finish(dev_image_sha *s)
{
    unsigned char md[32];
    int ok = EVP_DigestFinal_ex(s->md, md, NULL) == 1;
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
        if (n <= 0 || EVP_DigestUpdate(s->md, buf, (size_t)n) != 1) {
            stop(s);
            snprintf(s->hex, sizeof s->hex, "unknown"); /* unreadable, or shorter than recorded */
            return 0;
        }
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
