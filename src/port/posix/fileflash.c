/*
 * fileflash.c: a file treated as a NOR flash (eota/fileflash.h).
 */
#include "eota/fileflash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* pread or pwrite all of len bytes at off, through short counts and EINTR. */
static int full_pio(int fd, uint8_t *rbuf, const uint8_t *wbuf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = rbuf ? pread(fd, rbuf, len, off) : pwrite(fd, wbuf, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return EOTA_EIO;
        if (rbuf)
            rbuf += n;
        else
            wbuf += n;
        len -= (size_t)n;
        off += n;
    }
    return EOTA_OK;
}

static int full_pread(int fd, void *buf, size_t len, off_t off) { return full_pio(fd, buf, NULL, len, off); }

static int full_pwrite(int fd, const void *buf, size_t len, off_t off) { return full_pio(fd, NULL, buf, len, off); }

static int sync_fd(const eota_fileflash *ff)
{
    if (ff->no_sync)
        return EOTA_OK;
    return fsync(ff->fd) == 0 ? EOTA_OK : EOTA_EIO;
}

static int ff_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    eota_fileflash *ff = ctx;
    if (addr > ff->size || len > ff->size - addr)
        return EOTA_EINVAL;
    return len ? full_pread(ff->fd, buf, len, (off_t)addr) : EOTA_OK;
}

static int ff_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
    eota_fileflash *ff = ctx;
    uint8_t cur[256];
    if (ff->read_only)
        return EOTA_EIO;
    if (len == 0 || addr >= ff->size || len > ff->size - addr || addr % ff->write_align != 0 ||
        len % ff->write_align != 0 || addr / ff->sector_size != (addr + (uint32_t)len - 1) / ff->sector_size)
        return EOTA_EINVAL;
    for (size_t off = 0; off < len; off += sizeof cur) {
        size_t n = len - off < sizeof cur ? len - off : sizeof cur;
        int st = full_pread(ff->fd, cur, n, (off_t)(addr + off));
        if (st != EOTA_OK)
            return st;
        for (size_t i = 0; i < n; i++)
            if (cur[i] != ff->erased)
                return EOTA_EINVAL;
    }
    int st = full_pwrite(ff->fd, data, len, (off_t)addr);
    return st == EOTA_OK ? sync_fd(ff) : st;
}

static int fill_erased(const eota_fileflash *ff, uint32_t addr, uint32_t len)
{
    uint8_t buf[4096];
    memset(buf, ff->erased, sizeof buf);
    while (len > 0) {
        uint32_t n = len < sizeof buf ? len : (uint32_t)sizeof buf;
        int st = full_pwrite(ff->fd, buf, n, (off_t)addr);
        if (st != EOTA_OK)
            return st;
        addr += n;
        len -= n;
    }
    return EOTA_OK;
}

static int ff_erase(void *ctx, uint32_t addr)
{
    eota_fileflash *ff = ctx;
    if (ff->read_only)
        return EOTA_EIO;
    if (addr >= ff->size || addr % ff->sector_size != 0)
        return EOTA_EINVAL;
    int st = fill_erased(ff, addr, ff->sector_size);
    return st == EOTA_OK ? sync_fd(ff) : st;
}

static int ff_sector(void *ctx, uint32_t addr, uint32_t *start, uint32_t *size)
{
    eota_fileflash *ff = ctx;
    if (addr >= ff->size)
        return EOTA_EINVAL;
    *start = addr / ff->sector_size * ff->sector_size;
    *size = ff->sector_size;
    return EOTA_OK;
}

static void ff_info(void *ctx, eota_flash_info *out)
{
    eota_fileflash *ff = ctx;
    out->size = ff->size;
    out->write_align = ff->write_align;
    out->erased = ff->erased;
}

static const eota_flash_ops fileflash_ops = {
    .read = ff_read,
    .program = ff_program,
    .erase = ff_erase,
    .sector = ff_sector,
    .info = ff_info,
};

int eota_fileflash_open(eota_fileflash *ff, const char *path, uint32_t sectors, uint32_t sector_size,
                        uint32_t write_align, uint8_t erased)
{
    memset(ff, 0, sizeof *ff);
    ff->fd = -1;
    if (!path || sectors == 0 || write_align == 0 || write_align > EOTA_FLASH_MAX_ALIGN ||
        (write_align & (write_align - 1)) != 0 || sector_size == 0 || sector_size % write_align != 0 ||
        (uint64_t)sectors * sector_size > 0x80000000u || (erased != 0x00 && erased != 0xFF))
        return EOTA_EINVAL;
    ff->size = sectors * sector_size;
    ff->sector_size = sector_size;
    ff->write_align = write_align;
    ff->erased = erased;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    int created = 0;
    if (fd < 0 && (errno == EROFS || errno == EACCES)) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ff->read_only = fd >= 0;
    }
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        created = 1;
    }
    if (fd < 0)
        return EOTA_EIO;
    ff->fd = fd;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        eota_fileflash_close(ff);
        return EOTA_EIO;
    }
    if ((created || st.st_size == 0) && !ff->read_only) {
        if (fill_erased(ff, 0, ff->size) != EOTA_OK || sync_fd(ff) != EOTA_OK) {
            eota_fileflash_close(ff);
            return EOTA_EIO;
        }
    } else if ((uint64_t)st.st_size != ff->size) { /* also an empty one that cannot be written */
        eota_fileflash_close(ff);
        errno = EINVAL;
        return EOTA_EINVAL;
    }
    return EOTA_OK;
}

void eota_fileflash_close(eota_fileflash *ff)
{
    if (ff->fd >= 0)
        close(ff->fd);
    ff->fd = -1;
}

eota_flash eota_fileflash_seam(eota_fileflash *ff)
{
    eota_flash f = {&fileflash_ops, ff};
    return f;
}
