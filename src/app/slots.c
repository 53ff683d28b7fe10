/*
 * slots.c: the A/B slots of `eota device` and the storage backend that
 * receives an upload into the inactive slot (see slots.h for the layout and
 * the order of the atomic steps).
 */
#include "slots.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eota/posix.h"
#include "eota/protocol.h"
#include "config/config.h"


static int mkdir_p(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

char *eota_slots_path(const eota_slots *s, char slot, char *buf, size_t len)
{
    snprintf(buf, len, "%s/slot_%c.bin", s->dir, slot);
    return buf;
}

char eota_slots_inactive(const eota_slots *s) { return eota_slot_letter(eota_bootstate_target(&s->bs)); }

static void remove_parts(const eota_slots *s)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && (!strcmp(e->d_name + n - 5, ".part") || !strcmp(e->d_name + n - 4, ".tmp"))) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", s->dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

/* Two 4 KiB sectors, one per copy of the record (plus its boot counter);
 * 4-byte writes, erased to FF: the shape of a small NOR otadata area. */
#define BOOT_SECTOR 4096u

int eota_slots_reload(eota_slots *s, char *err, size_t errlen)
{
    eota_bootstate_config bc;
    memset(&bc, 0, sizeof bc);
    bc.flash = eota_fileflash_seam(&s->ff);
    bc.copy_addr[0] = 0;
    bc.copy_addr[1] = BOOT_SECTOR;
    /* images are files, not regions of this flash: no slot regions and no
     * CRC check by the core (slot sizes 0) */
    int rc = eota_bootstate_open(&s->bs, &bc);
    if (rc != EOTA_OK) {
        snprintf(err, errlen, "%s/boot.flash: boot state unreadable (%s)", s->dir, eota_status_name(rc));
        return -1;
    }
    s->active = eota_slot_letter(eota_bootstate_active(&s->bs));
    return 0;
}

int eota_slots_open(eota_slots *s, const char *dir, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->ff.fd = -1;
    if (mkdir_p(dir) != 0) {
        snprintf(err, errlen, "state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    s->dir = strdup(dir);
    if (!s->dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/boot.flash", dir);
    if (eota_fileflash_open(&s->ff, path, 2, BOOT_SECTOR, 4, 0xFF) != EOTA_OK) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "not a boot state file");
        eota_slots_close(s);
        return -1;
    }
    if (eota_slots_reload(s, err, errlen) != 0) {
        eota_slots_close(s);
        return -1;
    }
    remove_parts(s);
    return 0;
}

int eota_slots_show(const char *dir, FILE *out, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/boot.flash", dir);
    if (access(path, F_OK) != 0) {
        snprintf(err, errlen, "%s: %s (no device has run with this state directory)", path, strerror(errno));
        return -1;
    }
    eota_slots s;
    memset(&s, 0, sizeof s);
    s.dir = (char *)dir;
    if (eota_fileflash_open(&s.ff, path, 2, BOOT_SECTOR, 4, 0xFF) != EOTA_OK) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "not a boot state file");
        return -1;
    }
    int rc = eota_slots_reload(&s, err, errlen);
    if (rc == 0) {
        fprintf(out, "active=%c\nseq=%u\nattempts=%u\nsafe_mode_requested=%d\n", s.active ? s.active : '-',
                eota_bootstate_seq(&s.bs), eota_bootstate_attempts(&s.bs),
                eota_bootstate_safe_mode_requested(&s.bs));
        uint32_t installs = 0;
        for (int i = 0; i < EOTA_BOOT_SLOTS; i++) {
            eota_slot_info si;
            eota_bootstate_slot(&s.bs, i, &si);
            fprintf(out, "slot_%c=%s\nslot_%c_size=%u\nslot_%c_crc=%08x\nslot_%c_install=%u\n", eota_slot_letter(i),
                    eota_slot_state_name(si.state), eota_slot_letter(i), si.size, eota_slot_letter(i), si.crc,
                    eota_slot_letter(i), si.image_seq);
            if (si.image_seq > installs)
                installs = si.image_seq;
        }
        fprintf(out, "installs=%u\n", installs);
    }
    eota_fileflash_close(&s.ff);
    return rc;
}

void eota_slots_close(eota_slots *s)
{
    if (s->ff.fd >= 0)
        eota_fileflash_close(&s->ff);
    s->ff.fd = -1;
    free(s->dir);
    s->dir = NULL;
}

/* ------------------------------------------------------------------ */
/* The file backend                                                    */
/* ------------------------------------------------------------------ */

static uint64_t now_ms(void) { return eota_posix_now_ms64(); }

static void fb_reset(eota_file_backend *fb)
{
    if (fb->inflating) {
        inflateEnd(&fb->zs);
        fb->inflating = 0;
    }
    if (fb->fd >= 0) {
        close(fb->fd);
        fb->fd = -1;
    }
}

