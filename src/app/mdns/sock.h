/*
 * sock.h: the IPv4 multicast socket of mDNS (224.0.0.251:5353), shared
 * with other responders on the machine (SO_REUSEADDR/PORT), joined on every
 * interface that has an IPv4 address, and sending on each of them.
 */
#ifndef EOTA_APP_MDNS_SOCK_H
#define EOTA_APP_MDNS_SOCK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define MDNS_PORT 5353
#define MDNS_MAX_IFACES 16

/* The packets we sent last: the multicast loop brings them back to us,
 * and libmdnsd would take its own probes for another host's. */
#define MDNS_ECHOES 8
#define MDNS_ECHO_MAX 1500

typedef struct mdns_echo {
    size_t len;
    unsigned char pkt[MDNS_ECHO_MAX];
} mdns_echo;

typedef struct mdns_sock {
    int fd;
    mdns_echo *echo;    /* MDNS_ECHOES of them */
    unsigned echo_next;
    struct in_addr ifaddr[MDNS_MAX_IFACES]; /* the interfaces joined */
    size_t nif;
} mdns_sock;

/* Open and join: 0, or -1 after a log line. */
int mdns_sock_open(mdns_sock *s);
void mdns_sock_close(mdns_sock *s);
/* Send a packet to ip:port (network order); a multicast one goes out on
 * every joined interface. */
void mdns_sock_send(mdns_sock *s, const unsigned char *pkt, size_t len, struct in_addr ip, uint16_t port);
/* One datagram into buf (len >= EOTA_MDNS_MAX_PACKET + 1): its length, 0
 * when none waits, -1 on error. Our own packets coming back are skipped.
 * *written is raised to the most bytes any datagram read here wrote into
 * buf, so that the caller can zero what they left past the packet. */
long mdns_sock_recv(const mdns_sock *s, unsigned char *buf, size_t len, struct sockaddr_in *from,
                    size_t *written);

#endif
