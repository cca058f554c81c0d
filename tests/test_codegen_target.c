/*
 * test_codegen_target.c — what surrounds the kernels: targets and CPUs,
 * object and assembly emission, the exported symbols, the generated C
 * header and descriptor, names, the MLIR text, and errors.
 *
 * The last test is the user's path end to end: write N.o and N.h, compile
 * a small C program with the system's `cc` that includes N.h and links
 * N.o, run it, and compare its outputs with the evaluator (skipped with a
 * message when no `cc` is installed).  Its inputs are small integers, so
 * the dot it contains is exact in f32 and the comparison is exact.
 */
#include <elf.h>
#include <unistd.h>

#include "test_codegen_util.h"

static const char small_module[] =
    "HloModule small\n\n"
    "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
    "  ROOT c = f32[] add(a, b)\n}\n\n"
    "ENTRY main {\n  x.1 = f32[2,3] parameter(0)\n  int = s32[3] parameter(1)\n"
    "  w = f32[3,4] constant({{1, 2, 0, -1}, {0, 1, 1, 1}, {-2, 0, 3, 1}})\n"
    "  d = f32[2,4] dot(x.1, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
    "  z = f32[] constant(0)\n  zb = f32[2,4] broadcast(z), dimensions={}\n"
    "  r = f32[2,4] maximum(d, zb)\n"
    "  s = f32[2] reduce(r, z), dimensions={1}, to_apply=add\n"
    "  n = s32[3] negate(int)\n"
    "  ROOT t = (f32[2,4], f32[2], s32[3]) tuple(r, s, n)\n}\n";

static CgProgram *compile_with(const char *text, const CgOptions *o) {
  HloModule *m = ck_parse_verified(text);
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, o, &p);
  ck_assert_msg(e == NULL, "compile failed: %s", hlo_error_message(e));
  hlo_module_free(m);
  return p;
}

static HloError *compile_error(const CgOptions *o) {
  HloModule *m = ck_parse_verified(small_module);
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, o, &p);
  ck_assert_ptr_null(p);
  hlo_module_free(m);
  return e;
}

/* The global symbols an ELF64 relocatable object defines, as one
 * space-separated string " a b c ". */
static char *defined_globals(const char *obj, size_t len) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
  HloStr names = {0};
  hlo_str_append(&names, " ", 1);
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    const Elf64_Sym *sym = (const Elf64_Sym *)(obj + sh[i].sh_offset);
    const char *str = obj + sh[sh[i].sh_link].sh_offset;
    for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++)
      if (ELF64_ST_BIND(sym[k].st_info) == STB_GLOBAL && sym[k].st_shndx != SHN_UNDEF)
        hlo_str_printf(&names, "%s ", str + sym[k].st_name);
  }
  ck_assert(len > sizeof *eh);
  return hlo_str_take(&names);
}

static void check_object(const char *target, const char *cpu, int machine) {
  CgOptions o = {.name = "net", .target = target, .cpu = cpu};
  CgProgram *p = compile_with(small_module, &o);
  ck_assert_str_eq(cg_program_triple(p), machine == EM_X86_64
                                             ? "x86_64-unknown-linux-gnu"
                                             : "aarch64-unknown-linux-gnu");
  if (cpu) ck_assert_str_eq(cg_program_cpu(p), cpu);
  else ck_assert(strcmp(cg_program_cpu(p), "native") != 0); /* resolved */
  char *obj;
  size_t len;
  HloError *e = cg_program_emit(p, CG_FILE_OBJECT, &obj, &len);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
  ck_assert(len > sizeof *eh && !memcmp(eh->e_ident, ELFMAG, SELFMAG));
  ck_assert_int_eq(eh->e_ident[EI_CLASS], ELFCLASS64);
  ck_assert_int_eq(eh->e_type, ET_REL);
  ck_assert_int_eq(eh->e_machine, machine);
  /* Exactly the seven ABI symbols are exported: kernels and constants are
   * internal, so several models link together. */
  char *globals = defined_globals(obj, len);
  ck_assert_str_eq(globals, " net_run_profiled net_run net_run_cancellable net_run_buffers "
                            "net_run_buffers_cancellable net_run_buffers_profiled net_program ");
  free(globals);
  free(obj);
  char *as;
  e = cg_program_emit(p, CG_FILE_ASSEMBLY, &as, &len);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  ck_assert_ptr_nonnull(strstr(as, "net_run:"));
  free(as);
  cg_program_free(p);
}

