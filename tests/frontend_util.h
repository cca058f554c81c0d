/*
 * frontend_util.h — helpers for frontend tests that write small GraphDefs
 * and configs in protobuf text format inside the test: macros for the
 * common node and attribute forms, and import with error capture.
 */
#ifndef HLOC_TESTS_FRONTEND_UTIL_H
#define HLOC_TESTS_FRONTEND_UTIL_H

#include "check_util.h"
#include "frontend.h"

#define NODE(name, op, inputs, attrs)                                         \
  "node { name: '" name "' op: '" op "' " inputs " " attrs " }\n"
#define ATTR_TYPE(key, type) "attr { key: '" key "' value { type: " type " } }"
#define ATTR_INT(key, v) "attr { key: '" key "' value { i: " v " } }"
#define ATTR_STR(key, v) "attr { key: '" key "' value { s: '" v "' } }"
#define FETCH(name) "fetch { id { node_name: '" name "' } }\n"

/* Reads graph and config (text format) and imports them: the module, or
 * NULL with the import's message in *msg (malloc'd).  A graph or config
 * that does not parse fails the test. */
HloModule *fu_import(const char *graph, const char *config, char **msg);
/* Requires the import to fail with exactly `want`. */
void fu_expect_error(const char *graph, const char *config, const char *want);

#endif
