/* The JSON status document is the CLI's (--json-status), and a container can be described
 * by one JSON document. Prints the status document for the test script to validate. */
#include "check.h"

int main(void) {
    hakoniwa_container_t *c = NULL;
    OK(hakoniwa_container_from_json(
        "{\"version\": 1, \"rootfs\": \"/\", \"namespaces\": [\"ipc\"],"
        " \"rlimits\": {\"nofile\": [64, 64]},"
        " \"mounts\": [{\"type\": \"file\", \"target\": \"/hello\", \"contents\": \"hi\\n\"}],"
        " \"landlock\": {\"restrict\": {\"fs\": \"enforce\"},"
        "   \"fs_rules\": [{\"path\": \"/usr\", \"access\": \"rx\"}, {\"path\": \"/hello\", \"access\": \"r\"}]}}",
        &c));
    hakoniwa_command_t *cmd = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &cmd));
    OK(hakoniwa_command_arg(cmd, "-c"));
    OK(hakoniwa_command_arg(cmd, "cat /hello; ulimit -n; exit 7"));
    hakoniwa_status_t *st = NULL;
    uint8_t *o = NULL;
    size_t on = 0;
    OK(hakoniwa_command_output(cmd, &st, &o, &on, NULL, NULL));
    char *out = text_of(o, on);
    CHECK(strcmp(out, "hi\n64\n") == 0);
    CHECK(hakoniwa_status_exit_code(st) == 7);

    char *json = NULL;
    size_t len = 0;
    OK(hakoniwa_status_to_json(st, &json, &len));
    CHECK(json != NULL && strlen(json) == len);
    CHECK(strstr(json, "\"version\": 1") != NULL);
    CHECK(strstr(json, "\"reason\": \"exited\"") != NULL);
    CHECK(strstr(json, "\"exit_code\": 7") != NULL);
    CHECK(strstr(json, "\"ipc\"") != NULL);
    CHECK(strstr(json, "\"read_file\"") != NULL); /* landlock sets as names */
    fputs(json, stdout);

    /* The outcome: the document with what measures the run zeroed, the same text each
     * time it is asked for (owned by the status). */
    const char *outcome = hakoniwa_status_outcome_json(st);
    CHECK(outcome != NULL && outcome == hakoniwa_status_outcome_json(st));
    CHECK(strstr(outcome, "\"reason\": \"exited\"") != NULL);
    CHECK(strstr(outcome, "\"exit_code\": 7") != NULL);
    CHECK(strstr(outcome, "\"ipc\"") != NULL);
    CHECK(strstr(outcome, "\"read_file\"") != NULL);
    CHECK(strstr(outcome, "\"real_time\": 0.000000,") != NULL);
    CHECK(strstr(outcome, "\"max_rss_kb\": null,") != NULL);
    CHECK(strstr(outcome, "\"total\": 0.000}") != NULL);
    /* Another run that ends alike gives the same text, one that ends otherwise its own. */
    hakoniwa_status_t *again = NULL, *other = NULL;
    OK(hakoniwa_command_output(cmd, &again, NULL, NULL, NULL, NULL));
    CHECK(strcmp(hakoniwa_status_outcome_json(again), outcome) == 0);
    hakoniwa_command_t *exit3 = NULL;
    OK(hakoniwa_command_new(c, "/bin/sh", &exit3));
    OK(hakoniwa_command_arg(exit3, "-c"));
    OK(hakoniwa_command_arg(exit3, "exit 3"));
    OK(hakoniwa_command_output(exit3, &other, NULL, NULL, NULL, NULL));
    CHECK(strstr(hakoniwa_status_outcome_json(other), "\"exit_code\": 3") != NULL);
    hakoniwa_status_free(other);
    hakoniwa_command_free(exit3);
    hakoniwa_status_free(again);

    /* Errors in the description name the field. */
    hakoniwa_container_t *bad = NULL;
    FAILS(hakoniwa_container_from_json("{\"version\": 1, \"mounts\": [{\"type\": \"nope\"}]}", &bad),
          HAKONIWA_ERROR_INVALID_ARGUMENT);
    CHECK(bad == NULL && strstr(hakoniwa_last_error_message(), "mounts[0].type") != NULL);

    hakoniwa_string_free(json);
    free(out);
    hakoniwa_buffer_free(o, on);
    hakoniwa_status_free(st);
    hakoniwa_command_free(cmd);
    hakoniwa_container_free(c);
    return 0;
}
