/*
 * compile.c — `hloc compile`: a model to an object file and C header, a
 * static or shared library, or a standalone executable.
 *
 *   hloc compile MODEL [--config CFG] [--name N] [-o PREFIX] [--target T]
 *                [--cpu C] [--features F] [--emit obj,header,lib,so,exe,cpp]
 *                [--cpp-class NS::NAME] [--separate-weights] [--gpu-tf32] [--gpu-wgmma]
 *                [PIPELINE]
 *
 * The model goes through the pipeline of pipeline.c (the passes, unless
 * --O0) and codegen/ compiles it once; each --emit kind is then made from
 * that program:
 *
 *   obj     PREFIX.o          cg_program_object
 *   header  PREFIX.h          cg_header
 *   cpp     PREFIX.hpp        cg_header_cpp: a C++ class (--cpp-class, default
 *                             the name in CamelCase) wrapping PREFIX.h, which
 *                             is then written too
 *   lib     DIR/libBASE.a     the object and the runtime's objects, read
 *                             out of libhloc_runtime.a (archive.c)
 *   so      DIR/libBASE.so    $CC -shared: the object, the whole
 *                             runtime and library.c's stub, so a host
 *                             that dlopens it needs nothing else, and
 *                             hloc_executable_load reads it
 *   exe     PREFIX            $CC: a generated main() calling the runtime's
 *                             hloc_exe_main with N_program, the object and
 *                             the runtime (libhloc_exe.a, libhloc_runtime.a)
 *
 * With --separate-weights the constants are not in the object: PREFIX.weights
 * holds them (hloc_runtime.h says how), and the executable loads that file
 * from its own directory before it runs.
 *
 * (DIR/BASE split PREFIX at its last '/'.)  The runtime archives are those
 * this hloc was built with: next to the hloc binary, in ../lib from it (the
 * installed layout), or, for the hloc of the build tree only, in the build
 * tree (HLOC_RUNTIME_DIR, set by driver/CMakeLists.txt); for
 * another architecture, in the subdirectory named after it (aarch64/, which
 * the build makes when Debian's cross compiler is installed).  The C
 * compiler is $CC for the host and, for another architecture, $HLOC_CROSS_CC
 * (default ARCH-linux-gnu-gcc, Debian's name for the cross compiler).
 *
 * `hloc tfcompile` takes tfcompile's flags (--graph, --config, --cpp_class,
 * --out_function_object, --out_header, --out_metadata_object, --entry_point,
 * --target_triple/cpu/features, …) and makes what tf_library's genrule
 * expects: the object, one header holding the C declarations and then the
 * C++ class, and a small metadata object (compiled by the C compiler).
 *
 * Nothing is left half-made: the outputs, the C compiler's included, are
 * one set of output.c's, written under temporary names and renamed
 * together only when all of them exist.  Intermediate files for the C
 * compiler live in a private temporary directory, removed at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive.h"
#include "cli.h"
#include "library.h"
#include "output.h"

enum { EMIT_OBJ = 1, EMIT_HEADER = 2, EMIT_LIB = 4, EMIT_SO = 8, EMIT_EXE = 16, EMIT_CPP = 32 };

static const struct {
  const char *name;
  int bit;
} emit_kinds[] = {
    {"obj", EMIT_OBJ}, {"header", EMIT_HEADER}, {"lib", EMIT_LIB},
    {"so", EMIT_SO},   {"exe", EMIT_EXE},       {"cpp", EMIT_CPP},
};

/* printf into a new string (malloc'd): for paths and arguments made from
 * the user's prefix and name, whose length has no limit. */
static char *str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  HLO_CHECK(n >= 0);
  char *s = hlo_xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* The kinds of a comma-separated --emit list; 0 when one is unknown or the
 * list is empty (*bad: the first unknown kind, or NULL; malloc'd). */
static int parse_emit(const char *list, char **bad) {
  int mask = 0;
  *bad = NULL;
  for (const char *p = list;; p++) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    int bit = 0;
    for (size_t k = 0; k < sizeof emit_kinds / sizeof *emit_kinds; k++)
      if (strlen(emit_kinds[k].name) == n && !strncmp(emit_kinds[k].name, p, n))
        bit = emit_kinds[k].bit;
    if (!bit) {
      if (n) *bad = str("%.*s", (int)n, p);
      return 0;
    }
    mask |= bit;
    if (!end) return mask;
    p = end;
  }
}

/* C++'s keywords and alternative tokens: none may name a class or a
 * namespace. */
static bool is_cpp_keyword(const char *s, size_t n) {
  static const char *const words[] = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
      "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
      "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
      "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
      "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
      "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
      "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
      "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
      "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq"};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (strlen(words[i]) == n && !strncmp(words[i], s, n)) return true;
  return false;
}

