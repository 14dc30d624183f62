/* Tiny assertion helpers for the C tests: a failed check prints where and why, plus the
 * library's last error, and exits 1. */
#ifndef HAKONIWA_TEST_CHECK_H
#define HAKONIWA_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hakoniwa.h>

static inline void check_fail(const char *file, int line, const char *what) {
    const char *msg = hakoniwa_last_error_message();
    fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", file, line, what,
            msg ? msg : "none");
    exit(1);
}

/* `expr` must be true. */
#define CHECK(expr) do { if (!(expr)) check_fail(__FILE__, __LINE__, #expr); } while (0)
/* `expr` (an int-returning hakoniwa call) must succeed. */
#define OK(expr) CHECK((expr) == HAKONIWA_OK)
/* `expr` must fail with `code`. */
#define FAILS(expr, code) CHECK((expr) == (code))

/* NUL-terminate a captured buffer into a fresh string (freed by the caller). */
static inline char *text_of(const uint8_t *data, size_t len) {
    char *s = (char *)malloc(len + 1);
    CHECK(s != NULL);
    if (len) memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

#endif
