/*
 * main.c — the `hloc` command.
 *
 *   hloc compile MODEL [--config CFG] [--name N] [-o PREFIX] [--target T]
 *                [--cpu C] [--features F] [--emit obj,header,lib,so,exe,cpp]
 *                [--gpu-tf32] [PIPELINE]
 *   hloc run MODEL [--config CFG] [--interpret] [--cpu C] [--features F]
 *            [--threads N] [--input [NAME=]FILE.npy]... [--output-dir DIR] [--print]
 *            [--expect FILE.npy]... [--atol A] [--rtol R] [--timeout SECONDS]
 *            [--max-iterations N] [--profile] [--device cpu|cuda] [--gpu-tf32]
 *            [PIPELINE]
 *   hloc dump MODEL [--config CFG] [--stage S] [-o FILE] [--name N]
 *             [--target T] [--cpu C] [--features F] [--gpu-tf32] [PIPELINE]
 *   hloc inspect MODEL [--tag TAGS] [--signature KEY] [--config-template]
 *   hloc ops [--markdown]
 *   hloc version
 *
 *   PIPELINE: [--O0 | --no-passes] [--dump-after PASS|all] [--dump-dir DIR]
 *             [--disable-pass NAME]... [--time-passes] [--stats] [-v]
 *             [--conv-precision exact|fast]
 *
 * MODEL is HLO text (.hlo), a TensorFlow GraphDef (.pb, .pbtxt) with a
 * tfcompile config (--config) and, for its variables, a checkpoint
 * (--checkpoint), or a SavedModel directory (--tag, --signature,
 * --input-shape select and complete its signature).  Every command takes the model through the
 * one pipeline of pipeline.c (load, verify, the passes unless --O0, then
 * codegen or the interpreter), the pipeline libhloc uses; for a GraphDef
 * the config's feed and fetch names name the compiled function's arguments
 * and results.  `compile` lives in compile.c, `dump` in dump.c; the
 * pipeline options, shared by the three, are parsed here.
 *
 * `run` compiles the model in process (cg_compile, cg_jit) and runs it
 * through its hloc_program descriptor, or evaluates it with the reference
 * interpreter (--interpret); both then share everything else.  --threads N
 * runs the compiled code's parallel loops on a runtime pool of N threads,
 * installed as the calling thread's pool (hloc_use_thread_pool), as libhloc
 * does: the JIT resolves the code's rt_parallel_for to this binary's
 * runtime.  Inputs bind by the runtime's naming rules (hloc_buffers_find:
 * the descriptor's name, the TensorFlow name, the position), which the
 * executables, libhloc and Python share.  Results are
 * written as one .npy per result into DIR (default "."), named as the
 * descriptor names them (cg_buffer_names): for a GraphDef,
 * FETCH.npy named after each config fetch, then VAR.npy with the value
 * each read-write config variable ends with; for HLO, a tuple root gives
 * result0.npy, result1.npy, … (nested tuples flattened depth first, as the
 * compiled program and libhloc name them) and an array
 * root result0.npy.  The results are one set of output.c's outputs: written
 * under temporary names and renamed together once all are written, so a
 * failure leaves none of them (nor the directory, when the run made it).
 * --timeout and --max-iterations bound the run (bound.c).  --profile runs
 * the code through its profiled entry with the runtime's profiler
 * (hloc_profile_run) and prints the per-kernel table to stdout; with
 * --device cuda the runtime times each kernel on the GPU with CUDA events
 * and stops a timed-out run before its next launch or copy.  Compiled
 * code for a CPU feature this CPU lacks is refused before it runs
 * (hloc_program_check_cpu).
 *
 * Exit status: 0 on success, 1 when the model, an input or an output is
 * rejected, 2 for a usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "cli.h"
#include "codegen.h"
#include "frontend.h"
#include "hlo.h"
#include "literal_io.h"
#include "output.h"
#include "passes.h"

int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "hloc: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nrun 'hloc help' for usage\n");
  return EXIT_USAGE;
}

int report(HloError *e) {
  fprintf(stderr, "hloc: error: %s\n", hlo_error_message(e));
  hlo_error_free(e);
  return EXIT_FAILURE;
}

bool is_identifier(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_'))
      return false;
  return true;
}

/* usage_error with the command's name put in front of fmt. */
static int command_error(const char *cmd, const char *fmt, const char *arg) {
  char full[256];
  snprintf(full, sizeof full, "%s: %s", cmd, fmt);
  return usage_error(full, arg);
}

/* Memory the parsed command line points into, kept for the life of the
 * process (and reachable from here, so not a leak). */
static void **kept;
static size_t nkept;

static void *keep(void *p) {
  kept = hlo_xrealloc(kept, (nkept + 1) * sizeof *kept);
  kept[nkept++] = p;
  return p;
}

/* The options every command that takes a model shares (pipeline_flag):
 * those taking a value, then the flags. */
static const char *const shared_valued[] = {"--config",     "--checkpoint",  "--tag",
                                            "--signature",  "--input-shape", "--dump-after",
                                            "--dump-dir",   "--disable-pass",
                                            "--conv-precision", NULL};
static const char *const shared_flags[] = {"--O0",    "--no-passes",      "--time-passes",
                                           "--stats", "--verify-kernels", "--verbose",
                                           NULL};

/* The edit distance of a and b (hlo_edit_distance). */
static int distance(const char *a, const char *b) {
  return hlo_edit_distance(a, strlen(a), b, strlen(b));
}

/* "unknown option 'X'", with the closest known option when one is near. */
static int unknown_option(const char *cmd, const char *a, const CliOption *options) {
  const char *best = NULL;
  int bestd = 3; /* at most two edits away */
  for (const CliOption *o = options; o->name; o++)
    if (distance(a, o->name) < bestd) bestd = distance(a, best = o->name);
  for (const char *const *p = shared_valued; *p; p++)
    if (distance(a, *p) < bestd) bestd = distance(a, best = *p);
  for (const char *const *p = shared_flags; *p; p++)
    if (distance(a, *p) < bestd) bestd = distance(a, best = *p);
  if (!best) return command_error(cmd, "unknown option '%s'", a);
  char msg[96];
  snprintf(msg, sizeof msg, "unknown option '%%s' (did you mean '%.40s'?)", best);
  return command_error(cmd, msg, a);
}

static bool in_list(const char *const *list, const char *name) {
  for (; *list; list++)
    if (!strcmp(*list, name)) return true;
  return false;
}

