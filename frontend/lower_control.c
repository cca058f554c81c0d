/*
 * lower_control.c — functional control flow (While, If and their Stateless
 * twins, function calls), TensorLists, and Assert.
 *
 * While: the node's inputs are the loop state.  The state becomes one HLO
 * tuple; the cond and body functions of the GraphDef's library are
 * lowered (tf_graph_function + tf_lower_graph) into computations whose one
 * parameter is that tuple, unpacked with get-tuple-element into the
 * function's arguments.  Shapes are static, so the body must return every
 * loop variable with the shape it entered with; cond returns one bool,
 * which becomes pred[].  The node's outputs are the final state's
 * elements.  If: a conditional whose branches both take the operands as
 * one tuple and must return equal shapes.
 *
 * TensorLists (DT_VARIANT handles: what tf.TensorArray and Keras' RNN
 * loops build) are modelled, as tf2xla models them, as one dense array
 * [length, element dims...], so length and element shape must be known at
 * compile time.  A list reserved with an unknown element shape is
 * "pending" until an item is stored: its HLO value is then a tuple holding
 * its length (every other TensorFlow value is an array).  A While whose
 * state holds a pending list lowers its body once in a scratch module to
 * learn the element shape from what the body stores, then starts the loop
 * from a zero array of that shape — again as tf2xla does.
 *
 * PartitionedCall inlines its function, as does a node whose op names a
 * function of the library (a direct call).  Assert has no effect here:
 * compiled code has no side effects.
 *
 * Variables bound from a checkpoint are constants: their values come from
 * the checkpoint when the graph is loaded (variables.c), and a resource
 * handle is lowered to the value it holds, so reads anywhere down a call
 * chain see it.  Config variables (tfcompile's variable {} entries, a
 * VarHandleOp or a TensorFlow 1 VariableV2) are feeds instead: the handle
 * or reference reads the feed, whose value each assign replaces in the
 * order the graph view put the assigns and reads (which follows their
 * control edges), and tf_import returns the last value of each read-write
 * one.  A reference assign's output is the variable's new value.
 */
#include "lower.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Shared helpers                                                           */
/* ------------------------------------------------------------------------ */

static HloError *func_attr(const TfNode *n, const char *attr, const char **name) {
  const Tensorflow__NameAttrList *f;
  HloError *e = tf_attr_func(n, attr, &f);
  if (!e) *name = f->name;
  return e;
}

static HloError *shape_mismatch(const char *fmt, const HloShape *a, const HloShape *b) {
  char *x = hlo_shape_to_string(a), *y = hlo_shape_to_string(b);
  HloError *e = hlo_error(fmt, x, y);
  free(x);
  free(y);
  return e;
}

/* Zeros of type t and the given dims. */
static HloInstr *zeros(TfLower *L, HloType t, int rank, const int64_t *dims, HloError **e) {
  HloShape s = hlo_shape_array(t, rank, dims);
  return hlo_build_broadcast(L->c, tf_scalar(L, t, 0), &s, NULL, 0, e);
}

/* A pending TensorList of `length` elements (see the top of the file). */
static HloInstr *pending_list(HloComputation *c, int64_t length) {
  HloInstr *len = hlo_build_constant_scalar(c, HLO_S64, (double)length);
  HloInstr *r = hlo_build_tuple(c, &len, 1, NULL);
  HLO_CHECK(r != NULL);
  return r;
}

static bool is_pending_list(const HloInstr *v) { return v->shape.type == HLO_TUPLE; }

static int64_t pending_length(const HloInstr *v) {
  return hlo_literal_get_s64(v->operands[0]->literal, 0);
}

/* Which of n's first `count` outputs the graph reads, so that unread loop
 * variables get no get-tuple-element (malloc'd). */
static bool *outputs_read(const TfLower *L, const TfNode *n, int count) {
  bool *used = hlo_xcalloc((size_t)count + 1, sizeof *used);
  const TfGraph *g = L->g;
  for (int i = 0; i < g->norder; i++)
    for (int k = 0; k < g->order[i]->ninputs; k++) {
      const TfInput *in = &g->order[i]->inputs[k];
      if (in->feed < 0 && in->node == n && in->index < count) used[in->index] = true;
    }
  for (int i = 0; i < g->nfetches; i++) {
    const TfInput *in = &g->fetches[i].value;
    if (in->feed < 0 && in->node == n && in->index < count) used[in->index] = true;
  }
  return used;
}