START_TEST(object_x86_64) {
  check_object("x86_64", "x86-64-v3", EM_X86_64);
  check_object("x86_64", "skylake-avx512", EM_X86_64);
  check_object("x86_64", "znver4", EM_X86_64);
  check_object(NULL, NULL, EM_X86_64); /* the default: x86_64, native */
}
END_TEST

START_TEST(object_aarch64) {
  check_object("aarch64", "neoverse-n1", EM_AARCH64);
  check_object("aarch64", NULL, EM_AARCH64); /* generic */
  CgOptions o = {.target = "aarch64", .cpu = "neoverse-v1", .features = "+sve2"};
  cg_program_free(compile_with(small_module, &o));
}
END_TEST

static void assert_error(const CgOptions *o, const char *want1, const char *want2) {
  HloError *e = compile_error(o);
  ck_assert_ptr_nonnull(e);
  const char *msg = hlo_error_message(e);
  ck_assert_msg(strstr(msg, want1) && strstr(msg, want2), "message: %.300s", msg);
  hlo_error_free(e);
}

START_TEST(unknown_targets_list_valid_ones) {
  assert_error(&(CgOptions){.target = "riscv64"}, "unknown target 'riscv64'",
               "valid targets: x86_64, aarch64, nvptx64");
  assert_error(&(CgOptions){.cpu = "pentium9"}, "unknown CPU 'pentium9'",
               "skylake-avx512");
  /* A near miss gets a suggestion before the list. */
  assert_error(&(CgOptions){.cpu = "skylak"},
               "unknown CPU 'skylak' for x86_64 (did you mean 'skylake'?); valid CPUs:",
               "znver4");
  assert_error(&(CgOptions){.target = "aarch64", .cpu = "neoverse-n9"},
               "(did you mean 'neoverse-n1'?)", "cortex-a76");
  assert_error(&(CgOptions){.target = "aarch64", .cpu = "skylake"},
               "unknown CPU 'skylake' for aarch64", "neoverse-n1");
  assert_error(&(CgOptions){.target = "aarch64", .cpu = "native"},
               "CPU 'native'", "name a CPU");
  assert_error(&(CgOptions){.cpu = "x86-64", .features = "+avx2,+avx9"},
               "unknown feature '+avx9'", "avx512f");
  assert_error(&(CgOptions){.cpu = "x86-64", .features = "avx2"},
               "unknown feature 'avx2'", "+name or -name");
  assert_error(&(CgOptions){.name = "2fast"}, "'2fast'", "not a C identifier");
  assert_error(&(CgOptions){.arg_names = (const char *[]){"a"}, .narg_names = 1},
               "1 argument names", "2 parameters");
}
END_TEST