int cli_parse(const char *cmd, int argc, char **argv, const CliOption *options, void *ctx,
              PipelineFlags *flags, const char **model) {
  *model = NULL;
  /* --opt=value is --opt value: split such arguments first (argv may be
   * rewritten; the pieces live as long as the process). */
  char **args = keep(hlo_xcalloc((size_t)argc * 2 + 1, sizeof *args));
  int nargs = 0;
  for (int i = 0; i < argc; i++) {
    char *eq = argv[i][0] == '-' && argv[i][1] == '-' ? strchr(argv[i], '=') : NULL;
    if (!eq) {
      args[nargs++] = argv[i];
      continue;
    }
    size_t n = (size_t)(eq - argv[i]);
    char *name = keep(hlo_xmalloc(n + 1));
    memcpy(name, argv[i], n);
    name[n] = '\0';
    const CliOption *o = options;
    while (o->name && strcmp(o->name, name)) o++;
    if ((o->name && o->flag) || in_list(shared_flags, name)) {
      return command_error(cmd, "option '%s' takes no value", name);
    }
    args[nargs++] = name;
    args[nargs++] = eq + 1;
  }
  argc = nargs;
  argv = args;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int bad = 0;
    if (pipeline_flag(argc, argv, &i, flags, &bad)) {
      if (bad) return bad;
      continue;
    }
    if (a[0] != '-') {
      if (*model) return command_error(cmd, "more than one model given ('%s')", a);
      *model = a;
      continue;
    }
    const CliOption *o = options;
    while (o->name && strcmp(o->name, a)) o++;
    if (!o->name) return unknown_option(cmd, a, options);
    if (o->flag) {
      *o->flag = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error("%s needs a value", a);
    const char *v = argv[++i];
    if (o->slot) *o->slot = v;
    else if ((bad = o->take(a, v, ctx))) return bad;
  }
  return *model ? 0 : command_error(cmd, "no model given%s", "");
}

/* --- pipeline options ---------------------------------------------------- */

/* "inline, tuple-simplify, …" (malloc'd). */
static char *pass_list(void) {
  HloStr s = {0};
  for (const char *const *p = pass_names(); *p; p++)
    hlo_str_printf(&s, "%s%s", p == pass_names() ? "" : ", ", *p);
  return hlo_str_take(&s);
}

static int unknown_pass(const char *option, const char *name, const char *extra) {
  char *list = pass_list();
  HloStr msg = {0};
  hlo_str_printf(&msg, "%s: unknown pass '%s' (passes: %s%s)", option, name, list, extra);
  int rc = usage_error("%s", msg.buf);
  free(msg.buf);
  free(list);
  return rc;
}

/* --input-shape NAME=D,D,... (NAME= alone: a scalar) into f's sources. */
static int input_shape_flag(PipelineFlags *f, const char *v) {
  const char *eq = strrchr(v, '=');
  if (!eq || eq == v)
    return usage_error("--input-shape '%s': expected NAME=D,D,... (e.g. input=1,224,224,3)", v);
  TfSavedModelOptions *o = &f->source.saved;
  if (o->ninput_shapes == MODEL_MAX_INPUT_SHAPES)
    return usage_error("--input-shape '%s': too many input shapes", v);
  TfInputShape *s = &f->source.shapes[o->ninput_shapes];
  memset(s, 0, sizeof *s);
  for (const char *p = eq + 1; *p;) {
    char *end;
    errno = 0;
    long long d = strtoll(p, &end, 10);
    if (end == p || d < 0 || errno || (*end && *end != ',') || s->rank == HLO_MAX_RANK)
      return usage_error("--input-shape '%s': dimensions are whole numbers >= 0, at most 12, "
                         "separated by commas",
                         v);
    s->dims[s->rank++] = d;
    p = *end ? end + 1 : end;
    if (*end && !*p) return usage_error("--input-shape '%s': a trailing comma", v);
  }
  size_t n = (size_t)(eq - v);
  char *name = keep(hlo_xmalloc(n + 1));
  memcpy(name, v, n);
  name[n] = '\0';
  for (int k = 0; k < o->ninput_shapes; k++)
    if (!strcmp(f->source.shapes[k].name, name))
      return usage_error("--input-shape: input '%s' is given twice", f->source.shapes[k].name);
  s->name = name;
  o->input_shapes = f->source.shapes;
  o->ninput_shapes++;
  return 0;
}

bool pipeline_flag(int argc, char **argv, int *i, PipelineFlags *f, int *bad) {
  const char *a = argv[*i], *v;
  static const char *const sources[] = {"--config", "--checkpoint", "--tag", "--signature",
                                        "--input-shape"};
  for (size_t k = 0; k < sizeof sources / sizeof *sources; k++) {
    if (strcmp(a, sources[k])) continue;
    if (!(v = *i + 1 < argc ? argv[++*i] : NULL)) *bad = usage_error("%s needs a value", a);
    else if (k == 0) f->source.config = v;
    else if (k == 1) f->source.checkpoint = v;
    else if (k == 2) f->source.saved.tags = v;
    else if (k == 3) f->source.saved.signature = v;
    else *bad = input_shape_flag(f, v);
    return true;
  }
  if (!strcmp(a, "--O0") || !strcmp(a, "--no-passes")) {
    f->opts.no_passes = true;
    return true;
  }
  if (!strcmp(a, "--time-passes")) {
    f->opts.timing = stderr;
    return true;
  }
  if (!strcmp(a, "--stats")) {
    f->stats = true;
    return true;
  }
  if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
    f->verbose = stderr;
    return true;
  }
  if (!strcmp(a, "--verify-kernels")) {
    f->verify_kernels = true;
    return true;
  }
  if (!strcmp(a, "--conv-precision")) {
    if (!(v = *i + 1 < argc ? argv[++*i] : NULL)) *bad = usage_error("%s needs a value", a);
    else if (!strcmp(v, "exact") || !strcmp(v, "fast")) f->exact_conv = !strcmp(v, "exact");
    else *bad = usage_error("--conv-precision '%s': the precisions are exact and fast", v);
    return true;
  }
  if (strcmp(a, "--dump-after") && strcmp(a, "--dump-dir") && strcmp(a, "--disable-pass"))
    return false;
  if (!(v = *i + 1 < argc ? argv[++*i] : NULL)) {
    *bad = usage_error("%s needs a value", a);
  } else if (!strcmp(a, "--dump-dir")) {
    f->opts.dump_dir = v;
  } else if (!strcmp(a, "--dump-after")) {
    if (strcmp(v, "all") && !pass_name_is_known(v)) *bad = unknown_pass(a, v, ", or all");
    f->opts.dump_after = v;
  } else if (!pass_name_is_known(v)) {
    *bad = unknown_pass(a, v, "");
  } else {
    int n = f->opts.ndisabled, k = 0;
    while (k < n && strcmp(f->disabled[k], v)) k++;
    HLO_CHECK(k < (int)(sizeof f->disabled / sizeof *f->disabled));
    if (k == n) f->disabled[f->opts.ndisabled++] = v;
    f->opts.disabled = f->disabled;
  }
  return true;
}

