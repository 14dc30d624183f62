// The header compiles as C++17 with -Wall -Wextra -Werror and links from C++.
#include <hakoniwa.h>

#include <cstdio>
#include <cstring>

int main() {
    static_assert(HAKONIWA_OK == 0, "OK is zero");
    static_assert(HAKONIWA_ERROR_INVALID_ARGUMENT < 0, "errors are negative");
    hakoniwa_usage_t u{};
    u.size = sizeof u;
    hakoniwa_container_t *c = hakoniwa_container_new();
    if (c == nullptr) return 1;
    hakoniwa_container_free(c);
    std::printf("C++: libhakoniwa %s, header %d.%d.%d\n", hakoniwa_version(),
                HAKONIWA_VERSION_MAJOR, HAKONIWA_VERSION_MINOR, HAKONIWA_VERSION_PATCH);
    return std::strlen(hakoniwa_version()) > 0 ? 0 : 1;
}
