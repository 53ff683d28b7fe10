/*
 * embedded.c: the embedded responder (internal.h): libmdnsd publishes
 * NAME.local (A, AAAA: unique records, probed before they are announced)
 * and the services (PTR, SRV, TXT) on our
 * own multicast socket. libmdnsd sees the questions only: the responses
 * are looked at here, and one for our name with an address not ours is a
 * conflict (libmdnsd's own check takes a second address of ours, or a
 * sibling process's same answer, for one): the records are withdrawn and
 * published again under the next name.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mdns/internal.h"
#include "mdns/io.h"

#define HOST_TTL 120   /* RFC 6762 10: host names and SRV */
#define OTHER_TTL 4500 /* the others */

typedef struct emb {
    eota_mdns *m;
    mdns_io io;
    char conflict_by[INET6_ADDRSTRLEN];
    int given_up;
} emb;

/* An answer: another host's address for our name? */
static void check_answer(emb *e, const struct resource *r)
{
    char fq[sizeof e->m->host + 1];
    snprintf(fq, sizeof fq, "%s.", e->m->host);
    if (!r->name || strcasecmp(r->name, fq) != 0)
        return;
    if (r->type == QTYPE_A && !mdns_addrs_has4(&e->m->addrs, r->known.a.ip))
        inet_ntop(AF_INET, &r->known.a.ip, e->conflict_by, sizeof e->conflict_by);
    else if (r->type == QTYPE_AAAA && r->rdlength == 16 && r->rdata) {
        struct in6_addr a6;
        memcpy(&a6, r->rdata, sizeof a6);
        if (!mdns_addrs_has6(&e->m->addrs, &a6))
            inet_ntop(AF_INET6, &a6, e->conflict_by, sizeof e->conflict_by);
    }
}

/* Questions go to libmdnsd; responses are checked for conflicts here. */
static int filter(void *ctx, const struct message *m)
{
    if (!m->header.qr)
        return 1;
    for (int i = 0; m->an && i < m->ancount; i++) /* an is NULL when libmdnsd could not parse them */
        check_answer(ctx, &m->an[i]);
    return 0;
}

/* libmdnsd's own check (on another host's probe) drops the record; the
 * next TXT update publishes it again. */
static void on_conflict(char *host, int type, void *arg)
{
    (void)arg;
    LOGD("mdns", "libmdnsd dropped record %s type %d as a conflict", host, type);
}

static void publish_host(emb *e, const char *fq)
{
    mdns_daemon_t *d = e->io.d;
    for (size_t i = 0; i < e->m->addrs.n4; i++)
        mdnsd_set_ip(d, mdnsd_unique(d, fq, QTYPE_A, HOST_TTL, on_conflict, e), e->m->addrs.v4[i]);
    for (size_t i = 0; i < e->m->addrs.n6; i++)
        mdnsd_set_ipv6(d, mdnsd_unique(d, fq, QTYPE_AAAA, HOST_TTL, on_conflict, e), e->m->addrs.v6[i]);
}

/* A service: PTR, SRV, and TXT. No DNS-SD enumeration record:
 * libmdnsd, once asked for it, answers nothing but PTRs afterwards. */
static void publish_service(emb *e, const char *type, uint16_t port, const char *fq)
{
    mdns_daemon_t *d = e->io.d;
    char stype[64], inst[160];
    snprintf(stype, sizeof stype, "%s.local.", type);
    snprintf(inst, sizeof inst, "%s.%s", e->m->name, stype);
    mdnsd_set_host(d, mdnsd_shared(d, stype, QTYPE_PTR, OTHER_TTL), inst);
    mdnsd_set_srv(d, mdnsd_unique(d, inst, QTYPE_SRV, HOST_TTL, on_conflict, e), 0, 0, port, (char *)fq);
    mdns_record_t *txt = mdnsd_unique(d, inst, QTYPE_TXT, OTHER_TTL, on_conflict, e);
    unsigned char w[1300];
    eota_mdns_txt empty = {.n = 0};
    size_t n = eota_mdns_txt_wire(strcmp(type, "_eota._tcp") ? &empty : &e->m->txt, w, sizeof w);
    if (n == 0) /* an empty TXT is one empty string (RFC 6763 6.1) */
        w[n++] = 0;
    mdnsd_set_raw(d, txt, (const char *)w, (unsigned short)n);
}

static void publish(emb *e)
{
    char fq[sizeof e->m->host + 1];
    snprintf(fq, sizeof fq, "%s.", e->m->host);
    publish_host(e, fq);
    publish_service(e, "_eota._tcp", e->m->ota_port, fq);
    if (e->m->web_port)
        publish_service(e, "_http._tcp", e->m->web_port, fq);
}

static void *start(eota_mdns *m)
{
    emb *e = calloc(1, sizeof *e);
    if (!e || mdns_io_open(&e->io, m->offline) != 0) {
        free(e);
        return NULL;
    }
    e->m = m;
    e->io.filter = filter;
    e->io.filter_ctx = e;
    publish(e);
    return e;
}

/* The record is looked up each time: libmdnsd may have dropped it. */
static void set_txt(void *impl)
{
    emb *e = impl;
    unsigned char w[1300];
    char inst[160];
    snprintf(inst, sizeof inst, "%s._eota._tcp.local.", e->m->name);
    size_t n = eota_mdns_txt_wire(&e->m->txt, w, sizeof w);
    mdns_record_t *r = mdnsd_find(e->io.d, inst, QTYPE_TXT);
    if (!r)
        r = mdnsd_unique(e->io.d, inst, QTYPE_TXT, OTHER_TTL, on_conflict, e);
    if (n)
        mdnsd_set_raw(e->io.d, r, (const char *)w, (unsigned short)n);
}

/* A conflict seen in this turn: start again under the next name. */
static void handle_conflict(emb *e)
{
    char by[sizeof e->conflict_by];
    snprintf(by, sizeof by, "%s", e->conflict_by);
    e->conflict_by[0] = 0;
    mdnsd_free(e->io.d);
    e->io.d = mdnsd_new(QCLASS_IN, 1400);
    if (mdns_rename(e->m, by) != 0) {
        e->given_up = 1;
        return;
    }
    publish(e);
}

static void run(void *impl, const struct pollfd *pfd, int n)
{
    emb *e = impl;
    mdns_io_run(&e->io, pfd, n);
    if (e->conflict_by[0] && !e->given_up)
        handle_conflict(e);
    mdns_io_flush(&e->io);
}

static int feed(void *impl, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port)
{
    emb *e = impl;
    int in = mdns_io_feed_copy(&e->io, pkt, len, from, port);
    run(e, NULL, 0);
    return in;
}

static int pollfds(void *impl, struct pollfd *pfd, int max) { return mdns_io_pollfds(&((emb *)impl)->io, pfd, max); }

static long timeout_ms(void *impl) { return mdns_io_timeout_ms(&((emb *)impl)->io); }

static void stop(void *impl)
{
    emb *e = impl;
    mdnsd_shutdown(e->io.d); /* every record again with TTL 0: goodbye */
    mdns_io_flush(&e->io);
    mdns_io_close(&e->io);
    free(e);
}

const mdns_backend mdns_backend_embedded = {"embedded", start, set_txt, pollfds, timeout_ms, run, stop, feed};
