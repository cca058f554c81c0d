/*
 * legalize.c — rewrites the few HLO forms the kernel emitters do not take
 * into equivalent forms they do, on a copy of the module, before anything
 * is planned.  A module that needs none of them is emitted as it is.
 *
 *   tuple-shaped entry parameter  one parameter per leaf, in leaf order,
 *       and a tuple of them where the parameter was: the compiled function
 *       takes a flat list of arrays (argument i's leaves are named
 *       NAME_0, NAME_1, …; nested tuples NAME_1_0, …);
 *   tuple-shaped constant         a tuple of array constants;
 *   fusion that is not one kernel  (its computation holds a sort, scatter,
 *       while, conditional, call, fusion or custom-call, none of which has
 *       an elemental form): its computation inlined in its place, so each
 *       of those runs as the unfused instruction it is;
 *   bitcast that is not a reshape  (a non-default layout on either side,
 *       or a change of element type): the operand's elements put in
 *       physical order (transpose), that buffer reread as the result's
 *       physical order (reshape, and bitcast-convert across types), then
 *       the result's logical order (transpose) — buffers here are always
 *       row-major, so a layout exists only inside a bitcast;
 *   dot or convolution producing pred  the evaluator's definition, an OR of
 *       ANDs: operands converted to pred then s32, the contraction in s32
 *       (a count of true products, which cannot overflow: it is at most
 *       the contracted size), and compare(≠ 0).
 *
 *   c64/c128 values               real arrays of (re, im) pairs, the
 *       same bytes (complex.c): a complex argument or result keeps its
 *       complex type in the signature (arg_types, result_types).
 *
 * Before any of that, types the compiled code cannot take are refused with
 * a message naming the type and the instruction: bounded dynamic dims
 * ("<=N", and get-dimension-size of one, left where pass_dynamic_pad
 * could not make them static: the interpreter runs them; a static
 * dynamic-reshape, which that pass makes a reshape),
 * complex values in ops complex.c has no form for, and tokens at the entry's
 * boundary (the compiled function passes arrays; inside, a token is a
 * value of zero bytes).  The sub-byte integer and
 * f8/f4 types compile, one element per byte as the evaluator stores them,
 * at the entry's boundary too (the runtime's narrow dtypes).
 *
 * Assumes a verified module.  Instruction names are kept, so messages from
 * later stages name the user's instructions; new instructions get derived
 * names.  The copy shares attribute arrays and literals with the original,
 * which must outlive it (cg_generate holds both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* What needs rewriting                                                      */
/* ------------------------------------------------------------------------ */

static bool fusion_is_one_kernel(const HloComputation *fc) {
  for (const HloInstr *x = fc->first; x; x = x->next)
    switch (x->op) {
    case HLO_OP_SORT: case HLO_OP_SCATTER: case HLO_OP_WHILE:
    case HLO_OP_CONDITIONAL: case HLO_OP_CALL: case HLO_OP_FUSION:
    case HLO_OP_CUSTOM_CALL:
      return false;
    default:
      break;
    }
  return true;
}

static bool needs_rewrite(const HloInstr *x) {
  if (cg_instr_has_complex(x)) return true;
  switch (x->op) {
  case HLO_OP_CONSTANT: return hlo_shape_is_tuple(&x->shape);
  case HLO_OP_FUSION: return !fusion_is_one_kernel(x->called[0]);
  case HLO_OP_BITCAST: return !hlo_instr_is_reshape(x);
  case HLO_OP_DOT:
  case HLO_OP_CONVOLUTION: return x->shape.type == HLO_PRED;
  default: return false;
  }
}

static bool has_type(const HloShape *s, bool (*pred)(HloType)) {
  if (s->type == HLO_TUPLE) {
    for (int i = 0; i < s->ntuple; i++)
      if (has_type(&s->tuple[i], pred)) return true;
    return false;
  }
  return pred(s->type);
}

static bool token_type(HloType t) { return t == HLO_TOKEN; }

static HloError *refuse(const HloInstr *x, HloType t, const char *why) {
  char *d = hlo_instr_describe(x);
  HloError *e = hlo_error("codegen: unsupported: %s has element type %s: %s", d, hlo_type_name(t), why);
  free(d);
  return e;
}

/* The pass whose HLO codegen compiles in place of x (a caller that
 * skipped the pipeline's first steps meets x here), or NULL. */
