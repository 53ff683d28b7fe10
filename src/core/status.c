/*
 * status.c: names and sentences of the library's statuses (eota/status.h),
 * so that logs say "ETOOBIG (the image does not fit the slot)", not "-8".
 */
#include "eota/status.h"

#include <stddef.h>

#include "text.h"

static const eota_text statuses[] = {
    EOTA_TEXT(EOTA_OK, "OK", "success"),
    EOTA_TEXT(EOTA_AGAIN, "AGAIN", "not finished yet: call again later"),
    EOTA_TEXT(EOTA_CLOSED, "CLOSED", "the peer closed the connection"),
    EOTA_TEXT(EOTA_EIO, "EIO", "an input/output error"),
    EOTA_TEXT(EOTA_EINVAL, "EINVAL", "an invalid argument"),
    EOTA_TEXT(EOTA_EBUSY, "EBUSY", "busy: an upload is already running"),
    EOTA_TEXT(EOTA_ECRYPTO, "ECRYPTO", "the crypto or random source failed"),
    EOTA_TEXT(EOTA_ENOSPC, "ENOSPC", "a buffer is too small"),
    EOTA_TEXT(EOTA_ETOOBIG, "ETOOBIG", "the image does not fit the slot"),
    EOTA_TEXT(EOTA_ENOSLOT, "ENOSLOT", "there is no slot to write the image to"),
    EOTA_TEXT(EOTA_EUNSUPPORTED, "EUNSUPPORTED", "this kind of image is not supported"),
    EOTA_TEXT(EOTA_EPREPARE, "EPREPARE", "the slot could not be prepared"),
    EOTA_TEXT(EOTA_EWRITE, "EWRITE", "writing the image failed"),
    EOTA_TEXT(EOTA_EFORMAT, "EFORMAT", "the image is malformed"),
    EOTA_TEXT(EOTA_EVERIFY, "EVERIFY", "the written image did not verify"),
    EOTA_TEXT(EOTA_ECOMMIT, "ECOMMIT", "the image could not be installed"),
    EOTA_TEXT(EOTA_ESIGNATURE, "ESIGNATURE", "the image is not signed by a trusted key"),
    EOTA_TEXT(EOTA_EDOWNGRADE, "EDOWNGRADE", "the image is older than the running one"),
};

const char *eota_status_name(int status)
{
    const eota_text *t = eota_text_find(statuses, EOTA_TEXT_COUNT(statuses), status);
    return t ? t->name : "UNKNOWN";
}

const char *eota_status_describe(int status)
{
    const eota_text *t = eota_text_find(statuses, EOTA_TEXT_COUNT(statuses), status);
    return eota_text_sentence(t, EOTA_WITH_DESCRIPTIONS ? "an unknown status" : "UNKNOWN");
}
