/*
 * query.c: the querier (mdns.h): libmdnsd asks the questions (again as
 * its schedule says), caches the answers and calls back for each; the
 * packets come in through the guard (io.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdns/io.h"
#include "mdns/mdns.h"

struct eota_mdns_query {
    mdns_io io;
    eota_mdns_answer_fn fn;
    void *ctx;
};

static int on_answer(mdns_answer_t *a, void *arg)
{
    eota_mdns_query *q = arg;
    eota_mdns_answer out = {.name = a->name, .type = a->type, .ttl = a->ttl, .a = a->ip, .target = a->rdname};
    if (a->type == QTYPE_AAAA && a->rdata && a->rdlen == 16)
        memcpy(&out.aaaa, a->rdata, 16);
    out.port = a->srv.port;
    out.rdata = a->rdata;
    out.rdlen = a->rdlen;
    q->fn(q->ctx, &out);
    return 0;
}

/* libmdnsd reads a response's answers only; the additional records
 * (a PTR answer's SRV, TXT and addresses, which a responder will not
 * multicast again within a second, RFC 6762 6) go to the callback here. */
static int additional(void *ctx, const struct message *m)
{
    eota_mdns_query *q = ctx;
    /* libmdnsd leaves ar NULL when it could not parse the records the
     * header counts (found by fuzz_mdns) */
    for (int i = 0; m->header.qr && m->ar && i < m->arcount; i++) {
        const struct resource *r = &m->ar[i];
        eota_mdns_answer out = {.name = r->name, .type = r->type, .ttl = r->ttl, .rdata = r->rdata,
                                .rdlen = r->rdlength};
        if (!r->name)
            continue;
        if (r->type == QTYPE_A)
            out.a = r->known.a.ip;
        else if (r->type == QTYPE_AAAA && r->rdata && r->rdlength == 16)
            memcpy(&out.aaaa, r->rdata, 16);
        else if (r->type == QTYPE_PTR)
            out.target = r->known.ptr.name;
        else if (r->type == QTYPE_SRV) {
            out.target = r->known.srv.name;
            out.port = r->known.srv.port;
        }
        q->fn(q->ctx, &out);
    }
    return 1;
}

static eota_mdns_query *query_new(eota_mdns_answer_fn fn, void *ctx, int offline)
{
    eota_mdns_query *q = calloc(1, sizeof *q);
    if (!q || mdns_io_open(&q->io, offline) != 0) {
        free(q);
        return NULL;
    }
    q->fn = fn;
    q->ctx = ctx;
    q->io.after = additional;
    q->io.filter_ctx = q;
    return q;
}

eota_mdns_query *eota_mdns_query_new(eota_mdns_answer_fn fn, void *ctx) { return query_new(fn, ctx, 0); }

eota_mdns_query *eota_mdns_query_new_offline(eota_mdns_answer_fn fn, void *ctx) { return query_new(fn, ctx, 1); }

int eota_mdns_query_feed(eota_mdns_query *q, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port)
{
    int in = mdns_io_feed_copy(&q->io, pkt, len, from, port);
    mdns_io_flush(&q->io);
    return in;
}

/* libmdnsd's names end in a dot. */
static void fq(const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    snprintf(out, len, "%s%s", name, n && name[n - 1] == '.' ? "" : ".");
}

void eota_mdns_query_ask(eota_mdns_query *q, const char *name, int type)
{
    char f[300];
    fq(name, f, sizeof f);
    mdnsd_query(q->io.d, f, type, on_answer, q);
    /* what the cache holds already (an announcement heard before the
     * question): libmdnsd calls back only for answers still to come */
    for (mdns_answer_t *a = mdnsd_list(q->io.d, f, type, NULL); a; a = mdnsd_list(q->io.d, f, type, a))
        on_answer(a, q);
}

void eota_mdns_query_forget(eota_mdns_query *q, const char *name, int type)
{
    char f[300];
    fq(name, f, sizeof f);
    mdnsd_query(q->io.d, f, type, NULL, NULL);
}

int eota_mdns_query_pollfds(eota_mdns_query *q, struct pollfd *pfd, int max) { return mdns_io_pollfds(&q->io, pfd, max); }

long eota_mdns_query_timeout_ms(eota_mdns_query *q) { return mdns_io_timeout_ms(&q->io); }

void eota_mdns_query_run(eota_mdns_query *q, const struct pollfd *pfd, int n) { mdns_io_run(&q->io, pfd, n); }

void eota_mdns_query_free(eota_mdns_query *q)
{
    if (!q)
        return;
    mdns_io_close(&q->io);
    free(q);
}