/* A failure: the status, and its detail for the engine's logs. */
static int fb_fail(eota_file_backend *fb, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fb_fail(eota_file_backend *fb, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fb->why, sizeof fb->why, fmt, ap);
    va_end(ap);
    fb->code = 0;
    return status;
}

/* simulate: fail_at: the chip's own response byte (fail_code) goes with it. */
static int fb_simulated(eota_file_backend *fb, int status, const char *what)
{
    fb_fail(fb, status, "simulated failure %s", what);
    fb->code = fb->o.fail_code;
    return status;
}

static int fb_begin(void *ctx, const eota_begin_info *info)
{
    eota_file_backend *fb = ctx;
    fb_reset(fb);
    fb->why[0] = '\0';
    fb->code = 0;
    if (fb->o.fail_at == EOTA_SIM_FAIL_PREPARE)
        return fb_simulated(fb, EOTA_EPREPARE, "at prepare");
    if (info->ota_type != EOTA_OTA_TYPE_APP)
        return fb_fail(fb, EOTA_EUNSUPPORTED, "only application images");
    /* gzip shrinks, so the wire size only bounds a raw image */
    if (info->size > fb->o.slot_size && !(info->gzip_agreed && fb->o.gzip))
        return fb_fail(fb, EOTA_ETOOBIG, "image larger than the slot");
    fb->target = eota_slots_inactive(fb->slots);
    /* The boot state says first that the target holds nothing bootable, so
     * that no crash from here on can boot a half-written slot. */
    int prc = eota_bootstate_prepare(&fb->slots->bs, fb->target == 'a' ? 0 : 1);
    if (prc != EOTA_OK)
        return fb_fail(fb, EOTA_EPREPARE, "boot state: cannot prepare slot %c (%s)", fb->target,
                       eota_status_name(prc));
    snprintf(fb->part_path, sizeof fb->part_path, "%s/slot_%c.bin.part", fb->slots->dir, fb->target);
    fb->fd = open(fb->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fb->fd < 0)
        return fb_fail(fb, EOTA_EPREPARE, "%s: %s", fb->part_path, strerror(errno));
    fb->wire_taken = 0;
    fb->image_len = 0;
    fb->image_crc = 0;
    fb->sniffed = 0;
    fb->head_len = 0;
    fb->gzip_allowed = info->gzip_agreed && fb->o.gzip;
    fb->inflate_done = 0;
    fb->bucket_ms = now_ms();
    fb->tokens = 0;
    fb->flash_busy = 0;
    return EOTA_OK;
}

static int put_file(eota_file_backend *fb, const uint8_t *p, size_t n)
{
    if (fb->image_len + n > fb->o.slot_size)
        return fb_fail(fb, EOTA_ETOOBIG, "image larger than the slot");
    while (n > 0) {
        ssize_t w = write(fb->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return fb_fail(fb, EOTA_EWRITE, "%s: %s", fb->part_path, strerror(errno));
        }
        /* zlib's CRC-32 (the same polynomial as the core's eota_crc32,
         * which is small rather than fast) */
        fb->image_crc = (uint32_t)crc32(fb->image_crc, p, (uInt)w);
        p += w;
        n -= (size_t)w;
        fb->image_len += (uint64_t)w;
    }
    return EOTA_OK;
}

