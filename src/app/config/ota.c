/*
 * ota.c: the ota: block (blocks.h), a list of entries. The entries with
 * `platform: esphome` are merged into one, as ESPHome merges entries on
 * one port (ESPHome would run a second server on another port; eota serves
 * one): they must agree on port, version and MD5, have at most one id and
 * one password, and their automations are appended in order. An entry
 * `platform: web_server` turns the web upload on.
 */
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

/* Keys that moved out of ota: entries in ESPHome's history. */
#define SAFE_MODE_MOVED " (moved to the 'safe_mode:' block in ESPHome 2024.6)"
#define OTA_MOVED_KEYS                                                               \
    KMOVED("safe_mode", SAFE_MODE_MOVED), KMOVED("num_attempts", SAFE_MODE_MOVED), \
        KMOVED("reboot_timeout", SAFE_MODE_MOVED)

static const schema_key ota_esphome_keys[] = {
    KEY("platform", K_CUSTOM),       KEY("password", K_CUSTOM),
    KEY("port", K_CUSTOM),           KEY("id", K_CUSTOM),
    KEY("version", K_CUSTOM),        KEY("allow_md5_auth", K_CUSTOM),
    KEY("encryption", K_CUSTOM),
    KEY("on_begin", K_CUSTOM),       KEY("on_progress", K_CUSTOM),
    KEY("on_end", K_CUSTOM),         KEY("on_abort", K_CUSTOM),
    KEY("on_error", K_CUSTOM),       KEY("on_state_change", K_CUSTOM),
    KEY("signature", K_CUSTOM), /* signature.c */
    KEY("progress_floor", K_CUSTOM), KEY("progress_window", K_CUSTOM),
    OTA_MOVED_KEYS,
    KEND};
static const schema_key ota_web_keys[] = {KEY("platform", K_CUSTOM), OTA_MOVED_KEYS, KEND};

#define NTRIGGERS 6
static const char *const ota_triggers[NTRIGGERS] = {"on_begin", "on_progress", "on_end",
                                                    "on_abort", "on_error",    "on_state_change"};

static eota_automation *ota_trigger(eota_ota_config *o, size_t i)
{
    eota_automation *t[NTRIGGERS] = {&o->on_begin, &o->on_progress, &o->on_end,
                                     &o->on_abort, &o->on_error,    &o->on_state_change};
    return t[i];
}

void cfg_free_ota(eota_ota_config *o)
{
    free(o->id);
    cfg_wipe_free(o->password);
    explicit_bzero(&o->encryption_key, sizeof o->encryption_key);
    for (size_t i = 0; i < NTRIGGERS; i++)
        cfg_free_automation(ota_trigger(o, i));
    memset(o, 0, sizeof *o);
}

/* One `platform: esphome` entry as read, with its nodes for messages. */
typedef struct ota_entry {
    eota_ota_config e;
    size_t index;      /* in the ota: list */
    const char *path;  /* "ota[index]" */
    yaml_node_t *n, *port, *version, *md5, *password, *id, *encryption;
} ota_entry;

/* Where the merged entry's values came from, for messages. */
typedef struct ota_merge {
    int first_index;
    size_t first_line;
    int id_index;
    int pw_index;
    size_t pw_line;
    int enc_index;      /* the entry whose encryption: block is in force */
} ota_merge;

static int read_entry_triggers(cfg_reader *r, ota_entry *x)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v;
    for (size_t i = 0; i < NTRIGGERS; i++)
        if ((v = schema_map_get(&r->s, x->n, ota_triggers[i])) &&
            cfg_read_automation(r, v, schema_path_key(p, x->path, ota_triggers[i]),
                                ota_trigger(&x->e, i), false))
            return -1;
    return 0;
}

