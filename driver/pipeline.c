/*
 * pipeline.c — load → verify → passes → codegen, once for the `hloc`
 * command and libhloc alike (pipeline.h).
 *
 * Every loader ends in verification, whatever the source (tf_import
 * verifies what it lowers; HLO text is verified here, so that the error
 * names the file), so a module reaches the passes (or, with --O0, codegen)
 * only once it is known to be well formed.  The passes run by default:
 * the command and the library compile the same code for the same model,
 * and --O0 exists to compare against, or to look at, the unoptimized
 * module.
 *
 * Statistics are taken after the passes, on the module codegen receives;
 * they come from passes/ (pass_stats), so the numbers of `--stats`,
 * docs/passes.md and test_driver_stats are one computation.
 */
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "passes.h"

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

bool pipeline_entry_is_dynamic(const HloComputation *entry) {
  for (int p = 0; p < entry->nparams; p++)
    if (hlo_shape_is_dynamic(&entry->params[p]->shape)) return true;
  return hlo_shape_is_dynamic(&entry->root->shape);
}

void pipeline_shape_leaves(const HloShape *s, HloShape *out, int *n) {
  if (!hlo_shape_is_tuple(s)) {
    if (out) out[*n] = *s;
    (*n)++;
    return;
  }
  for (int i = 0; i < s->ntuple; i++) pipeline_shape_leaves(&s->tuple[i], out, n);
}

void model_free(Model *md) {
  hlo_module_free(md->m);
  for (int i = 0; i < md->nfeeds; i++) {
    free(md->feeds[i]);
    if (md->feed_tf_names) free(md->feed_tf_names[i]);
  }
  for (int i = 0; i < md->nfetches; i++) {
    free(md->fetches[i]);
    if (md->fetch_tf_names) free(md->fetch_tf_names[i]);
  }
  free(md->feeds);
  free(md->fetches);
  free(md->feed_tf_names);
  free(md->fetch_tf_names);
  memset(md, 0, sizeof *md);
}

/* Keeps md's parsed module once it verifies; `what` prefixes the
 * verifier's message.  On failure md is left empty. */
static HloError *adopt_verified(Model *md, const char *what) {
  HloError *e = hlo_verify(md->m);
  if (!e) return NULL;
  model_free(md);
  return hlo_error_wrap(e, "%s", what);
}

static char **new_names(int n) {
  char **v = hlo_xcalloc((size_t)n + 1, sizeof *v);
  return v;
}

static char *copy(const char *s) {
  return hlo_xstrdup(s);
}

/* "NODE:INDEX", or NULL without a node (a function's argument). */
static char *tensor_name(const TfNode *node, int index) {
  if (!node) return NULL;
  HloStr s = {0};
  hlo_str_printf(&s, "%s:%d", node->name, index);
  return hlo_str_take(&s);
}

/* The tensor a fetch reads: its producer's output, or the feed it reads. */
static char *fetch_tensor(const TfGraph *g, const TfFetch *f) {
  if (f->value.feed >= 0) {
    const TfFeed *fd = &g->feeds[f->value.feed];
    return tensor_name(fd->node, fd->variable ? 0 : fd->index);
  }
  return tensor_name(f->value.node, f->value.index);
}

