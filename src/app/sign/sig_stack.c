/*
 * sig_stack.c: the signature check of `eota device` (sig_stack.h): the
 * core's layer set up from the config, and the slot_X.sig records that say
 * what the running image's counter and version are.
 */
#include "sign/sig_stack.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void record_path(const eota_slots *slots, char slot, char *buf, size_t len)
{
    snprintf(buf, len, "%s/slot_%c.sig", slots->dir, slot);
}

void eota_sig_stack_slot_record(const eota_slots *slots, char slot, eota_sig_running *out)
{
    char path[4096], version[EOTA_SIG_VERSION_MAX + 2];
    unsigned long counter;
    memset(out, 0, sizeof *out);
    record_path(slots, slot, path, sizeof path);
    FILE *f = slot ? fopen(path, "r") : NULL;
    if (!f)
        return;
    if (fscanf(f, "counter=%lu\nversion=%33[^\n]", &counter, version) == 2 && strlen(version) <= EOTA_SIG_VERSION_MAX) {
        out->known = 1;
        out->counter = (uint32_t)counter;
        out->version_len = (uint8_t)strlen(version);
        memcpy(out->version, version, out->version_len);
    }
    fclose(f);
}

static void running(void *ctx, eota_sig_running *out)
{
    eota_sig_stack *s = ctx;
    eota_sig_stack_slot_record(s->slots, s->slots->active, out);
}

/* The target slot's record, replaced (written whole, then renamed). */
static int accepted(void *ctx, const eota_sig_info *info)
{
    eota_sig_stack *s = ctx;
    char path[4096], tmp[4200];
    char slot = eota_slot_letter(eota_bootstate_target(&s->slots->bs));
    if (!slot)
        return EOTA_ENOSLOT;
    record_path(s->slots, slot, path, sizeof path);
    if (!info)
        return unlink(path) == 0 || access(path, F_OK) != 0 ? EOTA_OK : EOTA_EIO;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return EOTA_EIO;
    int ok = fprintf(f, "counter=%u\nversion=%.*s\n", info->counter, info->version_len, info->version) > 0;
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return EOTA_EIO;
    }
    LOGI("ota", "Signed image accepted: version %.*s, security counter %u", info->version_len, info->version,
         info->counter);
    return EOTA_OK;
}

eota_backend eota_sig_stack_wrap(eota_sig_stack *s, eota_backend inner, eota_slots *slots, const eota_config *cfg)
{
    const eota_signature_config *sc = &cfg->signature;
    memset(s, 0, sizeof *s);
    if (!sc->present)
        return inner;
    /* Without a hash context the layer's begin fails: every upload refused. */
    (void)eota_posix_hash_init(&s->hash);
    eota_hash h = eota_posix_hash_seam(&s->hash);
    for (size_t i = 0; i < sc->nkeys; i++)
        (void)eota_sig_key_init(&s->keys[i], sc->keys[i], &h); /* checked at load */
    s->slots = slots;
    eota_sig_layer_config lc = {
        .inner = inner, .hash = h, .verify = eota_posix_verify(), .keys = s->keys, .nkeys = sc->nkeys,
        .required = sc->required, .allow_downgrade = sc->allow_downgrade,
        .running = running, .accepted = accepted, .ctx = s,
    };
    (void)eota_sig_layer_init(&s->layer, &lc); /* a complete config */
    return eota_sig_layer_seam(&s->layer);
}

void eota_sig_stack_free(eota_sig_stack *s) { eota_posix_hash_free(&s->hash); }
