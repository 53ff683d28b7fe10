/*
 * test_mdns_packets.c: the mDNS packet guard and the offline responder and
 * querier (src/app/mdns): bad packets (truncated at every length, looping
 * compression pointers, pointers past the end, oversized, lying lengths)
 * are refused before libmdnsd sees them; good ones reach it: a response
 * claiming our name renames the responder (RFC 6762 9), a service response
 * reaches the querier with its additional records.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mdns/mdns.h"
#include "mdns_packets.h"

static struct in_addr peer(void)
{
    struct in_addr a;
    inet_pton(AF_INET, "10.9.9.9", &a);
    return a;
}

static void test_bad_packets_refused(void **state)
{
    (void)state;
    pkt p;
    void (*bad[])(pkt *) = {pkt_self_loop, pkt_two_loop, pkt_forward_pointer, pkt_oversized, pkt_bad_rdlength};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bad[i](&p);
        assert_false(eota_mdns_packet_ok(p.b, p.n));
    }
    pkt_service(&p);
    assert_true(eota_mdns_packet_ok(p.b, p.n));
    for (size_t n = 0; n < p.n; n++) /* every truncation */
        assert_false(eota_mdns_packet_ok(p.b, n));
}

static void test_responder_renames_on_conflict(void **state)
{
    (void)state;
    static const unsigned char other[4] = {10, 9, 9, 9};
    eota_mdns_txt t = {.n = 0};
    eota_mdns_txt_add(&t, "name", "fuzz");
    eota_mdns_config c = {"fuzz", 3232, 80, EOTA_MDNS_EMBEDDED, 1};
    eota_mdns *m = eota_mdns_start(&c, &t);
    assert_non_null(m);
    assert_string_equal(eota_mdns_host(m), "fuzz.local");
    pkt p;
    pkt_self_loop(&p);
    assert_int_equal(eota_mdns_feed(m, p.b, p.n, peer(), 5353), 0);
    pkt_question(&p, "fuzz.local", 1);
    assert_int_equal(eota_mdns_feed(m, p.b, p.n, peer(), 5353), 1);
    assert_string_equal(eota_mdns_host(m), "fuzz.local");
    pkt_answer_a(&p, "fuzz.local", other);
    assert_int_equal(eota_mdns_feed(m, p.b, p.n, peer(), 5353), 1);
    assert_string_equal(eota_mdns_host(m), "fuzz-2.local");
    eota_mdns_stop(m);
}

typedef struct seen {
    int srv, txt, a;
    char version[32];
} seen;

static void on_answer(void *ctx, const eota_mdns_answer *a)
{
    seen *s = ctx;
    if (a->type == 33 && a->port == 6053)
        s->srv++;
    if (a->type == 16)
        s->txt += eota_mdns_txt_get(a->rdata, a->rdlen, "version", s->version, sizeof s->version);
    if (a->type == 1 && a->a.s_addr == peer().s_addr)
        s->a++;
}

static void test_querier_gets_additional_records(void **state)
{
    (void)state;
    seen s = {0};
    eota_mdns_query *q = eota_mdns_query_new_offline(on_answer, &s);
    assert_non_null(q);
    eota_mdns_query_ask(q, "_esphomelib._tcp.local", 12);
    pkt p;
    pkt_two_loop(&p);
    assert_int_equal(eota_mdns_query_feed(q, p.b, p.n, peer(), 5353), 0);
    pkt_service(&p);
    assert_int_equal(eota_mdns_query_feed(q, p.b, p.n, peer(), 5353), 1);
    assert_int_equal(s.srv, 1);
    assert_int_equal(s.txt, 1);
    assert_string_equal(s.version, "2024.6.0");
    assert_int_equal(s.a, 1);
    eota_mdns_query_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_packets_refused),
        cmocka_unit_test(test_responder_renames_on_conflict),
        cmocka_unit_test(test_querier_gets_additional_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
