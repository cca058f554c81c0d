/*
 * inspect.c — `hloc inspect MODEL [--tag TAGS] [--signature KEY]
 * [--config-template]`: what a model takes and gives, before compiling it.
 *
 * For a SavedModel directory: every meta graph (its tag set), and for each
 * its signatures with their inputs and outputs (key, dtype, saved shape,
 * the graph tensor), as TensorFlow saved them: -1 marks a dimension fixed
 * only at run time, which `--input-shape` must give.  For a GraphDef (.pb,
 * .pbtxt): its Placeholders (the possible feeds) and the nodes whose
 * outputs nothing reads (the likely fetches).
 *
 * --config-template prints a tfcompile config instead: for a SavedModel,
 * the selected signature as feeds and fetches (what compiling it without a
 * config does, so a user can edit it: rename, pin shapes); for a GraphDef,
 * every Placeholder fed and every likely fetch fetched.  A -1 dimension is
 * kept for the user to fill in.  The config is built as a
 * tensorflow.tf2xla.Config and printed in the protobuf text format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "frontend.h"

/* --- printing ----------------------------------------------------------- */

/* A string in the text format's double quotes. */
static void print_quoted(HloStr *s, const char *v) {
  hlo_str_printf(s, "\"");
  for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
    if (*p == '"' || *p == '\\') hlo_str_printf(s, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f) hlo_str_printf(s, "\\%03o", *p);
    else hlo_str_printf(s, "%c", *p);
  }
  hlo_str_printf(s, "\"");
}

static void print_id(HloStr *s, const Tensorflow__Tf2xla__TensorId *id) {
  hlo_str_printf(s, "  id { node_name: ");
  print_quoted(s, id->node_name);
  if (id->output_index) hlo_str_printf(s, " output_index: %lld", (long long)id->output_index);
  hlo_str_printf(s, " }\n");
}

static void print_shape(HloStr *s, const Tensorflow__TensorShapeProto *t) {
  if (!t) return;
  hlo_str_printf(s, "  shape {");
  for (size_t i = 0; i < t->n_dim; i++)
    hlo_str_printf(s, " dim { size: %lld }", (long long)t->dim[i]->size);
  hlo_str_printf(s, " }\n");
}

/* The config in the protobuf text format, one block per feed and fetch. */
static void print_config(HloStr *s, const Tensorflow__Tf2xla__Config *c) {
  bool open = false;
  for (size_t i = 0; i < c->n_feed; i++) {
    const Tensorflow__TensorShapeProto *t = c->feed[i]->shape;
    for (size_t d = 0; t && d < t->n_dim; d++) open |= t->dim[d]->size < 0;
    open |= !t;
  }
  if (open)
    hlo_str_printf(s, "# Replace each -1 with a static size (and give the feeds without a\n"
                      "# shape one) before compiling.\n");
  for (size_t i = 0; i < c->n_feed; i++) {
    const Tensorflow__Tf2xla__Feed *f = c->feed[i];
    hlo_str_printf(s, "feed {\n");
    print_id(s, f->id);
    print_shape(s, f->shape);
    if (*f->name) {
      hlo_str_printf(s, "  name: ");
      print_quoted(s, f->name);
      hlo_str_printf(s, "\n");
    }
    if (f->type) hlo_str_printf(s, "  type: %s\n", tf_type_name(f->type));
    hlo_str_printf(s, "}\n");
  }
  for (size_t i = 0; i < c->n_fetch; i++) {
    const Tensorflow__Tf2xla__Fetch *f = c->fetch[i];
    hlo_str_printf(s, "fetch {\n");
    print_id(s, f->id);
    if (*f->name) {
      hlo_str_printf(s, "  name: ");
      print_quoted(s, f->name);
      hlo_str_printf(s, "\n");
    }
    hlo_str_printf(s, "}\n");
  }
}

/* --- SavedModels ---------------------------------------------------------- */

