/*
 * trust.c: a signed release judged before its download (internal.h). With
 * `ota: signature:` configured, the manifest's ota.signature (what
 * `eota publish` read from the image's trailer) says who signed the image
 * and what it would replace the running image with, so the device skips,
 * without fetching a byte, a release the signature check would refuse at
 * its end: unsigned while signatures are required, signed by no trusted
 * key, or a downgrade (a lower security counter; a lower version unless
 * allow_downgrade: true). The check of the image itself stays the storage
 * stack's (src/app/sign/sig_stack.c): a manifest that lies gets the image
 * downloaded and then refused there, nothing installed.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sign/sign.h"

size_t pull_trusted_ids(const eota_config *cfg, char out[][PULL_KEY_ID_LEN + 1], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; cfg->signature.present && i < cfg->signature.nkeys && n < max; i++) {
        uint8_t hash[EOTA_SHA256_LEN];
        if (sign_key_hash(cfg->signature.keys[i], hash) == 0)
            sign_key_id(hash, out[n++]);
    }
    return n;
}

static int trusted_signer(const pull_signature *s, char ids[][PULL_KEY_ID_LEN + 1], size_t nids)
{
    for (unsigned k = 0; k < s->nkeys; k++)
        for (size_t i = 0; i < nids; i++)
            if (!strcmp(s->key_ids[k], ids[i]))
                return 1;
    return 0;
}

static void signers(const pull_signature *s, char *buf, size_t len)
{
    buf[0] = '\0';
    for (unsigned k = 0; k < s->nkeys; k++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", k ? ", " : "", s->key_ids[k]);
}

const char *pull_trust_refusal(const eota_config *cfg, const pull_release *rel, char ids[][PULL_KEY_ID_LEN + 1],
                               size_t nids, const eota_sig_running *running, char *buf, size_t len)
{
    const eota_signature_config *sc = &cfg->signature;
    const pull_signature *s = &rel->sig;
    char who[3 * (PULL_KEY_ID_LEN + 2)];
    if (!sc->present || (!s->present && !sc->required))
        return NULL;
    signers(s, who, sizeof who);
    if (!s->present)
        snprintf(buf, len, "the manifest's build has no signature data (ota.signature) and this device requires "
                 "signed images");
    else if (!trusted_signer(s, ids, nids))
        snprintf(buf, len, "signed by key %s, none of them trusted here", who);
    else if (running->known && s->counter < running->counter)
        snprintf(buf, len, "its security counter %u is lower than the running image's %u (a downgrade)", s->counter,
                 running->counter);
    else if (running->known && !sc->allow_downgrade &&
             eota_sig_version_cmp(s->version, strlen(s->version), running->version, running->version_len) < 0)
        snprintf(buf, len, "its signed version %s is lower than the running image's %.*s (allow_downgrade: false)",
                 s->version, running->version_len, running->version);
    else
        return NULL;
    return buf;
}
