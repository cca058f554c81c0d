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

void model_free(Model *md) {
  hlo_module_free(md->m);
  for (int i = 0; i < md->nfeeds; i++) free(md->feeds[i]);
  for (int i = 0; i < md->nfetches; i++) free(md->fetches[i]);
  free(md->feeds);
  free(md->fetches);
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
  char *r = strdup(s);
  HLO_CHECK(r);
  return r;
}

HloError *pipeline_load_graph(TfGraph *g, Model *md) {
  memset(md, 0, sizeof *md);
  HloError *e = tf_import(g, "model", &md->m);
  if (!e) {
    md->nfeeds = g->nfeeds;
    md->feeds = new_names(g->nfeeds);
    for (int i = 0; i < g->nfeeds; i++) md->feeds[i] = copy(g->feeds[i].name);
    md->nfetches = g->nfetches;
    md->fetches = new_names(g->nfetches);
    for (int i = 0; i < g->nfetches; i++) md->fetches[i] = copy(g->fetches[i].name);
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

HloError *pipeline_load_file(const char *path, const char *config, Model *md) {
  memset(md, 0, sizeof *md);
  if (has_suffix(path, ".pb") || has_suffix(path, ".pbtxt")) {
    if (!config)
      return hlo_error("%s: a TensorFlow GraphDef needs its tfcompile config (--config "
                       "FILE.pbtxt) to know the feeds and fetches",
                       path);
    TfGraph *g = NULL;
    HloError *e = tf_graph_load(path, config, &g);
    return e ? e : pipeline_load_graph(g, md);
  }
  if (!has_suffix(path, ".hlo") && !has_suffix(path, ".txt"))
    return hlo_error("%s: unknown model format (expected HLO text '.hlo', or a TensorFlow "
                     "GraphDef '.pb'/'.pbtxt' with --config)",
                     path);
  if (config) return hlo_error("%s: --config applies to TensorFlow GraphDefs only", path);
  return pipeline_load_hlo_file(path, md);
}

/* mkdir -p: the pass pipeline writes its dumps into an existing directory. */
static HloError *make_dirs(const char *dir) {
  char *path = strdup(dir);
  HLO_CHECK(path);
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
  r.one_slot_per_value |= md->unoptimized;
  return r;
}

HloError *pipeline_codegen(const Model *md, const CgOptions *o, CgProgram **out) {
  CgOptions n = named(md, o);
  return cg_compile(md->m, &n, out);
}

HloError *pipeline_emit_mlir(const Model *md, const CgOptions *o, char **mlir) {
  CgOptions n = named(md, o);
  return cg_emit_mlir(md->m, &n, mlir);
}

HloError *pipeline_emit_kir(const Model *md, const CgOptions *o, char **text) {
  CgOptions n = named(md, o);
  return cg_emit_kir(md->m, &n, text);
}
