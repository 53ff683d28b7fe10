/*
 * partial.c: a download that survives a restart of the device
 * (internal.h). While an image arrives its bytes are also appended to
 * pull_partial.bin in the state directory, and pull_partial says what they
 * are the start of (the image's URL, the manifest's MD5, the server's
 * ETag and Last-Modified). A device stopped halfway keeps both; when it
 * starts again and the manifest still names that very image, it feeds the
 * kept bytes through the ingest again (the slot is rewritten from them, so
 * every check sees the whole image), then asks only for the rest, with
 * Range and If-Range: a 206 continues, a 200 (the file changed) starts
 * over. A finished, failed or changed download drops both files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"
#include "publish/publish.h"

#define PARTIAL_DATA "pull_partial.bin"
#define PARTIAL_RECORD "pull_partial"

static void path_of(const eota_pull *p, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", p->o.slots->dir, name);
}

void pull_partial_close(eota_pull *p)
{
    if (p->partial_fd >= 0)
        close(p->partial_fd);
    p->partial_fd = -1;
}

void pull_partial_drop(eota_pull *p)
{
    char path[4200];
    pull_partial_close(p);
    path_of(p, PARTIAL_RECORD, path, sizeof path);
    unlink(path);
    path_of(p, PARTIAL_DATA, path, sizeof path);
    unlink(path);
}

void pull_partial_open(eota_pull *p)
{
    char path[4200], text[3000], err[512];
    pull_partial_drop(p);
    if (!p->img_etag[0] && !p->img_last_modified[0])
        return; /* nothing to validate a resume with */
    path_of(p, PARTIAL_DATA, path, sizeof path);
    p->partial_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int n = snprintf(text, sizeof text, "url=%s\nmd5=%s\netag=%s\nlast_modified=%s\n", p->rel.url, p->rel.md5,
                     p->img_etag, p->img_last_modified);
    if (p->partial_fd < 0 || n >= (int)sizeof text ||
        pub_write_atomic(p->o.slots->dir, PARTIAL_RECORD, text, (size_t)n, err, sizeof err) != 0) {
        LOGW(PULL_TAG, "The download cannot be kept for a resume after a restart: %s",
             p->partial_fd < 0 ? strerror(errno) : err);
        pull_partial_drop(p);
    }
}

void pull_partial_write(eota_pull *p, const uint8_t *data, size_t len)
{
    while (p->partial_fd >= 0 && len > 0) {
        ssize_t w = write(p->partial_fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            LOGW(PULL_TAG, "Keeping the download for a resume after a restart failed: %s", strerror(errno));
            pull_partial_drop(p);
            return;
        }
        data += w;
        len -= (size_t)w;
    }
}

/* The record's value of key into out (at most cap bytes). */
static void record_value(const char *text, const char *key, char *out, size_t cap)
{
    const char *v = strstr(text, key);
    out[0] = '\0';
    if (v && (v == text || v[-1] == '\n'))
        snprintf(out, cap, "%.*s", (int)strcspn(v + strlen(key), "\n"), v + strlen(key));
}

int pull_partial_find(eota_pull *p)
{
    char path[4200], *text = NULL, err[512], url[sizeof p->rel.url], md5[33];
    size_t len;
    path_of(p, PARTIAL_RECORD, path, sizeof path);
    if (pub_read_file(path, &text, &len, err, sizeof err) != 0)
        return 0;
    record_value(text, "url=", url, sizeof url);
    record_value(text, "md5=", md5, sizeof md5);
    record_value(text, "etag=", p->img_etag, sizeof p->img_etag);
    record_value(text, "last_modified=", p->img_last_modified, sizeof p->img_last_modified);
    free(text);
    path_of(p, PARTIAL_DATA, path, sizeof path);
    if (strcmp(url, p->rel.url) || strcmp(md5, p->rel.md5) || (!p->img_etag[0] && !p->img_last_modified[0]) ||
        (p->partial_fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        pull_partial_drop(p); /* another release's, or incomplete */
        p->img_etag[0] = p->img_last_modified[0] = '\0';
        return 0;
    }
    LOGI(PULL_TAG, "Resuming the download of version %s kept from before the restart", p->rel.version);
    return 1;
}

int pull_partial_replay(eota_pull *p)
{
    if (pull_download_pump(p) != 0)
        return -1;
    if (eota_ingest_pending(&p->ingest) > 0)
        return 0; /* the backend's turn first */
    ssize_t n = read(p->partial_fd, p->buf, PULL_BUF_CAP);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    if (n == 0)
        return 1;
    if (p->rel.size >= 0 && p->received + (uint64_t)n > (uint64_t)p->rel.size)
        return -1;
    return pull_feed(p, p->buf, (size_t)n) == 0 ? 0 : -1;
}
