/*
 * help.c: the text of `eota upload --help`, a function per section. The
 * defaults it names are the ones opts.c starts from.
 */
#include "upload/help.h"

#include "eota/client.h"
#include "upload/opts.h"

static void help_intro(FILE *f)
{
    fputs(
"usage: eota upload FIRMWARE --device HOST[:PORT] [--device ...] [OPTIONS]\n"
"       eota upload CONFIG.yaml [--file FIRMWARE] [--device HOST[:PORT]] [OPTIONS]\n"
"\n"
"Upload a firmware image over ESPHome's native OTA protocol to one device or\n"
"a fleet. Speaks to every device generation (protocol versions 1 and 2, the\n"
"one-byte and the extended feature replies, SHA-256 and legacy MD5 password\n"
"challenges) and keeps several 8 KiB blocks in flight instead of waiting for\n"
"each acknowledgement. A fleet is uploaded concurrently from one process.\n"
"With --ota-platform web_server it uses the device's web server instead:\n"
"HTTP POST /update, as the web page's upload form does.\n"
"\n",
        f);
}

static void help_devices(FILE *f)
{
    fprintf(f,
"devices:\n"
"  -d, --device SPEC       a device; repeatable, each one is a separate upload.\n"
"                          SPEC is HOST, HOST:PORT, [IPV6]:PORT or a bare IPv6\n"
"                          address; several addresses of the SAME device are\n"
"                          joined with commas (\"kitchen.local,192.168.1.20\"):\n"
"                          they are tried in order, like every address a name\n"
"                          resolves to (IPv4 and IPv6)\n"
"  -D, --devices-from FILE one SPEC per line; '#' starts a comment; '-' is stdin\n"
"  -p, --port PORT         port for devices given without one (default: the\n"
"                          config's ota: port, else %d, the ESP32 default;\n"
"                          with web_server: the web port, see --web-port)\n"
"\n",
            UP_DEFAULT_PORT);
}

static void help_image(FILE *f)
{
    fputs(
"image:\n"
"  FIRMWARE                the image file as built (e.g. firmware.bin)\n"
"  CONFIG.yaml             an ESPHome-style config (a name ending in .yaml or\n"
"                          .yml): its ota: entry with platform: esphome gives\n"
"                          the port and the password (with !secret), as\n"
"                          `esphome upload` does; without --device the device\n"
"                          is NAME.local. A config whose only ota: entry is\n"
"                          platform: web_server selects --ota-platform\n"
"                          web_server; its web_server: block gives the port\n"
"                          and the credentials (auth: username, password,\n"
"                          type)\n"
"  -f, --file FIRMWARE     the image to send with a CONFIG (default: ESPHome's\n"
"                          build output .esphome/build/NAME/.pioenvs/NAME/\n"
"                          firmware.bin beside the config, when it exists)\n"
"  -z, --compress MODE     auto (default): gzip (level 9) only when the device\n"
"                          accepts it and a trial on a sample of the image\n"
"                          saves at least 10%; always: whenever the device\n"
"                          accepts it; never: send the image as is. A web\n"
"                          upload cannot ask the device: it sends the image\n"
"                          as is, or its gzip with always (for devices that\n"
"                          inflate gzip by its magic bytes)\n"
"      --ota-type TYPE     app (default), partition-table or bootloader\n"
"                          (extended protocol devices only)\n"
"\n",
        f);
}

static void help_web(FILE *f)
{
    fprintf(f,
"web server upload (PROTOCOL.md section 9):\n"
"      --ota-platform P    esphome (native OTA, the default) or web_server:\n"
"                          POST /update, multipart/form-data, the image in the\n"
"                          field 'update', streamed from the file. Success is\n"
"                          HTTP 200 with the body 'Update Successful!'; any\n"
"                          other answer (a stock device's 200 'Update\n"
"                          Failed!' too) is a failure, named with its status\n"
"                          and the device's reason. An HTTP answer is never\n"
"                          retried; network errors are, as for native OTA.\n"
"      --web-port PORT     the web server's port for devices given without one\n"
"                          (default: the config's web_server: port, else %d\n"
"                          for a host: config, else %d)\n"
"      --web-username U    the web server's credentials (default: the config's\n"
"      --web-password PW   web_server: auth:; the password also from the\n"
"                          variable EOTA_WEB_PASSWORD). None: no credentials\n"
"      --web-auth TYPE     basic, digest or any: whatever the server's 401\n"
"                          challenge asks for (default: the config's auth:\n"
"                          type, else any)\n"
"  --password, --previous-password, --window and --ota-type do not apply to\n"
"  a web upload (the OTA password is not the web server's).\n"
"\n",
            UP_DEFAULT_WEB_PORT_HOST, UP_DEFAULT_WEB_PORT);
}

