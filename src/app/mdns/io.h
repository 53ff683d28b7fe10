/*
 * io.h: a libmdnsd daemon on the mDNS socket, as the responder
 * (embedded.c) and the querier (query.c) both drive it from a poll loop:
 * packets in through the guard, packets out on every interface.
 */
#ifndef EOTA_APP_MDNS_IO_H
#define EOTA_APP_MDNS_IO_H

#include "mdns/libmdnsd.h"
#include "mdns/mdns.h"
#include "mdns/sock.h"

/* Received packets live in a buffer this big, zeroed past their end:
 * libmdnsd reads up to 64 KiB from a packet's start whatever its length. */
#define MDNS_IO_BUF (65536 + 1024)

/* Sees each parsed packet first: 1 to hand it to the daemon. */
typedef int (*mdns_io_filter)(void *ctx, const struct message *m);

typedef struct mdns_io {
    mdns_sock sock;
    mdns_daemon_t *d;
    unsigned char *buf;
    size_t dirty;           /* buf holds zeros from here on */
    struct message *msg;
    mdns_io_filter filter;  /* NULL: every packet goes in */
    mdns_io_filter after;   /* sees each packet the daemon took, after it */
    void *filter_ctx;
} mdns_io;

/* The socket (none when offline), a daemon and the buffers: 0, or -1
 * after a log line. */
int mdns_io_open(mdns_io *io, int offline);
/* mdns_io_feed of a packet copied into io's buffer. */
int mdns_io_feed_copy(mdns_io *io, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port);
/* Drain the socket into the daemon, then send what it has to send. */
void mdns_io_run(mdns_io *io, const struct pollfd *pfd, int n);
/* Send what the daemon has to send now. */
void mdns_io_flush(mdns_io *io);
int mdns_io_pollfds(mdns_io *io, struct pollfd *pfd, int max);
long mdns_io_timeout_ms(mdns_io *io);
/* Free it all (the daemon too; say goodbye first if need be). */
void mdns_io_close(mdns_io *io);

/* One packet (in a buffer of MDNS_IO_BUF bytes, zeroed past len) to the
 * filter and the daemon, when the guard lets it through: 1 if it did. */
int mdns_io_feed(mdns_io *io, const unsigned char *buf, size_t len, struct in_addr from, uint16_t port);

#endif