/* Functions are inlined, so one that reaches itself again (directly or
 * through others) would never end; nesting is bounded too, to keep the
 * lowering's stack small. */
#define MAX_FUNCTION_NESTING 64

static HloError *check_nesting(const TfLower *L, const char *fname) {
  const char *chain[MAX_FUNCTION_NESTING + 1];
  int n = 0;
  const TfLower *p = L;
  for (; p && p->function; p = p->parent) {
    if (n == MAX_FUNCTION_NESTING)
      return hlo_error("function '%s' is nested more than %d calls deep", fname,
                       MAX_FUNCTION_NESTING);
    chain[n++] = p->function;
    if (!strcmp(p->function, fname)) break;
  }
  if (!p || !p->function) return NULL;
  /* chain holds the callers innermost first, ending with fname's earlier
   * entry: print them in call order. */
  HloStr s = {0};
  for (int i = n - 1; i >= 0; i--) hlo_str_printf(&s, "%s -> ", chain[i]);
  hlo_str_printf(&s, "%s", fname);
  HloError *e = hlo_error("function '%s' calls itself: %s", fname, s.buf);
  free(s.buf);
  return e;
}

/* Lowers library function `fname` into computation c of module m with the
 * given argument values; *results receives its count values (malloc'd).
 * vars (NULL: none) are the config variables the arguments hold, which the
 * body may assign; final (NULL: not wanted) receives the arguments' last
 * values. */
static HloError *lower_body(TfLower *L, HloModule *m, HloComputation *c, const char *fname,
                            HloInstr *const *args, int nargs, HloInstr ***results,
                            int *count, const TfFeed *const *vars, HloInstr **final) {
  HloError *e = check_nesting(L, fname);
  if (e) return e;
  TfGraph *body;
  e = tf_graph_function(L->g, fname, &body);
  if (e) return e;
  if (body->nfeeds != nargs) {
    e = hlo_error("function '%s' takes %d argument(s), the node passes %d", fname, body->nfeeds,
                  nargs);
  } else {
    HloStr scope = {0};
    hlo_str_printf(&scope, "%s%s/", L->scope, fname);
    e = tf_lower_graph(m, c, body, args, L, fname, scope.buf, results, final, vars, false);
    free(scope.buf);
    *count = body->nfetches;
  }
  tf_graph_free(body);
  return e;
}

/* Lowers `fname` into a new computation (named after it) whose one
 * parameter is a tuple of shape `args`, unpacked into the arguments. */
static HloError *lower_function(TfLower *L, const char *fname, const HloShape *args,
                                HloComputation **out, HloInstr ***results, int *count) {
  HloComputation *c = tf_computation_new(L, fname);
  HloInstr *param = hlo_parameter_new(c, 0, args, "arg_tuple");
  HloInstr **feeds = hlo_xcalloc((size_t)args->ntuple + 1, sizeof *feeds);
  HloError *e = NULL;
  for (int i = 0; i < args->ntuple && !e; i++)
    feeds[i] = hlo_build_get_tuple_element(c, param, i, &e);
  if (!e) e = lower_body(L, L->m, c, fname, feeds, args->ntuple, results, count, NULL, NULL);
  free(feeds);
  *out = c;
  return e;
}

/* Sets c's root, then drops the argument unpackings the function never
 * read. */
static void finish_function(HloComputation *c, HloInstr *root) {
  hlo_set_root(c, root);
  for (HloInstr *in = c->first, *next; in; in = next) {
    next = in->next;
    if (in->op == HLO_OP_GET_TUPLE_ELEMENT && in->operands[0] == c->params[0] && !in->nusers &&
        in != root)
      hlo_instr_remove(in);
  }
}

/* The same with the tuple of `results` as root. */
static HloError *finish_tuple_function(HloComputation *c, HloInstr *const *results, int count) {
  HloError *e = NULL;
  HloInstr *root = hlo_build_tuple(c, results, count, &e);
  if (root) finish_function(c, root);
  return e;
}

/* Creates a while or conditional in L->c and checks its shape. */
static HloError *control_instr(TfLower *L, HloOpcode op, const HloShape *shape,
                               HloInstr *const *ops, int nops, HloComputation *const *called,
                               HloInstr **out) {
  HloInstr *in = hlo_instr_new(L->c, op, shape, ops, nops, NULL);
  hlo_instr_set_called(in, called, 2);
  HloShape inferred;
  HloError *e = hlo_infer_shape(in, &inferred);
  if (e) {
    hlo_instr_remove(in);
    return e;
  }
  *out = in;
  return NULL;
}

