/*
 * signature.c: the `signature:` key of an ota entry (signature.h):
 *
 *   signature:
 *     keys: [BASE64 or FILE, ...]   1..8 Ed25519 public keys (a file path
 *                                   is taken from the config's directory)
 *     required: true
 *     allow_downgrade: false
 *
 * A key that is all zeros or of small order is refused here, at load.
 */
#include "signature.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "eota/posix.h"
#include "sign/sign.h"

static const schema_key signature_keys[] = {KEY("keys", K_CUSTOM), KEY("required", K_CUSTOM),
                                            KEY("allow_downgrade", K_CUSTOM), KEND};

/* A key file named relative to the config file. */
static int load_relative(cfg_reader *r, const char *arg, uint8_t *pub, char *err, size_t errlen)
{
    char dir[4096], path[4096 + 256];
    int rc = sign_pubkey_load(arg, pub, err, errlen);
    if (rc == 0 || arg[0] == '/' || !r->cfg->path)
        return rc;
    snprintf(dir, sizeof dir, "%s", r->cfg->path);
    snprintf(path, sizeof path, "%s/%s", dirname(dir), arg);
    return sign_pubkey_load(path, pub, err, errlen);
}

static int trusted_key(const uint8_t *pub)
{
    eota_posix_hash h;
    eota_sig_key k;
    if (eota_posix_hash_init(&h) != EOTA_OK)
        return EOTA_ECRYPTO;
    eota_hash s = eota_posix_hash_seam(&h);
    int st = eota_sig_key_init(&k, pub, &s);
    eota_posix_hash_free(&h);
    return st;
}

static int read_key(cfg_reader *r, yaml_node_t *n, const char *path, uint8_t *pub)
{
    char *text = NULL, err[512];
    if (schema_get_str(&r->s, n, path, 0, &text))
        return -1;
    int rc = load_relative(r, text, pub, err, sizeof err);
    if (rc != 0)
        FAIL(&r->s, n, path, "%s", err);
    else if (trusted_key(pub) != EOTA_OK)
        rc = FAIL(&r->s, n, path, "the all-zero key or a key of small order: never trusted");
    free(text);
    return rc;
}

static int read_keys(cfg_reader *r, yaml_node_t *n, const char *path)
{
    eota_signature_config *sc = &r->cfg->signature;
    char p[SCHEMA_PATH_LEN];
    if (schema_expect(&r->s, n, path, YAML_SEQUENCE_NODE, false, "a list of public keys"))
        return -1;
    yaml_node_item_t *items = n->data.sequence.items.start;
    size_t cnt = (size_t)(n->data.sequence.items.top - items);
    if (cnt == 0 || cnt > EOTA_SIG_KEYS_MAX)
        return FAIL(&r->s, n, path, "expected 1 to %d public keys, got %zu", EOTA_SIG_KEYS_MAX, cnt);
    for (size_t i = 0; i < cnt; i++)
        if (read_key(r, schema_node(&r->s, items[i]), schema_path_index(p, path, i), sc->keys[i]))
            return -1;
    sc->nkeys = cnt;
    return 0;
}

int cfg_read_signature(cfg_reader *r, yaml_node_t *n, const char *path)
{
    eota_signature_config *sc = &r->cfg->signature;
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v;
    if (sc->present)
        return FAIL(&r->s, n, path, "a second 'signature:' (line %d has one): one ota entry may have it",
                    sc->line);
    if (schema_expect(&r->s, n, path, YAML_MAPPING_NODE, false, "a mapping with 'keys:'") ||
        schema_apply(&r->s, n, path, signature_keys))
        return -1;
    sc->required = true;
    sc->allow_downgrade = false;
    sc->line = (int)n->start_mark.line + 1;
    if (!(v = schema_require(&r->s, n, path, "keys", p)) || read_keys(r, v, p))
        return -1;
    if ((v = schema_map_get(&r->s, n, "required")) &&
        schema_get_bool(&r->s, v, schema_path_key(p, path, "required"), &sc->required))
        return -1;
    if ((v = schema_map_get(&r->s, n, "allow_downgrade")) &&
        schema_get_bool(&r->s, v, schema_path_key(p, path, "allow_downgrade"), &sc->allow_downgrade))
        return -1;
    sc->present = true;
    return 0;
}
