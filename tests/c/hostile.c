/* Hostile calls: every entry point with NULL arguments, freed handles (which the API
 * forbids: the library must refuse them, not crash), handles of the wrong type, invalid
 * UTF-8, embedded NUL bytes and unknown constants. Each must return an error and set the
 * last error; nothing may crash. Runs the whole list several times. */
#include "check.h"

#define INVALID HAKONIWA_ERROR_INVALID_ARGUMENT
#define BAD(expr) do { hakoniwa_last_error_clear(); \
    int rc_ = (expr); \
    if (rc_ >= 0) check_fail(__FILE__, __LINE__, #expr " succeeded"); \
    if (hakoniwa_last_error_message() == NULL) check_fail(__FILE__, __LINE__, #expr " set no message"); \
    calls++; } while (0)
#define QUIET(expr) do { hakoniwa_last_error_clear(); expr; calls++; } while (0)

static int calls;
static int spawning = 1; /* 0 under valgrind, which cannot follow the CLONE_VM spawn */

static void round_of_calls(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    hakoniwa_container_t *freed = hakoniwa_container_new();
    CHECK(c && freed);
    hakoniwa_container_free(freed); /* from here on `freed` is a dangling handle */
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/true", &cmd));
    hakoniwa_command_t *freed_cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/true", &freed_cmd));
    hakoniwa_command_free(freed_cmd);
    hakoniwa_status_t *st = NULL;
    hakoniwa_child_t *child = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    char *json = NULL;
    const char bad_utf8[] = {'p', (char)0xff, (char)0xfe, 0};
    uint32_t maps[3] = {0, 0, 1};
    hakoniwa_usage_t u;
    memset(&u, 0, sizeof u);

    /* Containers: NULL, freed, and a command passed as a container. */
    hakoniwa_container_t *wrong = (hakoniwa_container_t *)(void *)cmd;
    hakoniwa_container_t *handles[] = {NULL, freed, wrong};
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
        hakoniwa_container_t *h = handles[i];
        BAD(hakoniwa_container_unshare(h, HAKONIWA_NS_IPC));
        BAD(hakoniwa_container_share(h, HAKONIWA_NS_IPC));
        BAD(hakoniwa_container_uidmap(h, 0));
        BAD(hakoniwa_container_gidmap(h, 0));
        BAD(hakoniwa_container_uidmaps(h, maps, 1));
        BAD(hakoniwa_container_gidmaps(h, maps, 1));
        BAD(hakoniwa_container_hostname(h, "x"));
        BAD(hakoniwa_container_setrlimit(h, HAKONIWA_RLIMIT_NOFILE, 1, 1));
        BAD(hakoniwa_container_rootfs(h, "/"));
        BAD(hakoniwa_container_rootdir(h, "/", 0));
        BAD(hakoniwa_container_bindmount_ro(h, "/a", "/b"));
        BAD(hakoniwa_container_bindmount_rw(h, "/a", "/b"));
        BAD(hakoniwa_container_devfsmount(h, "/dev"));
        BAD(hakoniwa_container_tmpfsmount(h, "/tmp", 0, 0));
        BAD(hakoniwa_container_procfsmount(h, "/proc"));
        BAD(hakoniwa_container_dir(h, "/d", 0755));
        BAD(hakoniwa_container_file(h, "/f", (const uint8_t *)"x", 1));
        BAD(hakoniwa_container_symlink(h, "/a", "/b"));
        BAD(hakoniwa_container_landlock_restrict(h, HAKONIWA_LANDLOCK_FS, HAKONIWA_COMPAT_ENFORCE));
        BAD(hakoniwa_container_landlock_fs_rule(h, "/usr", HAKONIWA_ACCESS_R));
        BAD(hakoniwa_container_landlock_net_rule(h, 80, HAKONIWA_LANDLOCK_TCP_BIND));
        BAD(hakoniwa_container_landlock_scope(h, HAKONIWA_SCOPE_SIGNAL, HAKONIWA_COMPAT_ENFORCE));
        BAD(hakoniwa_container_seccomp(h, "podman"));
        BAD(hakoniwa_container_seccomp_oci(h, "n", "{}"));
        BAD(hakoniwa_container_seccomp_file(h, "/etc/hostname"));
        BAD(hakoniwa_container_cap_add(h, 1));
        BAD(hakoniwa_container_cap_drop(h, 1));
        BAD(hakoniwa_container_capabilities(h, 0));
        BAD(hakoniwa_container_network(h, HAKONIWA_NETWORK_NONE));
        BAD(hakoniwa_container_network_pasta(h, NULL, NULL, 0));
        BAD(hakoniwa_container_user(h, 0, 0, NULL, 0));
        BAD(hakoniwa_container_runctl(h, HAKONIWA_RUNCTL_ALLOW_NEW_PRIVS));
        BAD(hakoniwa_container_init(h, 0));
        hakoniwa_container_t *copy = NULL;
        BAD(hakoniwa_container_clone(h, &copy));
        hakoniwa_command_t *tmp = NULL;
        BAD(hakoniwa_command_new(h, "/bin/true", &tmp));
        CHECK(tmp == NULL);
        QUIET(hakoniwa_container_free(h)); /* ignored or refused, never freed twice */
    }
    /* Strings: NULL, invalid UTF-8 where text is required; unknown constants; bad arrays. */
    BAD(hakoniwa_container_hostname(c, NULL));
    BAD(hakoniwa_container_hostname(c, bad_utf8));
    BAD(hakoniwa_container_seccomp(c, bad_utf8));
    BAD(hakoniwa_container_seccomp(c, "no-such-profile"));
    BAD(hakoniwa_container_seccomp_oci(c, NULL, "{}"));
    BAD(hakoniwa_container_seccomp_oci(c, "n", bad_utf8));
    BAD(hakoniwa_container_seccomp_file(c, "/no/such/profile.json"));
    BAD(hakoniwa_container_rootfs(c, NULL));
    BAD(hakoniwa_container_bindmount_ro(c, NULL, "/b"));
    BAD(hakoniwa_container_bindmount_ro(c, "/a", NULL));
    BAD(hakoniwa_container_symlink(c, NULL, NULL));
    BAD(hakoniwa_container_file(c, "/f", NULL, 5));
    BAD(hakoniwa_container_uidmaps(c, NULL, 2));
    BAD(hakoniwa_container_unshare(c, 99));
    BAD(hakoniwa_container_setrlimit(c, 99, 1, 1));
    BAD(hakoniwa_container_landlock_restrict(c, 9, HAKONIWA_COMPAT_ENFORCE));
    BAD(hakoniwa_container_landlock_restrict(c, HAKONIWA_LANDLOCK_FS, 9));
    BAD(hakoniwa_container_landlock_fs_rule(c, "/usr", 0));
    BAD(hakoniwa_container_landlock_fs_rule(c, "/usr", 64));
    BAD(hakoniwa_container_landlock_scope(c, 7, HAKONIWA_COMPAT_ENFORCE));
    BAD(hakoniwa_container_network(c, 7));
    BAD(hakoniwa_container_network_pasta(c, NULL, NULL, 3));
    BAD(hakoniwa_container_runctl(c, 42));
    BAD(hakoniwa_cap_from_name(NULL));
    BAD(hakoniwa_namespace_from_name(NULL));
    BAD(hakoniwa_namespace_from_name("nope"));
    BAD(hakoniwa_rlimit_from_name(bad_utf8));
    BAD(hakoniwa_rlimit_from_name("nope"));
    CHECK(hakoniwa_namespace_from_name("net") == HAKONIWA_NS_NETWORK);
    CHECK(hakoniwa_rlimit_from_name("nofile") == HAKONIWA_RLIMIT_NOFILE);
    CHECK(hakoniwa_cap_from_name("CAP_NET_ADMIN") == 12);
    BAD(hakoniwa_cap_from_name("CAP_NOPE"));
    BAD(hakoniwa_container_clone(c, NULL));
    BAD(hakoniwa_container_from_json(NULL, &c));
    BAD(hakoniwa_container_from_json("{\"version\": 1}", NULL));
    hakoniwa_container_t *parsed = NULL;
    BAD(hakoniwa_container_from_json(bad_utf8, &parsed));
    BAD(hakoniwa_container_from_json("{\"version\": 1, \"rootfs\": \"/a\\u0000b\"}", &parsed));
    BAD(hakoniwa_container_from_json("[]", &parsed));
    CHECK(parsed == NULL);

    /* Commands. */
    hakoniwa_command_t *cmds[] = {NULL, freed_cmd, (hakoniwa_command_t *)(void *)c};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        hakoniwa_command_t *h = cmds[i];
        BAD(hakoniwa_command_arg(h, "x"));
        BAD(hakoniwa_command_env(h, "K", "V"));
        BAD(hakoniwa_command_env_remove(h, "K"));
        BAD(hakoniwa_command_env_clear(h));
        BAD(hakoniwa_command_current_dir(h, "/"));
        BAD(hakoniwa_command_stdio(h, HAKONIWA_STDOUT, HAKONIWA_STDIO_NULL, -1));
        BAD(hakoniwa_command_preserve_fd(h, 0, 5));
        BAD(hakoniwa_command_wait_timeout(h, 10));
        BAD(hakoniwa_command_controlling_terminal(h, 1));
        BAD(hakoniwa_command_prepare(h));
        BAD(hakoniwa_command_spawn(h, &child));
        BAD(hakoniwa_command_status(h, &st));
        BAD(hakoniwa_command_output(h, &st, &buf, &len, NULL, NULL));
        QUIET(hakoniwa_command_free(h));
    }
    BAD(hakoniwa_command_new(c, NULL, &cmd));
    BAD(hakoniwa_command_new(c, "", &cmd));
    BAD(hakoniwa_command_new(c, "/bin/true", NULL));
    BAD(hakoniwa_command_arg(cmd, NULL));
    BAD(hakoniwa_command_env(cmd, "", "v"));
    BAD(hakoniwa_command_env(cmd, "A=B", "v"));
    BAD(hakoniwa_command_env(cmd, NULL, "v"));
    BAD(hakoniwa_command_env(cmd, "K", NULL));
    BAD(hakoniwa_command_stdio(cmd, 7, HAKONIWA_STDIO_NULL, -1));
    BAD(hakoniwa_command_stdio(cmd, HAKONIWA_STDIN, 9, -1));
    BAD(hakoniwa_command_stdio(cmd, HAKONIWA_STDIN, HAKONIWA_STDIO_FD, -1));
    BAD(hakoniwa_command_stdio(cmd, HAKONIWA_STDIN, HAKONIWA_STDIO_FD, 999999));
    BAD(hakoniwa_command_preserve_fd(cmd, -5, 5));
    BAD(hakoniwa_command_preserve_fd(cmd, 1, -1));
    BAD(hakoniwa_command_preserve_fd(cmd, 1, 2));
    BAD(hakoniwa_command_wait_timeout(cmd, 0));
    BAD(hakoniwa_command_spawn(cmd, NULL));
    BAD(hakoniwa_command_status(cmd, NULL));
    BAD(hakoniwa_command_output(cmd, NULL, NULL, NULL, NULL, NULL));
    BAD(hakoniwa_command_output(cmd, &st, &buf, NULL, NULL, NULL));

    /* Children and statuses: NULL and wrong types. */
    hakoniwa_child_t *kids[] = {NULL, (hakoniwa_child_t *)(void *)c};
    for (size_t i = 0; i < 2; i++) {
        hakoniwa_child_t *h = kids[i];
        BAD(hakoniwa_child_pid(h));
        BAD(hakoniwa_child_pidfd(h));
        BAD(hakoniwa_child_stdio_fd(h, HAKONIWA_STDOUT));
        BAD(hakoniwa_child_take_stdio(h, HAKONIWA_STDOUT));
        BAD(hakoniwa_child_close_stdin(h));
        BAD(hakoniwa_child_kill(h));
        BAD(hakoniwa_child_signal(h, 15));
        BAD(hakoniwa_child_wait(h, &st));
        BAD(hakoniwa_child_try_wait(h, &st));
        BAD(hakoniwa_child_wait_timeout(h, 1, &st));
        BAD(hakoniwa_child_wait_output(h, &st, NULL, NULL, NULL, NULL));
        QUIET(hakoniwa_child_free(h));
    }
    hakoniwa_status_t *sts[] = {NULL, (hakoniwa_status_t *)(void *)c};
    for (size_t i = 0; i < 2; i++) {
        hakoniwa_status_t *h = sts[i];
        CHECK(hakoniwa_status_reason(h) == UINT32_MAX);
        CHECK(hakoniwa_status_exit_code(h) == -1);
        CHECK(hakoniwa_status_signal(h) == 0);
        BAD(hakoniwa_status_code(h));
        CHECK(hakoniwa_status_success(h) == 0 && hakoniwa_status_core_dumped(h) == 0);
        u.size = sizeof u;
        BAD(hakoniwa_status_usage(h, &u));
        CHECK(hakoniwa_status_seccomp_profile(h) == NULL);
        CHECK(hakoniwa_status_outcome_json(h) == NULL
              && hakoniwa_last_error_code() == HAKONIWA_ERROR_INVALID_ARGUMENT);
        BAD(hakoniwa_status_to_json(h, &json, &len));
        QUIET(hakoniwa_status_free(h));
        calls += 6;
    }
    if (!spawning) {
        hakoniwa_command_free(cmd);
        hakoniwa_container_free(c);
        return;
    }
    /* A real status, with bad out-pointers and sizes. */
    OK(hakoniwa_container_rootfs(c, "/"));
    hakoniwa_command_free(cmd);
    OK(hakoniwa_command_new(c, "/bin/true", &cmd));
    OK(hakoniwa_command_status(cmd, &st));
    BAD(hakoniwa_status_usage(st, NULL));
    u.size = 0;
    BAD(hakoniwa_status_usage(st, &u));
    BAD(hakoniwa_status_enforcement(st, NULL));
    BAD(hakoniwa_status_to_json(st, NULL, &len));
    OK(hakoniwa_command_spawn(cmd, &child));
    BAD(hakoniwa_child_signal(child, 0));
    BAD(hakoniwa_child_signal(child, 1000));
    BAD(hakoniwa_child_stdio_fd(child, 9));
    BAD(hakoniwa_child_take_stdio(child, HAKONIWA_STDOUT)); /* not piped */
    BAD(hakoniwa_child_wait(child, NULL));
    BAD(hakoniwa_child_wait_output(child, NULL, NULL, NULL, NULL, NULL));
    hakoniwa_child_free(child);
    BAD(hakoniwa_child_pid(child)); /* freed */
    hakoniwa_status_free(st);
    BAD(hakoniwa_status_code(st)); /* freed */
    /* Freeing NULL is fine; memory helpers accept NULL. */
    hakoniwa_string_free(NULL);
    hakoniwa_buffer_free(NULL, 0);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    BAD(hakoniwa_container_rootfs(c, "/")); /* freed */
}

int main(int argc, char **argv) {
    spawning = !(argc > 1 && strcmp(argv[1], "--no-spawn") == 0);
    for (int i = 0; i < 5; i++) round_of_calls();
    printf("hostile: %d refused calls, no crash\n", calls);
    return 0;
}
