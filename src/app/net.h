/*
 * net.h: socket helpers shared by the parts of the eota command that listen
 * (the OTA port of `eota device` and its web server): listeners, and
 * addresses as text for the logs.
 */
#ifndef EOTA_APP_NET_H
#define EOTA_APP_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A non-blocking, close-on-exec TCP listener on a numeric address (IPv6
 * sockets are IPv6-only, so that 0.0.0.0 and :: can both be opened).
 * Returns the fd, with *family set when not NULL; or -1 with a message in
 * err. */
int eota_net_listen(const char *addr, uint16_t port, int backlog, int *family, char *err, size_t errlen);

/* A socket address as text: "host:port", or "[host]:port" for IPv6 with
 * v6_brackets; "?:0" for another family or NULL. */
void net_addr_text(const struct sockaddr *sa, int v6_brackets, char *buf, size_t len);

/* The peer of a connected socket as net_addr_text without brackets. */
void net_peer_text(int fd, char *buf, size_t len);

#endif
