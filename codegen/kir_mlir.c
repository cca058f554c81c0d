/*
 * kir_mlir.c — the one printer of MLIR: a finished kernel-IR module as the
 * text mlirModuleCreateParse reads (DESIGN.md decision 3).  Nothing is
 * printed before the IR is complete and nothing printed is edited.
 *
 * Dialects: func, scf, arith, math, vector and memref, and for the CPU
 * runtime's parallel-for (PACK, UNPACK, PARALLEL_FOR) the llvm-dialect ops
 * that build a context of pointers and rebuild memref descriptors from
 * it, for the cancellation flag (POLL) an atomic llvm.load, and for a
 * profiler's hooks (NONNULL, HOOK) a null test and an indirect llvm.call
 * through a field of the profiler.  Values print as %N, numbered per
 * function in print order; the few
 * values an op's expansion needs of its own print as %tK_J.
 *
 * Globals print as external declarations (`memref.global constant @g :
 * memref<…>`, no initializer): their bytes never go through text, nor
 * through LLVM: the object merge writes them as a section of the object
 * (object.c).  kir_print_mlir_part prints one part of a split module
 * (split.c): its functions, the others declared.
 *
 * A GPU's module (codegen/gpu/) is a gpu.container_module: the device
 * functions go in `gpu.module @hloc_device`, kernels as `gpu.func …
 * kernel`, and the thread and block ids and dims are the gpu dialect's
 * (along x), and a tensor core's multiply is nvvm.mma.sync; Hopper's
 * warpgroup MMA is nvvm.wgmma.mma_async (which the pipeline's
 * convert-nvvm-to-llvm turns into PTX inline assembly), its descriptors
 * arithmetic on the shared buffer's address.  There
 * every global is storage of its own, uninitialized and writable
 * (`memref.global @g : memref<…> = uninitialized`), which the runtime
 * fills with the constant's bytes when it loads the module (so the bytes
 * stay out of the PTX as well).  The host launches a kernel
 * with gpu.launch_func on a grid and block along x.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kir.h"

typedef struct Printer {
  HloStr *out;
  const KirFunc *fn;
  int *name;        /* by value: its number, -1 before it is printed */
  int next;         /* the next number */
  int ntemps;       /* ops that printed temporaries of their own */
  int indent;
} Printer;


static const char *elem_name(KirElem e) {
  switch (e) {
  case KIR_I1: return "i1";
  case KIR_I8: return "i8";
  case KIR_I16: return "i16";
  case KIR_I32: return "i32";
  case KIR_I64: return "i64";
  case KIR_F32: return "f32";
  case KIR_F64: return "f64";
  case KIR_INDEX: return "index";
  case KIR_PTR: return "!llvm.ptr";
  default: HLO_UNREACHABLE();
  }
}

void kir_type_print(HloStr *out, const KirModule *m, KirType t) {
  if (t.elem == KIR_MEMREF) {
    const KirMemref *r = kir_memref_of(m, t);
    hlo_str_append(out, "memref<", 7);
    for (int i = 0; i < r->rank; i++) hlo_str_printf(out, "%" PRId64 "x", r->dims[i]);
    hlo_str_printf(out, "%s%s>", elem_name((KirElem)r->elem),
                   r->space == KIR_SPACE_SHARED ? ", #gpu.address_space<workgroup>" : "");
  } else if (t.lanes) {
    hlo_str_printf(out, "vector<%dx%s>", t.lanes, elem_name((KirElem)t.elem));
  } else {
    hlo_str_printf(out, "%s", elem_name((KirElem)t.elem));
  }
}

void kir_signature_print(HloStr *out, const KirFunc *f) {
  hlo_str_append(out, "(", 1);
  for (int i = 0; i < f->nparams; i++) {
    if (i) hlo_str_append(out, ", ", 2);
    kir_type_print(out, f->m, f->params[i]);
  }
  hlo_str_append(out, ")", 1);
  if (f->nresults) {
    hlo_str_append(out, " -> ", 4);
    kir_type_print(out, f->m, f->result);
  }
}

/* ------------------------------------------------------------------------ */
/* Pieces                                                                   */
/* ------------------------------------------------------------------------ */

static void text(Printer *p, const char *s) { hlo_str_append(p->out, s, strlen(s)); }

static void line_start(Printer *p) {
  for (int i = 0; i < p->indent; i++) text(p, "  ");
}

static void type(Printer *p, KirType t) { kir_type_print(p->out, p->fn->m, t); }
static void vtype(Printer *p, KirVal v) { type(p, kir_type(p->fn, v)); }

static void define(Printer *p, KirVal v) {
  HLO_CHECK(p->name[v] < 0);
  p->name[v] = p->next++;
}

static void val(Printer *p, KirVal v) {
  HLO_CHECK(p->name[v] >= 0);
  hlo_str_printf(p->out, "%%%d", p->name[v]);
}

static void vals(Printer *p, int n, const KirVal *v) {
  for (int i = 0; i < n; i++) {
    if (i) text(p, ", ");
    val(p, v[i]);
  }
}

static void vtypes(Printer *p, int n, const KirVal *v) {
  for (int i = 0; i < n; i++) {
    if (i) text(p, ", ");
    vtype(p, v[i]);
  }
}

/* "%a, %b = " for the op's results (defining them). */
static void results(Printer *p, const KirOp *op) {
  if (!op->nres) return;
  for (int i = 0; i < op->nres; i++) define(p, op->res + i);
  for (int i = 0; i < op->nres; i++) {
    if (i) text(p, ", ");
    val(p, op->res + i);
  }
  text(p, " = ");
}