static int read_entry(cfg_reader *r, ota_entry *x)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN];
    eota_ota_config *e = &x->e;
    long long ll;
    if (schema_apply(c, x->n, x->path, ota_esphome_keys))
        return -1;
    if ((x->password = schema_map_get(c, x->n, "password"))) {
        if (schema_get_str(c, x->password, schema_path_key(p, x->path, "password"),
                           SCHEMA_SENSITIVE | SCHEMA_EMPTY_OK, &e->password))
            return -1;
        e->has_password = true;
    }
    if ((x->port = schema_map_get(c, x->n, "port")) &&
        schema_get_port(c, x->port, schema_path_key(p, x->path, "port"), &e->port))
        return -1;
    if ((x->id = schema_map_get(c, x->n, "id")) &&
        schema_get_str(c, x->id, schema_path_key(p, x->path, "id"), 0, &e->id))
        return -1;
    if ((x->version = schema_map_get(c, x->n, "version"))) {
        if (schema_get_int(c, x->version, schema_path_key(p, x->path, "version"), 1, 2, &ll))
            return -1;
        e->version = (uint8_t)ll;
    }
    if ((x->md5 = schema_map_get(c, x->n, "allow_md5_auth")) &&
        schema_get_bool(c, x->md5, schema_path_key(p, x->path, "allow_md5_auth"),
                        &e->allow_md5_auth))
        return -1;
    if ((x->encryption = schema_map_get(c, x->n, "encryption")) &&
        cfg_read_ota_encryption(r, x->encryption, schema_path_key(p, x->path, "encryption"), e))
        return -1;
    if (cfg_read_progress_floor(c, x->n, x->path, &e->progress_floor_bytes, &e->progress_window_ms))
        return -1;
    yaml_node_t *sig = schema_map_get(c, x->n, "signature"); /* signature.c */
    if (sig && cfg_read_signature(r, sig, schema_path_key(p, x->path, "signature")))
        return -1;
    return read_entry_triggers(r, x);
}

/* Entries on one port must agree on what the server does. */
static int check_agree(schema_ctx *c, const ota_merge *m, const eota_ota_config *have,
                       const ota_entry *x)
{
    char p[SCHEMA_PATH_LEN];
    const eota_ota_config *e = &x->e;
    if (e->port != have->port)
        return FAIL(c, x->port ? x->port : x->n, schema_path_key(p, x->path, "port"),
                    "port %u differs from port %u of ota[%d] at line %zu: every 'platform: "
                    "esphome' entry must use the same port",
                    e->port, have->port, m->first_index, m->first_line);
    if (e->version != have->version)
        return FAIL(c, x->version ? x->version : x->n, schema_path_key(p, x->path, "version"),
                    "version %u differs from version %u of ota[%d] at line %zu: merged "
                    "entries must agree",
                    e->version, have->version, m->first_index, m->first_line);
    if (e->allow_md5_auth != have->allow_md5_auth)
        return FAIL(c, x->md5 ? x->md5 : x->n, schema_path_key(p, x->path, "allow_md5_auth"),
                    "differs from ota[%d] at line %zu: merged entries must agree",
                    m->first_index, m->first_line);
    return 0;
}

/* At most one id; the passwords given must be the same. */
static int merge_id_password(schema_ctx *c, ota_merge *m, eota_ota_config *have,
                             ota_entry *x)
{
    char p[SCHEMA_PATH_LEN];
    eota_ota_config *e = &x->e;
    if (e->id) {
        if (have->id)
            return FAIL(c, x->id, schema_path_key(p, x->path, "id"),
                        "ota[%d] on the same port already has the id '%s': merged entries "
                        "may have one id",
                        m->id_index, have->id);
        have->id = e->id;
        e->id = NULL;
        m->id_index = (int)x->index;
    }
    if (!e->has_password)
        return 0;
    if (have->has_password && strcmp(have->password, e->password) != 0)
        return FAIL(c, x->password, schema_path_key(p, x->path, "password"),
                    "differs from the password of ota[%d] at line %zu: merged entries must "
                    "agree",
                    m->pw_index, m->pw_line);
    if (!have->has_password) {
        have->password = e->password;
        e->password = NULL;
        have->has_password = true;
        m->pw_index = (int)x->index;
        m->pw_line = x->password->start_mark.line + 1;
    }
    return 0;
}

/* Merged entries may give one encryption key (the same in each). */
static int merge_encryption(schema_ctx *c, ota_merge *m, eota_ota_config *have, const ota_entry *x)
{
    char p[SCHEMA_PATH_LEN];
    const eota_ota_config *e = &x->e;
    if (!e->encryption)
        return 0;
    if (have->encryption && memcmp(have->encryption_key.key, e->encryption_key.key, 32) != 0)
        return FAIL(c, x->encryption, schema_path_key(p, x->path, "encryption"),
                    "its key differs from the key of ota[%d]: merged entries must agree", m->enc_index);
    have->encryption = true;
    have->encryption_key = e->encryption_key;
    m->enc_index = (int)x->index;
    return 0;
}

