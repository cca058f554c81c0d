/*
 * header_cpp.c — the C++ header of a compiled program (`--emit cpp`): one
 * header-only class shaped like those tfcompile generates (subclasses of
 * XlaCompiledCpuFunction), so that code written against them — a default
 * constructor with an AllocMode, set_argN_data, argN(i, j), Run() and
 * error_msg(), resultN(i, j), LookupArgIndex — builds against an hloc
 * object with few changes (docs/header.md, "C++ class", lists them).
 *
 * The class wraps what the C header declares: it calls
 * N_run_buffers_cancellable with the buffers it holds (or, with profiling
 * on, the runtime's hloc_profile_run, which calls N_run_buffers_profiled
 * with the instance's own hloc_profile: the profile `hloc run --profile`
 * and libhloc report, per instance), names a stop with
 * hloc_program_cancel_point, and brackets the call with the thread-pool
 * hook.  It owns one block for the arguments (unless the caller supplies
 * them), the results and the scratch arena, each aligned; the layout is
 * computed here, from the signature, so the constructor only adds offsets.
 *
 * The class is built as a table of members (name, number of parameters,
 * constness, definition) and printed once.  Accessors named after the
 * config's names may duplicate another member (a rank-1 feed called
 * `data` would give a second `arg_data(size_t)`): such an accessor is
 * left out, the positional one remains.  A class named like one of its
 * members (Run, arg0) cannot be written and is an error.
 *
 * For a program compiled for an NVIDIA GPU (CgSignature.gpu_sm) the class
 * holds host buffers as for the CPU but no scratch arena, opens the GPU
 * (hloc_cuda_open, N_cuda_load) at its first Run and keeps it, and runs
 * through hloc_cuda_run_host_with, with its cancellation flag and
 * profile; its thread pool is not used.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One member of the class, or (name NULL) a comment or access label. */
typedef struct Member {
  char *name;    /* what clashes are judged by; NULL: not a member */
  int arity;     /* its parameters */
  bool is_const; /* a const member function */
  char *text;    /* the definition, indented, ending in a newline */
} Member;

/* The class being built. */
typedef struct Class {
  const CgSignature *sig; /* the function it wraps */
  const char *cls;        /* its unqualified name */
  Member *members;        /* in the order they are printed … */
  int n, cap;             /* … their count and the room for them */
  char *clash;            /* the first member named like the class (malloc'd), or NULL */
} Class;

/* vprintf and printf into a new string (malloc'd). */
static char *vfmt(const char *f, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int len = vsnprintf(NULL, 0, f, ap);
  HLO_CHECK(len >= 0);
  char *text = hlo_xmalloc((size_t)len + 1);
  vsnprintf(text, (size_t)len + 1, f, again);
  va_end(again);
  return text;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *text = vfmt(f, ap);
  va_end(ap);
  return text;
}

static bool same_member(const Member *a, const char *name, int arity, bool is_const) {
  return a->name && !strcmp(a->name, name) && a->arity == arity && a->is_const == is_const;
}

/* Adds a member unless one of the same name, arity and constness exists;
 * returns whether it was added.  name NULL adds text that is no member. */
static bool add(Class *c, const char *name, int arity, bool is_const, const char *f, ...)
    __attribute__((format(printf, 5, 6)));
static bool add(Class *c, const char *name, int arity, bool is_const, const char *f, ...) {
  if (name) {
    for (int i = 0; i < c->n; i++)
      if (same_member(&c->members[i], name, arity, is_const)) return false;
    if (!strcmp(name, c->cls) && !c->clash) c->clash = strdup(name);
  }
  va_list ap;
  va_start(ap, f);
  char *text = vfmt(f, ap);
  va_end(ap);
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 64;
    c->members = hlo_xrealloc(c->members, (size_t)c->cap * sizeof *c->members);
  }
  c->members[c->n++] =
      (Member){.name = name ? strdup(name) : NULL, .arity = arity, .is_const = is_const,
               .text = text};
  return true;
}

