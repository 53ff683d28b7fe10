/*
 * slots_check.c: the boot state and the slot files of `eota device` check
 * each other (slots.h):
 *
 *   at every boot   a slot's file is checked against the size and CRC-32
 *                   the boot state records before it is started (the core
 *                   asks through its check seam); one that differs is not
 *                   started, and the core marks it INVALID
 *   no record       (boot.flash missing, empty, erased, zeroed, random,
 *                   truncated) the boot state is rebuilt from the slot
 *                   files and the records beside them (SLOT.check), with a
 *                   WARN line that says what was found and what was chosen
 *   lost confirm    an image on trial whose record says it was confirmed
 *                   (the newer boot record that said so was lost) is kept
 *                   confirmed, not rolled back
 *   records         follow the boot state: written for installed images
 *                   that have none, marked confirmed once confirmed,
 *                   removed for an image that failed (INVALID)
 */
#include <stdio.h>
#include <string.h>

#include "eota/filestore.h"
#include "log.h"
#include "slots.h"

/* The path of slot i's file. */
static const char *slot_file(const eota_slots *s, int i, char *buf, size_t len)
{
    return eota_slots_path(s, eota_slot_letter(i), buf, len);
}

int eota_slots_check(void *ctx, int slot, const eota_slot_info *info)
{
    const eota_slots *s = ctx;
    char path[4096], err[4300];
    int r = eota_slot_file_check(slot_file(s, slot, path, sizeof path), info->size, info->crc, err, sizeof err);
    if (r != 1)
        LOGW("boot", "%s (the boot state records %u bytes, CRC-32 %08x): slot %c is not started", err, info->size,
             info->crc, eota_slot_letter(slot));
    return r;
}

/* --- a lost boot state, rebuilt --- */

/* What the slots hold: a slot counts when its record reads and its file
 * matches it. */
typedef struct found_slots {
    eota_slot_record rec[EOTA_BOOT_SLOTS];
    int good[EOTA_BOOT_SLOTS];
    int files;                          /* slot files on disk */
    char said[EOTA_BOOT_SLOTS][600];    /* what was found, in words */
} found_slots;

static void find_slot(const eota_slots *s, int i, found_slots *f)
{
    char path[4096], err[4300];
    slot_file(s, i, path, sizeof path);
    FILE *fp = fopen(path, "rb");
    if (fp) {
        f->files++;
        fclose(fp);
    }
    eota_slot_record *r = &f->rec[i];
    if (eota_slot_record_read(path, r, err, sizeof err) != 0 ||
        eota_slot_file_check(path, r->size, r->crc, err, sizeof err) != 1) {
        snprintf(f->said[i], sizeof f->said[i], "slot %c unusable (%.500s)", eota_slot_letter(i), err);
        return;
    }
    f->good[i] = 1;
    snprintf(f->said[i], sizeof f->said[i], "slot %c holds %u bytes, CRC-32 %08x, install %u%s", eota_slot_letter(i),
             r->size, r->crc, r->install, r->confirmed ? ", confirmed" : ", never confirmed");
}

/* What boot.flash holds when no record reads it. */
static const char *boot_contents(eota_slots *s)
{
    if (s->boot_found[0])
        return s->boot_found;
    uint8_t buf[256];
    int ff = 1, zero = 1;
    const eota_flash *fl = eota_bootstate_flash(&s->bs);
    for (uint32_t off = 0; off < s->ff.size; off += sizeof buf) {
        if (fl->ops->read(fl->ctx, off, buf, sizeof buf) != EOTA_OK)
            return "unreadable";
        for (size_t i = 0; i < sizeof buf; i++) {
            ff &= buf[i] == 0xFF;
            zero &= buf[i] == 0x00;
        }
    }
    return ff ? "erased (no record)" : zero ? "zeroed" : "damaged (no record reads)";
}

static void set_slot(eota_bootrec *r, int i, const eota_slot_record *rec, uint8_t state, uint32_t seq)
{
    r->slot[i].state = state;
    r->slot[i].image_seq = seq;
    r->slot[i].size = rec->size;
    r->slot[i].crc = rec->crc;
}

/* The record to rebuild: the newest image runs (on trial unless its
 * record says it was confirmed), the other one is kept as the fallback
 * (valid: it ran before the newest was installed). *chosen says so in
 * words. */
