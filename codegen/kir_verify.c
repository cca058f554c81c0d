/*
 * kir_verify.c — the kernel IR's verifier: what every op's types must be,
 * that every use is dominated by its definition, and that regions have the
 * shape their op needs (arguments, one terminator at the end and nowhere
 * else, yields matching results).
 *
 * It runs in the tests on every kernel they build and, with
 * `--verify-kernels`, on every compile; a failure is a bug in an emitter,
 * so the message is an internal error that names the function and prints
 * the op.  Dominance in structured IR is scoping: one walk in program
 * order marks each value available from its definition to the end of its
 * block.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kir.h"

typedef struct Verifier {
  const KirFunc *f;
  bool *avail;        /* by value: defined and in scope here */
  HloError *err;
} Verifier;

static bool fail(Verifier *v, const KirOp *op, const char *fmt, ...) {
  if (v->err) return false;
  HloStr s = {0};
  hlo_str_printf(&s, "codegen: internal error: the kernel IR of @%s does not verify: ", v->f->name);
  va_list ap;
  va_start(ap, fmt);
  char buf[256];
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  hlo_str_printf(&s, "%s", buf);
  if (op) {
    hlo_str_append(&s, "\n  ", 3);
    kir_print_op(&s, v->f, op);
  }
  v->err = hlo_error("%s", s.buf);
  free(s.buf);
  return false;
}

static KirType T(const Verifier *v, KirVal x) { return kir_type(v->f, x); }

static bool is_int(KirType t) { return t.elem != KIR_MEMREF && kir_elem_is_int((KirElem)t.elem); }
static bool is_float(KirType t) { return kir_elem_is_float((KirElem)t.elem); }
static bool is_memref(KirType t) { return t.elem == KIR_MEMREF; }
static bool is_scalar(KirType t, KirElem e) { return t.elem == e && t.lanes == 0; }

static bool same(const Verifier *v, const KirOp *op, int from, int n) {
  for (int i = from + 1; i < from + n; i++)
    if (!kir_type_eq(T(v, op->opnds[i]), T(v, op->opnds[from]))) return false;
  return true;
}

/* Operand count and result count. */
static bool arity(Verifier *v, const KirOp *op, int nopnds, int nres) {
  if (nopnds >= 0 && op->nopnds != nopnds)
    return fail(v, op, "%d operands where %d are expected", op->nopnds, nopnds);
  if (op->nres != nres) return fail(v, op, "%d results where %d are expected", op->nres, nres);
  return true;
}

/* The memref operand at index m and the rank indices after it. */
static const KirMemref *memref_at(Verifier *v, const KirOp *op, int m) {
  if (m >= op->nopnds || !is_memref(T(v, op->opnds[m]))) {
    fail(v, op, "operand %d is not a memref", m);
    return NULL;
  }
  const KirMemref *r = kir_memref_of(v->f->m, T(v, op->opnds[m]));
  if (op->code == KIR_COPY || op->code == KIR_VIEW || op->code == KIR_RESHAPE ||
      op->code == KIR_ADDR)
    return r;
  if (op->nopnds < m + 1 + r->rank) {
    fail(v, op, "a memref of rank %d needs %d indices", r->rank, r->rank);
    return NULL;
  }
  for (int i = 0; i < r->rank; i++)
    if (!is_scalar(T(v, op->opnds[m + 1 + i]), KIR_INDEX)) {
      fail(v, op, "index %d is not an index value", i);
      return NULL;
    }
  return r;
}

