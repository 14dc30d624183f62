/* Reading usage figures: times, the program's own peak memory, page faults and context
 * switches from the status, and how long each setup step took.
 * Build: cc usage.c $(pkg-config --cflags --libs hakoniwa) */
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
    check(hakoniwa_container_devfsmount(c, "/dev")); /* perl -e reads /dev/null */

    /* perl builds a 64 MiB string: the program's peak resident size is at least that. */
    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/usr/bin/perl", &cmd));
    check(hakoniwa_command_arg(cmd, "-e"));
    check(hakoniwa_command_arg(cmd, "my $s = 'x' x (64 << 20); print length($s), qq(\\n);"));
    hakoniwa_status_t *status = NULL;
    check(hakoniwa_command_status(cmd, &status)); /* stdout inherited */

    /* Both structs start with a size the caller sets, so that they can grow. */
    hakoniwa_usage_t usage = {.size = sizeof usage};
    hakoniwa_enforcement_t enforcement = {.size = sizeof enforcement};
    check(hakoniwa_status_usage(status, &usage));
    check(hakoniwa_status_enforcement(status, &enforcement));
    printf("exit code: %d\n", hakoniwa_status_code(status));
    printf("setup: %.3f ms (mounts %.3f ms)\n", enforcement.setup_total_ns / 1e6,
           enforcement.setup_mounts_ns / 1e6);
    printf("real: %.6f s\n", usage.real_time_us / 1e6);
    printf("cpu: user %.6f s, system %.6f s\n", usage.user_time_us / 1e6, usage.system_time_us / 1e6);
    if (usage.max_rss_kb != 0)
        printf("peak rss: %llu KiB\n", (unsigned long long)usage.max_rss_kb);
    else
        printf("peak rss: unknown\n");
    printf("faults: %llu minor, %llu major\n", (unsigned long long)usage.minor_faults,
           (unsigned long long)usage.major_faults);
    printf("context switches: %llu voluntary, %llu involuntary\n",
           (unsigned long long)usage.voluntary_switches, (unsigned long long)usage.involuntary_switches);

    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return 0;
}