static void plan_rebuild(const found_slots *f, eota_bootrec *r, char *chosen, size_t len)
{
    memset(r, 0, sizeof *r);
    r->active = 0xFF;
    int n = f->good[0] ? 0 : 1, o = 1 - n;
    if (f->good[0] && f->good[1] && (int32_t)(f->rec[1].install - f->rec[0].install) > 0)
        n = 1, o = 0;
    if (!f->good[o]) { /* the only image: on trial unless it was confirmed */
        set_slot(r, n, &f->rec[n], f->rec[n].confirmed ? EOTA_SLOT_VALID : EOTA_SLOT_NEW, 1);
        r->active = f->rec[n].confirmed ? (uint8_t)n : 0xFF;
        snprintf(chosen, len, "slot %c runs%s", eota_slot_letter(n), f->rec[n].confirmed ? "" : " on trial");
        return;
    }
    set_slot(r, o, &f->rec[o], EOTA_SLOT_VALID, 1);
    set_slot(r, n, &f->rec[n], f->rec[n].confirmed ? EOTA_SLOT_VALID : EOTA_SLOT_NEW, 2);
    r->active = (uint8_t)(f->rec[n].confirmed ? n : o);
    snprintf(chosen, len, "slot %c (the newest) runs%s, slot %c is kept to fall back to", eota_slot_letter(n),
             f->rec[n].confirmed ? "" : " on trial", eota_slot_letter(o));
}

static void rebuild(eota_slots *s)
{
    found_slots f;
    memset(&f, 0, sizeof f);
    for (int i = 0; i < EOTA_BOOT_SLOTS; i++)
        find_slot(s, i, &f);
    char was[sizeof s->boot_found];
    snprintf(was, sizeof was, "%s", boot_contents(s));
    s->boot_found[0] = '\0'; /* said once */
    int fresh = f.files == 0 && (!strcmp(was, "missing") || !strcmp(was, "empty") || was[0] == 'e');
    if (!f.good[0] && !f.good[1]) {
        if (!fresh)
            LOGW("boot", "%s/boot.flash: %s, and no slot holds a checked image (%s; %s): no image runs until an "
                 "upload", s->dir, was, f.said[0], f.said[1]);
        return;
    }
    eota_bootrec r;
    char chosen[96];
    plan_rebuild(&f, &r, chosen, sizeof chosen);
    int rc = eota_bootstate_restore(&s->bs, &r);
    LOGW("boot", "%s/boot.flash: %s; rebuilt from the slots: %s; %s: %s%s%s", s->dir, was, f.said[0], f.said[1],
         chosen, rc == EOTA_OK ? "" : "; writing it failed: ", rc == EOTA_OK ? "" : eota_status_name(rc));
}

/* --- a confirmation that a lost record held --- */

/* Slot i's record, when it describes the image the boot state records. */
static int matching_record(const eota_slots *s, int i, eota_slot_record *r)
{
    char path[4096], err[4300];
    eota_slot_info si;
    eota_bootstate_slot(&s->bs, i, &si);
    return eota_slot_record_read(slot_file(s, i, path, sizeof path), r, err, sizeof err) == 0 &&
           r->size == si.size && r->crc == si.crc;
}

static void keep_confirmed(eota_slots *s)
{
    int a = eota_bootstate_active(&s->bs);
    eota_slot_record r;
    if (a == EOTA_BOOT_NO_SLOT || eota_bootstate_slot(&s->bs, a, NULL) != EOTA_SLOT_TRIAL ||
        !matching_record(s, a, &r) || !r.confirmed)
        return;
    int rc = eota_bootstate_confirm(&s->bs);
    LOGW("boot", "%s/boot.flash: slot %c is on trial in the boot record, but its record (slot_%c.bin.check) says it "
         "was confirmed (a newer boot record was lost): kept confirmed%s%s", s->dir, eota_slot_letter(a),
         eota_slot_letter(a), rc == EOTA_OK ? "" : "; writing it failed: ", rc == EOTA_OK ? "" : eota_status_name(rc));
}

void eota_slots_repair(eota_slots *s)
{
    if (eota_bootstate_seq(&s->bs) == 0)
        rebuild(s);
    else
        keep_confirmed(s);
}

/* --- the records follow the boot state --- */

static void sync_slot(eota_slots *s, int i)
{
    eota_slot_info si;
    eota_slot_state st = eota_bootstate_slot(&s->bs, i, &si);
    char path[4096], err[4300];
    slot_file(s, i, path, sizeof path);
    if (st == EOTA_SLOT_INVALID && eota_slot_record_remove(path, err, sizeof err) != 0)
        LOGW("boot", "%s", err); /* an image that failed: never rebuilt from */
    if (st != EOTA_SLOT_NEW && st != EOTA_SLOT_TRIAL && st != EOTA_SLOT_VALID)
        return;
    eota_slot_record r;
    int have = matching_record(s, i, &r);
    if (have && (r.confirmed || st != EOTA_SLOT_VALID))
        return;
    if (!have && eota_slot_file_check(path, si.size, si.crc, err, sizeof err) != 1)
        return; /* not this image: the boot checks say so */
    eota_slot_record w = {si.size, si.crc, have ? r.install : si.image_seq, st == EOTA_SLOT_VALID};
    if (eota_slot_record_write(path, &w, err, sizeof err) != 0)
        LOGW("boot", "%s", err);
}

void eota_slots_sync(eota_slots *s)
{
    if (s->read_only)
        return;
    for (int i = 0; i < EOTA_BOOT_SLOTS; i++)
        sync_slot(s, i);
}