static bool check_mem(Verifier *v, const KirOp *op) {
  const KirModule *m = v->f->m;
  const KirMemref *r;
  switch (op->code) {
  case KIR_LOAD:
    if (!(r = memref_at(v, op, 0)) || !arity(v, op, 1 + r->rank, 1)) return false;
    if (!is_scalar(T(v, op->res), (KirElem)r->elem)) return fail(v, op, "loads another type");
    return true;
  case KIR_STORE:
    if (!(r = memref_at(v, op, 1)) || !arity(v, op, 2 + r->rank, 0)) return false;
    if (!is_scalar(T(v, op->opnds[0]), (KirElem)r->elem)) return fail(v, op, "stores another type");
    return true;
  case KIR_VLOAD:
  case KIR_MLOAD: {
    bool masked = op->code == KIR_MLOAD;
    if (!(r = memref_at(v, op, 0)) || !arity(v, op, 1 + r->rank + 2 * masked, 1)) return false;
    KirType t = T(v, op->res);
    if (t.elem != r->elem || t.lanes < 1 || r->rank < 1)
      return fail(v, op, "loads a vector of another type, or from a rank-0 memref");
    if (masked && (!kir_type_eq(T(v, op->opnds[op->nopnds - 2]), kir_vector(KIR_I1, t.lanes)) ||
                   !kir_type_eq(T(v, op->opnds[op->nopnds - 1]), t)))
      return fail(v, op, "mask or pass-through of another type");
    return true;
  }
  case KIR_VSTORE:
  case KIR_MSTORE: {
    bool masked = op->code == KIR_MSTORE;
    if (!(r = memref_at(v, op, 1)) || !arity(v, op, 2 + r->rank + masked, 0)) return false;
    KirType t = T(v, op->opnds[0]);
    if (t.elem != r->elem || t.lanes < 1 || r->rank < 1)
      return fail(v, op, "stores a vector of another type, or into a rank-0 memref");
    if (masked && !kir_type_eq(T(v, op->opnds[op->nopnds - 1]), kir_vector(KIR_I1, t.lanes)))
      return fail(v, op, "mask of another type");
    if ((op->flags & KIR_F_NONTEMPORAL) &&
        (masked || op->imm * 8 < (int64_t)t.lanes * kir_elem_bits((KirElem)t.elem) ||
         (op->imm & (op->imm - 1))))
      return fail(v, op, "a nontemporal store needs a power-of-two alignment of at least "
                         "its vector's bytes");
    return true;
  }
  case KIR_PREFETCH:
    if (!(r = memref_at(v, op, 0)) || !arity(v, op, 1 + r->rank, 0)) return false;
    if (op->imm < 0 || op->imm > 3) return fail(v, op, "has a locality outside 0..3");
    return true;
  case KIR_ALLOCA:
  case KIR_GLOBAL:
    if (!arity(v, op, 0, 1)) return false;
    if (!is_memref(T(v, op->res))) return fail(v, op, "does not make a memref");
    if (op->code == KIR_GLOBAL) {
      for (int i = 0; i < m->nglobals; i++)
        if (!strcmp(m->globals[i].name, op->sym))
          return kir_type_eq(m->globals[i].type, T(v, op->res)) ||
                 fail(v, op, "the global has another type");
      return fail(v, op, "no global @%s", op->sym);
    }
    return true;
  case KIR_VIEW: {
    if (!arity(v, op, 2, 1) || !(r = memref_at(v, op, 0))) return false;
    if (r->rank != 1 || r->elem != KIR_I8 || !is_scalar(T(v, op->opnds[1]), KIR_INDEX) ||
        !is_memref(T(v, op->res)))
      return fail(v, op, "views memref<Nxi8> at an index as a memref");
    return true;
  }
  case KIR_RESHAPE: {
    if (!arity(v, op, 1, 1) || !(r = memref_at(v, op, 0))) return false;
    if (!is_memref(T(v, op->res))) return fail(v, op, "does not make a memref");
    const KirMemref *s = kir_memref_of(m, T(v, op->res));
    int64_t a = 1, b = 1;
    for (int i = 0; i < r->rank; i++) a *= r->dims[i];
    for (int i = 0; i < s->rank; i++) b *= s->dims[i];
    if (a != b || r->elem != s->elem) return fail(v, op, "changes the element count or type");
    return true;
  }
  case KIR_STREAM_FENCE: return arity(v, op, 0, 0);
  case KIR_ADDR:
    if (!arity(v, op, 1, 1) || !memref_at(v, op, 0)) return false;
    if (!is_scalar(T(v, op->res), KIR_INDEX)) return fail(v, op, "gives another type than index");
    return true;
  case KIR_COPY:
    if (!arity(v, op, 2, 0) || !memref_at(v, op, 0)) return false;
    if (!same(v, op, 0, 2)) return fail(v, op, "copies between different types");
    return true;
  default:
    HLO_UNREACHABLE();
  }
}

