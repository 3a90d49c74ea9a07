/*
 * loop.h - the one poll loop that owns every fd and timer.
 *
 * Modelled on Redis ae.c: file events, time events and a before-sleep
 * hook. Callbacks run on the loop's thread; none may block.
 */
#ifndef PODTRAIL_LOOP_H
#define PODTRAIL_LOOP_H

#include <poll.h>

struct loop;
struct loop_timer;

typedef void (*loop_fd_cb)(int fd, short revents, void *arg);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_hook_cb)(void *arg);

/* New loop; NULL on ENOMEM. */
struct loop *loop_new(void);
/* Free the loop and its timers; fds are not closed. */
void loop_free(struct loop *l);

/* Watch fd for events (POLLIN/POLLOUT). 0, or -1 (ENOMEM, EEXIST). */
int loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg);
/* Change the events of a watched fd. 0, or -1 (ENOENT). */
int loop_fd_mod(struct loop *l, int fd, short events);
/* Stop watching fd; safe to call from inside a callback. */
void loop_fd_del(struct loop *l, int fd);

/* New disarmed timer owned by the loop; NULL on ENOMEM. */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg);
/* (Re)arm to fire once, ms milliseconds from now (0: next iteration). */
void loop_timer_arm(struct loop_timer *t, long ms);
void loop_timer_disarm(struct loop_timer *t);
/* Disarm and release. */
void loop_timer_free(struct loop_timer *t);

/*
 * Add a hook called before every wait, e.g. to flush output or act on
 * signal flags. Hooks run in the order added. 0, or -1 (ENOSPC: at
 * most LOOP_MAX_HOOKS).
 */
#define LOOP_MAX_HOOKS 4
int loop_add_before_sleep(struct loop *l, loop_hook_cb cb, void *arg);
/*
 * Run until loop_stop(). Signals in *mask are blocked except while
 * waiting (ppoll), so a handler that sets a flag always wakes the loop
 * before it sleeps again. 0, or -1 when polling failed.
 */
int loop_run(struct loop *l, const void *sigmask_while_waiting);
/*
 * That mask (NULL before loop_run), for a wait outside the loop that
 * must still let signals through.
 */
const void *loop_wait_sigmask(const struct loop *l);
void loop_stop(struct loop *l);
/*
 * Begin the next sleep with a nap of up to us microseconds (signals
 * still let through; cut short by a due timer): a source that found
 * little to read gathers more per wake-up. For this round only.
 */
void loop_nap(struct loop *l, long us);

/* Milliseconds of CLOCK_MONOTONIC. */
long long loop_now_ms(void);
/* Microseconds of CLOCK_MONOTONIC. */
long long loop_now_us(void);

#endif