static size_t round_up(size_t x, size_t align) { return (x + align - 1) / align * align; }

static int64_t elements(const CgBufferInfo *b) {
  int64_t n = 1;
  for (int k = 0; k < b->rank; k++) n *= b->dims[k];
  return n;
}

/* "size_t dim0, size_t dim1": the parameters of an element accessor. */
static char *dim_list(int rank) {
  HloStr s = {0};
  hlo_str_printf(&s, "%s", "");
  for (int k = 0; k < rank; k++) hlo_str_printf(&s, "%ssize_t dim%d", k ? ", " : "", k);
  return hlo_str_take(&s);
}

/* The row-major offset of element (dim0, …) as a C++ expression. */
static char *offset_expr(const CgBufferInfo *b) {
  HloStr s = {0};
  if (!b->rank) hlo_str_printf(&s, "0");
  for (int k = 0; k < b->rank; k++) {
    if (!k) {
      hlo_str_printf(&s, "dim0");
      continue;
    }
    char *prev = hlo_str_take(&s);
    hlo_str_printf(&s, k > 1 ? "(%s) * %" PRId64 " + dim%d" : "%s * %" PRId64 " + dim%d", prev,
                   b->dims[k], k);
    free(prev);
  }
  return hlo_str_take(&s);
}

/* The accessors of argument or result `index`: the positional ones
 * (arg0_data) when `name` is NULL, else those named after it
 * (arg_image_data), left out where they clash.  Named or not, their bodies
 * go through the positional buffer. */
static void accessors(Class *c, bool arg, int index, const char *name) {
  const CgSignature *sig = c->sig;
  const CgBufferInfo *b = arg ? &sig->args[index] : &sig->results[index];
  const char *kind = arg ? "arg" : "result";
  char *label = name ? fmt("_%s", name) : fmt("%d", index);
  char *type = fmt("%s_%s%d_t", sig->name, arg ? "ARG" : "RESULT", index);
  char *params = dim_list(b->rank), *offset = offset_expr(b);
  char *member[7];
  int nmember = 0;
  if (arg) {
    char *m = member[nmember++] = fmt("set_arg%s_data", label);
    bool ok = add(c, m, 1, false, "  void %s(const void *data) { set_arg_data(%d, data); }\n", m,
                  index);
    HLO_CHECK(ok || name);
  }
  char *m = member[nmember++] = fmt("%s%s_data", kind, label);
  bool ok = add(c, m, 0, false, "  %s *%s() { return static_cast<%s *>(%s_data(%d)); }\n", type,
                m, type, kind, index);
  ok &= add(c, m, 0, true,
            "  const %s *%s() const { return static_cast<const %s *>(%s_data(%d)); }\n", type, m,
            type, kind, index);
  m = member[nmember++] = fmt("%s%s", kind, label);
  ok &= add(c, m, b->rank, false, "  %s &%s(%s) { return %s%d_data()[%s]; }\n", type, m, params,
            kind, index, offset);
  ok &= add(c, m, b->rank, true, "  const %s &%s(%s) const { return %s%d_data()[%s]; }\n", type,
            m, params, kind, index, offset);
  m = member[nmember++] = fmt("%s%s_size", kind, label);
  ok &= add(c, m, 0, true, "  size_t %s() const { return %zu; }\n", m, b->bytes);
  m = member[nmember++] = fmt("%s%s_count", kind, label);
  ok &= add(c, m, 0, true, "  size_t %s() const { return %" PRId64 "; }\n", m, elements(b));
  HLO_CHECK(ok || name);
  for (int i = 0; i < nmember; i++) free(member[i]);
  free(label);
  free(type);
  free(params);
  free(offset);
}

/* "f32[2,784]" */
static void shape_text(HloStr *s, const CgBufferInfo *b) {
  hlo_str_printf(s, "%s[", hlo_type_name(b->type));
  for (int k = 0; k < b->rank; k++) hlo_str_printf(s, "%s%" PRId64, k ? "," : "", b->dims[k]);
  hlo_str_printf(s, "]");
}

