/*
 * mdns_seeds.c: writes the seeds of fuzz_mdns (the packets of
 * tests/support/mdns_packets.h) into the directory given, and feeds each
 * to the target once.
 */
#include <stdio.h>
#include <string.h>

#include "mdns_packets.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int write_seed(const char *dir, const char *name, const pkt *p)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p->b, 1, p->n, f) != p->n || fclose(f) != 0) {
        fprintf(stderr, "mdns_seeds: cannot write %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(p->b, p->n);
    return 0;
}

static const unsigned char ip[4] = {10, 9, 9, 9};
static void question(pkt *p) { pkt_question(p, "fuzz.local", 1); }
static void conflict(pkt *p) { pkt_answer_a(p, "fuzz.local", ip); }

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*make)(pkt *);
    } seeds[] = {{"question", question},          {"conflict", conflict},
                 {"service", pkt_service},        {"self_loop", pkt_self_loop},
                 {"two_loop", pkt_two_loop},      {"forward_pointer", pkt_forward_pointer},
                 {"bad_rdlength", pkt_bad_rdlength}, {"oversized", pkt_oversized}};
    pkt p;
    int rc = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: mdns_seeds DIR\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        seeds[i].make(&p);
        rc |= write_seed(argv[1], seeds[i].name, &p);
    }
    return rc;
}