/* Sets output k of n to element k of tuple t, for the outputs read. */
static HloError *set_tuple_outputs(TfLower *L, const TfNode *n, HloInstr *t, int count) {
  bool *used = outputs_read(L, n, count);
  HloError *e = NULL;
  for (int k = 0; k < count && !e; k++) {
    if (!used[k]) continue;
    HloInstr *v = hlo_build_get_tuple_element(L->c, t, k, &e);
    if (v) tf_set_output(L, n, k, v);
  }
  free(used);
  return e;
}

/* ------------------------------------------------------------------------ */
/* While                                                                    */
/* ------------------------------------------------------------------------ */

/* Replaces each pending list of the initial state by zeros of the shape
 * the body stores into it, found by lowering the body once into a scratch
 * module. */
static HloError *settle_pending_lists(TfLower *L, const char *body_name, HloInstr **state,
                                      int nv) {
  HloModule *t = hlo_module_new("settle");
  HloComputation *tc = hlo_computation_new(t, "settle");
  hlo_module_set_entry(t, tc);
  HloInstr **args = hlo_xcalloc((size_t)nv + 1, sizeof *args), **res = NULL;
  int nparams = 0, nres = 0;
  for (int i = 0; i < nv; i++)
    args[i] = is_pending_list(state[i]) ? pending_list(tc, pending_length(state[i]))
                                        : hlo_parameter_new(tc, nparams++, &state[i]->shape, NULL);
  HloError *e = lower_body(L, t, tc, body_name, args, nv, &res, &nres, NULL, NULL);
  if (!e && nres != nv)
    e = hlo_error("body '%s' returns %d value(s) for %d loop variable(s)", body_name, nres, nv);
  for (int i = 0; i < nv && !e; i++) {
    if (!is_pending_list(state[i])) continue;
    const HloShape *s = &res[i]->shape;
    int64_t len = pending_length(state[i]);
    if (is_pending_list(res[i]))
      e = hlo_error("loop variable %d is a TensorList whose element shape is unknown and which "
                    "body '%s' never stores into",
                    i, body_name);
    else if (s->rank < 1 || s->dims[0] != len)
      e = hlo_error("loop variable %d is a TensorList of %lld elements but body '%s' stores "
                    "%lld",
                    i, (long long)len, body_name, (long long)(s->rank ? s->dims[0] : 0));
    else
      state[i] = zeros(L, s->type, s->rank, s->dims, &e);
  }
  free(res);
  free(args);
  hlo_module_free(t);
  return e;
}

static HloError *lower_while(TfLower *L, const TfNode *n) {
  const char *cond_name, *body_name;
  HloError *e = func_attr(n, "cond", &cond_name);
  if (!e) e = func_attr(n, "body", &body_name);
  if (e) return e;
  int nv = n->ninputs;
  HloInstr **state = hlo_xcalloc((size_t)nv + 1, sizeof *state), **res = NULL;
  HloShape *shapes = hlo_xcalloc((size_t)nv + 1, sizeof *shapes);
  bool pending = false;
  for (int i = 0; i < nv && !e; i++) {
    e = tf_input(L, n, i, &state[i]);
    pending |= !e && is_pending_list(state[i]);
  }
  if (!e && pending) e = settle_pending_lists(L, body_name, state, nv);
  for (int i = 0; i < nv && !e; i++) shapes[i] = state[i]->shape;
  HloShape tuple = hlo_shape_tuple(L->m->arena, nv, shapes);
  HloComputation *called[2] = {NULL, NULL};
  int nres = 0;
  if (!e) e = lower_function(L, body_name, &tuple, &called[1], &res, &nres);
  if (!e && nres != nv)
    e = hlo_error("body '%s' returns %d value(s) for %d loop variable(s)", body_name, nres, nv);
  for (int i = 0; i < nv && !e; i++)
    if (is_pending_list(res[i]) || !hlo_shape_equal(&res[i]->shape, &shapes[i], false)) {
      char *from = hlo_shape_to_string(&shapes[i]), *to = hlo_shape_to_string(&res[i]->shape);
      e = hlo_error("body '%s' changes loop variable %d from %s to %s (shapes must stay the "
                    "same in every iteration)",
                    body_name, i, from, to);
      free(from);
      free(to);
    }
  if (!e) e = finish_tuple_function(called[1], res, nv);
  free(res);
  res = NULL;
  if (!e) e = lower_function(L, cond_name, &tuple, &called[0], &res, &nres);
  if (!e && nres != 1)
    e = hlo_error("cond '%s' returns %d values, expected 1", cond_name, nres);
  if (!e) {
    HloInstr *p = res[0];
    if (p->shape.type != HLO_PRED || hlo_shape_elements(&p->shape) != 1) {
      char *s = hlo_shape_to_string(&p->shape);
      e = hlo_error("cond '%s' returns %s, expected one bool", cond_name, s);
      free(s);
    } else if (p->shape.rank) {
      p = hlo_build_reshape(called[0], p, 0, NULL, &e);
    }
    if (!e) finish_function(called[0], p);
  }
  HloInstr *init = NULL, *loop = NULL;
  if (!e) init = hlo_build_tuple(L->c, state, nv, &e);
  if (!e) e = control_instr(L, HLO_OP_WHILE, &tuple, &init, 1, called, &loop);
  if (!e) e = set_tuple_outputs(L, n, loop, nv);
  free(res);
  free(state);
  free(shapes);
  return e;
}

