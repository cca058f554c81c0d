/*
 * sort.c — the sort kernel, which is not elemental: every row along the
 * sort dimension (every other index names one, independent of the others)
 * is sorted by the comparator, inlined on scalars: comparator(a0, b0, a1,
 * b1, …) is "a before b", and the k operands move together.
 *
 * Algorithm: the evaluator's bottom-up merge sort (hlo/evaluator.c), step
 * for step — runs of width 1, 2, 4, … merged pairwise, the right element
 * taken only when it is strictly before the left one.  So the sort is
 * stable (is_stable=true and false alike: one stable answer) and O(n log n)
 * comparisons, and it gives the evaluator's very result for any
 * comparator, even one that is no strict weak order (a plain LT on NaNs):
 * every comparison it makes is the one the evaluator makes.  A merge reads
 * both heads and stores the one it takes with a select, no branch on the
 * comparison, which random keys would mispredict half the time.
 *
 * Merge passes go from one buffer to another: the output and a buffer as
 * large as the operands (the kernel's working memory, cg_sort_temp_bytes,
 * which buffer assignment places in the scratch arena live during this
 * kernel only; each row uses its own part of it).  With P = ceil(log2 n)
 * passes, the first (width 1: compare and swap neighbours) reads the
 * operands and writes the output when P is odd, the working memory when P
 * is even; the rest alternate so that the last writes the output — no copy
 * of the operands first, none back at the end.  Values move as their bits
 * (a pred's byte as stored), as the evaluator moves them.
 *
 * Rows run as the tasks of a parallel kernel (kernel.c splits one dim
 * other than the sort dim): each task sorts whole rows, with the same
 * comparisons whatever the number of threads.
 */
#include <string.h>

#include "internal.h"

/* The bytes of an operand's copy in the working memory, 64-aligned so
 * that every copy starts on a cache line. */
static int64_t aligned_bytes(const HloShape *s) {
  return ((int64_t)hlo_shape_byte_size(s) + 63) / 64 * 64;
}

/* Merge passes: ceil(log2 len). */
static int passes(int64_t len) {
  int p = 0;
  while (p < 63 && ((int64_t)1 << p) < len) p++;
  return p;
}

int64_t cg_sort_temp_bytes(const HloInstr *x) {
  const HloShape *s = &x->operands[0]->shape;
  if (hlo_shape_elements(s) == 0 || passes(s->dims[x->dimensions.v[0]]) < 2) return 0;
  int64_t bytes = 0;
  for (int k = 0; k < x->noperands; k++) bytes += aligned_bytes(&x->operands[k]->shape);
  return bytes;
}

int64_t cg_sort_moves(const HloInstr *x) {
  const HloShape *s = &x->operands[0]->shape;
  return hlo_shape_elements(s) * passes(s->dims[x->dimensions.v[0]]);
}

typedef struct Sort {
  CgFn *f;
  const HloInstr *x;
  int n;                    /* operands */
  int dim;                  /* the sort dimension */
  int64_t len;              /* its size */
  CgVal idx[HLO_MAX_RANK];  /* the row: its indices but idx[dim] */
} Sort;

/* The n values (memory bits) at position pos of the row in mem[]. */
static void load_at(Sort *s, const CgVal *mem, CgVal pos, CgVal *v) {
  CgVal idx[HLO_MAX_RANK];
  memcpy(idx, s->idx, sizeof idx);
  idx[s->dim] = pos;
  for (int k = 0; k < s->n; k++) v[k] = kir_load(&s->f->b, mem[k], idx);
}

static void store_at(Sort *s, const CgVal *mem, CgVal pos, const CgVal *v) {
  CgVal idx[HLO_MAX_RANK];
  memcpy(idx, s->idx, sizeof idx);
  idx[s->dim] = pos;
  for (int k = 0; k < s->n; k++) kir_store(&s->f->b, v[k], mem[k], idx);
}

/* comparator(a, b): whether a goes before b (i1). */
static CgVal before(Sort *s, const CgVal *a, const CgVal *b) {
  CgFn *f = s->f;
  CgVal args[2 * 256], r;
  for (int k = 0; k < s->n; k++) {
    args[2 * k] = a[k];
    args[2 * k + 1] = b[k];
    if (s->x->operands[k]->shape.type == HLO_PRED) {
      /* Any non-zero byte is true, as the evaluator reads it. */
      CgVal zero = kir_const_int(&f->b, cg_type(f, a[k]), 0);
      args[2 * k] = kir_cmpi(&f->b, KIR_NE, a[k], zero);
      args[2 * k + 1] = kir_cmpi(&f->b, KIR_NE, b[k], zero);
    }
  }
  cg_apply(f, s->x->called[0], args, &r);
  return r;
}

