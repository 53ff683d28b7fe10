/*
 * slots.c: the A/B slots of `eota device` in their state directory (see
 * slots.h for the layout and the order of the atomic steps).
 */
#include "slots.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


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