HloError *pipeline_load_graph(TfGraph *g, Model *md) {
  memset(md, 0, sizeof *md);
  HloError *e = tf_import_consuming(g, "model", &md->m);
  if (!e) {
    md->nfeeds = g->nfeeds;
    md->feeds = new_names(g->nfeeds);
    md->feed_tf_names = new_names(g->nfeeds);
    for (int i = 0; i < g->nfeeds; i++) {
      md->feeds[i] = copy(g->feeds[i].name);
      md->feed_tf_names[i] =
          tensor_name(g->feeds[i].node, g->feeds[i].variable ? 0 : g->feeds[i].index);
    }
    /* The results: the fetches, then each read-write variable's new value
     * (named after the variable) that the module writes back. */
    md->nfetches = g->nfetches + md->m->nalias;
    md->fetches = new_names(md->nfetches);
    md->fetch_tf_names = new_names(md->nfetches);
    for (int i = 0; i < g->nfetches; i++) {
      md->fetches[i] = copy(g->fetches[i].name);
      md->fetch_tf_names[i] = fetch_tensor(g, &g->fetches[i]);
    }
    for (int i = 0; i < md->m->nalias; i++) {
      const TfFeed *v = &g->feeds[md->m->alias[i].param];
      md->fetches[md->m->alias[i].result] = copy(v->name);
      md->fetch_tf_names[md->m->alias[i].result] = tensor_name(v->node, 0);
    }
  }
  tf_graph_free(g);
  return e;
}

HloError *pipeline_load_hlo_text(const char *text, size_t len, const char *filename, Model *md) {
  memset(md, 0, sizeof *md);
  HloError *e = hlo_parse(text, len, filename, &md->m);
  return e ? e : adopt_verified(md, filename);
}

HloError *pipeline_load_hlo_file(const char *path, Model *md) {
  memset(md, 0, sizeof *md);
  HloError *e = hlo_parse_file(path, &md->m);
  return e ? e : adopt_verified(md, path);
}

/* Options that apply to another kind of model than `path` is. */
static HloError *check_source(const char *path, const ModelSource *src, bool graphdef,
                              bool saved) {
  const char *bad = !graphdef && !saved && src->config       ? "--config"
                    : !graphdef && src->checkpoint          ? "--checkpoint"
                    : !saved && src->saved.tags             ? "--tag"
                    : !saved && src->saved.signature        ? "--signature"
                    : !saved && src->saved.ninput_shapes    ? "--input-shape"
                                                            : NULL;
  if (!bad) return NULL;
  const char *kind = graphdef ? "a TensorFlow GraphDef" : saved ? "a SavedModel" : "HLO text";
  const char *applies = !strcmp(bad, "--config")       ? "TensorFlow GraphDefs and SavedModels"
                        : !strcmp(bad, "--checkpoint") ? "TensorFlow GraphDefs"
                                                       : "SavedModels";
  return hlo_error("%s: %s applies to %s; this is %s", path, bad, applies, kind);
}

/* Model formats hloc does not read, recognised by their first bytes (or,
 * for ONNX, a protobuf with the name's suffix), with what to do instead;
 * NULL for anything else. */
