/*
 * page.c: GET / of the web server: a status page (the device, its platform,
 * the running image with its size and MD5, the boot state, how the last
 * update went) and, when web uploads are on, an upload form with a
 * progress bar. Also what the page says of the last update, native or web
 * (eota_web_note_event).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "eota/protocol.h"
#include "internal.h"

static void html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

void eota_web_note_event(eota_web *w, const eota_event *ev)
{
    if (!w)
        return;
    const char *via = w->in_web_event ? "web" : "native";
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    switch (ev->state) {
    case EOTA_STATE_STARTED:
        snprintf(w->last_result, sizeof w->last_result, "in progress (%s upload of %u bytes, started %s)", via,
                 ev->total, when);
        break;
    case EOTA_STATE_IN_PROGRESS: break;
    case EOTA_STATE_COMPLETED:
        snprintf(w->last_result, sizeof w->last_result, "successful: %u bytes (%s upload, %s)", ev->total, via,
                 when);
        break;
    case EOTA_STATE_ABORT:
        snprintf(w->last_result, sizeof w->last_result, "aborted after %u bytes (%s upload, %s): the old image runs",
                 ev->received, via, when);
        break;
    case EOTA_STATE_ERROR: {
        const char *name = eota_response_name(ev->code);
        snprintf(w->last_result, sizeof w->last_result, "failed: %s (0x%02X)%s%.300s (%s upload, %s): the old image runs",
                 name ? name : "?", ev->code, ev->detail ? ": " : "", ev->detail ? ev->detail : "", via, when);
        break;
    }
    }
}

static void running_md5(eota_web *w, char *out)
{
    eota_slots *s = w->o.slots;
    out[0] = '\0';
    if (!s->active)
        return;
    char path[4096];
    eota_slots_path(s, s->active, path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (w->md5_slot == s->active && w->md5_seq == eota_bootstate_seq(&s->bs) && w->md5_size == st.st_size &&
        w->md5_mtime.tv_sec == st.st_mtim.tv_sec && w->md5_mtime.tv_nsec == st.st_mtim.tv_nsec) {
        strcpy(out, w->md5_hex);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return;
    }
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    close(fd);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (n == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16) {
        for (unsigned i = 0; i < 16; i++)
            snprintf(w->md5_hex + 2 * i, 3, "%02x", md[i]);
        w->md5_slot = s->active;
        w->md5_seq = eota_bootstate_seq(&s->bs);
        w->md5_size = st.st_size;
        w->md5_mtime = st.st_mtim;
        strcpy(out, w->md5_hex);
    }
    EVP_MD_CTX_free(ctx);
}

static const char PAGE_STYLE[] =
    "body{font-family:system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.6em;margin-bottom:.2em}table{border-collapse:collapse;margin:1em 0}"
    "th,td{text-align:left;padding:.3em .8em .3em 0;vertical-align:top}th{color:#555;font-weight:600}"
    "code{font-size:.9em}progress{width:100%;height:1.4em}#status.ok{color:#176617}"
    "#status.err{color:#a01010}.note{color:#555;font-size:.9em}";

static const char PAGE_SCRIPT[] =
    "(function(){var f=document.getElementById('form');if(!f)return;"
    "var bar=document.getElementById('bar'),pct=document.getElementById('pct'),"
    "st=document.getElementById('status'),go=document.getElementById('go'),"
    "file=document.getElementById('file');"
    "f.addEventListener('submit',function(e){e.preventDefault();"
    "if(!file.files.length){st.className='err';st.textContent='Choose a firmware file first.';return;}"
    "var x=new XMLHttpRequest();x.open('POST','/update');"
    "x.upload.onprogress=function(ev){if(ev.lengthComputable){var p=Math.floor(ev.loaded*100/ev.total);"
    "bar.value=p;pct.textContent=p+'%';}};"
    "x.onload=function(){go.disabled=false;st.textContent=x.status+' '+x.responseText;"
    "if(x.status==200){bar.value=100;pct.textContent='100%';st.className='ok';"
    "st.textContent+=' The device reboots into the new image.';"
    "setTimeout(function(){location.reload();},4000);}else{st.className='err';}};"
    "x.onerror=function(){go.disabled=false;st.className='err';"
    "st.textContent='The connection was lost during the upload: the old image keeps running.';};"
    "var fd=new FormData();fd.append('update',file.files[0]);go.disabled=true;"
    "st.className='';st.textContent='Uploading...';x.send(fd);});})();";

/* The head, the title and the config's comment. */
static void page_head(FILE *f, const eota_config *cfg)
{
    const char *title = cfg->friendly_name && *cfg->friendly_name ? cfg->friendly_name : cfg->name;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>", f);
    html_escape(f, title);
    fprintf(f, "</title><style>%s</style></head>\n<body>\n<h1 id=\"title\">", PAGE_STYLE);
    html_escape(f, title);
    fputs("</h1>\n", f);
    if (cfg->comment) {
        fputs("<p class=\"note\">", f);
        html_escape(f, cfg->comment);
        fputs("</p>\n", f);
    }
}