/* "(image: f32[2,784]) -> (probs: f32[2,10])" */
static char *program_shape(const CgSignature *sig) {
  HloStr s = {0};
  hlo_str_printf(&s, "(");
  for (int i = 0; i < sig->nargs; i++) {
    hlo_str_printf(&s, "%s%s: ", i ? ", " : "", sig->args[i].name);
    shape_text(&s, &sig->args[i]);
  }
  hlo_str_printf(&s, ") -> (");
  for (int i = 0; i < sig->nresults; i++) {
    hlo_str_printf(&s, "%s%s: ", i ? ", " : "", sig->results[i].name);
    shape_text(&s, &sig->results[i]);
  }
  hlo_str_printf(&s, ")");
  return hlo_str_take(&s);
}

/* `static const char *const kNames[] = {"a", "b", nullptr};` */
static char *name_table(const CgBufferInfo *b, int n) {
  HloStr s = {0};
  hlo_str_printf(&s, "static const char *const kNames[] = {");
  for (int i = 0; i < n; i++) hlo_str_printf(&s, "\"%s\", ", b[i].name);
  hlo_str_printf(&s, "nullptr};");
  return hlo_str_take(&s);
}

/* The --name in CamelCase: my_model → MyModel. */
static char *camel_case(const char *name) {
  HloStr s = {0};
  hlo_str_printf(&s, "%s", "");
  bool up = true;
  for (const char *p = name; *p; p++) {
    if (*p == '_') {
      up = true;
      continue;
    }
    hlo_str_printf(&s, "%c", up ? toupper((unsigned char)*p) : *p);
    up = false;
  }
  char *t = hlo_str_take(&s);
  if (!*t || isdigit((unsigned char)*t)) {
    hlo_str_printf(&s, "Model%s", t);
    free(t);
    t = hlo_str_take(&s);
  }
  return t;
}

/* Profiling: the switch, the kernels and their counts, the report.  The
 * counters are allocated when profiling is first turned on. */
static void profile_members(Class *c) {
  const char *n = c->sig->name;
  add(c, NULL, 0, false,
      "  // Profiling: with it on, every Run times each kernel of the function\n"
      "  // (kernel k is program().kernels[k]: its HLO instruction, kind, shape\n"
      "  // and TensorFlow op) and the run as a whole, and adds the times to this\n"
      "  // instance's profile; off (the default), Run pays one untaken branch per\n"
      "  // kernel.  Turning it off keeps what was gathered.  set_profiling(true)\n"
      "  // returns false, with error_msg(), when the counters cannot be had.\n");
  add(c, "set_profiling", 1, false,
      "  bool set_profiling(bool on) {\n"
      "    if (on && !profile_.kernel_ns && hloc_profile_init(&profile_, &%s_program)) {\n"
      "      error_msg_ = \"cannot allocate the profile's counters\";\n"
      "      return false;\n"
      "    }\n"
      "    profiling_ = on;\n"
      "    return true;\n"
      "  }\n",
      n);
  add(c, "hlo_profiling_enabled", 0, true,
      "  bool hlo_profiling_enabled() const { return profiling_; }\n");
  add(c, "clear_profile", 0, false,
      "  void clear_profile() {\n"
      "    if (profile_.kernel_ns) hloc_profile_clear(&profile_);\n"
      "  }\n");
  add(c, "num_kernels", 0, false,
      "  static int num_kernels() { return %s_program.num_kernels; }\n", n);
  add(c, "kernel_info", 1, false,
      "  static const hloc_kernel_info &kernel_info(int k) { return %s_program.kernels[k]; }\n",
      n);
  add(c, "kernel_calls", 1, true,
      "  uint64_t kernel_calls(int k) const {\n"
      "    return profile_.kernel_calls ? profile_.kernel_calls[k] : 0;\n"
      "  }\n");
  add(c, "kernel_seconds", 1, true,
      "  double kernel_seconds(int k) const {\n"
      "    return profile_.kernel_ns ? static_cast<double>(profile_.kernel_ns[k]) / 1e9 : 0;\n"
      "  }\n");
  add(c, "profiled_runs", 0, true,
      "  // The profiled runs and their wall time, kernels and all.\n"
      "  uint64_t profiled_runs() const { return profile_.runs; }\n");
  add(c, "profiled_seconds", 0, true,
      "  double profiled_seconds() const { return static_cast<double>(profile_.run_ns) / 1e9; "
      "}\n");
  add(c, "profile_report", 0, true,
      "  // The profile as the table `hloc run --profile` prints (kernels by time,\n"
      "  // with their share of the runs and their TensorFlow ops).\n"
      "  std::string profile_report() const {\n"
      "    hloc_profile empty = {};\n"
      "    const hloc_profile *p = &profile_;\n"
      "    if (!profile_.kernel_ns) {\n"
      "      if (hloc_profile_init(&empty, &%s_program)) return std::string();\n"
      "      p = &empty;\n"
      "    }\n"
      "    char *text = hloc_profile_report(p);\n"
      "    std::string report = text ? text : \"\";\n"
      "    std::free(text);\n"
      "    hloc_profile_release(&empty);\n"
      "    return report;\n"
      "  }\n\n",
      n);
}

