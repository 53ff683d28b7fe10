/*
 * avahi.c: the responder through Avahi's daemon (internal.h). An entry
 * group holds NAME.local's addresses (the daemon probes and announces
 * them, answers for them, and withdraws them with a goodbye when the group
 * is freed) and the services; Avahi's client runs on our poll loop
 * (avahi_poll.h). A collision in the group renames the device.
 */
#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/error.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mdns/avahi_poll.h"
#include "mdns/internal.h"

#define TAG "mdns"

typedef struct av {
    eota_mdns *m;
    mdns_apoll *poll;
    AvahiClient *client;
    AvahiEntryGroup *group;
    int given_up;
} av;

static void publish(av *a);

static int add_addresses(av *a)
{
    AvahiAddress ad;
    int rc = 0;
    for (size_t i = 0; i < a->m->addrs.n4 && rc == 0; i++) {
        ad.proto = AVAHI_PROTO_INET;
        memcpy(&ad.data.ipv4, &a->m->addrs.v4[i], 4);
        rc = avahi_entry_group_add_address(a->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                           AVAHI_PUBLISH_NO_REVERSE, a->m->host, &ad);
    }
    for (size_t i = 0; i < a->m->addrs.n6 && rc == 0; i++) {
        ad.proto = AVAHI_PROTO_INET6;
        memcpy(&ad.data.ipv6, &a->m->addrs.v6[i], 16);
        rc = avahi_entry_group_add_address(a->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                           AVAHI_PUBLISH_NO_REVERSE, a->m->host, &ad);
    }
    return rc;
}

static int add_service(av *a, const char *type, uint16_t port, const eota_mdns_txt *txt)
{
    AvahiStringList *l = eota_mdns_txt_list(txt);
    int rc = avahi_entry_group_add_service_strlst(a->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0, a->m->name,
                                                  type, NULL, a->m->host, port, l);
    avahi_string_list_free(l);
    return rc;
}

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState st, void *ud)
{
    av *a = ud;
    a->group = g;
    if (st == AVAHI_ENTRY_GROUP_ESTABLISHED)
        LOGI(TAG, "avahi-daemon publishes %s", a->m->host);
    else if (st == AVAHI_ENTRY_GROUP_COLLISION) {
        avahi_entry_group_reset(g);
        if (mdns_rename(a->m, "another host (avahi-daemon saw a collision)") != 0)
            a->given_up = 1;
        else
            publish(a);
    } else if (st == AVAHI_ENTRY_GROUP_FAILURE)
        LOGE(TAG, "avahi-daemon: %s", avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
}

static void publish(av *a)
{
    if (!a->group && !(a->group = avahi_entry_group_new(a->client, on_group, a))) {
        LOGE(TAG, "avahi entry group: %s", avahi_strerror(avahi_client_errno(a->client)));
        return;
    }
    eota_mdns_txt none = {.n = 0};
    int rc = add_addresses(a);
    if (rc == 0)
        rc = add_service(a, "_eota._tcp", a->m->ota_port, &a->m->txt);
    if (rc == 0 && a->m->web_port)
        rc = add_service(a, "_http._tcp", a->m->web_port, &none);
    if (rc == 0)
        rc = avahi_entry_group_commit(a->group);
    if (rc != 0)
        LOGE(TAG, "avahi-daemon refused %s: %s", a->m->host, avahi_strerror(rc));
}

static void on_client(AvahiClient *c, AvahiClientState st, void *ud)
{
    av *a = ud;
    a->client = c;
    if (st == AVAHI_CLIENT_S_RUNNING && !a->group && !a->given_up)
        publish(a);
    else if (st == AVAHI_CLIENT_FAILURE)
        LOGE(TAG, "avahi-daemon: %s", avahi_strerror(avahi_client_errno(c)));
    else if ((st == AVAHI_CLIENT_S_COLLISION || st == AVAHI_CLIENT_S_REGISTERING) && a->group)
        avahi_entry_group_reset(a->group);
}

static void *start(eota_mdns *m)
{
    av *a = calloc(1, sizeof *a);
    int err = 0;
    if (!a || !(a->poll = mdns_apoll_new())) {
        free(a);
        return NULL;
    }
    a->m = m;
    a->client = avahi_client_new(mdns_apoll_api(a->poll), 0, on_client, a, &err);
    if (!a->client) {
        LOGD(TAG, "no avahi-daemon: %s", avahi_strerror(err));
        mdns_apoll_free(a->poll);
        free(a);
        return NULL;
    }
    return a;
}

static void set_txt(void *impl)
{
    av *a = impl;
    if (!a->group || avahi_entry_group_is_empty(a->group))
        return;
    AvahiStringList *l = eota_mdns_txt_list(&a->m->txt);
    int rc = avahi_entry_group_update_service_txt_strlst(a->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
                                                         a->m->name, "_eota._tcp", NULL, l);
    avahi_string_list_free(l);
    if (rc != 0)
        LOGW(TAG, "avahi-daemon: TXT update: %s", avahi_strerror(rc));
}

static int pollfds(void *impl, struct pollfd *pfd, int max) { return mdns_apoll_pollfds(((av *)impl)->poll, pfd, max); }

static long timeout_ms(void *impl) { return mdns_apoll_timeout_ms(((av *)impl)->poll); }

static void run(void *impl, const struct pollfd *pfd, int n) { mdns_apoll_run(((av *)impl)->poll, pfd, n); }

static void stop(void *impl)
{
    av *a = impl;
    avahi_client_free(a->client); /* frees the group: the daemon says goodbye */
    mdns_apoll_free(a->poll);
    free(a);
}

/* Avahi's daemon reads the network itself. */
static int feed(void *impl, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port)
{
    (void)impl, (void)pkt, (void)len, (void)from, (void)port;
    return 0;
}

const mdns_backend mdns_backend_avahi = {"avahi-daemon", start, set_txt, pollfds, timeout_ms, run, stop, feed};
