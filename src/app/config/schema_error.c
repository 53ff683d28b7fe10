/*
 * schema_error.c: the schema engine's messages (schema.h): the first
 * problem in the caller's buffer, key paths, values as quoted (or hidden),
 * and the tags the reader refuses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

const char schema_lambda_msg[] =
    "lambdas are not supported (eota runs no C++ code); to change the OTA "
    "password use the action 'ota.set_auth_password: {id: ..., password: ...}' "
    "instead";

static void set_err(schema_ctx *c, int status, const char *file, const yaml_mark_t *mark,
                    const char *path, const char *msg)
{
    if (c->status)
        return; /* the first problem wins */
    c->status = status;
    if (!c->err || !c->errlen)
        return;
    if (mark && path)
        snprintf(c->err, c->errlen, "%s:%zu:%zu: key '%s': %s", file, mark->line + 1,
                 mark->column + 1, path, msg);
    else if (mark)
        snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", file, mark->line + 1,
                 mark->column + 1, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s", file, msg);
}

int schema_failx(schema_ctx *c, int status, const char *file, const yaml_mark_t *mark,
                 const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_err(c, status, file, mark, path, msg);
    return -1;
}

int schema_expected(schema_ctx *c, yaml_node_t *n, const char *path, const char *want,
                    const char *text, bool hidden)
{
    char sh[SCHEMA_SHOW_LEN];
    return FAIL(c, n, path, "expected %s, got %s", want,
                text ? schema_show(sh, text, hidden || schema_shared(c, n)) : "nothing");
}

int schema_oom(schema_ctx *c)
{
    set_err(c, EOTA_EIO, c->file, NULL, NULL, "out of memory");
    return -1;
}

char *schema_strdup(schema_ctx *c, const char *s)
{
    char *d = strdup(s);
    if (!d)
        schema_oom(c);
    return d;
}

/* Append text to a path buffer holding n bytes, truncating. */
static size_t path_cat(char *buf, size_t n, const char *text)
{
    for (; *text && n + 1 < SCHEMA_PATH_LEN; text++)
        buf[n++] = ((unsigned char)*text < 0x20 || *text == 0x7F) ? '?' : *text;
    buf[n] = '\0';
    return n;
}

const char *schema_path_key(char *buf, const char *parent, const char *key)
{
    size_t n = 0;
    buf[0] = '\0';
    if (parent && *parent) {
        n = path_cat(buf, n, parent);
        n = path_cat(buf, n, ".");
    }
    path_cat(buf, n, key);
    return buf;
}

const char *schema_path_index(char *buf, const char *parent, size_t i)
{
    char num[32];
    snprintf(num, sizeof num, "[%zu]", i);
    path_cat(buf, path_cat(buf, 0, parent), num);
    return buf;
}

const char *schema_show(char *buf, const char *text, bool hidden)
{
    if (hidden) {
        snprintf(buf, SCHEMA_SHOW_LEN, "<hidden>");
        return buf;
    }
    size_t n = 0, max = SCHEMA_SHOW_LEN - 6;
    buf[n++] = '\'';
    for (const unsigned char *p = (const unsigned char *)text; *p && n < max; p++)
        buf[n++] = (*p >= 0x20 && *p < 0x7F) ? (char)*p : '?';
    if (strlen(text) > max - 1) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

const char *schema_describe_in(schema_ctx *c, char *buf, const yaml_node_t *n, bool hidden)
{
    hidden = hidden || schema_shared(c, n);
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (schema_is_null(n))
        return "nothing";
    return schema_show(buf, schema_text(n), hidden || schema_tag_is(n, "!secret"));
}

int schema_check_tag(schema_ctx *c, yaml_node_t *n, const char *path)
{
    const char *t = (const char *)n->tag;
    if (!t || strncmp(t, "tag:yaml.org,2002:", 18) == 0)
        return 0;
    if (strcmp(t, "!secret") == 0) {
        if (n->type != YAML_SCALAR_NODE)
            return FAIL(c, n, path, "!secret takes a name, not %s",
                        n->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
        return 0;
    }
    if (strcmp(t, "!lambda") == 0)
        return FAIL(c, n, path, "%s", schema_lambda_msg);
    return FAIL(c, n, path, "the tag '%.40s' is not supported (only !secret is)", t);
}
