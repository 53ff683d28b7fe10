/*
 * cli.h: the subcommands of the eota command. Each takes argv with argv[0]
 * being the subcommand's name and returns the process exit code.
 */
#ifndef EOTA_APP_CLI_H
#define EOTA_APP_CLI_H

#define EOTA_CLI_VERSION "0.1.0"

int eota_cmd_device(int argc, char **argv);
int eota_cmd_upload(int argc, char **argv);
/* keygen, sign, verify: src/app/sign/sign.h */
int eota_cmd_discover(int argc, char **argv);
int eota_cmd_publish(int argc, char **argv);

#endif