static const char *lowering_pass(const HloInstr *x) {
  switch (x->op) {
  case HLO_OP_CHOLESKY: case HLO_OP_TRIANGULAR_SOLVE: case HLO_OP_RNG_BIT_GENERATOR:
  case HLO_OP_BATCH_NORM_TRAINING: case HLO_OP_BATCH_NORM_GRAD:
    return "pass_single_device";
  case HLO_OP_DYNAMIC_RESHAPE: /* a dynamic one is refused as dynamic below */
    return hlo_shape_is_dynamic(&x->shape) || hlo_shape_is_dynamic(&x->operands[0]->shape)
               ? NULL
               : "pass_dynamic_pad";
  default:
    return NULL;
  }
}

static HloError *check_types(const HloModule *m) {
  HloError *err;
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *x = c->first; x; x = x->next) {
      const char *pass = lowering_pass(x);
      if (!pass) continue;
      char *d = hlo_instr_describe(x);
      HloError *e = hlo_error("codegen: unsupported: %s: %s is compiled as the HLO %s expands it "
                              "into; run it (or pass_run_pipeline) first", d,
                              hlo_opcode_name(x->op), pass);
      free(d);
      return e;
    }
  const HloComputation *entry = m->entry;
  for (int i = 0; i <= entry->nparams; i++) {
    const HloInstr *x = i < entry->nparams ? entry->params[i] : entry->root;
    if (has_type(&x->shape, token_type))
      return refuse(x, HLO_TOKEN, i < entry->nparams
                                      ? "the compiled function takes arrays only, not tokens"
                                      : "the compiled function returns arrays only, not tokens");
  }
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *x = c->first; x; x = x->next)
      if (hlo_shape_is_dynamic(&x->shape) || x->op == HLO_OP_GET_DIMENSION_SIZE) {
        const HloInstr *at = x->op == HLO_OP_GET_DIMENSION_SIZE ? x->operands[0] : x;
        const HloShape *s = &at->shape;
        while (s->type == HLO_TUPLE) {
          int i = 0;
          while (!hlo_shape_is_dynamic(&s->tuple[i])) i++;
          s = &s->tuple[i];
        }
        int d = 0;
        while (!(s->dynamic >> d & 1)) d++;
        char *desc = hlo_instr_describe(at);
        HloError *e = hlo_error("codegen: unsupported: %s has dynamic dimension %d (at most "
                                "%lld): bounded dynamic shapes are evaluated by the interpreter "
                                "only (hloc run --interpret)", desc, d, (long long)s->dims[d]);
        free(desc);
        return e;
      }
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *x = c->first; x; x = x->next)
      if ((err = cg_complex_check(x))) return err;
  return NULL;
}

static bool module_is_legal(const HloModule *m) {
  for (int i = 0; i < m->entry->nparams; i++)
    if (hlo_shape_is_tuple(&m->entry->params[i]->shape)) return false;
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *x = c->first; x; x = x->next)
      if (needs_rewrite(x)) return false;
  return true;
}

/* ------------------------------------------------------------------------ */
/* The copy                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct Cloner {
  const HloModule *src;
  HloModule *dst;
  HloInstr **map;               /* by source instruction id */
  const HloComputation **from;  /* cloned computations: from[i] -> to[i] */
  HloComputation **to;
  int ncomps;
  const CgOptions *opts;
  char **arg_names;             /* flat argument names (entry flattening) */
  const char **arg_tf_names;    /* … and TensorFlow names */
  int nargs;
  HloType *arg_types;           /* flat argument types in src */
} Cloner;

static HloInstr *checked(HloInstr *x, HloError *e) {
  /* The rewrites build only shapes that follow from verified ones. */
  if (!x) {
    fprintf(stderr, "hloc: internal error: %s\n", hlo_error_message(e));
    abort();
  }
  return x;
}

static HloComputation *clone_computation(Cloner *k, const HloComputation *c);
static HloInstr *clone_body(Cloner *k, HloComputation *dst, const HloComputation *c,
                            HloInstr *const *args);

/* The leaves of a tuple constant as array constants, tupled again. */
static HloInstr *split_constant(HloComputation *dst, const HloLiteral *l, const char *name) {
  if (hlo_type_is_complex(l->shape.type)) return cg_complex_constant(dst, l, name);
  if (l->shape.type != HLO_TUPLE)
    return hlo_constant_new(dst, hlo_literal_clone_in(dst->module->arena, l), name);
  HloInstr **elems = hlo_xmalloc(sizeof *elems * (size_t)l->shape.ntuple);
  for (int i = 0; i < l->shape.ntuple; i++) elems[i] = split_constant(dst, l->elems[i], name);
  HloError *e = NULL;
  HloInstr *t = checked(hlo_build_tuple(dst, elems, l->shape.ntuple, &e), e);
  free(elems);
  return t;
}

