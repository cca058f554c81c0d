/*
 * verifier.c — checks that a module is well formed, as XLA's HloVerifier.
 *
 * Two phases.  The structural phase walks every computation and checks what
 * shape inference relies on: the entry exists; each computation has a root
 * among its instructions and parameters numbered 0..n-1 that agree with
 * c->params; each instruction has the operand count its opcode allows,
 * operands from its own computation, use lists that agree both ways, called
 * computations that belong to the module; no instruction depends on itself
 * and no computation calls itself; no instruction has an opcode hloc reads
 * but refuses (HLO_KIND_REFUSED: what it needs is said by name).  The shape phase then compares every
 * instruction's shape, ignoring layouts, with hlo_infer_shape()'s, which
 * also checks attributes and the signatures of called computations; and a
 * constant's literal must have the instruction's shape.
 *
 * Instruction ids are dense per module (0..next_id-1), so per-instruction
 * state lives in arrays indexed by id.
 *
 * Messages: "verifier: computation 'c', instruction <describe>: <rule>", or
 * "verifier: computation 'c': <rule>" for what concerns the computation.
 */
#include "hlo.h"

#include <stdlib.h>
#include <string.h>

typedef struct Verify {
  int64_t nids;                 /* the module's next_id */
  const HloComputation **owner; /* by id: the computation listing it */
  int ncomps;
  const HloComputation **comps; /* the module's computations, in order */
} Verify;

