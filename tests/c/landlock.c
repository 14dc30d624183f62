/* A path outside the landlock rules is denied inside the sandbox. */
#include "check.h"

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    OK(hakoniwa_container_landlock_restrict(c, HAKONIWA_LANDLOCK_FS, HAKONIWA_COMPAT_ENFORCE));
    OK(hakoniwa_container_landlock_fs_rule(c, "/usr", HAKONIWA_ACCESS_R | HAKONIWA_ACCESS_X));
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &cmd));
    OK(hakoniwa_command_arg(cmd, "-c"));
    OK(hakoniwa_command_arg(cmd, "head -c 0 /usr/lib/os-release && echo usr-ok; cat /etc/passwd || echo etc-denied"));
    hakoniwa_status_t *st = NULL;
    uint8_t *o = NULL, *e = NULL;
    size_t on = 0, en = 0;
    OK(hakoniwa_command_output(cmd, &st, &o, &on, &e, &en));
    char *out = text_of(o, on), *err = text_of(e, en);
    printf("%s%s", out, err);
    CHECK(strcmp(out, "usr-ok\netc-denied\n") == 0);
    CHECK(strstr(err, "Permission denied") != NULL);
    hakoniwa_enforcement_t rep;
    memset(&rep, 0, sizeof rep);
    rep.size = sizeof rep;
    OK(hakoniwa_status_enforcement(st, &rep));
    CHECK(rep.landlock_abi >= 1 && rep.landlock_fs_rules == 1 && rep.landlock_fs != 0);
    free(out);
    free(err);
    hakoniwa_buffer_free(o, on);
    hakoniwa_buffer_free(e, en);
    hakoniwa_status_free(st);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    printf("landlock: ok\n");
    return 0;
}
