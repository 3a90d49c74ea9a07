/* cli.h - command line and config file, in the order that makes flags win. */
#ifndef PODTRAIL_CLI_H
#define PODTRAIL_CLI_H

#include <stddef.h>
#include <stdio.h>

struct conf;

/* what *check_only says besides -n (1) */
#define CLI_REQUEUE_DEAD 2
#define CLI_PRINT_KEY 3

/*
 * Load the config file (-c FILE or the default), then apply the flags
 * over it. -h, -V and --man-options print and exit(0). Sets *check_only
 * to 1 for -n, CLI_REQUEUE_DEAD for --requeue-dead, CLI_PRINT_KEY for
 * --print-key. 0, or -1 with the
 * message (ready to print) in err.
 */
int cli_parse(int argc, char **argv, struct conf *c, int *check_only,
    char *err, size_t errlen);
/*
 * What the merged settings name, checked without starting (conf_check,
 * and the output URL): all of them, or with running (a reload) those
 * that differ from it. 0, or -1 with "FILE:LINE: key: reason" in err.
 */
int cli_check(const struct conf *c, const struct conf *running, char *err,
    size_t errlen);
/* The --help text, with the option table. */
void cli_usage(FILE *fp);

#endif
