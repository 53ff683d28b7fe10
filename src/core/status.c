/*
 * status.c: names and sentences of the library's statuses (eota/status.h),
 * so that logs say "ETOOBIG (the image does not fit the slot)", not "-8".
 */
#include "eota/status.h"

#include <stddef.h>

typedef struct status_text {
    int status;
    const char *name;
    const char *describe;
} status_text;

static const status_text statuses[] = {
    {EOTA_OK, "OK", "success"},
    {EOTA_AGAIN, "AGAIN", "not finished yet: call again later"},
    {EOTA_CLOSED, "CLOSED", "the peer closed the connection"},
    {EOTA_EIO, "EIO", "an input/output error"},
    {EOTA_EINVAL, "EINVAL", "an invalid argument"},
    {EOTA_EBUSY, "EBUSY", "busy: an upload is already running"},
    {EOTA_ECRYPTO, "ECRYPTO", "the crypto or random source failed"},
    {EOTA_ENOSPC, "ENOSPC", "a buffer is too small"},
    {EOTA_ETOOBIG, "ETOOBIG", "the image does not fit the slot"},
    {EOTA_ENOSLOT, "ENOSLOT", "there is no slot to write the image to"},
    {EOTA_EUNSUPPORTED, "EUNSUPPORTED", "this kind of image is not supported"},
    {EOTA_EPREPARE, "EPREPARE", "the slot could not be prepared"},
    {EOTA_EWRITE, "EWRITE", "writing the image failed"},
    {EOTA_EFORMAT, "EFORMAT", "the image is malformed"},
    {EOTA_EVERIFY, "EVERIFY", "the written image did not verify"},
    {EOTA_ECOMMIT, "ECOMMIT", "the image could not be installed"},
};

static const status_text *find(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return &statuses[i];
    return NULL;
}

const char *eota_status_name(int status)
{
    const status_text *t = find(status);
    return t ? t->name : "UNKNOWN";
}

const char *eota_status_describe(int status)
{
    const status_text *t = find(status);
    return t ? t->describe : "an unknown status";
}
