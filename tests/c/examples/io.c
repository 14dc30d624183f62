/* Handling I/O: capture output, feed stdin through a pipe, and pass an extra descriptor.
 * Build: cc io.c $(pkg-config --cflags --libs hakoniwa) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hakoniwa.h>

static void check(int rc) {
    if (rc != HAKONIWA_OK) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        exit(1);
    }
}

/* Read `fd` to its end into `buf` (NUL-terminated); close it. */
static void read_all(int fd, char *buf, size_t size) {
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
}

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new();
    check(hakoniwa_container_rootfs(c, "/"));

    /* hakoniwa_command_output: stdout and stderr captured (drained together), stdin is /dev/null. */
    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/bin/sh", &cmd));
    check(hakoniwa_command_arg(cmd, "-c"));
    check(hakoniwa_command_arg(cmd, "echo to stdout; echo to stderr >&2; exit 3"));
    hakoniwa_status_t *status = NULL;
    uint8_t *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    check(hakoniwa_command_output(cmd, &status, &out, &out_len, &err, &err_len));
    printf("captured: %.*s", (int)out_len, (const char *)out);
    printf("captured: %.*s", (int)err_len, (const char *)err);
    printf("code: %d\n", hakoniwa_status_exit_code(status));
    hakoniwa_buffer_free(out, out_len);
    hakoniwa_buffer_free(err, err_len);
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);

    /* Spawn with pipes: write to its stdin, read its stdout. */
    check(hakoniwa_command_new(c, "/usr/bin/tr", &cmd));
    check(hakoniwa_command_arg(cmd, "a-z"));
    check(hakoniwa_command_arg(cmd, "A-Z"));
    check(hakoniwa_command_stdio(cmd, HAKONIWA_STDIN, HAKONIWA_STDIO_PIPE, -1));
    check(hakoniwa_command_stdio(cmd, HAKONIWA_STDOUT, HAKONIWA_STDIO_PIPE, -1));
    hakoniwa_child_t *child = NULL;
    check(hakoniwa_command_spawn(cmd, &child));
    int to_child = hakoniwa_child_take_stdio(child, HAKONIWA_STDIN); /* now ours to close */
    int from_child = hakoniwa_child_take_stdio(child, HAKONIWA_STDOUT);
    if (to_child < 0 || from_child < 0) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        return 1;
    }
    if (write(to_child, "shout\n", 6) != 6)
        perror("write");
    close(to_child); /* EOF */
    char shouted[64];
    read_all(from_child, shouted, sizeof shouted);
    check(hakoniwa_child_wait(child, &status));
    printf("tr: %s", shouted);
    hakoniwa_status_free(status);
    hakoniwa_child_free(child);
    hakoniwa_command_free(cmd);

    /* preserve_fd: the write end of a host pipe becomes descriptor 3 of the program. */
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        perror("pipe");
        return 1;
    }
    check(hakoniwa_command_new(c, "/bin/sh", &cmd));
    check(hakoniwa_command_arg(cmd, "-c"));
    check(hakoniwa_command_arg(cmd, "echo through fd 3 >&3"));
    check(hakoniwa_command_preserve_fd(cmd, pipe_fds[1], 3)); /* duplicated: close ours */
    close(pipe_fds[1]);
    check(hakoniwa_command_status(cmd, &status));
    hakoniwa_command_free(cmd); /* closes the command's copy: the reader sees EOF */
    char via_fd[64];
    read_all(pipe_fds[0], via_fd, sizeof via_fd);
    printf("fd 3: %s", via_fd);
    hakoniwa_status_free(status);
    hakoniwa_container_free(c);
    return 0;
}