/* The permutation that lists s's dims major-to-minor in memory. */
static void physical_order(const HloShape *s, int64_t *perm) {
  for (int j = 0; j < s->rank; j++)
    perm[j] = s->has_layout ? s->minor_to_major[s->rank - 1 - j] : j;
}

static bool is_identity(const int64_t *perm, int n) {
  for (int j = 0; j < n; j++)
    if (perm[j] != j) return false;
  return true;
}

static HloInstr *reshape(HloComputation *dst, HloInstr *x, int rank, const int64_t *dims) {
  HloError *e = NULL;
  return checked(hlo_build_reshape(dst, x, rank, dims, &e), e);
}

static HloInstr *transpose(HloComputation *dst, HloInstr *x, const int64_t *perm) {
  if (is_identity(perm, x->shape.rank)) return x;
  HloError *e = NULL;
  return checked(hlo_build_transpose(dst, x, perm, &e), e);
}

static HloInstr *bitcast_convert(HloComputation *dst, HloInstr *x, HloType to, int rank,
                                 const int64_t *dims) {
  HloShape s = hlo_shape_array(to, rank, dims);
  return hlo_instr_new(dst, HLO_OP_BITCAST_CONVERT, &s, &x, 1, NULL);
}

/* bitcast(x): x's physical buffer read under the result's shape. */
static HloInstr *decompose_bitcast(HloComputation *dst, const HloInstr *b, HloInstr *x) {
  const HloShape *from = &b->operands[0]->shape, *to = &b->shape;
  int64_t perm[HLO_MAX_RANK], pdims[HLO_MAX_RANK];
  physical_order(from, perm);
  x = transpose(dst, x, perm);
  /* The buffer as one row of elements, then of the result's type. */
  int64_t n = hlo_shape_elements(from);
  x = reshape(dst, x, 1, &n);
  size_t fs = hlo_type_size(from->type), ts = hlo_type_size(to->type);
  if (from->type != to->type) {
    if (fs > ts) {
      int64_t d[2] = {n, (int64_t)(fs / ts)};
      x = bitcast_convert(dst, x, to->type, 2, d);
    } else if (fs < ts) {
      int64_t d[2] = {n / (int64_t)(ts / fs), (int64_t)(ts / fs)};
      x = bitcast_convert(dst, reshape(dst, x, 2, d), to->type, 1, d);
    } else {
      x = bitcast_convert(dst, x, to->type, 1, &n);
    }
  }
  physical_order(to, perm);
  for (int j = 0; j < to->rank; j++) pdims[j] = to->dims[perm[j]];
  x = reshape(dst, x, to->rank, pdims);
  int64_t inv[HLO_MAX_RANK];
  for (int j = 0; j < to->rank; j++) inv[perm[j]] = j;
  return transpose(dst, x, inv);
}

/* A dot or convolution producing pred, as a count of true products. */
static HloInstr *decompose_pred_contraction(HloComputation *dst, const HloInstr *x,
                                            HloInstr *const *ops) {
  HloError *e = NULL;
  HloInstr *counted[2];
  for (int i = 0; i < 2; i++) {
    HloInstr *v = ops[i];
    if (v->shape.type != HLO_PRED) v = checked(hlo_build_convert(dst, v, HLO_PRED, &e), e);
    counted[i] = checked(hlo_build_convert(dst, v, HLO_S32, &e), e);
  }
  HloInstr *y = hlo_instr_clone(dst, x, counted, 2);
  y->shape.type = HLO_S32;
  HloInstr *zero = hlo_build_constant_scalar(dst, HLO_S32, 0);
  zero = checked(hlo_build_broadcast(dst, zero, &y->shape, NULL, 0, &e), e);
  return checked(hlo_build_compare(dst, HLO_CMP_NE, y, zero, &e), e);
}

