/*
 * fuzz_mdns.c: libFuzzer target for eota's mDNS (src/app/mdns): every
 * input is one packet, fed to an offline responder (the embedded backend
 * publishing NAME.local, _eota._tcp and _http._tcp) and to an offline
 * querier asking for a name and both service types, from port 5353 or,
 * for odd lengths, from a legacy unicast port (RFC 6762 6.7). The packet
 * guard must refuse what libmdnsd cannot take (truncated, looping
 * compression pointers, oversized); nothing may crash, hang or leak.
 * Seeds: fuzz_mdns_seeds writes the samples of tests/support/mdns_packets.h.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "mdns/mdns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_answer(void *ctx, const eota_mdns_answer *a)
{
    char v[64];
    size_t *n = ctx;
    *n += a->name ? strlen(a->name) : 0;
    *n += a->target ? strlen(a->target) : 0;
    if (a->rdata)
        *n += (size_t)eota_mdns_txt_get(a->rdata, a->rdlen, "version", v, sizeof v);
}

static eota_mdns *responder(void)
{
    static eota_mdns *m;
    if (!m) {
        eota_mdns_txt t = {.n = 0};
        eota_mdns_txt_add(&t, "name", "fuzz");
        eota_mdns_txt_add(&t, "state", "confirmed");
        eota_mdns_config c = {"fuzz", 3232, 80, EOTA_MDNS_EMBEDDED, 1};
        eota_log_set_level(0);
        m = eota_mdns_start(&c, &t);
    }
    return m;
}

static eota_mdns_query *querier(void)
{
    static eota_mdns_query *q;
    static size_t seen;
    if (!q && (q = eota_mdns_query_new_offline(on_answer, &seen))) {
        eota_mdns_query_ask(q, "fuzz.local", 1);
        eota_mdns_query_ask(q, "fuzz.local", 28);
        eota_mdns_query_ask(q, "_esphomelib._tcp.local", 12);
        eota_mdns_query_ask(q, "_eota._tcp.local", 12);
        eota_mdns_query_ask(q, "living._esphomelib._tcp.local", 33);
        eota_mdns_query_ask(q, "living._esphomelib._tcp.local", 16);
    }
    return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in_addr from;
    inet_pton(AF_INET, "10.9.9.9", &from);
    uint16_t port = (size & 1) ? 40000 : 5353;
    eota_mdns_feed(responder(), data, size, from, port);
    eota_mdns_query_feed(querier(), data, size, from, port);
    return 0;
}