static bool check_vec(Verifier *v, const KirOp *op) {
  switch (op->code) {
  case KIR_BROADCAST: {
    if (!arity(v, op, 1, 1)) return false;
    KirType s = T(v, op->opnds[0]), t = T(v, op->res);
    if (s.lanes || t.lanes < 1 || s.elem != t.elem) return fail(v, op, "broadcasts a non-scalar");
    return true;
  }
  case KIR_EXTRACT:
  case KIR_INSERT: {
    bool ins = op->code == KIR_INSERT;
    if (!arity(v, op, 1 + ins, 1)) return false;
    KirType vt = T(v, op->opnds[ins]), s = ins ? T(v, op->opnds[0]) : T(v, op->res);
    if (vt.lanes < 1 || s.lanes || s.elem != vt.elem || op->imm < 0 || op->imm >= vt.lanes)
      return fail(v, op, "lane %d of a vector of %d", (int)op->imm, vt.lanes);
    if (ins && !kir_type_eq(T(v, op->res), vt)) return fail(v, op, "result of another type");
    return true;
  }
  case KIR_REDUCE: {
    if (!arity(v, op, 1, 1)) return false;
    KirType vt = T(v, op->opnds[0]), s = T(v, op->res);
    bool fl = is_float(vt), fk = op->pred == KIR_COMBINE_MAXF || op->pred == KIR_COMBINE_MINF;
    bool ik = op->pred >= KIR_COMBINE_AND;
    if (vt.lanes < 1 || s.lanes || s.elem != vt.elem || (fk && !fl) || (ik && fl))
      return fail(v, op, "reduction of the wrong kind");
    return true;
  }
  case KIR_SHUFFLE: {
    if (!arity(v, op, 2, 1)) return false;
    KirType a = T(v, op->opnds[0]), t = T(v, op->res);
    if (a.lanes < 1 || !same(v, op, 0, 2) || t.elem != a.elem || t.lanes != op->nmask)
      return fail(v, op, "shuffles vectors of other types");
    for (int i = 0; i < op->nmask; i++)
      if (op->mask[i] < 0 || op->mask[i] >= 2 * a.lanes) return fail(v, op, "mask out of range");
    return true;
  }
  default:
    HLO_UNREACHABLE();
  }
}

static bool check_cast(Verifier *v, const KirOp *op) {
  if (!arity(v, op, 1, 1)) return false;
  KirType s = T(v, op->opnds[0]), t = T(v, op->res);
  if (s.lanes != t.lanes) return fail(v, op, "changes the lane count");
  int sb = kir_elem_bits((KirElem)s.elem), tb = kir_elem_bits((KirElem)t.elem);
  bool ok;
  switch (op->code) {
  case KIR_EXTUI: case KIR_EXTSI: ok = is_int(s) && is_int(t) && sb < tb; break;
  case KIR_TRUNCI: ok = is_int(s) && is_int(t) && sb > tb; break;
  case KIR_SITOFP: case KIR_UITOFP: ok = is_int(s) && is_float(t); break;
  case KIR_FPTOSI: case KIR_FPTOUI: ok = is_float(s) && is_int(t); break;
  case KIR_EXTF: ok = is_float(s) && is_float(t) && sb < tb; break;
  case KIR_TRUNCF: ok = is_float(s) && is_float(t) && sb > tb; break;
  case KIR_BITCAST: ok = sb == tb && s.elem != KIR_INDEX && t.elem != KIR_INDEX; break;
  default: /* index casts */
    ok = is_int(s) && is_int(t) && (s.elem == KIR_INDEX) != (t.elem == KIR_INDEX);
    break;
  }
  return ok || fail(v, op, "casts between the wrong types");
}

