/*
 * savedmodel.c — SavedModel directories as graph views.
 *
 * A SavedModel directory holds saved_model.pb (a SavedModel message: meta
 * graphs told apart by tag sets, each a GraphDef with its function library,
 * named signatures and, from TensorFlow 2, an object graph) and a
 * checkpoint under variables/variables.  hloc picks the meta graph whose
 * tag set equals the one asked for and the signature by key, and turns the
 * signature into what a tfcompile config says: its inputs are the feeds
 * and its outputs the fetches, each named by its key and taken in key
 * order (a signature is a map; key order is the one order that does not
 * depend on how it was written).  Saved shapes may leave dimensions to run
 * time (-1); the caller gives static shapes for those inputs.
 *
 * Variables get their values from the checkpoint (variables.c).  A
 * TensorFlow 2 graph reads them through resource handles that the
 * signature's call node passes to its function, and the handles' names say
 * nothing reliable about the checkpoint (tf.Module variables are all called
 * "Variable"; Keras' export saves every weight twice under two keys and
 * passes the graph a third set of handles).  The link is the object graph,
 * as tf.saved_model.load follows it: a concrete function's bound_inputs
 * name the saved objects its trailing arguments capture; the saved object
 * graph and the checkpoint's TrackableObjectGraph describe the same
 * objects, matched here by walking both from the root along equally named
 * children; the matched checkpoint object's "VARIABLE_VALUE" attribute is
 * the key.  TensorFlow 1 models (SavedModelBuilder) have no object graph:
 * their variables are found by node name.
 */
#include "frontend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trackable_object_graph.pb-c.h"

#define DEFAULT_TAGS "serve"
#define DEFAULT_SIGNATURE "serving_default"

static char *join(const char *dir, const char *name) {
  HloStr s = {0};
  hlo_str_printf(&s, "%s/%s", dir, name);
  return hlo_str_take(&s);
}

