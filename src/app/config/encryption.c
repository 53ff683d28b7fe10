/*
 * encryption.c: the Noise keys of the config (PROTOCOL.md section 10):
 * `api: encryption: key:` (the only part of api: eota reads) and an ota:
 * entry's `encryption:` block, with its own `key:` or bare (then it reuses
 * the API key). A key is base64 of exactly 32 bytes, decoded with
 * OpenSSL's EVP_DecodeBlock, and never all zero. The key's text never
 * reaches a message: the errors say what is wrong, not what was written.
 */
#include <openssl/evp.h>
#include <string.h>

#include "blocks.h"

#define KEY_B64_LEN 44 /* 32 bytes: 43 characters and one '=' */

static const schema_key encryption_keys[] = {KEY("key", K_CUSTOM), KEND};

/* Decode text into 32 bytes: 0, or -1 (not base64 of 32 bytes). */
static int decode_key(const char *text, uint8_t out[32])
{
    uint8_t buf[36];
    size_t n = strlen(text);
    if (n != KEY_B64_LEN || text[n - 1] != '=' || text[n - 2] == '=')
        return -1;
    int got = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n);
    int ok = got == 33;
    if (ok)
        memcpy(out, buf, 32);
    explicit_bzero(buf, sizeof buf);
    return ok ? 0 : -1;
}

static bool all_zero(const uint8_t k[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= k[i];
    return acc == 0;
}

/* `key:` of an encryption block at path into *dst. */
static int read_key(schema_ctx *c, yaml_node_t *v, const char *path, eota_config_key *dst)
{
    char *text = NULL;
    if (schema_get_str(c, v, path, SCHEMA_SENSITIVE, &text))
        return -1;
    int bad = decode_key(text, dst->key);
    cfg_wipe_free(text);
    if (bad)
        return FAIL(c, v, path,
                    "expected the base64 text of a 32-byte key (44 characters ending in '=', as "
                    "'esphome' writes API keys); the value is not shown");
    if (all_zero(dst->key))
        return FAIL(c, v, path, "the key is all zero, which is not a valid encryption key: make a "
                                "new one (e.g. 'openssl rand -base64 32')");
    dst->present = true;
    dst->line = (int)v->start_mark.line + 1;
    return 0;
}

/* An empty scalar, or YAML's null written out. */
static bool is_null(const yaml_node_t *n)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL"};
    const char *v = (const char *)n->data.scalar.value;
    if (n->data.scalar.length == 0)
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp(v, nulls[i]) == 0)
            return true;
    return false;
}

/* An `encryption:` block at path: a mapping with `key:`, or empty (NULL
 * key node then). Returns -1, 0 with dst filled, or 0 with *bare set. */
static int read_block(schema_ctx *c, yaml_node_t *n, const char *path, eota_config_key *dst, bool *bare)
{
    char p[SCHEMA_PATH_LEN];
    *bare = false;
    if (n->type == YAML_SCALAR_NODE) {
        if (is_null(n)) {
            *bare = true;
            return 0;
        }
        return FAIL(c, n, path,
                    "expected a mapping with 'key:', got a value (not shown): write the key as "
                    "'key: ...' on its own line under 'encryption:'");
    }
    if (schema_expect(c, n, path, YAML_MAPPING_NODE, true, "a mapping with 'key:'") ||
        schema_apply(c, n, path, encryption_keys))
        return -1;
    yaml_node_t *k = schema_map_get(c, n, "key");
    if (!k) {
        *bare = true;
        return 0;
    }
    return read_key(c, k, schema_path_key(p, path, "key"), dst);
}

int cfg_read_api(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    bool bare;
    if (n->type != YAML_MAPPING_NODE)
        return 0; /* `api:` alone: the native API without encryption */
    yaml_node_t *e = schema_map_get(c, n, "encryption");
    if (!e)
        return 0;
    if (read_block(c, e, "api.encryption", &r->cfg->api_key, &bare))
        return -1;
    if (bare)
        return FAIL(c, e, "api.encryption", "has no 'key:' (base64 of 32 bytes)");
    return 0;
}

int cfg_read_ota_encryption(cfg_reader *r, yaml_node_t *n, const char *path, eota_ota_config *e)
{
    schema_ctx *c = &r->s;
    bool bare;
    if (read_block(c, n, path, &e->encryption_key, &bare))
        return -1;
    if (bare) {
        if (!r->cfg->api_key.present)
            return FAIL(c, n, path,
                        "has no 'key:', and there is no 'api: encryption: key:' to reuse: give "
                        "one of them (base64 of 32 bytes)");
        e->encryption_key = r->cfg->api_key;
        e->encryption_key.line = (int)n->start_mark.line + 1;
    }
    e->encryption = true;
    return 0;
}

const uint8_t *eota_config_noise_key(const eota_config *cfg, bool *required)
{
    *required = cfg->ota.encryption;
    if (cfg->ota.encryption)
        return cfg->ota.encryption_key.key;
    return cfg->api_key.present ? cfg->api_key.key : NULL;
}
