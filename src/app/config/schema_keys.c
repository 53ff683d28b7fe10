/*
 * schema_keys.c: mappings against tables of accepted keys (schema.h).
 * Every key must be in the table, once; keys of a simple kind are read
 * here, the others are left to the caller.
 */
#include <stdio.h>
#include <stdlib.h>

#include "schema.h"

int schema_expect(schema_ctx *c, yaml_node_t *n, const char *path, yaml_node_type_t type,
                  bool null_ok, const char *kind)
{
    char sh[SCHEMA_SHOW_LEN];
    if (schema_check_tag(c, n, path))
        return -1;
    if (n->type != type && !(null_ok && schema_is_null(n)))
        return FAIL(c, n, path, "expected %s, got %s", kind, schema_describe(sh, n, false));
    return 0;
}

static const schema_key *find_key(const schema_key *keys, const char *name)
{
    for (; keys->key; keys++)
        if (strcmp(keys->key, name) == 0)
            return keys;
    return NULL;
}

/* "unknown key; accepted keys: a, b, c" (with the hint of a moved key) */
static int unknown_key(schema_ctx *c, yaml_node_t *k, const char *path,
                       const schema_key *keys, const schema_key *moved)
{
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (const schema_key *t = keys; t->key && len < sizeof list; t++)
        if (t->kind != K_MOVED)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                    t->key);
    return FAIL(c, k, path, "unknown key%s; accepted keys: %s", moved ? moved->hint : "",
                list);
}

int schema_unique_key(schema_ctx *c, yaml_node_t *map, yaml_node_pair_t *pr, const char *path)
{
    yaml_node_t *k = schema_node(c, pr->key);
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
        yaml_node_t *k2 = schema_node(c, q->key);
        if (strcmp(schema_key_text(k2), schema_key_text(k)) == 0)
            return FAIL(c, k, path, "duplicate key (first given at line %zu)",
                        k2->start_mark.line + 1);
    }
    return 0;
}

int schema_check_keys(schema_ctx *c, yaml_node_t *map, const char *path,
                      const schema_key *keys)
{
    char sh[SCHEMA_SHOW_LEN], p[SCHEMA_PATH_LEN];
    if (schema_expect(c, map, path, YAML_MAPPING_NODE, true, "a mapping"))
        return -1;
    if (schema_is_null(map))
        return 0; /* an empty block: `host:` */
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = schema_node(c, pr->key);
        if (k->type != YAML_SCALAR_NODE || schema_tag_is(k, "!secret") || !*schema_text(k))
            return FAIL(c, k, *path ? path : NULL, "a key must be a plain name, got %s",
                        schema_describe(sh, k, false));
        const char *name = schema_text(k);
        schema_path_key(p, path, name);
        if (schema_unique_key(c, map, pr, p))
            return -1;
        const schema_key *s = find_key(keys, name);
        if (!s || s->kind == K_MOVED)
            return unknown_key(c, k, p, keys, s);
    }
    return 0;
}

/* Replace *dst with a copy of text. */
static int store_copy(schema_ctx *c, char **dst, const char *text)
{
    char *d = schema_strdup(c, text);
    if (!d)
        return -1;
    free(*dst);
    *dst = d;
    return 0;
}

/* Read one value of a simple kind, storing strings where s says. */
static int apply_key(schema_ctx *c, const schema_key *s, yaml_node_t *v, const char *p)
{
    char **dst = s->store ? (char **)((char *)c->target + s->store - 1) : NULL;
    char *tmp = NULL;
    int rc = 0, idx;
    switch (s->kind) {
    case K_STR:
        rc = schema_get_str(c, v, p, 0, dst ? dst : &tmp);
        free(tmp);
        return rc;
    case K_BOOL:
        return schema_get_bool(c, v, p, &(bool){false});
    case K_INT:
        return schema_get_int(c, v, p, 0, 0x7FFFFFFF, &(long long){0});
    case K_DURATION:
        return schema_get_duration(c, v, p, true, &(uint32_t){0});
    case K_CHOICE:
        if (schema_get_choice(c, v, p, s->choices, &idx))
            return -1;
        return dst ? store_copy(c, dst, s->choices[idx]) : 0;
    case K_SUB:
        return schema_apply(c, v, p, s->sub);
    case K_ANY_MAP:
        return schema_expect(c, v, p, YAML_MAPPING_NODE, true, "a mapping");
    case K_ANY_LIST:
        return schema_expect(c, v, p, YAML_SEQUENCE_NODE, true, "a list");
    default: /* K_CUSTOM, K_ANY (K_MOVED is refused by schema_check_keys) */
        return 0;
    }
}

int schema_apply(schema_ctx *c, yaml_node_t *map, const char *path, const schema_key *keys)
{
    char p[SCHEMA_PATH_LEN];
    if (schema_check_keys(c, map, path, keys))
        return -1;
    if (map->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = schema_node(c, pr->key), *v = schema_node(c, pr->value);
        const schema_key *s = find_key(keys, schema_text(k));
        if (apply_key(c, s, v, schema_path_key(p, path, s->key)))
            return -1;
    }
    return 0;
}
