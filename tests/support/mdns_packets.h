/*
 * mdns_packets.h: DNS packets for the mDNS tests and the fuzz seeds
 * (tests only): a small builder, good and bad packets.
 */
#ifndef EOTA_TESTS_MDNS_PACKETS_H
#define EOTA_TESTS_MDNS_PACKETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pkt {
    unsigned char b[6000];
    size_t n;
} pkt;

/* A header: id 0, flags (0x8400 for a response), the four counts. */
void pkt_header(pkt *p, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar);
/* A name as labels ("fuzz.local"), uncompressed. */
void pkt_name(pkt *p, const char *name);
void pkt_u16(pkt *p, uint16_t v);
void pkt_u32(pkt *p, uint32_t v);
void pkt_bytes(pkt *p, const void *b, size_t n);
/* A record's fixed part after its name: type, class, ttl, rdlength. */
void pkt_rr(pkt *p, uint16_t type, uint16_t cls, uint32_t ttl, uint16_t rdlen);

/* The samples: a question for NAME's A record; a response giving NAME the
 * address a.b.c.d; a service response (PTR for _esphomelib._tcp with SRV,
 * TXT and A as additional records); bad ones. */
void pkt_question(pkt *p, const char *name, uint16_t type);
void pkt_answer_a(pkt *p, const char *name, const unsigned char ip[4]);
void pkt_service(pkt *p);
void pkt_self_loop(pkt *p);
void pkt_two_loop(pkt *p);
void pkt_forward_pointer(pkt *p);
void pkt_oversized(pkt *p);
void pkt_bad_rdlength(pkt *p);

#endif