static int by_key(const void *a, const void *b) {
  return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* Map entries (each a struct whose first member is its key) in key order. */
static void **sorted(void **entries, size_t n) {
  void **v = hlo_xcalloc(n + 1, sizeof *v);
  memcpy(v, entries, n * sizeof *v);
  qsort(v, n, sizeof *v, by_key);
  return v;
}

static void print_tensor(HloStr *s, const char *what, const char *key,
                         const Tensorflow__TensorInfo *t) {
  hlo_str_printf(s, "    %-6s %s: ", what, key);
  if (!t) {
    hlo_str_printf(s, "(no tensor)\n");
    return;
  }
  hlo_str_printf(s, "%s ", tf_type_name(t->dtype));
  tf_shape_print(s, t->tensor_shape);
  if (t->encoding_case == TENSORFLOW__TENSOR_INFO__ENCODING_NAME)
    hlo_str_printf(s, "  %s\n", t->name);
  else
    hlo_str_printf(s, "  (sparse or composite: not supported)\n");
}

static void print_signature(HloStr *s, const char *key, const Tensorflow__SignatureDef *sig) {
  hlo_str_printf(s, "  signature '%s'", key);
  if (*sig->method_name) hlo_str_printf(s, " (%s)", sig->method_name);
  hlo_str_printf(s, "\n");
  Tensorflow__SignatureDef__InputsEntry **in =
      (Tensorflow__SignatureDef__InputsEntry **)sorted((void **)sig->inputs, sig->n_inputs);
  Tensorflow__SignatureDef__OutputsEntry **out =
      (Tensorflow__SignatureDef__OutputsEntry **)sorted((void **)sig->outputs, sig->n_outputs);
  for (size_t i = 0; i < sig->n_inputs; i++) print_tensor(s, "input", in[i]->key, in[i]->value);
  for (size_t i = 0; i < sig->n_outputs; i++)
    print_tensor(s, "output", out[i]->key, out[i]->value);
  free(in);
  free(out);
}

static int count_ops(const Tensorflow__GraphDef *gd, bool (*pred)(const char *)) {
  int n = 0;
  for (size_t i = 0; gd && i < gd->n_node; i++) n += pred(gd->node[i]->op);
  return n;
}

static HloError *inspect_saved_model(const char *dir, const ModelSource *src, bool tmpl,
                                     HloStr *s) {
  Tensorflow__SavedModel *sm;
  HloError *e = tf_saved_model_read(dir, &sm);
  if (e) return e;
  if (tmpl) {
    Tensorflow__MetaGraphDef *mg;
    const Tensorflow__SignatureDef *sig;
    Tensorflow__Tf2xla__Config *cfg = NULL;
    e = tf_saved_model_meta_graph(sm, dir, src->saved.tags, &mg);
    if (!e) e = tf_saved_model_signature(mg, dir, src->saved.signature, &sig);
    if (!e) e = tf_saved_model_config(sig, &src->saved, true, &cfg);
    if (!e) print_config(s, cfg);
    if (cfg) tensorflow__tf2xla__config__free_unpacked(cfg, NULL);
    tensorflow__saved_model__free_unpacked(sm, NULL);
    return e;
  }
  hlo_str_printf(s, "SavedModel %s\n", dir);
  for (size_t m = 0; m < sm->n_meta_graphs; m++) {
    const Tensorflow__MetaGraphDef *mg = sm->meta_graphs[m];
    const Tensorflow__MetaGraphDef__MetaInfoDef *info = mg->meta_info_def;
    hlo_str_printf(s, "meta graph {");
    for (size_t i = 0; info && i < info->n_tags; i++)
      hlo_str_printf(s, "%s%s", i ? ", " : "", info->tags[i]);
    int nvars = count_ops(mg->graph_def, tf_is_variable_op);
    hlo_str_printf(s, "}: %zu nodes, %zu functions, %d variable nodes", 
                   mg->graph_def ? mg->graph_def->n_node : 0,
                   mg->graph_def && mg->graph_def->library ? mg->graph_def->library->n_function
                                                           : 0,
                   nvars);
    if (info && *info->tensorflow_version)
      hlo_str_printf(s, ", saved by TensorFlow %s", info->tensorflow_version);
    hlo_str_printf(s, "\n");
    Tensorflow__MetaGraphDef__SignatureDefEntry **sigs =
        (Tensorflow__MetaGraphDef__SignatureDefEntry **)sorted((void **)mg->signature_def,
                                                               mg->n_signature_def);
    for (size_t i = 0; i < mg->n_signature_def; i++)
      if (strncmp(sigs[i]->key, "__", 2) && sigs[i]->value)
        print_signature(s, sigs[i]->key, sigs[i]->value);
    free(sigs);
  }
  tensorflow__saved_model__free_unpacked(sm, NULL);
  return NULL;
}

/* --- GraphDefs ------------------------------------------------------------ */

/* Ops whose outputs are never what a user fetches. */
static bool is_plumbing(const char *op) {
  static const char *const ops[] = {"NoOp", "Assert", "SaveV2", "RestoreV2", "Save", "Restore",
                                    "AssignVariableOp", "Assign", "VarIsInitializedOp",
                                    "MergeV2Checkpoints", "ShardedFilename", "StringJoin",
                                    "Placeholder", "Const", "VarHandleOp", "VariableV2"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (!strcmp(op, ops[i])) return true;
  return false;
}

static HloError *inspect_graphdef(const char *path, bool tmpl, HloStr *s) {
  TfGraph *g;
  HloError *e = tf_graph_load(path, NULL, &g);
  if (e) return e;
  /* read[i]: some node reads node i */
  bool *read = hlo_xcalloc((size_t)g->nnodes + 1, sizeof *read);
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (g->nodes[i].inputs[k].node) read[g->nodes[i].inputs[k].node->id] = true;
  Tensorflow__Tf2xla__Config cfg = TENSORFLOW__TF2XLA__CONFIG__INIT;
  Tensorflow__Tf2xla__Feed *feeds = hlo_xcalloc((size_t)g->nnodes + 1, sizeof *feeds);
  Tensorflow__Tf2xla__Fetch *fetches = hlo_xcalloc((size_t)g->nnodes + 1, sizeof *fetches);
  Tensorflow__Tf2xla__TensorId *ids = hlo_xcalloc(2 * (size_t)g->nnodes + 1, sizeof *ids);
  cfg.feed = hlo_xcalloc((size_t)g->nnodes + 1, sizeof *cfg.feed);
  cfg.fetch = hlo_xcalloc((size_t)g->nnodes + 1, sizeof *cfg.fetch);
  if (!tmpl) hlo_str_printf(s, "GraphDef %s: %d nodes\n", path, g->nnodes);
  for (int i = 0; i < g->nnodes; i++) {
    const TfNode *n = &g->nodes[i];
    bool feed = !strcmp(n->op, "Placeholder");
    bool fetch = !read[i] && !is_plumbing(n->op);
    if (!feed && !fetch) continue;
    Tensorflow__Tf2xla__TensorId *id = &ids[cfg.n_feed + cfg.n_fetch];
    tensorflow__tf2xla__tensor_id__init(id);
    id->node_name = (char *)n->name;
    const Tensorflow__AttrValue *shape = tf_attr_find(n, "shape");
    const Tensorflow__AttrValue *dtype = tf_attr_find(n, "dtype");
    if (feed) {
      Tensorflow__Tf2xla__Feed *f = &feeds[cfg.n_feed];
      tensorflow__tf2xla__feed__init(f);
      f->id = id;
      if (shape && shape->value_case == TENSORFLOW__ATTR_VALUE__VALUE_SHAPE &&
          !shape->shape->unknown_rank)
        f->shape = shape->shape;
      if (dtype && dtype->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE) f->type = dtype->type;
      cfg.feed[cfg.n_feed++] = f;
      if (!tmpl) {
        hlo_str_printf(s, "  placeholder %s: %s ", n->name, tf_type_name(f->type));
        tf_shape_print(s, shape && shape->value_case == TENSORFLOW__ATTR_VALUE__VALUE_SHAPE
                          ? shape->shape
                          : NULL);
        hlo_str_printf(s, "\n");
      }
    } else {
      Tensorflow__Tf2xla__Fetch *f = &fetches[cfg.n_fetch];
      tensorflow__tf2xla__fetch__init(f);
      f->id = id;
      cfg.fetch[cfg.n_fetch++] = f;
      if (!tmpl) hlo_str_printf(s, "  likely fetch %s (%s)\n", n->name, n->op);
    }
  }
  if (tmpl) print_config(s, &cfg);
  free(cfg.feed);
  free(cfg.fetch);
  free(feeds);
  free(fetches);
  free(ids);
  free(read);
  tf_graph_free(g);
  return NULL;
}

int cmd_inspect(int argc, char **argv) {
  const char *model = NULL;
  bool tmpl = false;
  PipelineFlags flags = {0};
  const CliOption options[] = {{"--config-template", .flag = &tmpl}, {NULL}};
  int usage = cli_parse("inspect", argc, argv, options, NULL, &flags, &model);
  if (usage) return usage;
  const ModelSource *src = &flags.source;
  if (src->config || src->checkpoint || src->saved.ninput_shapes)
    return usage_error("inspect: %s does not apply (inspect takes --tag, --signature and "
                       "--config-template)",
                       src->config ? "--config" : src->checkpoint ? "--checkpoint"
                                                                  : "--input-shape");
  HloStr s = {0};
  HloError *e;
  if (tf_is_saved_model(model)) {
    e = inspect_saved_model(model, src, tmpl, &s);
  } else if (src->saved.tags || src->saved.signature) {
    e = hlo_error("%s: --tag and --signature apply to SavedModels", model);
  } else {
    bool graphdef = pipeline_is_graphdef(model);
    e = graphdef ? inspect_graphdef(model, tmpl, &s)
                 : hlo_error("%s: inspect reads SavedModel directories and TensorFlow "
                             "GraphDefs (.pb, .pbtxt)",
                             model);
  }
  if (!e) fputs(s.buf ? s.buf : "", stdout);
  free(s.buf);
  return e ? report(e) : EXIT_SUCCESS;
}
