/* The README's C example: run a shell command in a sandbox and print what it wrote.
 * Build: cc -o hello hello.c $(pkg-config --cflags --libs hakoniwa) */
#include <stdio.h>
#include <hakoniwa.h>

int main(void) {
    hakoniwa_container_t *c = hakoniwa_container_new(); /* user, mount, PID namespaces */
    hakoniwa_container_rootfs(c, "/");                   /* host /usr, /bin, ... read-only */

    hakoniwa_command_t *cmd = NULL;
    hakoniwa_status_t *status = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (hakoniwa_command_new(c, "/bin/sh", &cmd) != HAKONIWA_OK
        || hakoniwa_command_arg(cmd, "-c") != HAKONIWA_OK
        || hakoniwa_command_arg(cmd, "echo hello from pid $$") != HAKONIWA_OK
        || hakoniwa_command_output(cmd, &status, &out, &out_len, NULL, NULL) != HAKONIWA_OK) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        return 1;
    }
    fwrite(out, 1, out_len, stdout); /* hello from pid 2 (PID 1 is the sandbox's init) */
    int code = hakoniwa_status_code(status);

    hakoniwa_buffer_free(out, out_len);
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return code;
}