/* ------------------------------------------------------------------------ */
/* If                                                                       */
/* ------------------------------------------------------------------------ */

/* The predicate as pred[]: a one-element bool, or a number (true when
 * non-zero, as TensorFlow converts a scalar condition). */
static HloError *predicate(TfLower *L, HloInstr *c, HloInstr **out) {
  if (!hlo_type_is_array(c->shape.type) || hlo_shape_elements(&c->shape) != 1) {
    char *s = hlo_shape_to_string(&c->shape);
    HloError *e = hlo_error("the condition must hold one element, has shape %s", s);
    free(s);
    return e;
  }
  HloError *e = NULL;
  if (c->shape.rank) c = hlo_build_reshape(L->c, c, 0, NULL, &e);
  if (c && c->shape.type != HLO_PRED)
    c = hlo_build_compare(L->c, HLO_CMP_NE, c, tf_scalar(L, c->shape.type, 0), &e);
  *out = c;
  return e;
}

static HloError *lower_if(TfLower *L, const TfNode *n) {
  const char *names[2];
  HloInstr *cond;
  HloError *e = tf_expect_inputs(n, 1, -1);
  if (!e) e = func_attr(n, "then_branch", &names[0]);
  if (!e) e = func_attr(n, "else_branch", &names[1]);
  if (!e) e = tf_input(L, n, 0, &cond);
  if (!e) e = predicate(L, cond, &cond);
  if (e) return e;
  int nops = n->ninputs - 1;
  HloInstr **ops = hlo_xcalloc((size_t)nops + 1, sizeof *ops), **res[2] = {NULL, NULL};
  HloShape *shapes = hlo_xcalloc((size_t)nops + 1, sizeof *shapes);
  for (int i = 0; i < nops && !e; i++) {
    e = tf_input(L, n, 1 + i, &ops[i]);
    if (!e && is_pending_list(ops[i]))
      e = hlo_error("input %d is a TensorList of unknown element shape", 1 + i);
    if (!e) shapes[i] = ops[i]->shape;
  }
  HloShape args = hlo_shape_tuple(L->m->arena, nops, shapes);
  HloComputation *branch[2] = {NULL, NULL};
  int nres[2] = {0, 0};
  for (int b = 0; b < 2 && !e; b++)
    e = lower_function(L, names[b], &args, &branch[b], &res[b], &nres[b]);
  if (!e && nres[0] != nres[1])
    e = hlo_error("branches '%s' and '%s' return %d and %d values", names[0], names[1], nres[0],
                  nres[1]);
  for (int k = 0; k < nres[0] && !e; k++) {
    for (int b = 0; b < 2 && !e; b++)
      if (is_pending_list(res[b][k]))
        e = hlo_error("branch '%s' returns a TensorList of unknown element shape", names[b]);
    if (!e && !hlo_shape_equal(&res[0][k]->shape, &res[1][k]->shape, false)) {
      char *a = hlo_shape_to_string(&res[0][k]->shape), *b = hlo_shape_to_string(&res[1][k]->shape);
      e = hlo_error("branches '%s' and '%s' return output %d as %s and %s", names[0], names[1],
                    k, a, b);
      free(a);
      free(b);
    }
  }
  for (int b = 0; b < 2 && !e; b++) e = finish_tuple_function(branch[b], res[b], nres[b]);
  HloInstr *operands[3] = {cond, NULL, NULL}, *r = NULL;
  if (!e) operands[1] = operands[2] = hlo_build_tuple(L->c, ops, nops, &e);
  if (!e) {
    HloShape out = branch[0]->root->shape;
    e = control_instr(L, HLO_OP_CONDITIONAL, &out, operands, 3, branch, &r);
  }
  if (!e) e = set_tuple_outputs(L, n, r, nres[0]);
  free(res[0]);
  free(res[1]);
  free(ops);
  free(shapes);
  return e;
}