static int put_image(eota_file_backend *fb, const uint8_t *p, size_t n)
{
    if (!fb->inflating)
        return put_file(fb, p, n);
    if (fb->inflate_done)
        return n ? fb_fail(fb, EOTA_EFORMAT, "data after the end of the gzip stream") : EOTA_OK;
    uint8_t out[16384];
    fb->zs.next_in = (Bytef *)(uintptr_t)p;
    fb->zs.avail_in = (uInt)n;
    do {
        fb->zs.next_out = out;
        fb->zs.avail_out = sizeof out;
        int r = inflate(&fb->zs, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
            return fb_fail(fb, EOTA_EFORMAT, "the gzip image is corrupt");
        int st = put_file(fb, out, sizeof out - fb->zs.avail_out);
        if (st != EOTA_OK)
            return st;
        if (r == Z_STREAM_END) {
            fb->inflate_done = 1;
            if (fb->zs.avail_in > 0)
                return fb_fail(fb, EOTA_EFORMAT, "data after the end of the gzip stream");
            break;
        }
        if (r == Z_BUF_ERROR && fb->zs.avail_in == 0)
            break;
    } while (fb->zs.avail_in > 0 || fb->zs.avail_out == 0);
    return EOTA_OK;
}

/* Decide raw or gzip on the first two bytes (1F 8B), then pass them on. */
static int sniff(eota_file_backend *fb, const uint8_t *p, size_t n, size_t *used)
{
    *used = 0;
    while (fb->head_len < 2 && *used < n)
        fb->head[fb->head_len++] = p[(*used)++];
    if (fb->head_len < 2)
        return EOTA_OK;
    fb->sniffed = 1;
    if (fb->gzip_allowed && fb->head[0] == 0x1f && fb->head[1] == 0x8b) {
        memset(&fb->zs, 0, sizeof fb->zs);
        if (inflateInit2(&fb->zs, 16 + MAX_WBITS) != Z_OK)
            return fb_fail(fb, EOTA_EPREPARE, "zlib could not start");
        fb->inflating = 1;
    }
    return put_image(fb, fb->head, 2);
}

/* The emulated flash speed: how much of len it can take now. The emulated
 * flash works only while it has data: time spent waiting for the network is
 * not banked as write credit, so a block arriving after an idle gap takes
 * len / speed to be written, as on a chip. */
static size_t flash_can_take(eota_file_backend *fb, size_t len)
{
    uint64_t t = now_ms();
    if (!fb->flash_busy) {
        fb->bucket_ms = t;
        fb->tokens = 0;
    }
    fb->tokens += (t - fb->bucket_ms) * fb->o.write_speed / 1000;
    fb->bucket_ms = t;
    size_t n = len > fb->tokens ? (size_t)fb->tokens : len;
    fb->tokens -= n;
    fb->flash_busy = n < len;
    return n;
}

static int fb_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_file_backend *fb = ctx;
    *taken = 0;
    if (fb->fd < 0)
        return fb_fail(fb, EOTA_EINVAL, "write without begin");
    if (fb->o.write_speed) {
        len = flash_can_take(fb, len);
        if (len == 0)
            return EOTA_OK;
    }
    if (fb->o.fail_at == EOTA_SIM_FAIL_WRITE &&
        (!fb->o.has_fail_after || fb->wire_taken + len > fb->o.fail_after))
        return fb_simulated(fb, EOTA_EWRITE, "while writing");
    size_t used = 0;
    if (!fb->sniffed) {
        int st = sniff(fb, data, len, &used);
        if (st != EOTA_OK)
            return st;
    }
    int st = put_image(fb, data + used, len - used);
    if (st != EOTA_OK)
        return st;
    fb->wire_taken += (uint32_t)len;
    *taken = len;
    return EOTA_OK;
}

/* fsync and rename the part file over the slot's, then fsync the folder. */
static int commit_file(eota_file_backend *fb)
{
    char final[4096];
    int r = fsync(fb->fd);
    if (close(fb->fd) != 0)
        r = -1;
    fb->fd = -1;
    if (r != 0)
        return fb_fail(fb, EOTA_ECOMMIT, "%s: %s", fb->part_path, strerror(errno));
    eota_slots_path(fb->slots, fb->target, final, sizeof final);
    if (rename(fb->part_path, final) != 0 || fsync_dir(fb->slots->dir) != 0)
        return fb_fail(fb, EOTA_ECOMMIT, "committing %s: %s", final, strerror(errno));
    return EOTA_OK;
}

static int fb_end(void *ctx)
{
    eota_file_backend *fb = ctx;
    if (fb->o.fail_at == EOTA_SIM_FAIL_END)
        return fb_simulated(fb, EOTA_EVERIFY, "at end");
    if (!fb->sniffed && fb->head_len) { /* a one-byte image */
        int st = put_image(fb, fb->head, fb->head_len);
        if (st != EOTA_OK)
            return st;
    }
    if (fb->inflating && !fb->inflate_done)
        return fb_fail(fb, EOTA_EVERIFY, "the gzip image is truncated");
    int st = commit_file(fb);
    if (st != EOTA_OK)
        return st;
    int irc = eota_bootstate_install(&fb->slots->bs, fb->target == 'a' ? 0 : 1, (uint32_t)fb->image_len,
                                     fb->image_crc);
    if (irc != EOTA_OK)
        return fb_fail(fb, EOTA_ECOMMIT, "boot state: cannot install slot %c (%s)", fb->target,
                       eota_status_name(irc));
    fb_reset(fb);
    return EOTA_OK;
}

static void fb_abort(void *ctx)
{
    eota_file_backend *fb = ctx;
    fb_reset(fb);
    if (fb->part_path[0])
        unlink(fb->part_path);
}

static void fb_detail(void *ctx, eota_backend_detail *out)
{
    eota_file_backend *fb = ctx;
    out->why = fb->why[0] ? fb->why : NULL;
    out->code = fb->code;
}

static const eota_backend_ops file_ops = {fb_begin, fb_write, fb_end, fb_abort, fb_detail};

void eota_file_backend_init(eota_file_backend *fb, eota_slots *slots, const eota_file_backend_opts *o)
{
    memset(fb, 0, sizeof *fb);
    fb->slots = slots;
    fb->o = *o;
    fb->fd = -1;
}

eota_backend eota_file_backend_seam(eota_file_backend *fb)
{
    eota_backend b;
    b.ops = &file_ops;
    b.ctx = fb;
    b.caps = fb->o.gzip ? EOTA_BACKEND_CAP_GZIP : 0;
    return b;
}
