/* A wall-clock limit kills the whole sandbox and says so in the status. */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* Waits for the child on another thread, while the main thread kills it. */
static void *waiter(void *arg) {
    hakoniwa_status_t *st = NULL;
    if (hakoniwa_child_wait((hakoniwa_child_t *)arg, &st) != HAKONIWA_OK) return NULL;
    return st;
}

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/sleep", &cmd));
    OK(hakoniwa_command_arg(cmd, "30"));
    /* Long enough that try_wait below still finds it running on a loaded machine. */
    OK(hakoniwa_command_wait_timeout(cmd, 1000));
    hakoniwa_child_t *child = NULL;
    OK(hakoniwa_command_spawn(cmd, &child));
    CHECK(hakoniwa_child_pid(child) > 0 && hakoniwa_child_pidfd(child) >= 0);

    hakoniwa_status_t *st = NULL;
    OK(hakoniwa_child_try_wait(child, &st));
    CHECK(st == NULL); /* still sleeping */
    OK(hakoniwa_child_wait(child, &st));
    CHECK(hakoniwa_status_reason(st) == HAKONIWA_EXIT_WALL_TIME_EXCEEDED);
    CHECK(hakoniwa_status_signal(st) == 9 && hakoniwa_status_code(st) == 137);
    CHECK(hakoniwa_status_exit_code(st) == -1 && !hakoniwa_status_success(st));

    /* wait_timeout gives up without killing; kill ends it. */
    hakoniwa_command_t *cmd2 = NULL;
    OK(hakoniwa_command_new(c, "/bin/sleep", &cmd2));
    OK(hakoniwa_command_arg(cmd2, "30"));
    hakoniwa_child_t *child2 = NULL;
    OK(hakoniwa_command_spawn(cmd2, &child2));
    hakoniwa_status_t *st2 = NULL;
    OK(hakoniwa_child_wait_timeout(child2, 100, &st2));
    CHECK(st2 == NULL);
    OK(hakoniwa_child_kill(child2));
    OK(hakoniwa_child_wait_timeout(child2, 10000, &st2));
    CHECK(st2 != NULL && hakoniwa_status_reason(st2) == HAKONIWA_EXIT_SIGNALED);
    CHECK(hakoniwa_status_signal(st2) == 9);

    /* Killed from this thread while another thread waits for it. */
    hakoniwa_child_t *child4 = NULL;
    OK(hakoniwa_command_spawn(cmd2, &child4));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, child4) == 0);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(hakoniwa_child_pid(child4) > 0 && hakoniwa_child_pidfd(child4) >= 0);
    OK(hakoniwa_child_kill(child4));
    void *waited = NULL;
    CHECK(pthread_join(t, &waited) == 0);
    CHECK(waited != NULL);
    CHECK(hakoniwa_status_signal((hakoniwa_status_t *)waited) == 9);
    hakoniwa_status_free((hakoniwa_status_t *)waited);
    hakoniwa_child_free(child4);

    /* A signal reaches the program (the sandbox's init forwards it): SIGTERM ends sleep. */
    hakoniwa_command_t *ready = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &ready));
    OK(hakoniwa_command_arg(ready, "-c"));
    OK(hakoniwa_command_arg(ready, "echo ready; exec sleep 30"));
    OK(hakoniwa_command_stdio(ready, HAKONIWA_STDOUT, HAKONIWA_STDIO_PIPE, -1));
    OK(hakoniwa_command_wait_timeout(ready, 20000)); /* a lost signal fails, never hangs */
    hakoniwa_child_t *child5 = NULL;
    OK(hakoniwa_command_spawn(ready, &child5));
    char line[8] = {0};
    int fd = hakoniwa_child_stdio_fd(child5, HAKONIWA_STDOUT);
    CHECK(fd >= 0 && read(fd, line, 6) == 6 && strcmp(line, "ready\n") == 0); /* it runs */
    OK(hakoniwa_child_signal(child5, 15));
    hakoniwa_status_t *st5 = NULL;
    OK(hakoniwa_child_wait(child5, &st5));
    CHECK(hakoniwa_status_reason(st5) == HAKONIWA_EXIT_SIGNALED);
    CHECK(hakoniwa_status_signal(st5) == 15 && hakoniwa_status_code(st5) == 143);
    hakoniwa_status_free(st5);
    hakoniwa_child_free(child5);
    hakoniwa_command_free(ready);

    /* A third child is freed while running: killed and reaped by free. */
    hakoniwa_child_t *child3 = NULL;
    OK(hakoniwa_command_spawn(cmd2, &child3));
    hakoniwa_child_free(child3);

    hakoniwa_status_free(st);
    hakoniwa_status_free(st2);
    hakoniwa_child_free(child);
    hakoniwa_child_free(child2);
    hakoniwa_command_free(cmd);
    hakoniwa_command_free(cmd2);
    hakoniwa_container_free(c);
    printf("walltime: ok\n");
    return 0;
}
