/*
 * reply.c: the web server's replies, and the lingering close that lets a
 * client read a reply sent before its body was read (instead of a reset).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"

#define LINGER_MS 5000             /* a lingering close lasts at most this long */

enum MHD_Result web_reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                          int close_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A reply queued before the body was read: MHD sends it, then shuts the
 * socket down and closes it, and a client still sending its body would get
 * a reset, often before it reads the reply (curl then reports a send
 * failure). Keep a duplicate of the socket and read what still comes,
 * until the client closes or LINGER_MS have passed. */
void web_linger_if_body(eota_web *w, struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if ((!cl || strtoull(cl, NULL, 10) == 0) && !te)
        return;
    if (w->nlinger == MAX_LINGER)
        return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    int fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return;
    w->linger_fd[w->nlinger] = fd;
    w->linger_until[w->nlinger] = web_now_ms() + LINGER_MS;
    w->nlinger++;
}

void web_linger_run(eota_web *w)
{
    uint64_t t = web_now_ms();
    for (int i = 0; i < w->nlinger;) {
        char buf[16384];
        ssize_t n;
        while ((n = recv(w->linger_fd[i], buf, sizeof buf, MSG_DONTWAIT)) > 0)
            ;
        int done = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
        if (done || t >= w->linger_until[i]) {
            close(w->linger_fd[i]);
            w->linger_fd[i] = w->linger_fd[w->nlinger - 1];
            w->linger_until[i] = w->linger_until[w->nlinger - 1];
            w->nlinger--;
            continue;
        }
        i++;
    }
}

enum MHD_Result web_reply_failed(web_req *r, unsigned status, const char *reason)
{
    char body[800];
    snprintf(body, sizeof body, "Update Failed! %s", reason);
    LOGW(TAG, "POST /update from %s: %u %s", r->peer, status, body);
    return web_reply(r->conn, status, "text/plain; charset=utf-8", body, 1);
}