/* ------------------------------------------------------------------------ */
/* TensorLists                                                              */
/* ------------------------------------------------------------------------ */

/* An element_shape input: *known is false for -1 (unknown rank) or any -1
 * dim. */
static HloError *element_shape(TfLower *L, const TfNode *n, int i, bool *known, int *rank,
                               int64_t **dims) {
  HloLiteral *lit;
  HloError *e = tf_input_literal(L, n, i, &lit);
  if (!e) e = tf_input_ints(L, n, i, dims, rank);
  if (e) return e;
  *known = lit->shape.rank == 1;
  for (int k = 0; k < *rank; k++) *known &= (*dims)[k] >= 0;
  if (*rank > HLO_MAX_RANK - 1) return hlo_error("element_shape has too many dimensions");
  return NULL;
}

static HloError *expect_list(const HloInstr *v) {
  if (is_pending_list(v) || v->shape.rank >= 1) return NULL;
  char *s = hlo_shape_to_string(&v->shape);
  HloError *e = hlo_error("input 0 is not a TensorList (its value is %s)", s);
  free(s);
  return e;
}

/* A pending list of `length` elements as zeros of element shape `dims`. */
static HloInstr *materialize(TfLower *L, const TfNode *n, int64_t length, int rank,
                             const int64_t *dims, HloError **e) {
  HloType t;
  if ((*e = tf_attr_hlo_type(n, "element_dtype", &t))) return NULL;
  int64_t full[HLO_MAX_RANK];
  full[0] = length;
  memcpy(full + 1, dims, sizeof(int64_t) * (size_t)rank);
  return zeros(L, t, rank + 1, full, e);
}