int pipeline_flags_finish(PipelineFlags *f, FILE *stats, CgOptions *cg) {
  const PipelineOptions *o = &f->opts;
  const char *needs_passes = o->dump_after    ? "--dump-after"
                             : o->ndisabled   ? "--disable-pass"
                             : o->timing      ? "--time-passes"
                                              : NULL;
  if (o->no_passes && needs_passes)
    return usage_error("%s needs the pass pipeline, which --O0 turns off", needs_passes);
  if (o->dump_dir && !o->dump_after) return usage_error("--dump-dir needs --dump-after%s", "");
  f->opts.stats = f->stats ? stats : NULL;
  cg->verify_kernels = f->verify_kernels;
  cg->exact_winograd = f->exact_conv;
  cg->timing = o->timing ? o->timing : f->verbose;
  return 0;
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_clock_start(CliClock *c, const PipelineFlags *f) {
  c->out = f->verbose;
  c->since = seconds_now();
}

void cli_stage(CliClock *c, const char *fmt, const char *arg) {
  if (!c->out) return;
  double t = seconds_now();
  char what[512];
  snprintf(what, sizeof what, fmt, arg);
  fprintf(c->out, "hloc: %-40s %10.1f ms\n", what, (t - c->since) * 1e3);
  c->since = t;
}

/* --- run ---------------------------------------------------------------- */

typedef struct RunInput {
  const char *name; /* NULL: positional */
  const char *path;
} RunInput;

/* The arrays a model takes, in order: each entry parameter, or each leaf
 * of a tuple-shaped one, named as the compiled function names its
 * arguments (NAME_0, NAME_1_0, …: codegen/legalize.c), an array parameter
 * with the TensorFlow name of its feed. */
typedef struct ArgLeaf {
  char *name;
  const char *tf_name; /* the Model's; NULL for tuple leaves and HLO */
  const HloShape *shape;
} ArgLeaf;

static void arg_leaves(const HloShape *s, const char *name, const char *tf_name, ArgLeaf *out,
                       int *n) {
  if (!hlo_shape_is_tuple(s)) {
    if (out) out[*n] = (ArgLeaf){strdup(name), tf_name, s};
    (*n)++;
    return;
  }
  for (int i = 0; i < s->ntuple; i++) {
    HloStr leaf = {0};
    hlo_str_printf(&leaf, "%s_%d", name, i);
    arg_leaves(&s->tuple[i], leaf.buf, NULL, out, n);
    free(leaf.buf);
  }
}

/* The leaves of a shape (1 for an array). */
static int shape_leaves(const HloShape *s) {
  if (!hlo_shape_is_tuple(s)) return 1;
  int n = 0;
  for (int i = 0; i < s->ntuple; i++) n += shape_leaves(&s->tuple[i]);
  return n;
}

/* Names the arguments (leaves, renamed in place) and the nresults results
 * as the compiled program's descriptor does (cg_buffer_names over the
 * config's names, else the HLO's, else "resultK"), so that `hloc run`
 * binds the names the executable and libhloc bind, and writes the files
 * they write: a result aliased to a variable is named after it.  The
 * result names are malloc'd. */
static char **buffer_names(const Model *md, ArgLeaf *leaves, int nleaves, int nresults) {
  const char **want = calloc((size_t)(nleaves + nresults) + 1, sizeof *want);
  int *alias = calloc((size_t)nresults + 1, sizeof *alias);
  for (int p = 0; p < nleaves; p++)
    want[p] = md->feeds && p < md->nfeeds && nleaves == md->nfeeds ? md->feeds[p] : leaves[p].name;
  int n = nleaves;
  char dflt[32];
  char **defaults = calloc((size_t)nresults + 1, sizeof *defaults);
  for (int r = 0, k = 0; r < nresults; r++) {
    alias[r] = -1;
    for (int i = 0; i < md->m->nalias; i++)
      if (md->m->alias[i].result == r) alias[r] = md->m->alias[i].param;
    if (alias[r] >= 0) continue;
    snprintf(dflt, sizeof dflt, "result%d", k++);
    defaults[r] = strdup(dflt);
    want[n++] = md->nfetches == nresults ? md->fetches[r] : defaults[r];
  }
  char **names = cg_buffer_names(want, n);
  char **results = calloc((size_t)nresults + 1, sizeof *results);
  for (int p = 0; p < nleaves; p++) {
    free(leaves[p].name);
    leaves[p].name = names[p];
  }
  for (int r = 0, k = nleaves; r < nresults; r++)
    results[r] = strdup(alias[r] >= 0 && alias[r] < nleaves ? leaves[alias[r]].name
                                                             : names[k++]);
  for (int i = nleaves; i < n; i++) free(names[i]);
  for (int r = 0; r < nresults; r++) free(defaults[r]);
  free(defaults);
  free(names);
  free(alias);
  free(want);
  return results;
}

/* Matches inputs to the model's arguments (leaves) by the runtime's rules
 * (hloc_buffers_find: name, TensorFlow name, "argN" or "N"), or
 * positionally in command-line order.  The rules and the messages are the
 * generated executable's (runtime/exe.c), input for input. */
static HloError *bind_inputs(const ArgLeaf *leaves, int nleaves, const RunInput *inputs,
                             int ninputs, HloLiteral **args) {
  int next_positional = 0;
  hloc_buffer_info *infos = calloc((size_t)nleaves + 1, sizeof *infos);
  for (int p = 0; p < nleaves; p++)
    infos[p] = (hloc_buffer_info){.name = leaves[p].name, .tf_name = leaves[p].tf_name};
  HloError *e = NULL;
  for (int i = 0; i < ninputs && !e; i++) {
    int index = -1;
    const char *name = inputs[i].name;
    if (name) {
      char why[2048];
      index = hloc_buffers_find(infos, nleaves, "input", name, why, sizeof why);
      if (index < 0) {
        e = hlo_error("--input %s=%s: %s", name, inputs[i].path, why);
        break;
      }
    } else {
      while (next_positional < nleaves && args[next_positional]) next_positional++;
      index = next_positional;
      if (index >= nleaves) {
        e = hlo_error("--input %s: the model takes only %d input(s)", inputs[i].path, nleaves);
        break;
      }
    }
    if (args[index]) {
      e = hlo_error("--input %s: input %d (%s) is given twice", inputs[i].path, index,
                    leaves[index].name);
      break;
    }
    const HloShape *want = leaves[index].shape;
    e = hloc_read_npy_as(inputs[i].path, want->type, &args[index]);
    if (!e && !hlo_shape_fits(&args[index]->shape, want)) {
      char *g = hloc_array_text(&args[index]->shape), *w = hloc_array_text(want), why[256] = "";
      const HloShape *got = &args[index]->shape;
      /* A dynamic dim past its bound is told as such (runtime/dynamic.c). */
      if (got->type == want->type)
        rt_dims_fit(want->rank, want->dims, want->dynamic, got->rank, got->dims, why, sizeof why);
      if (*why)
        e = hlo_error("--input %s: input %d (%s) is %s: %s", inputs[i].path, index,
                      leaves[index].name, w, why);
      else
        e = hlo_error("--input %s: input %d (%s) is %s, but the file holds %s", inputs[i].path,
                      index, leaves[index].name, w, g);
      free(g);
      free(w);
    }
  }
  free(infos);
  if (e) return e;
  for (int p = 0; p < nleaves; p++)
    if (!args[p]) {
      char *w = hloc_array_text(leaves[p].shape);
      e = hlo_error("no --input for input %d (%s), which is %s", p, leaves[p].name, w);
      free(w);
      return e;
    }
  return NULL;
}

/* The evaluator's argument for a parameter of shape s: a copy of the
 * leaves from *next on, tupled as s is. */
static HloLiteral *assemble(const HloShape *s, HloLiteral *const *leaves, int *next) {
  if (!hlo_shape_is_tuple(s)) return hlo_literal_clone(leaves[(*next)++]);
  HloLiteral **elems = hlo_xcalloc((size_t)s->ntuple + 1, sizeof *elems);
  for (int i = 0; i < s->ntuple; i++) elems[i] = assemble(&s->tuple[i], leaves, next);
  HloLiteral *t = hlo_literal_tuple(elems, s->ntuple);
  free(elems);
  return t;
}

/* Evaluates the module on the argument leaves, within bound's limits. */
static HloError *run_interpreted(const Model *md, HloLiteral *const *leaves, RunBound *bound,
                                 HloLiteral **result) {
  const HloComputation *entry = md->m->entry;
  HloLiteral **params = hlo_xcalloc((size_t)entry->nparams + 1, sizeof *params);
  int next = 0;
  for (int p = 0; p < entry->nparams; p++)
    params[p] = assemble(&entry->params[p]->shape, leaves, &next);
  HloEvalOptions o = {.cancel = &bound->cancel, .max_while_iterations = bound->max_iterations};
  HloError *e = hlo_evaluate_with(md->m, params, entry->nparams, &o, result);
  if (e && o.stopped_at) {
    hlo_error_free(e);
    e = run_bound_timed_out(bound, o.stopped_at);
  }
  free(o.stopped_at);
  for (int p = 0; p < entry->nparams; p++) hlo_literal_free(params[p]);
  free(params);
  return e;
}

static void flatten(HloLiteral *l, HloLiteral **flat, int *n) {
  if (l->shape.type == HLO_TUPLE) {
    for (int i = 0; i < l->shape.ntuple; i++) flatten(l->elems[i], flat, n);
    return;
  }
  if (flat) flat[*n] = l;
  (*n)++;
}

/* Makes the output directory unless it exists (*made: whether it was
 * made, registered as a temporary so that a failed or interrupted run
 * removes it again). */
static HloError *make_dir(const char *dir, bool *made) {
  *made = !temp_mkdir(dir);
  if (!*made && errno != EEXIST) return hlo_error("--output-dir %s: %s", dir, strerror(errno));
  struct stat st;
  if (stat(dir, &st) || !S_ISDIR(st.st_mode))
    return hlo_error("--output-dir %s: not a directory", dir);
  return NULL;
}

/* Part i of l's elements as a double: element i, or for a complex type
 * (two parts an element, real first) its real or imaginary part. */
static double part(const HloLiteral *l, int64_t i) {
  if (l->shape.type == HLO_C64) return ((const float *)l->data)[i];
  if (l->shape.type == HLO_C128) return ((const double *)l->data)[i];
  return hlo_literal_get_f64(l, i);
}

/* Prints an array numpy-style, eliding the middle of long dimensions. */
static void print_array(FILE *f, const HloLiteral *l, int dim, int64_t offset,
                        const int64_t *strides) {
  const HloShape *s = &l->shape;
  if (dim == s->rank) {
    if (hlo_type_is_complex(s->type))
      fprintf(f, "%.6g%+.6gj", part(l, 2 * offset), part(l, 2 * offset + 1));
    else if (hlo_type_is_float(s->type)) fprintf(f, "%.6g", hlo_literal_get_f64(l, offset));
    else if (s->type == HLO_PRED) fprintf(f, "%s", hlo_literal_get_s64(l, offset) ? "true" : "false");
    else if (s->type == HLO_U64) fprintf(f, "%llu", (unsigned long long)hlo_literal_get_s64(l, offset));
    else fprintf(f, "%lld", (long long)hlo_literal_get_s64(l, offset));
    return;
  }
  int64_t n = s->dims[dim], edge = dim == s->rank - 1 ? 5 : 3;
  fputc('[', f);
  for (int64_t i = 0; i < n; i++) {
    if (n > 2 * edge && i == edge) {
      fprintf(f, "..., ");
      i = n - edge;
    }
    print_array(f, l, dim + 1, offset + i * strides[dim], strides);
    if (i + 1 < n) fputs(dim == s->rank - 1 ? ", " : ",\n  ", f);
  }
  fputc(']', f);
}

/* Compares a result with an expected array: |got - want| <= atol + rtol *
 * |want| elementwise (NaN matches NaN, an infinity only the same
 * infinity; complex numbers part by part).  Writes the verdict to stdout. */
static bool check_expected(const char *name, const HloLiteral *got, const HloLiteral *want,
                           double atol, double rtol) {
  if (!hlo_shape_equal(&got->shape, &want->shape, false)) {
    char *g = hloc_array_text(&got->shape), *w = hloc_array_text(&want->shape);
    printf("%s: MISMATCH: result is %s, expected %s\n", name, g, w);
    free(g);
    free(w);
    return false;
  }
  double worst = 0;
  int64_t bad = -1, n = hlo_shape_elements(&got->shape);
  if (hlo_type_is_complex(got->shape.type)) n *= 2;
  for (int64_t i = 0; i < n; i++) {
    double g = part(got, i), w = part(want, i);
    if ((g != g && w != w) || (isinf(g) && g == w)) continue;
    double d = g > w ? g - w : w - g;
    if (!(d <= atol + rtol * (w < 0 ? -w : w)) && bad < 0) bad = i;
    if (d > worst || d != d) worst = d;
  }
  if (bad >= 0) {
    bool cx = hlo_type_is_complex(got->shape.type);
    printf("%s: MISMATCH at element %lld%s: %.9g, expected %.9g (atol %g, rtol %g)\n", name,
           (long long)(cx ? bad / 2 : bad), !cx ? "" : bad % 2 ? " (imaginary part)" : " (real part)",
           part(got, bad), part(want, bad), atol, rtol);
    return false;
  }
  printf("%s: matches the expected output (max abs difference %.3g)\n", name, worst);
  return true;
}

/* Runs a program compiled for --target nvptx64 (loaded by jit) on the
 * GPU, on host buffers: bounded by the watchdog, started once the kernels
 * are loaded, which the runtime checks before each launch and copy; with
 * prof, each kernel timed on the GPU. */
static HloError *run_cuda(const CgJit *jit, const hloc_program *p, void *const *buffers,
                          hloc_profile *prof, RunBound *bound) {
  char msg[1024];
  hloc_cuda *gpu;
  if (hloc_cuda_open(&gpu, msg, sizeof msg)) return hlo_error("--device cuda: %s", msg);
  HloError *e = NULL;
  if (hloc_cuda_load_image(gpu, cg_jit_cuda_image(jit), msg, sizeof msg))
    e = hlo_error("--device cuda: %s", msg);
  if (!e) e = run_bound_start(bound);
  if (!e) {
    /* atomic_int and int32_t are one object, read atomically. */
    hloc_cuda_run_options o = {.cancel = (const int32_t *)&bound->cancel, .profile = prof};
    if (hloc_cuda_run_host_with(gpu, p, buffers, &o, msg, sizeof msg))
      e = o.cancelled ? run_bound_timed_out(bound, o.where) : hlo_error("--device cuda: %s", msg);
  }
  hloc_cuda_close(gpu);
  return e;
}

/* Compiles the model for this machine, loads it and runs it on args
 * through its descriptor on `threads` threads; with `stats`, says there
 * how many loops the pool took.  *result is a tuple of the flattened
 * results. */
static HloError *run_native(const Model *md, const CgOptions *opts, HloLiteral *const *args,
                            int nargs, int threads, FILE *stats, RunBound *bound, bool profile,
                            CliClock *clock, HloLiteral **result) {
  CgProgram *prog = NULL;
  CgJit *jit = NULL;
  HloError *e = pipeline_codegen(md, opts, &prog);
  cli_stage(clock, "%s", "codegen");
  if (!e) e = cg_jit(prog, &jit);
  cli_stage(clock, "%s", "load (JIT link)");
  bool cuda = !e && cg_jit_cuda_image(jit);
  cg_program_free(prog);
  if (e) return e;
  const hloc_program *p = cg_jit_program(jit);
  char why[1024];
  if (hloc_program_check_cpu(p, why, sizeof why)) {
    cg_jit_free(jit);
    return hlo_error("run: %s", why);
  }
  HLO_CHECK(p->num_args == nargs);
  HloLiteral **results = calloc((size_t)p->num_results + 1, sizeof *results);
  void **buffers = calloc((size_t)(p->num_args + p->num_results) + 1, sizeof *buffers);
  for (int a = 0; a < p->num_args; a++) buffers[a] = args[a]->data;
  for (int r = 0; r < p->num_results; r++) {
    const hloc_buffer_info *b = &p->results[r];
    HloShape s = hlo_shape_array(hloc_type_from_dtype((RtDtype)b->dtype), b->rank, b->dims);
    results[r] = hlo_literal_new(&s);
    buffers[p->num_args + r] = results[r]->data;
  }
  RtThreadPool *pool = NULL;
  if (threads > 1 && !(pool = rt_threadpool_create(threads)))
    e = hlo_error("--threads %d: cannot start %d threads", threads, threads);
  hloc_profile prof = {0};
  if (!e && profile && hloc_profile_init(&prof, p)) e = hlo_error("out of memory");
  if (!e && cuda) e = run_cuda(jit, p, buffers, profile ? &prof : NULL, bound);
  if (!e && !cuda) e = run_bound_start(bound);
  if (!e && !cuda) {
    RtThreadPool *previous = hloc_use_thread_pool(pool);
    /* atomic_int and int32_t are one object: the code reads it atomically. */
    const int32_t *cancel = (const int32_t *)&bound->cancel;
    int status = profile ? hloc_profile_run(&prof, buffers, NULL, cancel)
                         : hloc_program_run_cancellable(p, buffers, cancel);
    hloc_use_thread_pool(previous);
    const char *where = hloc_program_cancel_point(p, status);
    if (where) e = run_bound_timed_out(bound, where);
    else if (status) e = hlo_error("the compiled model failed (status %d)", status);
  }
  run_bound_stop(bound);
  cli_stage(clock, "%s", "run");
  if (!e && profile) {
    char *text = hloc_profile_report(&prof);
    if (!text) e = hlo_error("out of memory");
    else fputs(text, stdout);
    free(text);
  }
  hloc_profile_release(&prof);
  if (!e && stats && pool)
    fprintf(stats, "threads: %d (%lld parallel loops split across them)\n", threads,
            (long long)rt_threadpool_parallel_loops(pool));
  rt_threadpool_free(pool);
  /* The variables the run updated in their argument buffers are results
   * too, where the module's aliases put them (as the interpreter gives). */
  int nflat = p->num_results + md->m->nalias;
  HloLiteral **flat = calloc((size_t)nflat + 1, sizeof *flat);
  for (int r = 0, k = 0; r < nflat; r++) {
    int param = -1;
    for (int i = 0; i < md->m->nalias; i++)
      if (md->m->alias[i].result == r) param = md->m->alias[i].param;
    flat[r] = param >= 0 ? hlo_literal_clone(args[param]) : results[k++];
  }
  *result = hlo_literal_tuple(flat, nflat);
  free(flat);
  free(results);
  free(buffers);
  cg_jit_free(jit);
  return e;
}

/* --- bounded dynamic dims ---------------------------------------------------
 * When the pass pipeline made a module with dynamic entry parameters or
 * results static (passes/dynamic_pad.c), the compiled entry takes each
 * dynamic array padded to its bound and then one s32[] per dynamic dim
 * with its size, after the other arguments, and returns the sizes of its
 * dynamic results likewise after them (docs/api.md).  `hloc run` binds
 * the arrays at their run-time sizes, as the interpreter takes them, pads
 * them and passes their sizes, and writes the results trimmed to theirs. */

/* Copies between the array `small` (data s) and the leading corner of
 * `big` (data b), in row-major order; into_big says which way. */
static void copy_corner(const HloShape *small, void *s, const HloShape *big, void *b,
                        bool into_big) {
  rt_copy_corner(hlo_type_size(small->type), small->rank, small->dims, s, big->dims, b, into_big);
}

/* The arguments of the rewritten entry: args (leaves of the shapes given)
 * padded to their bounds, then the sizes of their dynamic dims. */
static HloLiteral **sized_args(const HloShape *shapes, HloLiteral *const *args, int n,
                               int *nout) {
  int k = n;
  for (int i = 0; i < n; i++) k += __builtin_popcount(shapes[i].dynamic);
  HloLiteral **out = calloc((size_t)k + 1, sizeof *out);
  k = n;
  for (int i = 0; i < n; i++) {
    HloShape bound = shapes[i];
    bound.dynamic = 0;
    if (!shapes[i].dynamic) {
      out[i] = hlo_literal_clone(args[i]);
      continue;
    }
    out[i] = hlo_literal_new(&bound);
    copy_corner(&args[i]->shape, args[i]->data, &bound, out[i]->data, true);
    for (int d = 0; d < bound.rank; d++)
      if (shapes[i].dynamic >> d & 1) {
        HloShape s32 = hlo_shape_scalar(HLO_S32);
        out[k] = hlo_literal_new(&s32);
        *(int32_t *)out[k++]->data = (int32_t)args[i]->shape.dims[d];
      }
  }
  *nout = k;
  return out;
}

/* The n results of the rewritten entry (leaves of the shapes given), each
 * dynamic one trimmed to the sizes the entry returned after them. */
static HloError *sized_results(HloLiteral **result, const HloShape *shapes, int n) {
  int nflat = 0;
  flatten(*result, NULL, &nflat);
  HloLiteral **flat = calloc((size_t)nflat + 1, sizeof *flat);
  HloLiteral **out = calloc((size_t)n + 1, sizeof *out);
  nflat = 0;
  flatten(*result, flat, &nflat);
  HloError *e = NULL;
  for (int i = 0, k = n; i < n && !e; i++) {
    HloShape s = flat[i]->shape;
    for (int d = 0; d < s.rank; d++) {
      if (!(shapes[i].dynamic >> d & 1)) continue;
      int32_t size = k < nflat ? *(const int32_t *)flat[k++]->data : -1;
      if (size < 0 || size > s.dims[d]) {
        e = hlo_error("result %d: dimension %d has size %d, outside [0, %lld]", i, d, size,
                      (long long)s.dims[d]);
        break;
      }
      s.dims[d] = size;
    }
    out[i] = hlo_literal_new(&s);
    copy_corner(&s, out[i]->data, &flat[i]->shape, flat[i]->data, false);
  }
  free(flat);
  if (e) {
    for (int i = 0; i < n; i++) hlo_literal_free(out[i]);
    free(out);
    return e;
  }
  hlo_literal_free(*result);
  *result = hlo_literal_tuple(out, n);
  free(out);
  return NULL;
}

/* What `hloc run` collects from its repeatable and checked options. */
typedef struct RunArgs {
  RunInput *inputs;
  const char **expect;
  int ninputs, nexpect;
  double atol, rtol;
  const char *threads_arg;
  int threads;
  RunBound bound;
} RunArgs;

static int take_bound(const char *name, const char *v, void *ctx) {
  return run_bound_option(&((RunArgs *)ctx)->bound, name, v);
}

static int take_input(const char *name, const char *v, void *ctx) {
  RunArgs *r = ctx;
  (void)name;
  const char *eq = strchr(v, '=');
  r->inputs[r->ninputs].name = eq ? strndup(v, (size_t)(eq - v)) : NULL;
  r->inputs[r->ninputs].path = eq ? eq + 1 : v;
  r->ninputs++;
  return 0;
}

static int take_expect(const char *name, const char *v, void *ctx) {
  RunArgs *r = ctx;
  (void)name;
  r->expect[r->nexpect++] = v;
  return 0;
}

/* A tolerance is a finite number >= 0: NaN would make every comparison
 * fail and infinity every one pass, silently. */
static int take_tolerance(const char *name, const char *v, void *ctx) {
  RunArgs *r = ctx;
  char *end;
  double x = strtod(v, &end);
  if (*end || end == v || !isfinite(x) || x < 0) {
    HloStr msg = {0};
    hlo_str_printf(&msg, "%s '%%s': a tolerance must be a finite number, 0 or more", name);
    int rc = usage_error(msg.buf, v);
    free(msg.buf);
    return rc;
  }
  if (!strcmp(name, "--atol")) r->atol = x;
  else r->rtol = x;
  return 0;
}

static int take_threads(const char *name, const char *v, void *ctx) {
  RunArgs *r = ctx;
  char *end;
  (void)name;
  errno = 0;
  long n = strtol(v, &end, 10);
  r->threads_arg = v;
  /* strtol would also take leading blanks and a sign */
  if (errno || *end || !(*v >= '0' && *v <= '9') || n < 1 || n > 1000000)
    return usage_error("--threads '%s': the thread count must be a whole number from 1 to "
                       "1000000",
                       v);
  r->threads = (int)n;
  return 0;
}

static int cmd_run(int argc, char **argv) {
  const char *model = NULL, *outdir = ".", *device = "cpu";
  bool interpret = false, print = false, profile = false;
  CgOptions opts = {0};
  PipelineFlags flags = {0};
  RunArgs ra = {.inputs = calloc((size_t)argc + 1, sizeof *ra.inputs),
                .expect = calloc((size_t)argc + 1, sizeof *ra.expect),
                .atol = 1e-5,
                .rtol = 1e-5,
                .threads = 1};
  const CliOption options[] = {
      {"--interpret", .flag = &interpret}, {"--print", .flag = &print},
      {"--profile", .flag = &profile},
      {"--output-dir", &outdir},          {"--device", &device},
      {"--cpu", &opts.cpu},                {"--features", &opts.features},
      {"--input", .take = take_input},     {"--expect", .take = take_expect},
      {"--atol", .take = take_tolerance},  {"--rtol", .take = take_tolerance},
      {"--threads", .take = take_threads}, {"--timeout", .take = take_bound},
      {"--max-iterations", .take = take_bound}, {"--gpu-tf32", .flag = &opts.gpu_tf32},
      {NULL},
  };
  int nleaves = 0, rc = EXIT_FAILURE;
  CliClock clock = {0};
  int bad = cli_parse("run", argc, argv, options, &ra, &flags, &model);
  RunInput *inputs = ra.inputs;
  const char **expect = ra.expect;
  int ninputs = ra.ninputs, nexpect = ra.nexpect, threads = ra.threads;
  double atol = ra.atol, rtol = ra.rtol;
  const char *threads_arg = ra.threads_arg;
  Model md = {0};
  HloLiteral **args = NULL, *result = NULL, **flat = NULL, **run_args = NULL;
  HloShape *arg_shapes = NULL, *res_shapes = NULL;
  int nrun_args = 0;
  ArgLeaf *leaves = NULL;
  HloError *e = NULL;
  Outputs outputs = {0};
  char **names = NULL;
  bool made_dir = false;
  if (!bad && interpret && threads_arg)
    bad = usage_error("run: --threads %s conflicts with --interpret: threads run compiled "
                      "code, the interpreter runs on one thread",
                      threads_arg);
  if (!bad && interpret && profile)
    bad = usage_error("run: --profile%s times compiled kernels; it conflicts with --interpret", "");
  if (!bad && !interpret && ra.bound.max_iterations_arg)
    bad = usage_error("run: --max-iterations %s needs --interpret: compiled code has no "
                      "iteration limit (bound it with --timeout)",
                      ra.bound.max_iterations_arg);
  bool cuda = !strcmp(device, "cuda");
  if (!bad && !cuda && strcmp(device, "cpu"))
    bad = usage_error("run: --device '%s': the devices are cpu and cuda", device);
  if (!bad && cuda && (interpret || threads_arg || opts.features))
    bad = usage_error("run: --device cuda runs compiled code on the GPU, without %s",
                      interpret ? "--interpret" : threads_arg ? "--threads"
                                                            : "--features (--cpu names the SM)");
  if (!bad && opts.gpu_tf32 && !cuda)
    bad = usage_error("run: --gpu-tf32%s runs f32 dots on a GPU's tensor cores; it needs "
                      "--device cuda",
                      "");
  if (cuda) opts.target = "nvptx64";
  /* stdout carries --print and --expect */
  if (!bad) bad = pipeline_flags_finish(&flags, stderr, &opts);
  if (bad) {
    rc = bad;
    goto done;
  }
  cli_clock_start(&clock, &flags);
  e = pipeline_load_file(model, &flags.source, &md);
  cli_stage(&clock, "load %s", model);
  if (e) goto fail;
  for (int p = 0; p < md.m->entry->nparams; p++)
    arg_leaves(&md.m->entry->params[p]->shape, md.m->entry->params[p]->name, NULL, NULL,
               &nleaves);
  leaves = calloc((size_t)nleaves + 1, sizeof *leaves);
  nleaves = 0;
  for (int p = 0; p < md.m->entry->nparams; p++)
    arg_leaves(&md.m->entry->params[p]->shape, md.m->entry->params[p]->name,
               md.feed_tf_names && p < md.nfeeds ? md.feed_tf_names[p] : NULL, leaves,
               &nleaves);
  names = buffer_names(&md, leaves, nleaves, shape_leaves(&md.m->entry->root->shape));
  args = calloc((size_t)nleaves + 1, sizeof *args);
  if ((e = bind_inputs(leaves, nleaves, inputs, ninputs, args))) goto fail;
  /* The signature as written, which the passes may give sizes (above). */
  bool dynamic = pipeline_entry_is_dynamic(md.m->entry);
  int nres = 0;
  pipeline_shape_leaves(&md.m->entry->root->shape, NULL, &nres);
  arg_shapes = calloc((size_t)nleaves + 1, sizeof *arg_shapes);
  res_shapes = calloc((size_t)nres + 1, sizeof *res_shapes);
  for (int p = 0; p < nleaves; p++) arg_shapes[p] = *leaves[p].shape;
  nres = 0;
  pipeline_shape_leaves(&md.m->entry->root->shape, res_shapes, &nres);
  e = pipeline_optimize(&md, &flags.opts, &opts);
  cli_stage(&clock, "%s", flags.opts.no_passes ? "verify (--O0: no passes)" : "passes");
  if (e) goto fail;
  bool sized = dynamic && !pipeline_entry_is_dynamic(md.m->entry);
  int nrun = nleaves;
  if (sized) run_args = sized_args(arg_shapes, args, nleaves, &nrun);
  nrun_args = sized ? nrun : 0;
  if (interpret) {
    if (!(e = run_bound_start(&ra.bound)))
      e = run_interpreted(&md, sized ? run_args : args, &ra.bound, &result);
    run_bound_stop(&ra.bound);
    cli_stage(&clock, "%s", "interpret");
  } else {
    e = run_native(&md, &opts, sized ? run_args : args, nrun, threads,
                   flags.stats ? stderr : NULL, &ra.bound, profile, &clock, &result);
  }
  if (!e && sized) e = sized_results(&result, res_shapes, nres);
  if (e || (e = make_dir(outdir, &made_dir))) goto fail;
  int nflat = 0;
  flatten(result, NULL, &nflat);
  flat = calloc((size_t)nflat + 1, sizeof *flat);
  nflat = 0;
  flatten(result, flat, &nflat);
  if (nexpect > nflat) {
    e = hlo_error("%d --expect files given but the model has %d result(s)", nexpect, nflat);
    goto fail;
  }
  for (int i = 0; i < nflat && !e; i++) {
    HloStr path = {0};
    hlo_str_printf(&path, "%s/%s.npy", outdir, names[i]);
    unsigned char header[RT_NPY_HEADER_MAX];
    size_t hlen;
    e = hloc_npy_header(flat[i], path.buf, header, &hlen);
    struct iovec parts[2] = {{header, hlen},
                             {flat[i]->data, hlo_shape_byte_size(&flat[i]->shape)}};
    if (!e) e = outputs_write(&outputs, path.buf, parts, 2);
    free(path.buf);
  }
  if (!e) e = outputs_commit(&outputs);
  cli_stage(&clock, "write results to %s", outdir);
  if (e) goto fail;
  if (made_dir) temp_keep(outdir);
  for (int i = 0; i < nflat && print; i++) {
    int64_t strides[HLO_MAX_RANK];
    hlo_shape_strides(&flat[i]->shape, strides);
    char *sh = hloc_array_text(&flat[i]->shape);
    printf("%s: %s\n  ", names[i], sh);
    free(sh);
    print_array(stdout, flat[i], 0, 0, strides);
    printf("\n");
  }
  rc = EXIT_SUCCESS;
  for (int i = 0; i < nexpect && !e; i++) {
    HloLiteral *want = NULL;
    if ((e = hloc_read_npy_as(expect[i], flat[i]->shape.type, &want))) break;
    if (!check_expected(names[i], flat[i], want, atol, rtol)) rc = EXIT_FAILURE;
    hlo_literal_free(want);
  }
  if (!e) goto done;
fail:
  outputs_discard(&outputs);
  if (made_dir) temp_remove(outdir);
  rc = report(e);
done:
  for (int i = 0; names && names[i]; i++) free(names[i]);
  free(names);
  for (int p = 0; args && p < nleaves; p++) hlo_literal_free(args[p]);
  free(args);
  for (int p = 0; p < nrun_args; p++) hlo_literal_free(run_args[p]);
  free(run_args);
  free(arg_shapes);
  free(res_shapes);
  for (int p = 0; leaves && p < nleaves; p++) free(leaves[p].name);
  free(leaves);
  free(flat);
  hlo_literal_free(result);
  model_free(&md);
  for (int i = 0; i < ninputs; i++) free((char *)inputs[i].name);
  free(inputs);
  free(expect);
  return rc;
}

/* --- ops ------------------------------------------------------------------ */

/* `hloc ops --markdown` writes docs/ops.md, so the table cannot drift from
 * the lowering tables it is generated from. */
static int cmd_ops(int argc, char **argv) {
  bool markdown = false;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--markdown")) markdown = true;
    else return usage_error("ops: unknown option '%s'", argv[i]);
  }
  int n;
  const TfOpInfo *ops = tf_supported_ops(&n);
  if (!markdown) {
    for (int i = 0; i < n; i++) printf("%s\n", ops[i].op);
    return EXIT_SUCCESS;
  }
  printf("# Supported TensorFlow ops\n\n"
         "Generated by `hloc ops --markdown` from the frontend's lowering tables; "
         "a test keeps this file equal to that output.\n\n"
         "%d ops. Every op also accepts the `T`-style type attributes TensorFlow gives it; "
         "inputs marked constant must be known at compile time (a `Const`, or a value "
         "computed from constants and static shapes only).\n\n"
         "| op | attributes | notes |\n|---|---|---|\n",
         n);
  for (int i = 0; i < n; i++)
    printf("| %s | %s | %s |\n", ops[i].op, ops[i].attrs, ops[i].notes);
  return EXIT_SUCCESS;
}

