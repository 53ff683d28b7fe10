/*
 * devices.c: device specs and the --devices-from file (devices.h).
 */
#include "upload/devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload/util.h"

/* Split one address into host and port text: [V6], [V6]:PORT, HOST,
 * HOST:PORT, or a bare V6 (two colons or more, no port). */
static int split_host(const char *s, char *host, size_t hostlen, const char **port, char *err, size_t errlen)
{
    size_t n = strlen(s);
    *port = NULL;
    if (n == 0 || n >= hostlen) {
        snprintf(err, errlen, "empty or too long device address '%s'", s);
        return -1;
    }
    const char *c1 = strchr(s, ':');
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            snprintf(err, errlen, "missing ']' in device address '%s'", s);
            return -1;
        }
        if (close[1] != ':' && close[1] != '\0') {
            snprintf(err, errlen, "unexpected text after ']' in device address '%s'", s);
            return -1;
        }
        snprintf(host, hostlen, "%.*s", (int)(close - s - 1), s + 1);
        *port = close[1] == ':' ? close + 2 : NULL;
    } else if (c1 && !strchr(c1 + 1, ':')) {
        snprintf(host, hostlen, "%.*s", (int)(c1 - s), s);
        *port = c1 + 1;
    } else {
        snprintf(host, hostlen, "%s", s);
    }
    return 0;
}

static int parse_target(const char *s, uint16_t defport, up_target *t, char *err, size_t errlen)
{
    char host[512];
    const char *port;
    if (split_host(s, host, sizeof host, &port, err, errlen) != 0)
        return -1;
    if (host[0] == '\0') {
        snprintf(err, errlen, "no host in device address '%s'", s);
        return -1;
    }
    long p = defport;
    if (port) {
        char *end;
        errno = 0;
        p = strtol(port, &end, 10);
        if (end == port || *end || errno || p < 1 || p > 65535) {
            snprintf(err, errlen, "bad port in device address '%s' (expected 1 to 65535)", s);
            return -1;
        }
    }
    t->host = up_xstrdup(host);
    t->port = (uint16_t)p;
    return 0;
}

int up_spec_parse(const char *spec, uint16_t defport, up_target **targets, size_t *n, char *err, size_t errlen)
{
    size_t parts = 1;
    for (const char *p = spec; *p; p++)
        parts += *p == ',';
    *targets = up_xcalloc(parts, sizeof **targets);
    *n = 0;
    char *copy = up_xstrdup(spec);
    char *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        tok = up_trim(tok);
        if (!*tok)
            continue;
        rc = parse_target(tok, defport, &(*targets)[*n], err, errlen);
        *n += rc == 0;
    }
    free(copy);
    if (rc == 0 && *n == 0) {
        snprintf(err, errlen, "empty device '%s'", spec);
        rc = -1;
    }
    return rc;
}

void up_targets_free(up_target *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].host);
    free(t);
}

int up_devices_read(const char *path, up_list *list, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        snprintf(err, errlen, "cannot open --devices-from '%s': %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = up_trim(line);
        if (!*s)
            continue;
        up_list_add(list, s);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return 0;
}