/* The first pass (runs of width 1): each pair (2p, 2p+1) of src in order
 * in dst; a last odd element as it is.  src may be dst. */
static void pass_pairs(Sort *s, const CgVal *src, const CgVal *dst) {
  CgFn *f = s->f;
  CgVal a[256], b[256], lo[256], hi[256];
  CgLoop l = cg_for(f, s->len / 2, 0, NULL);
  CgVal i = cg_imul_c(f, l.iv, 2), j = cg_iadd_c(f, i, 1);
  load_at(s, src, i, a);
  load_at(s, src, j, b);
  CgVal swap = before(s, b, a);
  for (int k = 0; k < s->n; k++) {
    lo[k] = cg_select(f, swap, b[k], a[k]);
    hi[k] = cg_select(f, swap, a[k], b[k]);
  }
  store_at(s, dst, i, lo);
  store_at(s, dst, j, hi);
  cg_for_end(f, &l, NULL);
  if (s->len % 2) {
    CgVal last = cg_index(f, s->len - 1);
    load_at(s, src, last, a);
    store_at(s, dst, last, a);
  }
}

/* dst[t + shift] = src[t] for t in [from, to). */
static void copy_run(Sort *s, const CgVal *src, const CgVal *dst, CgVal from, CgVal to,
                     CgVal shift) {
  CgFn *f = s->f;
  CgVal v[256];
  CgLoop l = cg_for_range(f, from, to, 0, NULL);
  load_at(s, src, l.iv, v);
  store_at(s, dst, cg_iop(f, KIR_ADDI, l.iv, shift), v);
  cg_for_end(f, &l, NULL);
}

/* One merge pass: the runs [lo, lo+w) and [lo+w, lo+2w) of src (w an
 * index value), for every lo = 0, 2w, 4w, …, merged into dst. */
static void pass_merge(Sort *s, const CgVal *src, const CgVal *dst, CgVal w) {
  CgFn *f = s->f;
  CgVal len = cg_index(f, s->len), w2 = cg_iop(f, KIR_ADDI, w, w);
  CgVal nruns = cg_iop(f, KIR_DIVUI, cg_iop(f, KIR_ADDI, len, cg_iadd_c(f, w2, -1)), w2);
  CgLoop l = cg_for_range(f, cg_index(f, 0), nruns, 0, NULL);
  CgVal lo = cg_iop(f, KIR_MULI, l.iv, w2);
  CgVal mid = cg_iop(f, KIR_MINSI, cg_iop(f, KIR_ADDI, lo, w), len);
  CgVal hi = cg_iop(f, KIR_MINSI, cg_iop(f, KIR_ADDI, lo, w2), len);

  /* while (i < mid && j < hi): dst[i + j - mid] = the head that goes
   * first.  The heads a = src[i] and b = src[j] are carried, and the
   * elements after them loaded before the comparison, so that the loop's
   * chain of dependences is compare, select — not compare, index, load.
   * Loads past the row's end read its last element instead (unused). */
  CgVal last = cg_index(f, s->len - 1);
  int n = s->n;
  CgVal init[2 + 2 * 256];
  init[0] = lo;
  init[1] = mid;
  load_at(s, src, lo, init + 2);
  load_at(s, src, cg_iop(f, KIR_MINSI, mid, last), init + 2 + n);
  KirBuilder after = f->b;
  KirOp *wh = kir_while(&f->b, 2 + 2 * n, init);
  kir_at_end(&f->b, kir_region(wh, 0));
  KirBlock *cond = kir_region(wh, 0);
  CgVal carried[2 + 2 * 256];
  for (int k = 0; k < 2 + 2 * n; k++) carried[k] = kir_arg(cond, k);
  CgVal go = cg_and(f, cg_icmp(f, KIR_SLT, carried[0], mid), cg_icmp(f, KIR_SLT, carried[1], hi));
  kir_condition(&f->b, go, 2 + 2 * n, carried);
  KirBlock *body = kir_region(wh, 1);
  kir_at_end(&f->b, body);
  CgVal i = kir_arg(body, 0), j = kir_arg(body, 1);
  CgVal a[256] = {0}, b[256] = {0}, na[256], nb[256], v[256] = {0};
  for (int k = 0; k < n; k++) {
    a[k] = kir_arg(body, 2 + k);
    b[k] = kir_arg(body, 2 + n + k);
  }
  CgVal i1 = cg_iadd_c(f, i, 1), j1 = cg_iadd_c(f, j, 1);
  load_at(s, src, cg_iop(f, KIR_MINSI, i1, last), na);
  load_at(s, src, cg_iop(f, KIR_MINSI, j1, last), nb);
  CgVal right = before(s, b, a);
  for (int k = 0; k < n; k++) v[k] = cg_select(f, right, b[k], a[k]);
  store_at(s, dst, cg_iop(f, KIR_SUBI, cg_iop(f, KIR_ADDI, i, j), mid), v);
  CgVal step = kir_cast(&f->b, KIR_INDEX_CASTUI, right, kir_scalar(KIR_INDEX));
  CgVal next[2 + 2 * 256];
  next[0] = cg_iop(f, KIR_SUBI, i1, step);
  next[1] = cg_iop(f, KIR_ADDI, j, step);
  for (int k = 0; k < n; k++) {
    next[2 + k] = cg_select(f, right, a[k], na[k]);
    next[2 + n + k] = cg_select(f, right, nb[k], b[k]);
  }
  kir_yield(&f->b, 2 + 2 * n, next);
  f->b = after;

  /* What is left of either run, in order (one of them is empty). */
  CgVal ie = kir_result(wh, 0), je = kir_result(wh, 1);
  copy_run(s, src, dst, ie, mid, cg_iop(f, KIR_SUBI, je, mid));
  copy_run(s, src, dst, je, hi, cg_iop(f, KIR_SUBI, ie, mid));
  cg_for_end(f, &l, NULL);
}