static bool check_arith(Verifier *v, const KirOp *op) {
  KirClass c = kir_opcode_class(op->code);
  int n = c == KIR_C_CONST                                                          ? 0
          : c == KIR_C_IBIN || c == KIR_C_FBIN || c == KIR_C_CMPI || c == KIR_C_CMPF ? 2
          : c == KIR_C_FMA || c == KIR_C_SELECT                                    ? 3
                                                                                   : 1;
  if (!arity(v, op, n, 1)) return false;
  KirType r = T(v, op->res);
  switch (c) {
  case KIR_C_CONST:
    if (op->code == KIR_IOTA && (!is_int(r) || r.lanes < 1 || r.elem == KIR_I1))
      return fail(v, op, "an iota that is not an integer vector");
    return (is_int(r) || is_float(r)) || fail(v, op, "a constant of type %d", r.elem);
  case KIR_C_IBIN:
  case KIR_C_IUN:
    if (!same(v, op, 0, n) || !is_int(r) || !kir_type_eq(r, T(v, op->opnds[0])))
      return fail(v, op, "integer op on other types");
    return true;
  case KIR_C_FBIN:
  case KIR_C_FUN:
  case KIR_C_FMA:
    if (!same(v, op, 0, n) || !is_float(r) || !kir_type_eq(r, T(v, op->opnds[0])))
      return fail(v, op, "float op on other types");
    /* scalef is AVX-512's vscalefps/pd: 128, 256 or 512 bits of f32 or f64 */
    if (op->code == KIR_SCALEF &&
        !((r.elem == KIR_F32 || r.elem == KIR_F64) && r.lanes > 0 &&
          (r.lanes * (r.elem == KIR_F32 ? 32 : 64) == 128 ||
           r.lanes * (r.elem == KIR_F32 ? 32 : 64) == 256 ||
           r.lanes * (r.elem == KIR_F32 ? 32 : 64) == 512)))
      return fail(v, op, "scalef on a type that is not a 128-, 256- or 512-bit f32 or f64 "
                         "vector");
    return true;
  case KIR_C_CMPI:
  case KIR_C_CMPF: {
    KirType a = T(v, op->opnds[0]);
    bool ok = same(v, op, 0, 2) && (c == KIR_C_CMPI ? is_int(a) : is_float(a)) &&
              kir_type_eq(r, kir_vector(KIR_I1, a.lanes));
    return ok || fail(v, op, "compares other types");
  }
  case KIR_C_SELECT: {
    KirType cond = T(v, op->opnds[0]);
    bool ok = same(v, op, 1, 2) && kir_type_eq(r, T(v, op->opnds[1])) && cond.elem == KIR_I1 &&
              (cond.lanes == 0 || cond.lanes == r.lanes);
    return ok || fail(v, op, "selects between other types");
  }
  default:
    HLO_UNREACHABLE();
  }
}

/* The types of a region's terminator operands match `types`. */
static bool check_terminator(Verifier *v, const KirOp *owner, const KirBlock *b, KirOpcode code,
                             int skip, int n, const KirVal *like) {
  const KirOp *t = b->last;
  if (!t || t->code != code)
    return fail(v, owner, "a region does not end in %s", kir_opcode_name(code));
  if (t->nopnds != n + skip) return fail(v, t, "%d values where %d are expected", t->nopnds - skip, n);
  for (int i = 0; i < n; i++)
    if (!kir_type_eq(T(v, t->opnds[skip + i]), T(v, like[i])))
      return fail(v, t, "value %d has another type", i);
  if (code == KIR_CONDITION && !is_scalar(T(v, t->opnds[0]), KIR_I1))
    return fail(v, t, "the condition is not an i1");
  return true;
}

