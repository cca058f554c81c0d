/*
 * kir.c — the kernel IR's data structures and builders (kir.h): modules,
 * interned memref types, functions and their value tables, ops linked in
 * blocks, and the insertion point every builder appends at.
 *
 * Builders assume well-typed operands and assert only what would corrupt
 * the IR itself (a value of another function, a missing region); the type
 * rules are kir_verify's (kir_verify.c), which the tests and
 * --verify-kernels run, so a builder stays a few lines.  Result types are
 * derived from the operands where the op determines them.
 */
#include <stdlib.h>
#include <string.h>

#include "kir.h"

static const struct {
  const char *name, *mlir;
  KirClass cls;
} op_table[] = {
#define X(e, name, mlir, cls) {name, mlir, cls},
    KIR_OPCODES(X)
#undef X
};

const char *kir_opcode_name(KirOpcode op) { return op_table[op].name; }
const char *kir_opcode_mlir_name(KirOpcode op) { return op_table[op].mlir; }
KirClass kir_opcode_class(KirOpcode op) { return op_table[op].cls; }

const char *kir_ipred_name(KirIPred p) {
  static const char *const names[] = {"eq", "ne", "slt", "sle", "sgt",
                                      "sge", "ult", "ule", "ugt", "uge"};
  return names[p];
}

const char *kir_fpred_name(KirFPred p) {
  static const char *const names[] = {"oeq", "one", "olt", "ole", "ogt", "oge", "ord",
                                      "ueq", "une", "ult", "ule", "ugt", "uge", "uno"};
  return names[p];
}

const char *kir_combine_name(KirCombine c) {
  static const char *const names[] = {"add", "mul", "maximumf", "minimumf", "and", "or", "xor"};
  return names[c];
}

