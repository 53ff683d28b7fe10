/*
 * log.h: log lines in the manner of an ESPHome device,
 * "[12:34:56][I][ota]: message", to stderr, filtered by level.
 */
#ifndef EOTA_APP_LOG_H
#define EOTA_APP_LOG_H

/* Levels as in config.h's eota_config_level: 1 ERROR ... 6 VERY_VERBOSE. */
void eota_log_set_level(int level);
int eota_log_get_level(void);
void eota_log(int level, const char *tag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define LOGE(tag, ...) eota_log(1, tag, __VA_ARGS__)
#define LOGW(tag, ...) eota_log(2, tag, __VA_ARGS__)
#define LOGI(tag, ...) eota_log(3, tag, __VA_ARGS__)
#define LOGD(tag, ...) eota_log(4, tag, __VA_ARGS__)
#define LOGV(tag, ...) eota_log(5, tag, __VA_ARGS__)

#endif
