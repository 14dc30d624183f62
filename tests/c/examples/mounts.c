/* Custom mounts: a read-only and a read-write bind of host directories, a tmpfs, a
 * minimal /dev, and a directory, a file and a symbolic link created in the new root.
 * Build: cc mounts.c $(pkg-config --cflags --libs hakoniwa) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hakoniwa.h>

static void check(int rc) {
    if (rc != HAKONIWA_OK) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        exit(1);
    }
}

int main(void) {
    /* A host directory with an input file and an output directory. */
    char host[64], out_dir[80], input[80], result[96];
    snprintf(host, sizeof host, "/tmp/hakoniwa-mounts-%d", (int)getpid());
    snprintf(out_dir, sizeof out_dir, "%s/out", host);
    snprintf(input, sizeof input, "%s/input.txt", host);
    snprintf(result, sizeof result, "%s/result.txt", out_dir);
    if (mkdir(host, 0755) != 0 || mkdir(out_dir, 0755) != 0) {
        perror(host);
        return 1;
    }
    FILE *f = fopen(input, "w");
    if (f == NULL) {
        perror(input);
        return 1;
    }
    fputs("hello from the host\n", f);
    fclose(f);

    const char *greeting = "hello from the config\n";
    hakoniwa_container_t *c = hakoniwa_container_new();
    check(hakoniwa_container_rootfs(c, "/"));
    check(hakoniwa_container_bindmount_ro(c, host, "/data")); /* recursively read-only */
    check(hakoniwa_container_bindmount_rw(c, out_dir, "/out"));
    check(hakoniwa_container_tmpfsmount(c, "/tmp", 0, 0)); /* size 0, mode 0: the defaults */
    check(hakoniwa_container_devfsmount(c, "/dev")); /* null, zero, full, random, urandom, tty, pts, shm */
    check(hakoniwa_container_dir(c, "/work", 0755));
    check(hakoniwa_container_file(c, "/config/greeting.txt", (const uint8_t *)greeting, strlen(greeting)));
    check(hakoniwa_container_symlink(c, "/data/input.txt", "/input"));

    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/bin/sh", &cmd));
    check(hakoniwa_command_arg(cmd, "-c"));
    check(hakoniwa_command_arg(cmd, "cat /input /config/greeting.txt; echo written > /out/result.txt; "
                                    "touch /data/x 2>/dev/null || echo /data is read-only; "
                                    "echo scratch > /tmp/s && cat /tmp/s; ls /"));
    hakoniwa_status_t *status = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    check(hakoniwa_command_output(cmd, &status, &out, &out_len, NULL, NULL));
    fwrite(out, 1, out_len, stdout);

    char line[64] = "";
    f = fopen(result, "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        perror(result);
        return 1;
    }
    fclose(f);
    printf("host sees: %s", line);

    unlink(result);
    unlink(input);
    rmdir(out_dir);
    rmdir(host);
    hakoniwa_buffer_free(out, out_len);
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return 0;
}
