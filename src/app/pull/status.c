/*
 * status.c: pull updates' state in the device's _eota._tcp TXT records
 * (pull.h): when the device last checked (Unix seconds, so that the
 * records change once a check, not every second), the version the
 * manifest offers, and the last error, short: without the URL it begins
 * with, at most 80 characters (the log has it whole).
 */
#include <string.h>

#include "pull.h"

#define TXT_ERROR_MAX 80

void eota_pull_status_txt(const eota_pull_status *s, eota_mdns_txt *t)
{
    if (!s)
        return;
    if (s->last_check)
        eota_mdns_txt_add(t, "pull_checked", "%lld", (long long)s->last_check);
    else
        eota_mdns_txt_add(t, "pull_checked", "never");
    eota_mdns_txt_add(t, "pull_available", "%s", s->available[0] ? s->available : "unknown");
    const char *e = s->last_error, *after_url = strstr(e, ": ");
    if (!strncmp(e, "http", 4) && after_url)
        e = after_url + 2; /* the URL is the device's config: the what is the news */
    size_t n = strlen(e);
    if (n == 0)
        eota_mdns_txt_add(t, "pull_error", "none");
    else if (n <= TXT_ERROR_MAX)
        eota_mdns_txt_add(t, "pull_error", "%s", e);
    else
        eota_mdns_txt_add(t, "pull_error", "%.*s...", TXT_ERROR_MAX - 3, e);
}
