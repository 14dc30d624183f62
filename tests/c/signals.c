/* Signals from C, where SIGPIPE keeps its default action: SIGSTOP stops the program (not
 * the sandbox's init), also from another thread while one waits, and signals to a sandbox
 * that has ended are no error and raise nothing. */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static void *waiter(void *arg) {
    hakoniwa_status_t *st = NULL;
    if (hakoniwa_child_wait((hakoniwa_child_t *)arg, &st) != HAKONIWA_OK) return NULL;
    return st;
}

/* The state letter of `pid` (R, S, T, ...) from /proc, or '?' if it is gone. */
static char state_of(int pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end = strrchr(buf, ')');
    return end && end[1] == ' ' ? end[2] : '?';
}

/* The init's child: the program. */
static int program_of(int init) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", init, init);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int pid = -1;
    if (fscanf(f, "%d", &pid) != 1) pid = -1;
    fclose(f);
    return pid;
}

/* Wait up to 30 s for the program's state to be (`want_stopped`) 'T' or not. */
static void await_state(int program, int want_stopped) {
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 1500; i++) {
        if ((state_of(program) == 'T') == want_stopped) return;
        nanosleep(&pause, NULL);
    }
    CHECK(!"the program's state never changed");
}

int main(void) {
    /* The C default, whatever the test runner set: a write to a pipe without a reader
     * would kill this process. */
    signal(SIGPIPE, SIG_DFL);
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));

    /* SIGSTOP and SIGCONT from this thread while another one waits. */
    hakoniwa_command_t *sleeper = NULL;
    OK(hakoniwa_command_new(c, "/bin/sleep", &sleeper));
    OK(hakoniwa_command_arg(sleeper, "30"));
    OK(hakoniwa_command_wait_timeout(sleeper, 20000)); /* never hangs */
    hakoniwa_child_t *child = NULL;
    OK(hakoniwa_command_spawn(sleeper, &child));
    int init = hakoniwa_child_pid(child);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, child) == 0);
    int program = -1;
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 500 && program < 0; i++) {
        program = program_of(init);
        if (program < 0) nanosleep(&pause, NULL);
    }
    CHECK(program > 0);
    OK(hakoniwa_child_signal(child, SIGSTOP));
    await_state(program, 1);
    CHECK(state_of(init) != 'T'); /* the init still runs: it relayed the stop */
    OK(hakoniwa_child_signal(child, SIGCONT));
    await_state(program, 0);
    /* Sent back to back, they arrive in order: the program runs on. */
    for (int i = 0; i < 20; i++) {
        OK(hakoniwa_child_signal(child, SIGSTOP));
        OK(hakoniwa_child_signal(child, SIGCONT));
    }
    OK(hakoniwa_child_signal(child, SIGTERM));
    void *waited = NULL;
    CHECK(pthread_join(t, &waited) == 0);
    CHECK(waited != NULL);
    CHECK(hakoniwa_status_signal((hakoniwa_status_t *)waited) == SIGTERM);
    hakoniwa_status_free((hakoniwa_status_t *)waited);
    /* After the wait, too. */
    OK(hakoniwa_child_signal(child, SIGSTOP));
    hakoniwa_child_free(child);

    /* A sandbox that ended but is not yet reaped: its init is gone. */
    hakoniwa_command_t *quick = NULL;
    OK(hakoniwa_command_new(c, "/bin/true", &quick));
    hakoniwa_child_t *done = NULL;
    OK(hakoniwa_command_spawn(quick, &done));
    struct pollfd p = {.fd = hakoniwa_child_pidfd(done), .events = POLLIN};
    CHECK(poll(&p, 1, 30000) == 1);
    /* Far more than a pipe holds. */
    for (int i = 0; i < 70000; i++) OK(hakoniwa_child_signal(done, SIGSTOP));
    OK(hakoniwa_child_signal(done, SIGCONT));
    OK(hakoniwa_child_signal(done, 64));
    hakoniwa_status_t *st = NULL;
    OK(hakoniwa_child_wait(done, &st));
    CHECK(hakoniwa_status_success(st));
    hakoniwa_status_free(st);
    hakoniwa_child_free(done);

    hakoniwa_command_free(quick);
    hakoniwa_command_free(sleeper);
    hakoniwa_container_free(c);
    printf("signals: SIGSTOP stops the program from any thread; nothing raised after the end\n");
    return 0;
}
