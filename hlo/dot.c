/*
 * dot.c — an HLO module as a Graphviz graph (the DOT language), for
 * `hloc dump --stage dot|svg|png`.
 *
 * The graph is the entry computation's dataflow, one node per instruction.
 * A fusion is drawn as what it is made of: a cluster (subgraph cluster_…)
 * holding its fused computation's instructions, so the picture shows what
 * the fusion passes put together and what stays outside.  Edges run from
 * operand to user and carry the shape of the value; an edge into a fusion
 * enters the fused parameter that receives the value, an edge out of one
 * leaves the fused root.  Computations that control flow runs (while,
 * conditional, call) are clusters of their own, each drawn once, entered
 * by a dashed edge from the instruction that runs them; computations
 * applied to scalars (a reduce's to_apply, a sort's comparator) are named
 * in the label instead, by their root's opcode when that says it all.
 *
 * A large model drawn that way is a picture nobody can read (ResNet-50:
 * thousands of nodes, a 32767-pixel-wide image): above a size the caller
 * chooses, each fusion is one box instead, labelled with its kind, how many
 * instructions it holds and which (contractions and reductions first),
 * and the TF node of its root; the caller may still expand some by name.
 *
 * A node's label is the instruction's name, its opcode with the
 * attributes that tell such instructions apart, and the TensorFlow node it
 * was lowered from (metadata op_name), which is how a user finds their
 * layer in the graph.  Node identifiers are the instructions' ids, unique
 * in the module; the output is deterministic (list order throughout).
 */
#include <stdlib.h>
#include <string.h>

#include "hlo.h"

typedef struct Dot {
  const HloDotOptions *o; /* NULL: expand every fusion */
  bool collapse;          /* fusions are boxes unless o->expand names them */
  HloStr nodes;  /* node and cluster statements, nested */
  HloStr edges;  /* edge statements, after all the nodes */
  const HloComputation **drawn; /* control-flow computations already drawn */
  int ndrawn, drawn_cap;
} Dot;

/* Text inside a double-quoted DOT string. */
static void put_escaped(HloStr *out, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') hlo_str_append(out, "\\", 1);
    if (*s == '\n') hlo_str_append(out, "\\n", 2);
    else hlo_str_append(out, s, 1);
  }
}

/* f32[2,3] (no layout: labels are for people), tuples as (a, b). */
static void put_shape(HloStr *out, const HloShape *s) { hlo_shape_print_as(out, s, false); }

static void put_dims(HloStr *out, const HloDims *d) {
  hlo_str_append(out, " {", 2);
  for (int i = 0; i < d->n; i++) hlo_str_printf(out, i ? ",%lld" : "%lld", (long long)d->v[i]);
  hlo_str_append(out, "}", 1);
}

/* "add" for a computation (x, y) -> add(x, y), else its name. */
static const char *applied_name(const HloComputation *c) {
  const HloInstr *r = c->root;
  bool of_params = r->noperands == 2 && r->operands[0]->op == HLO_OP_PARAMETER &&
                   r->operands[1]->op == HLO_OP_PARAMETER;
  return of_params ? hlo_opcode_name(r->op) : c->name;
}