/* The copy of x in dst, its operands already copied to ops. */
static HloInstr *clone_instr(Cloner *k, HloComputation *dst, const HloInstr *x,
                             HloInstr *const *ops) {
  HloInstr *y;
  if (cg_instr_has_complex(x) && (y = cg_complex_lower(dst, x, ops))) return y;
  if (x->op == HLO_OP_CONSTANT && hlo_shape_is_tuple(&x->shape))
    return split_constant(dst, x->literal, x->name);
  if (x->op == HLO_OP_FUSION && !fusion_is_one_kernel(x->called[0]))
    return clone_body(k, dst, x->called[0], ops);
  if (x->op == HLO_OP_BITCAST && !hlo_instr_is_reshape(x))
    return decompose_bitcast(dst, x, ops[0]);
  if ((x->op == HLO_OP_DOT || x->op == HLO_OP_CONVOLUTION) && x->shape.type == HLO_PRED)
    return decompose_pred_contraction(dst, x, ops);
  y = hlo_instr_clone(dst, x, ops, x->noperands);
  y->shape = cg_complex_shape(dst->module->arena, &x->shape);
  if (x->ncalled) {
    HloComputation **called = hlo_xmalloc(sizeof *called * (size_t)x->ncalled);
    for (int i = 0; i < x->ncalled; i++) called[i] = clone_computation(k, x->called[i]);
    hlo_instr_set_called(y, called, x->ncalled);
    free(called);
  }
  return y;
}

/* The parameters standing for entry parameter p: one per leaf of shape s,
 * numbered from k->nargs on, tupled back into s.  `name` names the HLO
 * parameter, `arg` the compiled function's argument. */
static HloInstr *flat_parameters(Cloner *k, HloComputation *dst, const HloInstr *p,
                                 const HloShape *s, const char *name, const char *arg,
                                 const char *tf_name) {
  if (!hlo_shape_is_tuple(s)) {
    HloShape pairs = cg_complex_shape(dst->module->arena, s);
    HloInstr *leaf = hlo_parameter_new(dst, k->nargs, &pairs, name);
    leaf->metadata = p->metadata;
    k->arg_names = hlo_xrealloc(k->arg_names, (size_t)(k->nargs + 1) * sizeof *k->arg_names);
    k->arg_names[k->nargs] = hlo_xstrdup(arg);
    k->arg_tf_names =
        hlo_xrealloc(k->arg_tf_names, (size_t)(k->nargs + 1) * sizeof *k->arg_tf_names);
    k->arg_tf_names[k->nargs] = tf_name;
    k->arg_types = hlo_xrealloc(k->arg_types, (size_t)(k->nargs + 1) * sizeof *k->arg_types);
    k->arg_types[k->nargs] = s->type;
    k->nargs++;
    return leaf;
  }
  HloInstr **elems = hlo_xmalloc(sizeof *elems * (size_t)s->ntuple);
  for (int i = 0; i < s->ntuple; i++) {
    HloStr n = {0}, a = {0};
    hlo_str_printf(&n, "%s_%d", name, i);
    hlo_str_printf(&a, "%s_%d", arg, i);
    elems[i] = flat_parameters(k, dst, p, &s->tuple[i], n.buf, a.buf, NULL);
    free(n.buf);
    free(a.buf);
  }
  HloError *e = NULL;
  HloInstr *t = checked(hlo_build_tuple(dst, elems, s->ntuple, &e), e);
  free(elems);
  return t;
}

/* Copies c's instructions into dst; parameters become args[i] when args
 * is given (inlining), else parameters of dst.  Returns the copied root. */
static HloInstr *clone_body(Cloner *k, HloComputation *dst, const HloComputation *c,
                            HloInstr *const *args) {
  if (c->is_entry && !args)
    /* In parameter order, so the flat arguments keep it. */
    for (int i = 0; i < c->nparams; i++) {
      const HloInstr *p = c->params[i];
      const char *arg = k->opts->arg_names && k->opts->arg_names[i] ? k->opts->arg_names[i]
                                                                     : p->name;
      const char *tf = k->opts->arg_tf_names ? k->opts->arg_tf_names[i] : NULL;
      k->map[p->id] = flat_parameters(k, dst, p, &p->shape, p->name, arg, tf);
    }
  int n;
  HloInstr **order = hlo_post_order(c, &n);
  int cap = 16;
  HloInstr **ops = hlo_xmalloc(sizeof *ops * (size_t)cap);
  for (int i = 0; i < n; i++) {
    const HloInstr *x = order[i];
    if (x->op == HLO_OP_PARAMETER && (args || c->is_entry)) {
      if (args) k->map[x->id] = args[x->parameter_number];
      continue;
    }
    if (x->noperands > cap) {
      cap = x->noperands;
      ops = hlo_xrealloc(ops, sizeof *ops * (size_t)cap);
    }
    for (int j = 0; j < x->noperands; j++) ops[j] = k->map[x->operands[j]->id];
    k->map[x->id] = clone_instr(k, dst, x, ops);
  }
  free(ops);
  free(order);
  return k->map[c->root->id];
}