/* Checks --cpp-class: NAME or NS::...::NAME, each part a C identifier that
 * is no C++ keyword.  Returns 0 or the usage error's exit status. */
static int check_cpp_class(const char *cls) {
  for (const char *p = cls;;) {
    const char *end = strstr(p, "::");
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *part = str("%.*s", (int)n, p);
    int usage = 0;
    if (!is_identifier(part))
      usage = usage_error("--cpp-class '%s' is not a C++ class name such as ns1::ns2::Name "
                          "(identifiers joined by '::')",
                          cls);
    else if (is_cpp_keyword(p, n)) {
      char *msg = str("--cpp-class '%s': '%s' is a C++ keyword", cls, part);
      usage = usage_error("%s", msg);
      free(msg);
    }
    free(part);
    if (usage || !end) return usage;
    p = end + 2;
  }
}

/* --- the runtime and the C compiler ----------------------------------------- */

/* The runtime's subdirectory for a target: "" for the host, "/ARCH" else. */
static void runtime_subdir(const CgProgram *prog, char *sub, size_t len) {
  const char *triple = cg_program_triple(prog);
  if (cg_program_is_host(prog)) *sub = '\0';
  else snprintf(sub, len, "/%.*s", (int)strcspn(triple, "-"), triple);
}

static bool has_runtime(const char *dir) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/libhloc_runtime.a", dir);
  if (access(path, R_OK)) return false;
  snprintf(path, sizeof path, "%s/libhloc_exe.a", dir);
  return !access(path, R_OK);
}

/* Whether directory `dir` is the build tree's directory of hloc
 * (HLOC_BUILD_DIR): only that binary may take the build tree's runtime, so
 * that an installed or copied hloc never links with archives a later build
 * changed, or whose build tree is gone. */
static bool in_build_tree(const char *dir) {
  struct stat a, b;
  return !stat(dir, &a) && !stat(HLOC_BUILD_DIR, &b) && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* The directory holding libhloc_runtime.a and libhloc_exe.a for the
 * architecture subdirectory `sub` ("" for the host): next to this binary or
 * in ../lib from it (an installed or copied hloc, CMake's install layout
 * bin/ and lib/), else, for the build tree's hloc, the build tree's. */
static HloError *find_runtime(const char *sub, char *dir, size_t len) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  char *slash = strrchr(self, '/');
  bool built = false;
  if (slash) {
    *slash = '\0';
    const char *const candidates[] = {"", "/../lib"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
      HloStr s = {0};
      hlo_str_printf(&s, "%s%s%s", self, candidates[i], sub);
      bool found = s.len < len && has_runtime(s.buf);
      if (found) memcpy(dir, s.buf, s.len + 1);
      free(s.buf);
      if (found) return NULL;
    }
    built = in_build_tree(self);
  }
  if (built) {
    snprintf(dir, len, "%s%s", HLOC_RUNTIME_DIR, sub);
    if (has_runtime(dir)) return NULL;
  } else {
    /* For the message below: a path too long for dir is shortened. */
    HloStr s = {0};
    hlo_str_printf(&s, "%s/../lib%s", slash ? self : ".", sub);
    size_t k = s.len < len ? s.len : len - 1;
    memcpy(dir, s.buf, k);
    dir[k] = '\0';
    free(s.buf);
  }
  if (*sub)
    return hlo_error("--emit lib, so and exe link the hloc runtime built for the target, but "
                     "there is none for %s (libhloc_runtime.a and libhloc_exe.a in %s): "
                     "build hloc with that architecture's cross compiler installed, or emit "
                     "obj,header and link them with a runtime built for it",
                     sub + 1, dir);
  if (built)
    return hlo_error("cannot find the hloc runtime (libhloc_runtime.a and libhloc_exe.a) next "
                     "to the hloc binary, in ../lib from it, or in %s",
                     HLOC_RUNTIME_DIR);
  return hlo_error("cannot find the hloc runtime (libhloc_runtime.a and libhloc_exe.a) next "
                   "to the hloc binary (%s) or in ../lib from it: install hloc with "
                   "'cmake --install', which puts them in PREFIX/lib",
                   slash ? self : "?");
}

/* The C compiler driver for a target and the variable that names it:
 * $CC (default cc) for the host, $HLOC_CROSS_CC (default ARCH-linux-gnu-gcc)
 * for architecture subdirectory `sub`. */
typedef struct CCompiler {
  char *command; /* split at spaces by run_cc (malloc'd) */
  const char *var;
} CCompiler;