const char *kir_mma_name(KirMmaKind k) {
  static const char *const names[] = {"f16", "bf16", "tf32"};
  /* The verifier prints an op it refuses, whose kind may be no kind. */
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

bool kir_elem_is_int(KirElem e) { return (e >= KIR_I1 && e <= KIR_I64) || e == KIR_INDEX; }
bool kir_elem_is_float(KirElem e) { return e == KIR_F32 || e == KIR_F64; }

int kir_elem_bits(KirElem e) {
  switch (e) {
  case KIR_I1: return 1;
  case KIR_I8: return 8;
  case KIR_I16: return 16;
  case KIR_I32: case KIR_F32: return 32;
  case KIR_I64: case KIR_F64: case KIR_INDEX: case KIR_PTR: return 64;
  default: return 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Modules, types, functions                                                */
/* ------------------------------------------------------------------------ */

KirModule *kir_module_new(void) {
  KirModule *m = hlo_xcalloc(1, sizeof *m);
  m->arena = hlo_arena_new();
  return m;
}

void kir_module_free(KirModule *m) {
  if (!m) return;
  for (KirFunc *f = m->first; f; f = f->next) {
    free(f->vals);
    free(f->consts);
  }
  free(m->mrefs);
  free(m->globals);
  hlo_arena_free(m->arena);
  free(m);
}

static KirType memref_in(KirModule *m, KirSpace space, KirElem elem, int rank,
                         const int64_t *dims) {
  HLO_CHECK(rank >= 0 && rank <= HLO_MAX_RANK);
  KirMemref want;
  memset(&want, 0, sizeof want); /* memcmp compares the padding too */
  want.elem = (uint8_t)elem;
  want.space = (uint8_t)space;
  want.rank = rank;
  if (rank) memcpy(want.dims, dims, (size_t)rank * sizeof *dims);
  for (int i = 0; i < m->nmrefs; i++)
    if (!memcmp(&m->mrefs[i], &want, sizeof want)) return (KirType){KIR_MEMREF, 0, i};
  if (m->nmrefs == m->mref_cap) {
    m->mref_cap = m->mref_cap ? 2 * m->mref_cap : 32;
    m->mrefs = hlo_xrealloc(m->mrefs, (size_t)m->mref_cap * sizeof *m->mrefs);
  }
  m->mrefs[m->nmrefs] = want;
  return (KirType){KIR_MEMREF, 0, m->nmrefs++};
}

KirType kir_memref(KirModule *m, KirElem elem, int rank, const int64_t *dims) {
  return memref_in(m, KIR_SPACE_DEFAULT, elem, rank, dims);
}

KirType kir_memref_shared(KirModule *m, KirElem elem, int rank, const int64_t *dims) {
  return memref_in(m, KIR_SPACE_SHARED, elem, rank, dims);
}

const KirMemref *kir_memref_of(const KirModule *m, KirType t) {
  HLO_CHECK(t.elem == KIR_MEMREF && t.mref >= 0 && t.mref < m->nmrefs);
  return &m->mrefs[t.mref];
}

static KirVal new_values(KirFunc *f, int n) {
  if (f->nvals + n > f->cap) {
    while (f->nvals + n > f->cap) f->cap = f->cap ? 2 * f->cap : 64;
    f->vals = hlo_xrealloc(f->vals, (size_t)f->cap * sizeof *f->vals);
  }
  KirVal first = f->nvals;
  memset(&f->vals[first], 0, (size_t)n * sizeof *f->vals);
  f->nvals += n;
  return first;
}

static KirBlock *new_block(KirFunc *f, KirOp *parent, int nargs, const KirType *types) {
  KirBlock *b = hlo_arena_alloc(f->m->arena, sizeof *b);
  b->fn = f;
  b->parent = parent;
  b->nargs = nargs;
  b->args = new_values(f, nargs);
  for (int i = 0; i < nargs; i++)
    f->vals[b->args + i] = (KirValue){.type = types[i], .block = b, .index = i};
  return b;
}

static KirFunc *func_alloc(KirModule *m, const char *name, int nparams, const KirType *params,
                           int nresults, const KirType *results) {
  HLO_CHECK(nresults == 0 || nresults == 1);
  KirFunc *f = hlo_arena_alloc(m->arena, sizeof *f);
  f->name = hlo_arena_strdup(m->arena, name);
  f->m = m;
  f->nparams = nparams;
  f->params = hlo_arena_memdup(m->arena, params, (size_t)nparams * sizeof *params);
  f->nresults = nresults;
  if (nresults) f->result = results[0];
  new_values(f, 1); /* value 0: none */
  if (m->last) m->last->next = f;
  else m->first = f;
  m->last = f;
  return f;
}

KirFunc *kir_func_new(KirModule *m, const char *name, int nparams, const KirType *params,
                      int nresults, const KirType *results) {
  KirFunc *f = func_alloc(m, name, nparams, params, nresults, results);
  f->body = new_block(f, NULL, nparams, params);
  return f;
}

KirFunc *kir_func_find(const KirModule *m, const char *name) {
  for (KirFunc *f = m->first; f; f = f->next)
    if (!strcmp(f->name, name)) return f;
  return NULL;
}

KirFunc *kir_func_declare(KirModule *m, const char *name, int nparams, const KirType *params,
                          int nresults, const KirType *results) {
  KirFunc *f = kir_func_find(m, name);
  if (f) {
    HLO_CHECK(f->external && f->nparams == nparams && f->nresults == nresults);
    return f;
  }
  f = func_alloc(m, name, nparams, params, nresults, results);
  f->external = true;
  return f;
}

void kir_global_new(KirModule *m, const char *name, KirType memref, const void *data,
                    size_t bytes) {
  if (m->nglobals == m->global_cap) {
    m->global_cap = m->global_cap ? 2 * m->global_cap : 16;
    m->globals = hlo_xrealloc(m->globals, (size_t)m->global_cap * sizeof *m->globals);
  }
  m->globals[m->nglobals++] =
      (KirGlobal){hlo_arena_strdup(m->arena, name), memref, data, bytes, NULL, NULL};
}

void kir_global_derived(KirModule *m, const char *name, KirType memref, const void *src,
                        size_t bytes, KirFill fill, const void *how, size_t how_bytes) {
  kir_global_new(m, name, memref, src, bytes);
  m->globals[m->nglobals - 1].fill = fill;
  m->globals[m->nglobals - 1].how = hlo_arena_memdup(m->arena, how, how_bytes);
}

KirOp *kir_arg_owner(const KirFunc *f, KirVal v) {
  const KirValue *x = &f->vals[v];
  return x->def ? NULL : x->block->parent;
}

bool kir_available(const KirFunc *f, KirVal v, const KirOp *at) {
  const KirValue *x = &f->vals[v];
  const KirBlock *home = x->def ? x->def->parent : x->block;
  for (const KirOp *o = at; o; o = o->parent->parent) {
    if (o->parent != home) continue;
    if (!x->def) return true;
    for (const KirOp *p = o->prev; p; p = p->prev)
      if (p == x->def) return true;
    return false;
  }
  return false;
}

/* ------------------------------------------------------------------------ */
/* Insertion                                                                */
/* ------------------------------------------------------------------------ */

void kir_at_end(KirBuilder *b, KirBlock *block) {
  b->fn = block->fn;
  b->block = block;
  b->before = NULL;
}

void kir_at_start(KirBuilder *b, KirBlock *block) {
  b->fn = block->fn;
  b->block = block;
  b->before = block->first;
}

void kir_before(KirBuilder *b, KirOp *op) {
  b->fn = op->parent->fn;
  b->block = op->parent;
  b->before = op;
}

void kir_after(KirBuilder *b, KirOp *op) {
  b->fn = op->parent->fn;
  b->block = op->parent;
  b->before = op->next;
}

static void link_before(KirBlock *block, KirOp *op, KirOp *before) {
  op->parent = block;
  op->next = before;
  op->prev = before ? before->prev : block->last;
  if (op->prev) op->prev->next = op;
  else block->first = op;
  if (before) before->prev = op;
  else block->last = op;
}

static void unlink_op(KirOp *op) {
  KirBlock *block = op->parent;
  if (op->prev) op->prev->next = op->next;
  else block->first = op->next;
  if (op->next) op->next->prev = op->prev;
  else block->last = op->prev;
  op->prev = op->next = NULL;
}

void kir_move_before(KirOp *op, KirOp *anchor) {
  HLO_CHECK(op != anchor);
  unlink_op(op);
  link_before(anchor->parent, op, anchor);
}

void kir_erase(KirOp *op) { unlink_op(op); }

KirOp *kir_last(const KirBuilder *b) { return b->before ? b->before->prev : b->block->last; }

/* A new op at the insertion point with nres results of the given types. */
static KirOp *emit(KirBuilder *b, KirOpcode code, int nopnds, const KirVal *opnds, int nres,
                   const KirType *types) {
  KirFunc *f = b->fn;
  HLO_CHECK(f && b->block && b->block->fn == f);
  KirOp *op = hlo_arena_alloc(f->m->arena, sizeof *op);
  op->code = code;
  op->nopnds = nopnds;
  if (nopnds) {
    op->opnds = hlo_arena_memdup(f->m->arena, opnds, (size_t)nopnds * sizeof *opnds);
    for (int i = 0; i < nopnds; i++) HLO_CHECK(opnds[i] > 0 && opnds[i] < f->nvals);
  }
  op->nres = nres;
  if (nres) {
    op->res = new_values(f, nres);
    for (int i = 0; i < nres; i++)
      f->vals[op->res + i] = (KirValue){.type = types[i], .def = op, .index = i};
  }
  link_before(b->block, op, b->before);
  return op;
}

static KirVal emit1(KirBuilder *b, KirOpcode code, int nopnds, const KirVal *opnds, KirType t) {
  return emit(b, code, nopnds, opnds, 1, &t)->res;
}

static void add_regions(KirOp *op, int n) {
  op->nregions = n;
  op->regions = hlo_arena_alloc(op->parent->fn->m->arena, (size_t)n * sizeof *op->regions);
}

/* ------------------------------------------------------------------------ */
/* Constants and arithmetic                                                 */
/* ------------------------------------------------------------------------ */

static uint64_t const_hash(KirType t, uint64_t bits) {
  uint64_t h = (bits ^ ((uint64_t)t.elem << 56)) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 29);
}

/* The slot of scalar constant (t, bits) in f's table: its value or 0. */
static KirVal *const_slot(KirFunc *f, KirType t, uint64_t bits) {
  uint64_t mask = (uint64_t)f->const_cap - 1;
  for (uint64_t i = const_hash(t, bits) & mask;; i = (i + 1) & mask) {
    KirVal *s = &f->consts[i];
    if (!*s) return s;
    const KirValue *v = &f->vals[*s];
    if (kir_type_eq(v->type, t) && (uint64_t)v->def->imm == bits) return s;
  }
}

/* Scalar constants are made once per function, at the start of its body
 * (which every use is inside): the kernels ask for the same index and
 * float constants at every tile row and every element, and the text MLIR
 * parses is many times shorter.  Vector constants stay where asked. */
KirVal kir_const(KirBuilder *b, KirType t, uint64_t bits) {
  int n = kir_elem_bits((KirElem)t.elem);
  if (kir_elem_is_int((KirElem)t.elem) && n < 64) bits &= ((uint64_t)1 << n) - 1;
  KirFunc *f = b->fn;
  if (t.lanes || !f || !f->body) {
    KirOp *op = emit(b, KIR_CONST, 0, NULL, 1, &t);
    op->imm = (int64_t)bits;
    return op->res;
  }
  if (2 * (f->nconsts + 1) > f->const_cap) {
    KirVal *old = f->consts;
    int old_cap = f->const_cap;
    f->const_cap = old_cap ? 2 * old_cap : 64;
    f->consts = hlo_xcalloc((size_t)f->const_cap, sizeof *f->consts);
    for (int i = 0; i < old_cap; i++)
      if (old[i]) *const_slot(f, f->vals[old[i]].type, (uint64_t)f->vals[old[i]].def->imm) = old[i];
    free(old);
  }
  KirVal *s = const_slot(f, t, bits);
  if (!*s) {
    KirBuilder top;
    if (f->last_const) kir_after(&top, f->last_const);
    else kir_at_start(&top, f->body);
    KirOp *op = emit(&top, KIR_CONST, 0, NULL, 1, &t);
    op->imm = (int64_t)bits;
    f->last_const = op;
    *s = op->res;
    f->nconsts++;
  }
  return *s;
}

KirVal kir_const_int(KirBuilder *b, KirType t, int64_t v) { return kir_const(b, t, (uint64_t)v); }

KirVal kir_const_float(KirBuilder *b, KirType t, double v) {
  uint64_t bits;
  if (t.elem == KIR_F32) {
    float x = (float)v;
    uint32_t u;
    memcpy(&u, &x, 4);
    bits = u;
  } else {
    HLO_CHECK(t.elem == KIR_F64);
    memcpy(&bits, &v, 8);
  }
  return kir_const(b, t, bits);
}

KirVal kir_iota(KirBuilder *b, KirElem e, int lanes) {
  KirType t = kir_vector(e, lanes);
  return emit(b, KIR_IOTA, 0, NULL, 1, &t)->res;
}

KirVal kir_index(KirBuilder *b, int64_t v) { return kir_const_int(b, kir_scalar(KIR_INDEX), v); }
KirVal kir_bool(KirBuilder *b, bool v) { return kir_const(b, kir_scalar(KIR_I1), v); }

KirVal kir_binop(KirBuilder *b, KirOpcode op, KirVal x, KirVal y) {
  KirVal o[2] = {x, y};
  return emit1(b, op, 2, o, kir_type(b->fn, x));
}

KirVal kir_unop(KirBuilder *b, KirOpcode op, KirVal x) {
  return emit1(b, op, 1, &x, kir_type(b->fn, x));
}

KirVal kir_fma(KirBuilder *b, KirVal x, KirVal y, KirVal z) {
  KirVal o[3] = {x, y, z};
  return emit1(b, KIR_FMA, 3, o, kir_type(b->fn, z));
}

static KirType bool_like(const KirFunc *f, KirVal x) {
  return kir_vector(KIR_I1, kir_type(f, x).lanes);
}

KirVal kir_cmpi(KirBuilder *b, KirIPred p, KirVal x, KirVal y) {
  KirVal o[2] = {x, y};
  KirOp *op = emit(b, KIR_CMPI, 2, o, 1, (KirType[]){bool_like(b->fn, x)});
  op->pred = (uint8_t)p;
  return op->res;
}

KirVal kir_cmpf(KirBuilder *b, KirFPred p, KirVal x, KirVal y) {
  KirVal o[2] = {x, y};
  KirOp *op = emit(b, KIR_CMPF, 2, o, 1, (KirType[]){bool_like(b->fn, x)});
  op->pred = (uint8_t)p;
  return op->res;
}

KirVal kir_select(KirBuilder *b, KirVal c, KirVal x, KirVal y) {
  KirVal o[3] = {c, x, y};
  return emit1(b, KIR_SELECT, 3, o, kir_type(b->fn, x));
}

KirVal kir_cast(KirBuilder *b, KirOpcode op, KirVal x, KirType to) {
  return emit1(b, op, 1, &x, to);
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

static int rank_of(const KirFunc *f, KirVal mem) {
  return kir_memref_of(f->m, kir_type(f, mem))->rank;
}

static KirElem elem_of(const KirFunc *f, KirVal mem) {
  return (KirElem)kir_memref_of(f->m, kir_type(f, mem))->elem;
}

/* Operands: the leading values, then the memref's rank indices. */
static KirOp *mem_op(KirBuilder *b, KirOpcode code, int nlead, const KirVal *lead, KirVal mem,
                     const KirVal *idx, int ntail, const KirVal *tail, int nres, KirType t) {
  KirVal o[HLO_MAX_RANK + 4];
  int n = 0, r = rank_of(b->fn, mem);
  for (int i = 0; i < nlead; i++) o[n++] = lead[i];
  o[n++] = mem;
  for (int i = 0; i < r; i++) o[n++] = idx[i];
  for (int i = 0; i < ntail; i++) o[n++] = tail[i];
  return emit(b, code, n, o, nres, &t);
}

KirVal kir_load(KirBuilder *b, KirVal mem, const KirVal *idx) {
  return mem_op(b, KIR_LOAD, 0, NULL, mem, idx, 0, NULL, 1, kir_scalar(elem_of(b->fn, mem)))->res;
}

void kir_store(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx) {
  mem_op(b, KIR_STORE, 1, &v, mem, idx, 0, NULL, 0, kir_scalar(KIR_VOID));
}

KirVal kir_vload(KirBuilder *b, KirVal mem, const KirVal *idx, int lanes) {
  return mem_op(b, KIR_VLOAD, 0, NULL, mem, idx, 0, NULL, 1,
                kir_vector(elem_of(b->fn, mem), lanes))->res;
}

void kir_vstore(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx) {
  mem_op(b, KIR_VSTORE, 1, &v, mem, idx, 0, NULL, 0, kir_scalar(KIR_VOID));
}

void kir_vstore_nontemporal(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx, int align) {
  KirOp *op = mem_op(b, KIR_VSTORE, 1, &v, mem, idx, 0, NULL, 0, kir_scalar(KIR_VOID));
  op->flags |= KIR_F_NONTEMPORAL;
  op->imm = align;
}

void kir_stream_fence(KirBuilder *b) { emit(b, KIR_STREAM_FENCE, 0, NULL, 0, NULL); }

KirVal kir_mload(KirBuilder *b, KirVal mem, const KirVal *idx, KirVal mask, KirVal passthru) {
  KirVal tail[2] = {mask, passthru};
  return mem_op(b, KIR_MLOAD, 0, NULL, mem, idx, 2, tail, 1, kir_type(b->fn, passthru))->res;
}

void kir_mstore(KirBuilder *b, KirVal v, KirVal mem, const KirVal *idx, KirVal mask) {
  mem_op(b, KIR_MSTORE, 1, &v, mem, idx, 1, &mask, 0, kir_scalar(KIR_VOID));
}

void kir_prefetch(KirBuilder *b, KirVal mem, const KirVal *idx, int locality) {
  HLO_CHECK(locality >= 0 && locality <= 3);
  mem_op(b, KIR_PREFETCH, 0, NULL, mem, idx, 0, NULL, 0, kir_scalar(KIR_VOID))->imm = locality;
}

KirVal kir_alloca(KirBuilder *b, KirType memref, int align) {
  KirOp *op = emit(b, KIR_ALLOCA, 0, NULL, 1, &memref);
  op->imm = align;
  return op->res;
}

KirVal kir_get_global(KirBuilder *b, const char *sym, KirType memref) {
  KirOp *op = emit(b, KIR_GLOBAL, 0, NULL, 1, &memref);
  op->sym = hlo_arena_strdup(b->fn->m->arena, sym);
  return op->res;
}

KirVal kir_view(KirBuilder *b, KirVal arena, KirVal offset, KirType t) {
  KirVal o[2] = {arena, offset};
  return emit1(b, KIR_VIEW, 2, o, t);
}

KirVal kir_reshape(KirBuilder *b, KirVal mem, KirType t) { return emit1(b, KIR_RESHAPE, 1, &mem, t); }

void kir_copy(KirBuilder *b, KirVal from, KirVal to) {
  KirVal o[2] = {from, to};
  emit(b, KIR_COPY, 2, o, 0, NULL);
}

KirVal kir_addr(KirBuilder *b, KirVal mem) {
  return emit1(b, KIR_ADDR, 1, &mem, kir_scalar(KIR_INDEX));
}

/* ------------------------------------------------------------------------ */
/* Lanes                                                                    */
/* ------------------------------------------------------------------------ */

KirVal kir_broadcast(KirBuilder *b, KirVal x, int lanes) {
  return emit1(b, KIR_BROADCAST, 1, &x, kir_vector((KirElem)kir_type(b->fn, x).elem, lanes));
}

KirVal kir_extract(KirBuilder *b, KirVal v, int lane) {
  KirOp *op = emit(b, KIR_EXTRACT, 1, &v, 1,
                   (KirType[]){kir_scalar((KirElem)kir_type(b->fn, v).elem)});
  op->imm = lane;
  return op->res;
}

KirVal kir_insert(KirBuilder *b, KirVal x, KirVal v, int lane) {
  KirVal o[2] = {x, v};
  KirOp *op = emit(b, KIR_INSERT, 2, o, 1, (KirType[]){kir_type(b->fn, v)});
  op->imm = lane;
  return op->res;
}

KirVal kir_reduce(KirBuilder *b, KirCombine c, KirVal v) {
  KirOp *op = emit(b, KIR_REDUCE, 1, &v, 1,
                   (KirType[]){kir_scalar((KirElem)kir_type(b->fn, v).elem)});
  op->pred = (uint8_t)c;
  return op->res;
}

KirVal kir_shuffle(KirBuilder *b, KirVal x, KirVal y, int n, const int32_t *mask) {
  KirVal o[2] = {x, y};
  KirOp *op = emit(b, KIR_SHUFFLE, 2, o, 1,
                   (KirType[]){kir_vector((KirElem)kir_type(b->fn, x).elem, n)});
  op->nmask = n;
  op->mask = hlo_arena_memdup(b->fn->m->arena, mask, (size_t)n * sizeof *mask);
  return op->res;
}

/* ------------------------------------------------------------------------ */
/* Control flow and calls                                                   */
/* ------------------------------------------------------------------------ */

/* The types of n values. */
static KirType *types_of(const KirFunc *f, int n, const KirVal *v, KirType *buf) {
  for (int i = 0; i < n; i++) buf[i] = kir_type(f, v[i]);
  return buf;
}

KirOp *kir_for(KirBuilder *b, KirVal lo, KirVal hi, KirVal step, int n, const KirVal *inits) {
  KirVal *o = hlo_xmalloc((size_t)(n + 3) * sizeof *o);
  KirType *t = hlo_xmalloc((size_t)(n + 1) * sizeof *t);
  o[0] = lo;
  o[1] = hi;
  o[2] = step;
  for (int i = 0; i < n; i++) o[3 + i] = inits[i];
  types_of(b->fn, n, inits, t + 1);
  KirOp *op = emit(b, KIR_FOR, n + 3, o, n, t + 1);
  add_regions(op, 1);
  t[0] = kir_scalar(KIR_INDEX);
  op->regions[0] = new_block(b->fn, op, n + 1, t);
  free(o);
  free(t);
  return op;
}

KirOp *kir_if(KirBuilder *b, KirVal cond, int nres, const KirType *types) {
  KirOp *op = emit(b, KIR_IF, 1, &cond, nres, types);
  add_regions(op, 2);
  for (int i = 0; i < 2; i++) op->regions[i] = new_block(b->fn, op, 0, NULL);
  return op;
}

KirOp *kir_while(KirBuilder *b, int n, const KirVal *inits) {
  KirType *t = hlo_xmalloc((size_t)(n ? n : 1) * sizeof *t);
  types_of(b->fn, n, inits, t);
  KirOp *op = emit(b, KIR_WHILE, n, inits, n, t);
  add_regions(op, 2);
  for (int i = 0; i < 2; i++) op->regions[i] = new_block(b->fn, op, n, t);
  free(t);
  return op;
}

KirOp *kir_switch(KirBuilder *b, KirVal index, int ncases) {
  KirOp *op = emit(b, KIR_SWITCH, 1, &index, 0, NULL);
  add_regions(op, ncases + 1);
  for (int i = 0; i <= ncases; i++) op->regions[i] = new_block(b->fn, op, 0, NULL);
  return op;
}

void kir_yield(KirBuilder *b, int n, const KirVal *vals) { emit(b, KIR_YIELD, n, vals, 0, NULL); }

void kir_condition(KirBuilder *b, KirVal cond, int n, const KirVal *vals) {
  KirVal *o = hlo_xmalloc((size_t)(n + 1) * sizeof *o);
  o[0] = cond;
  for (int i = 0; i < n; i++) o[1 + i] = vals[i];
  emit(b, KIR_CONDITION, n + 1, o, 0, NULL);
  free(o);
}

KirVal kir_call(KirBuilder *b, const KirFunc *callee, int nargs, const KirVal *args) {
  KirOp *op = emit(b, KIR_CALL, nargs, args, callee->nresults, &callee->result);
  op->sym = callee->name;
  return callee->nresults ? op->res : 0;
}

void kir_return(KirBuilder *b, int n, const KirVal *vals) { emit(b, KIR_RETURN, n, vals, 0, NULL); }

KirVal kir_pack(KirBuilder *b, int n, const KirVal *memrefs) {
  return emit1(b, KIR_PACK, n, memrefs, kir_scalar(KIR_PTR));
}

KirVal kir_unpack(KirBuilder *b, KirVal ctx, int slot, KirType t) {
  KirOp *op = emit(b, KIR_UNPACK, 1, &ctx, 1, &t);
  op->imm = slot;
  return op->res;
}

void kir_parallel_for(KirBuilder *b, KirVal count, KirVal ctx, const KirFunc *task) {
  KirVal o[2] = {count, ctx};
  KirOp *op = emit(b, KIR_PARALLEL_FOR, 2, o, 0, NULL);
  op->sym = task->name;
}

KirVal kir_poll(KirBuilder *b, KirVal flag) {
  return emit1(b, KIR_POLL, 1, &flag, kir_scalar(KIR_I32));
}

KirVal kir_nonnull(KirBuilder *b, KirVal ptr) {
  return emit1(b, KIR_NONNULL, 1, &ptr, kir_scalar(KIR_I1));
}

void kir_hook(KirBuilder *b, KirVal obj, int slot, KirVal arg) {
  KirVal o[2] = {obj, arg};
  emit(b, KIR_HOOK, 2, o, 0, NULL)->imm = slot;
}

KirVal kir_gpu_index(KirBuilder *b, KirOpcode op) {
  HLO_CHECK(op == KIR_THREAD_ID || op == KIR_BLOCK_ID || op == KIR_BLOCK_DIM || op == KIR_GRID_DIM);
  return emit1(b, op, 0, NULL, kir_scalar(KIR_INDEX));
}

KirVal kir_shared(KirBuilder *b, const char *sym, KirType t) {
  KirOp *op = emit(b, KIR_SHARED, 0, NULL, 1, &t);
  op->sym = hlo_arena_strdup(b->fn->m->arena, sym);
  return op->res;
}

void kir_barrier(KirBuilder *b) { emit(b, KIR_BARRIER, 0, NULL, 0, NULL); }

KirVal kir_shfl_xor(KirBuilder *b, KirVal x, int mask) {
  KirType t = kir_type(b->fn, x);
  KirOp *op = emit(b, KIR_SHFL_XOR, 1, &x, 1, &t);
  op->imm = mask;
  return op->res;
}

KirVal kir_mma(KirBuilder *b, KirMmaKind k, const KirVal *a, const KirVal *bb, const KirVal *c) {
  KirVal o[10];
  for (int i = 0; i < 4; i++) o[i] = a[i];
  for (int i = 0; i < 2; i++) o[4 + i] = bb[i];
  for (int i = 0; i < 4; i++) o[6 + i] = c[i];
  KirType t[4];
  for (int i = 0; i < 4; i++) t[i] = kir_scalar(KIR_F32);
  KirOp *op = emit(b, KIR_MMA, 10, o, 4, t);
  op->pred = (uint8_t)k;
  return op->res;
}

KirVal kir_wgmma_desc(KirBuilder *b, KirVal mem, KirVal offset, uint64_t fields) {
  KirVal o[2] = {mem, offset};
  KirOp *op = emit(b, KIR_WGMMA_DESC, 2, o, 1, &(KirType){KIR_I64, 0, 0});
  op->imm = (int64_t)fields;
  return op->res;
}

KirVal kir_wgmma(KirBuilder *b, KirMmaKind k, int n, KirVal da, KirVal db, const KirVal *c) {
  HLO_CHECK(n >= 8 && n <= KIR_WGMMA_MAX_N && n % 8 == 0);
  KirVal o[2 + KIR_WGMMA_MAX_N / 2];
  KirType t[KIR_WGMMA_MAX_N / 2];
  o[0] = da;
  o[1] = db;
  for (int i = 0; i < n / 2; i++) {
    o[2 + i] = c[i];
    t[i] = kir_scalar(KIR_F32);
  }
  KirOp *op = emit(b, KIR_WGMMA, 2 + n / 2, o, n / 2, t);
  op->pred = (uint8_t)k;
  op->imm = n;
  return op->res;
}

void kir_wgmma_fence(KirBuilder *b) { emit(b, KIR_WGMMA_FENCE, 0, NULL, 0, NULL); }
void kir_wgmma_commit(KirBuilder *b) { emit(b, KIR_WGMMA_COMMIT, 0, NULL, 0, NULL); }
void kir_wgmma_wait(KirBuilder *b, int pending) {
  emit(b, KIR_WGMMA_WAIT, 0, NULL, 0, NULL)->imm = pending;
}
void kir_async_fence(KirBuilder *b) { emit(b, KIR_ASYNC_FENCE, 0, NULL, 0, NULL); }

void kir_launch(KirBuilder *b, const KirFunc *kernel, KirVal grid, KirVal block, int nargs,
                const KirVal *args) {
  KirVal *o = hlo_xmalloc((size_t)(nargs + 2) * sizeof *o);
  o[0] = grid;
  o[1] = block;
  for (int i = 0; i < nargs; i++) o[2 + i] = args[i];
  emit(b, KIR_LAUNCH, nargs + 2, o, 0, NULL)->sym = kernel->name;
  free(o);
}