/* --- main ---------------------------------------------------------------- */

static int cmd_version(int argc, char **argv) {
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  printf("hloc %s (LLVM %u.%u.%u)\n", HLOC_VERSION, major, minor, patch);
  return EXIT_SUCCESS;
}

static int cmd_help(int argc, char **argv);

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
} commands[] = {
    {"compile", cmd_compile,
     "compile MODEL [--config CFG] [--name N] [-o PREFIX] [--target T] [--cpu C]\n"
     "          [--features F] [--emit obj,header,lib,so,exe,cpp] [--cpp-class NS::C]\n"
     "          [--separate-weights] [--gpu-tf32] [--gpu-wgmma] [PIPELINE]\n"
     "      compile MODEL to native code: PREFIX.o and PREFIX.h (the default),\n"
     "      libPREFIX.a, libPREFIX.so, the executable PREFIX, or PREFIX.hpp (a C++\n"
     "      class in tfcompile's shape, named NS::C); N (default \"model\") prefixes\n"
     "      every symbol, PREFIX defaults to N; --separate-weights writes the weights\n"
     "      to PREFIX.weights instead of the object; --gpu-tf32 (nvptx64) runs f32\n"
     "      dots and convolutions on tensor cores, operands rounded to TF32;\n"
     "      --gpu-wgmma (nvptx64 --cpu sm_90a) runs tensor-core dots on wgmma"},
    {"run", cmd_run,
     "run MODEL [--config CFG] [--interpret] [--cpu C] [--features F] [--threads N]\n"
     "          [--input [NAME=]FILE.npy]... [--output-dir DIR]\n"
     "          [--print] [--expect FILE.npy]... [--atol A] [--rtol R]\n"
     "          [--timeout SECONDS] [--max-iterations N] [--profile] [--device cpu|cuda]\n"
     "          [--gpu-tf32] [PIPELINE]\n"
     "      compile MODEL in process (or evaluate it with the reference interpreter:\n"
     "      --interpret) and run it on the inputs, on N threads (default 1); writes\n"
     "      one .npy per result into DIR, prints them with --print, compares them in\n"
     "      order with --expect files; stops the run (not the compile) after SECONDS,\n"
     "      and the interpreter's while loops after N iterations, as errors;\n"
     "      --profile prints the time of each kernel with its HLO instruction and\n"
     "      TensorFlow op (docs/cli.md, \"Profiling\"); --device cuda compiles for\n"
     "      --target nvptx64 (--cpu names the SM) and runs on the GPU (not with\n"
     "      --threads; --timeout is checked between kernels), its f32 dots on\n"
     "      tensor cores in TF32 with --gpu-tf32"},
    {"dump", cmd_dump,
     "dump MODEL [--config CFG] [--stage hlo|dot|svg|png|kir|mlir|llvm|asm|ptx]\n"
     "          [-o FILE] [--name N] [--target T] [--cpu C] [--features F]\n"
     "          [--expand FUSION]... [--expand-all] [--gpu-tf32] [--gpu-wgmma] [PIPELINE]\n"
     "      print the HLO module codegen gets (as text, or as a Graphviz graph, or\n"
     "      rendered by Graphviz's dot), the kernel IR codegen builds, the MLIR it\n"
     "      prints, or the optimized LLVM IR or assembly; to stdout or FILE"},
    {"tfcompile", cmd_tfcompile,
     "tfcompile --graph=G --config=C --cpp_class=NS::CLASS [--entry_point=N]\n"
     "          [--target_triple=T] [--target_cpu=C] [--target_features=F]\n"
     "          [--out_function_object=F.o] [--out_header=F.h] [--out_metadata_object=M.o]\n"
     "          [--checkpoint=PREFIX] [--dump_fetch_nodes] [--gen_name_to_index]\n"
     "          [--gen_program_shape]\n"
     "      tfcompile's command line (what tf_library's genrule runs): the object,\n"
     "      one header with the C API and the C++ class, and a metadata object;\n"
     "      defaults as tfcompile's (out_model.o, out.h, out_helper.o, entry)"},
    {"inspect", cmd_inspect,
     "inspect MODEL [--tag TAGS] [--signature KEY] [--config-template]\n"
     "      list a SavedModel's signatures (inputs, outputs, dtypes, saved shapes)\n"
     "      or a GraphDef's placeholders and likely fetches; --config-template\n"
     "      prints a tfcompile config for them instead"},
    {"ops", cmd_ops, "ops [--markdown]\n      list the supported TensorFlow ops"},
    {"version", cmd_version, "version\n      print hloc's and LLVM's versions"},
    {"help", cmd_help, "help\n      this text"},
};

