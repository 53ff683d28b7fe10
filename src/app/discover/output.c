/*
 * output.c: a device found as a table line or a JSON object (discover.h).
 * A table line is a SPEC of `eota upload --devices-from` ("NAME.local:PORT")
 * and, after '#', the kind and the TXT records as key=value.
 */
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "discover.h"

static const char *kind_name(const disc_dev *d) { return d->type == DISC_EOTA ? "eota" : "esphome"; }

/* "kitchen.local" of "kitchen.local." */
static void host_of(const disc_dev *d, char *out, size_t len)
{
    snprintf(out, len, "%s", d->host);
    size_t n = strlen(out);
    if (n && out[n - 1] == '.')
        out[n - 1] = 0;
}

typedef void (*pair_fn)(void *ctx, const char *key, const char *value);

/* Every key=value of the TXT records, in their order. */
static void each_pair(const disc_dev *d, pair_fn fn, void *ctx)
{
    AvahiStringList *l = NULL;
    if (avahi_string_list_parse(d->txt, d->txtlen, &l) != 0)
        return;
    l = avahi_string_list_reverse(l);
    for (AvahiStringList *i = l; i; i = avahi_string_list_get_next(i)) {
        char *k = NULL, *v = NULL;
        if (avahi_string_list_get_pair(i, &k, &v, NULL) == 0)
            fn(ctx, k, v ? v : "");
        avahi_free(k);
        avahi_free(v);
    }
    avahi_string_list_free(l);
}

typedef struct line_ctx {
    char *out;
    size_t len, used;
} line_ctx;

static void line_pair(void *ctx, const char *key, const char *value)
{
    line_ctx *c = ctx;
    if (c->used >= c->len)
        return;
    int q = strchr(value, ' ') != NULL || !*value;
    int n = snprintf(c->out + c->used, c->len - c->used, " %s=%s%s%s", key, q ? "\"" : "", value, q ? "\"" : "");
    c->used += n > 0 ? (size_t)n : 0;
}

void disc_line(const disc_dev *d, char *out, size_t len)
{
    char host[256], spec[300];
    host_of(d, host, sizeof host);
    snprintf(spec, sizeof spec, "%s:%u", host, d->port);
    int n = snprintf(out, len, "%-32s # %-7s address=%s", spec, kind_name(d), d->addr[0][0] ? d->addr[0] : "-");
    line_ctx c = {out, len, n > 0 ? (size_t)n : 0};
    each_pair(d, line_pair, &c);
}

void disc_header(void) { printf("# %-30s   %-7s address, TXT records\n", "SPEC", "KIND"); }

static void json_pair(void *ctx, const char *key, const char *value) { cJSON_AddStringToObject(ctx, key, value); }

char *disc_json(const disc_dev *d, const char *event)
{
    char host[256], spec[300];
    host_of(d, host, sizeof host);
    snprintf(spec, sizeof spec, "%s:%u", host, d->port);
    cJSON *o = cJSON_CreateObject();
    if (event)
        cJSON_AddStringToObject(o, "event", event);
    cJSON_AddStringToObject(o, "kind", kind_name(d));
    cJSON_AddStringToObject(o, "instance", d->instance);
    cJSON_AddStringToObject(o, "spec", spec);
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddNumberToObject(o, "port", d->port);
    if (d->addr[0][0])
        cJSON_AddStringToObject(o, "address", d->addr[0]);
    else
        cJSON_AddNullToObject(o, "address");
    cJSON *t = cJSON_AddObjectToObject(o, "txt");
    each_pair(d, json_pair, t);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