/* Every computation that c's copy will call, copied first, so that the
 * copy's computation list keeps callees before callers. */
static void clone_callees(Cloner *k, const HloComputation *c) {
  for (const HloInstr *x = c->first; x; x = x->next)
    for (int i = 0; i < x->ncalled; i++) {
      if (x->op == HLO_OP_FUSION && !fusion_is_one_kernel(x->called[i]))
        clone_callees(k, x->called[i]); /* inlined: its callees are c's */
      else
        clone_computation(k, x->called[i]);
    }
}

static HloComputation *clone_computation(Cloner *k, const HloComputation *c) {
  for (int i = 0; i < k->ncomps; i++)
    if (k->from[i] == c) return k->to[i];
  clone_callees(k, c);
  HloComputation *d = hlo_computation_new(k->dst, c->name);
  d->is_fusion = c->is_fusion;
  k->from = hlo_xrealloc(k->from, (size_t)(k->ncomps + 1) * sizeof *k->from);
  k->to = hlo_xrealloc(k->to, (size_t)(k->ncomps + 1) * sizeof *k->to);
  k->from[k->ncomps] = c;
  k->to[k->ncomps++] = d;
  hlo_set_root(d, clone_body(k, d, c, NULL));
  return d;
}

/* The element types of s's leaves, in order, from t on; returns the end. */
static HloType *leaf_types(const HloShape *s, HloType *t) {
  if (!hlo_shape_is_tuple(s)) {
    *t = s->type;
    return t + 1;
  }
  for (int i = 0; i < s->ntuple; i++) t = leaf_types(&s->tuple[i], t);
  return t;
}

HloError *cg_legalize(const HloModule *m, const CgOptions *o, CgLegalized *out) {
  memset(out, 0, sizeof *out);
  out->m = m;
  out->opts = *o;
  if (!m->entry)
    return hlo_error("codegen: module %s has no entry computation", m->name);
  if (o->arg_names && o->narg_names != m->entry->nparams)
    return hlo_error("codegen: %d argument names given for %d parameters", o->narg_names,
                     m->entry->nparams);
  HloError *e = check_types(m);
  if (e) return e;
  if (module_is_legal(m)) return NULL;

  Cloner k = {.src = m, .dst = hlo_module_new(m->name), .opts = o};
  k.map = hlo_xcalloc((size_t)(m->next_id ? m->next_id : 1), sizeof *k.map);
  hlo_module_set_entry(k.dst, clone_computation(&k, m->entry));
  /* The aliases follow the parameters to their first leaf (the result
   * leaves keep their order). */
  if (m->nalias) {
    k.dst->alias = hlo_arena_alloc(k.dst->arena, sizeof *k.dst->alias * (size_t)m->nalias);
    for (int i = 0; i < m->nalias; i++) {
      int param = 0;
      for (int p = 0; p < m->alias[i].param; p++)
        param += cg_shape_nleaves(&m->entry->params[p]->shape);
      k.dst->alias[k.dst->nalias++] = (HloAlias){m->alias[i].result, param};
    }
  }
  free(k.map);
  free(k.from);
  free(k.to);

  out->arg_types = k.arg_types;
  out->result_types = hlo_xmalloc(sizeof *out->result_types *
                                  (size_t)cg_shape_nleaves(&m->entry->root->shape));
  leaf_types(&m->entry->root->shape, out->result_types);
  out->owned = k.dst;
  out->m = k.dst;
  out->arg_names = k.arg_names;
  out->arg_tf_names = k.arg_tf_names;
  out->opts.arg_names = (const char *const *)k.arg_names;
  out->opts.arg_tf_names = k.arg_tf_names;
  out->opts.narg_names = k.nargs;
  return NULL;
}

void cg_legalized_free(CgLegalized *l) {
  for (int i = 0; l->arg_names && i < l->opts.narg_names; i++) free(l->arg_names[i]);
  free(l->arg_names);
  free(l->arg_tf_names);
  free(l->arg_types);
  free(l->result_types);
  hlo_module_free(l->owned);
  memset(l, 0, sizeof *l);
}
