/*
 * responder.c: the responder's front (mdns.h): the backend choice, the
 * calls handed to it, and the rename after a name conflict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mdns/internal.h"

#define TAG "mdns"

static void set_name(eota_mdns *m, const char *label)
{
    snprintf(m->name, sizeof m->name, "%.*s", (int)sizeof m->name - 1, label);
    snprintf(m->host, sizeof m->host, "%s.local", m->name);
}

int mdns_rename(eota_mdns *m, const char *by)
{
    char old[sizeof m->host];
    snprintf(old, sizeof old, "%s", m->host);
    if (++m->renames > MDNS_MAX_RENAMES) {
        LOGE(TAG, "Name conflict: %s is claimed on the network by %s; no free name left after %d tries, "
                  "the name is given up (RFC 6762 9)", old, by, MDNS_MAX_RENAMES);
        return -1;
    }
    char label[EOTA_MDNS_NAME_MAX + 16];
    snprintf(label, sizeof label, "%.*s-%d", EOTA_MDNS_NAME_MAX - 5, m->base, (m->renames + 1) % 100);
    set_name(m, label);
    LOGW(TAG, "Name conflict: %s is claimed on the network by %s; this device is renamed to %s (RFC 6762 9)",
         old, by, m->host);
    return 0;
}

/* The backends to try, in order, for the configured choice. */
static int pick(eota_mdns_backend b, const mdns_backend *out[2])
{
    if (b == EOTA_MDNS_AVAHI)
        return out[0] = &mdns_backend_avahi, 1;
    if (b == EOTA_MDNS_EMBEDDED)
        return out[0] = &mdns_backend_embedded, 1;
    out[0] = &mdns_backend_avahi;
    out[1] = &mdns_backend_embedded;
    return 2;
}

eota_mdns *eota_mdns_start(const eota_mdns_config *c, const eota_mdns_txt *txt)
{
    eota_mdns *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    snprintf(m->base, sizeof m->base, "%s", c->name);
    set_name(m, m->base);
    m->ota_port = c->ota_port;
    m->web_port = c->web_port;
    m->offline = c->offline;
    m->txt = *txt;
    mdns_addrs_read(&m->addrs);
    const mdns_backend *be[2];
    int nb = pick(c->offline ? EOTA_MDNS_EMBEDDED : c->backend, be);
    for (int i = 0; i < nb && !m->impl; i++)
        if ((m->impl = be[i]->start(m)))
            m->be = be[i];
    if (!m->impl) {
        LOGE(TAG, "no mDNS responder could start: %s.local is not published", c->name);
        free(m);
        return NULL;
    }
    LOGI(TAG, "Publishing %s (_eota._tcp port %u%s) through %s", m->host, m->ota_port,
         m->web_port ? ", _http._tcp" : "", m->be->name);
    return m;
}

void eota_mdns_set_txt(eota_mdns *m, const eota_mdns_txt *txt)
{
    if (!m || eota_mdns_txt_equal(&m->txt, txt))
        return;
    m->txt = *txt;
    m->be->set_txt(m->impl);
}

int eota_mdns_pollfds(eota_mdns *m, struct pollfd *pfd, int max) { return m ? m->be->pollfds(m->impl, pfd, max) : 0; }

long eota_mdns_timeout_ms(eota_mdns *m) { return m ? m->be->timeout_ms(m->impl) : -1; }

void eota_mdns_run(eota_mdns *m, const struct pollfd *pfd, int n)
{
    if (m)
        m->be->run(m->impl, pfd, n);
}

const char *eota_mdns_host(const eota_mdns *m) { return m->host; }

const char *eota_mdns_backend_name(const eota_mdns *m) { return m->be->name; }

int eota_mdns_feed(eota_mdns *m, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port)
{
    return m ? m->be->feed(m->impl, pkt, len, from, port) : 0;
}

void eota_mdns_stop(eota_mdns *m)
{
    if (!m)
        return;
    m->be->stop(m->impl);
    free(m);
}
