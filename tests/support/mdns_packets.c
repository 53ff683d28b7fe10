/*
 * mdns_packets.c: DNS packets for the mDNS tests and fuzz seeds
 * (mdns_packets.h).
 */
#include "mdns_packets.h"

#include <string.h>

void pkt_u16(pkt *p, uint16_t v)
{
    p->b[p->n++] = (unsigned char)(v >> 8);
    p->b[p->n++] = (unsigned char)v;
}

void pkt_u32(pkt *p, uint32_t v)
{
    pkt_u16(p, (uint16_t)(v >> 16));
    pkt_u16(p, (uint16_t)v);
}

void pkt_bytes(pkt *p, const void *b, size_t n)
{
    memcpy(p->b + p->n, b, n);
    p->n += n;
}

void pkt_header(pkt *p, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
    p->n = 0;
    pkt_u16(p, 0);
    pkt_u16(p, flags);
    pkt_u16(p, qd);
    pkt_u16(p, an);
    pkt_u16(p, ns);
    pkt_u16(p, ar);
}

void pkt_name(pkt *p, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        p->b[p->n++] = (unsigned char)l;
        pkt_bytes(p, name, l);
        name += l + (dot ? 1 : 0);
    }
    p->b[p->n++] = 0;
}

void pkt_rr(pkt *p, uint16_t type, uint16_t cls, uint32_t ttl, uint16_t rdlen)
{
    pkt_u16(p, type);
    pkt_u16(p, cls);
    pkt_u32(p, ttl);
    pkt_u16(p, rdlen);
}

void pkt_question(pkt *p, const char *name, uint16_t type)
{
    pkt_header(p, 0, 1, 0, 0, 0);
    pkt_name(p, name);
    pkt_u16(p, type);
    pkt_u16(p, 1);
}

void pkt_answer_a(pkt *p, const char *name, const unsigned char ip[4])
{
    pkt_header(p, 0x8400, 0, 1, 0, 0);
    pkt_name(p, name);
    pkt_rr(p, 1, 0x8001, 120, 4);
    pkt_bytes(p, ip, 4);
}

void pkt_service(pkt *p)
{
    static const unsigned char ip[4] = {10, 9, 9, 9};
    static const char txt[] = "\x10" "version=2024.6.0" "\x0c" "mac=a0b1c2d3" "\x0c" "board=esp32x";
    pkt_header(p, 0x8400, 0, 1, 0, 3);
    size_t type_at = p->n;
    pkt_name(p, "_esphomelib._tcp.local");
    pkt_rr(p, 12, 1, 4500, 9);
    size_t inst_at = p->n;
    p->b[p->n++] = 6;
    pkt_bytes(p, "living", 6);
    pkt_u16(p, (uint16_t)(0xC000 | type_at)); /* living + pointer to the type */
    pkt_u16(p, (uint16_t)(0xC000 | inst_at)); /* SRV of the instance */
    pkt_rr(p, 33, 0x8001, 120, 6 + 14);
    pkt_u16(p, 0);
    pkt_u16(p, 0);
    pkt_u16(p, 6053);
    pkt_name(p, "living.local");
    pkt_u16(p, (uint16_t)(0xC000 | inst_at)); /* TXT */
    pkt_rr(p, 16, 0x8001, 4500, sizeof txt - 1);
    pkt_bytes(p, txt, sizeof txt - 1);
    pkt_name(p, "living.local"); /* A */
    pkt_rr(p, 1, 0x8001, 120, 4);
    pkt_bytes(p, ip, 4);
}

void pkt_self_loop(pkt *p)
{
    pkt_header(p, 0, 1, 0, 0, 0);
    pkt_u16(p, 0xC00C); /* the name at 12 points to 12 */
    pkt_u16(p, 1);
    pkt_u16(p, 1);
}

void pkt_two_loop(pkt *p)
{
    pkt_header(p, 0, 1, 0, 0, 0);
    p->b[p->n++] = 1;
    p->b[p->n++] = 'a';
    pkt_u16(p, 0xC010); /* 14 -> 16 */
    p->b[p->n++] = 1;
    p->b[p->n++] = 'b';
    pkt_u16(p, 0xC00C); /* 18 -> 12: a loop */
    pkt_u16(p, 1);
    pkt_u16(p, 1);
}

void pkt_forward_pointer(pkt *p)
{
    pkt_header(p, 0, 1, 0, 0, 0);
    pkt_u16(p, 0xC0FF); /* past the end */
    pkt_u16(p, 1);
    pkt_u16(p, 1);
}

void pkt_oversized(pkt *p)
{
    pkt_question(p, "fuzz.local", 1);
    memset(p->b + p->n, 0, 5000 - p->n);
    p->n = 5000;
}

void pkt_bad_rdlength(pkt *p)
{
    pkt_header(p, 0x8400, 0, 1, 0, 0);
    pkt_name(p, "fuzz.local");
    pkt_rr(p, 1, 0x8001, 120, 4000); /* more than there is */
    pkt_u32(p, 0x0a000001);
}