static HloError *instr_error(const HloInstr *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static HloError *instr_error(const HloInstr *in, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *e = hlo_verror(fmt, ap);
  va_end(ap);
  char *d = hlo_instr_describe(in);
  e = hlo_error_wrap(e, "verifier: computation '%s', instruction %s", in->parent->name, d);
  free(d);
  return e;
}

static bool in_module(const Verify *v, const HloComputation *c) {
  for (int i = 0; i < v->ncomps; i++)
    if (v->comps[i] == c) return true;
  return false;
}

static bool listed_in(const Verify *v, const HloInstr *in, const HloComputation *c) {
  return in && in->id >= 0 && in->id < v->nids && v->owner[in->id] == c;
}

/* Records which computation lists each instruction, rejecting instructions
 * listed twice (which also stops a list that loops). */
static HloError *map_owners(Verify *v) {
  for (int i = 0; i < v->ncomps; i++) {
    const HloComputation *c = v->comps[i];
    for (const HloInstr *in = c->first; in; in = in->next) {
      if (in->id < 0 || in->id >= v->nids)
        return hlo_error("verifier: computation '%s': instruction %%%s has id %lld, outside "
                         "the module's 0..%lld", c->name, in->name, (long long)in->id,
                         (long long)v->nids - 1);
      if (v->owner[in->id])
        return hlo_error("verifier: computation '%s': instruction %%%s is listed twice",
                         c->name, in->name);
      v->owner[in->id] = c;
      if (in->parent != c)
        return hlo_error("verifier: computation '%s': instruction %%%s names '%s' as its "
                         "parent", c->name, in->name, in->parent ? in->parent->name : "(none)");
    }
  }
  return NULL;
}

static HloError *check_params(const Verify *v, const HloComputation *c) {
  for (const HloInstr *in = c->first; in; in = in->next) {
    if (in->op != HLO_OP_PARAMETER) continue;
    int64_t k = in->parameter_number;
    if (k < 0 || k >= c->nparams)
      return instr_error(in, "parameter number %lld is out of range (the computation has %d "
                         "parameters)", (long long)k, c->nparams);
    if (c->params[k] != in) {
      if (c->params[k] && c->params[k]->op == HLO_OP_PARAMETER &&
          c->params[k]->parameter_number == k)
        return instr_error(in, "parameter number %lld is also used by %%%s", (long long)k,
                           c->params[k]->name);
      return instr_error(in, "is not registered as parameter %lld", (long long)k);
    }
  }
  for (int i = 0; i < c->nparams; i++) {
    const HloInstr *p = c->params[i];
    if (!p) return hlo_error("verifier: computation '%s': parameter %d is missing", c->name, i);
    if (!listed_in(v, p, c))
      return hlo_error("verifier: computation '%s': parameter %d %%%s is not one of its "
                       "instructions", c->name, i, p->name);
    if (p->op != HLO_OP_PARAMETER || p->parameter_number != i)
      return instr_error(p, "is registered as parameter %d", i);
  }
  return NULL;
}

/* Buffers (b(T)): XLA's arrays held in device memory for custom-calls to
 * update in place.  One device holds a buffer as its array: Pin(T) -> b(T)
 * and Unpin(b(T)) -> T are identities (hlo_custom_call_is_identity) and
 * CreateBuffer() -> b(T) is zeros (XLA leaves it uninitialized).
 * Parameters, custom-calls, tuples and control flow carry buffers; an op
 * that computes on one is refused, as XLA refuses it. */
static HloError *check_buffers(const HloInstr *in) {
  for (int i = 0; i < in->noperands; i++)
    if (!in->operands[i]) return NULL; /* check_instr says which */
  const HloShape *r = &in->shape, *x = in->noperands ? &in->operands[0]->shape : NULL;
  if (hlo_is_custom_call_to(in, "Pin") &&
      (in->noperands != 1 || x->type == HLO_TUPLE || x->is_buffer || !r->is_buffer ||
       !hlo_shape_equal(x, r, false)))
    return instr_error(in, "Pin takes an array and makes a buffer of it (T -> b(T))");
  if (hlo_is_custom_call_to(in, "Unpin") &&
      (in->noperands != 1 || !x->is_buffer || r->type == HLO_TUPLE || r->is_buffer ||
       !hlo_shape_equal(x, r, false)))
    return instr_error(in, "Unpin takes a buffer and makes its array (b(T) -> T)");
  if (hlo_is_custom_call_to(in, "CreateBuffer") && (in->noperands != 0 || !r->is_buffer))
    return instr_error(in, "CreateBuffer takes no operands and makes a buffer (() -> b(T))");
  bool any = hlo_shape_has_buffer(r);
  for (int i = 0; i < in->noperands && !any; i++)
    any = hlo_shape_has_buffer(&in->operands[i]->shape);
  switch (in->op) {
  case HLO_OP_PARAMETER: case HLO_OP_TUPLE: case HLO_OP_GET_TUPLE_ELEMENT: case HLO_OP_WHILE:
  case HLO_OP_CALL: case HLO_OP_CONDITIONAL: case HLO_OP_OPT_BARRIER: case HLO_OP_CUSTOM_CALL:
    return NULL;
  default:
    if (!any) return NULL;
    return instr_error(in, "%s computes on a buffer (b(...)): only custom-calls (Pin, "
                       "Unpin, …), parameters, tuples and control flow carry buffers",
                       hlo_opcode_name(in->op));
  }
}

static HloError *check_instr(const Verify *v, const HloInstr *in) {
  const HloComputation *c = in->parent;
  if (hlo_opcode_kind(in->op) == HLO_KIND_REFUSED)
    return instr_error(in, "%s %s", hlo_opcode_name(in->op), hlo_opcode_refusal(in->op));
  if (hlo_shape_is_unbounded(&in->shape))
    return instr_error(in, "its shape has an unbounded dynamic dimension (?): hloc runs "
                           "static shapes and bounded dynamic ones (<=N)");
  if (in->op == HLO_OP_CONSTANT && in->literal_elided)
    return instr_error(in, "the constant's values were not printed ({...}); dump the HLO "
                           "with large constants printed");
  HloError *be = check_buffers(in);
  if (be) return be;
  int arity = hlo_opcode_arity(in->op);
  if (arity != HLO_ARITY_VARIADIC && in->noperands != arity)
    return instr_error(in, "%s: expects %d operand%s, has %d", hlo_opcode_name(in->op), arity,
                       arity == 1 ? "" : "s", in->noperands);
  for (int i = 0; i < in->noperands; i++) {
    const HloInstr *o = in->operands[i];
    if (!o) return instr_error(in, "operand %d is missing", i);
    if (!listed_in(v, o, c))
      return instr_error(in, "operand %d %%%s is not an instruction of this computation", i,
                         o->name);
  }
  for (int k = 0; k < in->nusers; k++) {
    const HloInstr *u = in->users[k];
    if (!u) return instr_error(in, "user %d is missing", k);
    if (!listed_in(v, u, c))
      return instr_error(in, "user %%%s is not an instruction of this computation", u->name);
  }
  for (int i = 0; i < in->ncalled; i++) {
    if (!in->called[i]) return instr_error(in, "called computation %d is missing", i);
    if (!in_module(v, in->called[i]))
      return instr_error(in, "calls computation '%s', which is not in the module",
                         in->called[i]->name);
  }
  return NULL;
}

/* A def-use edge; sorting by (user, operand) lets the edges seen from the
 * operand lists and from the user lists be compared in O(E log E), where
 * searching one list per edge of the other would be quadratic in fan-out. */
typedef struct Edge {
  const HloInstr *user, *operand;
} Edge;

static int edge_cmp(const void *pa, const void *pb) {
  const Edge *a = pa, *b = pb;
  if (a->user->id != b->user->id) return a->user->id < b->user->id ? -1 : 1;
  if (a->operand->id != b->operand->id) return a->operand->id < b->operand->id ? -1 : 1;
  return 0;
}

static int operand_index(const HloInstr *user, const HloInstr *op) {
  for (int i = 0; i < user->noperands; i++)
    if (user->operands[i] == op) return i;
  HLO_UNREACHABLE();
}

/* Every operand lists its user once, and every listed user uses it. */
static HloError *check_use_lists(const HloComputation *c) {
  size_t nuse = 0, nlisted = 0;
  for (const HloInstr *in = c->first; in; in = in->next) {
    nuse += (size_t)in->noperands;
    nlisted += (size_t)in->nusers;
  }
  Edge *uses = hlo_xmalloc(sizeof(Edge) * (nuse ? nuse : 1));
  Edge *listed = hlo_xmalloc(sizeof(Edge) * (nlisted ? nlisted : 1));
  size_t nu = 0, nl = 0;
  for (const HloInstr *in = c->first; in; in = in->next) {
    for (int i = 0; i < in->noperands; i++) uses[nu++] = (Edge){in, in->operands[i]};
    for (int k = 0; k < in->nusers; k++) listed[nl++] = (Edge){in->users[k], in};
  }
  qsort(uses, nu, sizeof(Edge), edge_cmp);
  qsort(listed, nl, sizeof(Edge), edge_cmp);
  HloError *e = NULL;
  size_t i = 0, k = 0;
  while (!e && (i < nu || k < nl)) {
    if (i > 0 && i < nu && !edge_cmp(&uses[i], &uses[i - 1])) { /* add(a, a) */
      i++;
      continue;
    }
    if (k > 0 && k < nl && !edge_cmp(&listed[k], &listed[k - 1])) {
      e = instr_error(listed[k].operand, "lists user %%%s twice", listed[k].user->name);
      break;
    }
    int cmp = i == nu ? 1 : k == nl ? -1 : edge_cmp(&uses[i], &listed[k]);
    if (cmp < 0)
      e = instr_error(uses[i].user, "operand %d %%%s does not list it as a user",
                      operand_index(uses[i].user, uses[i].operand), uses[i].operand->name);
    else if (cmp > 0)
      e = instr_error(listed[k].operand, "user %%%s does not use it", listed[k].user->name);
    i++;
    k++;
  }
  free(uses);
  free(listed);
  return e;
}

/* Depth-first search over operands, iterative so that long chains cannot
 * overflow the stack; an operand found on the stack closes a cycle. */
static HloError *check_acyclic(const HloComputation *c, uint8_t *state) {
  int count = 0;
  for (const HloInstr *in = c->first; in; in = in->next) count++;
  const HloInstr **stack = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(count ? count : 1));
  int *next = hlo_xmalloc(sizeof(int) * (size_t)(count ? count : 1));
  HloError *e = NULL;
  for (const HloInstr *start = c->first; start && !e; start = start->next) {
    if (state[start->id]) continue;
    int sp = 0;
    stack[sp] = start;
    next[sp++] = 0;
    state[start->id] = 1;
    while (sp && !e) {
      const HloInstr *x = stack[sp - 1];
      if (next[sp - 1] == x->noperands) {
        state[x->id] = 2;
        sp--;
        continue;
      }
      const HloInstr *o = x->operands[next[sp - 1]++];
      if (state[o->id] == 1) {
        e = instr_error(o, "is part of a cycle (through %%%s)", x->name);
      } else if (state[o->id] == 0) {
        state[o->id] = 1;
        stack[sp] = o;
        next[sp++] = 0;
      }
    }
  }
  free(stack);
  free(next);
  return e;
}