static CCompiler c_compiler(const char *sub) {
  CCompiler c = {.var = *sub ? "HLOC_CROSS_CC" : "CC"};
  const char *env = getenv(c.var);
  if (env && *env) c.command = str("%s", env);
  else if (*sub) c.command = str("%s-linux-gnu-gcc", sub + 1);
  else c.command = str("cc");
  return c;
}

/* Runs the C compiler with the arguments; its diagnostics go to stderr as
 * they are. */
static HloError *run_cc(const CCompiler *cc, const char *what, const char *const *args,
                        int nargs) {
  char *words = hlo_xstrdup(cc->command);
  const char **argv = hlo_xcalloc(strlen(words) + (size_t)nargs + 2, sizeof *argv);
  int argc = 0;
  for (char *save = NULL, *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
    argv[argc++] = w;
  for (int i = 0; i < nargs; i++) argv[argc++] = args[i];
  HloStr line = {0};
  for (int i = 0; i < argc; i++) hlo_str_printf(&line, "%s%s", i ? " " : "", argv[i]);
  int status = 0, err = child_run(argv, &status);
  HloError *e = NULL;
  if (err) {
    e = hlo_error("%s: cannot run the C compiler '%s': %s (set %s to name one)", what, argv[0],
                  strerror(err), cc->var);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
    e = hlo_error("%s: the C compiler failed (%s %d): %s", what,
                  WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), line.buf);
  }
  free(line.buf);
  free(argv);
  free(words);
  return e;
}

/* --- the outputs ----------------------------------------------------------------- */

/* What one compile makes, and where. */
typedef struct Job {
  const CgProgram *prog;
  const char *name;   /* N */
  const char *prefix; /* PREFIX */
  char *dir;          /* PREFIX up to its last '/', or "." */
  const char *base;   /* PREFIX after its last '/' */
  const char *cpp_class; /* --cpp-class, or NULL */
  /* hloc tfcompile: the object, the header (C declarations and the C++
   * class in one file) and the metadata object go to these paths */
  const char *out_object, *out_header, *out_metadata;
  char runtime[PATH_MAX];
  CCompiler cc;        /* the C compiler for the target */
  char *work;         /* private temporary directory; NULL until made */
  CgObjectFile obj;   /* the object, in pieces (the weights are the
                       * program's: never copied into one buffer) */
  char *objpath;      /* the object in `work`, for the C compiler … */
  char *stub;         /* … the executable's main() … */
  char *lib_stub;     /* … and the model library's symbols (library.c) */
  /* An entry with bounded dynamic dims, which the passes gave sizes: the
   * masks of its parameters' leaves, then its results' (the executable's
   * table, hloc_exe_main_dynamic); NULL for a static entry. */
  uint32_t *dyn_masks;
  int dyn_args, dyn_results;
  Outputs outputs;
} Job;

static HloError *emit_lib(Job *j) {
  char runtime[PATH_MAX + 32], *path = str("%s/lib%s.a", j->dir, j->base);
  snprintf(runtime, sizeof runtime, "%s/libhloc_runtime.a", j->runtime);
  ArMember *rt;
  int nrt;
  HloError *e = ar_read(runtime, &rt, &nrt);
  if (e) {
    free(path);
    return e;
  }
  ArMember *members = hlo_xcalloc((size_t)nrt + 1, sizeof *members);
  HloStr objname = {0}, obj = {0};
  hlo_str_printf(&objname, "%s.o", j->base);
  for (int i = 0; i < j->obj.npieces; i++)
    if (j->obj.pieces[i].iov_len)
      hlo_str_append(&obj, j->obj.pieces[i].iov_base, j->obj.pieces[i].iov_len);
  members[0] = (ArMember){objname.buf, (unsigned char *)obj.buf, obj.len};
  for (int i = 0; i < nrt; i++) members[i + 1] = rt[i];
  HloStr archive = {0};
  e = ar_build(members, nrt + 1, &archive);
  if (!e) e = outputs_write_bytes(&j->outputs, path, archive.buf, archive.len);
  free(archive.buf);
  free(obj.buf);
  free(objname.buf);
  free(members);
  free(path);
  ar_members_free(rt, nrt);
  return e;
}

/* The object as a file in the work directory, for the C compiler. */
static HloError *work_object(Job *j) {
  if (j->objpath) return NULL;
  HloError *e = temp_make("hloc", true, &j->work);
  if (e) return e;
  HloStr path = {0};
  hlo_str_printf(&path, "%s/model.o", j->work);
  j->objpath = hlo_str_take(&path);
  temp_add(j->objpath, false);
  return write_file(j->objpath, j->obj.pieces, j->obj.npieces);
}

/* DIR/libBASE.so: a model library (library.c), which hloc_executable_load
 * reads; a GPU program's names its N_cuda_image. */