static void help_authentication(FILE *f)
{
    fputs(
"authentication:\n"
"  -P, --password PW       the OTA password\n"
"      --password-file F   read the password from the first line of F\n"
"      --previous-password PW\n"
"                          repeatable: when a device answers 82 (wrong\n"
"                          password), reconnect and try these in order; the\n"
"                          output says which one worked. Makes a password\n"
"                          change a single step.\n"
"  The password is the first of: --password, --password-file, the variable\n"
"  EOTA_PASSWORD, the config's ota: password. None means no authentication.\n"
"\n",
        f);
}

static void help_encryption(FILE *f)
{
    fputs(
"encryption (Noise, PROTOCOL.md section 10; ESPHome 2026.9 and later):\n"
"      --key-file F        the device's 32-byte encryption key, base64 (the\n"
"                          format of ESPHome's api: encryption: key), from F\n"
"      --key BASE64        the same on the command line (visible to other\n"
"                          users in ps: prefer --key-file or EOTA_KEY)\n"
"      --previous-key BASE64\n"
"                          repeatable: when a device rejects the key\n"
"                          (Handshake MAC failure), reconnect and try these in\n"
"                          order, once each; the output says which worked.\n"
"                          Makes a key change a single step for a fleet\n"
"      --allow-plaintext   send in plaintext to devices that do not offer\n"
"                          encryption: for the one install that brings the key\n"
"  The key is the first of: --key, --key-file, the variable EOTA_KEY, the\n"
"  config's ota: encryption: key, its api: encryption: key. With a key the\n"
"  whole exchange after the feature reply runs inside a Noise session (no\n"
"  password step). A device that does not offer it gets nothing, unless the\n"
"  key is only the config's api: key (then the image goes in plaintext with\n"
"  a warning, as the stock uploader does until ESPHome 2027.3) or\n"
"  --allow-plaintext is given. A device that requires encryption answers 94\n"
"  to an upload without a key.\n"
"\n",
        f);
}

static void help_transfer(FILE *f)
{
    fprintf(f,
"transfer:\n"
"  -w, --window N          8 KiB blocks in flight on version-2 devices\n"
"                          (default %d; 1 is stop-and-wait, as the stock\n"
"                          uploader; at most %u)\n"
"  -j, --jobs N            devices uploaded at the same time (default %d)\n"
"      --retries N         extra attempts after every address was tried once\n"
"                          (default 2), for network errors only (refused,\n"
"                          unreachable, timeout, closed without answer); never\n"
"                          once the whole image was sent (the device may have\n"
"                          installed it)\n"
"      --retry-delay S     seconds between those extra attempts (default 5)\n"
"      --handshake-timeout S\n"
"                          connect and handshake, in all (default 20)\n"
"      --data-timeout S    longest silence in the data phase (default 160)\n"
"  Durations are seconds, or take a unit: 500ms, 2s, 1min. A web upload\n"
"  uses --handshake-timeout for the TCP connect and --data-timeout for the\n"
"  longest silence from then on.\n"
"  The MD5 of an image is remembered (by its inode, size and times), so\n"
"  that sending it again starts at once, and each name's last good address\n"
"  is kept for when it does not resolve: both in $EOTA_CACHE_DIR, else\n"
"  $XDG_CACHE_HOME/eota or ~/.cache/eota (created 0700; a folder of another\n"
"  user's, or one others can write to, is refused); EOTA_CACHE_DIR=off\n"
"  turns both off.\n"
"\n",
            UP_DEFAULT_WINDOW, EOTA_CLIENT_MAX_WINDOW, UP_DEFAULT_JOBS);
}

