/*
 * embed_loop.c: the smallest useful embedding of the device engine: a main
 * loop that serves OTA on a TCP port while it goes on doing its own work,
 * storing images in RAM through a storage backend of a few lines (a chip
 * writes a flash slot instead: eota/flash_backend.h). The README quotes it;
 * CMake builds it so the quote cannot rot. It uses the installed library
 * only (eota_posix), no test double. Usage: eota_example_embed [PORT]
 * (default 8082).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eota/posix.h"
#include "eota/server.h"

static uint8_t image[4u << 20]; /* where images land (a flash slot on a chip) */
static uint8_t xfer[4096];      /* the engine's transfer buffer */

/* The storage backend: a slot in RAM. An image counts once end() is called;
 * abort() drops it. */
typedef struct ram_slot {
    size_t len;       /* bytes of the upload in progress */
    size_t committed; /* bytes of the last committed image */
} ram_slot;

/* Backends speak statuses (eota/status.h); the engine turns them into the
 * protocol's response codes (ETOOBIG into the config's too_big_code). */
static int ram_begin(void *ctx, const eota_begin_info *info)
{
    ram_slot *s = ctx;
    if (info->size > sizeof image)
        return EOTA_ETOOBIG;
    s->len = 0;
    return EOTA_OK;
}

static int ram_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    ram_slot *s = ctx;
    if (len > sizeof image - s->len)
        return EOTA_EWRITE; /* more than announced */
    memcpy(image + s->len, data, len);
    s->len += len;
    *taken = len;
    return EOTA_OK;
}

static int ram_end(void *ctx)
{
    ram_slot *s = ctx;
    s->committed = s->len;
    return EOTA_OK;
}

static void ram_abort(void *ctx) { ((ram_slot *)ctx)->len = 0; }

static const eota_backend_ops ram_slot_ops = {ram_begin, ram_write, ram_end, ram_abort, NULL};

static void on_event(void *ctx, const eota_event *ev)
{
    (void)ctx;
    printf("ota: %s %.0f%% code 0x%02x\n", eota_state_name(ev->state), eota_event_percent(ev), ev->code);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8082;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1) != 0) {
        perror("listen");
        return 1;
    }

    eota_posix_hash hash;
    ram_slot slot = {0, 0};
    eota_posix_hash_init(&hash);

    eota_server_config cfg = {0};
    cfg.transport = &eota_posix_transport;
    cfg.clock = eota_posix_clock();
    cfg.random = eota_posix_random();
    cfg.hash = eota_posix_hash_seam(&hash);
    cfg.backend.ops = &ram_slot_ops; /* caps 0: no gzip, app images only */
    cfg.backend.ctx = &slot;
    cfg.events.on_event = on_event;
    cfg.password = getenv("OTA_PASSWORD"); /* NULL or "": no auth */

    eota_server srv;
    if (eota_server_init(&srv, &cfg, xfer, sizeof xfer) != EOTA_OK)
        return 1;

    eota_posix_conn conn = {-1};
    for (;;) {
        /* 1. a new client? (the engine turns it away if one is served) */
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0) {
            eota_posix_set_nonblocking(fd);
            if (eota_server_busy(&srv)) {
                eota_posix_conn other = {fd};
                eota_server_accept(&srv, &other);
            } else {
                conn.fd = fd;
                eota_server_accept(&srv, &conn);
            }
        }
        /* 2. let the engine do what it can without blocking */
        if (eota_server_poll(&srv) == EOTA_SERVER_REBOOT) {
            printf("new image: %zu bytes; a device would reboot into it now\n", slot.committed);
        }
        /* 3. the application's own work goes here; it keeps running during
         *    an upload. Then sleep until there is something to do. */
        struct pollfd p[2] = {{lfd, POLLIN, 0}, {conn.fd, 0, 0}};
        unsigned w = eota_server_wants(&srv);
        p[1].events = (short)(((w & EOTA_WANT_READ) ? POLLIN : 0) | ((w & EOTA_WANT_WRITE) ? POLLOUT : 0));
        long t = eota_server_timeout_ms(&srv);
        poll(p, eota_server_busy(&srv) ? 2 : 1, t < 0 || t > 100 ? 100 : (int)t);
    }
}