/* "[%i, %j]" */
static void indices(Printer *p, int n, const KirVal *v) {
  text(p, "[");
  vals(p, n, v);
  text(p, "]");
}

static void temp(Printer *p, int k, const char *suffix) {
  hlo_str_printf(p->out, "%%t%d_%s", k, suffix);
}

/* An integer constant of width bits, as its signed value. */
static int64_t signed_bits(uint64_t bits, int width) {
  if (width >= 64) return (int64_t)bits;
  return (int64_t)(bits << (64 - width)) >> (64 - width);
}

static void constant_value(Printer *p, KirType t, uint64_t bits) {
  KirElem e = (KirElem)t.elem;
  if (e == KIR_I1) text(p, bits & 1 ? "true" : "false");
  else if (e == KIR_F32) hlo_str_printf(p->out, "0x%08" PRIX32, (uint32_t)bits);
  else if (e == KIR_F64) hlo_str_printf(p->out, "0x%016" PRIX64, bits);
  else hlo_str_printf(p->out, "%" PRId64, signed_bits(bits, kir_elem_bits(e)));
}

/* ------------------------------------------------------------------------ */
/* Ops                                                                      */
/* ------------------------------------------------------------------------ */

static void block(Printer *p, const KirBlock *b);

static void region(Printer *p, const KirBlock *b) {
  p->indent++;
  block(p, b);
  p->indent--;
}

/* A memref type's static sizes and row-major strides. */
static void sizes_strides(Printer *p, const KirMemref *r) {
  int64_t stride[HLO_MAX_RANK], s = 1;
  for (int d = r->rank - 1; d >= 0; d--) {
    stride[d] = s;
    s *= r->dims[d];
  }
  text(p, "sizes: [");
  for (int d = 0; d < r->rank; d++) hlo_str_printf(p->out, "%s%" PRId64, d ? ", " : "", r->dims[d]);
  text(p, "], strides: [");
  for (int d = 0; d < r->rank; d++) hlo_str_printf(p->out, "%s%" PRId64, d ? ", " : "", stride[d]);
  text(p, "]");
}

static void print_pack(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  temp(p, k, "n");
  hlo_str_printf(p->out, " = llvm.mlir.constant(%d : i64) : i64\n", op->nopnds);
  line_start(p);
  results(p, op);
  text(p, "llvm.alloca ");
  temp(p, k, "n");
  text(p, " x !llvm.ptr : (i64) -> !llvm.ptr\n");
  for (int i = 0; i < op->nopnds; i++) {
    char s[4][24];
    for (int j = 0; j < 4; j++) snprintf(s[j], sizeof s[j], "%c%d", 'a' + j, i);
    line_start(p);
    temp(p, k, s[0]);
    text(p, " = memref.extract_aligned_pointer_as_index ");
    val(p, op->opnds[i]);
    text(p, " : ");
    vtype(p, op->opnds[i]);
    text(p, " -> index\n");
    line_start(p);
    temp(p, k, s[1]);
    text(p, " = arith.index_cast ");
    temp(p, k, s[0]);
    text(p, " : index to i64\n");
    line_start(p);
    temp(p, k, s[2]);
    text(p, " = llvm.inttoptr ");
    temp(p, k, s[1]);
    text(p, " : i64 to !llvm.ptr\n");
    line_start(p);
    temp(p, k, s[3]);
    text(p, " = llvm.getelementptr ");
    val(p, op->res);
    hlo_str_printf(p->out, "[%d] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr\n", i);
    line_start(p);
    text(p, "llvm.store ");
    temp(p, k, s[2]);
    text(p, ", ");
    temp(p, k, s[3]);
    text(p, " : !llvm.ptr, !llvm.ptr\n");
  }
}

/* The memref descriptor (allocated = aligned = the pointer, offset 0, the
 * static sizes and strides) built in the LLVM dialect and cast back. */
static void print_unpack(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  const KirMemref *r = kir_memref_of(p->fn->m, kir_type(p->fn, op->res));
  char desc[96];
  if (r->rank == 0)
    snprintf(desc, sizeof desc, "!llvm.struct<(ptr, ptr, i64)>");
  else
    snprintf(desc, sizeof desc, "!llvm.struct<(ptr, ptr, i64, array<%d x i64>, array<%d x i64>)>",
             r->rank, r->rank);
  temp(p, k, "slot");
  text(p, " = llvm.getelementptr ");
  val(p, op->opnds[0]);
  hlo_str_printf(p->out, "[%" PRId64 "] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr\n", op->imm);
  line_start(p);
  temp(p, k, "p");
  text(p, " = llvm.load ");
  temp(p, k, "slot");
  text(p, " : !llvm.ptr -> !llvm.ptr\n");
  line_start(p);
  temp(p, k, "zero");
  text(p, " = llvm.mlir.constant(0 : i64) : i64\n");
  line_start(p);
  temp(p, k, "d0");
  hlo_str_printf(p->out, " = llvm.mlir.undef : %s\n", desc);
  /* Fields in order: allocated, aligned, offset, then sizes and strides. */
  int64_t stride[HLO_MAX_RANK], s = 1;
  for (int d = r->rank - 1; d >= 0; d--) {
    stride[d] = s;
    s *= r->dims[d];
  }
  int step = 0;
  char cur[16], nxt[16];
  snprintf(cur, sizeof cur, "d0");
  for (int f = 0; f < 3 + 2 * r->rank; f++) {
    char field[32], value[16];
    if (f < 3) {
      snprintf(field, sizeof field, "%d", f);
      snprintf(value, sizeof value, "%s", f < 2 ? "p" : "zero");
    } else {
      int d = (f - 3) / 2, is_stride = (f - 3) % 2;
      snprintf(field, sizeof field, "%d, %d", 3 + is_stride, d);
      snprintf(value, sizeof value, "c%d", f);
      line_start(p);
      temp(p, k, value);
      hlo_str_printf(p->out, " = llvm.mlir.constant(%" PRId64 " : i64) : i64\n",
                     is_stride ? stride[d] : r->dims[d]);
    }
    snprintf(nxt, sizeof nxt, "d%d", ++step);
    line_start(p);
    temp(p, k, nxt);
    text(p, " = llvm.insertvalue ");
    temp(p, k, value);
    text(p, ", ");
    temp(p, k, cur);
    hlo_str_printf(p->out, "[%s] : %s\n", field, desc);
    memcpy(cur, nxt, sizeof cur);
  }
  line_start(p);
  results(p, op);
  text(p, "builtin.unrealized_conversion_cast ");
  temp(p, k, cur);
  hlo_str_printf(p->out, " : %s to ", desc);
  vtype(p, op->res);
  text(p, "\n");
}