/* The opcode line of a label, with what tells such instructions apart. */
static void put_opcode(HloStr *out, const HloInstr *in) {
  static const char *const dirs[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
  hlo_str_printf(out, "%s", hlo_opcode_name(in->op));
  switch (in->op) {
  case HLO_OP_PARAMETER:
    hlo_str_printf(out, " %lld", (long long)in->parameter_number);
    break;
  case HLO_OP_GET_TUPLE_ELEMENT:
    hlo_str_printf(out, " %lld", (long long)in->tuple_index);
    break;
  case HLO_OP_CONSTANT:
    if (in->shape.type != HLO_TUPLE && in->shape.rank == 0 && in->literal)
      hlo_str_printf(out, " %g", hlo_literal_get_f64(in->literal, 0));
    break;
  case HLO_OP_COMPARE:
    hlo_str_printf(out, " %s", dirs[in->direction]);
    break;
  case HLO_OP_BROADCAST: case HLO_OP_TRANSPOSE: case HLO_OP_REDUCE: case HLO_OP_REVERSE:
  case HLO_OP_CONCATENATE:
    put_dims(out, &in->dimensions);
    break;
  case HLO_OP_CUSTOM_CALL:
    if (in->custom_call_target) hlo_str_printf(out, " %s", in->custom_call_target);
    break;
  default:
    break;
  }
  if (hlo_opcode_kind(in->op) == HLO_KIND_REDUCTION || in->op == HLO_OP_SCATTER)
    if (in->ncalled > 0) hlo_str_printf(out, " (%s)", applied_name(in->called[0]));
}

/* Fill colours by what an instruction costs: contractions stand out,
 * reductions next; leaves are quiet. */
static const char *fill_of(const HloInstr *in) {
  switch (hlo_opcode_kind(in->op)) {
  case HLO_KIND_LEAF: return in->op == HLO_OP_PARAMETER ? "#d9ead3" : "#eeeeee";
  case HLO_KIND_CONTRACT: return "#f9cb9c";
  case HLO_KIND_REDUCTION: return "#cfe2f3";
  case HLO_KIND_CONTROL: return "#d9d2e9";
  default: return "#ffffff";
  }
}

/* `result`: whether the node computes the entry's result. */
static void put_node(Dot *d, const HloInstr *in, bool result) {
  HloStr *o = &d->nodes;
  bool root = in == in->parent->root;
  hlo_str_printf(o, "n%lld [label=\"", (long long)in->id);
  /* "constant" over "constant" says nothing twice */
  if (strcmp(in->name, hlo_opcode_name(in->op))) {
    put_escaped(o, in->name);
    hlo_str_append(o, "\\n", 2);
  }
  HloStr op = {0};
  put_opcode(&op, in);
  put_escaped(o, op.buf);
  free(op.buf);
  if (in->metadata.op_name && *in->metadata.op_name) {
    hlo_str_append(o, "\\n", 2);
    put_escaped(o, in->metadata.op_name);
  }
  /* no edge leaves the result: its shape goes in the label */
  if (result) {
    hlo_str_append(o, "\\n-> ", 5);
    HloStr sh = {0};
    put_shape(&sh, &in->shape);
    put_escaped(o, sh.buf);
    free(sh.buf);
  }
  hlo_str_printf(o, "\" fillcolor=\"%s\"%s];\n", fill_of(in), root ? " penwidth=2" : "");
}

static const char *fusion_kind_name(HloFusionKind k) {
  static const char *const names[] = {"kLoop", "kInput", "kOutput", "kCustom"};
  return names[k];
}

/* Whether fusion `in` is drawn as one box. */
static bool collapsed(const Dot *d, const HloInstr *in) {
  if (!d->collapse) return false;
  for (int i = 0; i < d->o->nexpand; i++)
    if (!strcmp(d->o->expand[i], in->name)) return false;
  return true;
}

/* The node a value leaves from: an expanded fusion's value leaves its
 * fused root. */
static const HloInstr *source_of(const Dot *d, const HloInstr *in) {
  while (in->op == HLO_OP_FUSION && !collapsed(d, in)) in = in->called[0]->root;
  return in;
}

/* A collapsed fusion's box: its name and kind, what it holds, the TF node
 * of its root. */
static void put_fusion_box(Dot *d, const HloInstr *in, bool result) {
  const HloComputation *f = in->called[0];
  HloStr *o = &d->nodes, label = {0};
  int count = 0;
  for (const HloInstr *x = f->first; x; x = x->next) count += x->op != HLO_OP_PARAMETER;
  hlo_str_printf(&label, "%s\nfusion %s, %d op%s:", in->name, fusion_kind_name(in->fusion_kind),
                 count, count == 1 ? "" : "s");
  /* the costly opcodes first, each named once, at most five */
  int named = 0;
  for (int pass = 0; pass < 2; pass++)
    for (const HloInstr *x = f->first; x && named < 5; x = x->next) {
      HloOpKind k = hlo_opcode_kind(x->op);
      bool costly = k == HLO_KIND_CONTRACT || k == HLO_KIND_REDUCTION;
      if (x->op == HLO_OP_PARAMETER || costly != !pass) continue;
      bool seen = false;
      for (const HloInstr *y = f->first; y != x && !seen; y = y->next) seen = y->op == x->op;
      if (seen) continue;
      hlo_str_printf(&label, " %s", hlo_opcode_name(x->op));
      named++;
    }
  const char *tf = f->root->metadata.op_name;
  if (tf && *tf) hlo_str_printf(&label, "\n%s", tf);
  if (result) {
    hlo_str_printf(&label, "\n-> ");
    put_shape(&label, &in->shape);
  }
  hlo_str_printf(o, "n%lld [label=\"", (long long)in->id);
  put_escaped(o, label.buf);
  hlo_str_printf(o, "\" fillcolor=\"#fff2cc\" color=\"#bf9000\"%s];\n",
                 in == in->parent->root ? " penwidth=2" : "");
  free(label.buf);
}

/* The edge carrying operand `from` to `to` (the user, or the fused
 * parameter that receives it); `user` is the instruction that reads it. */
static void put_edge(Dot *d, const HloInstr *from, const HloInstr *to, const HloInstr *user) {
  const HloInstr *src = source_of(d, from);
  hlo_str_printf(&d->edges, "n%lld -> n%lld [label=\"", (long long)src->id, (long long)to->id);
  HloStr sh = {0};
  /* what flows into a get-tuple-element is the one element it takes */
  put_shape(&sh, user->op == HLO_OP_GET_TUPLE_ELEMENT ? &user->shape : &from->shape);
  put_escaped(&d->edges, sh.buf);
  free(sh.buf);
  hlo_str_append(&d->edges, "\"];\n", 4);
}

static void put_computation(Dot *d, const HloComputation *c, bool result);

/* A cluster named after `key`, labelled `title`, holding c. */
static void put_cluster(Dot *d, const char *key, const char *title, const char *style,
                        const HloComputation *c, bool result) {
  hlo_str_append(&d->nodes, "subgraph \"cluster_", 18);
  put_escaped(&d->nodes, key);
  hlo_str_append(&d->nodes, "\" {\nlabel=\"", 11);
  put_escaped(&d->nodes, title);
  hlo_str_printf(&d->nodes, "\";\n%s\n", style);
  put_computation(d, c, result);
  hlo_str_append(&d->nodes, "}\n", 2);
}

static bool drawn(Dot *d, const HloComputation *c) {
  for (int i = 0; i < d->ndrawn; i++)
    if (d->drawn[i] == c) return true;
  if (d->ndrawn == d->drawn_cap) {
    d->drawn_cap = d->drawn_cap ? 2 * d->drawn_cap : 8;
    d->drawn = hlo_xrealloc(d->drawn, (size_t)d->drawn_cap * sizeof *d->drawn);
  }
  d->drawn[d->ndrawn++] = c;
  return false;
}

/* The dashed edge from a control-flow instruction into the computation it
 * runs: to its first parameter, which receives the instruction's operand. */
static void put_control_edge(Dot *d, const HloInstr *in, const HloComputation *c,
                             const char *role) {
  const HloInstr *to = c->nparams ? c->params[0] : c->root;
  hlo_str_printf(&d->edges, "n%lld -> n%lld [label=\"%s\" style=dashed];\n", (long long)in->id,
                 (long long)to->id, role);
}


/* The clusters of the computations a control-flow instruction runs. */
static void put_callees(Dot *d, const HloInstr *in) {
  for (int k = 0; k < in->ncalled; k++) {
    const HloComputation *c = in->called[k];
    char role[64];
    if (in->op == HLO_OP_WHILE) snprintf(role, sizeof role, k ? "body" : "condition");
    else if (in->op == HLO_OP_CALL) snprintf(role, sizeof role, "call");
    else if (in->ncalled == 2 && in->operands[0]->shape.type == HLO_PRED)
      snprintf(role, sizeof role, k ? "false" : "true");
    else snprintf(role, sizeof role, "branch %d", k);
    put_control_edge(d, in, c, role);
    if (drawn(d, c)) continue;
    HloStr title = {0};
    hlo_str_printf(&title, "%s: %s of %s", c->name, role, in->name);
    put_cluster(d, c->name, title.buf, "style=dashed; color=\"#674ea7\";", c, false);
    free(title.buf);
  }
}

/* `result`: whether c's root computes the entry's result. */
static void put_computation(Dot *d, const HloComputation *c, bool result) {
  for (const HloInstr *in = c->first; in; in = in->next) {
    bool is_result = result && in == c->root;
    if (in->op == HLO_OP_FUSION && collapsed(d, in)) {
      put_fusion_box(d, in, is_result);
      for (int k = 0; k < in->noperands; k++) put_edge(d, in->operands[k], in, in);
      continue;
    }
    if (in->op == HLO_OP_FUSION) {
      const HloComputation *f = in->called[0];
      HloStr title = {0};
      hlo_str_printf(&title, "%s (%s)", in->name, fusion_kind_name(in->fusion_kind));
      put_cluster(d, in->name, title.buf,
                  "style=\"rounded,filled\"; fillcolor=\"#fff2cc\"; color=\"#bf9000\";", f,
                  is_result);
      free(title.buf);
      for (int k = 0; k < in->noperands; k++) put_edge(d, in->operands[k], f->params[k], in);
      continue;
    }
    put_node(d, in, is_result);
    for (int k = 0; k < in->noperands; k++) put_edge(d, in->operands[k], in, in);
    if (in->op == HLO_OP_WHILE || in->op == HLO_OP_CONDITIONAL || in->op == HLO_OP_CALL)
      put_callees(d, in);
  }
}

/* Instructions of c and of everything it calls, fused ones included. */
static int64_t size_of(const HloComputation *c, int depth) {
  int64_t n = 0;
  for (const HloInstr *in = c->first; in; in = in->next) {
    n++;
    for (int k = 0; k < in->ncalled && depth < 32; k++) n += size_of(in->called[k], depth + 1);
  }
  return n;
}

char *hlo_module_to_dot(const HloModule *m, const HloDotOptions *o) {
  Dot d = {.o = o};
  d.collapse = o && o->collapse_above > 0 && size_of(m->entry, 0) > o->collapse_above;
  put_computation(&d, m->entry, true);
  HloStr out = {0};
  hlo_str_append(&out, "digraph \"", 9);
  put_escaped(&out, m->name);
  hlo_str_append(&out, "\" {\nlabel=\"HloModule ", 21);
  put_escaped(&out, m->name);
  hlo_str_printf(&out, "\"; labelloc=t; fontname=\"Helvetica\";\n"
                       "node [shape=box style=\"rounded,filled\" fontname=\"Helvetica\" "
                       "fontsize=10];\n"
                       "edge [fontname=\"Helvetica\" fontsize=8];\n");
  if (d.nodes.buf) hlo_str_append(&out, d.nodes.buf, d.nodes.len);
  if (d.edges.buf) hlo_str_append(&out, d.edges.buf, d.edges.len);
  hlo_str_append(&out, "}\n", 2);
  free(d.nodes.buf);
  free(d.edges.buf);
  free(d.drawn);
  return hlo_str_take(&out);
}