/* The members that do not depend on one argument or result. */
static void fixed_members(Class *c, size_t align, size_t arg_bytes, const size_t *offsets,
                          size_t total) {
  const CgSignature *sig = c->sig;
  const char *n = sig->name, *cls = c->cls;
  int nbuf = sig->nargs + sig->nresults;
  add(c, NULL, 0, false,
      "  // The numbers of arguments and results, the scratch arena each instance\n"
      "  // owns and the alignment of every buffer it allocates.\n"
      "  static constexpr size_t kNumArgs = %d;\n"
      "  static constexpr size_t kNumResults = %d;\n"
      "  static constexpr size_t kScratchBytes = %zu;\n"
      "  static constexpr size_t kAlign = %zu;\n\n",
      sig->nargs, sig->nresults, sig->scratch_bytes, align);
  add(c, NULL, 0, false,
      "  // What the constructor allocates: everything, or the results and the\n"
      "  // scratch arena only (then set_argN_data must give every argument\n"
      "  // before Run).  tfcompile's older name for the first is an alias.\n"
      "  enum class AllocMode {\n"
      "    ARGS_VARIABLES_RESULTS_PROFILES_AND_TEMPS,\n"
      "    RESULTS_PROFILES_AND_TEMPS_ONLY,\n"
      "    ARGS_RESULTS_PROFILES_AND_TEMPS = ARGS_VARIABLES_RESULTS_PROFILES_AND_TEMPS,\n"
      "  };\n\n");

  /* The constructor: one block, the arguments (unless skipped), the
   * results and the scratch arena at the offsets computed here. */
  HloStr ctor = {0};
  hlo_str_printf(&ctor,
                 "  explicit %s(AllocMode alloc_mode =\n"
                 "                  AllocMode::ARGS_VARIABLES_RESULTS_PROFILES_AND_TEMPS) {\n"
                 "    const bool args = alloc_mode != AllocMode::RESULTS_PROFILES_AND_TEMPS_ONLY;\n"
                 "    const size_t skip = args ? 0 : %zu, bytes = %zu - skip;\n"
                 "    block_ = std::calloc(bytes + kAlign, 1);\n"
                 "    if (!block_) {\n"
                 "      error_msg_ = \"cannot allocate \" + std::to_string(bytes) + \" bytes for "
                 "the buffers\";\n"
                 "      return;\n"
                 "    }\n"
                 "    const uintptr_t misalign = reinterpret_cast<uintptr_t>(block_) %% kAlign;\n"
                 "    char *base = static_cast<char *>(block_) + (misalign ? kAlign - misalign : "
                 "0);\n",
                 cls, arg_bytes, total);
  if (sig->nargs) {
    hlo_str_printf(&ctor, "    if (args) {\n");
    for (int i = 0; i < sig->nargs; i++)
      hlo_str_printf(&ctor, "      buffers_[%d] = base + %zu;\n", i, offsets[i]);
    hlo_str_printf(&ctor, "    }\n");
  }
  for (int i = sig->nargs; i < nbuf; i++)
    hlo_str_printf(&ctor, "    buffers_[%d] = base + (%zu - skip);\n", i, offsets[i]);
  if (sig->scratch_bytes && !*sig->gpu_sm)
    hlo_str_printf(&ctor, "    scratch_ = base + (%zu - skip);\n", offsets[nbuf]);
  else if (!nbuf)
    hlo_str_printf(&ctor, "    (void)base;\n");
  hlo_str_printf(&ctor, "  }\n");
  add(c, NULL, 0, false, "%s", ctor.buf);
  free(ctor.buf);
  add(c, NULL, 0, false,
      "  ~%s() {\n    std::free(block_);\n    hloc_profile_release(&profile_);\n%s  }\n", cls,
      *sig->gpu_sm ? "    hloc_cuda_close(gpu_);\n" : "");
  add(c, NULL, 0, false, "  %s(const %s &) = delete;\n  %s &operator=(const %s &) = delete;\n\n",
      cls, cls, cls, cls);

  HloStr run = {0};
  hlo_str_printf(&run,
                 "  // Runs the function on the argument buffers into the result buffers.\n"
                 "  // Returns true on success; false when the buffers could not be allocated,\n"
                 "  // an argument was never set, or the run was cancelled (set_cancel_flag),\n"
                 "  // with the reason in error_msg().\n"
                 "  bool Run() {\n"
                 "    if (!block_) return false;\n");
  for (int i = 0; i < sig->nargs; i++)
    hlo_str_printf(&run,
                   "    if (!buffers_[%d]) {\n"
                   "      error_msg_ = \"argument %d ('%s') is not set: call set_arg%d_data\";\n"
                   "      return false;\n"
                   "    }\n",
                   i, i, sig->args[i].name, i);
  if (*sig->gpu_sm) {
    /* On the GPU: through the runtime's run on host buffers, which
     * copies them to the device and back (the entry alone would launch
     * nothing), on the GPU the instance opens at its first Run. */
    hlo_str_printf(&run,
                   "    char err[1024];\n"
                   "    if (!gpu_ && (hloc_cuda_open(&gpu_, err, sizeof err) ||\n"
                   "                  %s_cuda_load(gpu_, err, sizeof err))) {\n"
                   "      hloc_cuda_close(gpu_);\n"
                   "      gpu_ = nullptr;\n"
                   "      error_msg_ = err;\n"
                   "      return false;\n"
                   "    }\n"
                   "    hloc_cuda_run_options options = {};\n"
                   "    options.cancel = cancel_;\n"
                   "    options.profile = profiling_ ? &profile_ : nullptr;\n"
                   "    if (hloc_cuda_run_host_with(gpu_, &%s_program, buffers_, &options, err,\n"
                   "                                sizeof err)) {\n"
                   "      error_msg_ = options.cancelled ? std::string(\"cancelled at \") + "
                   "options.where\n"
                   "                                     : std::string(err);\n"
                   "      return false;\n"
                   "    }\n"
                   "    error_msg_.clear();\n"
                   "    return true;\n"
                   "  }\n",
                   n, n);
  } else {
    hlo_str_printf(&run,
                   "    static const int32_t never = 0;\n"
                   "    const int32_t *cancel = cancel_ ? cancel_ : &never;\n"
                   "    RtThreadPool *previous = thread_pool_ ? hloc_use_thread_pool(thread_pool_) "
                   ": nullptr;\n"
                   "    const int status = profiling_\n"
                   "                           ? hloc_profile_run(&profile_, buffers_, scratch_, "
                   "cancel)\n"
                   "                           : %s_run_buffers_cancellable(buffers_, scratch_, "
                   "cancel);\n"
                   "    if (thread_pool_) hloc_use_thread_pool(previous);\n"
                   "    if (status == 0) {\n"
                   "      error_msg_.clear();\n"
                   "      return true;\n"
                   "    }\n"
                   "    const char *where = hloc_program_cancel_point(&%s_program, status);\n"
                   "    error_msg_ = where ? std::string(\"cancelled at \") + where\n"
                   "                       : \"failed with status \" + std::to_string(status);\n"
                   "    return false;\n"
                   "  }\n",
                   n, n);
  }
  add(c, "Run", 0, false, "%s", run.buf);
  free(run.buf);
  add(c, "error_msg", 0, true,
      "  // Why the last Run failed (empty after a success).\n"
      "  const std::string &error_msg() const { return error_msg_; }\n\n");

  add(c, "set_thread_pool", 1, false,
      "  // The pool Run's large loops are split on (hloc_use_thread_pool around\n"
      "  // the call); nullptr: the process's pool, if any (hloc_set_thread_pool).\n"
      "  // The caller keeps it alive while it is set.\n"
      "  void set_thread_pool(RtThreadPool *pool) { thread_pool_ = pool; }\n");
  add(c, "thread_pool", 0, true,
      "  RtThreadPool *thread_pool() const { return thread_pool_; }\n");
  add(c, "set_cancel_flag", 1, false,
      "  // A flag another thread may set (atomically) to stop Run, which then\n"
      "  // returns false naming where it stopped; nullptr: never cancelled.\n"
      "  void set_cancel_flag(const int32_t *flag) { cancel_ = flag; }\n\n");
  profile_members(c);

  add(c, NULL, 0, false,
      "  // The buffers by index.  set_arg_data may be called in either mode and\n"
      "  // must be in RESULTS_PROFILES_AND_TEMPS_ONLY; such a buffer must be\n"
      "  // aligned to the element type and must not overlap another.\n");
  add(c, "set_arg_data", 2, false,
      "  void set_arg_data(size_t index, const void *data) {\n"
      "    buffers_[index] = const_cast<void *>(data);\n"
      "  }\n");
  add(c, "arg_data", 1, false, "  void *arg_data(size_t index) { return buffers_[index]; }\n");
  add(c, "arg_data", 1, true,
      "  const void *arg_data(size_t index) const { return buffers_[index]; }\n");
  add(c, "result_data", 1, false,
      "  void *result_data(size_t index) { return buffers_[kNumArgs + index]; }\n");
  add(c, "result_data", 1, true,
      "  const void *result_data(size_t index) const { return buffers_[kNumArgs + index]; }\n");
  add(c, "num_args", 0, true,
      "  int num_args() const { return static_cast<int>(kNumArgs); }\n");
  add(c, "num_results", 0, true,
      "  int num_results() const { return static_cast<int>(kNumResults); }\n");
  add(c, "ArgSize", 1, false,
      "  static size_t ArgSize(size_t index) { return %s_program.args[index].bytes; }\n", n);
  add(c, "ResultSize", 1, false,
      "  static size_t ResultSize(size_t index) { return %s_program.results[index].bytes; }\n", n);
  add(c, "arg_size", 1, true,
      "  size_t arg_size(size_t index) const { return ArgSize(index); }\n");
  add(c, "result_size", 1, true,
      "  size_t result_size(size_t index) const { return ResultSize(index); }\n\n");

  char *arg_names = name_table(sig->args, sig->nargs);
  char *result_names = name_table(sig->results, sig->nresults);
  add(c, NULL, 0, false,
      "  // The names of the arguments and results (the config's feeds and fetches\n"
      "  // as the C header names them), ending with nullptr; the index of a name,\n"
      "  // or -1.\n");
  add(c, "ArgNames", 0, false,
      "  static const char *const *ArgNames() {\n"
      "    %s\n"
      "    return kNames;\n"
      "  }\n",
      arg_names);
  add(c, "ResultNames", 0, false,
      "  static const char *const *ResultNames() {\n"
      "    %s\n"
      "    return kNames;\n"
      "  }\n",
      result_names);
  free(arg_names);
  free(result_names);
  add(c, "LookupArgIndex", 1, false,
      "  static int LookupArgIndex(const std::string &name) {\n"
      "    for (int i = 0; ArgNames()[i]; i++)\n"
      "      if (name == ArgNames()[i]) return i;\n"
      "    return -1;\n"
      "  }\n");
  add(c, "LookupResultIndex", 1, false,
      "  static int LookupResultIndex(const std::string &name) {\n"
      "    for (int i = 0; ResultNames()[i]; i++)\n"
      "      if (name == ResultNames()[i]) return i;\n"
      "    return -1;\n"
      "  }\n");
  char *shape = program_shape(sig);
  add(c, "program_shape", 0, false,
      "  // The signature as text: \"(name: dtype[dims], ...) -> (...)\".\n"
      "  static const char *program_shape() { return \"%s\"; }\n",
      shape);
  free(shape);
  add(c, "program", 0, false,
      "  // The C descriptor of the same function.\n"
      "  static const hloc_program &program() { return %s_program; }\n\n",
      n);
  if (sig->separate_weights)
    add(c, "LoadWeights", 1, false,
        "  // Loads the weights file compiled with the object (%s_load_weights);\n"
        "  // call it once, before the first Run of any instance.  False, with\n"
        "  // error_msg() saying why, when the file is refused.\n"
        "  bool LoadWeights(const std::string &path) {\n"
        "    char err[512];\n"
        "    if (%s_load_weights(path.c_str(), err, sizeof err) == 0) return true;\n"
        "    error_msg_ = err;\n"
        "    return false;\n"
        "  }\n\n",
        n, n);
}