static const char task_type[] = "(!llvm.ptr, i64, i64) -> ()";

static void print_parallel_for(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  temp(p, k, "task");
  hlo_str_printf(p->out, " = func.constant @%s : %s\n", op->sym, task_type);
  line_start(p);
  temp(p, k, "pool");
  text(p, " = llvm.mlir.zero : !llvm.ptr\n");
  line_start(p);
  text(p, "func.call @rt_parallel_for(");
  temp(p, k, "pool");
  text(p, ", ");
  val(p, op->opnds[0]);
  text(p, ", ");
  temp(p, k, "task");
  text(p, ", ");
  val(p, op->opnds[1]);
  hlo_str_printf(p->out, ") : (!llvm.ptr, i64, %s, !llvm.ptr) -> ()\n", task_type);
}

static void print_nonnull(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  temp(p, k, "null");
  text(p, " = llvm.mlir.zero : !llvm.ptr\n");
  line_start(p);
  results(p, op);
  text(p, "llvm.icmp \"ne\" ");
  val(p, op->opnds[0]);
  text(p, ", ");
  temp(p, k, "null");
  text(p, " : !llvm.ptr\n");
}

/* fn = ((void (**)(ptr, i32))obj)[slot]; fn(obj, arg) */
static void print_hook(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  temp(p, k, "slot");
  text(p, " = llvm.getelementptr ");
  val(p, op->opnds[0]);
  hlo_str_printf(p->out, "[%" PRId64 "] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr\n", op->imm);
  line_start(p);
  temp(p, k, "fn");
  text(p, " = llvm.load ");
  temp(p, k, "slot");
  text(p, " : !llvm.ptr -> !llvm.ptr\n");
  line_start(p);
  text(p, "llvm.call ");
  temp(p, k, "fn");
  text(p, "(");
  vals(p, 2, op->opnds);
  text(p, ") : !llvm.ptr, (!llvm.ptr, i32) -> ()\n");
}

static void print_for(Printer *p, const KirOp *op) {
  const KirBlock *body = op->regions[0];
  int n = op->nres;
  results(p, op);
  text(p, "scf.for ");
  define(p, body->args);
  val(p, body->args);
  text(p, " = ");
  val(p, op->opnds[0]);
  text(p, " to ");
  val(p, op->opnds[1]);
  text(p, " step ");
  val(p, op->opnds[2]);
  if (n) {
    text(p, " iter_args(");
    for (int i = 0; i < n; i++) {
      define(p, body->args + 1 + i);
      if (i) text(p, ", ");
      val(p, body->args + 1 + i);
      text(p, " = ");
      val(p, op->opnds[3 + i]);
    }
    text(p, ") -> (");
    vtypes(p, n, op->opnds + 3);
    text(p, ")");
  }
  text(p, " {\n");
  region(p, body);
  line_start(p);
  text(p, "}\n");
}

static void print_if(Printer *p, const KirOp *op) {
  results(p, op);
  text(p, "scf.if ");
  val(p, op->opnds[0]);
  if (op->nres) {
    text(p, " -> (");
    for (int i = 0; i < op->nres; i++) {
      if (i) text(p, ", ");
      vtype(p, op->res + i);
    }
    text(p, ")");
  }
  text(p, " {\n");
  region(p, op->regions[0]);
  line_start(p);
  text(p, "} else {\n");
  region(p, op->regions[1]);
  line_start(p);
  text(p, "}\n");
}

static void print_while(Printer *p, const KirOp *op) {
  const KirBlock *before = op->regions[0], *after = op->regions[1];
  int n = op->nres;
  results(p, op);
  text(p, "scf.while ");
  if (n) {
    text(p, "(");
    for (int i = 0; i < n; i++) {
      define(p, before->args + i);
      if (i) text(p, ", ");
      val(p, before->args + i);
      text(p, " = ");
      val(p, op->opnds[i]);
    }
    text(p, ") ");
  }
  text(p, ": (");
  vtypes(p, n, op->opnds);
  text(p, ") -> (");
  vtypes(p, n, op->opnds);
  text(p, ") {\n");
  region(p, before);
  line_start(p);
  text(p, "} do {\n");
  if (n) {
    line_start(p);
    text(p, "^bb0(");
    for (int i = 0; i < n; i++) {
      define(p, after->args + i);
      if (i) text(p, ", ");
      val(p, after->args + i);
      text(p, ": ");
      vtype(p, after->args + i);
    }
    text(p, "):\n");
  }
  region(p, after);
  line_start(p);
  text(p, "}\n");
}