static HloError *check_computation(const Verify *v, const HloComputation *c, uint8_t *state) {
  if (!c->root) return hlo_error("verifier: computation '%s' has no root instruction", c->name);
  if (!listed_in(v, c->root, c))
    return hlo_error("verifier: computation '%s': root %%%s is not one of its instructions",
                     c->name, c->root->name);
  HloError *e = check_params(v, c);
  for (const HloInstr *in = c->first; in && !e; in = in->next) e = check_instr(v, in);
  if (!e) e = check_use_lists(c);
  if (!e) e = check_acyclic(c, state);
  return e;
}

/* Index of c in v->comps. */
static int comp_index(const Verify *v, const HloComputation *c) {
  for (int i = 0; i < v->ncomps; i++)
    if (v->comps[i] == c) return i;
  HLO_UNREACHABLE();
}

/* Recursion: a computation reachable from itself through called
 * computations (depth-first over the call graph, which is small). */
static HloError *check_call_graph(const Verify *v) {
  uint8_t *state = hlo_xcalloc((size_t)v->ncomps + 1, 1);
  typedef struct {
    int comp;
    const HloInstr *in;
    int called;
  } Frame;
  Frame *stack = hlo_xcalloc((size_t)v->ncomps + 1, sizeof(Frame));
  HloError *e = NULL;
  for (int s = 0; s < v->ncomps && !e; s++) {
    if (state[s]) continue;
    int sp = 0;
    stack[sp++] = (Frame){s, v->comps[s]->first, 0};
    state[s] = 1;
    while (sp && !e) {
      Frame *f = &stack[sp - 1];
      if (!f->in) {
        state[f->comp] = 2;
        sp--;
        continue;
      }
      if (f->called == f->in->ncalled) {
        f->in = f->in->next;
        f->called = 0;
        continue;
      }
      const HloInstr *caller = f->in;
      int k = comp_index(v, caller->called[f->called++]);
      if (state[k] == 1) {
        e = instr_error(caller, "calls '%s', which is already on the call stack "
                        "(recursion)", v->comps[k]->name);
      } else if (state[k] == 0) {
        state[k] = 1;
        stack[sp++] = (Frame){k, v->comps[k]->first, 0};
      }
    }
  }
  free(stack);
  free(state);
  return e;
}