static int cmd_help(int argc, char **argv) {
  printf("usage: hloc COMMAND ...\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    printf("  %s\n", commands[i].help);
  printf("\nPIPELINE options: the passes run by default (docs/passes.md)\n"
         "  --O0, --no-passes       skip them: codegen gets the verified module as is\n"
         "  --dump-after PASS|all   write the HLO after PASS (or every pass) to files\n"
         "  --dump-dir DIR          where --dump-after writes (default ./hloc-dump)\n"
         "  --disable-pass NAME     do not run pass NAME (repeatable)\n"
         "  --time-passes           print the time spent in each pass and codegen phase\n"
         "                          to stderr\n"
         "  --stats                 print kernels, fusions, arena, weight bytes, FLOPs and\n"
         "                          bytes moved (stdout for compile, else stderr)\n"
         "  --verify-kernels        check every kernel's IR with the kernel-IR verifier\n"
         "  --conv-precision exact|fast\n"
         "                          exact: 3x3 convolutions only by algorithms exact on\n"
         "                          small integers (Winograd F(2x2,3x3), direct); fast\n"
         "                          (default): F(4x4,3x3) too where it pays\n"
         "  -v, --verbose           print each stage (load, passes, codegen's phases,\n"
         "                          writing) with its time to stderr\n"
         "passes:");
  int column = 7;
  for (const char *const *p = pass_names(); *p; p++) {
    if (column + 1 + (int)strlen(*p) > 78) {
      printf("\n       ");
      column = 7;
    }
    column += printf(" %s", *p);
  }
  printf("\n\nMODEL is HLO text (.hlo), a TensorFlow GraphDef (.pb, .pbtxt) whose tfcompile\n"
         "config (feeds with static shapes, fetches) --config names, or a SavedModel\n"
         "directory.  TensorFlow models take, with compile, run and dump:\n"
         "  --config CFG            the feeds and fetches (a SavedModel: instead of its\n"
         "                          signature)\n"
         "  --checkpoint PREFIX     GraphDef: take the variables' values from the\n"
         "                          checkpoint PREFIX.index + data files\n"
         "  --tag TAGS              SavedModel: the meta graph's tag set (default serve)\n"
         "  --signature KEY         SavedModel: the signature (default serving_default)\n"
         "  --input-shape NAME=D,D  SavedModel: a static shape for an input saved with\n"
         "                          -1 dimensions (repeatable)\n"
         "Targets: x86_64, aarch64 (cross: lib, so and exe need the runtime built for it,\n"
         "which the build makes when Debian's cross compiler is installed); CPUs and\n"
         "features are LLVM's names, listed when a name is not known.  nvptx64: NVIDIA\n"
         "GPUs, --cpu sm_80 (default), sm_86, sm_89 or sm_90: every --emit kind (the\n"
         "executable and the model library run on the GPU), `run --device cuda`,\n"
         "`dump --stage ptx`.\n");
  return EXIT_SUCCESS;
}

/* A command run so that running out of memory is an error, not an abort. */
typedef struct Command {
  int (*fn)(int argc, char **argv);
  int argc;
  char **argv;
  int status;
} Command;

static HloError *run_command(void *ctx) {
  Command *c = ctx;
  c->status = c->fn(c->argc, c->argv);
  return NULL;
}

int main(int argc, char **argv) {
  output_catch_signals();
  if (argc < 2) {
    cmd_help(0, NULL);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--version")) return cmd_version(0, NULL);
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return cmd_help(0, NULL);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) {
      for (int k = 2; k < argc; k++)
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
          printf("usage: hloc %s\n", commands[i].help);
          if (commands[i].fn == cmd_compile || commands[i].fn == cmd_run ||
              commands[i].fn == cmd_dump)
            printf("\nPIPELINE and the TensorFlow model options: see 'hloc help'.\n");
          return EXIT_SUCCESS;
        }
      Command c = {commands[i].fn, argc - 2, argv + 2, 0};
      HloError *e = hlo_guard_oom(run_command, &c);
      return e ? report(e) : c.status;
    }
  return usage_error("unknown command '%s'", argv[1]);
}
