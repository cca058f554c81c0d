/*
 * fuzz_api.c — libFuzzer harness for libhloc's C API (driver/hloc.h):
 * a byte script chooses a sequence of calls — compilers created with good
 * and bad CPU names and features, freed, or NULL; HLO text and GraphDefs
 * compiled from the input, from NULL, from paths that are not models;
 * executables queried at any index, run with complete, missing and NULL
 * buffers, given thread counts, freed — and no sequence may crash, leak
 * or abort: every failure is -1 with a message.
 *
 * Input: a byte N, N bytes of script, then the model text (an empty input
 * runs a default script on empty text), so seeds are HLO files with a
 * script in front.
 *
 * Compiling runs MLIR and LLVM, milliseconds to seconds, so the harness
 * compiles only what the fuzzer can afford: text the harness's own parse
 * and verify find small (instructions, value bytes), or that fails before
 * codegen (it does not parse or verify, which is most of what the fuzzer
 * makes), and at most two compiles per input.  Graphs are compiled only
 * when tiny (their shapes are not checked here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "hloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
  MAX_COMPILES = 2,
  MAX_INSTRUCTIONS = 24,
  MAX_VALUE_BYTES = 64 << 10,
  MAX_GRAPH_BYTES = 512,
  NEXE = 2,
};

static const char *const cpus[] = {NULL, "generic", "native", "x86-64-v3", "no-such-cpu", ""};
static const char *const features[] = {NULL, "", "+avx2", "-avx512f,-avx2", "+no-such-feature",
                                       ",,+", "avx2"};

typedef struct State {
  const char *text; /* the model text and its length */
  size_t len;
  hloc_compiler *compiler;
  hloc_executable *exe[NEXE];
  int compiles;
} State;

/* Whether compiling the text costs little: it fails before codegen, or the
 * module is small. */
static bool cheap_to_compile(const State *s) {
  HloModule *m = NULL;
  HloError *e = hlo_parse(s->text, s->len, "fuzz.hlo", &m);
  if (!e) e = hlo_verify(m);
  bool cheap = true;
  if (!e) {
    FzCost c;
    fz_cost(m, &c);
    cheap = c.instructions <= MAX_INSTRUCTIONS && c.max_bytes <= MAX_VALUE_BYTES;
  }
  hlo_error_free(e);
  hlo_module_free(m);
  return cheap;
}