static HloError *check_shape(const HloInstr *in) {
  HloShape inferred;
  HloError *e = hlo_infer_shape(in, &inferred);
  if (e) {
    /* hlo_infer_shape's message already starts with the instruction */
    HloError *w = hlo_error("verifier: computation '%s', instruction %s", in->parent->name,
                            hlo_error_message(e));
    hlo_error_free(e);
    return w;
  }
  if (!hlo_shape_equal(&in->shape, &inferred, false)) {
    char *want = hlo_shape_to_string(&inferred), *have = hlo_shape_to_string(&in->shape);
    e = instr_error(in, "shape %s differs from the inferred shape %s", have, want);
    free(want);
    free(have);
    return e;
  }
  if (in->op == HLO_OP_CONSTANT) {
    if (!in->literal) return instr_error(in, "constant has no literal");
    if (!hlo_shape_equal(&in->literal->shape, &in->shape, false)) {
      char *lit = hlo_shape_to_string(&in->literal->shape);
      e = instr_error(in, "literal shape %s differs from the instruction's shape", lit);
      free(lit);
      return e;
    }
  }
  return NULL;
}

/* Leaf k of shape s, flattened depth first (NULL past the end); *k counts
 * down the leaves passed. */
static const HloShape *flat_leaf(const HloShape *s, int *k) {
  if (!hlo_shape_is_tuple(s)) return (*k)-- == 0 ? s : NULL;
  for (int i = 0; i < s->ntuple; i++) {
    const HloShape *l = flat_leaf(&s->tuple[i], k);
    if (l) return l;
  }
  return NULL;
}

