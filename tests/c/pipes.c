/* Pipes both ways: the caller writes the program's stdin and reads its stdout and stderr,
 * through the child's pipes and through descriptors of its own. */
#include <unistd.h>
#include "check.h"

static char *read_all(int fd) {
    size_t cap = 256, len = 0;
    char *buf = (char *)malloc(cap);
    CHECK(buf != NULL);
    for (;;) {
        if (len + 1 == cap) {
            cap *= 2;
            buf = (char *)realloc(buf, cap);
            CHECK(buf != NULL);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        CHECK(n >= 0);
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &cmd));
    OK(hakoniwa_command_arg(cmd, "-c"));
    OK(hakoniwa_command_arg(cmd, "tr a-z A-Z; echo done >&2"));
    OK(hakoniwa_command_stdio(cmd, HAKONIWA_STDIN, HAKONIWA_STDIO_PIPE, -1));
    OK(hakoniwa_command_stdio(cmd, HAKONIWA_STDOUT, HAKONIWA_STDIO_PIPE, -1));
    OK(hakoniwa_command_stdio(cmd, HAKONIWA_STDERR, HAKONIWA_STDIO_PIPE, -1));
    hakoniwa_child_t *child = NULL;
    OK(hakoniwa_command_spawn(cmd, &child));
    int in = hakoniwa_child_take_stdio(child, HAKONIWA_STDIN);
    CHECK(in >= 0);
    CHECK(hakoniwa_child_take_stdio(child, HAKONIWA_STDIN) == HAKONIWA_ERROR_STATE);
    CHECK(write(in, "hello pipes\n", 12) == 12);
    close(in); /* end of file for tr */
    int out = hakoniwa_child_take_stdio(child, HAKONIWA_STDOUT);
    CHECK(out >= 0);
    char *got = read_all(out);
    close(out);
    CHECK(strcmp(got, "HELLO PIPES\n") == 0);
    free(got);
    hakoniwa_status_t *st = NULL;
    uint8_t *e = NULL;
    size_t en = 0;
    OK(hakoniwa_child_wait_output(child, &st, NULL, NULL, &e, &en));
    CHECK(en == 5 && memcmp(e, "done\n", 5) == 0);
    CHECK(hakoniwa_status_success(st));
    CHECK(hakoniwa_child_pidfd(child) >= 0); /* still the handle's */
    CHECK(hakoniwa_child_take_stdio(child, HAKONIWA_STDERR) == HAKONIWA_ERROR_STATE); /* consumed */
    hakoniwa_buffer_free(e, en);
    hakoniwa_status_free(st);
    hakoniwa_child_free(child);

    /* The caller's own descriptors, duplicated: stdin from a pipe, stdout into a pipe. */
    int to_child[2], from_child[2];
    CHECK(pipe(to_child) == 0 && pipe(from_child) == 0);
    hakoniwa_command_t *cat = NULL;
    OK(hakoniwa_command_new(c, "/bin/cat", &cat));
    OK(hakoniwa_command_stdio(cat, HAKONIWA_STDIN, HAKONIWA_STDIO_FD, to_child[0]));
    OK(hakoniwa_command_stdio(cat, HAKONIWA_STDOUT, HAKONIWA_STDIO_FD, from_child[1]));
    close(to_child[0]);
    close(from_child[1]);
    OK(hakoniwa_command_spawn(cat, &child));
    hakoniwa_command_free(cat); /* closes the command's copies */
    CHECK(write(to_child[1], "through fds\n", 12) == 12);
    close(to_child[1]);
    got = read_all(from_child[0]);
    close(from_child[0]);
    CHECK(strcmp(got, "through fds\n") == 0);
    free(got);
    OK(hakoniwa_child_wait(child, &st));
    CHECK(hakoniwa_status_success(st));
    hakoniwa_status_free(st);
    hakoniwa_child_free(child);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    printf("pipes: ok\n");
    return 0;
}