static bool check_ctrl(Verifier *v, const KirOp *op) {
  switch (op->code) {
  case KIR_FOR: {
    int n = op->nopnds - 3;
    if (n < 0 || op->nres != n || op->nregions != 1) return fail(v, op, "malformed for");
    for (int i = 0; i < 3; i++)
      if (!is_scalar(T(v, op->opnds[i]), KIR_INDEX)) return fail(v, op, "bounds are not index values");
    const KirBlock *b = op->regions[0];
    if (b->nargs != n + 1 || !is_scalar(T(v, b->args), KIR_INDEX))
      return fail(v, op, "the body's arguments are not the induction variable and %d values", n);
    for (int i = 0; i < n; i++)
      if (!kir_type_eq(T(v, op->opnds[3 + i]), T(v, op->res + i)) ||
          !kir_type_eq(T(v, b->args + 1 + i), T(v, op->res + i)))
        return fail(v, op, "carried value %d changes type", i);
    return check_terminator(v, op, b, KIR_YIELD, 0, n, op->opnds + 3);
  }
  case KIR_IF: {
    if (op->nopnds != 1 || op->nregions != 2 || !is_scalar(T(v, op->opnds[0]), KIR_I1))
      return fail(v, op, "malformed if");
    KirVal *res = hlo_xmalloc((size_t)(op->nres + 1) * sizeof *res);
    for (int i = 0; i < op->nres; i++) res[i] = op->res + i;
    bool ok = check_terminator(v, op, op->regions[0], KIR_YIELD, 0, op->nres, res) &&
              check_terminator(v, op, op->regions[1], KIR_YIELD, 0, op->nres, res);
    free(res);
    return ok;
  }
  case KIR_WHILE: {
    int n = op->nopnds;
    if (op->nres != n || op->nregions != 2) return fail(v, op, "malformed while");
    for (int r = 0; r < 2; r++) {
      const KirBlock *b = op->regions[r];
      if (b->nargs != n) return fail(v, op, "region %d has %d arguments, not %d", r, b->nargs, n);
      for (int i = 0; i < n; i++)
        if (!kir_type_eq(T(v, b->args + i), T(v, op->opnds[i])))
          return fail(v, op, "argument %d of region %d has another type", i, r);
    }
    return check_terminator(v, op, op->regions[0], KIR_CONDITION, 1, n, op->opnds) &&
           check_terminator(v, op, op->regions[1], KIR_YIELD, 0, n, op->opnds);
  }
  case KIR_SWITCH:
    if (op->nopnds != 1 || op->nres || op->nregions < 1 ||
        !is_scalar(T(v, op->opnds[0]), KIR_INDEX))
      return fail(v, op, "malformed switch");
    for (int i = 0; i < op->nregions; i++)
      if (!check_terminator(v, op, op->regions[i], KIR_YIELD, 0, 0, NULL)) return false;
    return true;
  case KIR_YIELD:
  case KIR_CONDITION: {
    const KirOp *owner = op->parent->parent;
    if (op != op->parent->last || !owner)
      return fail(v, op, "a terminator that does not end a region");
    bool cond = op->code == KIR_CONDITION;
    if (cond != (owner->code == KIR_WHILE && op->parent == owner->regions[0]))
      return fail(v, op, "the wrong terminator for its region");
    return true;
  }
  default:
    HLO_UNREACHABLE();
  }
}

