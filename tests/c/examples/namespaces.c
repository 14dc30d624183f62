/* Namespaces: the program is PID 2 of its own PID namespace (under the sandbox's init,
 * PID 1) and uid 0 of its own user namespace, with its own host name (UTS) and IPC namespace.
 * Build: cc namespaces.c $(pkg-config --cflags --libs hakoniwa) */
#include <stdio.h>
#include <stdlib.h>
#include <hakoniwa.h>

/* Every hakoniwa_* call returns HAKONIWA_OK (0) or a negative error code. */
static void check(int rc) {
    if (rc != HAKONIWA_OK) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        exit(1);
    }
}

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new(); /* user, mount, PID namespaces; /proc */
    check(hakoniwa_container_rootfs(c, "/"));  /* the host's /usr, /bin, /lib*, /etc, /sbin, read-only */
    check(hakoniwa_container_unshare(c, HAKONIWA_NS_IPC));
    check(hakoniwa_container_hostname(c, "sandbox")); /* implies a new UTS namespace */
    check(hakoniwa_container_uidmap(c, 0)); /* the caller's uid and gid appear as 0 inside */
    check(hakoniwa_container_gidmap(c, 0));

    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/bin/sh", &cmd));
    check(hakoniwa_command_arg(cmd, "-c"));
    check(hakoniwa_command_arg(cmd, "echo pid=$$ uid=$(id -u) host=$(uname -n); ps -e -o pid=,comm="));
    hakoniwa_status_t *status = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    check(hakoniwa_command_output(cmd, &status, &out, &out_len, NULL, NULL));
    fwrite(out, 1, out_len, stdout);
    printf("exit code: %d\n", hakoniwa_status_code(status));

    hakoniwa_buffer_free(out, out_len);
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return 0;
}
