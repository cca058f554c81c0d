/*
 * frontend_util.c — see frontend_util.h.
 */
#include "frontend_util.h"

#include <stdlib.h>
#include <string.h>

HloModule *fu_import(const char *graph, const char *config, char **msg) {
  ProtobufCMessage *gd = NULL, *cfg = NULL;
  HloError *e = tf_proto_parse_text(&tensorflow__graph_def__descriptor, graph, strlen(graph),
                                    "graph.pbtxt", &gd);
  ck_assert_msg(e == NULL, "graph text: %s", hlo_error_message(e));
  e = tf_proto_parse_text(&tensorflow__tf2xla__config__descriptor, config, strlen(config),
                          "config.pbtxt", &cfg);
  ck_assert_msg(e == NULL, "config text: %s", hlo_error_message(e));
  TfGraph *g = NULL;
  e = tf_graph_new((Tensorflow__GraphDef *)gd, (Tensorflow__Tf2xla__Config *)cfg, &g);
  ck_assert_msg(e == NULL, "graph: %s", hlo_error_message(e));
  HloModule *m = NULL;
  e = tf_import(g, "test", &m);
  tf_graph_free(g);
  *msg = e ? strdup(hlo_error_message(e)) : NULL;
  hlo_error_free(e);
  return m;
}

void fu_expect_error(const char *graph, const char *config, const char *want) {
  char *got = NULL;
  HloModule *m = fu_import(graph, config, &got);
  ck_assert_msg(m == NULL, "imported without error; expected: %s", want);
  ck_assert_str_eq(got, want);
  free(got);
}