static bool check_call(Verifier *v, const KirOp *op) {
  const KirModule *m = v->f->m;
  switch (op->code) {
  case KIR_CALL: {
    const KirFunc *c = kir_func_find(m, op->sym);
    if (!c) return fail(v, op, "no function @%s", op->sym);
    if (c->kernel) return fail(v, op, "calls the GPU kernel @%s (kernels are launched)", c->name);
    if (c->device != v->f->device)
      return fail(v, op, "calls @%s across the host and the device", c->name);
    if (op->nopnds != c->nparams || op->nres != c->nresults)
      return fail(v, op, "@%s takes %d arguments and gives %d results", c->name, c->nparams,
                  c->nresults);
    for (int i = 0; i < c->nparams; i++)
      if (!kir_type_eq(T(v, op->opnds[i]), c->params[i])) return fail(v, op, "argument %d", i);
    if (c->nresults && !kir_type_eq(T(v, op->res), c->result)) return fail(v, op, "result type");
    return true;
  }
  case KIR_RETURN:
    if (op != op->parent->last || op->parent != v->f->body)
      return fail(v, op, "return does not end the function");
    if (op->nopnds != v->f->nresults ||
        (op->nopnds && !kir_type_eq(T(v, op->opnds[0]), v->f->result)))
      return fail(v, op, "returns other than the function's result");
    return true;
  case KIR_PACK:
    if (!arity(v, op, -1, 1) || !is_scalar(T(v, op->res), KIR_PTR)) return false;
    for (int i = 0; i < op->nopnds; i++)
      if (!is_memref(T(v, op->opnds[i]))) return fail(v, op, "packs a non-memref");
    return true;
  case KIR_UNPACK:
    if (!arity(v, op, 1, 1) || !is_scalar(T(v, op->opnds[0]), KIR_PTR) ||
        !is_memref(T(v, op->res)) || op->imm < 0)
      return fail(v, op, "unpacks a memref from a pointer");
    return true;
  case KIR_POLL:
    if (!arity(v, op, 1, 1) || !is_scalar(T(v, op->opnds[0]), KIR_PTR) ||
        !is_scalar(T(v, op->res), KIR_I32))
      return fail(v, op, "polls other than an i32 behind a pointer");
    return true;
  case KIR_NONNULL:
    if (!arity(v, op, 1, 1) || !is_scalar(T(v, op->opnds[0]), KIR_PTR) ||
        !is_scalar(T(v, op->res), KIR_I1))
      return fail(v, op, "tests other than a pointer for NULL");
    return true;
  case KIR_HOOK:
    if (!arity(v, op, 2, 0) || !is_scalar(T(v, op->opnds[0]), KIR_PTR) ||
        !is_scalar(T(v, op->opnds[1]), KIR_I32) || op->imm < 0)
      return fail(v, op, "calls a hook other than (ptr, i32) from a field of a pointer");
    return true;
  case KIR_PARALLEL_FOR: {
    if (!arity(v, op, 2, 0)) return false;
    const KirFunc *task = kir_func_find(m, op->sym);
    if (!is_scalar(T(v, op->opnds[0]), KIR_I64) || !is_scalar(T(v, op->opnds[1]), KIR_PTR))
      return fail(v, op, "runs an i64 count with a pointer context");
    if (!task || task->nparams != 3 || task->nresults || !is_scalar(task->params[0], KIR_PTR) ||
        !is_scalar(task->params[1], KIR_I64) || !is_scalar(task->params[2], KIR_I64))
      return fail(v, op, "@%s is not a task (ptr, i64, i64)", op->sym);
    return true;
  }
  default:
    HLO_UNREACHABLE();
  }
}

/* Thread and block ids and dims, shared memory, barriers, shuffles and
 * tensor-core multiplies exist in device functions (a CPU's code has
 * none); launches are the host's, of a kernel with
 * its parameters' types. */
