/* A setup failure comes back as HAKONIWA_ERROR_SETUP with its message, stage, path and
 * errno; it is never mistaken for the program's exit status. */
#include <errno.h>
#include "check.h"

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/true", &cmd));
    OK(hakoniwa_command_current_dir(cmd, "/no/such/dir"));
    hakoniwa_child_t *child = NULL;
    FAILS(hakoniwa_command_spawn(cmd, &child), HAKONIWA_ERROR_SETUP);
    CHECK(child == NULL);
    CHECK(hakoniwa_last_error_code() == HAKONIWA_ERROR_SETUP);
    const char *msg = hakoniwa_last_error_message();
    const char *stage = hakoniwa_last_error_stage();
    const char *path = hakoniwa_last_error_path();
    printf("message: %s\nstage: %s\npath: %s\nerrno: %d\n", msg, stage, path,
           hakoniwa_last_error_errno());
    CHECK(msg && strstr(msg, "/no/such/dir") != NULL);
    CHECK(stage && strcmp(stage, "chdir") == 0);
    CHECK(path && strcmp(path, "/no/such/dir") == 0);
    CHECK(hakoniwa_last_error_errno() == ENOENT);

    /* A missing bind source is found before cloning: a configuration error naming it. */
    hakoniwa_container_t *nosrc = hakoniwa_container_new();
    CHECK(nosrc != NULL);
    OK(hakoniwa_container_bindmount_ro(nosrc, "/no/such/source", "/data"));
    hakoniwa_command_t *nosrc_cmd = NULL;
    OK(hakoniwa_command_new(nosrc, "/bin/true", &nosrc_cmd));
    FAILS(hakoniwa_command_spawn(nosrc_cmd, &child), HAKONIWA_ERROR_CONFIG);
    CHECK(strstr(hakoniwa_last_error_message(), "/no/such/source") != NULL);
    CHECK(strcmp(hakoniwa_last_error_stage(), "config") == 0);
    hakoniwa_command_free(nosrc_cmd);
    hakoniwa_container_free(nosrc);

    /* A program that does not exist inside the sandbox: stage exec, ENOENT. */
    hakoniwa_command_t *missing = NULL;
    OK(hakoniwa_command_new(c, "/no/such/program", &missing));
    hakoniwa_status_t *st = NULL;
    FAILS(hakoniwa_command_status(missing, &st), HAKONIWA_ERROR_SETUP);
    CHECK(strcmp(hakoniwa_last_error_stage(), "exec") == 0);
    CHECK(hakoniwa_last_error_errno() == ENOENT);

    /* A configuration error is found by spawn and has the config stage. */
    hakoniwa_container_t *bad = hakoniwa_container_new();
    CHECK(bad != NULL);
    OK(hakoniwa_container_landlock_fs_rule(bad, "/usr", HAKONIWA_ACCESS_R));
    hakoniwa_command_t *badcmd = NULL;
    OK(hakoniwa_command_new(bad, "/bin/true", &badcmd));
    FAILS(hakoniwa_command_status(badcmd, &st), HAKONIWA_ERROR_LANDLOCK);
    CHECK(strcmp(hakoniwa_last_error_stage(), "config") == 0);
    CHECK(strstr(hakoniwa_last_error_message(), "not restricted") != NULL);

    /* prepare finds the same configuration error without running anything, and accepts a
     * good command. */
    hakoniwa_last_error_clear();
    FAILS(hakoniwa_command_prepare(badcmd), HAKONIWA_ERROR_LANDLOCK);
    CHECK(strcmp(hakoniwa_last_error_stage(), "config") == 0);
    CHECK(strstr(hakoniwa_last_error_message(), "not restricted") != NULL);
    OK(hakoniwa_command_prepare(cmd));

    /* A terminal of its own needs a terminal on one of the streams. */
    hakoniwa_command_t *noterm = NULL;
    OK(hakoniwa_command_new(c, "/bin/true", &noterm));
    OK(hakoniwa_command_stdio(noterm, HAKONIWA_STDIN, HAKONIWA_STDIO_NULL, -1));
    OK(hakoniwa_command_stdio(noterm, HAKONIWA_STDOUT, HAKONIWA_STDIO_NULL, -1));
    OK(hakoniwa_command_stdio(noterm, HAKONIWA_STDERR, HAKONIWA_STDIO_NULL, -1));
    OK(hakoniwa_command_controlling_terminal(noterm, 1));
    FAILS(hakoniwa_command_prepare(noterm), HAKONIWA_ERROR_CONFIG);
    CHECK(strstr(hakoniwa_last_error_message(), "is a terminal") != NULL);
    FAILS(hakoniwa_command_spawn(noterm, &child), HAKONIWA_ERROR_CONFIG);
    CHECK(child == NULL);
    hakoniwa_command_free(noterm);

    hakoniwa_last_error_clear();
    CHECK(hakoniwa_last_error_message() == NULL && hakoniwa_last_error_code() == HAKONIWA_OK);
    hakoniwa_command_free(badcmd);
    hakoniwa_container_free(bad);
    hakoniwa_command_free(missing);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    printf("setup_failure: ok\n");
    return 0;
}
