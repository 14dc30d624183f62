/*
 * step: run a command under ptrace, one instruction at a time, and write the addresses of
 * the instructions its first executable ran, each once, in the order they first ran.
 *
 *   step OUT LO HI PROGRAM [ARGS...]
 *
 * Only addresses in [LO, HI) (hex, the program's text) are recorded. Every process and
 * thread the program starts is followed (clones share its text until they exec: the
 * sandbox's child runs the engine's code); a process that execs another program is let go.
 * Used by regen.sh to find the code the CLI runs on its start-up path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PID (1 << 22)

static unsigned char released[MAX_PID];

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: step OUT LO HI PROGRAM [ARGS...]\n");
        return 2;
    }
    unsigned long lo = strtoul(argv[2], NULL, 16), hi = strtoul(argv[3], NULL, 16);
    if (hi <= lo || hi - lo > (1UL << 30)) {
        fprintf(stderr, "step: bad range %s..%s\n", argv[2], argv[3]);
        return 2;
    }
    unsigned char *seen = calloc(hi - lo, 1);
    size_t cap = 1 << 16, n = 0;
    unsigned long *order = malloc(cap * sizeof *order);
    if (!seen || !order) {
        perror("step: calloc");
        return 1;
    }
    pid_t first = fork();
    if (first < 0) {
        perror("step: fork");
        return 1;
    }
    if (first == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execv(argv[4], argv + 4);
        perror("step: execv");
        _exit(127);
    }
    int st;
    if (waitpid(first, &st, 0) < 0 || !WIFSTOPPED(st)) {
        fprintf(stderr, "step: the program did not stop\n");
        return 1;
    }
    ptrace(PTRACE_SETOPTIONS, first, 0,
           PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
               PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    int started = 0; /* the first execve (of PROGRAM) has happened */
    int status = 0;
    ptrace(PTRACE_SINGLESTEP, first, 0, 0);
    for (;;) {
        pid_t p = waitpid(-1, &st, __WALL);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break; /* ECHILD: every traced process has ended */
        }
        if (p == first && WIFEXITED(st))
            status = WEXITSTATUS(st);
        if (!WIFSTOPPED(st) || p >= MAX_PID)
            continue;
        int sig = WSTOPSIG(st), event = st >> 16;
        if (event == PTRACE_EVENT_EXEC) {
            if (p == first && !started) {
                started = 1;
            } else {
                released[p] = 1;
                ptrace(PTRACE_DETACH, p, 0, 0);
                continue;
            }
        }
        int deliver = 0;
        if (event == 0 && sig == SIGTRAP) {
            struct user_regs_struct r;
            if (started && ptrace(PTRACE_GETREGS, p, 0, &r) == 0 && r.rip >= lo && r.rip < hi &&
                !seen[r.rip - lo]) {
                seen[r.rip - lo] = 1;
                if (n == cap) {
                    cap *= 2;
                    order = realloc(order, cap * sizeof *order);
                    if (!order) {
                        perror("step: realloc");
                        return 1;
                    }
                }
                order[n++] = r.rip;
            }
        } else if (event == 0 && sig != SIGSTOP) {
            deliver = sig;
        }
        if (released[p])
            ptrace(PTRACE_CONT, p, 0, deliver);
        else
            ptrace(PTRACE_SINGLESTEP, p, 0, deliver);
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%lx\n", order[i]);
    fclose(f);
    fprintf(stderr, "step: %zu distinct instructions; the program exited with %d\n", n, status);
    return status;
}
