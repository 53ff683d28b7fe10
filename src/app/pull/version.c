/*
 * version.c: "newer" for pull updates (internal.h): semantic versions
 * (semver.org 2.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]), with ESPHome's
 * calendar versions (2024.6.1) fitting the same rule; a leading 'v' and
 * missing minor or patch numbers are allowed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct semver {
    unsigned long long num[3];
    const char *pre;           /* after '-', up to '+' or the end; NULL: none */
    size_t pre_len;
} semver;

static int parse(const char *s, semver *v)
{
    memset(v, 0, sizeof *v);
    if (*s == 'v' || *s == 'V')
        s++;
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        char *end;
        v->num[i] = strtoull(s, &end, 10);
        s = end;
        if (*s != '.')
            break;
        s++;
    }
    if (*s == '-') {
        v->pre = ++s;
        while (*s && *s != '+')
            s++;
        v->pre_len = (size_t)(s - v->pre);
        if (v->pre_len == 0)
            return -1;
    }
    return *s == '\0' || *s == '+' ? 0 : -1;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

/* One dot-separated identifier of a pre-release against another. */
static int cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
    int da = all_digits(a, an), db = all_digits(b, bn);
    if (da && db) {
        unsigned long long x = strtoull(a, NULL, 10), y = strtoull(b, NULL, 10);
        return x < y ? -1 : x > y;
    }
    if (da != db)
        return da ? -1 : 1; /* numeric identifiers sort first */
    int c = strncmp(a, b, an < bn ? an : bn);
    return c ? (c < 0 ? -1 : 1) : (an < bn ? -1 : an > bn);
}

static int cmp_pre(const semver *a, const semver *b)
{
    if (!a->pre || !b->pre)
        return a->pre ? -1 : b->pre ? 1 : 0; /* a release is above its pre-releases */
    const char *x = a->pre, *xe = a->pre + a->pre_len, *y = b->pre, *ye = b->pre + b->pre_len;
    while (x < xe && y < ye) {
        const char *xd = memchr(x, '.', (size_t)(xe - x)), *yd = memchr(y, '.', (size_t)(ye - y));
        size_t xn = (size_t)((xd ? xd : xe) - x), yn = (size_t)((yd ? yd : ye) - y);
        int c = cmp_ident(x, xn, y, yn);
        if (c)
            return c;
        x += xn + (xd ? 1 : 0);
        y += yn + (yd ? 1 : 0);
    }
    return x < xe ? 1 : y < ye ? -1 : 0;
}

int pull_semver_cmp(const char *a, const char *b)
{
    semver x, y;
    if (parse(a, &x) != 0 || parse(b, &y) != 0)
        return -2;
    for (int i = 0; i < 3; i++)
        if (x.num[i] != y.num[i])
            return x.num[i] < y.num[i] ? -1 : 1;
    return cmp_pre(&x, &y);
}
