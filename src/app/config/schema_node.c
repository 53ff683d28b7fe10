/*
 * schema_node.c: reading the node tree for the schema engine (schema.h):
 * nulls, mapping look-ups, and scalars with !secret resolved.
 */
#include <stdlib.h>

#include "schema.h"

bool schema_is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return false;
    if (schema_tag_is(n, YAML_NULL_TAG))
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !schema_tag_is(n, YAML_STR_TAG))
        return false;
    const char *t = schema_text(n);
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
           !strcmp(t, "NULL");
}

/* The first pair of map whose key is the scalar key, or NULL. */
static yaml_node_pair_t *find_pair(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp(schema_text(k), key) == 0)
            return pr;
    }
    return NULL;
}

yaml_node_t *schema_doc_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *pr = find_pair(doc, map, key);
    return pr ? yaml_document_get_node(doc, pr->value) : NULL;
}

yaml_node_t *schema_map_get(schema_ctx *c, yaml_node_t *map, const char *key)
{
    return schema_doc_map_get(c->doc, map, key);
}

yaml_node_t *schema_map_key(schema_ctx *c, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *pr = find_pair(c->doc, map, key);
    return pr ? schema_node(c, pr->key) : NULL;
}

int schema_scalar(schema_ctx *c, yaml_node_t *n, const char *path, const char *want,
                  const char **out, bool *hidden)
{
    char sh[SCHEMA_SHOW_LEN];
    *hidden = false;
    *out = NULL;
    if (schema_check_tag(c, n, path))
        return -1;
    if (n->type != YAML_SCALAR_NODE)
        return FAIL(c, n, path, "expected %s, got %s", want, schema_describe(sh, n, false));
    if (schema_tag_is(n, "!secret")) {
        *hidden = true;
        return schema_secret(c, n, path, out);
    }
    *hidden = schema_shared(c, n); /* an alias may carry a password anywhere */
    if (schema_is_null(n))
        return 0;
    if (strlen(schema_text(n)) != n->data.scalar.length)
        return FAIL(c, n, path, "the value contains a NUL byte");
    *out = schema_text(n);
    return 0;
}

/* Count the references to each node of the document: a node counted more
 * than once is shared (an alias). */
static unsigned char *count_shared(const yaml_document_t *doc)
{
    size_t n = (size_t)(doc->nodes.top - doc->nodes.start);
    unsigned char *seen = calloc(n + 1, 1);
    if (!seen)
        return NULL;
    for (const yaml_node_t *x = doc->nodes.start; x < doc->nodes.top; x++) {
        if (x->type == YAML_SEQUENCE_NODE)
            for (const yaml_node_item_t *i = x->data.sequence.items.start; i < x->data.sequence.items.top; i++)
                seen[*i - 1] = seen[*i - 1] < 2 ? seen[*i - 1] + 1 : 2;
        if (x->type == YAML_MAPPING_NODE)
            for (const yaml_node_pair_t *p = x->data.mapping.pairs.start; p < x->data.mapping.pairs.top; p++)
                seen[p->value - 1] = seen[p->value - 1] < 2 ? seen[p->value - 1] + 1 : 2;
    }
    return seen;
}

bool schema_shared(schema_ctx *c, const yaml_node_t *n)
{
    const yaml_document_t *doc = c->doc;
    if (!doc || n < doc->nodes.start || n >= doc->nodes.top)
        return false; /* not of the file (secrets.yaml) */
    if (c->shared_doc != doc) {
        free(c->shared);
        c->shared = count_shared(doc);
        c->shared_doc = doc;
    }
    /* without memory to count, every node counts as shared: hidden */
    return !c->shared || c->shared[n - doc->nodes.start] > 1;
}
