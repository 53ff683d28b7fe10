/*
 * internal.h: what the responder's files share (internal to src/app/mdns):
 * the backend interface, the responder's state, our addresses, the
 * rename after a name conflict.
 */
#ifndef EOTA_APP_MDNS_INTERNAL_H
#define EOTA_APP_MDNS_INTERNAL_H

#include <avahi-common/strlst.h>

#include "mdns/mdns.h"

#define MDNS_MAX_ADDRS 16
#define MDNS_MAX_RENAMES 9

typedef struct mdns_addrs {
    struct in_addr v4[MDNS_MAX_ADDRS];
    struct in6_addr v6[MDNS_MAX_ADDRS];
    size_t n4, n6;
} mdns_addrs;

typedef struct mdns_backend {
    const char *name;
    /* NULL when this backend cannot run here (said at debug level). */
    void *(*start)(eota_mdns *m);
    void (*set_txt)(void *impl);           /* m->txt changed */
    int (*pollfds)(void *impl, struct pollfd *pfd, int max);
    long (*timeout_ms)(void *impl);
    void (*run)(void *impl, const struct pollfd *pfd, int n);
    void (*stop)(void *impl);              /* goodbye and free */
    int (*feed)(void *impl, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port);
} mdns_backend;

struct eota_mdns {
    const mdns_backend *be;
    void *impl;
    char base[EOTA_MDNS_NAME_MAX];   /* the configured name */
    char name[EOTA_MDNS_NAME_MAX];   /* the label in use */
    char host[EOTA_MDNS_NAME_MAX + 8]; /* name + ".local" */
    int renames;
    uint16_t ota_port, web_port;
    int offline;
    eota_mdns_txt txt;
    mdns_addrs addrs;
};

extern const mdns_backend mdns_backend_embedded;
extern const mdns_backend mdns_backend_avahi;

/* Our addresses: every up, non-loopback interface's (addrs.c). */
void mdns_addrs_read(mdns_addrs *a);
int mdns_addrs_has4(const mdns_addrs *a, struct in_addr ip);
int mdns_addrs_has6(const mdns_addrs *a, const struct in6_addr *ip);

/* Another host holds m->host (by what): the next name, "NAME-2" and on
 * (RFC 6762 9), said in the log. 0, or -1 when the names ran out (the
 * name is then refused). */
int mdns_rename(eota_mdns *m, const char *by);

/* The TXT items as an Avahi string list (txt.c; the caller frees it). */
AvahiStringList *eota_mdns_txt_list(const eota_mdns_txt *t);

#endif