static void help_rollout(FILE *f)
{
    fputs(
"staged rollout (any of these makes the upload a rollout):\n"
"      --canary N          the first wave is N devices\n"
"      --wave N|P%         devices per later wave (default: all the rest);\n"
"                          a wave begins when every device of the one before\n"
"                          came back or failed\n"
"      --max-failures N|P% halt once N devices (P% of the fleet, rounded up)\n"
"                          failed (default 1): no new device is begun, those\n"
"                          in flight finish, the rest are not attempted\n"
"      --verify-timeout D  after a device's 45, how long it has to come back\n"
"                          (default 2min): an eota device (it publishes\n"
"                          _eota._tcp) until its TXT shows the new image, a\n"
"                          stock device until it answers an OTA handshake\n"
"                          again (the protocol's probe, closed before the\n"
"                          type); an eota device back on its old image is\n"
"                          \"rolled back\", with the reason it gives\n"
"      --wait-confirmed    an eota device must also show the image confirmed\n"
"                          (after its boot_is_good_after), not on trial\n"
"      --journal FILE      record each device's outcome with the image's\n"
"                          SHA-256 (written whole through a rename); run the\n"
"                          same command again and the devices recorded as\n"
"                          installed are skipped, those recorded as sent are\n"
"                          only checked\n"
"      --force             send to devices the journal has as done, and to\n"
"                          eota devices whose _eota._tcp shows this image\n"
"                          (else \"skipped (already running this image)\")\n"
"      --wait-online D     a device that cannot be reached, or whose name\n"
"                          does not resolve yet, is tried again\n"
"                          after 2 s, then less often (every 8 s at most),\n"
"                          and at once when it announces itself on mDNS,\n"
"                          until D has passed, not failed\n"
"  The first Ctrl-C (SIGINT or SIGTERM) stops beginning devices and lets\n"
"  those in flight finish; a second one cuts them (they keep their old\n"
"  image). With --json every change of a device's state is a line with\n"
"  \"event\": \"state\" (device, state, wave, reason, seconds).\n"
"\n",
        f);
}

static void help_output(FILE *f)
{
    fputs(
"output:\n"
"  -q, --quiet             only failures (one line each) on stderr\n"
"      --json              one JSON object per device on stdout, as each ends:\n"
"                          device, address, port, result, error, error_code,\n"
"                          error_name, phase, message, bytes_sent, wire_size,\n"
"                          image_size, compressed, compress_seconds, seconds,\n"
"                          protocol_version, auth, server_flags, attempts,\n"
"                          password, encrypted, key, received_whole_image,\n"
"                          ota_platform;\n"
"                          web uploads add http_status and reply (the body)\n"
"  -v, --verbose           every connection attempt and handshake (twice, with\n"
"                          web_server: libcurl's trace of the HTTP exchange)\n"
"  -h, --help              this text\n"
"  Progress goes to stderr: a bar on a terminal, a line every few seconds\n"
"  otherwise. A fleet ends with a summary table on stdout.\n"
"\n",
        f);
}

static void help_ending(FILE *f)
{
    fputs(
"exit status:\n"
"  0  every device installed the image\n"
"  1  at least one device failed (each failure is named, with the device's\n"
"     response code in words, or refused / timed out in which step / closed\n"
"     without answering; web uploads: the HTTP status in words and the\n"
"     device's reason)\n"
"  2  usage or configuration error: nothing was uploaded\n"
"  3  a rollout halted: --max-failures was reached\n"
"  4  a rollout was interrupted (SIGINT or SIGTERM)\n"
"\n"
"examples:\n"
"  eota upload firmware.bin --device 192.168.1.20\n"
"  eota upload firmware.bin -d kitchen.local:8266 -d garage.local:8266 -P s3cret\n"
"  eota upload living-room.yaml --file .esphome/build/lr/firmware.bin\n"
"  eota upload living-room.yaml --previous-password old-secret\n"
"  EOTA_KEY=$(cat new.key) eota upload fw.bin -D fleet.txt --previous-key \"$(cat old.key)\"\n"
"  EOTA_PASSWORD=s3cret eota upload fw.bin --devices-from fleet.txt --jobs 32 --json\n"
"  eota upload fw.bin -d '[fd00::20]:3232,192.168.1.20' --window 1 --compress never\n"
"  eota upload fw.bin -d 192.168.1.20 --ota-platform web_server\n"
"  eota upload fw.bin -d 192.168.1.20:8080 --ota-platform web_server \\\n"
"      --web-username admin --web-password 'w3b pass' --web-auth digest\n"
"  eota upload web-only.yaml --file fw.bin    (ota: has only platform: web_server)\n"
"  EOTA_WEB_PASSWORD=pw eota upload fw.bin --ota-platform web_server \\\n"
"      --web-username admin --devices-from fleet.txt --jobs 8 --json\n",
        f);
}

void up_help(FILE *f)
{
    help_intro(f);
    help_devices(f);
    help_image(f);
    help_web(f);
    help_authentication(f);
    help_encryption(f);
    help_transfer(f);
    help_rollout(f);
    help_output(f);
    help_ending(f);
}
