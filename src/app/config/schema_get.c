/*
 * schema_get.c: typed values for the schema engine (schema.h): strings,
 * booleans, integers, ports, time periods, sizes and names from a list,
 * each with its "expected ..., got ..." message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "schema.h"
#include "units.h"

int schema_get_str(schema_ctx *c, yaml_node_t *n, const char *path, unsigned flags,
                   char **dst)
{
    const char *t;
    bool hidden;
    const char *want = (flags & SCHEMA_EMPTY_OK) ? "a string" : "a non-empty string";
    if (schema_scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t)
        return schema_expected(c, n, path, want, NULL, false);
    if (!*t && !(flags & SCHEMA_EMPTY_OK))
        return FAIL(c, n, path, "expected a non-empty string, got ''");
    char *d = schema_strdup(c, t);
    if (!d)
        return -1;
    if (*dst) {
        if (flags & SCHEMA_SENSITIVE)
            explicit_bzero(*dst, strlen(*dst));
        free(*dst);
    }
    *dst = d;
    return 0;
}

int schema_get_strings(schema_ctx *c, yaml_node_t *list, const char *path,
                       unsigned first_flags, unsigned flags, char ***out, size_t *count)
{
    char p[SCHEMA_PATH_LEN];
    yaml_node_item_t *items = list->data.sequence.items.start;
    size_t cnt = (size_t)(list->data.sequence.items.top - items);
    if (!cnt)
        return 0;
    *out = calloc(cnt + 1, sizeof **out);
    if (!*out)
        return schema_oom(c);
    for (size_t i = 0; i < cnt; i++) {
        if (schema_get_str(c, schema_node(c, items[i]), schema_path_index(p, path, i),
                           i ? flags : first_flags, &(*out)[i]))
            return -1;
        (*count)++;
    }
    return 0;
}

yaml_node_t *schema_require(schema_ctx *c, yaml_node_t *map, const char *path,
                            const char *key, char *p)
{
    yaml_node_t *v = schema_map_get(c, map, key);
    schema_path_key(p, path, key);
    if (!v)
        FAIL(c, map, p, "required key missing");
    return v;
}

/* The index of text in a NULL-terminated list, or -1; fold: any case. */
static int name_index(const char *text, const char *const *names, bool fold)
{
    for (int i = 0; text && names[i]; i++)
        if ((fold ? strcasecmp(text, names[i]) : strcmp(text, names[i])) == 0)
            return i;
    return -1;
}

int schema_get_name(schema_ctx *c, yaml_node_t *n, const char *path, const char *want,
                    const char *const *names, bool fold, int *dst)
{
    const char *t;
    bool hidden;
    if (schema_scalar(c, n, path, want, &t, &hidden))
        return -1;
    int i = name_index(t, names, fold);
    if (i < 0)
        return schema_expected(c, n, path, want, t, hidden);
    *dst = i;
    return 0;
}

int schema_get_bool(schema_ctx *c, yaml_node_t *n, const char *path, bool *dst)
{
    static const char *const names[] = {"true",  "yes", "on",  "enable",
                                        "false", "no",  "off", "disable", NULL};
    int i;
    if (schema_get_name(c, n, path, "a boolean (true or false)", names, true, &i))
        return -1;
    *dst = i < 4;
    return 0;
}

int schema_get_choice(schema_ctx *c, yaml_node_t *n, const char *path,
                      const char *const *choices, int *dst)
{
    char want[160];
    size_t len = (size_t)snprintf(want, sizeof want, "one of");
    for (size_t i = 0; choices[i] && len < sizeof want; i++)
        len += (size_t)snprintf(want + len, sizeof want - len, "%s %s", i ? "," : "",
                                choices[i]);
    return schema_get_name(c, n, path, want, choices, false, dst);
}

int schema_get_int(schema_ctx *c, yaml_node_t *n, const char *path, long long lo,
                   long long hi, long long *dst)
{
    const char *t;
    bool hidden;
    char want[96];
    long long v;
    snprintf(want, sizeof want, "an integer from %lld to %lld", lo, hi);
    if (schema_scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t || eota_units_integer(t, &v) != 0 || v < lo || v > hi)
        return schema_expected(c, n, path, want, t, hidden);
    *dst = v;
    return 0;
}

int schema_get_port(schema_ctx *c, yaml_node_t *n, const char *path, uint16_t *dst)
{
    long long v = 0;
    if (schema_get_int(c, n, path, 1, 65535, &v))
        return -1;
    *dst = (uint16_t)v;
    return 0;
}

int schema_get_duration(schema_ctx *c, yaml_node_t *n, const char *path, bool zero_ok,
                        uint32_t *dst)
{
    const char *t, *why;
    bool hidden;
    char sh[SCHEMA_SHOW_LEN];
    const char *want = "a time period such as '30s', '5min' or '100ms'";
    uint32_t v;
    if (schema_scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t)
        return schema_expected(c, n, path, want, NULL, false);
    if (eota_config_parse_duration(t, &v, &why) != 0) {
        if (!hidden && eota_units_integer(t, &(long long){0}) == 0)
            return FAIL(c, n, path, "expected %s, got '%s' (a bare number has no unit; did "
                                    "you mean '%ss'?)",
                        want, t, t);
        return FAIL(c, n, path, "expected %s, got %s (%s)", want,
                    schema_show(sh, t, hidden), why);
    }
    if (v == 0 && !zero_ok)
        return FAIL(c, n, path, "expected a time period longer than 0, got %s",
                    schema_show(sh, t, hidden));
    *dst = v;
    return 0;
}

int schema_get_size(schema_ctx *c, yaml_node_t *n, const char *path, bool per_second,
                    uint64_t lo, uint64_t hi, uint64_t *dst)
{
    const char *t;
    bool hidden;
    char sh[SCHEMA_SHOW_LEN];
    const char *want = per_second
                           ? "a speed in bytes per second such as 300000, '300KB/s' or '1MiB/s'"
                           : "a size in bytes such as 1048576, '0x100000' or '1MiB'";
    uint64_t v;
    if (schema_scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t || eota_units_size(t, per_second, &v) != 0)
        return schema_expected(c, n, path, want, t, hidden);
    if (v < lo || v > hi)
        return FAIL(c, n, path, "expected a value from %llu to %llu bytes, got %s",
                    (unsigned long long)lo, (unsigned long long)hi,
                    schema_show(sh, t, hidden));
    *dst = v;
    return 0;
}
