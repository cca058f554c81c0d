/*
 * test_codegen_kir.c — the kernel IR (codegen/kir.h): builders, insertion
 * points and moves, the verifier's rules (each broken on purpose), the
 * readable printer's exact form, and the MLIR printer's output for every
 * op, which MLIR must parse, verify and lower to LLVM IR.
 *
 * Then kernel structure, HLO in and kernel IR out, matched with ck_match
 * patterns that name values instead of numbering them: a loop fusion, a
 * row reduction (softmax), a dot with an epilogue, a convolution and a
 * while loop.  These say how codegen lays a kernel out (which loop a value
 * is computed in, what is hoisted, what is stored where); the differential
 * suites say that what it computes is right.
 */
#include <llvm-c/Core.h>

#include "internal.h"
#include "test_codegen_util.h"

static KirType T(KirElem e) { return kir_scalar(e); }
static KirType V(KirElem e, int n) { return kir_vector(e, n); }

/* The readable form of one function. */
static char *dump(const KirModule *m) { return kir_print(m); }

/* Asserts the module verifies, that MLIR parses its printed form, and that
 * the CPU pipeline lowers it to LLVM IR. */
static void assert_lowers(const KirModule *m) {
  HloError *e = kir_verify(m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  char *mlir = kir_print_mlir(m);
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef mod = NULL;
  e = cg_cpu_backend.lower(mlir, ctx, &mod);
  ck_assert_msg(!e, "%s\n%s", hlo_error_message(e), mlir);
  LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  free(mlir);
}

/* Asserts the verifier rejects m with a message holding `want`. */
static void assert_rejects(const KirModule *m, const char *want) {
  HloError *e = kir_verify(m);
  ck_assert_msg(e, "the verifier accepted a bad module (wanted: %s)", want);
  ck_assert_msg(strstr(hlo_error_message(e), want), "wanted: %s\ngot: %s", want,
                hlo_error_message(e));
  ck_assert_ptr_nonnull(strstr(hlo_error_message(e), "internal error"));
  hlo_error_free(e);
}

/* ------------------------------------------------------------------------ */
/* Building, printing, lowering                                             */
/* ------------------------------------------------------------------------ */

START_TEST(every_op_prints_and_lowers) {
  KirModule *m = kir_module_new();
  int64_t d16[1] = {16}, d2x8[2] = {2, 8}, d64[1] = {64};
  KirType buf = kir_memref(m, KIR_F32, 1, d16), mat = kir_memref(m, KIR_F32, 2, d2x8);
  KirType arena = kir_memref(m, KIR_I8, 1, d64);
  static const float data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  kir_global_new(m, "g0", buf, data, sizeof data);
  KirType f32 = T(KIR_F32), i32 = T(KIR_I32);
  KirFunc *expf_ = kir_func_declare(m, "expf", 1, &f32, 1, &f32);
  KirType tp[3] = {T(KIR_PTR), T(KIR_I64), T(KIR_I64)};
  KirFunc *task = kir_func_new(m, "task", 3, tp, 0, NULL);
  task->internal = true;
  KirBuilder b;
  kir_at_end(&b, task->body);
  CgVal tm = kir_unpack(&b, kir_param(task, 0), 0, buf);
  kir_poll(&b, kir_param(task, 0));
  CgVal z = kir_index(&b, 0);
  kir_store(&b, kir_const_float(&b, f32, 2.5), tm, &z);
  kir_return(&b, 0, NULL);

  KirType params[3] = {buf, mat, arena};
  KirFunc *f = kir_func_new(m, "all", 3, params, 1, &i32);
  kir_at_end(&b, f->body);
  CgVal in = kir_param(f, 0), out = kir_param(f, 1);
  CgVal i0 = kir_index(&b, 0), i8 = kir_index(&b, 8), i1 = kir_index(&b, 1);
  CgVal g = kir_get_global(&b, "g0", buf);
  CgVal view = kir_view(&b, kir_param(f, 2), i0, buf);
  kir_copy(&b, g, view);
  CgVal flat = kir_reshape(&b, out, buf);
  CgVal tmp = kir_alloca(&b, buf, 64);
  /* A loop carrying a vector sum, with every lane op in its body. */
  CgVal zero8 = kir_const_float(&b, V(KIR_F32, 8), 0.0);
  KirOp *loop = kir_for(&b, i0, kir_index(&b, 2), i1, 1, &zero8);
  KirBuilder after = b;
  kir_at_end(&b, kir_region(loop, 0));
  CgVal at = kir_binop(&b, KIR_MULI, kir_for_iv(loop), i8);
  CgVal v = kir_vload(&b, in, &at, 8);
  CgVal s = kir_broadcast(&b, kir_load(&b, in, &at), 8);
  CgVal acc = kir_fma(&b, v, s, kir_for_iter(loop, 0));
  int32_t rev[8] = {7, 6, 5, 4, 3, 2, 1, 0};
  acc = kir_shuffle(&b, acc, acc, 8, rev);
  acc = kir_insert(&b, kir_extract(&b, acc, 3), acc, 0);
  CgVal lanes = kir_const_int(&b, V(KIR_I32, 8), 5);
  CgVal iota = kir_cast(&b, KIR_FPTOSI, v, V(KIR_I32, 8));
  CgVal mask = kir_cmpi(&b, KIR_SLT, iota, lanes);
  CgVal mv = kir_mload(&b, tmp, &at, mask, acc);
  kir_mstore(&b, mv, tmp, &at, mask);
  kir_vstore(&b, kir_select(&b, mask, mv, acc), flat, &at);
  kir_prefetch(&b, in, &at, 2);
  kir_yield(&b, 1, &acc);
  b = after;
  CgVal sum = kir_reduce(&b, KIR_COMBINE_ADD, kir_result(loop, 0));
  CgVal big = kir_reduce(&b, KIR_COMBINE_MAXF, kir_result(loop, 0));
  CgVal e = kir_call(&b, expf_, 1, &big);
  CgVal c = kir_cmpf(&b, KIR_OLT, sum, e);
  KirOp *br = kir_if(&b, c, 1, &f32);
  kir_at_end(&b, kir_region(br, 0));
  CgVal neg = kir_unop(&b, KIR_NEGF, sum);
  kir_yield(&b, 1, &neg);
  kir_at_end(&b, kir_region(br, 1));
  kir_yield(&b, 1, &e);
  b = after;
  kir_store(&b, kir_result(br, 0), tmp, &i0);
  /* A while counting to 3 and a switch on its result. */
  KirOp *w = kir_while(&b, 1, &i0);
  kir_at_end(&b, kir_region(w, 0));
  CgVal more = kir_cmpi(&b, KIR_ULT, kir_arg(kir_region(w, 0), 0), kir_index(&b, 3));
  CgVal cur = kir_arg(kir_region(w, 0), 0);
  kir_condition(&b, more, 1, &cur);
  kir_at_end(&b, kir_region(w, 1));
  CgVal next = kir_binop(&b, KIR_ADDI, kir_arg(kir_region(w, 1), 0), i1);
  kir_yield(&b, 1, &next);
  b = after;
  KirOp *sw = kir_switch(&b, kir_result(w, 0), 2);
  for (int k = 0; k < 3; k++) {
    kir_at_end(&b, kir_region(sw, k));
    kir_store(&b, kir_const_float(&b, f32, k), tmp, &i1);
    kir_yield(&b, 0, NULL);
  }
  b = after;
  CgVal ctx = kir_pack(&b, 1, &tmp);
  kir_parallel_for(&b, kir_const_int(&b, T(KIR_I64), 4), ctx, task);
  CgVal r = kir_cast(&b, KIR_INDEX_CAST, kir_result(w, 0), i32);
  kir_return(&b, 1, &r);
  assert_lowers(m);

  char *text = dump(m);
  ck_assert_match(text, "global @g0 : memref<16xf32> (64 bytes)\n"
                        "declare @expf(f32) -> f32\n"
                        "func @task(%ctx: !llvm.ptr, %lo: i64, %hi: i64) internal {\n"
                        "  %m = unpack %ctx [0] : memref<16xf32>\n"
                        "  %flag = poll %ctx : i32\n"
                        "func @all(%in: memref<16xf32>, %out: memref<2x8xf32>, %a: memref<64xi8>) -> i32 {\n"
                        "  %r = for %i = ... iter(%acc = %z) : vector<8xf32> {\n"
                        "    %v = vload %in[%at] : vector<8xf32>\n"
                        "    %f = fma %v, %s, %acc : vector<8xf32>\n"
                        "    %sh = shuffle %f, %f [7, 6, 5, 4, 3, 2, 1, 0] : vector<8xf32>\n"
                        "    prefetch %in[%at] locality 2\n"
                        "    yield %y\n"
                        "  %sum = reduce add %r : f32\n"
                        "  %max = reduce maximumf %r : f32\n"
                        "  %e = call @expf %max : f32\n"
                        "  %w = while (%c = ...) : index {\n"
                        "  } do (%n) {\n"
                        "  switch %w case 0 {\n"
                        "  } default {\n"
                        "  %p = pack %t : !llvm.ptr\n"
                        "  parallel_for %k, %p @task\n");
  free(text);
  char *mlir = kir_print_mlir(m);
  ck_assert_match(mlir, "memref.global constant @g0 : memref<16xf32>\n"
                        "func.func private @rt_parallel_for(\n"
                        "func.func private @expf(f32) -> f32\n"
                        "llvm.load ... atomic monotonic {alignment = 4 : i64} : !llvm.ptr -> i32\n"
                        "func.func @all(\n"
                        "vector.maskedload\n"
                        "memref.prefetch %... read, locality<2>, data : memref<16xf32>\n"
                        "vector.reduction <add>\n"
                        "scf.index_switch\n"
                        "func.call @rt_parallel_for(\n");
  free(mlir);
  kir_module_free(m);
}
END_TEST

START_TEST(readable_form_is_exact) {
  KirModule *m = kir_module_new();
  int64_t d4[1] = {4};
  KirType buf = kir_memref(m, KIR_F32, 1, d4);
  KirFunc *f = kir_func_new(m, "neg", 2, (KirType[]){buf, buf}, 0, NULL);
  f->internal = f->noinline = true;
  KirBuilder b;
  kir_at_end(&b, f->body);
  CgVal lo = kir_index(&b, 0), hi = kir_index(&b, 4), one = kir_index(&b, 1);
  KirOp *l = kir_for(&b, lo, hi, one, 0, NULL);
  KirBuilder after = b;
  kir_at_end(&b, kir_region(l, 0));
  CgVal iv = kir_for_iv(l);
  CgVal x = kir_load(&b, kir_param(f, 1), &iv);
  kir_store(&b, kir_unop(&b, KIR_NEGF, x), kir_param(f, 0), &iv);
  kir_yield(&b, 0, NULL);
  b = after;
  kir_return(&b, 0, NULL);
  char *text = dump(m);
  ck_assert_str_eq(text, "func @neg(%0: memref<4xf32>, %1: memref<4xf32>) internal noinline {\n"
                         "  %2 = const 0 : index\n"
                         "  %3 = const 4 : index\n"
                         "  %4 = const 1 : index\n"
                         "  for %5 = %2 to %3 step %4 {\n"
                         "    %6 = load %1[%5] : f32\n"
                         "    %7 = negf %6 : f32\n"
                         "    store %7, %0[%5]\n"
                         "    yield\n"
                         "  }\n"
                         "  return\n"
                         "}\n");
  free(text);
  assert_lowers(m);
  kir_module_free(m);
}
END_TEST

START_TEST(insertion_points_and_moves) {
  KirModule *m = kir_module_new();
  KirFunc *f = kir_func_new(m, "f", 0, NULL, 1, (KirType[]){T(KIR_INDEX)});
  KirBuilder b;
  kir_at_end(&b, f->body);
  CgVal a = kir_index(&b, 1);
  KirOp *l = kir_for(&b, a, kir_index(&b, 9), a, 1, &a);
  KirBuilder after = b;
  kir_at_end(&b, kir_region(l, 0));
  CgVal inner = kir_binop(&b, KIR_ADDI, kir_for_iter(l, 0), kir_for_iv(l));
  /* A value built before the loop from inside it: no use of the loop's
   * values, so it is available both before and in the loop. */
  KirBuilder before;
  kir_before(&before, l);
  CgVal hoisted = kir_binop(&before, KIR_MULI, a, a);
  CgVal sum = kir_binop(&b, KIR_ADDI, inner, hoisted);
  kir_yield(&b, 1, &sum);
  b = after;
  kir_return(&b, 1, &l->res);
  ck_assert(kir_available(f, hoisted, l));
  ck_assert(!kir_available(f, inner, l));
  ck_assert(!kir_available(f, kir_for_iv(l), l));
  ck_assert(kir_available(f, kir_for_iv(l), kir_region(l, 0)->last));
  ck_assert_ptr_eq(kir_arg_owner(f, kir_for_iv(l)), l);
  ck_assert_ptr_null(kir_arg_owner(f, hoisted));
  ck_assert_ptr_null(kir_verify(m));
  /* Moving the multiply after its use breaks dominance; moving it back
   * mends it. */
  KirOp *mul = f->vals[hoisted].def;
  KirOp *use = f->vals[sum].def;
  kir_move_before(mul, use->next);
  assert_rejects(m, "operand 1 is used where it is not defined");
  kir_move_before(mul, l);
  ck_assert_ptr_null(kir_verify(m));
  kir_module_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The verifier, rule by rule                                               */
/* ------------------------------------------------------------------------ */

/* A function "f" of one memref<4xf32> and one memref<4xi32> parameter,
 * its builder at its end. */
static KirFunc *start(KirModule *m, KirBuilder *b) {
  int64_t d4[1] = {4};
  KirType p[2] = {kir_memref(m, KIR_F32, 1, d4), kir_memref(m, KIR_I32, 1, d4)};
  KirFunc *f = kir_func_new(m, "f", 2, p, 0, NULL);
  kir_at_end(b, f->body);
  return f;
}

START_TEST(verifier_rules) {
  KirBuilder b;
  struct {
    const char *want;
    int which;
  } cases[] = {
      {"integer op on other types", 0},
      {"float op on other types", 1},
      {"loads another type", 2},
      {"stores another type", 3},
      {"the function does not end in return", 4},
      {"a region does not end in yield", 5},
      {"value 0 has another type", 6},
      {"no function @nowhere", 7},
      {"no global @nothing", 8},
      {"casts between the wrong types", 9},
      {"lane 8 of a vector of 8", 10},
      {"compares other types", 11},
      {"a terminator before the end of its region", 12},
      {"operand 0 is used where it is not defined", 13},
      {"selects between other types", 14},
      {"has a locality outside 0..3", 15},
      {"scalef on a type that is not a 128-, 256- or 512-bit", 16},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    KirModule *m = kir_module_new(), *other = NULL;
    KirFunc *f = start(m, &b);
    CgVal fm = kir_param(f, 0), im = kir_param(f, 1);
    CgVal i0 = kir_index(&b, 0);
    CgVal x = kir_load(&b, fm, &i0), n = kir_load(&b, im, &i0);
    bool ret = true;
    switch (cases[k].which) {
    case 0: kir_binop(&b, KIR_ADDI, x, x); break;
    case 1: kir_binop(&b, KIR_MULF, n, n); break;
    case 2: f->vals[kir_load(&b, fm, &i0)].type = T(KIR_F64); break;
    case 3: kir_store(&b, n, fm, &i0); break;
    case 4: ret = false; break;
    case 5: kir_for(&b, i0, i0, i0, 0, NULL); break;
    case 6: {
      KirOp *l = kir_for(&b, i0, i0, i0, 1, &x);
      KirBuilder in;
      kir_at_end(&in, kir_region(l, 0));
      kir_yield(&in, 1, &n);
      break;
    }
    case 7: {
      other = kir_module_new(); /* freed after the verifier ran */
      KirFunc *callee = kir_func_declare(other, "nowhere", 0, NULL, 0, NULL);
      kir_call(&b, callee, 0, NULL);
      break;
    }
    case 8: kir_get_global(&b, "nothing", kir_type(f, fm)); break;
    case 9: kir_cast(&b, KIR_EXTF, x, T(KIR_F32)); break;
    case 10: kir_extract(&b, kir_broadcast(&b, x, 8), 8); break;
    case 11: kir_cmpi(&b, KIR_EQ, x, x); break;
    case 12: {
      KirOp *l = kir_for(&b, i0, i0, i0, 0, NULL);
      KirBuilder in;
      kir_at_end(&in, kir_region(l, 0));
      kir_yield(&in, 0, NULL);
      kir_yield(&in, 0, NULL);
      break;
    }
    case 13: {
      KirOp *l = kir_for(&b, i0, i0, i0, 0, NULL);
      KirBuilder in;
      kir_at_end(&in, kir_region(l, 0));
      CgVal inside = kir_binop(&in, KIR_ADDI, i0, i0);
      kir_yield(&in, 0, NULL);
      kir_binop(&b, KIR_ADDI, inside, i0);
      break;
    }
    case 14: kir_select(&b, kir_bool(&b, true), x, n); break;
    case 15:
      kir_prefetch(&b, fm, &i0, 3);
      kir_last(&b)->imm = 4;
      break;
    case 16: { /* a scalef of 16-lane f32 passes; of 3 lanes it does not */
      CgVal v16 = kir_broadcast(&b, x, 16);
      kir_binop(&b, KIR_SCALEF, v16, v16);
      CgVal v3 = kir_broadcast(&b, x, 3);
      kir_binop(&b, KIR_SCALEF, v3, v3);
      break;
    }
    }
    if (ret) kir_return(&b, 0, NULL);
    assert_rejects(m, cases[k].want);
    kir_module_free(m);
    kir_module_free(other);
  }
}
END_TEST

START_TEST(match_can_fail) {
  /* The pattern matcher of these tests must be able to say no. */
  const char *text = "%1 = const 0 : index\n%2 = addi %1, %1 : index\n";
  ck_assert_ptr_null(ck_match(text, "%a = const 0\n%b = addi %a, %a\n"));
  char *why = ck_match(text, "%a = const 0\n%b = addi %a, %b\n");
  ck_assert_ptr_nonnull(why);
  free(why);
  why = ck_match(text, "addi\nconst\n");
  ck_assert_ptr_nonnull(why);
  free(why);
  why = ck_match(text, "NOT: addi\n");
  ck_assert_ptr_nonnull(why);
  free(why);
  ck_assert_ptr_null(ck_match(text, "const ... index\nNOT: muli\n"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernel structure: HLO in, kernel IR out                                  */
/* ------------------------------------------------------------------------ */

/* The kernel IR of HLO text for a CPU that prefers 512-bit vectors (16
 * f32 lanes: Zen 4), after the pass pipeline when asked. */
static char *kir_of(const char *hlo, bool pipeline) {
  HloModule *m = ck_parse_verified(hlo);
  if (pipeline) {
    HloError *e = cgt_optimize(m);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
  }
  char *text = NULL;
  HloError *e = cg_emit_kir(m, &(CgOptions){.name = "t", .cpu = "znver4"}, &text);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  hlo_module_free(m);
  return text;
}

START_TEST(golden_loop_fusion) {
  /* add, multiply, a broadcast row: one kernel, one nest, the operands
   * loaded at the output's index, the row vector at its column; the row
   * of 10 as two vectors of 4 and two elements. */
  char *text = kir_of("HloModule f\n\nENTRY main {\n"
                      "  x = f32[6,10] parameter(0)\n  y = f32[6,10] parameter(1)\n"
                      "  c = f32[10] parameter(2)\n"
                      "  cb = f32[6,10] broadcast(c), dimensions={1}\n"
                      "  a = f32[6,10] add(x, y)\n  ROOT m = f32[6,10] multiply(a, cb)\n}\n",
                      true);
  ck_assert_match(text, "func @t_run_profiled(%x: memref<6x10xf32>, %y: memref<6x10xf32>, "
                        "%c: memref<10xf32>, %out: memref<6x10xf32>, %arena: memref<0xi8>, "
                        "%flag: !llvm.ptr, %prof: !llvm.ptr) -> i32 {\n"
                        "  %on = nonnull %prof : i1\n"
                        "  %st = alloca align 4 : memref<1xi32>\n"
                        "  %set = poll %flag : i32\n"
                        "  if %go {\n"
                        "    if %on {\n"
                        "      hook %prof, %k0 [0]\n"
                        "    call @t_k0_fusion %out, %x, %y, %c\n"
                        "    if %on {\n"
                        "      hook %prof, %k0 [1]\n"
                        "NOT: call\n"
                        "  %status = load %st[...] : i32\n"
                        "  return %status\n"
                        "}\n"
                        "func @t_k0_fusion(%o: memref<6x10xf32>, %p: memref<6x10xf32>, "
                        "%q: memref<6x10xf32>, %r: memref<10xf32>) internal noinline {\n"
                        "  for %i = \n"
                        "    %a = vload %p[%i, %j] : vector<4xf32>\n"
                        "    %b = vload %q[%i, %j] : vector<4xf32>\n"
                        "    %sum = addf %a, %b : vector<4xf32>\n"
                        "    %col = vload %r[%j] : vector<4xf32>\n"
                        "    %m = mulf %sum, %col : vector<4xf32>\n"
                        "    vstore %m, %o[%i, %j]\n"
                        "    vstore ..., %o[%i, %k]\n"
                        "    %e = load %p[%i, %l] : f32\n"
                        "    store ..., %o[%i, %l]\n"
                        "    store ..., %o[%i, %n]\n"
                        "NOT: for\n");
  free(text);
}
END_TEST

#define SOFTMAX                                                                        \
  "HloModule s\n\nmax {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"         \
  "  ROOT m = f32[] maximum(a, b)\n}\n\n"                                              \
  "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"                        \
  "  ROOT s = f32[] add(a, b)\n}\n\n"                                                  \
  "ENTRY main {\n  x = f32[4,32] parameter(0)\n  ninf = f32[] constant(-inf)\n"        \
  "  mx = f32[4] reduce(x, ninf), dimensions={1}, to_apply=max\n"                      \
  "  mb = f32[4,32] broadcast(mx), dimensions={0}\n  d = f32[4,32] subtract(x, mb)\n" \
  "  e = f32[4,32] exponential(d)\n  zero = f32[] constant(0)\n"                       \
  "  s = f32[4] reduce(e, zero), dimensions={1}, to_apply=add\n"                       \
  "  sb = f32[4,32] broadcast(s), dimensions={0}\n"                                    \
  "  ROOT r = f32[4,32] divide(e, sb)\n}\n"

START_TEST(golden_softmax) {
  /* One kernel.  Per row: the max reduced once, as vectors (a loop
   * carrying a vector of 16 maxima, folded in halves, then the init value),
   * then exp(x - max) computed as vectors and parked in the output, its
   * sum reduced from there the same way, and the sweep dividing the parked
   * vectors, still in registers, storing in place: the row of 32 is two
   * vectors of 16. */
  char *text = kir_of(SOFTMAX, true);
  ck_assert_match(text, "func @t_k0_fusion(%out: memref<4x32xf32>, %x: memref<4x32xf32>)\n"
                        "  for %row = \n"
                        "    %max = for %j = ... iter(%m = ...) : vector<16xf32> {\n"
                        "      %a = vload %x[%row, %j] : vector<16xf32>\n"
                        "      cmpf olt %m, %a : vector<16xi1>\n"
                        "    }\n"
                        "    %lo = shuffle %max, %max [0, 1, 2, 3, 4, 5, 6, 7] : vector<8xf32>\n"
                        "    %hi = shuffle %max, %max [8, 9, 10, 11, 12, 13, 14, 15] : vector<8xf32>\n"
                        "    cmpf olt %lo, %hi : vector<8xi1>\n"
                        "    %m1 = extract ... [0] : f32\n"
                        "    select ..., %m1, ... : f32\n"
                        "    %mv = broadcast ... : vector<16xf32>\n"
                        "    %b = vload %x[%row, %k] : vector<16xf32>\n"
                        "    %d = subf %b, %mv : vector<16xf32>\n"
                        "    vstore %e0, %out[%row, %k]\n"
                        "    vstore %e1, %out[%row, %k2]\n"
                        "    %sum = for %l = ... iter(%s = ...) : vector<16xf32> {\n"
                        "      %e = vload %out[%row, %l] : vector<16xf32>\n"
                        "      addf %s, %e : vector<16xf32>\n"
                        "    }\n"
                        "    %s1 = extract ... [0] : f32\n"
                        "    %total = addf ..., %s1 : f32\n"
                        "    %sv = broadcast %total : vector<16xf32>\n"
                        "    %q = divf %e0, %sv : vector<16xf32>\n"
                        "    vstore %q, %out[%row, %k]\n"
                        "    %sv1 = broadcast %total : vector<16xf32>\n"
                        "    %q1 = divf %e1, %sv1 : vector<16xf32>\n"
                        "    vstore %q1, %out[%row, %k2]\n"
                        "NOT: for\n"
                        "  return\n");
  free(text);
}
END_TEST

START_TEST(golden_dot_epilogue) {
  /* dot + bias + relu: one kernel, a register-tiled matrix multiply
   * (gemm.c).  A tile of 3 rows × 4 vectors of 16 is carried through the
   * loop over k, two steps a trip (each step: 4 vector loads of w, per
   * row one broadcast of x and 4 fma), then the epilogue runs on the
   * tile's vectors (the bias one vector load) and each vector is stored.
   * No row buffer. */
  char *text = kir_of("HloModule d\n\nENTRY main {\n"
                      "  x = f32[3,8] parameter(0)\n  w = f32[8,96] parameter(1)\n"
                      "  b = f32[96] parameter(2)\n"
                      "  d = f32[3,96] dot(x, w), lhs_contracting_dims={1}, "
                      "rhs_contracting_dims={0}\n"
                      "  bb = f32[3,96] broadcast(b), dimensions={1}\n"
                      "  a = f32[3,96] add(d, bb)\n  z = f32[] constant(0)\n"
                      "  zb = f32[3,96] broadcast(z), dimensions={}\n"
                      "  ROOT r = f32[3,96] maximum(a, zb)\n}\n",
                      true);
  ck_assert_match(text, "func @t_k0_fusion(%out: memref<3x96xf32>, %x: memref<3x8xf32>, "
                        "%w: memref<8x96xf32>, %b: memref<96xf32>)\n"
                        "NOT: alloca\n"
                        "%c0, %c1, %c2, %c3, %c4, ... = for %j = ... : vector<16xf32>, ... {\n"
                        "  %k = muli %j, %two : index\n"
                        "  %w0 = vload %w[%k, %n] : vector<16xf32>\n"
                        "  %w1 = vload %w[%k, ...] : vector<16xf32>\n"
                        "  %w2 = vload %w[%k, ...] : vector<16xf32>\n"
                        "  %w3 = vload %w[%k, ...] : vector<16xf32>\n"
                        "  %a0 = load %x[%m, %k] : f32\n"
                        "  %v0 = broadcast %a0 : vector<16xf32>\n"
                        "  fma %v0, %w0, \n"
                        "  fma %v0, %w1, \n"
                        "  fma %v0, %w2, \n"
                        "  fma %v0, %w3, \n"
                        "  %k1 = addi %k, \n"
                        "  vload %w[%k1, %n] : vector<16xf32>\n"
                        "  yield \n"
                        "}\n"
                        "%bias = vload %b[%n] : vector<16xf32>\n"
                        "%s = addf %c0, %bias : vector<16xf32>\n"
                        "cmpf olt %s, \n"
                        "vstore ..., %out[%m, %n]\n"
                        "%s1 = addf %c1, \n"
                        "%s4 = addf %c4, \n");
  free(text);
}
END_TEST

START_TEST(golden_convolution) {
  /* NHWC 3x3 convolution, 8 → 64 features, as an implicit matrix multiply
   * (gemm.c): a tile of 6 output pixels × 4 vectors of features carried
   * through the loops over kernel rows, kernel columns and input features,
   * two of these a trip (each step: the kernel's vectors, per pixel one
   * broadcast input and its fmas).  A tile whose windows lie inside the input sums without
   * checks; a border tile clamps each pixel's position per tap and selects
   * the old sum where the tap falls in padding.  Both yield their sums to
   * one epilogue and store. */
  char *text = kir_of("HloModule c\n\nENTRY main {\n"
                      "  x = f32[1,4,14,8] parameter(0)\n  k = f32[3,3,8,64] parameter(1)\n"
                      "  ROOT c = f32[1,4,14,64] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
                      "dim_labels=b01f_01io->b01f\n}\n",
                      false);
  ck_assert_match(text, "func @t_k0_c(%out: memref<1x4x14x64xf32>, %x: memref<1x4x14x8xf32>, "
                        "%k: memref<3x3x8x64xf32>)\n"
                        "NOT: alloca\n"
                        "%t0, ... = if %inside : vector<16xf32>, ... {\n"
                        "  %c0, ... = for %ky = ... : vector<16xf32>, ... {\n"
                        "    = for %kx = \n"
                        "      = for %j = \n"
                        "        %i = muli %j, \n"
                        "        %kv = vload %k[%ky, %kx, %i, %n] : vector<16xf32>\n"
                        "        %a0 = load %x[...] : f32\n"
                        "        %v0 = broadcast %a0 : vector<16xf32>\n"
                        "        fma %v0, %kv, \n"
                        "NOT: select\n"
                        "        yield \n"
                        "  yield %c0, \n"
                        "NOT: vstore\n"
                        "} else {\n"
                        "  = for %ky2 = \n"
                        "    = for %kx2 = ... iter(%acc = \n"
                        "      %h = select %ok, ... : index\n"
                        "      = for %j2 = ... iter(%s = %acc\n"
                        "        %i2 = muli %j2, \n"
                        "        %kv2 = vload %k[%ky2, %kx2, %i2, %n] : vector<16xf32>\n"
                        "        %b0 = load %x[..., %h, ..., %i2] : f32\n"
                        "        %w0 = broadcast %b0 : vector<16xf32>\n"
                        "        %f0 = fma %w0, %kv2, %s : vector<16xf32>\n"
                        "        select %ok, %f0, %s : vector<16xf32>\n"
                        "NOT: vstore\n"
                        "  }\n"
                        "vstore %t0, %out[...]\n");
  free(text);
}
END_TEST

START_TEST(golden_while) {
  /* The loop runs in the entry function: state copied in, the condition
   * computed by its kernel and loaded, the body's kernels called, its
   * root copied back. */
  char *text = kir_of("HloModule w\n\n"
                      "cond {\n  p = (s32[], f32[4]) parameter(0)\n"
                      "  i = s32[] get-tuple-element(p), index=0\n  n = s32[] constant(5)\n"
                      "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n\n"
                      "body {\n  p = (s32[], f32[4]) parameter(0)\n"
                      "  i = s32[] get-tuple-element(p), index=0\n"
                      "  v = f32[4] get-tuple-element(p), index=1\n"
                      "  one = s32[] constant(1)\n  i2 = s32[] add(i, one)\n"
                      "  v2 = f32[4] add(v, v)\n  ROOT t = (s32[], f32[4]) tuple(i2, v2)\n}\n\n"
                      "ENTRY main {\n  x = f32[4] parameter(0)\n  z = s32[] constant(0)\n"
                      "  t = (s32[], f32[4]) tuple(z, x)\n"
                      "  w = (s32[], f32[4]) while(t), condition=cond, body=body\n"
                      "  ROOT r = f32[4] get-tuple-element(w), index=1\n}\n",
                      false);
  /* The result buffer is the loop's state for x. */
  ck_assert_match(text, "func @t_run_profiled(%x: memref<4xf32>, %out: memref<4xf32>, "
                        "%s: memref<...xi8>, %flag: !llvm.ptr, %prof: !llvm.ptr)\n"
                        "  copy %x, %out\n"
                        "  while {\n"
                        "    %f0 = poll %flag : i32\n"
                        "    call @t_k\n"
                        "    %c = load ... : i8\n"
                        "    %b = cmpi ne %c, \n"
                        "    %go = andi %b, ...\n"
                        "    condition %go\n"
                        "  } do {\n"
                        "    %f1 = poll %flag : i32\n"
                        "    call @t_k\n"
                        "    %f2 = poll %flag : i32\n"
                        "    call @t_k\n"
                        "    copy ..., %out\n"
                        "    yield\n"
                        "  }\n"
                        "  return\n");
  free(text);
}
END_TEST

START_TEST(shape_leaves_of_nested_tuples) {
  /* Counting leaves passes no array: the recursion must not offset a NULL
   * pointer (undefined: found by fuzz_api under UBSan on a tuple root). */
  HloArena *a = hlo_arena_new();
  HloShape f = hlo_shape_scalar(HLO_F32), s = hlo_shape_scalar(HLO_S32);
  HloShape inner_elems[2] = {f, s};
  HloShape inner = hlo_shape_tuple(a, 2, inner_elems);
  HloShape outer_elems[3] = {inner, f, hlo_shape_tuple(a, 0, NULL)};
  HloShape outer = hlo_shape_tuple(a, 3, outer_elems);
  ck_assert_int_eq(cg_shape_nleaves(&outer), 3);
  const HloShape *leaves[3];
  ck_assert_int_eq(cg_shape_leaves(&outer, leaves, 3), 3);
  ck_assert_int_eq(leaves[0]->type, HLO_F32);
  ck_assert_int_eq(leaves[1]->type, HLO_S32);
  ck_assert_int_eq(leaves[2]->type, HLO_F32);
  hlo_arena_free(a);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_kir");
  TCase *t = tcase_create("kir");
  tcase_add_test(t, every_op_prints_and_lowers);
  tcase_add_test(t, readable_form_is_exact);
  tcase_add_test(t, insertion_points_and_moves);
  tcase_add_test(t, verifier_rules);
  tcase_add_test(t, match_can_fail);
  tcase_add_test(t, shape_leaves_of_nested_tuples);
  suite_add_tcase(s, t);
  TCase *g = tcase_create("golden");
  tcase_add_test(g, golden_loop_fusion);
  tcase_add_test(g, golden_softmax);
  tcase_add_test(g, golden_dot_epilogue);
  tcase_add_test(g, golden_convolution);
  tcase_add_test(g, golden_while);
  suite_add_tcase(s, g);
  return ck_run_suite(s);
}