static HloError *emit_so(Job *j) {
  HloError *e = work_object(j);
  if (e) return e;
  HloStr stub = {0};
  hlo_str_printf(&stub, "%s/library.c", j->work);
  j->lib_stub = hlo_str_take(&stub);
  temp_add(j->lib_stub, false);
  char *text = library_stub(j->name, *cg_program_signature(j->prog)->gpu_sm != '\0');
  e = write_file(j->lib_stub, &(struct iovec){text, strlen(text)}, 1);
  free(text);
  if (e) return e;
  char runtime[PATH_MAX + 32], *path = str("%s/lib%s.so", j->dir, j->base);
  char *soname = str("-Wl,-soname,lib%s.so", j->base);
  snprintf(runtime, sizeof runtime, "%s/libhloc_runtime.a", j->runtime);
  const char *args[LIBRARY_LINK_MAX_ARGS];
  int n = library_link_args(outputs_add(&j->outputs, path), soname, j->lib_stub, j->objpath,
                            runtime, args);
  e = run_cc(&j->cc, path, args, n);
  free(path);
  free(soname);
  return e;
}

static HloError *emit_exe(Job *j) {
  char runtime[PATH_MAX + 32], exe[PATH_MAX + 32];
  HloError *e = work_object(j);
  if (e) return e;
  HloStr stub = {0};
  hlo_str_printf(&stub, "%s/main.c", j->work);
  j->stub = hlo_str_take(&stub);
  temp_add(j->stub, false);
  HloStr text = {0}, call = {0};
  const CgSignature *sig = cg_program_signature(j->prog);
  hlo_str_printf(&text,
                 "/* Generated by hloc: the main of the executable of model \"%s\". */\n"
                 "#include <stdint.h>\n"
                 "struct hloc_program;\n"
                 "extern const struct hloc_program %s_program;\n"
                 "int hloc_exe_main(const struct hloc_program *p, int argc, char **argv);\n",
                 j->name, j->name);
  if (*sig->gpu_sm)
    hlo_str_printf(&text,
                   "struct hloc_cuda_image;\n"
                   "extern const struct hloc_cuda_image %s_cuda_image;\n"
                   "int hloc_exe_main_cuda(const struct hloc_program *p,\n"
                   "                       const struct hloc_cuda_image *img, int argc, "
                   "char **argv);\n",
                   j->name);
  if (j->dyn_masks) {
    /* The table of bounded dynamic dims (hloc_runtime.h, hloc_dynamic_dims). */
    hlo_str_printf(&text,
                   "struct hloc_cuda_image;\n"
                   "struct hloc_dynamic_dims {\n"
                   "  int32_t num_args, num_results;\n"
                   "  const uint32_t *args, *results;\n"
                   "};\n"
                   "int hloc_exe_main_dynamic(const struct hloc_program *p,\n"
                   "                          const struct hloc_cuda_image *img,\n"
                   "                          const struct hloc_dynamic_dims *dyn, int argc,\n"
                   "                          char **argv);\n"
                   "static const uint32_t %s_dynamic_masks[] = {",
                   j->name);
    for (int i = 0; i < j->dyn_args + j->dyn_results; i++)
      hlo_str_printf(&text, "%s%uu", i ? ", " : "", (unsigned)j->dyn_masks[i]);
    hlo_str_printf(&text,
                   "};\n"
                   "static const struct hloc_dynamic_dims %s_dynamic = {\n"
                   "    %d, %d, %s_dynamic_masks, %s_dynamic_masks + %d};\n",
                   j->name, j->dyn_args, j->dyn_results, j->name, j->name, j->dyn_args);
    if (*sig->gpu_sm)
      hlo_str_printf(&call,
                     "hloc_exe_main_dynamic(&%s_program, &%s_cuda_image, &%s_dynamic, argc, "
                     "argv)",
                     j->name, j->name, j->name);
    else
      hlo_str_printf(&call, "hloc_exe_main_dynamic(&%s_program, 0, &%s_dynamic, argc, argv)",
                     j->name, j->name);
  } else if (*sig->gpu_sm && !sig->separate_weights) {
    hlo_str_printf(&call, "hloc_exe_main_cuda(&%s_program, &%s_cuda_image, argc, argv)", j->name,
                   j->name);
  } else {
    hlo_str_printf(&call, "hloc_exe_main(&%s_program, argc, argv)", j->name);
  }
  if (sig->separate_weights)
    hlo_str_printf(&text,
                   "int hloc_exe_load_weights(const char *file, void *dst, uint64_t bytes,\n"
                   "                          uint64_t fingerprint);\n"
                   "extern unsigned char %s_weights[];\n"
                   "int main(int argc, char **argv) {\n"
                   "  int status = hloc_exe_load_weights(\"%s.weights\", %s_weights, %zuu,\n"
                   "                                     UINT64_C(0x%016" PRIx64 "));\n"
                   "  return status ? status : %s;\n"
                   "}\n",
                   j->name, j->base, j->name, sig->weights_bytes, sig->weights_fingerprint,
                   call.buf);
  else
    hlo_str_printf(&text, "int main(int argc, char **argv) { return %s; }\n", call.buf);
  e = write_file(j->stub, &(struct iovec){text.buf, text.len}, 1);
  free(text.buf);
  free(call.buf);
  if (e) return e;
  snprintf(exe, sizeof exe, "%s/libhloc_exe.a", j->runtime);
  snprintf(runtime, sizeof runtime, "%s/libhloc_runtime.a", j->runtime);
  const char *args[] = {"-o", outputs_add(&j->outputs, j->prefix), j->stub, j->objpath, exe,
                        runtime, "-lm", "-pthread"};
  return run_cc(&j->cc, j->prefix, args, sizeof args / sizeof *args);
}

