/* Limits: resource limits (setrlimit) and a wall-clock limit, and how the status reports
 * which one ended the program.
 * Build: cc limits.c $(pkg-config --cflags --libs hakoniwa) */
#include <stdio.h>
#include <stdlib.h>
#include <hakoniwa.h>

static void check(int rc) {
    if (rc != HAKONIWA_OK) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        exit(1);
    }
}

static hakoniwa_command_t *shell(const hakoniwa_container_t *c, const char *script) {
    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/bin/sh", &cmd));
    check(hakoniwa_command_arg(cmd, "-c"));
    check(hakoniwa_command_arg(cmd, script));
    return cmd;
}

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    check(hakoniwa_container_rootfs(c, "/"));
    check(hakoniwa_container_setrlimit(c, HAKONIWA_RLIMIT_NOFILE, 64, 64));
    /* Seconds of CPU time: SIGXCPU at the soft limit, SIGKILL at the hard one. */
    check(hakoniwa_container_setrlimit(c, HAKONIWA_RLIMIT_CPU, 1, 2));

    hakoniwa_command_t *cmd = shell(c, "ulimit -n");
    hakoniwa_status_t *status = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    check(hakoniwa_command_output(cmd, &status, &out, &out_len, NULL, NULL));
    printf("open files: %.*s", (int)out_len, (const char *)out);
    hakoniwa_buffer_free(out, out_len);
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);

    cmd = shell(c, "while :; do :; done");
    check(hakoniwa_command_status(cmd, &status));
    if (hakoniwa_status_reason(status) != HAKONIWA_EXIT_CPU_TIME_EXCEEDED) {
        fprintf(stderr, "the busy loop ended for reason %u\n", hakoniwa_status_reason(status));
        return 1;
    }
    printf("busy loop: cpu_time_exceeded\n");
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);

    check(hakoniwa_command_new(c, "/bin/sleep", &cmd));
    check(hakoniwa_command_arg(cmd, "60"));
    check(hakoniwa_command_wait_timeout(cmd, 300)); /* milliseconds; the whole sandbox is killed */
    check(hakoniwa_command_status(cmd, &status));
    if (hakoniwa_status_reason(status) != HAKONIWA_EXIT_WALL_TIME_EXCEEDED) {
        fprintf(stderr, "sleep ended for reason %u\n", hakoniwa_status_reason(status));
        return 1;
    }
    printf("sleep 60: wall_time_exceeded, code %d\n", hakoniwa_status_code(status));
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return 0;
}