/* The running image: slot, size, MD5; then installs and boot state. */
static void page_image(FILE *f, eota_web *w)
{
    eota_slots *s = w->o.slots;
    if (s->active) {
        char path[4096], md5[33];
        struct stat st;
        eota_slots_path(s, s->active, path, sizeof path);
        running_md5(w, md5);
        fprintf(f, "slot <span id=\"slot\">%c</span>, <span id=\"size\">%lld</span> bytes, MD5 <code id=\"md5\">%s</code>",
                s->active, stat(path, &st) == 0 ? (long long)st.st_size : -1LL, md5[0] ? md5 : "?");
    } else {
        fputs("none installed yet", f);
    }
    eota_slot_info si;
    memset(&si, 0, sizeof si);
    if (s->active)
        eota_bootstate_slot(&s->bs, s->active == 'a' ? 0 : 1, &si);
    fprintf(f, "</td></tr>\n<tr><th>Installs</th><td id=\"installs\">%u</td></tr>\n", si.image_seq);
    fprintf(f, "<tr><th>Boot state</th><td id=\"bootstate\">%s</td></tr>\n",
            s->active ? eota_slot_state_name(si.state) : "-");
}

/* The table of what the device is and runs. */
static void page_table(FILE *f, eota_web *w)
{
    const eota_config *cfg = w->cfg;
    fputs("<table>\n<tr><th>Device</th><td id=\"device\">", f);
    html_escape(f, cfg->name);
    fputs("</td></tr>\n<tr><th>Platform</th><td id=\"platform\">", f);
    html_escape(f, cfg->profile->platform);
    if (cfg->board) {
        fputs(" (board ", f);
        html_escape(f, cfg->board);
        fputs(")", f);
    }
    fputs("</td></tr>\n<tr><th>Running image</th><td id=\"image\">", f);
    page_image(f, w);
    fputs("<tr><th>Last update</th><td id=\"last\">", f);
    html_escape(f, w->last_result[0] ? w->last_result : "none since the device started");
    fputs("</td></tr>\n</table>\n", f);
}

/* The upload form, or why there is none. */
static void page_update(FILE *f, const eota_web *w)
{
    fputs("<h2>Firmware update</h2>\n", f);
    if (!w->upload_enabled) {
        fputs("<p id=\"status\">Uploads over the web are off on this device (its config has no "
              "<code>ota: - platform: web_server</code>).</p>\n",
              f);
        return;
    }
    fputs("<form id=\"form\" method=\"POST\" action=\"/update\" enctype=\"multipart/form-data\">"
          "<input type=\"file\" id=\"file\" name=\"update\"> <button type=\"submit\" id=\"go\">Update</button>"
          "</form>\n<p><progress id=\"bar\" max=\"100\" value=\"0\"></progress> <span id=\"pct\"></span></p>\n"
          "<p id=\"status\"></p>\n",
          f);
    fprintf(f, "<p class=\"note\">The image goes to the inactive slot%s; the device switches to it only when it "
               "arrived whole, then restarts its application.</p>\n",
            w->cfg->gzip ? " (gzip images are inflated)" : "");
    fprintf(f, "<script>%s</script>\n", PAGE_SCRIPT);
}

enum MHD_Result web_page(eota_web *w, struct MHD_Connection *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return MHD_NO;
    page_head(f, w->cfg);
    page_table(f, w);
    page_update(f, w);
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return MHD_NO;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(buf);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}