/* PREFIX.weights: the header hloc_load_weights checks, then the bytes
 * N_weights holds. */
static HloError *emit_weights(Job *j) {
  const CgSignature *sig = cg_program_signature(j->prog);
  struct iovec *weights;
  int n = cg_program_weights(j->prog, &weights);
  size_t len = sig->weights_bytes;
  unsigned char head[HLOC_WEIGHTS_HEADER_BYTES] = {0};
  memcpy(head, HLOC_WEIGHTS_MAGIC, 8);
  for (int i = 0; i < 8; i++) {
    head[8 + i] = (unsigned char)((uint64_t)len >> (8 * i));
    head[16 + i] = (unsigned char)(sig->weights_fingerprint >> (8 * i));
  }
  HloStr path = {0};
  hlo_str_printf(&path, "%s.weights", j->prefix);
  struct iovec *parts = hlo_xcalloc((size_t)n + 1, sizeof *parts);
  parts[0] = (struct iovec){head, sizeof head};
  memcpy(parts + 1, weights, (size_t)n * sizeof *parts);
  HloError *e = outputs_write(&j->outputs, path.buf, parts, n + 1);
  free(parts);
  free(weights);
  free(path.buf);
  return e;
}

/* hloc tfcompile's header: the C declarations, then the C++ class. */
static HloError *emit_tfcompile_header(Job *j) {
  const CgSignature *sig = cg_program_signature(j->prog);
  char *h = cg_header(sig), *hpp = NULL;
  HloError *e = cg_header_cpp(sig, j->cpp_class, NULL, &hpp);
  if (!e) {
    struct iovec parts[3] = {{h, strlen(h)}, {"\n", 1}, {hpp, strlen(hpp)}};
    e = outputs_write(&j->outputs, j->out_header, parts, 3);
  }
  free(h);
  free(hpp);
  return e;
}

/* hloc tfcompile's metadata object (tf_library links one): the object
 * holds everything, so this one only names the model and its class. */
static HloError *emit_metadata(Job *j) {
  HloError *e = j->work ? NULL : temp_make("hloc", true, &j->work);
  if (e) return e;
  char *src = str("%s/metadata.c", j->work);
  temp_add(src, false);
  char *text = str("/* Generated by hloc tfcompile: metadata of model \"%s\" (class %s). */\n"
                   "const char %s_tfcompile_class[] = \"%s\";\n",
                   j->name, j->cpp_class, j->name, j->cpp_class);
  e = write_file(src, &(struct iovec){text, strlen(text)}, 1);
  const char *args[] = {"-c", "-o", outputs_add(&j->outputs, j->out_metadata), src};
  if (!e) e = run_cc(&j->cc, j->out_metadata, args, sizeof args / sizeof *args);
  temp_remove(src);
  free(src);
  free(text);
  return e;
}

/* Removes the work directory and what it holds. */
static void remove_work(Job *j) {
  char *paths[] = {j->stub, j->lib_stub, j->objpath, j->work};
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
    if (paths[i]) temp_remove(paths[i]);
    free(paths[i]);
  }
}

