/*
 * slots.c: the A/B slots of `eota device` in their state directory (see
 * slots.h for the layout and the order of the atomic steps): the lock, the
 * boot state's file, the read-only case.
 */
#include "slots.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

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

char *eota_slots_path(const eota_slots *s, char slot, char *buf, size_t len)
{
    snprintf(buf, len, "%s/slot_%c.bin", s->dir, slot);
    return buf;
}

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
    /* images are files, not regions of this flash: no slot regions; the
     * files are checked through the check seam (slots_check.c) */
    bc.check = eota_slots_check;
    bc.check_ctx = s;
    int rc = eota_bootstate_open(&s->bs, &bc);
    if (rc != EOTA_OK) {
        snprintf(err, errlen, "%s/boot.flash: boot state unreadable (%s)", s->dir, eota_status_name(rc));
        return -1;
    }
    if (!s->no_repair && !s->read_only)
        eota_slots_repair(s);
    s->active = eota_slot_letter(eota_bootstate_active(&s->bs));
    return 0;
}

/* One device per state directory: an exclusive flock on the directory
 * itself (no lock file, so a read-only directory is locked too). */
static int lock_dir(eota_slots *s, char *err, size_t errlen)
{
    s->lock_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "state directory %s: %s", s->dir, strerror(errno));
        return -1;
    }
    s->locked = 1;
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno == EWOULDBLOCK)
        snprintf(err, errlen, "state directory %s is in use by another eota device (one device per state "
                 "directory: stop the other one, or give this one its own --state-dir)", s->dir);
    else
        snprintf(err, errlen, "state directory %s: cannot lock it: %s", s->dir, strerror(errno));
    return -1;
}

/* A boot.flash of the wrong size is started again erased (the boot state
 * is rebuilt from the slots); s->boot_found says what it was. 0, or -1
 * with err. */
static int check_boot_file(eota_slots *s, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(s->boot_found, sizeof s->boot_found, "missing");
        return 0;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size == 2 * BOOT_SECTOR) {
        if (S_ISREG(st.st_mode) && st.st_size == 0)
            snprintf(s->boot_found, sizeof s->boot_found, "empty");
        return 0;
    }
    snprintf(s->boot_found, sizeof s->boot_found, "%lld bytes instead of %u (truncated or damaged)",
             (long long)st.st_size, 2 * BOOT_SECTOR);
    if (s->no_repair) {
        snprintf(err, errlen, "%s: %s", path, s->boot_found);
        return -1;
    }
    if (s->read_only || truncate(path, 0) != 0) {
        snprintf(err, errlen, "%s: %s, and it cannot be rewritten: %s", path, s->boot_found,
                 s->read_only ? "the state directory is read-only" : strerror(errno));
        return -1;
    }
    return 0;
}

/* boot.flash opened (read-only in a read-only directory). 0, or -1. */
static int open_boot_file(eota_slots *s, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/boot.flash", s->dir);
    if (check_boot_file(s, path, err, errlen) != 0)
        return -1;
    errno = 0;
    if (eota_fileflash_open(&s->ff, path, 2, BOOT_SECTOR, 4, 0xFF) != EOTA_OK) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "not a boot state file");
        return -1;
    }
    return 0;
}

/* The directory, made when missing; a read-only one noted. 0, or -1. */
static int make_dir(eota_slots *s, const char *dir, char *err, size_t errlen)
{
    struct stat st;
    int made = mkdir_p(dir), e = errno;
    if (made != 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) { /* an existing one may be read-only */
        snprintf(err, errlen, "state directory %s: %s", dir, strerror(e));
        return -1;
    }
    s->dir = strdup(dir);
    if (!s->dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (access(dir, W_OK) != 0 && (errno == EROFS || errno == EACCES)) {
        s->read_only = 1;
        LOGW("device", "State directory %s is read-only (%s): the installed image runs, updates are off until "
             "it is writable and the device restarts", dir, strerror(errno));
    }
    return 0;
}

int eota_slots_open(eota_slots *s, const char *dir, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->ff.fd = -1;
    if (make_dir(s, dir, err, errlen) != 0 || lock_dir(s, err, errlen) != 0 ||
        open_boot_file(s, err, errlen) != 0 || eota_slots_reload(s, err, errlen) != 0) {
        eota_slots_close(s);
        return -1;
    }
    if (!s->read_only)
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
    s.no_repair = 1; /* check_boot_file only says what it found */
    if (check_boot_file(&s, path, err, errlen) != 0)
        return -1;
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
    if (s->locked)
        close(s->lock_fd); /* and the lock with it */
    s->locked = 0;
    free(s->dir);
    s->dir = NULL;
}
