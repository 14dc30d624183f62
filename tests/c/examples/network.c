/* Network: HAKONIWA_NETWORK_NONE is a new network namespace with only `lo` (up); pasta
 * connects a new namespace to the host, here forwarding one port of the sandbox's loopback
 * to a server on the host's loopback (`-T PORT`). Needs `pasta` (Debian package passt).
 * Build: cc network.c $(pkg-config --cflags --libs hakoniwa) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <hakoniwa.h>

static void check(int rc) {
    if (rc != HAKONIWA_OK) {
        fprintf(stderr, "hakoniwa: %s\n", hakoniwa_last_error_message());
        exit(1);
    }
}

/* Run `script` with bash in the container; print its stdout after `label`. */
static void run(const hakoniwa_container_t *c, const char *label, const char *script) {
    hakoniwa_command_t *cmd = NULL;
    check(hakoniwa_command_new(c, "/bin/bash", &cmd));
    check(hakoniwa_command_arg(cmd, "-c"));
    check(hakoniwa_command_arg(cmd, script));
    hakoniwa_status_t *status = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    check(hakoniwa_command_output(cmd, &status, &out, &out_len, NULL, NULL));
    printf("%s: %.*s", label, (int)out_len, (const char *)out);
    hakoniwa_buffer_free(out, out_len);
    hakoniwa_status_free(status);
    hakoniwa_command_free(cmd);
}

/* The host's server: greet one client. */
static void *greet(void *arg) {
    int client = accept(*(int *)arg, NULL, NULL);
    if (client >= 0) {
        if (write(client, "hello from the host\n", 20) != 20)
            perror("write");
        close(client);
    }
    return NULL;
}

int main(void) {
    hakoniwa_container_t *offline = hakoniwa_container_new();
    check(hakoniwa_container_rootfs(offline, "/"));
    check(hakoniwa_container_network(offline, HAKONIWA_NETWORK_NONE));
    run(offline, "offline", "ip -o link | cut -d' ' -f2");
    hakoniwa_container_free(offline);

    /* A server on the host's loopback, on a port the kernel picks. */
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (server < 0 || bind(server, (struct sockaddr *)&addr, len) != 0 || listen(server, 1) != 0
        || getsockname(server, (struct sockaddr *)&addr, &len) != 0) {
        perror("server");
        return 1;
    }
    char port[8], script[64];
    snprintf(port, sizeof port, "%d", ntohs(addr.sin_port));
    snprintf(script, sizeof script, "exec 3<>/dev/tcp/127.0.0.1/%s; cat <&3", port);
    pthread_t greeter;
    pthread_create(&greeter, NULL, greet, &server);

    hakoniwa_container_t *online = hakoniwa_container_new();
    check(hakoniwa_container_rootfs(online, "/"));
    const char *pasta_args[] = {"-T", port}; /* the sandbox's 127.0.0.1:PORT is the host's */
    check(hakoniwa_container_network_pasta(online, NULL, pasta_args, 2));
    run(online, "through pasta", script);
    pthread_join(greeter, NULL);
    close(server);
    hakoniwa_container_free(online);
    return 0;
}