static bool check_gpu(Verifier *v, const KirOp *op) {
  bool block_op = op->code == KIR_SHARED || op->code == KIR_BARRIER ||
                  op->code == KIR_SHFL_XOR || op->code == KIR_MMA ||
                  op->code == KIR_WGMMA_DESC || op->code == KIR_WGMMA ||
                  op->code == KIR_WGMMA_FENCE || op->code == KIR_WGMMA_COMMIT ||
                  op->code == KIR_WGMMA_WAIT || op->code == KIR_ASYNC_FENCE;
  if (block_op && !v->f->device) return fail(v, op, "a GPU op outside a device function");
  switch (op->code) {
  case KIR_SHARED: {
    if (!arity(v, op, 0, 1)) return false;
    KirType t = T(v, op->res);
    if (!is_memref(t) || kir_memref_of(v->f->m, t)->space != KIR_SPACE_SHARED || !op->sym)
      return fail(v, op, "shared memory is a named memref in the shared space");
    return true;
  }
  case KIR_BARRIER: return arity(v, op, 0, 0);
  case KIR_SHFL_XOR: {
    if (!arity(v, op, 1, 1)) return false;
    KirType t = T(v, op->opnds[0]);
    if (t.lanes || (t.elem != KIR_I32 && t.elem != KIR_I64 && t.elem != KIR_F32 &&
                    t.elem != KIR_F64) || !kir_type_eq(t, T(v, op->res)))
      return fail(v, op, "a shuffle moves one i32, i64, f32 or f64");
    if (op->imm < 1 || op->imm > 16 || (op->imm & (op->imm - 1)))
      return fail(v, op, "a shuffle's lane mask is 1, 2, 4, 8 or 16");
    return true;
  }
  case KIR_MMA: {
    /* A: 4 i32, B: 2 i32, C: 4 f32 → D: 4 f32 (kir.h, kir_mma). */
    if (!arity(v, op, 10, 4)) return false;
    if (op->pred > KIR_MMA_TF32) return fail(v, op, "an mma of no known kind");
    for (int i = 0; i < 10; i++)
      if (!is_scalar(T(v, op->opnds[i]), i < 6 ? KIR_I32 : KIR_F32))
        return fail(v, op, "an mma takes A as 4 i32, B as 2 i32 and C as 4 f32 (operand %d)", i);
    for (int i = 0; i < 4; i++)
      if (!is_scalar(T(v, op->res + i), KIR_F32)) return fail(v, op, "an mma gives 4 f32");
    return true;
  }
  case KIR_WGMMA_DESC: {
    /* A shared memref and a byte offset (index) → the i64 descriptor;
     * the fields leave the address bits to it. */
    if (!arity(v, op, 2, 1)) return false;
    KirType t = T(v, op->opnds[0]);
    if (!is_memref(t) || kir_memref_of(v->f->m, t)->space != KIR_SPACE_SHARED ||
        !is_scalar(T(v, op->opnds[1]), KIR_INDEX) || !is_scalar(T(v, op->res), KIR_I64))
      return fail(v, op, "a wgmma descriptor is an i64 of a shared memref and a byte offset");
    if ((uint64_t)op->imm & ((uint64_t)KIR_WGMMA_DESC_FIELD_MASK << KIR_WGMMA_DESC_ADDR_SHIFT))
      return fail(v, op, "a wgmma descriptor's fields leave its address bits 0");
    return true;
  }
  case KIR_WGMMA: {
    /* Two i64 descriptors and N/2 f32 → N/2 f32 (kir.h, kir_wgmma). */
    int n = (int)op->imm;
    if (n < 8 || n > KIR_WGMMA_MAX_N || n % 8)
      return fail(v, op, "a wgmma's N is a multiple of 8 from 8 to 256");
    if (!arity(v, op, 2 + n / 2, n / 2)) return false;
    if (op->pred > KIR_MMA_TF32) return fail(v, op, "a wgmma of no known kind");
    for (int i = 0; i < 2 + n / 2; i++)
      if (!is_scalar(T(v, op->opnds[i]), i < 2 ? KIR_I64 : KIR_F32))
        return fail(v, op, "a wgmma takes two i64 descriptors and N/2 f32 (operand %d)", i);
    for (int i = 0; i < n / 2; i++)
      if (!is_scalar(T(v, op->res + i), KIR_F32)) return fail(v, op, "a wgmma gives N/2 f32");
    return true;
  }
  case KIR_WGMMA_WAIT:
    if (op->imm < 0 || op->imm > 7) return fail(v, op, "a wgmma wait leaves 0 to 7 groups");
    return arity(v, op, 0, 0);
  case KIR_WGMMA_FENCE: case KIR_WGMMA_COMMIT: case KIR_ASYNC_FENCE: return arity(v, op, 0, 0);
  default: break;
  }
  if (op->code != KIR_LAUNCH) {
    if (!v->f->device) return fail(v, op, "a GPU index outside a device function");
    if (!arity(v, op, 0, 1) || !is_scalar(T(v, op->res), KIR_INDEX))
      return fail(v, op, "a GPU index is one index value");
    return true;
  }
  if (v->f->device) return fail(v, op, "a launch in a device function");
  const KirFunc *k = kir_func_find(v->f->m, op->sym);
  if (!k || !k->kernel) return fail(v, op, "@%s is no GPU kernel", op->sym);
  if (!arity(v, op, k->nparams + 2, 0)) return false;
  if (!is_scalar(T(v, op->opnds[0]), KIR_INDEX) || !is_scalar(T(v, op->opnds[1]), KIR_INDEX))
    return fail(v, op, "a launch's grid and block are index values");
  for (int i = 0; i < k->nparams; i++)
    if (!kir_type_eq(T(v, op->opnds[2 + i]), k->params[i])) return fail(v, op, "argument %d", i);
  return true;
}

