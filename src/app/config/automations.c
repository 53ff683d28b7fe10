/*
 * automations.c: a trigger's value (on_boot:, on_begin:, ...) in any of
 * ESPHome's forms (blocks.h): one action, a list of actions,
 * {then: ..., priority: ...}, or a list of those; and freeing and merging
 * the action lists that result.
 */
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

static const schema_key trigger_keys[] = {KEY("then", K_CUSTOM), KEY("trigger_id", K_STR),
                                          KEY("automation_id", K_STR), KEND};
static const schema_key boot_trigger_keys[] = {KEY("then", K_CUSTOM), KEY("priority", K_CUSTOM),
                                               KEY("trigger_id", K_STR),
                                               KEY("automation_id", K_STR), KEND};

static int read_list(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                     bool triggers, bool boot);

/* priority: (ESPHome's float); the first one given counts. */
static int read_priority(schema_ctx *c, yaml_node_t *v, const char *path,
                         eota_automation *au)
{
    const char *t;
    bool hidden;
    char *end = NULL;
    if (schema_scalar(c, v, path, "a number", &t, &hidden))
        return -1;
    double d = t ? strtod(t, &end) : 0;
    if (!t || !*t || *end)
        return schema_expected(c, v, path, "a number", t, hidden);
    if (!au->has_priority) {
        au->has_priority = true;
        au->priority = d;
    }
    return 0;
}

/* An automation written out: {then: ..., priority: ...} */
static int read_trigger(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                        bool boot)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_t *v;
    if (schema_apply(&r->s, n, path, boot ? boot_trigger_keys : trigger_keys))
        return -1;
    if ((v = schema_map_get(&r->s, n, "priority")) &&
        read_priority(&r->s, v, schema_path_key(p, path, "priority"), au))
        return -1;
    v = schema_map_get(&r->s, n, "then");
    if (!v)
        return 0;
    return read_list(r, v, schema_path_key(p, path, "then"), au, false, boot);
}

/* One item: an action, or (where triggers are allowed) {then: ...}. */
static int read_item(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                     bool triggers, bool boot)
{
    if (triggers && schema_map_key(&r->s, n, "then"))
        return read_trigger(r, n, path, au, boot);
    return cfg_read_action(r, n, path, au);
}

/* One item or a list of items. */
static int read_list(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                     bool triggers, bool boot)
{
    schema_ctx *c = &r->s;
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    if (schema_check_tag(c, n, path))
        return -1;
    if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *items = n->data.sequence.items.start;
        for (yaml_node_item_t *it = items; it < n->data.sequence.items.top; it++)
            if (read_item(r, schema_node(c, *it), schema_path_index(p, path, (size_t)(it - items)),
                          au, triggers, boot))
                return -1;
        return 0;
    }
    if (n->type == YAML_MAPPING_NODE)
        return read_item(r, n, path, au, triggers, boot);
    return FAIL(c, n, path, "expected an action or a list of actions, got %s",
                schema_describe(sh, n, false));
}

int cfg_read_automation(cfg_reader *r, yaml_node_t *n, const char *path, eota_automation *au,
                        bool boot)
{
    return read_list(r, n, path, au, true, boot);
}

int cfg_append_automation(schema_ctx *c, eota_automation *dst, eota_automation *src)
{
    if (!src->count)
        return 0;
    eota_action *na = realloc(dst->actions, (dst->count + src->count) * sizeof *na);
    if (!na)
        return schema_oom(c);
    memcpy(na + dst->count, src->actions, src->count * sizeof *na);
    dst->actions = na;
    dst->count += src->count;
    free(src->actions);
    src->actions = NULL;
    src->count = 0;
    return 0;
}

static void free_action(eota_action *a)
{
    char *strings[] = {a->format, a->tag, a->command, a->id, a->url, a->md5, a->md5_url, a->sha256};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(strings[i]);
    for (size_t i = 0; i < a->nargs; i++)
        free(a->args[i]);
    free(a->args);
    cfg_wipe_free(a->password);
}

void cfg_free_automation(eota_automation *au)
{
    for (size_t i = 0; i < au->count; i++)
        free_action(&au->actions[i]);
    free(au->actions);
    memset(au, 0, sizeof *au);
}
