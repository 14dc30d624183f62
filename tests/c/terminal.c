/* A terminal of its own: the program's streams are the slave of a pseudo-terminal this
 * program opened, and hakoniwa_command_controlling_terminal makes it the controlling
 * terminal of the sandbox's session. The program sees a terminal on stdin and is in the
 * terminal's foreground group; what it writes arrives on the master. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include "check.h"

int main(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(master >= 0);
    CHECK(grantpt(master) == 0 && unlockpt(master) == 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(slave >= 0);

    hakoniwa_container_t *c = hakoniwa_container_new();
    CHECK(c != NULL);
    OK(hakoniwa_container_rootfs(c, "/"));
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &cmd));
    OK(hakoniwa_command_arg(cmd, "-c"));
    /* ps's TPGID (the terminal's foreground group) equals the program's own group. */
    OK(hakoniwa_command_arg(cmd, "[ -t 0 ] && set -- $(ps -o pgid=,tpgid= -p $$) && "
                                 "[ \"$1\" = \"$2\" ] && echo own-terminal-foreground"));
    for (int s = HAKONIWA_STDIN; s <= HAKONIWA_STDERR; s++)
        OK(hakoniwa_command_stdio(cmd, s, HAKONIWA_STDIO_FD, slave));
    OK(hakoniwa_command_controlling_terminal(cmd, 1));
    OK(hakoniwa_command_prepare(cmd));
    hakoniwa_status_t *st = NULL;
    OK(hakoniwa_command_status(cmd, &st));
    close(slave);
    CHECK(hakoniwa_status_code(st) == 0);

    /* The program has ended: read what it left on the master. */
    char out[256] = {0};
    size_t got = 0;
    struct pollfd p = {.fd = master, .events = POLLIN};
    while (got < sizeof out - 1 && poll(&p, 1, 5000) == 1 && (p.revents & POLLIN)) {
        ssize_t n = read(master, out + got, sizeof out - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        if (strstr(out, "own-terminal-foreground")) break;
    }
    printf("%s", out);
    CHECK(strstr(out, "own-terminal-foreground") != NULL);
    hakoniwa_status_free(st);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    close(master);
    printf("terminal: ok\n");
    return 0;
}
