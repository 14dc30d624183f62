/* The container and command setters reach the sandbox: no init (the program is PID 1),
 * host name, uid 0 inside, an rlimit,
 * created directory/file/symlink, a tmpfs, network none (only lo), a dropped capability, the
 * environment, the working directory, a preserved descriptor, and a container copy. */
#include <unistd.h>
#include "check.h"

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    OK(hakoniwa_container_hostname(c, "box"));
    OK(hakoniwa_container_uidmap(c, 0));
    OK(hakoniwa_container_gidmap(c, 0));
    OK(hakoniwa_container_setrlimit(c, (uint32_t)hakoniwa_rlimit_from_name("nofile"), 50, 50));
    OK(hakoniwa_container_tmpfsmount(c, "/work", 1 << 20, 0700));
    OK(hakoniwa_container_dir(c, "/srv/data", 0755));
    OK(hakoniwa_container_file(c, "/srv/data/hello", (const uint8_t *)"hi\n", 3));
    OK(hakoniwa_container_symlink(c, "/srv/data/hello", "/srv/link"));
    OK(hakoniwa_container_network(c, HAKONIWA_NETWORK_NONE));
    OK(hakoniwa_container_cap_drop(c, (uint32_t)hakoniwa_cap_from_name("CAP_CHOWN")));
    OK(hakoniwa_container_unshare(c, (uint32_t)hakoniwa_namespace_from_name("ipc")));
    OK(hakoniwa_container_init(c, 0)); /* the program itself is PID 1 */

    hakoniwa_container_t *copy = NULL;
    OK(hakoniwa_container_clone(c, &copy));
    OK(hakoniwa_container_hostname(copy, "other")); /* the original keeps "box" */

    int fds[2];
    CHECK(pipe(fds) == 0);
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "sh", &cmd)); /* found in the sandbox's PATH */
    OK(hakoniwa_command_arg(cmd, "-c"));
    OK(hakoniwa_command_arg(cmd,
        "echo $$; hostname; id -u; ulimit -n; pwd; cat link; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; echo $V;"
        " chown 1 data/hello 2>/dev/null || echo no-chown; echo fd >&7"));
    OK(hakoniwa_command_env(cmd, "V", "from-env"));
    OK(hakoniwa_command_env(cmd, "PATH", "/usr/bin:/bin"));
    OK(hakoniwa_command_current_dir(cmd, "/srv"));
    OK(hakoniwa_command_preserve_fd(cmd, fds[1], 7));
    close(fds[1]);
    OK(hakoniwa_container_devfsmount(c, "/dev")); /* after the command: not in its copy */

    hakoniwa_status_t *st = NULL;
    uint8_t *o = NULL, *e = NULL;
    size_t on = 0, en = 0;
    OK(hakoniwa_command_output(cmd, &st, &o, &on, &e, &en));
    char *out = text_of(o, on);
    printf("%s", out);
    CHECK(strstr(out, "1\nbox\n0\n50\n/srv\nhi\nlo\nfrom-env\n") == out);
    CHECK(strstr(out, "no-chown\n") != NULL);
    hakoniwa_command_free(cmd); /* closes its copy of the pipe's write end */
    char buf[8] = {0};
    CHECK(read(fds[0], buf, sizeof buf - 1) == 3 && strcmp(buf, "fd\n") == 0);
    close(fds[0]);

    hakoniwa_command_t *other = NULL;
    OK(hakoniwa_command_new(copy, "/bin/hostname", &other));
    hakoniwa_status_t *st2 = NULL;
    uint8_t *o2 = NULL;
    size_t on2 = 0;
    OK(hakoniwa_command_output(other, &st2, &o2, &on2, NULL, NULL));
    CHECK(on2 == 6 && memcmp(o2, "other\n", 6) == 0);

    free(out);
    hakoniwa_buffer_free(o, on);
    hakoniwa_buffer_free(e, en);
    hakoniwa_buffer_free(o2, on2);
    hakoniwa_status_free(st);
    hakoniwa_status_free(st2);
    hakoniwa_command_free(other);
    hakoniwa_container_free(copy);
    hakoniwa_container_free(c);
    printf("features: ok\n");
    return 0;
}