/* Adds the comment and the accessors of one argument or result. */
static void buffer_members(Class *c, bool arg, int index) {
  const CgBufferInfo *b = arg ? &c->sig->args[index] : &c->sig->results[index];
  HloStr comment = {0};
  hlo_str_printf(&comment, "  // %s %d, %s: ", arg ? "Argument" : "Result", index, b->name);
  shape_text(&comment, b);
  add(c, NULL, 0, false, "%s\n", comment.buf);
  free(comment.buf);
  accessors(c, arg, index, NULL);
  accessors(c, arg, index, b->name);
  add(c, NULL, 0, false, "\n");
}

HloError *cg_header_cpp(const CgSignature *sig, const char *cpp_class, const char *c_header,
                        char **out) {
  *out = NULL;
  const char *n = sig->name;
  char *qualified = cpp_class ? strdup(cpp_class) : camel_case(n);
  HLO_CHECK(qualified);
  /* The namespaces, outermost first, then the class's own name. */
  int nspaces = 0;
  for (const char *p = qualified; (p = strstr(p, "::")); p += 2) nspaces++;
  const char **spaces = hlo_xmalloc((size_t)(nspaces + 1) * sizeof *spaces);
  char *cls = qualified;
  for (int i = 0; i < nspaces; i++) {
    spaces[i] = cls;
    cls = strstr(cls, "::") + 2;
  }
  Class c = {.sig = sig, .cls = cls};

  /* One block: arguments, results, scratch, each at an aligned offset. */
  size_t align = sig->scratch_align > 64 ? sig->scratch_align : 64, at = 0;
  int nbuf = sig->nargs + sig->nresults;
  size_t *offsets = hlo_xmalloc((size_t)(nbuf + 1) * sizeof *offsets);
  for (int i = 0; i < nbuf; i++) {
    offsets[i] = at;
    const CgBufferInfo *b = i < sig->nargs ? &sig->args[i] : &sig->results[i - sig->nargs];
    at = round_up(at + b->bytes, align);
  }
  offsets[nbuf] = at;
  /* A GPU program's scratch arena is on the device, allocated by each run. */
  size_t total = round_up(at + (*sig->gpu_sm ? 0 : sig->scratch_bytes), align);

  add(&c, NULL, 0, false, " public:\n");
  fixed_members(&c, align, offsets[sig->nargs], offsets, total);
  free(offsets);
  for (int i = 0; i < sig->nargs; i++) buffer_members(&c, true, i);
  for (int i = 0; i < sig->nresults; i++) buffer_members(&c, false, i);
  add(&c, NULL, 0, false,
      " private:\n"
      "  void *block_ = nullptr;  // the one allocation\n"
      "  void *buffers_[%d] = {};  // the arguments, then the results\n"
      "  void *scratch_ = nullptr;\n"
      "  RtThreadPool *thread_pool_ = nullptr;\n"
      "  const int32_t *cancel_ = nullptr;\n"
      "  bool profiling_ = false;\n"
      "  hloc_profile profile_ = {};  // counters allocated by set_profiling(true)\n"
      "  std::string error_msg_;\n%s",
      nbuf ? nbuf : 1, *sig->gpu_sm ? "  hloc_cuda *gpu_ = nullptr;  // opened by the first Run\n" : "");

  HloError *e = NULL;
  if (c.clash) {
    e = hlo_error("--emit cpp: the class %s would have a member of its own name, '%s' "
                  "(choose another with --cpp-class)",
                  qualified, c.clash);
  } else {
    HloStr s = {0};
    hlo_str_printf(&s,
                   "// Generated by hloc: the compiled function \"%s\" as the C++ class\n"
                   "// %s, shaped like tfcompile's classes.  Header-only: it wraps\n"
                   "// %s (the C API); link the object and the hloc runtime.\n"
                   "//\n"
                   "//   %s computation;\n"
                   "//   // ... set the arguments with set_argN_data, argN_data or argN(i, ...)\n"
                   "//   if (!computation.Run()) puts(computation.error_msg().c_str());\n"
                   "//   // ... read the results with resultN_data or resultN(i, ...)\n"
                   "//\n"
                   "// Each instance owns its buffers, so instances may run concurrently;\n"
                   "// buffers are dense row-major arrays of the C header's element types.\n"
                   "#ifndef HLOC_GENERATED_%s_HPP\n"
                   "#define HLOC_GENERATED_%s_HPP\n\n"
                   "#include <cstddef>\n"
                   "#include <cstdint>\n"
                   "#include <cstdlib>\n"
                   "#include <string>\n\n",
                   n, qualified, c_header ? c_header : "the declarations above", qualified, n, n);
    if (c_header) hlo_str_printf(&s, "#include \"%s\"\n\n", c_header);
    for (int i = 0; i < nspaces; i++)
      hlo_str_printf(&s, "namespace %.*s {\n", (int)(strstr(spaces[i], "::") - spaces[i]),
                     spaces[i]);
    hlo_str_printf(&s, "%sclass %s final {\n", nspaces ? "\n" : "", cls);
    for (int i = 0; i < c.n; i++) hlo_str_printf(&s, "%s", c.members[i].text);
    hlo_str_printf(&s, "};\n%s", nspaces ? "\n" : "");
    for (int i = nspaces - 1; i >= 0; i--)
      hlo_str_printf(&s, "}  // namespace %.*s\n", (int)(strstr(spaces[i], "::") - spaces[i]),
                     spaces[i]);
    hlo_str_printf(&s, "\n#endif\n");
    *out = hlo_str_take(&s);
  }
  for (int i = 0; i < c.n; i++) {
    free(c.members[i].name);
    free(c.members[i].text);
  }
  free(c.members);
  free(c.clash);
  free(spaces);
  free(qualified);
  return e;
}