static void print_switch(Printer *p, const KirOp *op) {
  text(p, "scf.index_switch ");
  val(p, op->opnds[0]);
  text(p, "\n");
  for (int i = 0; i < op->nregions; i++) {
    line_start(p);
    if (i < op->nregions - 1) hlo_str_printf(p->out, "case %d {\n", i);
    else text(p, "default {\n");
    region(p, op->regions[i]);
    line_start(p);
    text(p, "}\n");
  }
}

/* scalef (x86 AVX-512 only, kir_verify.c): x · 2^floor(y) as the
 * masked vscalefps/pd intrinsic with every lane on; the 512-bit forms
 * take a rounding operand (4: the current mode). */
static void print_scalef(Printer *p, const KirOp *op) {
  KirType t = kir_type(p->fn, op->res);
  bool f32 = t.elem == KIR_F32;
  int bits = t.lanes * (f32 ? 32 : 64), k = p->ntemps++;
  const char *mask = t.lanes == 16 ? "i16" : "i8";
  temp(p, k, "m");
  hlo_str_printf(p->out, " = llvm.mlir.constant(-1 : %s) : %s\n", mask, mask);
  if (bits == 512) {
    line_start(p);
    temp(p, k, "r");
    text(p, " = llvm.mlir.constant(4 : i32) : i32\n");
  }
  line_start(p);
  results(p, op);
  hlo_str_printf(p->out, "llvm.call_intrinsic \"llvm.x86.avx512.mask.scalef.%s.%d\"(",
                 f32 ? "ps" : "pd", bits);
  vals(p, 2, op->opnds);
  text(p, ", ");
  val(p, op->opnds[0]);
  text(p, ", ");
  temp(p, k, "m");
  if (bits == 512) {
    text(p, ", ");
    temp(p, k, "r");
  }
  text(p, ") : (");
  for (int i = 0; i < 3; i++) {
    vtype(p, op->res);
    text(p, ", ");
  }
  hlo_str_printf(p->out, "%s%s) -> ", mask, bits == 512 ? ", i32" : "");
  vtype(p, op->res);
  text(p, "\n");
}

/* "OP %a, %b[ fastmath<contract>] : T" for the arithmetic classes. */
static void print_arith(Printer *p, const KirOp *op) {
  if (op->code == KIR_SCALEF) {
    print_scalef(p, op);
    return;
  }
  results(p, op);
  text(p, kir_opcode_mlir_name(op->code));
  text(p, " ");
  KirClass c = kir_opcode_class(op->code);
  if (c == KIR_C_CMPI) hlo_str_printf(p->out, "%s, ", kir_ipred_name((KirIPred)op->pred));
  if (c == KIR_C_CMPF) hlo_str_printf(p->out, "%s, ", kir_fpred_name((KirFPred)op->pred));
  vals(p, op->nopnds, op->opnds);
  if (op->flags & KIR_F_CONTRACT) text(p, " fastmath<contract>");
  text(p, " : ");
  switch (c) {
  case KIR_C_CMPI:
  case KIR_C_CMPF:
    vtype(p, op->opnds[0]);
    break;
  case KIR_C_SELECT:
    if (kir_type(p->fn, op->opnds[0]).lanes) {
      vtype(p, op->opnds[0]);
      text(p, ", ");
    }
    vtype(p, op->res);
    break;
  case KIR_C_CAST:
    vtype(p, op->opnds[0]);
    text(p, " to ");
    vtype(p, op->res);
    break;
  default:
    vtype(p, op->res);
    break;
  }
  text(p, "\n");
}

static void print_mem(Printer *p, const KirOp *op) {
  const KirFunc *f = p->fn;
  results(p, op);
  text(p, kir_opcode_mlir_name(op->code));
  text(p, op->code == KIR_ALLOCA ? "() " : " ");
  switch (op->code) {
  case KIR_LOAD:
  case KIR_VLOAD:
    val(p, op->opnds[0]);
    indices(p, op->nopnds - 1, op->opnds + 1);
    text(p, " : ");
    vtype(p, op->opnds[0]);
    if (op->code == KIR_VLOAD) {
      text(p, ", ");
      vtype(p, op->res);
    }
    break;
  case KIR_STORE:
  case KIR_VSTORE:
    val(p, op->opnds[0]);
    text(p, ", ");
    val(p, op->opnds[1]);
    indices(p, op->nopnds - 2, op->opnds + 2);
    if (op->flags & KIR_F_NONTEMPORAL)
      hlo_str_printf(p->out, " {alignment = %" PRId64 " : i64, nontemporal = true}", op->imm);
    text(p, " : ");
    vtype(p, op->opnds[1]);
    if (op->code == KIR_VSTORE) {
      text(p, ", ");
      vtype(p, op->opnds[0]);
    }
    break;
  case KIR_MLOAD:
    val(p, op->opnds[0]);
    indices(p, op->nopnds - 3, op->opnds + 1);
    text(p, ", ");
    vals(p, 2, op->opnds + op->nopnds - 2);
    text(p, " : ");
    vtype(p, op->opnds[0]);
    text(p, ", ");
    vtype(p, op->opnds[op->nopnds - 2]);
    text(p, ", ");
    vtype(p, op->res);
    text(p, " into ");
    vtype(p, op->res);
    break;
  case KIR_MSTORE:
    val(p, op->opnds[1]);
    indices(p, op->nopnds - 3, op->opnds + 2);
    text(p, ", ");
    val(p, op->opnds[op->nopnds - 1]);
    text(p, ", ");
    val(p, op->opnds[0]);
    text(p, " : ");
    vtype(p, op->opnds[1]);
    text(p, ", ");
    vtype(p, op->opnds[op->nopnds - 1]);
    text(p, ", ");
    vtype(p, op->opnds[0]);
    break;
  case KIR_ALLOCA:
    hlo_str_printf(p->out, "{alignment = %" PRId64 " : i64} : ", op->imm);
    vtype(p, op->res);
    break;
  case KIR_GLOBAL:
    hlo_str_printf(p->out, "@%s : ", op->sym);
    vtype(p, op->res);
    break;
  case KIR_VIEW:
    val(p, op->opnds[0]);
    text(p, "[");
    val(p, op->opnds[1]);
    text(p, "][] : ");
    vtype(p, op->opnds[0]);
    text(p, " to ");
    vtype(p, op->res);
    break;
  case KIR_STREAM_FENCE: text(p, "\"llvm.x86.sse.sfence\"() : () -> ()"); break;
  case KIR_ADDR:
    val(p, op->opnds[0]);
    text(p, " : ");
    vtype(p, op->opnds[0]);
    text(p, " -> index");
    break;
  case KIR_RESHAPE:
    val(p, op->opnds[0]);
    text(p, " to offset: [0], ");
    sizes_strides(p, kir_memref_of(f->m, kir_type(f, op->res)));
    text(p, " : ");
    vtype(p, op->opnds[0]);
    text(p, " to ");
    vtype(p, op->res);
    break;
  case KIR_PREFETCH:
    val(p, op->opnds[0]);
    indices(p, op->nopnds - 1, op->opnds + 1);
    hlo_str_printf(p->out, ", read, locality<%d>, data : ", (int)op->imm);
    vtype(p, op->opnds[0]);
    break;
  case KIR_COPY:
    vals(p, 2, op->opnds);
    text(p, " : ");
    vtype(p, op->opnds[0]);
    text(p, " to ");
    vtype(p, op->opnds[1]);
    break;
  default:
    HLO_UNREACHABLE();
  }
  text(p, "\n");
}

