/*
 * mdns.h: multicast DNS for eota (RFC 6762, DNS-SD RFC 6763), on both ends,
 * driven from the caller's own poll loop (nothing here blocks or spawns).
 *
 * The responder (`eota device`): NAME.local answers with the device's
 * addresses (A, AAAA), and its services are published (_eota._tcp with
 * TXT records, _http._tcp when the web server runs). Two backends:
 *   avahi     Avahi's daemon through libavahi-client, its AvahiPoll
 *             implemented over our poll (avahi_poll.c, avahi.c)
 *   embedded  libmdnsd's responder on our own multicast socket
 *             (embedded.c), when no daemon runs
 * The querier (`eota upload`, `eota discover`): libmdnsd's cache and
 * questions on a multicast socket (query.c).
 *
 * Files: mdns.h (this), responder.c (the backend choice and the common
 * front), embedded.c, avahi.c, avahi_poll.c, query.c, sock.c (the
 * multicast sockets), guard.c (packets checked by libresolv before
 * libmdnsd sees them), txt.c (TXT records), addrs.c (our addresses),
 * browse.c (DNS-SD browsing over the querier, browse.h).
 */
#ifndef EOTA_APP_MDNS_MDNS_H
#define EOTA_APP_MDNS_MDNS_H

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define EOTA_MDNS_MAX_FDS 8
#define EOTA_MDNS_MAX_TXT 24
#define EOTA_MDNS_NAME_MAX 64   /* a host label, with room for "-NN" */
/* Bigger packets are dropped unread: mDNS keeps to 9000 bytes (RFC 6762
 * 17) and in practice to an Ethernet frame; libmdnsd addresses names
 * within the first 4 KiB only. */
#define EOTA_MDNS_MAX_PACKET 4000

typedef enum eota_mdns_backend {
    EOTA_MDNS_AUTO = 0,     /* avahi when its daemon answers, else embedded */
    EOTA_MDNS_AVAHI,
    EOTA_MDNS_EMBEDDED
} eota_mdns_backend;

/* TXT records, "key=value" each. */
typedef struct eota_mdns_txt {
    char item[EOTA_MDNS_MAX_TXT][128];
    size_t n;
} eota_mdns_txt;

typedef struct eota_mdns_config {
    const char *name;        /* the host label (esphome: name:) */
    uint16_t ota_port;       /* _eota._tcp */
    uint16_t web_port;       /* _http._tcp; 0: no web server */
    eota_mdns_backend backend;
    int offline;             /* no socket: packets come by eota_mdns_feed
                                only, nothing is sent (fuzzing, tests) */
} eota_mdns_config;

typedef struct eota_mdns eota_mdns;

/* ---- the responder (responder.c) ---- */

/* Start publishing: NULL after a log line saying why (no backend). */
eota_mdns *eota_mdns_start(const eota_mdns_config *c, const eota_mdns_txt *txt);
/* New TXT records for _eota._tcp (announced when they differ). */
void eota_mdns_set_txt(eota_mdns *m, const eota_mdns_txt *txt);
/* The descriptors to wait for into pfd (at most max); how many. */
int eota_mdns_pollfds(eota_mdns *m, struct pollfd *pfd, int max);
/* ms until the responder needs a turn, -1 for none. */
long eota_mdns_timeout_ms(eota_mdns *m);
/* Its turn after poll: pfd/n as eota_mdns_pollfds filled them. */
void eota_mdns_run(eota_mdns *m, const struct pollfd *pfd, int n);
/* The host name in use ("kitchen.local", or the one a conflict chose). */
const char *eota_mdns_host(const eota_mdns *m);
/* Which backend runs: "avahi" or "embedded". */
const char *eota_mdns_backend_name(const eota_mdns *m);
/* A packet as if it came from from:port (offline responders; the embedded
 * backend only): 1 when it went past the guard. */
int eota_mdns_feed(eota_mdns *m, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port);
/* Say goodbye (records with TTL 0) and free. NULL is fine. */
void eota_mdns_stop(eota_mdns *m);

/* ---- TXT records (txt.c) ---- */

void eota_mdns_txt_add(eota_mdns_txt *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int eota_mdns_txt_equal(const eota_mdns_txt *a, const eota_mdns_txt *b);
/* The wire form (RFC 6763 6: length-prefixed strings) into buf; its
 * length. */
size_t eota_mdns_txt_wire(const eota_mdns_txt *t, unsigned char *buf, size_t len);
/* The value of key in a wire-form TXT rdata into out ("" when absent);
 * 1 when found. */
int eota_mdns_txt_get(const unsigned char *rdata, size_t len, const char *key, char *out, size_t outlen);

/* ---- the packet guard (guard.c) ---- */

/* 1 when libresolv parses the whole packet (header, every question and
 * record, every name in it, without loops or reads past the end) and it
 * is no bigger than EOTA_MDNS_MAX_PACKET: only then may libmdnsd, which
 * trusts its input, see it. */
int eota_mdns_packet_ok(const unsigned char *pkt, size_t len);

/* ---- the querier (query.c) ---- */

typedef struct eota_mdns_query eota_mdns_query;

/* What an answer says: type is 1 (A), 28 (AAAA), 12 (PTR), 33 (SRV) or
 * 16 (TXT); ttl 0 means it went away. */
typedef struct eota_mdns_answer {
    const char *name;
    int type;
    unsigned long ttl;
    struct in_addr a;
    struct in6_addr aaaa;
    const char *target;          /* PTR, SRV */
    uint16_t port;               /* SRV */
    const unsigned char *rdata;  /* TXT */
    size_t rdlen;
} eota_mdns_answer;

typedef void (*eota_mdns_answer_fn)(void *ctx, const eota_mdns_answer *a);

/* A querier on the mDNS port (offline: without one): NULL after a log
 * line saying why. */
eota_mdns_query *eota_mdns_query_new(eota_mdns_answer_fn fn, void *ctx);
eota_mdns_query *eota_mdns_query_new_offline(eota_mdns_answer_fn fn, void *ctx);
/* A packet as if it came from from:port: 1 when it went past the guard. */
int eota_mdns_query_feed(eota_mdns_query *q, const unsigned char *pkt, size_t len, struct in_addr from,
                         uint16_t port);
/* Ask (repeatedly, as libmdnsd does) for name's records of type. */
void eota_mdns_query_ask(eota_mdns_query *q, const char *name, int type);
/* Stop asking. */
void eota_mdns_query_forget(eota_mdns_query *q, const char *name, int type);
int eota_mdns_query_pollfds(eota_mdns_query *q, struct pollfd *pfd, int max);
long eota_mdns_query_timeout_ms(eota_mdns_query *q);
void eota_mdns_query_run(eota_mdns_query *q, const struct pollfd *pfd, int n);
void eota_mdns_query_free(eota_mdns_query *q);

#endif
