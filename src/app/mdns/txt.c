/*
 * txt.c: TXT records (mdns.h): built as "key=value" items, put on the wire
 * and read back with libavahi-common's string lists (libmdnsd's txt2sd
 * trusts its input).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>

#include "mdns/internal.h"

void eota_mdns_txt_add(eota_mdns_txt *t, const char *key, const char *fmt, ...)
{
    if (t->n >= EOTA_MDNS_MAX_TXT)
        return;
    char *it = t->item[t->n++];
    int k = snprintf(it, sizeof t->item[0], "%s=", key);
    if (k < 0 || (size_t)k >= sizeof t->item[0])
        k = (int)sizeof t->item[0] - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it + k, sizeof t->item[0] - (size_t)k, fmt, ap);
    va_end(ap);
}

int eota_mdns_txt_equal(const eota_mdns_txt *a, const eota_mdns_txt *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->item[i], b->item[i]) != 0)
            return 0;
    return 1;
}

/* The items as an Avahi string list (the caller frees it). */
AvahiStringList *eota_mdns_txt_list(const eota_mdns_txt *t)
{
    AvahiStringList *l = NULL;
    for (size_t i = 0; i < t->n; i++)
        l = avahi_string_list_add(l, t->item[i]);
    return l;
}

size_t eota_mdns_txt_wire(const eota_mdns_txt *t, unsigned char *buf, size_t len)
{
    AvahiStringList *l = eota_mdns_txt_list(t);
    size_t n = avahi_string_list_serialize(l, buf, len);
    avahi_string_list_free(l);
    return n;
}

int eota_mdns_txt_get(const unsigned char *rdata, size_t len, const char *key, char *out, size_t outlen)
{
    AvahiStringList *l = NULL, *f;
    char *k = NULL, *v = NULL;
    int found = 0;
    out[0] = 0;
    if (!rdata || avahi_string_list_parse(rdata, len, &l) != 0)
        return 0;
    if ((f = avahi_string_list_find(l, key)) && avahi_string_list_get_pair(f, &k, &v, NULL) == 0) {
        snprintf(out, outlen, "%s", v ? v : "");
        found = 1;
    }
    avahi_free(k);
    avahi_free(v);
    avahi_string_list_free(l);
    return found;
}