static void print_vec(Printer *p, const KirOp *op) {
  results(p, op);
  text(p, kir_opcode_mlir_name(op->code));
  text(p, " ");
  switch (op->code) {
  case KIR_BROADCAST:
    val(p, op->opnds[0]);
    text(p, " : ");
    vtype(p, op->opnds[0]);
    text(p, " to ");
    vtype(p, op->res);
    break;
  case KIR_EXTRACT:
    val(p, op->opnds[0]);
    hlo_str_printf(p->out, "[%" PRId64 "] : ", op->imm);
    vtype(p, op->res);
    text(p, " from ");
    vtype(p, op->opnds[0]);
    break;
  case KIR_INSERT:
    vals(p, 2, op->opnds);
    hlo_str_printf(p->out, "[%" PRId64 "] : ", op->imm);
    vtype(p, op->opnds[0]);
    text(p, " into ");
    vtype(p, op->res);
    break;
  case KIR_REDUCE:
    hlo_str_printf(p->out, "<%s>, ", kir_combine_name((KirCombine)op->pred));
    val(p, op->opnds[0]);
    text(p, " : ");
    vtype(p, op->opnds[0]);
    text(p, " into ");
    vtype(p, op->res);
    break;
  case KIR_SHUFFLE:
    vals(p, 2, op->opnds);
    text(p, " [");
    for (int i = 0; i < op->nmask; i++) hlo_str_printf(p->out, "%s%d", i ? ", " : "", op->mask[i]);
    text(p, "] : ");
    vtypes(p, 2, op->opnds);
    break;
  default:
    HLO_UNREACHABLE();
  }
  text(p, "\n");
}

static void print_call(Printer *p, const KirOp *op) {
  const KirFunc *callee = kir_func_find(p->fn->m, op->sym);
  results(p, op);
  hlo_str_printf(p->out, "func.call @%s(", op->sym);
  vals(p, op->nopnds, op->opnds);
  text(p, ") : (");
  vtypes(p, op->nopnds, op->opnds);
  text(p, ") -> ");
  if (callee->nresults) type(p, callee->result);
  else text(p, "()");
  text(p, "\n");
}

/* gpu.launch_func @hloc_device::@k blocks in (grid, 1, 1) threads in
 * (block, 1, 1) args(…) */
static void print_launch(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  temp(p, k, "one");
  text(p, " = arith.constant 1 : index\n");
  line_start(p);
  hlo_str_printf(p->out, "gpu.launch_func @%s::@%s blocks in (", KIR_DEVICE_MODULE, op->sym);
  val(p, op->opnds[0]);
  for (int i = 0; i < 2; i++) {
    text(p, ", ");
    temp(p, k, "one");
  }
  text(p, ") threads in (");
  val(p, op->opnds[1]);
  for (int i = 0; i < 2; i++) {
    text(p, ", ");
    temp(p, k, "one");
  }
  text(p, ")");
  if (op->nopnds > 2) {
    text(p, " args(");
    for (int i = 2; i < op->nopnds; i++) {
      if (i > 2) text(p, ", ");
      val(p, op->opnds[i]);
      text(p, " : ");
      vtype(p, op->opnds[i]);
    }
    text(p, ")");
  }
  text(p, "\n");
}

/* gpu.shuffle xor over the whole warp (width 32: convert-gpu-to-nvvm
 * makes the full mask of it); the validity result is always true then. */