/* Makes every output of emit, under temporary names. */
static HloError *emit_outputs(Job *j, int emit) {
  HloError *e = NULL;
  if (emit & (EMIT_OBJ | EMIT_LIB | EMIT_SO | EMIT_EXE))
    e = cg_program_object(j->prog, &j->obj);
  if (!e && (emit & EMIT_OBJ)) {
    char *path = j->out_object ? str("%s", j->out_object) : str("%s.o", j->prefix);
    e = outputs_write(&j->outputs, path, j->obj.pieces, j->obj.npieces);
    free(path);
  }
  if (!e && j->out_header) e = emit_tfcompile_header(j);
  if (!e && j->out_metadata) e = emit_metadata(j);
  if (!e && (emit & EMIT_HEADER)) {
    char *path = str("%s.h", j->prefix), *h = cg_header(cg_program_signature(j->prog));
    e = outputs_write_bytes(&j->outputs, path, h, strlen(h));
    free(h);
    free(path);
  }
  if (!e && (emit & EMIT_CPP)) {
    char *path = str("%s.hpp", j->prefix), *include = str("%s.h", j->base), *hpp;
    e = cg_header_cpp(cg_program_signature(j->prog), j->cpp_class, include, &hpp);
    if (!e) e = outputs_write_bytes(&j->outputs, path, hpp, strlen(hpp));
    free(hpp);
    free(include);
    free(path);
  }
  if (!e && cg_program_signature(j->prog)->separate_weights) e = emit_weights(j);
  if (!e && (emit & EMIT_LIB)) e = emit_lib(j);
  if (!e && (emit & EMIT_SO)) e = emit_so(j);
  if (!e && (emit & EMIT_EXE)) e = emit_exe(j);
  return e;
}

/* The masks of the dynamic dims of the entry's parameters' leaves and
 * results as written (before the passes give them sizes), into j. */
static void entry_dynamic_masks(const HloComputation *entry, Job *j) {
  int nargs = 0, nres = 0;
  for (int p = 0; p < entry->nparams; p++)
    pipeline_shape_leaves(&entry->params[p]->shape, NULL, &nargs);
  pipeline_shape_leaves(&entry->root->shape, NULL, &nres);
  HloShape *leaves = hlo_xcalloc((size_t)(nargs + nres) + 1, sizeof *leaves);
  int n = 0;
  for (int p = 0; p < entry->nparams; p++)
    pipeline_shape_leaves(&entry->params[p]->shape, leaves, &n);
  pipeline_shape_leaves(&entry->root->shape, leaves, &n);
  j->dyn_masks = hlo_xcalloc((size_t)n + 1, sizeof *j->dyn_masks);
  for (int i = 0; i < n; i++) j->dyn_masks[i] = leaves[i].dynamic;
  j->dyn_args = nargs;
  j->dyn_results = nres;
  free(leaves);
}

/* Loads, optimizes and compiles `model`, then makes the outputs of `emit`
 * (and, for hloc tfcompile, j's explicit paths) as one set. */
static int compile_and_emit(const char *model, PipelineFlags *flags, CgOptions *opts, Job *j,
                            int emit) {
  const char *slash = strrchr(j->prefix, '/');
  j->dir = !slash              ? str(".")
           : slash == j->prefix ? str("/")
                                : str("%.*s", (int)(slash - j->prefix), j->prefix);
  struct stat st;
  if (stat(j->dir, &st) || !S_ISDIR(st.st_mode)) {
    HloError *e = hlo_error("%s %s: '%s' is not a directory", j->out_header ? "--out_header" : "-o",
                            j->prefix, j->dir);
    free(j->dir);
    return report(e);
  }

  Model md;
  CliClock clock;
  cli_clock_start(&clock, flags);
  HloError *e = pipeline_load_file(model, &flags->source, &md);
  cli_stage(&clock, "load %s", model);
  bool dynamic = !e && pipeline_entry_is_dynamic(md.m->entry);
  if (dynamic) entry_dynamic_masks(md.m->entry, j);
  if (!e) e = pipeline_optimize(&md, &flags->opts, opts);
  cli_stage(&clock, "%s", flags->opts.no_passes ? "verify (--O0: no passes)" : "passes");
  /* Still dynamic: codegen refuses it, naming the instruction. */
  if (!e && dynamic && pipeline_entry_is_dynamic(md.m->entry)) {
    free(j->dyn_masks);
    j->dyn_masks = NULL;
  }
  if (e) {
    model_free(&md);
    free(j->dyn_masks);
    free(j->dir);
    return report(e);
  }
  CgProgram *prog = NULL;
  /* The program takes all it needs (the constants' bytes included), and
   * the module's weights are freed before LLVM runs. */
  e = pipeline_compile(&md, opts, &prog);
  cli_stage(&clock, "%s", "codegen");
  j->prog = prog;
  /* The arena the compiled code asks for (N_SCRATCH_BYTES), next to the
   * buffer plan's numbers that --stats printed before codegen. */
  if (!e && flags->stats)
    printf("compiled arena    %zu\n", cg_program_signature(prog)->scratch_bytes);
  if (!e && ((emit & (EMIT_LIB | EMIT_SO | EMIT_EXE)) || j->out_metadata)) {
    char sub[64];
    runtime_subdir(prog, sub, sizeof sub);
    if (emit & (EMIT_LIB | EMIT_SO | EMIT_EXE)) e = find_runtime(sub, j->runtime, sizeof j->runtime);
    j->cc = c_compiler(sub);
  }
  if (!e) e = emit_outputs(j, emit);
  if (!e) e = outputs_commit(&j->outputs);
  cli_stage(&clock, "write %s", j->prefix);
  outputs_discard(&j->outputs);
  remove_work(j);
  cg_object_file_free(&j->obj);
  free(j->dir);
  free(j->cc.command);
  free(j->dyn_masks);
  cg_program_free(prog);
  return e ? report(e) : EXIT_SUCCESS;
}