/* Checks a call's contract: 0 and no error, or -1 and a message. */
static void check(const char *fn, int rc, hloc_error *err) {
  if ((rc == 0) != (err == NULL) || (rc != 0 && rc != -1) ||
      (err && !hloc_error_message(err)[0])) {
    fprintf(stderr, "%s: returned %d with error %s\n", fn, rc, err ? "set" : "NULL");
    abort();
  }
  if (err && getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz: %s: %s\n", fn, hloc_error_message(err));
  hloc_error_free(err);
}

static void compile(State *s, int variant, hloc_executable **slot) {
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  int rc;
  switch (variant % 6) {
  case 0:
  case 1:
    if (s->compiles >= MAX_COMPILES || !cheap_to_compile(s)) {
      if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz: not compiled\n");
      return;
    }
    s->compiles++;
    rc = hloc_compile_hlo(s->compiler, s->text, s->len, &exe, &err);
    break;
  case 2: /* NULL text: an error unless the length is 0 (empty text) */
    rc = hloc_compile_hlo(s->compiler, NULL, variant & 8 ? 0 : s->len + 1, &exe, &err);
    break;
  case 3:
    if (s->compiles >= MAX_COMPILES || s->len > MAX_GRAPH_BYTES) return;
    s->compiles++;
    /* the text as the graph and as its config */
    rc = hloc_compile_graphdef(s->compiler, s->text, s->len, s->text, s->len, &exe, &err);
    break;
  case 4: {
    static const char *const paths[] = {"/nonexistent/model.hlo", "/", "/dev/null", ""};
    rc = hloc_compile_hlo_file(s->compiler, paths[(variant / 8) % 4], &exe, &err);
    break;
  }
  default: {
    static const char *const paths[] = {"/nonexistent/model.pb", "/", "/dev/null", ""};
    const char *p = paths[(variant / 8) % 4];
    rc = hloc_compile_graphdef_file(s->compiler, p, p, &exe, &err);
    break;
  }
  }
  check("compile", rc, err);
  if (rc == 0) {
    hloc_executable_free(*slot);
    *slot = exe;
  } else if (exe) {
    fprintf(stderr, "a failed compile set *out\n");
    abort();
  }
}

static void query(const hloc_executable *exe, int i) {
  const char *name = hloc_executable_input_name(exe, i);
  if (name) (void)strlen(name);
  int rank = hloc_executable_input_rank(exe, i);
  const int64_t *dims = hloc_executable_input_dims(exe, i);
  int64_t n = 1;
  for (int d = 0; d < rank && dims; d++) n *= dims[d];
  (void)hloc_executable_input_dtype(exe, i);
  (void)hloc_executable_input_bytes(exe, i);
  name = hloc_executable_output_name(exe, i);
  if (name) (void)strlen(name);
  rank = hloc_executable_output_rank(exe, i);
  dims = hloc_executable_output_dims(exe, i);
  for (int d = 0; d < rank && dims; d++) n *= dims[d];
  (void)hloc_executable_output_dtype(exe, i);
  (void)hloc_executable_output_bytes(exe, i);
  (void)hloc_executable_scratch_bytes(exe);
  (void)n;
}

/* Runs exe with zeroed buffers; `how` leaves some out. */
static void execute(hloc_executable *exe, int how) {
  int ni = hloc_executable_num_inputs(exe), no = hloc_executable_num_outputs(exe);
  size_t total = hloc_executable_scratch_bytes(exe);
  for (int i = 0; i < ni; i++) total += hloc_executable_input_bytes(exe, i);
  for (int i = 0; i < no; i++) total += hloc_executable_output_bytes(exe, i);
  if (total > (64u << 20)) return; /* a graph's shapes are not bounded */
  void **in = calloc((size_t)ni + 1, sizeof *in), **out = calloc((size_t)no + 1, sizeof *out);
  for (int i = 0; i < ni; i++) in[i] = calloc(1, hloc_executable_input_bytes(exe, i) + 1);
  for (int i = 0; i < no; i++) out[i] = calloc(1, hloc_executable_output_bytes(exe, i) + 1);
  if (how % 4 == 1 && ni) {
    free(in[how / 4 % ni]);
    in[how / 4 % ni] = NULL;
  }
  if (how % 4 == 2 && no) {
    free(out[how / 4 % no]);
    out[how / 4 % no] = NULL;
  }
  hloc_error *err = NULL;
  int rc = hloc_execute(exe, how % 4 == 3 ? NULL : (const void *const *)in,
                        how % 8 == 7 ? NULL : out, &err);
  check("hloc_execute", rc, err);
  for (int i = 0; i < ni; i++) free(in[i]);
  for (int i = 0; i < no; i++) free(out[i]);
  free(in);
  free(out);
}

static void step(State *s, uint8_t b) {
  int arg = b >> 4;
  hloc_executable **slot = &s->exe[arg & 1];
  hloc_error *err = NULL;
  switch (b & 15) {
  case 0: {
    hloc_compiler_free(s->compiler);
    s->compiler = NULL;
    hloc_compiler_options o = {.cpu = cpus[arg % 6], .features = features[arg % 7]};
    int rc = hloc_compiler_create(arg & 8 ? NULL : &o, &s->compiler, &err);
    check("hloc_compiler_create", rc, err);
    break;
  }
  case 1:
    hloc_compiler_free(s->compiler);
    s->compiler = NULL;
    break;
  case 2:
  case 3:
    compile(s, arg * 2 + (b & 1), slot);
    break;
  case 4:
    for (int i = -1; i <= hloc_executable_num_inputs(*slot) + 1; i++) query(*slot, i);
    for (int i = -1; i <= hloc_executable_num_outputs(*slot) + 1; i++) query(*slot, i);
    query(*slot, arg & 1 ? 2147483647 : -2147483647 - 1);
    break;
  case 5:
  case 6:
    if (*slot) execute(*slot, arg * 2 + (b & 1));
    else check("hloc_execute", hloc_execute(NULL, NULL, NULL, &err), err);
    break;
  case 7: {
    static const int counts[] = {1, 2, 3, 0, -1, 4, 1, 2};
    check("hloc_executable_set_threads",
          hloc_executable_set_threads(*slot, counts[arg % 8], &err), err);
    (void)hloc_executable_threads(*slot);
    break;
  }
  case 8:
    hloc_executable_free(*slot);
    *slot = NULL;
    break;
  case 9: /* NULL out pointers and no error pointer */
    (void)hloc_compiler_create(NULL, NULL, NULL);
    (void)hloc_compile_hlo(s->compiler, s->text, s->len, NULL, NULL);
    (void)hloc_execute(*slot, NULL, NULL, NULL);
    (void)hloc_error_message(NULL);
    hloc_error_free(NULL);
    (void)hloc_version();
    break;
  default:
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t default_script[] = {0x00, 0x02, 0x04, 0x05, 0x17, 0x05, 0x15, 0x08};
  const uint8_t *script = default_script;
  size_t nscript = sizeof default_script, off = 0;
  if (size) {
    nscript = data[0] < size - 1 ? data[0] : size - 1;
    script = data + 1;
    off = 1 + nscript;
  }
  State s = {0};
  /* The text gets a copy of its own, so that reading past it is caught. */
  s.len = size - off;
  char *text = malloc(s.len + 1);
  memcpy(text, data + off, s.len);
  s.text = text;
  for (size_t i = 0; i < nscript && i < 64; i++) step(&s, script[i]);
  for (int k = 0; k < NEXE; k++) hloc_executable_free(s.exe[k]);
  hloc_compiler_free(s.compiler);
  free(text);
  return 0;
}
