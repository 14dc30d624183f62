/* A system call denied by a seccomp profile: with an errno, and killing the program. */
#include "check.h"

static hakoniwa_status_t *run(hakoniwa_container_t *c, const char *script, char **out) {
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &cmd));
    OK(hakoniwa_command_arg(cmd, "-c"));
    OK(hakoniwa_command_arg(cmd, script));
    hakoniwa_status_t *st = NULL;
    uint8_t *o = NULL;
    size_t n = 0;
    OK(hakoniwa_command_output(cmd, &st, &o, &n, NULL, NULL));
    *out = text_of(o, n);
    hakoniwa_buffer_free(o, n);
    hakoniwa_command_free(cmd);
    return st;
}

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    OK(hakoniwa_container_seccomp_oci(c, "deny-uname",
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}"));
    char *out = NULL;
    hakoniwa_status_t *st = run(c, "uname -s || echo denied", &out);
    CHECK(strcmp(out, "denied\n") == 0);
    CHECK(strcmp(hakoniwa_status_seccomp_profile(st), "deny-uname") == 0);
    hakoniwa_status_free(st);
    free(out);

    OK(hakoniwa_container_seccomp_oci(c, "kill-uname",
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
        "\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}"));
    st = run(c, "exec uname -s", &out);
    CHECK(hakoniwa_status_reason(st) == HAKONIWA_EXIT_SECCOMP_VIOLATION);
    CHECK(hakoniwa_status_signal(st) == 31);
    hakoniwa_status_free(st);
    free(out);

    /* A malformed profile is a seccomp error found by spawn, naming the field. */
    OK(hakoniwa_container_seccomp_oci(c, "bad",
        "{\"defaultAction\":\"SCMP_ACT_BOGUS\"}"));
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/true", &cmd));
    FAILS(hakoniwa_command_status(cmd, &st), HAKONIWA_ERROR_SECCOMP);
    CHECK(strstr(hakoniwa_last_error_message(), "defaultAction") != NULL);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    printf("seccomp: ok\n");
    return 0;
}
