/*
 * record.c: the version pull updates installed, kept in the state
 * directory beside each slot (pull_installed_a, pull_installed_b: slot,
 * version, and the image's size and CRC-32 as the boot state has them, so
 * that the record speaks only of that very image). Written by rename, as `eota publish`
 * writes its files.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "log.h"
#include "publish/publish.h"

#define RECORD_NAME "pull_installed_%c"

void pull_record_read(const char *dir, char slot_letter, pull_record *r)
{
    char path[4200], line[256];
    memset(r, 0, sizeof *r);
    snprintf(path, sizeof path, "%s/" RECORD_NAME, dir, slot_letter);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char slot = 0;
    unsigned size = 0, crc = 0;
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "slot=%c", &slot) == 1 || sscanf(line, "size=%u", &size) == 1 ||
            sscanf(line, "crc=%x", &crc) == 1)
            got++;
        else if (!strncmp(line, "version=", 8) && snprintf(r->version, sizeof r->version, "%s", line + 8) > 0)
            got++;
    }
    fclose(f);
    if (got == 4 && slot == slot_letter) {
        r->slot = slot;
        r->size = size;
        r->crc = crc;
    }
}

int pull_record_write(const char *dir, const pull_record *r)
{
    char text[256], err[512], name[32];
    int n = snprintf(text, sizeof text, "slot=%c\nversion=%s\nsize=%u\ncrc=%08x\n", r->slot, r->version,
                     (unsigned)r->size, (unsigned)r->crc);
    snprintf(name, sizeof name, RECORD_NAME, r->slot);
    if (pub_write_atomic(dir, name, text, (size_t)n, err, sizeof err) != 0) {
        LOGE(PULL_TAG, "Recording the installed version: %s", err);
        return -1;
    }
    return 0;
}
