/* cli.h - command line and config file, in the order that makes flags win. */
#ifndef PODTRAIL_CLI_H
#define PODTRAIL_CLI_H

#include <stddef.h>
#include <stdio.h>

struct conf;

#define CLI_PRINT_KEY 2

/*
 * Load the config file (-c FILE or the default), then apply the flags
 * over it. -h, -V and --man-options print and exit(0). Sets *check_only
 * to 1 for -n, to CLI_PRINT_KEY for --print-key. 0, or -1 with the
 * message (ready to print) in err.
 */
int cli_parse(int argc, char **argv, struct conf *c, int *check_only,
    char *err, size_t errlen);
/* Checks that need no resources (log level, source name). 0, or -1 with err. */
int cli_check(const struct conf *c, char *err, size_t errlen);
/* The --help text, with the option table. */
void cli_usage(FILE *fp);

#endif