START_TEST(unsupported_instruction_is_an_error) {
  HloModule *m = ck_parse_verified(
      "HloModule u\n\nENTRY main {\n  x = f32[4] parameter(0)\n"
      "  ROOT c = f32[4] custom-call(x), custom_call_target=\"mystery\"\n}\n");
  char *mlir = NULL;
  HloError *e = cg_emit_mlir(m, NULL, &mlir);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_null(mlir);
  ck_assert_msg(strstr(hlo_error_message(e), "%c = f32[4]"), "%s",
                hlo_error_message(e));
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

START_TEST(mlir_text) {
  HloModule *m = ck_parse_verified(small_module);
  char *mlir = NULL;
  HloError *e = cg_emit_mlir(m, &(CgOptions){.name = "net"}, &mlir);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  /* The entry takes args, results and scratch as memrefs, then the
   * cancellation flag and the profiler as pointers; the weights are
   * a read-only global declared without its bytes (they never become text:
   * 1.0f would be 0x3F800000); kernels are private functions. */
  ck_assert_ptr_nonnull(strstr(mlir, "func.func @net_run_profiled(%0: memref<2x3xf32>, "
                                     "%1: memref<3xi32>, %2: memref<2x4xf32>, "
                                     "%3: memref<2xf32>, %4: memref<3xi32>, "));
  ck_assert_ptr_nonnull(strstr(mlir, "xi8>, %6: !llvm.ptr, %7: !llvm.ptr) -> i32 {\n"));
  ck_assert_ptr_nonnull(strstr(mlir, "memref.global constant @net_const0 : memref<3x4xf32>\n"));
  ck_assert_ptr_null(strstr(mlir, "3F800000"));
  ck_assert_ptr_nonnull(strstr(mlir, "func.func private @net_k"));
  free(mlir);
  hlo_module_free(m);
}
END_TEST

/* The lanes of the first vector in the kernel IR of HLO text for a target. */
static int lanes_of(const char *hlo, const char *target, const char *cpu, const char *features) {
  HloModule *m = ck_parse_verified(hlo);
  char *kir = NULL;
  CgOptions o = {.name = "t", .target = target, .cpu = cpu, .features = features};
  HloError *e = cg_emit_kir(m, &o, &kir);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  const char *v = strstr(kir, "vector<");
  int lanes = v ? atoi(v + 7) : 0;
  free(kir);
  hlo_module_free(m);
  return lanes;
}

static const char dot64[] =
    "HloModule d\n\nENTRY main {\n  x = f32[4,8] parameter(0)\n  w = f32[8,64] parameter(1)\n"
    "  ROOT d = f32[4,64] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n";
static const char add64[] =
    "HloModule a\n\nENTRY main {\n  x = f32[4,64] parameter(0)\n  y = f32[4,64] parameter(1)\n"
    "  ROOT s = f32[4,64] add(x, y)\n}\n";

static int dot_lanes(const char *target, const char *cpu, const char *features) {
  return lanes_of(dot64, target, cpu, features);
}

static int loop_lanes(const char *target, const char *cpu, const char *features) {
  return lanes_of(add64, target, cpu, features);
}

START_TEST(cpu_decides_vector_width) {
  /* The vector width is the target's, from the CPU's LLVM model and the
   * features named.  A matrix multiply, bound by arithmetic, takes the
   * widest: 512-bit AVX-512, 256-bit AVX, 128-bit SSE2 and NEON. */
  ck_assert_int_eq(dot_lanes("x86_64", "skylake-avx512", NULL), 16);
  ck_assert_int_eq(dot_lanes("x86_64", "znver4", NULL), 16);
  ck_assert_int_eq(dot_lanes("x86_64", "x86-64-v3", NULL), 8);
  ck_assert_int_eq(dot_lanes("x86_64", "haswell", NULL), 8);
  ck_assert_int_eq(dot_lanes("x86_64", "x86-64", NULL), 4);
  ck_assert_int_eq(dot_lanes("x86_64", "skylake-avx512", "-avx512f"), 8);
  ck_assert_int_eq(dot_lanes("x86_64", "x86-64-v3", "-avx"), 4);
  ck_assert_int_eq(dot_lanes("x86_64", "x86-64", "+avx"), 8);
  ck_assert_int_eq(dot_lanes("x86_64", "x86-64", "+avx512f"), 4); /* needs +avx too */
  ck_assert_int_eq(dot_lanes("aarch64", "neoverse-n1", NULL), 4);
  ck_assert_int_eq(dot_lanes("aarch64", NULL, NULL), 4);
  /* A loop kernel, bound by memory, takes the width the CPU's model
   * prefers: 256-bit on Intel's AVX-512 parts (their clock drops with
   * 512-bit vectors), 512 on Zen 4; prefer-256-bit moves it. */
  ck_assert_int_eq(loop_lanes("x86_64", "znver4", NULL), 16);
  ck_assert_int_eq(loop_lanes("x86_64", "skylake-avx512", NULL), 8);
  ck_assert_int_eq(loop_lanes("x86_64", "sapphirerapids", NULL), 8);
  ck_assert_int_eq(loop_lanes("x86_64", "x86-64-v3", NULL), 8);
  ck_assert_int_eq(loop_lanes("x86_64", "x86-64", NULL), 4);
  ck_assert_int_eq(loop_lanes("x86_64", "znver4", "+prefer-256-bit"), 8);
  ck_assert_int_eq(loop_lanes("x86_64", "skylake-avx512", "-prefer-256-bit"), 16);
  ck_assert_int_eq(loop_lanes("aarch64", "neoverse-n1", NULL), 4);
}
END_TEST

START_TEST(every_vector_width_is_correct) {
  /* The host runs all of them; each against the evaluator, exactly (small
   * integers: every sum is exact whatever the order). */
  static const struct {
    const char *cpu, *features;
  } targets[] = {{"x86-64", NULL},
                 {"x86-64-v3", NULL},
                 {"skylake-avx512", NULL},
                 {"skylake-avx512", "-prefer-256-bit"}};
  HloModule *m = ck_parse_verified(
      "HloModule d\n\nENTRY main {\n  x = f32[5,19] parameter(0)\n  w = f32[19,37] parameter(1)\n"
      "  ROOT d = f32[5,37] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n");
  HloLiteral *args[2];
  uint64_t seed = 7;
  for (int i = 0; i < 2; i++) {
    args[i] = hlo_literal_new(&m->entry->params[i]->shape);
    cgt_fill_values(args[i], &seed, true);
  }
  HloLiteral *want = ck_evaluate(m, args, 2);
  for (size_t c = 0; c < sizeof targets / sizeof *targets; c++) {
    CgProgram *p = NULL;
    CgOptions o = {.name = "t", .cpu = targets[c].cpu, .features = targets[c].features};
    HloError *e = cg_compile(m, &o, &p);
    ck_assert_msg(!e, "%s: %s", targets[c].cpu, hlo_error_message(e));
    CgJit *j = NULL;
    e = cg_jit(p, &j);
    ck_assert_msg(!e, "%s: %s", targets[c].cpu, hlo_error_message(e));
    cg_program_free(p);
    cgt_compare(j, args, 2, want, 0, 0);
    cg_jit_free(j);
  }
  hlo_literal_free(want);
  for (int i = 0; i < 2; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
}
END_TEST

START_TEST(signature_and_names) {
  CgOptions o = {.name = "net",
                 .result_names = (const char *[]){"probs", NULL, "probs"},
                 .nresult_names = 3};
  CgProgram *p = compile_with(small_module, &o);
  const CgSignature *s = cg_program_signature(p);
  ck_assert_str_eq(s->name, "net");
  ck_assert_int_eq(s->nargs, 2);
  ck_assert_int_eq(s->nresults, 3);
  /* HLO names become C identifiers; keywords and repeats are avoided. */
  ck_assert_str_eq(s->args[0].name, "x_1");
  ck_assert_str_eq(s->args[1].name, "int_");
  ck_assert_str_eq(s->results[0].name, "probs");
  ck_assert_str_eq(s->results[1].name, "result1");
  ck_assert_str_eq(s->results[2].name, "probs_2");
  ck_assert_int_eq(s->results[0].type, HLO_F32);
  ck_assert_int_eq(s->results[0].rank, 2);
  ck_assert_int_eq(s->results[0].dims[1], 4);
  ck_assert_uint_eq(s->results[0].bytes, 32);
  ck_assert_uint_eq(s->scratch_align, 64);
  ck_assert_uint_eq(s->scratch_bytes % 64, 0);
  char *h = cg_header(s);
  ck_assert_ptr_nonnull(strstr(h, "int net_run(const float *x_1, const int32_t *int_, "
                                  "float *probs, float *result1, int32_t *probs_2, "
                                  "void *scratch);"));
  ck_assert_ptr_nonnull(strstr(h, "extern const hloc_program net_program;"));
  ck_assert_ptr_nonnull(strstr(h, "#define net_RESULT0_DIMS {2, 4}"));
  ck_assert_ptr_nonnull(strstr(h, "#define net_ARG1_DTYPE RT_I32"));
  free(h);
  /* The JIT's descriptor says the same. */
  CgJit *j = NULL;
  HloError *e = cg_jit(p, &j);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  const hloc_program *hp = cg_jit_program(j);
  ck_assert_str_eq(hp->name, "net");
  ck_assert_int_eq(hp->num_args, 2);
  ck_assert_int_eq(hp->num_results, 3);
  ck_assert_str_eq(hp->args[0].name, "x_1");
  ck_assert_int_eq(hp->args[1].dtype, RT_I32);
  ck_assert_int_eq(hp->results[0].rank, 2);
  ck_assert_int_eq(hp->results[0].dims[0], 2);
  ck_assert_int_eq(hp->results[0].dims[1], 4);
  ck_assert_uint_eq(hp->results[2].bytes, 12);
  ck_assert_uint_eq(hp->scratch_bytes, s->scratch_bytes);
  cg_jit_free(j);
  cg_program_free(p);
}
END_TEST

START_TEST(cross_program_is_not_jitted) {
  CgProgram *p = compile_with(small_module, &(CgOptions){.target = "aarch64"});
  CgJit *j = NULL;
  HloError *e = cg_jit(p, &j);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_nonnull(strstr(hlo_error_message(e), "aarch64"));
  hlo_error_free(e);
  cg_program_free(p);
}
END_TEST

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f && fwrite(data, 1, n, f) == n, "cannot write %s", path);
  fclose(f);
}

