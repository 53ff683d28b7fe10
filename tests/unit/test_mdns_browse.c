/*
 * test_mdns_browse.c: the shared DNS-SD browser (src/app/mdns/browse.c)
 * on an offline querier: a PTR of a browsed type makes an instance (of
 * that type; other types ignored), its SRV and TXT complete it, the
 * host's A records give its addresses (the latest first, each once, four
 * at most), a PTR with TTL 0 marks it gone and a new PTR brings it back,
 * a forgotten slot is reused, the slots run out politely, and the
 * caller hears of each change; and a real service packet, through the
 * querier and its guard, ends as one complete instance.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdns/browse.h"
#include "mdns_packets.h"

static const char *const types[] = {"_esphomelib._tcp.local.", "_eota._tcp.local."};

typedef struct heard {
    size_t n, slot[32];
    int rr[32];
} heard;

static void on_change(void *ctx, size_t slot, int rrtype)
{
    heard *h = ctx;
    if (h->n < 32) {
        h->slot[h->n] = slot;
        h->rr[h->n] = rrtype;
    }
    h->n++;
}

typedef struct fixture {
    eota_mdns_browse *b;
    eota_mdns_query *q;
    heard h;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->b = eota_mdns_browse_new(types, 2, 3, on_change, &f->h);
    f->q = eota_mdns_query_new_offline(eota_mdns_browse_answer, f->b);
    assert_non_null(f->b);
    assert_non_null(f->q);
    eota_mdns_browse_start(f->b, f->q);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    eota_mdns_query_free(f->q);
    eota_mdns_browse_free(f->b);
    free(f);
    return 0;
}

static void ptr(fixture *f, const char *type, const char *instance, unsigned long ttl)
{
    eota_mdns_answer a = {.name = type, .type = EOTA_MDNS_RR_PTR, .ttl = ttl, .target = instance};
    eota_mdns_browse_answer(f->b, &a);
}

static void srv(fixture *f, const char *instance, const char *host, uint16_t port)
{
    eota_mdns_answer a = {.name = instance, .type = EOTA_MDNS_RR_SRV, .ttl = 120, .target = host, .port = port};
    eota_mdns_browse_answer(f->b, &a);
}

static void txt(fixture *f, const char *instance, const char *rdata)
{
    eota_mdns_answer a = {.name = instance, .type = EOTA_MDNS_RR_TXT, .ttl = 4500,
                          .rdata = (const unsigned char *)rdata, .rdlen = strlen(rdata)};
    eota_mdns_browse_answer(f->b, &a);
}

static void a_record(fixture *f, const char *host, const char *ip)
{
    eota_mdns_answer a = {.name = host, .type = EOTA_MDNS_RR_A, .ttl = 120};
    assert_int_equal(inet_pton(AF_INET, ip, &a.a), 1);
    eota_mdns_browse_answer(f->b, &a);
}

static void test_ptr_srv_txt_a_make_a_complete_instance(void **state)
{
    fixture *f = *state;
    ptr(f, "_http._tcp.local.", "web._http._tcp.local.", 4500); /* not browsed */
    assert_null(eota_mdns_browse_get(f->b, 0));
    ptr(f, "_eota._tcp.local.", "kitchen._eota._tcp.local.", 4500);
    const eota_mdns_service *s = eota_mdns_browse_get(f->b, 0);
    assert_non_null(s);
    assert_string_equal(s->instance, "kitchen._eota._tcp.local.");
    assert_int_equal(s->type, 1);
    assert_false(eota_mdns_service_complete(s));
    a_record(f, "kitchen.local.", "10.0.0.9"); /* before the SRV: no host yet */
    assert_string_equal(s->addr[0], "");
    srv(f, "KITCHEN._eota._tcp.local.", "kitchen.local.", 3232); /* names match without case */
    txt(f, "kitchen._eota._tcp.local.", "\x0fstate=confirmed");
    assert_true(eota_mdns_service_complete(s));
    assert_string_equal(s->host, "kitchen.local.");
    assert_int_equal(s->port, 3232);
    assert_int_equal(s->txtlen, 16);
    assert_memory_equal(s->txt, "\x0fstate=confirmed", 16);
    a_record(f, "kitchen.local.", "10.0.0.9");
    assert_string_equal(s->addr[0], "10.0.0.9");
    assert_int_equal(f->h.n, 4); /* PTR, SRV, TXT, A: the one before the SRV changed nothing */
    assert_int_equal(f->h.rr[0], EOTA_MDNS_RR_PTR);
    assert_int_equal(f->h.rr[1], EOTA_MDNS_RR_SRV);
    assert_int_equal(f->h.rr[2], EOTA_MDNS_RR_TXT);
    assert_int_equal(f->h.rr[3], EOTA_MDNS_RR_A);
}

