/* The seed's sandboxed shell, with its output captured: a shell in a fresh mount, PID and
 * user namespace whose root is a tmpfs with the host's system directories read-only. */
#include "check.h"

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    OK(hakoniwa_container_tmpfsmount(c, "/tmp", 0, 0));
    OK(hakoniwa_container_devfsmount(c, "/dev"));

    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &cmd));
    hakoniwa_container_free(c); /* the command holds its own copy */
    OK(hakoniwa_command_arg(cmd, "-c"));
    OK(hakoniwa_command_arg(cmd, "echo hello from $$; ls /; touch /usr/x 2>/dev/null || echo ro; echo $GREETING >&2"));
    OK(hakoniwa_command_env(cmd, "GREETING", "hi"));

    hakoniwa_status_t *st = NULL;
    uint8_t *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    OK(hakoniwa_command_output(cmd, &st, &out, &out_len, &err, &err_len));
    char *o = text_of(out, out_len), *e = text_of(err, err_len);
    printf("%s", o);
    CHECK(strstr(o, "hello from 2\n") != NULL); /* PID 2: the sandbox's init is PID 1 */
    CHECK(strstr(o, "usr\n") != NULL && strstr(o, "home\n") == NULL && strstr(o, "dev\n") != NULL);
    CHECK(strstr(o, "ro\n") != NULL);
    CHECK(strcmp(e, "hi\n") == 0);
    CHECK(hakoniwa_status_success(st) == 1);
    CHECK(hakoniwa_status_reason(st) == HAKONIWA_EXIT_EXITED);
    CHECK(hakoniwa_status_exit_code(st) == 0 && hakoniwa_status_signal(st) == 0);

    hakoniwa_usage_t u;
    memset(&u, 0, sizeof u);
    u.size = sizeof u;
    OK(hakoniwa_status_usage(st, &u));
    CHECK(u.size == sizeof u && u.real_time_us > 0 && u.max_rss_kb > 0);
    hakoniwa_enforcement_t en;
    memset(&en, 0, sizeof en);
    en.size = sizeof en;
    OK(hakoniwa_status_enforcement(st, &en));
    CHECK(en.namespaces & (1u << HAKONIWA_NS_USER));
    CHECK(en.namespaces & (1u << HAKONIWA_NS_PID));
    CHECK(en.seccomp_instructions > 0 && en.setup_total_ns > 0);
    CHECK(strcmp(hakoniwa_status_seccomp_profile(st), "podman-default") == 0);

    /* The command is reusable: a second run with the same settings. */
    hakoniwa_status_t *again = NULL;
    uint8_t *out2 = NULL;
    size_t out2_len = 0;
    OK(hakoniwa_command_output(cmd, &again, &out2, &out2_len, NULL, NULL));
    CHECK(out2_len == out_len);

    hakoniwa_buffer_free(out, out_len);
    hakoniwa_buffer_free(err, err_len);
    hakoniwa_buffer_free(out2, out2_len);
    free(o);
    free(e);
    hakoniwa_status_free(st);
    hakoniwa_status_free(again);
    hakoniwa_command_free(cmd);
    printf("shell: ok\n");
    return 0;
}
