/*
 * app.c: the app: block (blocks.h), eota's extension: the application
 * `eota device` runs and supervises (its argv as a list, never split by a
 * shell), how long it may take to stop, and its environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

static const schema_key app_keys[] = {KEY("command", K_CUSTOM), KEY("stop_timeout", K_CUSTOM),
                                      KEY("env", K_CUSTOM), KEND};

static int read_command(schema_ctx *c, yaml_node_t *n, eota_app_config *a)
{
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    yaml_node_t *v = schema_require(c, n, "app", "command", p);
    if (!v || schema_check_tag(c, v, p))
        return -1;
    if (v->type != YAML_SEQUENCE_NODE ||
        v->data.sequence.items.top == v->data.sequence.items.start)
        return FAIL(c, v, p,
                    "expected a non-empty list of strings such as [\"/usr/bin/myapp\", "
                    "\"{image}\"] (one string is not split: give each argument as a list "
                    "item), got %s",
                    v->type == YAML_SEQUENCE_NODE ? "an empty list"
                                                  : schema_describe(sh, v, false));
    /* arguments may be empty, the program may not */
    return schema_get_strings(c, v, p, 0, SCHEMA_EMPTY_OK, &a->argv, &a->argc);
}

static bool env_name_ok(const yaml_node_t *k)
{
    const char *name = schema_key_text(k);
    if (k->type != YAML_SCALAR_NODE || schema_tag_is(k, "!secret") || !*name ||
        (*name >= '0' && *name <= '9'))
        return false;
    for (const char *s = name; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* One NAME: value of env:, as "NAME=value" into *out. */
static int read_env_entry(schema_ctx *c, yaml_node_t *env, yaml_node_pair_t *pr, char **out)
{
    char p[SCHEMA_PATH_LEN], sh[SCHEMA_SHOW_LEN];
    yaml_node_t *k = schema_node(c, pr->key);
    if (!env_name_ok(k))
        return FAIL(c, k, "app.env",
                    "expected an environment variable name (letters, digits, '_'), got %s",
                    schema_describe(sh, k, false));
    const char *name = schema_text(k);
    if (schema_unique_key(c, env, pr, schema_path_key(p, "app.env", name)))
        return -1;
    char *value = NULL;
    if (schema_get_str(c, schema_node(c, pr->value), p, SCHEMA_EMPTY_OK, &value))
        return -1;
    size_t len = strlen(name) + 1 + strlen(value) + 1;
    *out = malloc(len);
    if (*out)
        snprintf(*out, len, "%s=%s", name, value);
    free(value);
    return *out ? 0 : schema_oom(c);
}

/* env: NAME: value; any valid variable name is accepted */
static int read_env(schema_ctx *c, yaml_node_t *v, eota_app_config *a)
{
    if (schema_expect(c, v, "app.env", YAML_MAPPING_NODE, true, "a mapping of NAME: value"))
        return -1;
    if (schema_is_null(v))
        return 0;
    size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    a->env = calloc(cnt + 1, sizeof *a->env);
    if (!a->env)
        return schema_oom(c);
    for (size_t i = 0; i < cnt; i++) {
        if (read_env_entry(c, v, &v->data.mapping.pairs.start[i], &a->env[i]))
            return -1;
        a->nenv++;
    }
    return 0;
}

int cfg_read_app(cfg_reader *r, yaml_node_t *n)
{
    schema_ctx *c = &r->s;
    eota_app_config *a = &r->cfg->app;
    yaml_node_t *v;
    if (cfg_open_block(r, n, "app", app_keys, &a->present) || read_command(c, n, a))
        return -1;
    if ((v = schema_map_get(c, n, "stop_timeout")) &&
        schema_get_duration(c, v, "app.stop_timeout", true, &a->stop_timeout_ms))
        return -1;
    if ((v = schema_map_get(c, n, "env")) && read_env(c, v, a))
        return -1;
    return 0;
}