int cmd_compile(int argc, char **argv) {
  const char *model = NULL, *prefix = NULL, *emit_list = "obj,header", *cpp_class = NULL;
  CgOptions opts = {0};
  PipelineFlags flags = {0};
  const CliOption options[] = {
      {"--name", &opts.name}, {"-o", &prefix},
      {"--target", &opts.target}, {"--cpu", &opts.cpu},   {"--features", &opts.features},
      {"--emit", &emit_list},     {"--separate-weights", .flag = &opts.separate_weights},
      {"--gpu-tf32", .flag = &opts.gpu_tf32}, {"--gpu-wgmma", .flag = &opts.gpu_wgmma},
      {"--cpp-class", &cpp_class}, {NULL},
  };
  int usage = cli_parse("compile", argc, argv, options, NULL, &flags, &model);
  if (!usage) usage = pipeline_flags_finish(&flags, stdout, &opts);
  if (usage) return usage;
  char *bad;
  int emit = parse_emit(emit_list, &bad);
  if (!emit) {
    usage = usage_error(bad ? "compile: unknown --emit kind '%s' (kinds: obj, header, lib, so, "
                              "exe, cpp)"
                            : "compile: empty --emit list%s",
                        bad ? bad : "");
    free(bad);
    return usage;
  }
  if (cpp_class && !(emit & EMIT_CPP))
    return usage_error("compile: --cpp-class '%s' names the class of --emit cpp, which is not "
                       "asked for",
                       cpp_class);
  if (cpp_class && (usage = check_cpp_class(cpp_class))) return usage;
  /* The C++ class wraps the C header. */
  if (emit & EMIT_CPP) emit |= EMIT_HEADER;
  if (!opts.name) opts.name = "model";
  if (!is_identifier(opts.name))
    return usage_error("--name '%s' is not a C identifier (it prefixes every symbol)",
                       opts.name);
  if (!prefix) prefix = opts.name;
  const char *slash = strrchr(prefix, '/');
  if (!*prefix || (slash && !slash[1]))
    return usage_error("-o '%s' names a directory; give a file prefix such as DIR/NAME", prefix);

  Job j = {.name = opts.name, .prefix = prefix, .base = slash ? slash + 1 : prefix,
           .cpp_class = cpp_class};
  return compile_and_emit(model, &flags, &opts, &j, emit);
}

/* --- hloc tfcompile -------------------------------------------------------- */

/* tfcompile's flags, as tf_library's genrule passes them: --flag=value or
 * --flag value; booleans as --flag, --flag=true or --flag=false. */
typedef struct TfcompileFlags {
  const char *graph, *config, *cpp_class, *entry_point, *target_triple, *target_cpu,
      *target_features, *out_function_object, *out_metadata_object, *out_header, *checkpoint;
  bool dump_fetch_nodes, gen_name_to_index, gen_program_shape;
} TfcompileFlags;

/* The hloc target of an LLVM triple: its architecture, if hloc has it. */
static const char *triple_target(const char *triple) {
  static const struct {
    const char *prefix, *target;
  } archs[] = {{"x86_64", "x86_64"}, {"aarch64", "aarch64"}, {"arm64", "aarch64"}};
  for (size_t i = 0; i < sizeof archs / sizeof *archs; i++)
    if (!strncmp(triple, archs[i].prefix, strlen(archs[i].prefix)) &&
        (!triple[strlen(archs[i].prefix)] || triple[strlen(archs[i].prefix)] == '-'))
      return archs[i].target;
  return NULL;
}

