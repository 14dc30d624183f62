/* Seccomp: the default profile (Podman's decisions) applies unless changed; here an OCI
 * JSON profile allows everything except mkdir (fails with EPERM) and uname (kills).
 * Build: cc seccomp.c $(pkg-config --cflags --libs hakoniwa) */
#include <stdio.h>
#include <stdlib.h>
#include <hakoniwa.h>

static const char PROFILE[] =
    "{\n"
    "  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
    "  \"syscalls\": [\n"
    "    { \"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1 },\n"
    "    { \"names\": [\"uname\"], \"action\": \"SCMP_ACT_KILL_PROCESS\" }\n"
    "  ]\n"
    "}";

static void check(int rc) {
    if (rc != HAKONIWA_OK) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        exit(1);
    }
}

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    check(hakoniwa_container_rootfs(c, "/"));
    check(hakoniwa_container_tmpfsmount(c, "/tmp", 0, 0));
    /* The name only appears in messages and the status. */
    check(hakoniwa_container_seccomp_oci(c, "example.json", PROFILE));

    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/bin/mkdir", &cmd));
    check(hakoniwa_command_arg(cmd, "/tmp/dir"));
    hakoniwa_status_t *status = NULL;
    uint8_t *err = NULL;
    size_t err_len = 0;
    check(hakoniwa_command_output(cmd, &status, NULL, NULL, &err, &err_len));
    printf("mkdir: %.*s", (int)err_len, (const char *)err);
    hakoniwa_buffer_free(err, err_len);
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);

    check(hakoniwa_command_new(c, "/bin/uname", &cmd));
    check(hakoniwa_command_status(cmd, &status));
    if (hakoniwa_status_reason(status) != HAKONIWA_EXIT_SECCOMP_VIOLATION) {
        fprintf(stderr, "uname ended for reason %u\n", hakoniwa_status_reason(status));
        return 1;
    }
    printf("uname: seccomp_violation, signal %d\n", hakoniwa_status_signal(status));
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return 0;
}