static void test_addresses_latest_first_once_four_at_most(void **state)
{
    fixture *f = *state;
    ptr(f, "_eota._tcp.local.", "k._eota._tcp.local.", 4500);
    srv(f, "k._eota._tcp.local.", "k.local.", 3232);
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.3", "10.0.0.4", "10.0.0.5"};
    for (size_t i = 0; i < 6; i++)
        a_record(f, "k.local.", ips[i]);
    const eota_mdns_service *s = eota_mdns_browse_get(f->b, 0);
    assert_string_equal(s->addr[0], "10.0.0.5");
    assert_string_equal(s->addr[1], "10.0.0.4");
    assert_string_equal(s->addr[2], "10.0.0.3");
    assert_string_equal(s->addr[3], "10.0.0.1"); /* 10.0.0.2 fell off; 10.0.0.1 only once */
}

static void test_gone_back_forgotten_and_full(void **state)
{
    fixture *f = *state;
    ptr(f, "_esphomelib._tcp.local.", "a._esphomelib._tcp.local.", 4500);
    ptr(f, "_eota._tcp.local.", "b._eota._tcp.local.", 4500);
    ptr(f, "_eota._tcp.local.", "c._eota._tcp.local.", 4500);
    ptr(f, "_eota._tcp.local.", "d._eota._tcp.local.", 4500); /* no slot left */
    assert_int_equal(eota_mdns_browse_slots(f->b), 3);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(eota_mdns_browse_get(f->b, i));
    assert_int_equal(eota_mdns_browse_get(f->b, 0)->type, 0);
    assert_null(eota_mdns_browse_get(f->b, 3));
    ptr(f, "_eota._tcp.local.", "unknown._eota._tcp.local.", 0); /* a goodbye of nothing known */
    ptr(f, "_eota._tcp.local.", "b._eota._tcp.local.", 0);
    assert_true(eota_mdns_browse_get(f->b, 1)->gone);
    ptr(f, "_eota._tcp.local.", "b._eota._tcp.local.", 4500);
    assert_false(eota_mdns_browse_get(f->b, 1)->gone);
    eota_mdns_browse_forget(f->b, 1);
    assert_null(eota_mdns_browse_get(f->b, 1));
    ptr(f, "_eota._tcp.local.", "d._eota._tcp.local.", 4500); /* takes the freed slot */
    assert_string_equal(eota_mdns_browse_get(f->b, 1)->instance, "d._eota._tcp.local.");
    txt(f, "gone._eota._tcp.local.", "\x03x=1"); /* records of no instance: ignored */
    srv(f, "gone._eota._tcp.local.", "gone.local.", 1);
    assert_int_equal(f->h.slot[f->h.n - 1], 1);
}

static void test_service_packet_through_the_querier(void **state)
{
    fixture *f = *state;
    pkt p;
    pkt_service(&p); /* PTR living._esphomelib._tcp, SRV living.local:6053, TXT, A 10.9.9.9 */
    struct in_addr from;
    inet_pton(AF_INET, "10.9.9.9", &from);
    assert_int_equal(eota_mdns_query_feed(f->q, p.b, p.n, from, 5353), 1);
    const eota_mdns_service *s = eota_mdns_browse_get(f->b, 0);
    assert_non_null(s);
    assert_true(eota_mdns_service_complete(s));
    assert_int_equal(s->type, 0);
    assert_int_equal(s->port, 6053);
    assert_string_equal(s->addr[0], "10.9.9.9");
    char version[32];
    assert_int_equal(eota_mdns_txt_get(s->txt, s->txtlen, "version", version, sizeof version), 1);
    assert_string_equal(version, "2024.6.0");
}

/* Each test with a fresh browser of two types and three slots. */
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ptr_srv_txt_a_make_a_complete_instance), T(test_addresses_latest_first_once_four_at_most),
        T(test_gone_back_forgotten_and_full), T(test_service_packet_through_the_querier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
