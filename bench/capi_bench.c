/* The C half of bench/capi.sh: median time to spawn and wait for /bin/true in the default
 * sandbox through the C ABI. Prints microseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <hakoniwa.h>

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void run(hakoniwa_container_t *c) {
    hakoniwa_command_t *cmd = NULL;
    hakoniwa_status_t *st = NULL;
    if (hakoniwa_command_new(c, "/bin/true", &cmd) || hakoniwa_command_status(cmd, &st)
        || !hakoniwa_status_success(st)) {
        fprintf(stderr, "capi_bench: %s\n", hakoniwa_last_error_message());
        exit(1);
    }
    hakoniwa_status_free(st);
    hakoniwa_command_free(cmd);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1) n = 1;
    hakoniwa_container_t *c = hakoniwa_container_new();
    hakoniwa_container_rootfs(c, "/");
    run(c); /* warm-up */
    long long *t = malloc(sizeof *t * (size_t)n);
    for (int i = 0; i < n; i++) {
        long long s = now_us();
        run(c);
        t[i] = now_us() - s;
    }
    qsort(t, (size_t)n, sizeof *t, cmp);
    printf("%lld\n", t[n / 2]);
    free(t);
    hakoniwa_container_free(c);
    return 0;
}
