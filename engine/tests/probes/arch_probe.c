/* Architecture probe for engine/tests/arch_probes.rs. Built at test time with
 *   gcc -static -nostdlib -O1 -o arch_probe arch_probe.c
 * `arch_probe i386` makes getpid through `int $0x80` (i386 number 20);
 * `arch_probe x32` makes getpid through `syscall` with the x32 number 0x40000000 | 39.
 * Prints the raw return value in decimal (a pid, or -errno) and exits 0. Every other call
 * it makes (write, exit_group) is a native x86_64 system call. */

static long native3(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

static long i386_getpid(void) {
    int ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
    return ret;
}

static long x32_getpid(void) {
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(0x40000000L | 39)
                     : "rcx", "r11", "memory");
    return ret;
}

static int same(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static void print_long(long v) {
    char buf[32];
    int i = sizeof buf;
    int neg = v < 0;
    unsigned long u = neg ? -(unsigned long)v : (unsigned long)v;
    buf[--i] = '\n';
    do {
        buf[--i] = '0' + u % 10;
        u /= 10;
    } while (u);
    if (neg)
        buf[--i] = '-';
    native3(1, 1, (long)(buf + i), sizeof buf - i); /* write(1, ...) */
}

__attribute__((noreturn)) static void exit_group(long code) {
    for (;;)
        native3(231, code, 0, 0);
}

__attribute__((used)) static void start_c(long *sp) {
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    if (argc != 2)
        exit_group(2);
    if (same(argv[1], "i386"))
        print_long(i386_getpid());
    else if (same(argv[1], "x32"))
        print_long(x32_getpid());
    else
        exit_group(2);
    exit_group(0);
}

__asm__(".globl _start\n"
        "_start:\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call start_c\n"
        "  hlt\n");