static HloError *foreign_format(const char *path) {
  unsigned char head[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  static const char export_hint[] =
      "export a SavedModel (Keras: model.export(DIR); TensorFlow: tf.saved_model.save(obj, "
      "DIR)) or a frozen GraphDef, and compile that";
  if (n >= 8 && !memcmp(head, "\x89HDF\r\n\x1a\n", 8))
    return hlo_error("%s: a Keras HDF5 model (.h5), which hloc does not read: load it with "
                     "keras.models.load_model, then %s",
                     path, export_hint);
  if (n >= 4 && !memcmp(head, "PK\x03\x04", 4))
    return hlo_error("%s: a zip archive (a Keras '.keras' model?), which hloc does not read: "
                     "load it with keras.models.load_model, then %s",
                     path, export_hint);
  if (n >= 8 && !memcmp(head + 4, "TFL3", 4))
    return hlo_error("%s: a TensorFlow Lite flatbuffer (.tflite), which hloc does not read: "
                     "compile the SavedModel or GraphDef it was converted from",
                     path);
  if (has_suffix(path, ".onnx"))
    return hlo_error("%s: an ONNX model, which hloc does not read: compile the TensorFlow "
                     "model it came from (a SavedModel or a frozen GraphDef)",
                     path);
  return NULL;
}

/* What a file holds, by its first bytes, for names whose extension does
 * not say (.pb, .pbtxt, .hlo).  After blank lines and '#' comments, HLO
 * text starts with "HloModule", a text GraphDef with one of GraphDef's
 * fields (node, library, versions, version); a binary GraphDef starts with
 * the tag of one of those (fields 1, 2, 4 and 3, length-delimited or, for
 * version, a varint) and holds bytes no text has. */
typedef enum { CONTENT_UNKNOWN, CONTENT_HLO, CONTENT_GRAPHDEF } Content;

static Content sniff(const char *path) {
  char head[512];
  FILE *f = fopen(path, "rb");
  if (!f) return CONTENT_UNKNOWN;
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  head[n] = '\0';
  bool binary = false;
  for (size_t i = 0; i < n; i++)
    binary |= (unsigned char)head[i] < 0x09 || ((unsigned char)head[i] > 0x0d &&
                                                 (unsigned char)head[i] < 0x20);
  unsigned char first = n ? (unsigned char)head[0] : 0;
  if (binary)
    return first == 0x0a || first == 0x12 || first == 0x22 || first == 0x18 ? CONTENT_GRAPHDEF
                                                                            : CONTENT_UNKNOWN;
  const char *p = head;
  for (;;) {
    p += strspn(p, " \t\r\n");
    if (*p != '#') break;
    p += strcspn(p, "\n");
  }
  size_t word = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_");
  if (word == 9 && !strncmp(p, "HloModule", 9)) return CONTENT_HLO;
  static const char *const fields[] = {"node", "library", "versions", "version"};
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    if (word == strlen(fields[i]) && !strncmp(p, fields[i], word) &&
        strchr(" \t{:", p[word]) && p[word])
      return CONTENT_GRAPHDEF;
  return CONTENT_UNKNOWN;
}

bool pipeline_is_graphdef(const char *path) {
  if (has_suffix(path, ".pb") || has_suffix(path, ".pbtxt")) return true;
  return !has_suffix(path, ".hlo") && !tf_is_saved_model(path) && sniff(path) == CONTENT_GRAPHDEF;
}

HloError *pipeline_load_file(const char *path, const ModelSource *src, Model *md) {
  static const ModelSource none;
  if (!src) src = &none;
  memset(md, 0, sizeof *md);
  bool saved = tf_is_saved_model(path);
  bool graphdef = !saved && (has_suffix(path, ".pb") || has_suffix(path, ".pbtxt"));
  Content content = saved || graphdef || has_suffix(path, ".hlo") ? CONTENT_UNKNOWN : sniff(path);
  graphdef |= content == CONTENT_GRAPHDEF;
  struct stat st;
  if (!saved && !stat(path, &st) && S_ISDIR(st.st_mode))
    return hlo_error("%s: a directory, but not a SavedModel (it holds no saved_model.pb)", path);
  bool hlo = !saved && !graphdef && (has_suffix(path, ".hlo") || content == CONTENT_HLO);
  HloError *e = saved || graphdef ? NULL : foreign_format(path);
  if (!e && !saved && !graphdef && !hlo)
    e = hlo_error("%s: unknown model format (expected HLO text '.hlo', a TensorFlow "
                  "GraphDef '.pb'/'.pbtxt' with --config, or a SavedModel directory; "
                  "other names are recognised by their content)",
                  path);
  if (!e) e = check_source(path, src, graphdef, saved);
  if (e) return e;
  TfGraph *g = NULL;
  if (saved) {
    e = tf_saved_model_load(path, src->config, &src->saved, &g);
    return e ? e : pipeline_load_graph(g, md);
  }
  if (graphdef) {
    if (!src->config)
      return hlo_error("%s: a TensorFlow GraphDef needs its tfcompile config (--config "
                       "FILE.pbtxt) to know the feeds and fetches",
                       path);
    e = tf_graph_load(path, src->config, &g);
    if (!e && src->checkpoint) e = tf_graph_bind_checkpoint(g, src->checkpoint, NULL);
    if (e) {
      tf_graph_free(g);
      return e;
    }
    return pipeline_load_graph(g, md);
  }
  return pipeline_load_hlo_file(path, md);
}

/* mkdir -p: the pass pipeline writes its dumps into an existing directory. */
static HloError *make_dirs(const char *dir) {
  char *path = hlo_xstrdup(dir);
  HloError *e = NULL;
  for (char *p = path + 1;; p++) {
    bool last = !*p;
    if (*p != '/' && !last) continue;
    *p = '\0';
    if (mkdir(path, 0777) && errno != EEXIST) {
      e = hlo_error("--dump-dir %s: %s: %s", dir, path, strerror(errno));
      break;
    }
    if (last) break;
    *p = '/';
  }
  struct stat st;
  if (!e && (stat(dir, &st) || !S_ISDIR(st.st_mode)))
    e = hlo_error("--dump-dir %s: not a directory", dir);
  free(path);
  return e;
}

static HloError *print_stats(FILE *f, const HloModule *m, const PassPolicy *policy) {
  PassStats s;
  HloError *e = pass_stats(m, policy, &s);
  if (!e) pass_stats_print(f, &s);
  return e;
}

HloError *pipeline_optimize(Model *md, const PipelineOptions *o, const CgOptions *cg) {
  static const PipelineOptions defaults;
  if (!o) o = &defaults;
  HLO_CHECK(md->m && !md->ready);
  PassPolicy policy;
  HloError *e = cg_pass_policy(cg, &policy);
  if (!e && !o->no_passes) {
    PassOptions po = {
        .dump_after = o->dump_after,
        .dump_dir = o->dump_dir ? o->dump_dir : "hloc-dump",
        .disabled = o->disabled,
        .ndisabled = o->ndisabled,
        .timing = o->timing,
        .policy = &policy,
    };
    if (po.dump_after) e = make_dirs(po.dump_dir);
    if (!e) e = pass_run_pipeline(md->m, &po);
    /* Folding rewrote weights into new constants (batch norm scales, layout
     * changes): their originals would go on taking as much memory. */
    if (!e) hlo_module_release_dead_literals(md->m);
  } else if (!e && pass_single_device(md->m)) {
    /* --O0 still lowers collectives, tokens and async pairs to the plain
     * HLO they compute on one device: codegen has no kernels for them. */
    e = hlo_verify(md->m);
    if (e) e = hlo_error_wrap(e, "after lowering to one device");
  }
  if (!e && o->stats) e = print_stats(o->stats, md->m, &policy);
  md->ready = !e;
  md->unoptimized = o->no_passes;
  return e;
}

/* o, with the model's feeds and fetches as the names. */
static CgOptions named(const Model *md, const CgOptions *o) {
  HLO_CHECK(md->ready);
  CgOptions r = *o;
  r.arg_names = (const char *const *)md->feeds;
  r.narg_names = md->nfeeds;
  r.result_names = (const char *const *)md->fetches;
  r.nresult_names = md->nfetches;
  r.arg_tf_names = (const char *const *)md->feed_tf_names;
  r.result_tf_names = (const char *const *)md->fetch_tf_names;
  r.one_slot_per_value |= md->unoptimized;
  return r;
}

HloError *pipeline_codegen(const Model *md, const CgOptions *o, CgProgram **out) {
  CgOptions n = named(md, o);
  return cg_compile(md->m, &n, out);
}

HloError *pipeline_compile(Model *md, const CgOptions *o, CgProgram **out) {
  CgOptions n = named(md, o);
  HloError *e = cg_program_build_consuming(md->m, &n, out);
  model_free(md);
  if (!e) e = cg_program_lower(*out);
  if (e) {
    cg_program_free(*out);
    *out = NULL;
  }
  return e;
}

HloError *pipeline_emit_mlir(const Model *md, const CgOptions *o, char **mlir) {
  CgOptions n = named(md, o);
  return cg_emit_mlir(md->m, &n, mlir);
}

HloError *pipeline_emit_kir(const Model *md, const CgOptions *o, char **text) {
  CgOptions n = named(md, o);
  return cg_emit_kir(md->m, &n, text);
}