START_TEST(object_and_header_with_cc) {
  if (system("cc --version > /dev/null 2>&1") != 0) {
    fprintf(stderr, "object_and_header_with_cc: skipped, no `cc` on PATH\n");
    return;
  }
  char dir[] = "/tmp/hloc_cg_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  CgProgram *p = compile_with(small_module, &(CgOptions){.name = "net"});
  const CgSignature *s = cg_program_signature(p);
  char path[512], *obj, *h;
  size_t len;
  HloError *e = cg_program_emit(p, CG_FILE_OBJECT, &obj, &len);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  snprintf(path, sizeof path, "%s/net.o", dir);
  write_file(path, obj, len);
  free(obj);
  h = cg_header(s);
  snprintf(path, sizeof path, "%s/net.h", dir);
  write_file(path, h, strlen(h));
  free(h);

  /* Arguments: small integers, written as raw files the harness reads. */
  HloModule *m = ck_parse_verified(small_module);
  HloLiteral *args[2];
  uint64_t seed = 42;
  for (int i = 0; i < 2; i++) {
    args[i] = hlo_literal_new(&m->entry->params[i]->shape);
    cgt_fill_values(args[i], &seed, true);
    snprintf(path, sizeof path, "%s/in%d.bin", dir, i);
    write_file(path, args[i]->data, hlo_shape_byte_size(&args[i]->shape));
  }
  /* The harness calls net_run and, through the descriptor, net_program.run,
   * and checks that both agree and that the header's constants match. */
  static const char harness[] =
      "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
      "#include \"net.h\"\n"
      "static void io(const char *p, void *b, size_t n, const char *m) {\n"
      "  FILE *f = fopen(p, m);\n"
      "  if (!f || (*m == 'r' ? fread(b, 1, n, f) : fwrite(b, 1, n, f)) != n) exit(9);\n"
      "  fclose(f);\n}\n"
      "static _Alignas(net_SCRATCH_ALIGN) unsigned char scratch[net_SCRATCH_BYTES];\n"
      "int main(void) {\n"
      "  static net_ARG0_t x[net_ARG0_ELEMENTS];\n"
      "  static net_ARG1_t i[net_ARG1_ELEMENTS];\n"
      "  static net_RESULT0_t r0[net_RESULT0_ELEMENTS], g0[net_RESULT0_ELEMENTS];\n"
      "  static net_RESULT1_t r1[net_RESULT1_ELEMENTS], g1[net_RESULT1_ELEMENTS];\n"
      "  static net_RESULT2_t r2[net_RESULT2_ELEMENTS], g2[net_RESULT2_ELEMENTS];\n"
      "  static const int64_t dims[] = net_RESULT0_DIMS;\n"
      "  io(\"in0.bin\", x, net_ARG0_BYTES, \"rb\");\n"
      "  io(\"in1.bin\", i, net_ARG1_BYTES, \"rb\");\n"
      "  if (net_run(x, i, r0, r1, r2, scratch) != 0) return 2;\n"
      "  void *bufs[] = {x, i, g0, g1, g2};\n"
      "  if (strcmp(net_program.name, \"net\") || net_program.num_args != net_NUM_ARGS\n"
      "      || net_program.num_results != net_NUM_RESULTS\n"
      "      || net_program.scratch_bytes != net_SCRATCH_BYTES\n"
      "      || net_program.results[0].dims[1] != dims[1]\n"
      "      || net_program.args[1].dtype != net_ARG1_DTYPE) return 3;\n"
      "  if (net_program.run(bufs, scratch) != 0) return 4;\n"
      "  if (memcmp(r0, g0, sizeof r0) || memcmp(r1, g1, sizeof r1)\n"
      "      || memcmp(r2, g2, sizeof r2)) return 5;\n"
      "  io(\"out0.bin\", r0, net_RESULT0_BYTES, \"wb\");\n"
      "  io(\"out1.bin\", r1, net_RESULT1_BYTES, \"wb\");\n"
      "  io(\"out2.bin\", r2, net_RESULT2_BYTES, \"wb\");\n"
      "  return 0;\n}\n";
  snprintf(path, sizeof path, "%s/main.c", dir);
  write_file(path, harness, strlen(harness));
  char cwd[512], cmd[2048];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  snprintf(cmd, sizeof cmd,
           "cd %s && cc -std=c11 -Wall -Werror -I %s/runtime -o main main.c net.o -lm "
           "&& ./main", dir, cwd);
  int status = system(cmd);
  ck_assert_msg(status == 0, "harness failed (%d): %s", status, cmd);

  HloLiteral *want = ck_evaluate(m, args, 2);
  HloLiteral *leaves[3];
  ck_assert_int_eq(cgt_leaves(want, leaves), 3);
  for (int r = 0; r < 3; r++) {
    snprintf(path, sizeof path, "%s/out%d.bin", dir, r);
    size_t n;
    char *got = ck_read_file(path, &n);
    ck_assert_uint_eq(n, hlo_shape_byte_size(&leaves[r]->shape));
    ck_assert_msg(!memcmp(got, leaves[r]->data, n), "result %d differs", r);
    free(got);
  }
  hlo_literal_free(want);
  for (int i = 0; i < 2; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
  cg_program_free(p);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_target");
  TCase *t = tcase_create("target");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, object_x86_64);
  tcase_add_test(t, object_aarch64);
  tcase_add_test(t, unknown_targets_list_valid_ones);
  tcase_add_test(t, unsupported_instruction_is_an_error);
  tcase_add_test(t, mlir_text);
  tcase_add_test(t, signature_and_names);
  tcase_add_test(t, cpu_decides_vector_width);
  tcase_add_test(t, every_vector_width_is_correct);
  tcase_add_test(t, cross_program_is_not_jitted);
  tcase_add_test(t, object_and_header_with_cc);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