static HloError *lower_list_reserve(TfLower *L, const TfNode *n) {
  bool known;
  int rank, count;
  int64_t *dims, *len;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = element_shape(L, n, 0, &known, &rank, &dims);
  if (!e) e = tf_input_ints(L, n, 1, &len, &count);
  if (e) return e;
  if (count != 1 || len[0] < 0)
    return hlo_error("num_elements must be a known non-negative scalar");
  HloInstr *r = known ? materialize(L, n, len[0], rank, dims, &e) : pending_list(L->c, len[0]);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

static HloError *lower_list_from_tensor(TfLower *L, const TfNode *n) {
  HloInstr *x;
  bool known;
  int rank;
  int64_t *dims;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = element_shape(L, n, 1, &known, &rank, &dims);
  if (e) return e;
  bool ok = x->shape.rank >= 1 && (rank == x->shape.rank - 1 || !known);
  for (int k = 0; ok && known && k < rank; k++) ok = dims[k] == x->shape.dims[1 + k];
  if (!ok) {
    char *s = hlo_shape_to_string(&x->shape);
    e = hlo_error("tensor %s does not split into elements of the given element_shape", s);
    free(s);
    return e;
  }
  tf_set_output(L, n, 0, x);
  return NULL;
}

/* Start indices (index, 0, ...) for a slice of one element of list l. */
static HloError *element_starts(TfLower *L, const TfNode *n, const HloInstr *l,
                                HloInstr **starts) {
  HloInstr *idx;
  HloError *e = tf_input(L, n, 1, &idx);
  if (e) return e;
  if (idx->shape.rank != 0 || !hlo_type_is_integer(idx->shape.type))
    return hlo_error("index must be an integer scalar");
  starts[0] = idx;
  for (int d = 1; d < l->shape.rank; d++) starts[d] = tf_scalar(L, idx->shape.type, 0);
  return NULL;
}

static HloError *lower_list_get_item(TfLower *L, const TfNode *n) {
  HloInstr *l, *r, *starts[HLO_MAX_RANK];
  bool known;
  int rank;
  int64_t *dims;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &l);
  if (!e) e = expect_list(l);
  if (!e) e = element_shape(L, n, 2, &known, &rank, &dims);
  if (e) return e;
  if (is_pending_list(l)) {
    /* Nothing was stored: every element reads as zeros. */
    if (!known) return hlo_error("the list's element shape is unknown: give element_shape");
    HloType t;
    if ((e = tf_attr_hlo_type(n, "element_dtype", &t))) return e;
    r = zeros(L, t, rank, dims, &e);
  } else {
    const HloShape *s = &l->shape;
    int64_t sizes[HLO_MAX_RANK];
    sizes[0] = 1;
    memcpy(sizes + 1, s->dims + 1, sizeof(int64_t) * (size_t)(s->rank - 1));
    if ((e = element_starts(L, n, l, starts))) return e;
    r = hlo_build_dynamic_slice(L->c, l, starts, sizes, &e);
    if (r) r = hlo_build_reshape(L->c, r, s->rank - 1, s->dims + 1, &e);
  }
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

static HloError *lower_list_set_item(TfLower *L, const TfNode *n) {
  HloInstr *l, *item, *starts[HLO_MAX_RANK];
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &l);
  if (!e) e = expect_list(l);
  if (!e) e = tf_input(L, n, 2, &item);
  if (e) return e;
  const HloShape *is = &item->shape;
  if (is->rank > HLO_MAX_RANK - 1) return hlo_error("item has too many dimensions");
  if (is_pending_list(l)) l = materialize(L, n, pending_length(l), is->rank, is->dims, &e);
  if (e) return e;
  HloShape elem = hlo_shape_array(l->shape.type, l->shape.rank - 1, l->shape.dims + 1);
  if (!hlo_shape_equal(&elem, is, false))
    return shape_mismatch("item %s does not match the list's elements %s", is, &elem);
  int64_t dims[HLO_MAX_RANK];
  dims[0] = 1;
  memcpy(dims + 1, is->dims, sizeof(int64_t) * (size_t)is->rank);
  HloInstr *update = hlo_build_reshape(L->c, item, is->rank + 1, dims, &e);
  if (!e) e = element_starts(L, n, l, starts);
  HloInstr *r = e ? NULL : hlo_build_dynamic_update_slice(L->c, l, update, starts, &e);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

static HloError *lower_list_stack(TfLower *L, const TfNode *n) {
  HloInstr *l;
  bool known;
  int rank;
  int64_t *dims, num;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &l);
  if (!e) e = expect_list(l);
  if (!e) e = element_shape(L, n, 1, &known, &rank, &dims);
  if (!e) e = tf_attr_int_or(n, "num_elements", -1, &num);
  if (e) return e;
  if (is_pending_list(l)) {
    if (!known) return hlo_error("the list's element shape is unknown: give element_shape");
    l = materialize(L, n, pending_length(l), rank, dims, &e);
    if (e) return e;
  }
  if (num >= 0 && l->shape.dims[0] != num)
    return hlo_error("num_elements is %lld but the list holds %lld", (long long)num,
                     (long long)l->shape.dims[0]);
  tf_set_output(L, n, 0, l);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Variables                                                                */
/* ------------------------------------------------------------------------ */

/* A variable node is its value (TfNode.value, bound from a checkpoint by
 * variables.c): a constant.  A resource handle is that value too, so a
 * handle passed to a function arrives as the value its reads give. */
static HloError *lower_variable(TfLower *L, const TfNode *n) {
  if (!n->value)
    return hlo_error("the variable has no value: give the checkpoint that holds it "
                     "(--checkpoint PREFIX), or compile a frozen graph");
  HloLiteral *v = hlo_literal_clone_in(L->m->arena, n->value);
  tf_set_output(L, n, 0, hlo_constant_new(L->c, v, NULL));
  return NULL;
}

/* The variable that input 0 of n reads, checked against n's dtype. */
static HloError *variable_input(TfLower *L, const TfNode *n, int ninputs, HloInstr **v) {
  HloType t;
  HloError *e = tf_expect_inputs(n, ninputs, ninputs);
  if (!e) e = tf_attr_hlo_type(n, "dtype", &t);
  if (!e) e = tf_input(L, n, 0, v);
  if (!e && (*v)->shape.type != t)
    e = hlo_error("reads a variable of %s as %s", hlo_type_name((*v)->shape.type),
                  hlo_type_name(t));
  return e;
}

static HloError *lower_read_variable(TfLower *L, const TfNode *n) {
  HloInstr *v;
  HloError *e = variable_input(L, n, 1, &v);
  if (!e) tf_set_output(L, n, 0, v);
  return e;
}

/* The feed that assign n writes (input 0): a config variable, or a
 * resource argument that holds one (*var). */
static HloError *assigned_variable(TfLower *L, const TfNode *n, int *k, const TfFeed **var) {
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (e) return e;
  int feed = n->inputs[0].feed;
  const TfFeed *f = feed >= 0 ? L->vars[feed] : NULL;
  if (!f)
    return hlo_error("assigns a variable that is no config variable: name its VarHandleOp or "
                     "VariableV2 in a variable {} entry of the config%s",
                     L->function ? " and pass its handle to the function by a call (While "
                                   "and If bodies may not assign)"
                                 : "");
  if (f->readonly)
    return hlo_error("assigns variable '%s', which the config marks readonly", f->name);
  *k = feed;
  *var = f;
  return NULL;
}

/* AssignVariableOp, AssignAddVariableOp, AssignSubVariableOp (type attr
 * "dtype") and the reference variables' Assign, AssignAdd, AssignSub
 * (attr "T", output 0 the variable, which holds the new value): the
 * variable's value from here on is the input, or its sum or difference
 * with the value so far (op: HLO_OP_ADD, HLO_OP_SUBTRACT; else plain). */
static HloError *assign_variable(TfLower *L, const TfNode *n, HloOpcode op, bool plain,
                                 bool ref) {
  int k = 0;
  const TfFeed *var = NULL;
  HloInstr *v;
  HloType t;
  HloError *e = assigned_variable(L, n, &k, &var);
  if (!e) e = tf_attr_hlo_type(n, ref ? "T" : "dtype", &t);
  if (!e) e = tf_input(L, n, 1, &v);
  if (e) return e;
  HloInstr *old = L->feeds[k];
  if (t != old->shape.type || v->shape.type != t)
    return hlo_error("assigns %s (%s %s) to variable '%s' of %s",
                     hlo_type_name(v->shape.type), ref ? "T" : "dtype", hlo_type_name(t),
                     var->name, hlo_type_name(old->shape.type));
  if (!hlo_shape_equal(&v->shape, &old->shape, false))
    return shape_mismatch("assigns a value of shape %s to a variable of shape %s", &v->shape,
                          &old->shape);
  L->feeds[k] = plain ? v : tf_binary(L, op, old, v, &e);
  if (!e && ref) tf_set_output(L, n, 0, L->feeds[k]);
  return e;
}

static HloError *lower_assign_variable(TfLower *L, const TfNode *n) {
  return assign_variable(L, n, HLO_OP_ADD, true, false);
}

static HloError *lower_assign_add_variable(TfLower *L, const TfNode *n) {
  return assign_variable(L, n, HLO_OP_ADD, false, false);
}

static HloError *lower_assign_sub_variable(TfLower *L, const TfNode *n) {
  return assign_variable(L, n, HLO_OP_SUBTRACT, false, false);
}

static HloError *lower_assign(TfLower *L, const TfNode *n) {
  return assign_variable(L, n, HLO_OP_ADD, true, true);
}

static HloError *lower_assign_add(TfLower *L, const TfNode *n) {
  return assign_variable(L, n, HLO_OP_ADD, false, true);
}

static HloError *lower_assign_sub(TfLower *L, const TfNode *n) {
  return assign_variable(L, n, HLO_OP_SUBTRACT, false, true);
}

/* ResourceGather: the variable's slices along dimension batch_dims at the
 * indices, the first batch_dims dimensions matched pairwise. */
static HloError *lower_resource_gather(TfLower *L, const TfNode *n) {
  HloInstr *v, *idx, *y = NULL;
  int64_t batch;
  HloError *e = variable_input(L, n, 2, &v);
  if (!e) e = tf_input(L, n, 1, &idx);
  if (!e) e = tf_attr_int_or(n, "batch_dims", 0, &batch);
  if (!e) e = tf_gather(L, v, idx, batch, batch, &y);
  if (!e) tf_set_output(L, n, 0, y);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Calls, Assert                                                            */
/* ------------------------------------------------------------------------ */

/* A call passes a config variable's handle (or a resource argument that
 * holds one) as an argument: the body reads and assigns the variable
 * through it, and its last value there is the variable's value after the
 * call. */
HloError *tf_lower_function_call(TfLower *L, const TfNode *n, const char *fname) {
  HloInstr **args = hlo_xcalloc((size_t)n->ninputs + 1, sizeof *args), **res = NULL;
  HloInstr **final = hlo_xcalloc((size_t)n->ninputs + 1, sizeof *final);
  const TfFeed **vars = hlo_xcalloc((size_t)n->ninputs + 1, sizeof *vars);
  int nres = 0;
  HloError *e = NULL;
  for (int i = 0; i < n->ninputs && !e; i++) {
    e = tf_input(L, n, i, &args[i]);
    if (!e && is_pending_list(args[i]))
      e = hlo_error("input %d is a TensorList of unknown element shape", i);
    int feed = n->inputs[i].feed;
    if (!e && feed >= 0) vars[i] = L->vars[feed];
    for (int j = 0; j < i && !e && vars[i]; j++)
      if (n->inputs[j].feed == feed)
        e = hlo_error("passes variable '%s' twice (inputs %d and %d)", vars[i]->name, j, i);
  }
  if (!e) e = lower_body(L, L->m, L->c, fname, args, n->ninputs, &res, &nres, vars, final);
  for (int k = 0; k < nres && !e; k++) tf_set_output(L, n, k, res[k]);
  for (int i = 0; i < n->ninputs && !e; i++)
    if (vars[i] && !vars[i]->readonly) L->feeds[n->inputs[i].feed] = final[i];
  free(res);
  free(args);
  free(final);
  free(vars);
  return e;
}

/* PartitionedCall and StatefulPartitionedCall: the function `f` is
 * inlined. */
static HloError *lower_call(TfLower *L, const TfNode *n) {
  const char *fname;
  HloError *e = func_attr(n, "f", &fname);
  return e ? e : tf_lower_function_call(L, n, fname);
}

static HloError *lower_assert(TfLower *L, const TfNode *n) { return NULL; }

const TfOpLowering tf_lower_control[] = {
    {"While", lower_while, "T, cond, body",
     "the body must keep every loop variable's shape; parallel_iterations is ignored"},
    {"StatelessWhile", lower_while, "T, cond, body",
     "the body must keep every loop variable's shape"},
    {"If", lower_if, "Tcond, Tin, Tout, then_branch, else_branch",
     "the condition must hold one element; both branches must return equal shapes"},
    {"StatelessIf", lower_if, "Tcond, Tin, Tout, then_branch, else_branch",
     "the condition must hold one element; both branches must return equal shapes"},
    {"TensorListReserve", lower_list_reserve, "element_dtype, shape_type",
     "a dense [num_elements, element...] array; num_elements must be constant; an unknown "
     "element shape is learnt from the first store"},
    {"TensorListFromTensor", lower_list_from_tensor, "element_dtype, shape_type",
     "the tensor itself"},
    {"TensorListGetItem", lower_list_get_item, "element_dtype",
     "dynamic-slice; an index out of range is clamped"},
    {"TensorListSetItem", lower_list_set_item, "element_dtype",
     "dynamic-update-slice; an index out of range is clamped; no resizing"},
    {"TensorListStack", lower_list_stack, "element_dtype, num_elements", "the array itself"},
    {"PartitionedCall", lower_call, "Tin, Tout, f", "the function is inlined"},
    {"StatefulPartitionedCall", lower_call, "Tin, Tout, f", "the function is inlined"},
    {"VarHandleOp", lower_variable, "dtype, shape, shared_name",
     "the value from the checkpoint (SavedModel variables, --checkpoint)"},
    {"VariableV2", lower_variable, "dtype, shape",
     "the value from the checkpoint (SavedModel variables, --checkpoint); a config variable's "
     "reads see the assigns ordered before them"},
    {"ReadVariableOp", lower_read_variable, "dtype",
     "the variable's value (a config variable's: after the assigns ordered before the read)"},
    {"AssignVariableOp", lower_assign_variable, "dtype",
     "config variables only (not readonly; in functions, those a call passes)"},
    {"AssignAddVariableOp", lower_assign_add_variable, "dtype",
     "config variables only (not readonly; in functions, those a call passes)"},
    {"AssignSubVariableOp", lower_assign_sub_variable, "dtype",
     "config variables only (not readonly; in functions, those a call passes)"},
    {"Assign", lower_assign, "T, use_locking, validate_shape",
     "config variables (VariableV2) only, not readonly; the output is the new value"},
    {"AssignAdd", lower_assign_add, "T, use_locking",
     "config variables (VariableV2) only, not readonly; the output is the new value"},
    {"AssignSub", lower_assign_sub, "T, use_locking",
     "config variables (VariableV2) only, not readonly; the output is the new value"},
    {"ResourceGather", lower_resource_gather, "dtype, Tindices, batch_dims, validate_indices",
     "gather along dimension batch_dims; an index out of range is clamped"},
    {"Assert", lower_assert, "T, summarize", "dropped: compiled code checks nothing"},
    {NULL, NULL, NULL, NULL},
};
