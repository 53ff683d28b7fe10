/*
 * native_connect.c: the TCP connection of a native attempt, opened without
 * blocking: connect() in progress is waited for in the loop's poll(), for
 * at most --handshake-timeout, and its failure is named as the engine
 * names errors (refused, unreachable, timeout, closed).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "upload/transport_native.h"
#include "upload/util.h"

static eota_client_error classify_errno(int e)
{
    switch (e) {
    case ECONNREFUSED: return EOTA_CLIENT_ERR_REFUSED;
    case ETIMEDOUT: return EOTA_CLIENT_ERR_TIMEOUT;
    case ECONNRESET:
    case EPIPE: return EOTA_CLIENT_ERR_CLOSED;
    default: return EOTA_CLIENT_ERR_UNREACHABLE;
    }
}

void up_nat_connect_failed(up_run *r, up_job *j, eota_client_error e, int sys_err)
{
    up_nat_job *n = up_nat_of(j);
    if (n->conn.pc.fd >= 0)
        close(n->conn.pc.fd);
    n->conn.pc.fd = -1;
    n->connecting = 0;
    up_nat_attempt_ended(r, j, e, EOTA_CLIENT_PH_CONNECT, 0, sys_err, 0);
}

void up_nat_connect(up_run *r, up_job *j)
{
    up_nat_job *n = up_nat_of(j);
    const up_addr *a = up_job_addr(j);
    n->announced = 0;
    if (r->opt.verbose)
        up_say(&r->con, "%s: connecting to %s", j->spec, a->show);
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    up_nat_conn_open(&n->conn, fd);
    if (fd < 0) {
        up_nat_connect_failed(r, j, EOTA_CLIENT_ERR_UNREACHABLE, errno);
        return;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    n->deadline = up_now_ms() + r->opt.handshake_ms;
    if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0) {
        up_nat_engine_start(r, j);
        return;
    }
    if (errno == EINPROGRESS || errno == EINTR) {
        n->connecting = 1;
        return;
    }
    up_nat_connect_failed(r, j, classify_errno(errno), errno);
}

void up_nat_connect_ready(up_run *r, up_job *j, short revents)
{
    up_nat_job *n = up_nat_of(j);
    if (revents & (POLLOUT | POLLERR | POLLHUP)) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(n->conn.pc.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == 0) {
            n->connecting = 0;
            up_nat_engine_start(r, j);
        } else if (err != EINPROGRESS && err != EALREADY) {
            up_nat_connect_failed(r, j, classify_errno(err), err);
        }
        return;
    }
    if (up_now_ms() >= n->deadline)
        up_nat_connect_failed(r, j, EOTA_CLIENT_ERR_TIMEOUT, ETIMEDOUT);
}