static void print_shfl(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  temp(p, k, "mask");
  hlo_str_printf(p->out, " = arith.constant %" PRId64 " : i32\n", op->imm);
  line_start(p);
  temp(p, k, "width");
  text(p, " = arith.constant 32 : i32\n");
  line_start(p);
  define(p, op->res);
  val(p, op->res);
  text(p, ", ");
  temp(p, k, "valid");
  text(p, " = gpu.shuffle xor ");
  val(p, op->opnds[0]);
  text(p, ", ");
  temp(p, k, "mask");
  text(p, ", ");
  temp(p, k, "width");
  text(p, " : ");
  vtype(p, op->res);
  text(p, "\n");
}

/* nvvm.mma.sync, A row-major and B column-major as the fragments of
 * gpu_mma_layout are, giving a struct of the 4 sums taken apart.  The
 * NVVM op takes f16 pairs as vector<2xf16> (the i32 registers bitcast
 * to it) and bf16 pairs and tf32 values as i32. */
static void print_mma(Printer *p, const KirOp *op) {
  static const char *const STRUCT = "!llvm.struct<(f32, f32, f32, f32)>";
  KirMmaKind kind = (KirMmaKind)op->pred;
  bool f16 = kind == KIR_MMA_F16;
  int k = p->ntemps++;
  if (f16)
    for (int i = 0; i < 6; i++) {
      hlo_str_printf(p->out, "%%t%d_h%d = llvm.bitcast ", k, i);
      val(p, op->opnds[i]);
      text(p, " : i32 to vector<2xf16>\n");
      line_start(p);
    }
  temp(p, k, "d");
  text(p, " = nvvm.mma.sync A[");
  for (int i = 0; i < 6; i++) {
    if (i == 4) text(p, "] B[");
    else if (i) text(p, ", ");
    if (f16) hlo_str_printf(p->out, "%%t%d_h%d", k, i);
    else val(p, op->opnds[i]);
  }
  text(p, "] C[");
  vals(p, 4, op->opnds + 6);
  text(p, "] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>");
  if (!f16)
    hlo_str_printf(p->out,
                   ", multiplicandAPtxType = #nvvm.mma_type<%s>"
                   ", multiplicandBPtxType = #nvvm.mma_type<%s>",
                   kir_mma_name(kind), kir_mma_name(kind));
  hlo_str_printf(p->out, ", shape = #nvvm.shape<m = 16, n = 8, k = %d>} : (%s, %s, f32) -> %s\n",
                 kind == KIR_MMA_TF32 ? 8 : 16, f16 ? "vector<2xf16>" : "i32",
                 f16 ? "vector<2xf16>" : "i32", STRUCT);
  for (int i = 0; i < 4; i++) {
    line_start(p);
    define(p, op->res + i);
    val(p, op->res + i);
    text(p, " = llvm.extractvalue ");
    temp(p, k, "d");
    hlo_str_printf(p->out, "[%d] : %s\n", i, STRUCT);
  }
}

/* A wgmma descriptor: the shared buffer's address (ptrtoint of its
 * addrspace(3) pointer: an offset in the block's shared window) plus the
 * byte offset, >> 4, its 14 bits, ORed into the other fields (kir.h). */
static void print_wgmma_desc(Printer *p, const KirOp *op) {
  int k = p->ntemps++;
  temp(p, k, "p");
  text(p, " = memref.extract_aligned_pointer_as_index ");
  val(p, op->opnds[0]);
  text(p, " : ");
  vtype(p, op->opnds[0]);
  text(p, " -> index\n");
  line_start(p);
  temp(p, k, "a");
  text(p, " = arith.addi ");
  temp(p, k, "p");
  text(p, ", ");
  val(p, op->opnds[1]);
  text(p, " : index\n");
  line_start(p);
  temp(p, k, "i");
  text(p, " = arith.index_cast ");
  temp(p, k, "a");
  text(p, " : index to i64\n");
  line_start(p);
  temp(p, k, "four");
  text(p, " = arith.constant 4 : i64\n");
  line_start(p);
  temp(p, k, "s");
  text(p, " = arith.shrui ");
  temp(p, k, "i");
  text(p, ", ");
  temp(p, k, "four");
  text(p, " : i64\n");
  line_start(p);
  temp(p, k, "mask");
  hlo_str_printf(p->out, " = arith.constant %d : i64\n", KIR_WGMMA_DESC_FIELD_MASK);
  line_start(p);
  temp(p, k, "m");
  text(p, " = arith.andi ");
  temp(p, k, "s");
  text(p, ", ");
  temp(p, k, "mask");
  text(p, " : i64\n");
  line_start(p);
  temp(p, k, "f");
  hlo_str_printf(p->out, " = arith.constant %" PRId64 " : i64\n", op->imm);
  line_start(p);
  define(p, op->res);
  val(p, op->res);
  text(p, " = arith.ori ");
  temp(p, k, "m");
  text(p, ", ");
  temp(p, k, "f");
  text(p, " : i64\n");
}

/* nvvm.wgmma.mma_async on a struct of the N/2 accumulators (built from
 * C, D taken apart): A row-major (K-major) and B column-major (K-major,
 * B's transpose stored [n][k]), both from descriptors; D += A·B. */
