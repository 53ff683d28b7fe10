/*
 * resolve.h: the addresses of a device, every one its names resolve to
 * (IPv4 and IPv6, getaddrinfo), in the order given, without duplicates:
 * an upload tries them in turn.
 */
#ifndef EOTA_APP_UPLOAD_RESOLVE_H
#define EOTA_APP_UPLOAD_RESOLVE_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "upload/console.h"
#include "upload/devices.h"

typedef struct up_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char ip[INET6_ADDRSTRLEN];
    uint16_t port;
    char show[INET6_ADDRSTRLEN + 16]; /* "1.2.3.4:3232", "[::1]:3232" */
} up_addr;

/* Resolve the targets into *addrs (to free), *n of them. A name that does
 * not resolve leaves its reason in msg, and is said at once on con, as
 * "SPEC: reason", when con is not NULL. Returns *n. */
size_t up_resolve(const up_target *t, size_t nt, up_addr **addrs, size_t *n, char *msg, size_t msglen,
                  up_console *con, const char *spec);

#endif
