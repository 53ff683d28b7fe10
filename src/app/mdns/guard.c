/*
 * guard.c: the packet guard (mdns.h). libmdnsd parses a packet without
 * knowing its length and follows compression pointers without a bound, so
 * each packet is first parsed by glibc's libresolv (ns_initparse,
 * ns_parserr, dn_expand), which checks lengths and loops; a packet it
 * refuses never reaches libmdnsd.
 */
#include <arpa/nameser.h>
#include <resolv.h>

#include "mdns/mdns.h"

/* A name inside rdata (PTR, SRV, NS, CNAME) expands within the packet. */
static int rdata_name_ok(const ns_msg *h, const ns_rr *rr, size_t skip)
{
    char name[NS_MAXDNAME];
    const unsigned char *rd = ns_rr_rdata(*rr);
    if (ns_rr_rdlen(*rr) <= skip)
        return 0;
    int n = dn_expand(ns_msg_base(*h), ns_msg_end(*h), rd + skip, name, sizeof name);
    return n > 0 && (size_t)n <= ns_rr_rdlen(*rr) - skip;
}

/* What libmdnsd reads of a record's rdata is there. */
static int rdata_ok(const ns_msg *h, const ns_rr *rr)
{
    switch (ns_rr_type(*rr)) {
    case ns_t_a: return ns_rr_rdlen(*rr) == 4;
    case ns_t_aaaa: return ns_rr_rdlen(*rr) == 16;
    case ns_t_ptr:
    case ns_t_ns:
    case ns_t_cname: return rdata_name_ok(h, rr, 0);
    case ns_t_srv: return rdata_name_ok(h, rr, 6);
    default: return 1;
    }
}

static int section_ok(ns_msg *h, ns_sect s)
{
    for (int i = 0; i < ns_msg_count(*h, s); i++) {
        ns_rr rr;
        if (ns_parserr(h, s, i, &rr) != 0)
            return 0;
        if (s != ns_s_qd && !rdata_ok(h, &rr))
            return 0;
    }
    return 1;
}

int eota_mdns_packet_ok(const unsigned char *pkt, size_t len)
{
    ns_msg h;
    if (len < NS_HFIXEDSZ || len > EOTA_MDNS_MAX_PACKET || ns_initparse(pkt, (int)len, &h) != 0)
        return 0;
    return section_ok(&h, ns_s_qd) && section_ok(&h, ns_s_an) && section_ok(&h, ns_s_ns) &&
           section_ok(&h, ns_s_ar);
}
