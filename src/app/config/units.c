/*
 * units.c: the unit parsers (units.h). Numbers are read exactly, as a
 * mantissa and a power of ten, so that "1.5s" is 1500 ms and "1.5ms" is
 * refused rather than rounded.
 */
#include "units.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TOO_LONG "the time period is too long (at most 49 days)"
#define TOO_FINE "the time period is finer than a millisecond"

/* Digits with an optional fraction, value = mant / 10^scale, and the
 * blanks after them. */
static int parse_decimal(const char **sp, uint64_t *mant, unsigned *scale)
{
    const char *s = *sp;
    uint64_t m = 0;
    unsigned sc = 0, ndig = 0;
    bool dot = false;
    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            if (m > (UINT64_MAX - 9) / 10 || ndig >= 18)
                return -1;
            m = m * 10 + (uint64_t)(*s - '0');
            ndig++;
            if (dot)
                sc++;
        } else if (*s == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (ndig == 0)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    *sp = s;
    *mant = m;
    *scale = sc;
    return 0;
}

static uint64_t pow10u(unsigned n)
{
    uint64_t p = 1;
    while (n--)
        p *= 10;
    return p;
}

/* Digits in base 10 or 16 (no prefix, no sign) up to the end of s, at
 * most max. */
static int parse_digits(const char *s, int base, uint64_t max, uint64_t *out)
{
    const char *digits = base == 16 ? "0123456789abcdefABCDEF" : "0123456789";
    if (!*s || s[strspn(s, digits)] != '\0')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, base);
    if (errno || v > max)
        return -1;
    *out = v;
    return 0;
}

/* HH:MM or HH:MM:SS, as ESPHome's time_period_str_colon */
static int parse_colon(const char *s, uint32_t *ms, const char **why)
{
    unsigned long part[3] = {0, 0, 0};
    int n = 0;
    while (n < 3) {
        if (*s < '0' || *s > '9')
            return -1;
        char *end;
        part[n++] = strtoul(s, &end, 10);
        if (part[n - 1] > 1000000ul)
            return -1;
        s = end;
        if (*s == ':')
            s++;
        else
            break;
    }
    if (*s || n < 2)
        return -1;
    uint64_t sec = (uint64_t)part[0] * 3600u + (uint64_t)part[1] * 60u + part[2];
    if (sec * 1000u > UINT32_MAX) {
        *why = TOO_LONG;
        return -1;
    }
    *ms = (uint32_t)(sec * 1000u);
    return 0;
}

typedef struct unit_row {
    const char *unit;
    uint64_t value;
} unit_row;

/* The value of unit in a table, or 0 when it is not there. */
static uint64_t unit_lookup(const unit_row *rows, size_t n, const char *unit)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(unit, rows[i].unit) == 0)
            return rows[i].value;
    return 0;
}

/* A time unit's length in nanoseconds, or 0 when it is none. */
static uint64_t unit_ns(const char *unit)
{
    static const unit_row units[] = {
        {"ns", 1ull}, {"nanoseconds", 1ull},
        {"us", 1000ull}, {"microseconds", 1000ull},
        {"ms", 1000000ull}, {"milliseconds", 1000000ull},
        {"s", 1000000000ull}, {"sec", 1000000000ull}, {"secs", 1000000000ull},
        {"seconds", 1000000000ull},
        {"min", 60000000000ull}, {"mins", 60000000000ull}, {"minutes", 60000000000ull},
        {"h", 3600000000000ull}, {"hours", 3600000000000ull},
        {"d", 86400000000000ull}, {"days", 86400000000000ull},
    };
    return unit_lookup(units, sizeof units / sizeof units[0], unit);
}

/* mant / 10^scale units of ns each, in whole milliseconds, exactly. */
static int to_ms(uint64_t mant, unsigned scale, uint64_t ns, uint32_t *ms, const char **why)
{
    uint64_t num;
    if (__builtin_mul_overflow(mant, ns, &num)) {
        *why = TOO_LONG;
        return -1;
    }
    uint64_t div = pow10u(scale);
    if (num % div || (num / div) % 1000000u) {
        *why = TOO_FINE;
        return -1;
    }
    num = num / div / 1000000u;
    if (num > UINT32_MAX) {
        *why = TOO_LONG;
        return -1;
    }
    *ms = (uint32_t)num;
    return 0;
}

int eota_units_duration(const char *text, const char *bare_unit, uint32_t *ms,
                        const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "not a time period";
    if (!text || !*text)
        return -1;
    const char *s = text;
    if (*s == '-') {
        *why = "a time period cannot be negative";
        return -1;
    }
    if (*s == '+')
        s++;
    if (strchr(s, ':'))
        return parse_colon(s, ms, why);
    uint64_t mant;
    unsigned scale;
    if (parse_decimal(&s, &mant, &scale) != 0)
        return -1;
    if (!*s && !bare_unit) {
        *why = "a bare number has no time unit";
        return -1;
    }
    uint64_t ns = unit_ns(*s ? s : bare_unit);
    if (!ns) {
        *why = "unknown time unit (use us, ms, s, min, h or d)";
        return -1;
    }
    return to_ms(mant, scale, ns, ms, why);
}

int eota_config_parse_duration(const char *text, uint32_t *ms, const char **why)
{
    return eota_units_duration(text, NULL, ms, why);
}

/* A size unit's multiple, or 0 when it is none. */
static uint64_t size_unit(const char *unit)
{
    static const unit_row units[] = {
        {"", 1}, {"B", 1},
        {"k", 1000}, {"K", 1000}, {"kB", 1000}, {"KB", 1000}, {"KiB", 1024},
        {"M", 1000000}, {"MB", 1000000}, {"MiB", 1048576},
        {"G", 1000000000}, {"GB", 1000000000}, {"GiB", 1073741824},
    };
    return unit_lookup(units, sizeof units / sizeof units[0], unit);
}

int eota_units_size(const char *text, bool per_second, uint64_t *out)
{
    const char *s = text;
    if (!s || !*s)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return parse_digits(s + 2, 16, UINT64_MAX, out);
    uint64_t mant;
    unsigned scale;
    if (parse_decimal(&s, &mant, &scale) != 0)
        return -1;
    char unit[8];
    size_t n = 0;
    while (*s && *s != '/' && n + 1 < sizeof unit)
        unit[n++] = *s++;
    unit[n] = '\0';
    if (*s == '/') {
        if (!per_second || strcmp(s, "/s") != 0)
            return -1;
        s += 2;
    }
    uint64_t mult = size_unit(unit), v;
    if (*s || !mult || __builtin_mul_overflow(mant, mult, &v))
        return -1;
    *out = v / pow10u(scale);
    return 0;
}

int eota_units_integer(const char *text, long long *out)
{
    const char *s = text;
    bool neg = false;
    int base = 10;
    uint64_t v;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (parse_digits(s, base, 0x7FFFFFFFFFFFFFFFull, &v) != 0)
        return -1;
    *out = neg ? -(long long)v : (long long)v;
    return 0;
}