static void print_wgmma(Printer *p, const KirOp *op) {
  int n = (int)op->imm, k = p->ntemps++;
  KirMmaKind kind = (KirMmaKind)op->pred;
  HloStr st = {0};
  hlo_str_printf(&st, "!llvm.struct<(");
  for (int i = 0; i < n / 2; i++) hlo_str_printf(&st, "%sf32", i ? ", " : "");
  hlo_str_printf(&st, ")>");
  hlo_str_printf(p->out, "%%t%d_c0 = llvm.mlir.undef : %s\n", k, st.buf);
  for (int i = 0; i < n / 2; i++) {
    line_start(p);
    hlo_str_printf(p->out, "%%t%d_c%d = llvm.insertvalue ", k, i + 1);
    val(p, op->opnds[2 + i]);
    hlo_str_printf(p->out, ", %%t%d_c%d[%d] : %s\n", k, i, i, st.buf);
  }
  line_start(p);
  temp(p, k, "d");
  text(p, " = nvvm.wgmma.mma_async ");
  val(p, op->opnds[0]);
  text(p, ", ");
  val(p, op->opnds[1]);
  const char *ty = kir_mma_name(kind);
  hlo_str_printf(p->out,
                 ", %%t%d_c%d, #nvvm.shape<m = %d, n = %d, k = %d>, "
                 "D [<f32>, #nvvm.wgmma_scale_out<one>], "
                 "A [<%s>, #nvvm.wgmma_scale_in<one>, <row>], "
                 "B [<%s>, #nvvm.wgmma_scale_in<one>, <col>] : %s -> %s\n",
                 k, n / 2, KIR_WGMMA_M, n, kind == KIR_MMA_TF32 ? 8 : 16, ty, ty, st.buf, st.buf);
  for (int i = 0; i < n / 2; i++) {
    line_start(p);
    define(p, op->res + i);
    val(p, op->res + i);
    text(p, " = llvm.extractvalue ");
    temp(p, k, "d");
    hlo_str_printf(p->out, "[%d] : %s\n", i, st.buf);
  }
  free(st.buf);
}

static void print_op(Printer *p, const KirOp *op) {
  line_start(p);
  switch (kir_opcode_class(op->code)) {
  case KIR_C_CONST: {
    KirType t = kir_type(p->fn, op->res);
    results(p, op);
    text(p, "arith.constant ");
    if (op->code == KIR_IOTA) {
      text(p, "dense<[");
      for (int i = 0; i < t.lanes; i++) hlo_str_printf(p->out, "%s%d", i ? ", " : "", i);
      text(p, "]> : ");
      type(p, t);
      text(p, "\n");
      return;
    }
    if (t.lanes) text(p, "dense<");
    constant_value(p, t, (uint64_t)op->imm);
    if (t.lanes) text(p, ">");
    if (t.lanes || t.elem != KIR_I1) {
      text(p, " : ");
      type(p, t);
    }
    text(p, "\n");
    return;
  }
  case KIR_C_MEM: print_mem(p, op); return;
  case KIR_C_VEC: print_vec(p, op); return;
  case KIR_C_GPU:
    if (op->code == KIR_LAUNCH) {
      print_launch(p, op);
    } else if (op->code == KIR_SHARED) {
      results(p, op);
      hlo_str_printf(p->out, "memref.get_global @%s : ", op->sym);
      vtype(p, op->res);
      text(p, "\n");
    } else if (op->code == KIR_BARRIER) {
      text(p, "gpu.barrier\n");
    } else if (op->code == KIR_SHFL_XOR) {
      print_shfl(p, op);
    } else if (op->code == KIR_MMA) {
      print_mma(p, op);
    } else if (op->code == KIR_WGMMA_DESC) {
      print_wgmma_desc(p, op);
    } else if (op->code == KIR_WGMMA) {
      print_wgmma(p, op);
    } else if (op->code == KIR_WGMMA_FENCE) {
      text(p, "nvvm.wgmma.fence.aligned\n");
    } else if (op->code == KIR_WGMMA_COMMIT) {
      text(p, "nvvm.wgmma.commit.group.sync.aligned\n");
    } else if (op->code == KIR_WGMMA_WAIT) {
      hlo_str_printf(p->out, "nvvm.wgmma.wait.group.sync.aligned %" PRId64 "\n", op->imm);
    } else if (op->code == KIR_ASYNC_FENCE) {
      text(p, "nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, "
              "space = #nvvm.shared_space<cta>}\n");
    } else {
      results(p, op);
      hlo_str_printf(p->out, "%s x\n", kir_opcode_mlir_name(op->code));
    }
    return;
  case KIR_C_CTRL:
    switch (op->code) {
    case KIR_FOR: print_for(p, op); return;
    case KIR_IF: print_if(p, op); return;
    case KIR_WHILE: print_while(p, op); return;
    case KIR_SWITCH: print_switch(p, op); return;
    case KIR_YIELD:
    case KIR_CONDITION: {
      bool cond = op->code == KIR_CONDITION;
      int skip = cond ? 1 : 0, n = op->nopnds - skip;
      text(p, cond ? "scf.condition(" : "scf.yield");
      if (cond) {
        val(p, op->opnds[0]);
        text(p, ")");
      }
      if (n) {
        text(p, " ");
        vals(p, n, op->opnds + skip);
        text(p, " : ");
        vtypes(p, n, op->opnds + skip);
      }
      text(p, "\n");
      return;
    }
    default: HLO_UNREACHABLE();
    }
  case KIR_C_CALL:
    switch (op->code) {
    case KIR_CALL: print_call(p, op); return;
    case KIR_RETURN:
      text(p, p->fn->kernel ? "gpu.return" : "return");
      if (op->nopnds) {
        text(p, " ");
        vals(p, op->nopnds, op->opnds);
        text(p, " : ");
        vtypes(p, op->nopnds, op->opnds);
      }
      text(p, "\n");
      return;
    case KIR_PACK: print_pack(p, op); return;
    case KIR_UNPACK: print_unpack(p, op); return;
    case KIR_PARALLEL_FOR: print_parallel_for(p, op); return;
    case KIR_POLL:
      results(p, op);
      text(p, "llvm.load ");
      val(p, op->opnds[0]);
      text(p, " atomic monotonic {alignment = 4 : i64} : !llvm.ptr -> i32\n");
      return;
    case KIR_NONNULL: print_nonnull(p, op); return;
    case KIR_HOOK: print_hook(p, op); return;
    default: HLO_UNREACHABLE();
    }
  default:
    print_arith(p, op);
    return;
  }
}