static int tfcompile_flags(int argc, char **argv, TfcompileFlags *f) {
  const struct {
    const char *name;
    const char **value;
    bool *flag;
  } table[] = {
      {"graph", &f->graph},
      {"config", &f->config},
      {"cpp_class", &f->cpp_class},
      {"entry_point", &f->entry_point},
      {"target_triple", &f->target_triple},
      {"target_cpu", &f->target_cpu},
      {"target_features", &f->target_features},
      {"out_function_object", &f->out_function_object},
      {"out_metadata_object", &f->out_metadata_object},
      {"out_header", &f->out_header},
      {"checkpoint", &f->checkpoint},
      {"dump_fetch_nodes", NULL, &f->dump_fetch_nodes},
      {"gen_name_to_index", NULL, &f->gen_name_to_index},
      {"gen_program_shape", NULL, &f->gen_program_shape},
  };
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2))
      return usage_error("tfcompile: '%s': tfcompile takes flags only (--graph=FILE ...)", a);
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    size_t k = 0;
    while (k < sizeof table / sizeof *table &&
           (strlen(table[k].name) != n || strncmp(table[k].name, a + 2, n)))
      k++;
    if (k == sizeof table / sizeof *table) {
      HloStr known = {0};
      for (size_t t = 0; t < sizeof table / sizeof *table; t++)
        hlo_str_printf(&known, "%s--%s", t ? ", " : "", table[t].name);
      HloStr msg = {0};
      hlo_str_printf(&msg, "tfcompile: unknown flag '%%s' (flags: %s)", known.buf);
      int rc = usage_error(msg.buf, a);
      free(msg.buf);
      free(known.buf);
      return rc;
    }
    if (table[k].flag) {
      if (eq && strcmp(eq + 1, "true") && strcmp(eq + 1, "false"))
        return usage_error("tfcompile: '%s': a boolean flag is true or false", a);
      *table[k].flag = !eq || !strcmp(eq + 1, "true");
    } else if (eq) {
      *table[k].value = eq + 1;
    } else if (i + 1 < argc) {
      *table[k].value = argv[++i];
    } else {
      return usage_error("tfcompile: %s needs a value", a);
    }
  }
  return 0;
}

int cmd_tfcompile(int argc, char **argv) {
  TfcompileFlags f = {.entry_point = "entry", .out_function_object = "out_model.o",
                      .out_metadata_object = "out_helper.o", .out_header = "out.h"};
  int usage = tfcompile_flags(argc, argv, &f);
  if (usage) return usage;
  if (!f.config) return usage_error("tfcompile: must specify --config%s", "");
  if (f.dump_fetch_nodes) {
    Tensorflow__Tf2xla__Config *cfg;
    HloError *e = tf_config_read(f.config, &cfg);
    if (e) return report(e);
    /* the fetches' node names, sorted and without repeats, comma-separated */
    char **names = hlo_xcalloc(cfg->n_fetch + 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_fetch; i++) {
      const char *name = cfg->fetch[i]->id ? cfg->fetch[i]->id->node_name : "";
      size_t at = 0;
      while (at < n && strcmp(names[at], name) < 0) at++;
      if (at < n && !strcmp(names[at], name)) continue;
      memmove(names + at + 1, names + at, (n - at) * sizeof *names);
      names[at] = (char *)name;
      n++;
    }
    for (size_t i = 0; i < n; i++) printf("%s%s", i ? "," : "", names[i]);
    free(names);
    tensorflow__tf2xla__config__free_unpacked(cfg, NULL);
    return EXIT_SUCCESS;
  }
  if (!f.graph) return usage_error("tfcompile: must specify --graph%s", "");
  if (!f.cpp_class) return usage_error("tfcompile: must specify --cpp_class%s", "");
  if ((usage = check_cpp_class(f.cpp_class))) return usage;
  if (!is_identifier(f.entry_point))
    return usage_error("tfcompile: --entry_point '%s' is not a C identifier", f.entry_point);
  CgOptions opts = {.name = f.entry_point, .cpu = f.target_cpu, .features = f.target_features};
  if (f.target_triple && !(opts.target = triple_target(f.target_triple)))
    return usage_error("tfcompile: --target_triple '%s': hloc compiles for x86_64 and aarch64 "
                       "triples",
                       f.target_triple);
  PipelineFlags flags = {.source = {.config = f.config, .checkpoint = f.checkpoint}};
  if ((usage = pipeline_flags_finish(&flags, stdout, &opts))) return usage;
  /* The header's directory holds the outputs' temporary files. */
  char *prefix = str("%s", f.out_header);
  Job j = {.name = f.entry_point, .prefix = prefix, .cpp_class = f.cpp_class,
           .out_object = f.out_function_object, .out_header = f.out_header,
           .out_metadata = f.out_metadata_object};
  const char *slash = strrchr(prefix, '/');
  j.base = slash ? slash + 1 : prefix;
  int rc = compile_and_emit(f.graph, &flags, &opts, &j, EMIT_OBJ);
  free(prefix);
  return rc;
}