static bool is_file(const char *path) {
  struct stat st;
  return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* DIR/saved_model.pb, else DIR/saved_model.pbtxt, else NULL (malloc'd). */
static char *model_file(const char *dir) {
  char *p = join(dir, "saved_model.pb");
  if (is_file(p)) return p;
  free(p);
  p = join(dir, "saved_model.pbtxt");
  if (is_file(p)) return p;
  free(p);
  return NULL;
}

bool tf_is_saved_model(const char *path) {
  struct stat st;
  if (stat(path, &st) || !S_ISDIR(st.st_mode)) return false;
  char *p = model_file(path);
  free(p);
  return p != NULL;
}

HloError *tf_saved_model_read(const char *dir, Tensorflow__SavedModel **out) {
  *out = NULL;
  struct stat st;
  if (stat(dir, &st)) return hlo_error("%s: %s", dir, strerror(errno));
  if (!S_ISDIR(st.st_mode)) return hlo_error("%s: a SavedModel is a directory", dir);
  char *path = model_file(dir);
  if (!path)
    return hlo_error("%s: not a SavedModel: the directory holds no saved_model.pb", dir);
  ProtobufCMessage *m;
  HloError *e = tf_proto_read_file(&tensorflow__saved_model__descriptor, path, &m);
  free(path);
  if (e) return e;
  Tensorflow__SavedModel *sm = (Tensorflow__SavedModel *)m;
  if (!sm->n_meta_graphs) {
    tensorflow__saved_model__free_unpacked(sm, NULL);
    return hlo_error("%s: the SavedModel holds no meta graph", dir);
  }
  *out = sm;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Meta graph and signature                                                 */
/* ------------------------------------------------------------------------ */

/* Whether tag (n bytes) is among mg's tags. */
static bool has_tag(const Tensorflow__MetaGraphDef *mg, const char *tag, size_t n) {
  const Tensorflow__MetaGraphDef__MetaInfoDef *info = mg->meta_info_def;
  for (size_t i = 0; info && i < info->n_tags; i++)
    if (strlen(info->tags[i]) == n && !memcmp(info->tags[i], tag, n)) return true;
  return false;
}

/* The next tag of the comma-separated list at *p (spaces around a tag are
 * not part of it): its start, with its length in *n; NULL at the end. */
static const char *next_tag(const char **p, size_t *n) {
  const char *s = *p;
  while (*s == ' ' || *s == ',') s++;
  if (!*s) {
    *p = s;
    return NULL;
  }
  const char *q = s;
  while (*q && *q != ',') q++;
  size_t k = (size_t)(q - s);
  while (k && s[k - 1] == ' ') k--;
  *p = q;
  *n = k;
  return s;
}

static bool list_has(const char *list, const char *tag) {
  size_t n, len = strlen(tag);
  for (const char *t; (t = next_tag(&list, &n));)
    if (n == len && !memcmp(t, tag, n)) return true;
  return false;
}

static bool same_tags(const Tensorflow__MetaGraphDef *mg, const char *tags) {
  size_t n;
  for (const char *p = tags, *t; (t = next_tag(&p, &n));)
    if (!has_tag(mg, t, n)) return false;
  const Tensorflow__MetaGraphDef__MetaInfoDef *info = mg->meta_info_def;
  for (size_t i = 0; info && i < info->n_tags; i++)
    if (!list_has(tags, info->tags[i])) return false;
  return true;
}

static void print_tags(HloStr *s, const Tensorflow__MetaGraphDef *mg) {
  const Tensorflow__MetaGraphDef__MetaInfoDef *info = mg->meta_info_def;
  hlo_str_printf(s, "{");
  for (size_t i = 0; info && i < info->n_tags; i++)
    hlo_str_printf(s, "%s%s", i ? ", " : "", info->tags[i]);
  hlo_str_printf(s, "}");
}

HloError *tf_saved_model_meta_graph(const Tensorflow__SavedModel *sm, const char *dir,
                                    const char *tags, Tensorflow__MetaGraphDef **out) {
  if (!tags) tags = DEFAULT_TAGS;
  for (size_t i = 0; i < sm->n_meta_graphs; i++)
    if (same_tags(sm->meta_graphs[i], tags)) {
      *out = sm->meta_graphs[i];
      return NULL;
    }
  HloStr s = {0};
  for (size_t i = 0; i < sm->n_meta_graphs; i++) {
    if (i) hlo_str_printf(&s, ", ");
    print_tags(&s, sm->meta_graphs[i]);
  }
  HloError *e = hlo_error("%s: no meta graph has the tag set {%s}; the SavedModel holds %s",
                          dir, tags, s.buf);
  free(s.buf);
  return e;
}

/* Signatures whose keys start with "__" (__saved_model_init_op) are
 * TensorFlow's own, not entry points. */
static bool is_internal(const char *key) { return !strncmp(key, "__", 2); }

HloError *tf_saved_model_signature(const Tensorflow__MetaGraphDef *mg, const char *dir,
                                   const char *key, const Tensorflow__SignatureDef **out) {
  if (!key) key = DEFAULT_SIGNATURE;
  for (size_t i = 0; i < mg->n_signature_def; i++)
    if (!strcmp(mg->signature_def[i]->key, key) && mg->signature_def[i]->value) {
      *out = mg->signature_def[i]->value;
      return NULL;
    }
  HloStr s = {0};
  int n = 0;
  for (size_t i = 0; i < mg->n_signature_def; i++)
    if (!is_internal(mg->signature_def[i]->key))
      hlo_str_printf(&s, "%s'%s'", n++ ? ", " : "", mg->signature_def[i]->key);
  HloError *e = hlo_error("%s: no signature '%s'; %s%s", dir, key,
                          n ? "the meta graph has " : "the meta graph has no signatures",
                          n ? s.buf : "");
  free(s.buf);
  return e;
}

/* ------------------------------------------------------------------------ */
/* The signature as a tfcompile config                                      */
/* ------------------------------------------------------------------------ */

/* Map entries of a signature's inputs or outputs, sorted by key. */
typedef struct Entry {
  const char *key;
  const Tensorflow__TensorInfo *info;
} Entry;

static int by_key(const void *a, const void *b) {
  return strcmp(((const Entry *)a)->key, ((const Entry *)b)->key);
}

static Entry *sorted_inputs(const Tensorflow__SignatureDef *sig) {
  Entry *v = hlo_xcalloc(sig->n_inputs + 1, sizeof *v);
  for (size_t i = 0; i < sig->n_inputs; i++)
    v[i] = (Entry){sig->inputs[i]->key, sig->inputs[i]->value};
  qsort(v, sig->n_inputs, sizeof *v, by_key);
  return v;
}

static Entry *sorted_outputs(const Tensorflow__SignatureDef *sig) {
  Entry *v = hlo_xcalloc(sig->n_outputs + 1, sizeof *v);
  for (size_t i = 0; i < sig->n_outputs; i++)
    v[i] = (Entry){sig->outputs[i]->key, sig->outputs[i]->value};
  qsort(v, sig->n_outputs, sizeof *v, by_key);
  return v;
}

static Tensorflow__TensorShapeProto *new_shape(int rank, const int64_t *dims) {
  Tensorflow__TensorShapeProto *s = hlo_xmalloc(sizeof *s);
  tensorflow__tensor_shape_proto__init(s);
  s->n_dim = (size_t)rank;
  s->dim = hlo_xcalloc((size_t)rank + 1, sizeof *s->dim);
  for (int i = 0; i < rank; i++) {
    s->dim[i] = hlo_xmalloc(sizeof *s->dim[i]);
    tensorflow__tensor_shape_proto__dim__init(s->dim[i]);
    s->dim[i]->size = dims[i];
  }
  return s;
}

static Tensorflow__Tf2xla__TensorId *new_id(const char *tensor) {
  Tensorflow__Tf2xla__TensorId *id = hlo_xmalloc(sizeof *id);
  tensorflow__tf2xla__tensor_id__init(id);
  id->node_name = hlo_xstrdup(tensor);
  /* "node:K" names output K; a bare node name output 0. */
  char *colon = strrchr(id->node_name, ':');
  if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
      strlen(colon + 1) < 10) {
    id->output_index = atoi(colon + 1);
    *colon = '\0';
  }
  return id;
}

/* Checks a signature entry that hloc can take: a dense tensor named in the
 * graph.  `what` is "input" or "output". */
static HloError *check_entry(const Entry *x, const char *what) {
  if (!x->info) return hlo_error("%s '%s' has no tensor", what, x->key);
  if (x->info->encoding_case != TENSORFLOW__TENSOR_INFO__ENCODING_NAME)
    return hlo_error("%s '%s' is a sparse or composite tensor; hloc takes dense tensors only",
                     what, x->key);
  if (!*x->info->name) return hlo_error("%s '%s' names no tensor", what, x->key);
  return NULL;
}

/* The static shape of input x: the one given in o, checked against the
 * saved one, else the saved one when it is static (or, with open_ok, as
 * saved, -1 dimensions and all; an unknown rank gives no shape). */
static HloError *input_shape(const Entry *x, const TfSavedModelOptions *o, bool open_ok,
                             Tensorflow__TensorShapeProto **out) {
  const Tensorflow__TensorShapeProto *saved = x->info->tensor_shape;
  bool unknown_rank = !saved || saved->unknown_rank;
  for (int i = 0; i < o->ninput_shapes; i++) {
    const TfInputShape *given = &o->input_shapes[i];
    if (strcmp(given->name, x->key)) continue;
    bool fits = unknown_rank || (size_t)given->rank == saved->n_dim;
    for (int d = 0; fits && !unknown_rank && d < given->rank; d++)
      fits = saved->dim[d]->size < 0 || saved->dim[d]->size == given->dims[d];
    for (int d = 0; fits && d < given->rank; d++) fits = given->dims[d] >= 0;
    if (!fits) {
      HloStr s = {0};
      hlo_str_printf(&s, "(");
      for (int d = 0; d < given->rank; d++)
        hlo_str_printf(&s, "%s%lld", d ? ", " : "", (long long)given->dims[d]);
      hlo_str_printf(&s, ") does not fit its saved shape ");
      tf_shape_print(&s, saved);
      HloError *e = hlo_error("the shape given for input '%s' %s", x->key, s.buf);
      free(s.buf);
      return e;
    }
    *out = new_shape(given->rank, given->dims);
    return NULL;
  }
  bool open = unknown_rank;
  for (size_t d = 0; !open && d < saved->n_dim; d++) open = saved->dim[d]->size < 0;
  if (open && open_ok && unknown_rank) return NULL;
  if (open && !open_ok) {
    HloStr s = {0};
    tf_shape_print(&s, saved);
    HloError *e = hlo_error("input '%s' has the saved shape %s, fixed only at run time: give "
                            "it a static shape (--input-shape %s=N,...; libhloc and Python: "
                            "input_shapes)",
                            x->key, s.buf, x->key);
    free(s.buf);
    return e;
  }
  if (saved->n_dim > HLO_MAX_RANK)
    return hlo_error("input '%s' has rank %zu; hloc supports at most %d", x->key, saved->n_dim,
                     HLO_MAX_RANK);
  int64_t dims[HLO_MAX_RANK];
  for (size_t d = 0; d < saved->n_dim; d++) dims[d] = saved->dim[d]->size;
  *out = new_shape((int)saved->n_dim, dims);
  return NULL;
}

HloError *tf_saved_model_config(const Tensorflow__SignatureDef *sig,
                                const TfSavedModelOptions *o, bool open_ok,
                                Tensorflow__Tf2xla__Config **out) {
  static const TfSavedModelOptions defaults;
  if (!o) o = &defaults;
  Tensorflow__Tf2xla__Config *cfg = hlo_xmalloc(sizeof *cfg);
  tensorflow__tf2xla__config__init(cfg);
  Entry *in = sorted_inputs(sig), *res = sorted_outputs(sig);
  HloError *e = NULL;
  for (int i = 0; i < o->ninput_shapes && !e; i++) {
    bool found = false;
    for (size_t k = 0; k < sig->n_inputs; k++) found |= !strcmp(in[k].key, o->input_shapes[i].name);
    if (found) continue;
    HloStr s = {0};
    for (size_t k = 0; k < sig->n_inputs; k++)
      hlo_str_printf(&s, "%s'%s'", k ? ", " : "", in[k].key);
    e = hlo_error("a shape is given for '%s', which is not an input of the signature (its "
                  "inputs: %s)",
                  o->input_shapes[i].name, sig->n_inputs ? s.buf : "none");
    free(s.buf);
  }
  cfg->feed = hlo_xcalloc(sig->n_inputs + 1, sizeof *cfg->feed);
  for (size_t i = 0; i < sig->n_inputs && !e; i++) {
    e = check_entry(&in[i], "input");
    Tensorflow__TensorShapeProto *shape = NULL;
    if (!e) e = input_shape(&in[i], o, open_ok, &shape);
    if (e) break;
    Tensorflow__Tf2xla__Feed *f = hlo_xmalloc(sizeof *f);
    tensorflow__tf2xla__feed__init(f);
    f->id = new_id(in[i].info->name);
    f->shape = shape;
    f->name = hlo_xstrdup(in[i].key);
    f->type = in[i].info->dtype;
    cfg->feed[cfg->n_feed++] = f;
  }
  cfg->fetch = hlo_xcalloc(sig->n_outputs + 1, sizeof *cfg->fetch);
  for (size_t i = 0; i < sig->n_outputs && !e; i++) {
    e = check_entry(&res[i], "output");
    if (e) break;
    Tensorflow__Tf2xla__Fetch *f = hlo_xmalloc(sizeof *f);
    tensorflow__tf2xla__fetch__init(f);
    f->id = new_id(res[i].info->name);
    f->name = hlo_xstrdup(res[i].key);
    cfg->fetch[cfg->n_fetch++] = f;
  }
  if (!e && !sig->n_outputs) e = hlo_error("the signature has no outputs");
  free(in);
  free(res);
  if (e) {
    tensorflow__tf2xla__config__free_unpacked(cfg, NULL);
    return e;
  }
  *out = cfg;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Variables through the object graph                                       */
/* ------------------------------------------------------------------------ */

/* match[i]: the checkpoint object of saved object i, or -1.  Both graphs
 * are walked breadth-first from their roots along children of equal
 * local names. */
static int *match_objects(const Tensorflow__SavedObjectGraph *og,
                          const Tensorflow__TrackableObjectGraph *tg) {
  size_t ns = og->n_nodes, nt = tg->n_nodes;
  int *match = hlo_xcalloc(ns + 1, sizeof *match);
  int *queue = hlo_xcalloc(ns + 1, sizeof *queue);
  for (size_t i = 0; i < ns; i++) match[i] = -1;
  size_t head = 0, tail = 0;
  if (ns && nt) {
    match[0] = 0;
    queue[tail++] = 0;
  }
  while (head < tail) {
    int s = queue[head++];
    const Tensorflow__SavedObject *so = og->nodes[s];
    const Tensorflow__TrackableObjectGraph__TrackableObject *to = tg->nodes[match[s]];
    for (size_t c = 0; so && to && c < so->n_children; c++) {
      const Tensorflow__TrackableObjectGraph__TrackableObject__ObjectReference *sc =
          so->children[c];
      if (!sc || sc->node_id < 0 || (size_t)sc->node_id >= ns || match[sc->node_id] >= 0)
        continue;
      for (size_t k = 0; k < to->n_children; k++) {
        const Tensorflow__TrackableObjectGraph__TrackableObject__ObjectReference *tc =
            to->children[k];
        if (tc && tc->node_id >= 0 && (size_t)tc->node_id < nt &&
            !strcmp(tc->local_name, sc->local_name)) {
          match[sc->node_id] = tc->node_id;
          queue[tail++] = sc->node_id;
          break;
        }
      }
    }
  }
  free(queue);
  return match;
}

static const Tensorflow__SavedConcreteFunction *concrete_function(
    const Tensorflow__SavedObjectGraph *og, const char *name) {
  for (size_t i = 0; i < og->n_concrete_functions; i++)
    if (!strcmp(og->concrete_functions[i]->key, name)) return og->concrete_functions[i]->value;
  return NULL;
}

/* The checkpoint key of trackable object t's value, or NULL. */
static const char *value_key(const Tensorflow__TrackableObjectGraph *tg, int t) {
  const Tensorflow__TrackableObjectGraph__TrackableObject *to = tg->nodes[t];
  for (size_t i = 0; to && i < to->n_attributes; i++)
    if (to->attributes[i] && !strcmp(to->attributes[i]->name, "VARIABLE_VALUE"))
      return to->attributes[i]->checkpoint_key;
  return NULL;
}

/* The node a resource edge starts from, looking through Identity. */
static const TfNode *handle_source(const TfInput *in) {
  const TfNode *n = in->node;
  for (int hops = 0; n && hops < 64 && !strcmp(n->op, "Identity") && n->ninputs == 1; hops++)
    n = n->inputs[0].node;
  return n;
}

static HloError *bind_call(const TfGraph *g, const TfNode *call,
                           const Tensorflow__SavedObjectGraph *og,
                           const Tensorflow__TrackableObjectGraph *tg, const int *match,
                           HloArena *arena, const char **keys) {
  const Tensorflow__AttrValue *f = tf_attr_find(call, "f");
  if (!f || f->value_case != TENSORFLOW__ATTR_VALUE__VALUE_FUNC || !f->func) return NULL;
  const Tensorflow__SavedConcreteFunction *cf = concrete_function(og, f->func->name);
  if (!cf || !cf->n_bound_inputs) return NULL;
  size_t nb = cf->n_bound_inputs;
  if (nb > (size_t)call->ninputs)
    return tf_node_error(call, "function '%s' captures %zu inputs, but the node passes %d",
                         f->func->name, nb, call->ninputs);
  for (size_t k = 0; k < nb; k++) {
    int obj = cf->bound_inputs[k];
    const TfNode *h = handle_source(&call->inputs[call->ninputs - (int)nb + (int)k]);
    if (!h || obj < 0 || (size_t)obj >= og->n_nodes || !og->nodes[obj] ||
        og->nodes[obj]->kind_case != TENSORFLOW__SAVED_OBJECT__KIND_VARIABLE)
      continue; /* a captured constant or resource: not a variable */
    if (match[obj] < 0) continue;
    const char *key = value_key(tg, match[obj]);
    if (!key) continue;
    const char *had = keys[h->id];
    if (had && strcmp(had, key))
      return tf_node_error(h, "the object graph binds the variable to two checkpoint "
                              "values, '%s' and '%s'",
                           had, key);
    keys[h->id] = hlo_arena_strdup(arena, key);
  }
  return NULL;
}

HloError *tf_saved_model_variable_keys(const TfGraph *g, const Tensorflow__MetaGraphDef *mg,
                                       const uint8_t *trackable, size_t len, HloArena *arena,
                                       const char ***out) {
  const char **keys = hlo_arena_alloc(arena, sizeof *keys * ((size_t)g->nnodes + 1));
  memset(keys, 0, sizeof *keys * ((size_t)g->nnodes + 1));
  *out = keys;
  const Tensorflow__SavedObjectGraph *og = mg->object_graph_def;
  if (!og || !og->n_nodes || !trackable) return NULL;
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_binary(&tensorflow__trackable_object_graph__descriptor, trackable,
                                      len, "the checkpoint's object graph", &m);
  if (e) return e;
  Tensorflow__TrackableObjectGraph *tg = (Tensorflow__TrackableObjectGraph *)m;
  int *match = match_objects(og, tg);
  for (int i = 0; i < g->nnodes && !e; i++) {
    const TfNode *n = &g->nodes[i];
    if (!strcmp(n->op, "StatefulPartitionedCall") || !strcmp(n->op, "PartitionedCall"))
      e = bind_call(g, n, og, tg, match, arena, keys);
  }
  free(match);
  tensorflow__trackable_object_graph__free_unpacked(tg, NULL);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/* Binds g's variables to DIR/variables/variables, when g has any. */
static HloError *bind_variables(TfGraph *g, const Tensorflow__MetaGraphDef *mg, const char *dir) {
  bool any = false;
  for (int i = 0; i < g->norder; i++) any |= tf_is_variable_op(g->order[i]->op);
  if (!any) return NULL;
  char *prefix = join(dir, "variables/variables");
  TfBundle *b;
  HloError *e = tf_bundle_open(prefix, &b);
  if (e) {
    free(prefix);
    return e;
  }
  const uint8_t *trackable = NULL;
  size_t len = 0;
  const TfBundleEntry *te = tf_bundle_find(b, "_CHECKPOINTABLE_OBJECT_GRAPH");
  if (te) e = tf_bundle_read_string(b, te, g->arena, &trackable, &len);
  const char **keys = NULL;
  if (!e) e = tf_saved_model_variable_keys(g, mg, trackable, len, g->arena, &keys);
  if (!e) e = tf_graph_bind_bundle(g, b, prefix, keys);
  tf_bundle_free(b);
  free(prefix);
  return e;
}

HloError *tf_saved_model_load(const char *dir, const char *config_path,
                              const TfSavedModelOptions *o, TfGraph **out) {
  static const TfSavedModelOptions defaults;
  if (!o) o = &defaults;
  *out = NULL;
  Tensorflow__SavedModel *sm;
  HloError *e = tf_saved_model_read(dir, &sm);
  if (e) return e;
  Tensorflow__MetaGraphDef *mg = NULL;
  const Tensorflow__SignatureDef *sig = NULL;
  Tensorflow__Tf2xla__Config *cfg = NULL;
  e = tf_saved_model_meta_graph(sm, dir, o->tags, &mg);
  if (!e && !mg->graph_def) e = hlo_error("%s: the meta graph has no graph", dir);
  if (!e && config_path) {
    if (o->signature || o->ninput_shapes)
      e = hlo_error("%s: a config names the feeds and fetches; it cannot go with a signature "
                    "or input shapes",
                    dir);
    if (!e) e = tf_config_read(config_path, &cfg);
  } else if (!e) {
    e = tf_saved_model_signature(mg, dir, o->signature, &sig);
    if (!e) {
      e = tf_saved_model_config(sig, o, false, &cfg);
      if (e)
        e = hlo_error_wrap(e, "%s: signature '%s'", dir,
                           o->signature ? o->signature : DEFAULT_SIGNATURE);
    }
  }
  TfGraph *g = NULL;
  if (!e) {
    /* The graph view takes the GraphDef and the config. */
    Tensorflow__GraphDef *gd = mg->graph_def;
    mg->graph_def = NULL;
    e = tf_graph_new(gd, cfg, &g);
    cfg = NULL;
    if (e) e = hlo_error_wrap(e, "%s", dir);
  }
  if (!e) e = bind_variables(g, mg, dir);
  if (cfg) tensorflow__tf2xla__config__free_unpacked(cfg, NULL);
  tensorflow__saved_model__free_unpacked(sm, NULL);
  if (e) {
    tf_graph_free(g);
    return e;
  }
  *out = g;
  return NULL;
}
