/*
 * fuzz_graphdef.c — libFuzzer harness for the binary GraphDef path: the
 * wire-format scan and unpack (frontend/wire.c), then the TfGraph view
 * (graph.c) under a permissive config that feeds every Placeholder and
 * fetches every other node (fuzz_util.c), the views of every library
 * function, attribute accessors and Const decoding (attr.c, tensor.c).  Everything is freed, so
 * LeakSanitizer checks ownership too.
 *
 * The input is also written to a file and read back by tf_graphdef_read,
 * whose unpacking goes node by node from pages it gives back (wire.c):
 * where both readers accept it, the two messages must pack to the same
 * bytes, or the harness aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Const values above this many elements are not decoded: their size comes
 * from the shape, not the input (a few bytes can ask for 2^31 elements). */
#define MAX_DECODED_ELEMENTS (1 << 16)

/* Reads every attribute of n with every accessor (most calls fail, which
 * is the point), and decodes n's value when it is a small Const. */
static void exercise_node(const TfNode *n) {
  for (size_t j = 0; j < n->def->n_attr; j++) {
    const char *k = n->def->attr[j]->key;
    Tensorflow__DataType t;
    int64_t i;
    float f;
    bool b;
    const char *s;
    const int64_t *il;
    const float *fl;
    const Tensorflow__DataType *tl;
    int count;
    const Tensorflow__TensorShapeProto *sh;
    const Tensorflow__TensorProto *tp;
    const Tensorflow__NameAttrList *fn;
    HloError *errs[] = {
        tf_attr_type(n, k, &t),           tf_attr_int(n, k, &i),
        tf_attr_float(n, k, &f),          tf_attr_bool(n, k, &b),
        tf_attr_string(n, k, &s),         tf_attr_int_list(n, k, &il, &count),
        tf_attr_float_list(n, k, &fl, &count),
        tf_attr_type_list(n, k, &tl, &count),
        tf_attr_shape(n, k, &sh),         tf_attr_tensor(n, k, &tp),
        tf_attr_func(n, k, &fn)};
    for (size_t x = 0; x < sizeof errs / sizeof *errs; x++)
      hlo_error_free(errs[x]);
    HloError *e = tf_attr_shape(n, k, &sh);
    HloShape shape;
    if (!e) e = tf_shape_to_hlo(sh, HLO_F32, &shape);
    hlo_error_free(e);
  }
  const Tensorflow__TensorProto *t;
  HloError *e = tf_attr_tensor(n, "value", &t);
  HloShape shape;
  if (!e) e = tf_tensor_shape(t, &shape);
  if (!e && hlo_shape_elements(&shape) <= MAX_DECODED_ELEMENTS) {
    HloLiteral *l;
    e = tf_node_const(n, NULL, &l);
    hlo_literal_free(l);
  }
  hlo_error_free(e);
}

/* m packed (malloc'd), its size in *n. */
static uint8_t *packed(const ProtobufCMessage *m, size_t *n) {
  *n = protobuf_c_message_get_packed_size(m);
  uint8_t *b = malloc(*n ? *n : 1);
  protobuf_c_message_pack(m, b);
  return b;
}

/* The file reader's message agrees with gd, the one parsed from memory
 * (NULL: that parse failed). */
static void file_reader_agrees(const uint8_t *data, size_t size, const Tensorflow__GraphDef *gd) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/fuzz_graphdef.%d.pb", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return;
  bool written = fwrite(data, 1, size, f) == size;
  if (fclose(f) != 0 || !written) {
    remove(path);
    return;
  }
  Tensorflow__GraphDef *fd = NULL;
  HloError *e = tf_graphdef_read(path, &fd);
  remove(path);
  if (e) {
    fz_drop(e);
    return;
  }
  if (gd) {
    size_t na, nb;
    uint8_t *a = packed(&gd->base, &na), *b = packed(&fd->base, &nb);
    if (na != nb || memcmp(a, b, na)) {
      fprintf(stderr, "tf_graphdef_read unpacked %zu bytes differently from memory\n", size);
      abort();
    }
    free(a);
    free(b);
  }
  tensorflow__graph_def__free_unpacked(fd, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The graph under a permissive config. */
  Tensorflow__GraphDef *gd = fz_parse_graphdef(data, size);
  file_reader_agrees(data, size, gd);
  if (!gd) return 0;
  Tensorflow__Tf2xla__Config *cfg = fz_permissive_config(gd);
  TfGraph *g;
  HloError *e = tf_graph_new(gd, cfg, &g);
  if (e) {
    hlo_error_free(e);
  } else {
    for (int i = 0; i < g->norder; i++) exercise_node(g->order[i]);
    tf_graph_free(g);
  }
  /* Without a config: every node and every library function. */
  gd = fz_parse_graphdef(data, size);
  e = tf_graph_new(gd, NULL, &g);
  if (e) {
    hlo_error_free(e);
    return 0;
  }
  for (int i = 0; i < g->nnodes; i++) exercise_node(&g->nodes[i]);
  const Tensorflow__FunctionDefLibrary *lib = g->def->library;
  for (size_t i = 0; lib && i < lib->n_function; i++) {
    const Tensorflow__OpDef *sig = lib->function[i]->signature;
    if (!sig) continue;
    TfGraph *body;
    e = tf_graph_function(g, sig->name, &body);
    if (e) {
      hlo_error_free(e);
      continue;
    }
    for (int k = 0; k < body->norder; k++) exercise_node(body->order[k]);
    tf_graph_free(body);
  }
  tf_graph_free(g);
  return 0;
}