static void block(Printer *p, const KirBlock *b) {
  for (const KirOp *op = b->first; op; op = op->next) print_op(p, op);
}

/* f as a declaration: an external function, or one another part defines
 * (hidden in LLVM, codegen.c). */
static void print_declaration(HloStr *out, const KirFunc *f) {
  hlo_str_printf(out, "  func.func private @%s", f->name);
  kir_signature_print(out, f);
  hlo_str_append(out, "\n", 1);
}

/* f's definition; `internal` gives it internal linkage. */
static void print_func(HloStr *out, const KirFunc *f, bool internal) {
  Printer p = {.out = out, .fn = f, .indent = 2};
  p.name = hlo_xmalloc((size_t)f->nvals * sizeof *p.name);
  for (int i = 0; i < f->nvals; i++) p.name[i] = -1;
  if (f->kernel) hlo_str_printf(out, "  gpu.func @%s(", f->name);
  else hlo_str_printf(out, "  func.func %s@%s(", internal ? "private " : "", f->name);
  for (int i = 0; i < f->nparams; i++) {
    define(&p, kir_param(f, i));
    if (i) text(&p, ", ");
    val(&p, kir_param(f, i));
    text(&p, ": ");
    type(&p, f->params[i]);
  }
  text(&p, ")");
  if (f->nresults) {
    text(&p, " -> ");
    type(&p, f->result);
  }
  const char *noinline = f->noinline ? "passthrough = [\"noinline\"]" : NULL;
  if (f->kernel)
    text(&p, " kernel");
  else if (internal)
    hlo_str_printf(out, " attributes {llvm.linkage = #llvm.linkage<internal>%s%s}",
                   noinline ? ", " : "", noinline ? noinline : "");
  else if (noinline)
    hlo_str_printf(out, " attributes {%s}", noinline);
  text(&p, " {\n");
  block(&p, f->body);
  text(&p, "  }\n");
  free(p.name);
}

static bool uses_parallel_for(const KirBlock *b) {
  for (const KirOp *op = b->first; op; op = op->next) {
    if (op->code == KIR_PARALLEL_FOR) return true;
    for (int i = 0; i < op->nregions; i++)
      if (uses_parallel_for(op->regions[i])) return true;
  }
  return false;
}

/* The storage of the SHARED ops of b: one workgroup global each (a
 * symbol is made once, by one op). */
static void print_shared(HloStr *out, const KirModule *m, const KirBlock *b) {
  for (const KirOp *op = b->first; op; op = op->next) {
    for (int i = 0; i < op->nregions; i++) print_shared(out, m, op->regions[i]);
    if (op->code != KIR_SHARED) continue;
    hlo_str_printf(out, "  memref.global \"private\" @%s : ", op->sym);
    kir_type_print(out, m, kir_type(b->fn, op->res));
    hlo_str_printf(out, " = uninitialized {alignment = 16 : i64}\n");
  }
}

/* Prints the functions of part `part` on the host (device false) or on
 * the device: definitions, and declarations of the others. */
static void print_funcs(HloStr *out, const KirModule *m, const KirSplit *s, int part,
                        bool device) {
  int i = 0;
  for (const KirFunc *f = m->first; f; f = f->next, i++) {
    if (f->device != device) continue;
    if (!f->body || (s && s->part[i] != part))
      print_declaration(out, f);
    else
      print_func(out, f, f->internal && !(s && s->shared[i]));
  }
}

char *kir_print_mlir_part(const KirModule *m, const KirSplit *s, int part) {
  HloStr out = {0};
  bool gpu = false;
  for (const KirFunc *f = m->first; f; f = f->next) gpu |= f->device;
  hlo_str_printf(&out, "module%s {\n", gpu ? " attributes {gpu.container_module}" : "");
  for (int i = 0; i < m->nglobals; i++) {
    hlo_str_printf(&out, "  memref.global constant @%s : ", m->globals[i].name);
    kir_type_print(&out, m, m->globals[i].type);
    hlo_str_append(&out, "\n", 1);
  }
  /* s->funcs is the module's order: function i is s's i-th. */
  bool parallel = false;
  int i = 0;
  for (const KirFunc *f = m->first; f; f = f->next, i++)
    if (f->body && (!s || s->part[i] == part)) parallel |= uses_parallel_for(f->body);
  if (parallel)
    hlo_str_printf(&out, "  func.func private @rt_parallel_for(!llvm.ptr, i64, %s, !llvm.ptr)\n",
                   task_type);
  print_funcs(&out, m, s, part, false);
  if (gpu) {
    hlo_str_printf(&out, "  gpu.module @%s {\n", KIR_DEVICE_MODULE);
    for (int g = 0; g < m->nglobals; g++) {
      hlo_str_printf(&out, "  memref.global @%s : ", m->globals[g].name);
      kir_type_print(&out, m, m->globals[g].type);
      hlo_str_printf(&out, " = uninitialized {alignment = 64 : i64}\n");
    }
    for (const KirFunc *f = m->first; f; f = f->next)
      if (f->device && f->body) print_shared(&out, m, f->body);
    print_funcs(&out, m, s, part, true);
    hlo_str_append(&out, "  }\n", 4);
  }
  hlo_str_append(&out, "}\n", 2);
  return hlo_str_take(&out);
}

char *kir_print_mlir(const KirModule *m) { return kir_print_mlir_part(m, NULL, 0); }