/* PROTOCOL.md section 10: no password beside a Noise key. */
static int check_no_password_with_key(schema_ctx *c, const eota_ota_config *have, const ota_entry *x)
{
    char p[SCHEMA_PATH_LEN];
    if (!have->encryption || !have->has_password)
        return 0;
    yaml_node_t *at = x->encryption ? x->encryption : x->password ? x->password : x->n;
    return FAIL(c, at, schema_path_key(p, x->path, x->encryption ? "encryption" : "password"),
                "'password:' and 'encryption:' cannot be combined: with encryption the key "
                "authenticates the uploader, so remove 'password:'");
}

static int merge_entry(cfg_reader *r, ota_merge *m, ota_entry *x)
{
    eota_ota_config *have = &r->cfg->ota;
    if (!have->present) {
        *have = x->e;
        have->present = true;
        memset(&x->e, 0, sizeof x->e);
        m->first_index = m->id_index = m->pw_index = (int)x->index;
        m->first_line = x->n->start_mark.line + 1;
        m->pw_line = x->password ? x->password->start_mark.line + 1 : 0;
        m->enc_index = (int)x->index;
        return check_no_password_with_key(&r->s, have, x);
    }
    if (check_agree(&r->s, m, have, x) || merge_id_password(&r->s, m, have, x) ||
        merge_encryption(&r->s, m, have, x))
        return -1;
    for (size_t i = 0; i < NTRIGGERS; i++)
        if (cfg_append_automation(&r->s, ota_trigger(have, i), ota_trigger(&x->e, i)))
            return -1;
    return check_no_password_with_key(&r->s, have, x);
}

static int read_esphome_entry(cfg_reader *r, ota_merge *m, yaml_node_t *n, size_t index,
                              const char *path)
{
    ota_entry x;
    memset(&x, 0, sizeof x);
    x.index = index;
    x.path = path;
    x.n = n;
    x.e.port = r->cfg->profile->port;
    x.e.version = 2;
    x.e.line = (int)n->start_mark.line + 1;
    x.e.column = (int)n->start_mark.column + 1;
    int rc = read_entry(r, &x) ? -1 : merge_entry(r, m, &x);
    cfg_free_ota(&x.e);
    return rc;
}

static int read_web_server_entry(cfg_reader *r, yaml_node_t *n, const char *path)
{
    if (schema_apply(&r->s, n, path, ota_web_keys))
        return -1;
    if (!r->cfg->ota_web_server) {
        r->cfg->ota_web_server = true;
        r->cfg->ota_web_server_line = (int)n->start_mark.line + 1;
    }
    return 0;
}

static int read_entry_of_list(cfg_reader *r, ota_merge *m, yaml_node_t *e, size_t i)
{
    static const char *const platforms[] = {"esphome", "web_server", "http_request", NULL};
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], p2[SCHEMA_PATH_LEN];
    int which;
    schema_path_index(p, "ota", i);
    if (schema_expect(c, e, p, YAML_MAPPING_NODE, false, "a mapping with 'platform:'"))
        return -1;
    yaml_node_t *pl = schema_require(c, e, p, "platform", p2);
    if (!pl || schema_get_choice(c, pl, p2, platforms, &which))
        return -1;
    if (which == 2)
        return cfg_read_ota_http_request(r, e, p); /* http_request.c */
    return which == 0 ? read_esphome_entry(r, m, e, i, p) : read_web_server_entry(r, e, p);
}

int cfg_read_ota(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    char sh[SCHEMA_SHOW_LEN];
    ota_merge m;
    memset(&m, 0, sizeof m);
    if (schema_check_tag(c, n, "ota"))
        return -1;
    if (n->type == YAML_MAPPING_NODE)
        return FAIL(c, n, "ota",
                    "expected a list of entries such as '- platform: esphome' (the form "
                    "without a list was removed in ESPHome 2024.6)");
    if (n->type != YAML_SEQUENCE_NODE)
        return FAIL(c, n, "ota",
                    "expected a list of entries such as '- platform: esphome', got %s",
                    schema_describe(sh, n, false));
    yaml_node_item_t *items = n->data.sequence.items.start;
    for (yaml_node_item_t *it = items; it < n->data.sequence.items.top; it++)
        if (read_entry_of_list(r, &m, schema_node(c, *it), (size_t)(it - items)))
            return -1;
    return 0;
}