static bool check_op(Verifier *v, const KirOp *op) {
  for (int i = 0; i < op->nopnds; i++) {
    KirVal x = op->opnds[i];
    if (x <= 0 || x >= v->f->nvals) return fail(v, op, "operand %d is no value", i);
    if (!v->avail[x]) return fail(v, op, "operand %d is used where it is not defined", i);
  }
  if (op->code != KIR_FOR && op->code != KIR_IF && op->code != KIR_WHILE &&
      op->code != KIR_SWITCH && op->nregions)
    return fail(v, op, "an op with regions it cannot have");
  switch (kir_opcode_class(op->code)) {
  case KIR_C_MEM: return check_mem(v, op);
  case KIR_C_VEC: return check_vec(v, op);
  case KIR_C_CAST: return check_cast(v, op);
  case KIR_C_CTRL: return check_ctrl(v, op);
  case KIR_C_CALL: return check_call(v, op);
  case KIR_C_GPU: return check_gpu(v, op);
  default: return check_arith(v, op);
  }
}

static bool check_block(Verifier *v, const KirBlock *b) {
  for (int i = 0; i < b->nargs; i++) v->avail[b->args + i] = true;
  bool ok = true;
  for (const KirOp *op = b->first; op && ok; op = op->next) {
    if (op->parent != b) return fail(v, op, "an op linked into the wrong block");
    bool term = op->code == KIR_YIELD || op->code == KIR_CONDITION || op->code == KIR_RETURN;
    if (term && op != b->last) return fail(v, op, "a terminator before the end of its region");
    ok = check_op(v, op);
    for (int i = 0; i < op->nregions && ok; i++) {
      if (op->regions[i]->parent != op) return fail(v, op, "a region that is not its own");
      ok = check_block(v, op->regions[i]);
    }
    for (int i = 0; i < op->nres; i++) v->avail[op->res + i] = true;
  }
  /* Out of scope again when the block ends. */
  for (int i = 0; i < b->nargs; i++) v->avail[b->args + i] = false;
  for (const KirOp *op = b->first; op; op = op->next)
    for (int i = 0; i < op->nres; i++) v->avail[op->res + i] = false;
  return ok;
}

HloError *kir_verify_func(const KirFunc *f) {
  if (f->external) return NULL;
  Verifier v = {.f = f};
  if (f->kernel && (!f->device || f->nresults))
    return (fail(&v, NULL, "a GPU kernel is a device function without results"), v.err);
  v.avail = hlo_xcalloc((size_t)f->nvals, sizeof *v.avail);
  if (check_block(&v, f->body) && (!f->body->last || f->body->last->code != KIR_RETURN))
    fail(&v, NULL, "the function does not end in return");
  free(v.avail);
  return v.err;
}

HloError *kir_verify(const KirModule *m) {
  for (const KirFunc *f = m->first; f; f = f->next) {
    HloError *e = kir_verify_func(f);
    if (e) return e;
  }
  return NULL;
}
