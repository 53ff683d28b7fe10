/*
 * pipe.c: the in-memory pipe of pipe.h.
 */
#include "pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mem_pipe_init(mem_pipe *p, size_t cap)
{
    memset(p, 0, sizeof *p);
    if (cap == 0)
        cap = 256u * 1024u;
    for (int i = 0; i < 2; i++) {
        p->dir[i].data = malloc(cap);
        if (!p->dir[i].data) {
            fprintf(stderr, "out of memory\n");
            abort();
        }
        p->dir[i].cap = cap;
        p->end[i].pipe = p;
        p->end[i].side = i;
    }
}

void mem_pipe_free(mem_pipe *p)
{
    for (int i = 0; i < 2; i++)
        free(p->dir[i].data);
    memset(p, 0, sizeof *p);
}

size_t mem_pipe_pending(const mem_pipe *p, int side) { return p->dir[1 - side].len; }

static long pipe_read(void *conn, uint8_t *buf, size_t len)
{
    mem_pipe_end *e = conn;
    mem_pipe *p = e->pipe;
    mem_pipe_dir *d = &p->dir[1 - e->side];
    if (e->closed || e->fail_read)
        return EOTA_EIO;
    if (e->again_reads > 0) {
        e->again_reads--;
        return EOTA_AGAIN;
    }
    if (d->len == 0)
        return p->end[1 - e->side].closed ? EOTA_CLOSED : EOTA_AGAIN;
    size_t n = len < d->len ? len : d->len;
    if (e->max_io && n > e->max_io)
        n = e->max_io;
    for (size_t i = 0; i < n; i++)
        buf[i] = d->data[(d->head + i) % d->cap];
    d->head = (d->head + n) % d->cap;
    d->len -= n;
    e->bytes_read += n;
    return (long)n;
}

static long pipe_write(void *conn, const uint8_t *buf, size_t len)
{
    mem_pipe_end *e = conn;
    mem_pipe *p = e->pipe;
    mem_pipe_dir *d = &p->dir[e->side];
    if (e->closed || e->fail_write)
        return EOTA_EIO;
    if (p->end[1 - e->side].closed)
        return EOTA_CLOSED;
    size_t room = d->cap - d->len;
    if (room == 0)
        return EOTA_AGAIN;
    size_t n = len < room ? len : room;
    if (e->max_io && n > e->max_io)
        n = e->max_io;
    for (size_t i = 0; i < n; i++)
        d->data[(d->head + d->len + i) % d->cap] = buf[i];
    d->len += n;
    e->bytes_written += n;
    return (long)n;
}

static void pipe_close(void *conn)
{
    mem_pipe_end *e = conn;
    mem_pipe *p = e->pipe;
    e->closed++;
    /* What was sent to us is dropped: nobody will read it. */
    p->dir[1 - e->side].len = 0;
}

const eota_transport_ops mem_pipe_transport = {pipe_read, pipe_write, pipe_close};
