/*
 * io.c: a libmdnsd daemon on the mDNS socket (io.h).
 */
#include "mdns/io.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define FRAME 1400 /* libmdnsd's largest packet out */

int mdns_io_open(mdns_io *io, int offline)
{
    memset(io, 0, sizeof *io);
    io->sock.fd = -1;
    if (!offline && mdns_sock_open(&io->sock) != 0)
        return -1;
    io->d = mdnsd_new(QCLASS_IN, FRAME);
    io->buf = calloc(1, MDNS_IO_BUF);
    io->msg = malloc(sizeof *io->msg);
    if (!io->d || !io->buf || !io->msg) {
        mdns_io_close(io);
        return -1;
    }
    return 0;
}

void mdns_io_close(mdns_io *io)
{
    if (io->d)
        mdnsd_free(io->d);
    mdns_sock_close(&io->sock);
    free(io->buf);
    free(io->msg);
    memset(io, 0, sizeof *io);
    io->sock.fd = -1;
}

int mdns_io_feed(mdns_io *io, const unsigned char *buf, size_t len, struct in_addr from, uint16_t port)
{
    if (!eota_mdns_packet_ok(buf, len))
        return 0;
    memset(io->msg, 0, sizeof *io->msg);
    message_parse(io->msg, (unsigned char *)buf);
    if (io->filter && !io->filter(io->filter_ctx, io->msg))
        return 1; /* looked at, not for the daemon */
    mdnsd_in(io->d, io->msg, from, port);
    if (io->after)
        io->after(io->filter_ctx, io->msg);
    return 1;
}

/* Zero the buffer past a packet of len bytes (libmdnsd reads past its
 * end): only what earlier packets left there, not the whole 65 KiB. */
static void zero_past(mdns_io *io, size_t len)
{
    if (io->dirty > len)
        memset(io->buf + len, 0, io->dirty - len);
    io->dirty = len;
}

int mdns_io_feed_copy(mdns_io *io, const unsigned char *pkt, size_t len, struct in_addr from, uint16_t port)
{
    if (len > EOTA_MDNS_MAX_PACKET)
        return 0;
    memcpy(io->buf, pkt, len);
    zero_past(io, len);
    return mdns_io_feed(io, io->buf, len, from, port);
}

void mdns_io_flush(mdns_io *io)
{
    struct in_addr ip;
    unsigned short port;
    while (mdnsd_out(io->d, io->msg, &ip, &port)) {
        /* libmdnsd gives the multicast port in network order, a unicast
         * reply's as it came (host order) */
        uint16_t p = IN_MULTICAST(ntohl(ip.s_addr)) ? port : htons(port);
        mdns_sock_send(&io->sock, message_packet(io->msg), (size_t)message_packet_len(io->msg), ip, p);
    }
}

void mdns_io_run(mdns_io *io, const struct pollfd *pfd, int n)
{
    int readable = 0;
    for (int i = 0; i < n; i++)
        readable |= pfd[i].fd == io->sock.fd && (pfd[i].revents & POLLIN);
    struct sockaddr_in from;
    long len;
    while (readable && (len = mdns_sock_recv(&io->sock, io->buf, MDNS_IO_BUF, &from, &io->dirty)) > 0) {
        zero_past(io, (size_t)len);
        mdns_io_feed(io, io->buf, (size_t)len, from.sin_addr, ntohs(from.sin_port));
    }
    mdns_io_flush(io);
}

int mdns_io_pollfds(mdns_io *io, struct pollfd *pfd, int max)
{
    if (max < 1 || io->sock.fd < 0)
        return 0;
    pfd[0] = (struct pollfd){io->sock.fd, POLLIN, 0};
    return 1;
}

long mdns_io_timeout_ms(mdns_io *io)
{
    struct timeval *tv = mdnsd_sleep(io->d);
    long ms = (long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
    return ms < 0 ? 0 : ms;
}