/* Each alias names an existing root leaf and parameter of equal array
 * shapes, and no leaf or parameter is aliased twice. */
static HloError *check_aliases(const HloModule *m) {
  const HloComputation *c = m->entry;
  for (int i = 0; i < m->nalias; i++) {
    const HloAlias *a = &m->alias[i];
    int k = a->result;
    const HloShape *r = c->root && a->result >= 0 ? flat_leaf(&c->root->shape, &k) : NULL;
    if (!r) return hlo_error("verifier: alias %d: the root has no result %d", i, a->result);
    if (a->param < 0 || a->param >= c->nparams)
      return hlo_error("verifier: alias %d: the entry has no parameter %d", i, a->param);
    if (!hlo_shape_equal(r, &c->params[a->param]->shape, false)) {
      char *x = hlo_shape_to_string(r), *y = hlo_shape_to_string(&c->params[a->param]->shape);
      HloError *e = hlo_error("verifier: alias %d: result %d is %s but parameter %d is %s", i,
                              a->result, x, a->param, y);
      free(x);
      free(y);
      return e;
    }
    for (int j = 0; j < i; j++)
      if (m->alias[j].result == a->result || m->alias[j].param == a->param)
        return hlo_error("verifier: aliases %d and %d share a result or a parameter", j, i);
  }
  return NULL;
}

HloError *hlo_verify(const HloModule *m) {
  if (!m->entry) return hlo_error("verifier: module '%s' has no entry computation", m->name);
  Verify v = {.nids = m->next_id};
  for (const HloComputation *c = m->first; c; c = c->next) v.ncomps++;
  v.comps = hlo_xmalloc(sizeof(HloComputation *) * (size_t)(v.ncomps ? v.ncomps : 1));
  v.owner = hlo_xcalloc((size_t)(v.nids ? v.nids : 1), sizeof(HloComputation *));
  uint8_t *state = hlo_xcalloc((size_t)(v.nids ? v.nids : 1), 1);
  int k = 0;
  for (const HloComputation *c = m->first; c; c = c->next) v.comps[k++] = c;

  HloError *e = NULL;
  if (!in_module(&v, m->entry))
    e = hlo_error("verifier: module '%s': entry computation '%s' is not in the module", m->name,
                  m->entry->name);
  if (!e) e = map_owners(&v);
  for (int i = 0; i < v.ncomps && !e; i++) e = check_computation(&v, v.comps[i], state);
  if (!e) e = check_call_graph(&v);
  for (int i = 0; i < v.ncomps && !e; i++)
    for (const HloInstr *in = v.comps[i]->first; in && !e; in = in->next) e = check_shape(in);
  if (!e) e = check_aliases(m);

  free(state);
  free(v.owner);
  free(v.comps);
  return e;
}