/* Sorts the row s->idx from the operands' memrefs op[] into out[], with
 * tmp[] (views of the working memory, the operands' shapes) between. */
static void sort_row(Sort *s, const CgVal *op, const CgVal *out, const CgVal *tmp) {
  CgFn *f = s->f;
  int p = passes(s->len);
  if (p == 0) { /* one element */
    CgVal v[256];
    load_at(s, op, cg_index(f, 0), v);
    store_at(s, out, cg_index(f, 0), v);
    return;
  }
  int64_t w = 2;
  if (p % 2) {
    pass_pairs(s, op, out);
  } else {
    pass_pairs(s, op, tmp);
    pass_merge(s, tmp, out, cg_index(f, 2));
    w = 4;
  }
  /* The remaining passes, two at a time: out → tmp → out. */
  int pairs = (p - 1) / 2;
  if (pairs == 0) return;
  CgVal w0 = cg_index(f, w);
  CgLoop l = cg_for(f, pairs, 1, &w0);
  CgVal wv = l.iters;
  pass_merge(s, out, tmp, wv);
  pass_merge(s, tmp, out, cg_iop(f, KIR_ADDI, wv, wv));
  CgVal w4 = cg_imul_c(f, wv, 4);
  cg_for_end(f, &l, &w4);
}

void cg_kernel_sort(CgFn *f, const HloInstr *x, const CgVal *out, const CgVal *op,
                    CgVal temp) {
  Sort s = {.f = f, .x = x, .n = x->noperands, .dim = (int)x->dimensions.v[0]};
  const HloShape *sh = &x->operands[0]->shape;
  s.len = sh->dims[s.dim];
  CgVal tmp[256] = {0};
  if (cg_sort_temp_bytes(x) > 0) {
    if (!temp) { /* the backend's policy did not ask for it */
      cg_fail_instr(f->g, x, "has no working memory (internal error)");
      return;
    }
    int64_t at = 0;
    for (int k = 0; k < s.n; k++) {
      const HloShape *ks = &x->operands[k]->shape;
      tmp[k] = kir_view(&f->b, temp, cg_index(f, at), cg_memref_type(f->g, ks));
      at += aligned_bytes(ks);
    }
  }
  /* A loop per row dim; a parallel task's own range of the split one. */
  CgLoop loops[HLO_MAX_RANK];
  int nloops = 0;
  for (int d = 0; d < sh->rank; d++) {
    if (d == s.dim) continue;
    loops[nloops] = f->par && d == f->par_dim ? cg_for_range(f, f->par_lo, f->par_hi, 0, NULL)
                                              : cg_for(f, sh->dims[d], 0, NULL);
    s.idx[d] = loops[nloops++].iv;
  }
  sort_row(&s, op, out, tmp);
  while (nloops > 0) cg_for_end(f, &loops[--nloops], NULL);
}
