/* Landlock: after the mounts, restrict the filesystem to reading and executing /usr and
 * reading and writing /tmp; everything else is denied, whatever the mounts allow.
 * Needs a kernel with landlock.
 * Build: cc landlock.c $(pkg-config --cflags --libs hakoniwa) */
#include <stdio.h>
#include <stdlib.h>
#include <hakoniwa.h>

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
    /* Fail if the kernel cannot restrict the filesystem (HAKONIWA_COMPAT_BEST_EFFORT would not). */
    check(hakoniwa_container_landlock_restrict(c, HAKONIWA_LANDLOCK_FS, HAKONIWA_COMPAT_ENFORCE));
    /* /bin and /lib are symbolic links into /usr. */
    check(hakoniwa_container_landlock_fs_rule(c, "/usr", HAKONIWA_ACCESS_R | HAKONIWA_ACCESS_X));
    check(hakoniwa_container_landlock_fs_rule(c, "/tmp", HAKONIWA_ACCESS_R | HAKONIWA_ACCESS_W));

    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/bin/sh", &cmd));
    check(hakoniwa_command_arg(cmd, "-c"));
    check(hakoniwa_command_arg(cmd, "echo kept > /tmp/note && cat /tmp/note; ls /etc 2>&1"));
    check(hakoniwa_command_stdio(cmd, HAKONIWA_STDOUT, HAKONIWA_STDIO_PIPE, -1));
    hakoniwa_child_t *child = NULL;
    check(hakoniwa_command_spawn(cmd, &child));

    hakoniwa_status_t *status = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    check(hakoniwa_child_wait_output(child, &status, &out, &out_len, NULL, NULL));
    /* What the sandbox enforced: the landlock ABI the ruleset was built for. */
    hakoniwa_enforcement_t enforcement = {.size = sizeof enforcement};
    check(hakoniwa_status_enforcement(status, &enforcement));
    printf("landlock ABI %u\n", enforcement.landlock_abi);
    fwrite(out, 1, out_len, stdout);

    hakoniwa_buffer_free(out, out_len);
    hakoniwa_status_free(status);
    hakoniwa_child_free(child);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return 0;
}
