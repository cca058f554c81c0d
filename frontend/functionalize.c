/*
 * functionalize.c — TensorFlow 1 control flow (Switch, Merge, Enter, Exit,
 * NextIteration, LoopCond and their Ref twins) rewritten as functional
 * While and If nodes, whose cond, body and branches become new functions
 * of the GraphDef's library.  The graph view and the lowering only know
 * the functional forms; graphs built with tf.compat.v1 control flow, and
 * TF2 graphs frozen with lower_control_flow=True, hold the dataflow ones.
 *
 * The rewrite works on the protobuf GraphDef in place, before the view is
 * built, in two stages that each repeat until nothing is left to do (and
 * alternate, see below):
 *
 *  1. Conds.  Every node gets a branch state: the set of (predicate, side)
 *     pairs it depends on, found by propagating from the conds' Switches
 *     (output 0: the false side, 1: the true side) along data and control
 *     edges, through loops but not along their back edges; a Merge drops the one predicate on which its two
 *     inputs disagree, and that predicate is the Merge's.  The deepest
 *     Merges are converted first, grouped with the others of the same
 *     predicate and state that share a Switch: each group becomes one If
 *     whose branches are the nodes of each side that lead to the Merges'
 *     inputs.  Switches become the If's inputs (their data input), so do
 *     values from outside the cond that a branch reads directly; constants
 *     without inputs are copied instead.
 *  2. Loops.  Frames are found as TensorFlow's executor finds them: a
 *     breadth-first walk from the sources in which an Enter starts the
 *     frame its frame_name names and an Exit returns to the parent.  The
 *     innermost frames go first.  A frame's loop variables are its Enters,
 *     in graph order: a variable Enter feeds a Merge that also reads a
 *     NextIteration; the Merge feeds a Switch on the frame's LoopCond,
 *     whose output 0 leaves through Exits and whose output 1 feeds the
 *     body; a constant Enter (is_constant) is an invariant that the body
 *     returns unchanged.  The cond function computes LoopCond's input from
 *     the Merges, the body function the NextIteration inputs from the
 *     Switches' true outputs; the While node reads the Enters' inputs.
 *
 * Merges and Exits stay in the graph as Identity nodes reading the new If
 * or While, so that configs fetching them by name keep working.  Every
 * other node of a converted cond or frame is removed at the end of its
 * stage, as are nodes outside that read into one (they are dead: TensorFlow
 * would never run them either); control inputs naming removed nodes are
 * dropped.  Nodes are copied into functions without their control inputs:
 * compiled code has no side effects to order.  Merges and Exits that do
 * not have the shape of a cond or a loop are errors naming the nodes;
 * what no Merge or Exit leads to stays as it is, for the view to report
 * (a NextIteration cycle without an Enter is the view's cycle error).
 *
 * Conds and loops nest both ways (a cond in a loop's body, a loop in a
 * cond's branch), so the two stages alternate: a cond whose branch still
 * holds a loop waits for the loops stage, and a loop whose body still holds
 * a cond (or an inner loop that does) waits for the next conds stage.  The
 * branch states flow through loops, so a loop inside a branch belongs to
 * it, and once converted its While is an ordinary node of the branch.
 * When a pass converts nothing, one more pass without waiting reports the
 * structure that cannot be converted.
 *
 * New messages are allocated as protobuf-c's unpack allocates them (one
 * malloc per message, string and array), so tensorflow__graph_def__free_
 * unpacked frees them with the rest.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

typedef enum Kind {
  K_OTHER,
  K_ENTER,
  K_EXIT,
  K_NEXT,
  K_LOOPCOND,
  K_SWITCH,
  K_MERGE,
} Kind;

/* One input of a node: a tensor (port >= 0) or a control edge (port -1);
 * node -1 when the name is unknown (the graph view reports it). */
typedef struct Ref {
  int node, port;
} Ref;

/* One reader of a node's output: node `user` reads it as input `slot`. */
typedef struct Use {
  int user, slot;
} Use;

/* A loop frame (index 0: the root, outside every loop). */
typedef struct Frame {
  char *name;       /* the Enters' frame_name (malloc'd) */
  int parent, depth;
} Frame;

/* The working state.  The index (names, inputs, users) is rebuilt from
 * gd->node after each rewrite; `gone` and `frame` persist (nodes are only
 * appended until a stage ends). */
typedef struct Fz {
  Tensorflow__GraphDef *gd;
  int n;           /* nodes indexed */
  size_t mask;     /* name table: size - 1 */
  int *slots;      /* node index + 1; 0: empty */
  Kind *kind;
  int *nin;        /* inputs (data and control) per node */
  Ref **in;
  int *ustart;     /* users of node i: use[ustart[i] .. ustart[i+1]) */
  Use *use;
  int cap;         /* allocated length of the persistent arrays */
  bool *gone;      /* absorbed into a function: removed at the stage end */
  int *frame;      /* loops stage: the node's frame, -1 unknown */
  int nframes;
  Frame *frames;
  int *mark;       /* per node: the epoch of the last walk that saw it */
  int epoch;
} Fz;

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(hlo_xmalloc(n), s, n);
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = hlo_xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* Appends p to a protobuf-c repeated field (a malloc'd array and count). */
#define PUSH(arr, count, p)                                                  \
  do {                                                                       \
    (arr) = hlo_xrealloc((arr), sizeof *(arr) * ((count) + 1));              \
    (arr)[(count)++] = (p);                                                  \
  } while (0)

static const Tensorflow__AttrValue *attr(const Tensorflow__NodeDef *d, const char *key) {
  for (size_t i = 0; i < d->n_attr; i++)
    if (!strcmp(d->attr[i]->key, key)) return d->attr[i]->value;
  return NULL;
}

static Tensorflow__DataType attr_type(const Tensorflow__NodeDef *d, const char *key) {
  const Tensorflow__AttrValue *v = attr(d, key);
  if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_TYPE) return 0;
  /* A _REF type is its base type plus 100. */
  return v->type > 100 ? v->type - 100 : v->type;
}

static Tensorflow__AttrValue *attr_new(void) {
  Tensorflow__AttrValue *v = hlo_xmalloc(sizeof *v);
  tensorflow__attr_value__init(v);
  return v;
}

static void add_attr(Tensorflow__NodeDef *d, const char *key, Tensorflow__AttrValue *v) {
  Tensorflow__NodeDef__AttrEntry *a = hlo_xmalloc(sizeof *a);
  tensorflow__node_def__attr_entry__init(a);
  a->key = xstrdup(key);
  a->value = v;
  PUSH(d->attr, d->n_attr, a);
}

static void add_type_attr(Tensorflow__NodeDef *d, const char *key, Tensorflow__DataType t) {
  Tensorflow__AttrValue *v = attr_new();
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
  v->type = t;
  add_attr(d, key, v);
}

static void add_types_attr(Tensorflow__NodeDef *d, const char *key,
                           const Tensorflow__DataType *t, int n) {
  Tensorflow__AttrValue *v = attr_new();
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
  v->list = hlo_xmalloc(sizeof *v->list);
  tensorflow__attr_value__list_value__init(v->list);
  v->list->n_type = (size_t)n;
  v->list->type = hlo_xmalloc(sizeof(Tensorflow__DataType) * ((size_t)n + 1));
  memcpy(v->list->type, t, sizeof(Tensorflow__DataType) * (size_t)n);
  add_attr(d, key, v);
}

static void add_func_attr(Tensorflow__NodeDef *d, const char *key, const char *fname) {
  Tensorflow__AttrValue *v = attr_new();
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_FUNC;
  v->func = hlo_xmalloc(sizeof *v->func);
  tensorflow__name_attr_list__init(v->func);
  v->func->name = xstrdup(fname);
  add_attr(d, key, v);
}

static void add_int_attr(Tensorflow__NodeDef *d, const char *key, int64_t i) {
  Tensorflow__AttrValue *v = attr_new();
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
  v->i = i;
  add_attr(d, key, v);
}

static Tensorflow__NodeDef *node_new(const char *name, const char *op) {
  Tensorflow__NodeDef *d = hlo_xmalloc(sizeof *d);
  tensorflow__node_def__init(d);
  d->name = xstrdup(name);
  d->op = xstrdup(op);
  return d;
}

/* A deep copy, through the wire format. */
static Tensorflow__NodeDef *node_copy(const Tensorflow__NodeDef *d) {
  size_t n = tensorflow__node_def__get_packed_size(d);
  uint8_t *buf = hlo_xmalloc(n + 1);
  tensorflow__node_def__pack(d, buf);
  Tensorflow__NodeDef *c = tensorflow__node_def__unpack(NULL, n, buf);
  free(buf);
  HLO_CHECK(c != NULL);
  return c;
}

static void clear_inputs(Tensorflow__NodeDef *d) {
  for (size_t i = 0; i < d->n_input; i++) free(d->input[i]);
  d->n_input = 0;
}

/* Turns a Merge or an Exit into Identity(input), keeping only attr T. */
static void make_identity(Tensorflow__NodeDef *d, char *input) {
  free(d->op);
  d->op = xstrdup("Identity");
  clear_inputs(d);
  PUSH(d->input, d->n_input, input);
  size_t k = 0;
  for (size_t i = 0; i < d->n_attr; i++) {
    if (!strcmp(d->attr[i]->key, "T"))
      d->attr[k++] = d->attr[i];
    else
      protobuf_c_message_free_unpacked(&d->attr[i]->base, NULL);
  }
  d->n_attr = k;
}

static Tensorflow__OpDef__ArgDef *arg_new(const char *name, Tensorflow__DataType t) {
  Tensorflow__OpDef__ArgDef *a = hlo_xmalloc(sizeof *a);
  tensorflow__op_def__arg_def__init(a);
  a->name = xstrdup(name);
  a->type = t;
  return a;
}

static bool has_function(const Tensorflow__GraphDef *gd, const char *name) {
  for (size_t i = 0; gd->library && i < gd->library->n_function; i++)
    if (!strcmp(gd->library->function[i]->signature->name, name)) return true;
  return false;
}

/* Characters TensorFlow does not take in op names become '_'. */
static char *op_name(char *s) {
  for (char *p = s; *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
        *p != '_')
      *p = '_';
  return s;
}

/* A function name made of base and what, not yet in the library. */
static char *function_name(const Tensorflow__GraphDef *gd, const char *base, const char *what) {
  char *s = op_name(xprintf("%s_%s", base, what));
  for (int k = 1; has_function(gd, s); k++) {
    free(s);
    s = op_name(xprintf("%s_%s_%d", base, what, k));
  }
  return s;
}

static void add_function(Tensorflow__GraphDef *gd, Tensorflow__FunctionDef *f) {
  if (!gd->library) {
    gd->library = hlo_xmalloc(sizeof *gd->library);
    tensorflow__function_def_library__init(gd->library);
  }
  PUSH(gd->library->function, gd->library->n_function, f);
}

static bool has_node(const Tensorflow__GraphDef *gd, const char *name) {
  for (size_t i = 0; i < gd->n_node; i++)
    if (!strcmp(gd->node[i]->name, name)) return true;
  return false;
}

static char *node_name(const Tensorflow__GraphDef *gd, const char *base) {
  char *s = xstrdup(base);
  for (int k = 1; has_node(gd, s); k++) {
    free(s);
    s = xprintf("%s_%d", base, k);
  }
  return s;
}

/* ------------------------------------------------------------------------ */
/* The index                                                                 */
/* ------------------------------------------------------------------------ */

static Kind kind_of(const char *op) {
  static const struct { const char *op; Kind k; } t[] = {
      {"Enter", K_ENTER},   {"RefEnter", K_ENTER},        {"Exit", K_EXIT},
      {"RefExit", K_EXIT},  {"NextIteration", K_NEXT},    {"RefNextIteration", K_NEXT},
      {"LoopCond", K_LOOPCOND}, {"Switch", K_SWITCH},     {"RefSwitch", K_SWITCH},
      {"Merge", K_MERGE},   {"RefMerge", K_MERGE}};
  for (size_t i = 0; i < sizeof t / sizeof *t; i++)
    if (!strcmp(op, t[i].op)) return t[i].k;
  return K_OTHER;
}

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
  return h;
}

static int lookup(const Fz *z, const char *name, size_t n) {
  for (size_t i = hash(name, n) & z->mask;; i = (i + 1) & z->mask) {
    int id = z->slots[i] - 1;
    if (id < 0) return -1;
    const char *s = z->gd->node[id]->name;
    if (strlen(s) == n && !memcmp(s, name, n)) return id;
  }
}

/* "a", "a:K" or "^a". */
static Ref parse_ref(const Fz *z, const char *s) {
  if (s[0] == '^') return (Ref){lookup(z, s + 1, strlen(s + 1)), -1};
  const char *c = strrchr(s, ':');
  if (!c) return (Ref){lookup(z, s, strlen(s)), 0};
  int k = atoi(c + 1);
  return (Ref){lookup(z, s, (size_t)(c - s)), k};
}

static void index_free(Fz *z) {
  for (int i = 0; i < z->n; i++) free(z->in[i]);
  free(z->slots);
  free(z->kind);
  free(z->nin);
  free(z->in);
  free(z->ustart);
  free(z->use);
  z->slots = NULL, z->kind = NULL, z->nin = NULL, z->in = NULL;
  z->ustart = NULL, z->use = NULL;
}

static void index_build(Fz *z) {
  index_free(z);
  int n = z->n = (int)z->gd->n_node;
  if (n > z->cap) {
    int cap = n * 2 + 16;
    z->gone = hlo_xrealloc(z->gone, sizeof(bool) * (size_t)cap);
    z->frame = hlo_xrealloc(z->frame, sizeof(int) * (size_t)cap);
    z->mark = hlo_xrealloc(z->mark, sizeof(int) * (size_t)cap);
    for (int i = z->cap; i < cap; i++) z->gone[i] = false, z->frame[i] = -1, z->mark[i] = 0;
    z->cap = cap;
  }
  size_t size = 16;
  while (size < 2 * (size_t)n) size *= 2;
  z->mask = size - 1;
  z->slots = hlo_xcalloc(size, sizeof(int));
  for (int i = 0; i < n; i++) {
    const char *s = z->gd->node[i]->name;
    size_t j = hash(s, strlen(s)) & z->mask;
    while (z->slots[j]) {
      if (!strcmp(z->gd->node[z->slots[j] - 1]->name, s)) break; /* duplicate: the view's */
      j = (j + 1) & z->mask;
    }
    if (!z->slots[j]) z->slots[j] = i + 1;
  }
  z->kind = hlo_xmalloc(sizeof(Kind) * ((size_t)n + 1));
  z->nin = hlo_xcalloc((size_t)n + 1, sizeof(int));
  z->in = hlo_xcalloc((size_t)n + 1, sizeof(Ref *));
  z->ustart = hlo_xcalloc((size_t)n + 2, sizeof(int));
  for (int i = 0; i < n; i++) {
    const Tensorflow__NodeDef *d = z->gd->node[i];
    z->kind[i] = kind_of(d->op);
    z->nin[i] = (int)d->n_input;
    z->in[i] = hlo_xmalloc(sizeof(Ref) * (d->n_input + 1));
    for (size_t k = 0; k < d->n_input; k++) {
      Ref r = z->in[i][k] = parse_ref(z, d->input[k]);
      if (r.node >= 0) z->ustart[r.node + 1]++;
    }
  }
  for (int i = 0; i < n; i++) z->ustart[i + 1] += z->ustart[i];
  z->use = hlo_xmalloc(sizeof(Use) * ((size_t)z->ustart[n] + 1));
  int *fill = hlo_xmalloc(sizeof(int) * ((size_t)n + 1));
  memcpy(fill, z->ustart, sizeof(int) * (size_t)n);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < z->nin[i]; k++)
      if (z->in[i][k].node >= 0) z->use[fill[z->in[i][k].node]++] = (Use){i, k};
  free(fill);
}

static const char *name(const Fz *z, int i) { return z->gd->node[i]->name; }
static const char *op(const Fz *z, int i) { return z->gd->node[i]->op; }

/* The data inputs of node i: its first inputs, before the control ones. */
static int ndata(const Fz *z, int i) {
  int k = 0;
  while (k < z->nin[i] && z->in[i][k].port >= 0) k++;
  return k;
}

/* "node" or "node:K" (malloc'd). */
static char *tensor_name(const Fz *z, Ref r) {
  return r.port ? xprintf("%s:%d", name(z, r.node), r.port) : xstrdup(name(z, r.node));
}

/* The type of output `port` of node i where the op or its attrs tell
 * without an op registry; 0 when they do not. */
static Tensorflow__DataType output_type(const Fz *z, int i, int port) {
  const Tensorflow__NodeDef *d = z->gd->node[i];
  static const char *const bools[] = {
      "Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd",
      "LogicalOr", "LogicalNot", "IsNan", "IsInf", "IsFinite", "LoopCond", "All", "Any"};
  for (size_t k = 0; k < sizeof bools / sizeof *bools; k++)
    if (!strcmp(d->op, bools[k])) return TENSORFLOW__DATA_TYPE__DT_BOOL;
  if (z->kind[i] == K_MERGE && port == 1) return TENSORFLOW__DATA_TYPE__DT_INT32;
  static const char *const lists[][2] = {{"While", "T"}, {"If", "Tout"}, {"IdentityN", "T"}};
  for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
    if (!strcmp(d->op, lists[k][0])) {
      const Tensorflow__AttrValue *v = attr(d, lists[k][1]);
      if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && (size_t)port < v->list->n_type)
        return v->list->type[port];
      return 0;
    }
  static const char *const keys[] = {"dtype", "DstT", "out_type", "output_type", "T"};
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
    Tensorflow__DataType t = attr_type(d, keys[k]);
    if (t) return t;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Functions                                                                 */
/* ------------------------------------------------------------------------ */

/* A function being built: what its arguments stand for and which nodes it
 * holds (copied from the main graph). */
typedef struct Body {
  Fz *z;
  int nargs;
  Ref *argref;                /* the main-graph tensor each argument replaces */
  Tensorflow__DataType *argtype;
  int nnodes;
  int *nodes;                 /* main-graph indices, in graph order at the end */
  int epoch;                  /* z->mark of the nodes in `nodes` */
  Ref (*canon)(void *ctx, Ref r); /* the argument a tensor reads: several
                                   * tensors may stand for one (a loop
                                   * variable's Merge and Switch) */
  void *ctx;
} Body;

static int body_arg(Body *b, Ref r, Tensorflow__DataType t) {
  for (int k = 0; k < b->nargs; k++)
    if (b->argref[k].node == r.node && b->argref[k].port == r.port) return k;
  b->argref = hlo_xrealloc(b->argref, sizeof(Ref) * ((size_t)b->nargs + 1));
  b->argtype = hlo_xrealloc(b->argtype, sizeof(Tensorflow__DataType) * ((size_t)b->nargs + 1));
  b->argref[b->nargs] = r;
  b->argtype[b->nargs] = t;
  return b->nargs++;
}

static void body_free(Body *b) {
  free(b->argref);
  free(b->argtype);
  free(b->nodes);
}

static int cmp_int(const void *a, const void *b) {
  return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Argument k's name, chosen so that no node of the body has it. */
static char *arg_name(const Body *b, int k) {
  char *s = xprintf("arg%d", k);
  for (;;) {
    bool clash = false;
    for (int i = 0; i < b->nnodes && !clash; i++) clash = !strcmp(name(b->z, b->nodes[i]), s);
    if (!clash) return s;
    char *t = xprintf("%s_", s);
    free(s);
    s = t;
  }
}

/* How a function refers to main-graph tensor r: an argument's name, or the
 * copied node's output. */
static char *body_ref(const Body *b, char *const *argnames, Ref r) {
  Ref c = b->canon(b->ctx, r);
  for (int k = 0; k < b->nargs; k++)
    if (b->argref[k].node == c.node && b->argref[k].port == c.port) return xstrdup(argnames[k]);
  return tensor_name(b->z, r);
}

/* Builds function `fname` from b: its arguments, copies of b's nodes
 * (inputs renamed, control inputs dropped) and results[k] as result k,
 * of type types[k]; adds it to the library. */
static void emit_function(Body *b, const char *fname, const Ref *results,
                          const Tensorflow__DataType *types, int nresults) {
  Fz *z = b->z;
  if (b->nnodes) qsort(b->nodes, (size_t)b->nnodes, sizeof(int), cmp_int); /* NULL when none */
  Tensorflow__FunctionDef *f = hlo_xmalloc(sizeof *f);
  tensorflow__function_def__init(f);
  f->signature = hlo_xmalloc(sizeof *f->signature);
  tensorflow__op_def__init(f->signature);
  f->signature->name = xstrdup(fname);
  char **argnames = hlo_xcalloc((size_t)b->nargs + 1, sizeof(char *));
  for (int k = 0; k < b->nargs; k++) {
    argnames[k] = arg_name(b, k);
    PUSH(f->signature->input_arg, f->signature->n_input_arg,
         arg_new(argnames[k], b->argtype[k]));
  }
  for (int j = 0; j < b->nnodes; j++) {
    int i = b->nodes[j];
    Tensorflow__NodeDef *c = node_copy(z->gd->node[i]);
    clear_inputs(c);
    for (int k = 0; k < ndata(z, i); k++) PUSH(c->input, c->n_input, body_ref(b, argnames, z->in[i][k]));
    PUSH(f->node_def, f->n_node_def, c);
  }
  for (int k = 0; k < nresults; k++) {
    char *rname = xprintf("out%d", k);
    PUSH(f->signature->output_arg, f->signature->n_output_arg, arg_new(rname, types[k]));
    Tensorflow__FunctionDef__RetEntry *r = hlo_xmalloc(sizeof *r);
    tensorflow__function_def__ret_entry__init(r);
    r->key = rname;
    r->value = body_ref(b, argnames, results[k]);
    PUSH(f->ret, f->n_ret, r);
  }
  for (int k = 0; k < b->nargs; k++) free(argnames[k]);
  free(argnames);
  add_function(z->gd, f);
}

/* How a walk treats a tensor it meets (see walk()). */
typedef enum Verdict { V_COPY, V_ARG, V_ERROR } Verdict;

/* Collects into b the nodes that compute `root` (which node `from` reads),
 * walking back along data edges; classify() says for each tensor met
 * whether its node is copied (and walked through), is an argument (it sets
 * the type) or is an error (it returns the message). */
typedef Verdict (*Classify)(void *ctx, Ref r, int reader, Tensorflow__DataType *t, HloError **e);

static HloError *walk(Body *b, Ref root, int from, Classify classify, void *ctx) {
  Fz *z = b->z;
  int cap = 16, top = 0;
  Ref *stack = hlo_xmalloc(sizeof(Ref) * (size_t)cap);
  int *reader = hlo_xmalloc(sizeof(int) * (size_t)cap);
  stack[top] = root, reader[top++] = from;
  HloError *e = NULL;
  while (top > 0 && !e) {
    Ref r = stack[--top];
    int who = reader[top];
    if (r.node < 0) {
      e = hlo_error("node '%s' (%s) reads a missing node", name(z, who), op(z, who));
      break;
    }
    if (z->mark[r.node] == b->epoch) continue;
    Tensorflow__DataType t = 0;
    Verdict v = classify(ctx, r, who, &t, &e);
    if (v == V_ERROR) break;
    if (v == V_ARG) {
      body_arg(b, b->canon(ctx, r), t);
      continue;
    }
    z->mark[r.node] = b->epoch;
    PUSH(b->nodes, b->nnodes, r.node);
    for (int k = 0; k < ndata(z, r.node); k++) {
      if (top == cap) {
        cap *= 2;
        stack = hlo_xrealloc(stack, sizeof(Ref) * (size_t)cap);
        reader = hlo_xrealloc(reader, sizeof(int) * (size_t)cap);
      }
      stack[top] = z->in[r.node][k], reader[top++] = r.node;
    }
  }
  free(stack);
  free(reader);
  return e;
}

/* A node without data inputs other than a Placeholder: a constant, which a
 * function may hold a copy of. */
static bool is_source(const Fz *z, int i) {
  return z->kind[i] == K_OTHER && ndata(z, i) == 0 && strncmp(op(z, i), "Placeholder", 11);
}

/* ------------------------------------------------------------------------ */
/* Conds                                                                     */
/* ------------------------------------------------------------------------ */

/* A branch state entry: predicate tensor (node, port) and side (0: false,
 * 1: true), packed so that entries sort by predicate, then side. */
typedef int64_t Br;
#define BR(node, port, side) (((int64_t)(node) << 24) | ((int64_t)(port) << 1) | (side))
#define BR_PRED(b) ((b) >> 1)
#define BR_NODE(b) ((int)((b) >> 24))
#define BR_PORT(b) ((int)(((b) >> 1) & 0x7fffff))
#define BR_SIDE(b) ((int)((b) & 1))

typedef struct State {
  int n;
  Br *b; /* sorted, no duplicates */
} State;

typedef struct Conds {
  Fz *z;
  State *st;       /* per node */
  Br *pred;        /* per node: a Switch's normalized predicate (side 0), a
                    * cond Merge's predicate; -1 otherwise */
  bool *loop;      /* per node: a loop's Switch or Merge */
  bool hit_loop;   /* the last walk failed on a loop inside a branch, which
                    * the loops stage may convert first */
} Conds;

static bool state_has(const State *s, Br b) {
  int lo = 0, hi = s->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (s->b[mid] < b)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < s->n && s->b[lo] == b;
}

static void state_add(State *s, Br b) {
  if (state_has(s, b)) return;
  s->b = hlo_xrealloc(s->b, sizeof(Br) * ((size_t)s->n + 1));
  int k = s->n++;
  while (k > 0 && s->b[k - 1] > b) s->b[k] = s->b[k - 1], k--;
  s->b[k] = b;
}

static void state_union(State *s, const State *o) {
  for (int k = 0; k < o->n; k++) state_add(s, o->b[k]);
}

static bool state_eq(const State *a, const State *b) {
  return a->n == b->n && (!a->n || !memcmp(a->b, b->b, sizeof(Br) * (size_t)a->n));
}

/* A loop's Switch reads a LoopCond; a loop's Merge an Enter or a
 * NextIteration. */
static void find_loop_nodes(Conds *c) {
  Fz *z = c->z;
  for (int i = 0; i < z->n; i++) {
    if (z->kind[i] == K_SWITCH && ndata(z, i) == 2 && z->in[i][1].node >= 0)
      c->loop[i] = z->kind[z->in[i][1].node] == K_LOOPCOND;
    if (z->kind[i] == K_MERGE)
      for (int k = 0; k < ndata(z, i); k++) {
        int p = z->in[i][k].node;
        if (p >= 0 && (z->kind[p] == K_ENTER || z->kind[p] == K_NEXT)) c->loop[i] = true;
      }
  }
}

/* The predicate a Switch reads, through Identity nodes. */
static Br switch_pred(const Fz *z, int s) {
  Ref r = z->in[s][1];
  for (int guard = 0; r.node >= 0 && !strcmp(op(z, r.node), "Identity") && ndata(z, r.node) == 1 &&
                      guard < 1000; guard++)
    r = z->in[r.node][0];
  return r.node < 0 ? -1 : BR(r.node, r.port, 0);
}

static const char *pred_name(const Fz *z, Br p, char *buf, size_t n) {
  if (BR_PORT(p))
    snprintf(buf, n, "%s:%d", name(z, BR_NODE(p)), BR_PORT(p));
  else
    snprintf(buf, n, "%s", name(z, BR_NODE(p)));
  return buf;
}

static HloError *merge_pred(Conds *c, int m, const State *const *in);

/* An Enter, Exit, NextIteration, LoopCond, or a loop's Switch or Merge. */
static bool is_loop_node(const Conds *c, int i) {
  Kind k = c->z->kind[i];
  return k == K_ENTER || k == K_EXIT || k == K_NEXT || k == K_LOOPCOND || c->loop[i];
}

/* The state of the value an edge carries: its producer's, and the branch
 * of a cond Switch's output (malloc'd). */
static State edge_state(const Conds *c, Ref r) {
  const Fz *z = c->z;
  State s = {0};
  if (r.node < 0) return s;
  state_union(&s, &c->st[r.node]);
  if (z->kind[r.node] == K_SWITCH && !c->loop[r.node] && r.port >= 0 && c->pred[r.node] >= 0)
    state_add(&s, c->pred[r.node] | (r.port & 1));
  return s;
}

/* A cond Merge's state: its inputs' union less the predicate on which they
 * disagree, which must be exactly one. */
static HloError *merge_state(Conds *c, int m) {
  Fz *z = c->z;
  int nd = ndata(z, m);
  if (nd != 2)
    return hlo_error("node '%s' (%s): a cond's Merge must have 2 inputs, it has %d", name(z, m),
                     op(z, m), nd);
  if (z->in[m][0].node < 0 || z->in[m][1].node < 0)
    return hlo_error("node '%s' (%s) reads a missing node", name(z, m), op(z, m));
  State tmp[2] = {edge_state(c, z->in[m][0]), edge_state(c, z->in[m][1])};
  const State *in[2] = {&tmp[0], &tmp[1]};
  HloError *e = merge_pred(c, m, in);
  free(tmp[0].b);
  free(tmp[1].b);
  return e;
}

static HloError *merge_pred(Conds *c, int m, const State *const *in) {
  Fz *z = c->z;
  for (int k = 0; k < 2; k++) {
    if (!in[k]->n)
      return hlo_error("node '%s' (%s): input '%s' comes from no Switch, so no cond leads to "
                       "this Merge", name(z, m), op(z, m), z->gd->node[m]->input[k]);
  }
  Br found = -1;
  int nfound = 0;
  for (int k = 0; k < in[0]->n; k++) {
    Br b = in[0]->b[k];
    if (state_has(in[1], b ^ 1) && !state_has(in[0], b ^ 1) && !state_has(in[1], b))
      found = BR_PRED(b) << 1, nfound++;
  }
  char p1[256], p2[256];
  if (nfound > 1)
    return hlo_error("node '%s' (%s): its inputs come from opposite branches of several "
                     "predicates: cannot functionalize", name(z, m), op(z, m));
  if (!nfound) {
    /* Name a predicate of each input that the other lacks, else one they
     * share on the same side. */
    Br a = -1, b = -1;
    for (int k = 0; k < in[0]->n && a < 0; k++)
      if (!state_has(in[1], in[0]->b[k]) && !state_has(in[1], in[0]->b[k] ^ 1)) a = in[0]->b[k];
    for (int k = 0; k < in[1]->n && b < 0; k++)
      if (!state_has(in[0], in[1]->b[k]) && !state_has(in[0], in[1]->b[k] ^ 1)) b = in[1]->b[k];
    if (a >= 0 && b >= 0)
      return hlo_error("node '%s' (%s): its inputs come from different predicates ('%s' and "
                       "'%s'): cannot functionalize", name(z, m), op(z, m),
                       pred_name(z, a, p1, sizeof p1), pred_name(z, b, p2, sizeof p2));
    Br s = in[0]->b[in[0]->n - 1];
    return hlo_error("node '%s' (%s): both inputs come from the %s branch of predicate '%s': "
                     "cannot functionalize", name(z, m), op(z, m), BR_SIDE(s) ? "true" : "false",
                     pred_name(z, s, p1, sizeof p1));
  }
  c->pred[m] = found;
  State *s = &c->st[m];
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < in[k]->n; j++)
      if (BR_PRED(in[k]->b[j]) != BR_PRED(found)) state_add(s, in[k]->b[j]);
  return NULL;
}

/* Branch states of every node, in a topological order of the graph without
 * its NextIteration edges (nodes on other cycles keep an empty state: the
 * view reports the cycle). */
static HloError *compute_states(Conds *c) {
  Fz *z = c->z;
  int n = z->n;
  int *left = hlo_xcalloc((size_t)n + 1, sizeof(int));
  int *queue = hlo_xmalloc(sizeof(int) * ((size_t)n + 1));
  int head = 0, tail = 0;
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < z->nin[i]; k++) {
      int p = z->in[i][k].node;
      if (p >= 0 && z->kind[p] != K_NEXT) left[i]++;
    }
    if (!left[i]) queue[tail++] = i;
  }
  HloError *e = NULL;
  while (head < tail && !e) {
    int i = queue[head++];
    Kind k = z->kind[i];
    if (k == K_SWITCH && !c->loop[i] && ndata(z, i) != 2) {
      e = hlo_error("node '%s' (%s): a Switch has 2 inputs (data, predicate), it has %d",
                    name(z, i), op(z, i), ndata(z, i));
      break;
    }
    if (k == K_SWITCH && !c->loop[i]) c->pred[i] = switch_pred(z, i);
    if (k == K_MERGE && !c->loop[i]) {
      e = merge_state(c, i);
    } else {
      State *s = &c->st[i];
      for (int j = 0; j < z->nin[i]; j++) {
        int p = z->in[i][j].node;
        if (p >= 0 && z->kind[p] == K_NEXT) continue; /* the loop's back edge */
        State t = edge_state(c, z->in[i][j]);
        state_union(s, &t);
        free(t.b);
      }
    }
    for (int u = z->ustart[i]; u < z->ustart[i + 1]; u++)
      if (k != K_NEXT && --left[z->use[u].user] == 0) queue[tail++] = z->use[u].user;
  }
  free(left);
  free(queue);
  return e;
}

/* Walk context for one side of a cond group. */
typedef struct Side {
  Conds *c;
  Br pred;   /* the group's predicate, side 0 */
  int side;
  const int *group;
  int ngroup;
} Side;

static Verdict classify_branch(void *ctx, Ref r, int reader, Tensorflow__DataType *t,
                               HloError **e) {
  Side *s = ctx;
  Fz *z = s->c->z;
  int i = r.node;
  char p[256];
  if (z->kind[i] == K_SWITCH && !s->c->loop[i] && s->c->pred[i] == s->pred) {
    if (r.port != s->side) {
      *e = hlo_error("node '%s' (%s) reads output %d of Switch '%s' in the %s branch of "
                     "predicate '%s': cannot functionalize", name(z, reader), op(z, reader),
                     r.port, name(z, i), s->side ? "true" : "false",
                     pred_name(z, s->pred, p, sizeof p));
      return V_ERROR;
    }
    *t = attr_type(z->gd->node[i], "T");
    /* The argument stands for the Switch's data input. */
    return V_ARG;
  }
  const State *st = &s->c->st[i];
  if (state_has(st, s->pred | s->side)) {
    if (state_has(st, s->pred | !s->side)) {
      *e = hlo_error("node '%s' (%s) depends on both branches of predicate '%s': cannot "
                     "functionalize", name(z, i), op(z, i), pred_name(z, s->pred, p, sizeof p));
      return V_ERROR;
    }
    if (z->kind[i] != K_OTHER) {
      s->c->hit_loop = is_loop_node(s->c, i);
      *e = hlo_error("node '%s' (%s) inside a branch of predicate '%s' cannot be "
                     "functionalized", name(z, i), op(z, i), pred_name(z, s->pred, p, sizeof p));
      return V_ERROR;
    }
    return V_COPY;
  }
  if (state_has(st, s->pred | !s->side)) {
    *e = hlo_error("node '%s' (%s) in the %s branch of predicate '%s' reads '%s' of the other "
                   "branch: cannot functionalize", name(z, reader), op(z, reader),
                   s->side ? "true" : "false", pred_name(z, s->pred, p, sizeof p), name(z, i));
    return V_ERROR;
  }
  if (is_source(z, i)) return V_COPY;
  if (z->kind[i] != K_OTHER) {
    /* A Switch or Merge of another cond, read without a Switch; a loop's
     * Exit is read as any value once the loop is converted. */
    s->c->hit_loop = is_loop_node(s->c, i);
    *e = hlo_error("node '%s' (%s) in the %s branch of predicate '%s' reads '%s' (%s) from "
                   "outside the cond without a Switch: cannot functionalize", name(z, reader),
                   op(z, reader),
                   s->side ? "true" : "false", pred_name(z, s->pred, p, sizeof p), name(z, i),
                   op(z, i));
    return V_ERROR;
  }
  *t = output_type(z, i, r.port);
  if (!*t) {
    *e = hlo_error("node '%s' (%s) reads '%s' (%s) from outside its cond, whose type is not "
                   "known here: cannot functionalize", name(z, reader), op(z, reader), name(z, i),
                   op(z, i));
    return V_ERROR;
  }
  return V_ARG;
}

/* A cond's Switch stands for its data input whichever side reads it. */
static Ref canon_branch(void *ctx, Ref r) {
  Side *s = ctx;
  const Fz *z = s->c->z;
  if (r.node >= 0 && z->kind[r.node] == K_SWITCH && !s->c->loop[r.node] &&
      s->c->pred[r.node] == s->pred)
    return (Ref){r.node, 0};
  return r;
}

/* The nodes of the branches that the copied ones only wait for (control
 * inputs): tf.compat.v1.cond anchors constants to a pivot, an Identity of
 * a Switch of the predicate on itself.  They go with the cond. */
static void absorb_pivots(Conds *c, Br pred, const Body *b) {
  Fz *z = c->z;
  int ep = ++z->epoch, top = 0;
  int *stack = hlo_xmalloc(sizeof(int) * ((size_t)z->n + 1));
  for (int s = 0; s < 2; s++)
    for (int k = 0; k < b[s].nnodes; k++)
      if (z->mark[b[s].nodes[k]] != ep) {
        stack[top++] = b[s].nodes[k];
        z->mark[b[s].nodes[k]] = ep;
      }
  while (top > 0) {
    int i = stack[--top];
    for (int k = 0; k < z->nin[i]; k++) {
      int p = z->in[i][k].node;
      if (p < 0 || z->mark[p] == ep) continue;
      bool sw = z->kind[p] == K_SWITCH && !c->loop[p] && c->pred[p] == pred;
      if (!sw && !state_has(&c->st[p], pred) && !state_has(&c->st[p], pred | 1)) continue;
      z->mark[p] = ep;
      z->gone[p] = true;
      if (!sw) stack[top++] = p;
    }
  }
  free(stack);
}

/* Converts the Merges group[0..n) (same predicate and state) into one If. */
static HloError *convert_cond(Conds *c, const int *group, int n) {
  Fz *z = c->z;
  Br pred = c->pred[group[0]];
  Side side[2] = {{c, pred, 0, group, n}, {c, pred, 1, group, n}};
  Body b[2] = {{z, .canon = canon_branch, .ctx = &side[0]},
               {z, .canon = canon_branch, .ctx = &side[1]}};
  HloError *e = NULL;
  Ref *res[2];
  Tensorflow__DataType *tout = hlo_xmalloc(sizeof *tout * ((size_t)n + 1));
  for (int s = 0; s < 2; s++) res[s] = hlo_xmalloc(sizeof(Ref) * ((size_t)n + 1));
  /* Both branches take the same arguments, the If's inputs: collect the
   * then side's, then the else side's, then share the list. */
  for (int s = 1; s >= 0 && !e; s--) {
    b[s].epoch = ++z->epoch;
    if (s == 0) {
      b[0].nargs = b[1].nargs;
      b[0].argref = hlo_xmalloc(sizeof(Ref) * ((size_t)b[1].nargs + 1));
      b[0].argtype = hlo_xmalloc(sizeof(Tensorflow__DataType) * ((size_t)b[1].nargs + 1));
      if (b[1].nargs) {
        memcpy(b[0].argref, b[1].argref, sizeof(Ref) * (size_t)b[1].nargs);
        memcpy(b[0].argtype, b[1].argtype, sizeof(Tensorflow__DataType) * (size_t)b[1].nargs);
      }
    }
    for (int j = 0; j < n && !e; j++) {
      int m = group[j];
      State in0 = edge_state(c, z->in[m][0]);
      int k = state_has(&in0, pred | s) ? 0 : 1;
      free(in0.b);
      res[s][j] = z->in[m][k];
      tout[j] = attr_type(z->gd->node[m], "T");
      e = walk(&b[s], res[s][j], m, classify_branch, &side[s]);
    }
  }
  /* Arguments the else side added: the then side takes them too. */
  for (int k = b[1].nargs; k < b[0].nargs && !e; k++) body_arg(&b[1], b[0].argref[k], b[0].argtype[k]);
  for (int k = 0; k < b[0].nargs && !e; k++)
    if (!b[0].argtype[k])
      e = hlo_error("node '%s' (%s): the type of '%s' is not known: cannot functionalize",
                    name(z, b[0].argref[k].node), op(z, b[0].argref[k].node),
                    name(z, b[0].argref[k].node));
  for (int j = 0; j < n && !e; j++)
    for (int u = z->ustart[group[j]]; u < z->ustart[group[j] + 1] && !e; u++) {
      const Use *x = &z->use[u];
      if (z->in[x->user][x->slot].port == 1)
        e = hlo_error("node '%s' (%s) reads output 1 (value_index) of Merge '%s', which has no "
                      "functional form", name(z, x->user), op(z, x->user), name(z, group[j]));
    }
  if (!e) {
    char *base = xprintf("%s/If", name(z, group[0]));
    char *ifname = node_name(z->gd, base);
    char *fn[2] = {function_name(z->gd, name(z, group[0]), "else"), NULL};
    emit_function(&b[0], fn[0], res[0], tout, n);
    fn[1] = function_name(z->gd, name(z, group[0]), "then");
    emit_function(&b[1], fn[1], res[1], tout, n);
    Tensorflow__NodeDef *d = node_new(ifname, "If");
    PUSH(d->input, d->n_input, tensor_name(z, (Ref){BR_NODE(pred), BR_PORT(pred)}));
    for (int k = 0; k < b[0].nargs; k++) {
      Ref r = b[0].argref[k];
      /* A Switch stands for its data input. */
      if (z->kind[r.node] == K_SWITCH && !c->loop[r.node])
        PUSH(d->input, d->n_input, xstrdup(z->gd->node[r.node]->input[0]));
      else
        PUSH(d->input, d->n_input, tensor_name(z, r));
    }
    add_type_attr(d, "Tcond", output_type(z, BR_NODE(pred), BR_PORT(pred)));
    add_types_attr(d, "Tin", b[0].argtype, b[0].nargs);
    add_types_attr(d, "Tout", tout, n);
    add_func_attr(d, "then_branch", fn[1]);
    add_func_attr(d, "else_branch", fn[0]);
    for (int j = 0; j < n; j++)
      make_identity(z->gd->node[group[j]], j ? xprintf("%s:%d", ifname, j) : xstrdup(ifname));
    for (int s = 0; s < 2; s++)
      for (int k = 0; k < b[s].nnodes; k++)
        if (c->st[b[s].nodes[k]].n) z->gone[b[s].nodes[k]] = true;
    for (int k = 0; k < b[0].nargs; k++)
      if (z->kind[b[0].argref[k].node] == K_SWITCH) z->gone[b[0].argref[k].node] = true;
    absorb_pivots(c, pred, b);
    PUSH(z->gd->node, z->gd->n_node, d);
    free(base);
    free(ifname);
    free(fn[0]);
    free(fn[1]);
  }
  for (int s = 0; s < 2; s++) {
    body_free(&b[s]);
    free(res[s]);
  }
  free(tout);
  return e;
}

/* The Switches a Merge's branches read directly, sorted (for grouping). */
static int merge_switches(Conds *c, int m, int **out) {
  Fz *z = c->z;
  int ep = ++z->epoch, cap = 16, top = 0, n = 0;
  int *stack = hlo_xmalloc(sizeof(int) * (size_t)cap);
  int *sw = hlo_xmalloc(sizeof(int));
  for (int k = 0; k < 2; k++) stack[top++] = z->in[m][k].node;
  while (top > 0) {
    int i = stack[--top];
    if (i < 0 || z->mark[i] == ep) continue;
    z->mark[i] = ep;
    if (z->kind[i] == K_SWITCH && !c->loop[i]) {
      PUSH(sw, n, i);
      continue;
    }
    if (!state_has(&c->st[i], c->pred[m]) && !state_has(&c->st[i], c->pred[m] | 1)) continue;
    for (int k = 0; k < ndata(z, i); k++) {
      if (top == cap) stack = hlo_xrealloc(stack, sizeof(int) * (size_t)(cap *= 2));
      stack[top++] = z->in[i][k].node;
    }
  }
  free(stack);
  qsort(sw, (size_t)n, sizeof(int), cmp_int);
  *out = sw;
  return n;
}

static bool share(const int *a, int na, const int *b, int nb) {
  for (int i = 0, j = 0; i < na && j < nb;) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j])
      i++;
    else
      j++;
  }
  return false;
}

static int uf_find(int *p, int i) {
  while (p[i] != i) i = p[i] = p[p[i]];
  return i;
}

/* One round: converts the deepest cond Merges; *done when none was.
 * Unless strict, a cond with a loop still inside a branch waits for the
 * loops stage instead of being an error.  *converted counts the Ifs. */
static HloError *cond_round(Fz *z, bool strict, bool *done, int *converted) {
  index_build(z);
  Conds c = {z};
  c.st = hlo_xcalloc((size_t)z->n + 1, sizeof(State));
  c.pred = hlo_xmalloc(sizeof(Br) * ((size_t)z->n + 1));
  c.loop = hlo_xcalloc((size_t)z->n + 1, sizeof(bool));
  for (int i = 0; i < z->n; i++) c.pred[i] = -1;
  find_loop_nodes(&c);
  HloError *e = compute_states(&c);
  int *cand = hlo_xmalloc(sizeof(int) * ((size_t)z->n + 1)), ncand = 0, depth = -1;
  for (int i = 0; i < z->n && !e; i++)
    if (z->kind[i] == K_MERGE && !c.loop[i] && !z->gone[i] && c.pred[i] >= 0 &&
        c.st[i].n > depth)
      depth = c.st[i].n;
  for (int i = 0; i < z->n && !e; i++)
    if (z->kind[i] == K_MERGE && !c.loop[i] && !z->gone[i] && c.pred[i] >= 0 &&
        c.st[i].n == depth)
      cand[ncand++] = i;
  *done = true;
  int *parent = hlo_xmalloc(sizeof(int) * ((size_t)ncand + 1));
  int **sw = hlo_xmalloc(sizeof(int *) * ((size_t)ncand + 1));
  int *nsw = hlo_xmalloc(sizeof(int) * ((size_t)ncand + 1));
  for (int i = 0; i < ncand; i++) {
    parent[i] = i;
    nsw[i] = merge_switches(&c, cand[i], &sw[i]);
  }
  for (int i = 0; i < ncand && !e; i++)
    for (int j = i + 1; j < ncand; j++)
      if (c.pred[cand[i]] == c.pred[cand[j]] && state_eq(&c.st[cand[i]], &c.st[cand[j]]) &&
          uf_find(parent, i) != uf_find(parent, j) && share(sw[i], nsw[i], sw[j], nsw[j]))
        parent[uf_find(parent, j)] = uf_find(parent, i);
  for (int i = 0; i < ncand; i++) free(sw[i]);
  free(sw);
  free(nsw);
  int *group = hlo_xmalloc(sizeof(int) * ((size_t)ncand + 1));
  for (int i = 0; i < ncand && !e; i++) {
    if (uf_find(parent, i) != i) continue;
    int n = 0;
    for (int j = 0; j < ncand; j++)
      if (uf_find(parent, j) == i) group[n++] = cand[j];
    c.hit_loop = false;
    e = convert_cond(&c, group, n);
    if (e && c.hit_loop && !strict) {
      hlo_error_free(e);
      e = NULL;
      continue;
    }
    if (!e) *done = false, ++*converted;
  }
  free(group);
  free(parent);
  free(cand);
  for (int i = 0; i < z->n; i++) free(c.st[i].b);
  free(c.st);
  free(c.pred);
  free(c.loop);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Removing what was absorbed                                                */
/* ------------------------------------------------------------------------ */

/* Removes the gone nodes and the nodes that read their data (dead: they
 * read values that now exist only inside a function); drops control
 * inputs naming removed nodes. */
static void sweep(Fz *z) {
  index_build(z);
  int n = z->n;
  int *queue = hlo_xmalloc(sizeof(int) * ((size_t)n + 1)), tail = 0;
  for (int i = 0; i < n; i++)
    if (z->gone[i]) queue[tail++] = i;
  for (int h = 0; h < tail; h++)
    for (int u = z->ustart[queue[h]]; u < z->ustart[queue[h] + 1]; u++) {
      const Use *x = &z->use[u];
      if (z->in[x->user][x->slot].port >= 0 && !z->gone[x->user]) {
        z->gone[x->user] = true;
        queue[tail++] = x->user;
      }
    }
  free(queue);
  int *frame = hlo_xmalloc(sizeof(int) * ((size_t)n + 1));
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    Tensorflow__NodeDef *d = z->gd->node[i];
    if (z->gone[i]) {
      tensorflow__node_def__free_unpacked(d, NULL);
      continue;
    }
    size_t m = 0;
    for (size_t j = 0; j < d->n_input; j++) {
      Ref r = z->in[i][j];
      if (r.port < 0 && r.node >= 0 && z->gone[r.node])
        free(d->input[j]);
      else
        d->input[m++] = d->input[j];
    }
    d->n_input = m;
    frame[k] = z->frame[i];
    z->gd->node[k++] = d;
  }
  z->gd->n_node = k;
  for (size_t i = 0; i < k; i++) z->gone[i] = false, z->frame[i] = frame[i];
  for (int i = (int)k; i < n; i++) z->gone[i] = false, z->frame[i] = -1;
  free(frame);
  index_build(z);
}

/* ------------------------------------------------------------------------ */
/* Loops                                                                     */
/* ------------------------------------------------------------------------ */

static int frame_of(Fz *z, const Tensorflow__NodeDef *enter, int parent, HloError **e) {
  const Tensorflow__AttrValue *v = attr(enter, "frame_name");
  if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_S || !v->s.len ||
      memchr(v->s.data, 0, v->s.len)) {
    *e = hlo_error("node '%s' (%s) has no frame_name", enter->name, enter->op);
    return -1;
  }
  for (int f = 1; f < z->nframes; f++)
    if (strlen(z->frames[f].name) == v->s.len && !memcmp(z->frames[f].name, v->s.data, v->s.len)) {
      if (z->frames[f].parent != parent)
        *e = hlo_error("node '%s' (%s) enters frame '%s' from two different frames",
                       enter->name, enter->op, z->frames[f].name);
      return f;
    }
  z->frames = hlo_xrealloc(z->frames, sizeof(Frame) * ((size_t)z->nframes + 1));
  char *fname = hlo_xmalloc(v->s.len + 1);
  memcpy(fname, v->s.data, v->s.len);
  fname[v->s.len] = 0;
  z->frames[z->nframes] = (Frame){fname, parent, z->frames[parent].depth + 1};
  return z->nframes++;
}

/* The frame of every node, as TensorFlow's executor assigns them. */
static HloError *find_frames(Fz *z) {
  int n = z->n;
  z->frames = hlo_xmalloc(sizeof(Frame));
  z->frames[0] = (Frame){xstrdup(""), 0, 0};
  z->nframes = 1;
  int *queue = hlo_xmalloc(sizeof(int) * ((size_t)n + 1)), head = 0, tail = 0;
  for (int i = 0; i < n; i++) {
    z->frame[i] = -1;
    bool source = true;
    for (int k = 0; k < z->nin[i] && source; k++) source = z->in[i][k].node < 0;
    if (source) z->frame[i] = 0, queue[tail++] = i;
  }
  HloError *e = NULL;
  for (int next = 0; !e;) {
    if (head == tail) {
      /* Nodes that only constants lead to are outside every loop. */
      while (next < n && z->frame[next] >= 0) next++;
      if (next == n) break;
      z->frame[next] = 0;
      queue[tail++] = next;
    }
    int i = queue[head++];
    for (int u = z->ustart[i]; u < z->ustart[i + 1] && !e; u++) {
      int x = z->use[u].user;
      if (z->frame[x] >= 0) continue;
      /* A constant belongs to no frame: it takes its readers to none. */
      if (!z->nin[i] && z->kind[x] != K_ENTER) continue;
      if (z->kind[x] == K_ENTER)
        z->frame[x] = frame_of(z, z->gd->node[x], z->frame[i], &e);
      else if (z->kind[i] == K_EXIT)
        z->frame[x] = z->frames[z->frame[i]].parent;
      else
        z->frame[x] = z->frame[i];
      queue[tail++] = x;
    }
  }
  for (int i = 0; i < n && !e; i++)
    if (z->kind[i] == K_EXIT && z->frame[i] == 0)
      e = hlo_error("node '%s' (%s) is outside every while loop: no Enter leads to it",
                    name(z, i), op(z, i));
  free(queue);
  return e;
}

/* One frame's structure. */
typedef struct Loop {
  Fz *z;
  int f;            /* the frame */
  int nv;           /* loop variables: the frame's Enters in graph order */
  int *enter, *merge, *sw, *next; /* per variable; -1 for invariants */
  int cond;         /* the LoopCond */
  bool in_body;     /* walking the body (else the cond) */
} Loop;

static int var_of(const Loop *l, const int *nodes, int i) {
  for (int v = 0; v < l->nv; v++)
    if (nodes[v] == i) return v;
  return -1;
}

static Verdict classify_loop(void *ctx, Ref r, int reader, Tensorflow__DataType *t,
                             HloError **e) {
  Loop *l = ctx;
  Fz *z = l->z;
  int i = r.node, v;
  const char *fname = z->frames[l->f].name;
  if ((v = var_of(l, l->merge, i)) >= 0 && r.port == 0) {
    *t = attr_type(z->gd->node[l->enter[v]], "T");
    return V_ARG;
  }
  if (l->in_body && (v = var_of(l, l->sw, i)) >= 0 && r.port == 1) {
    *t = attr_type(z->gd->node[l->enter[v]], "T");
    return V_ARG;
  }
  if ((v = var_of(l, l->enter, i)) >= 0 && l->merge[v] < 0) {
    *t = attr_type(z->gd->node[i], "T");
    return V_ARG;
  }
  if (z->frame[i] == l->f && z->kind[i] == K_OTHER) return V_COPY;
  if (z->frame[i] != l->f && is_source(z, i)) return V_COPY;
  if (z->frame[i] != l->f)
    *e = hlo_error("node '%s' (%s) in while loop '%s' reads '%s' from outside the loop without "
                   "an Enter", name(z, reader), op(z, reader), fname, name(z, i));
  else
    *e = hlo_error("the %s of while loop '%s' reads output %d of node '%s' (%s): cannot "
                   "functionalize", l->in_body ? "body" : "condition", fname, r.port, name(z, i),
                   op(z, i));
  return V_ERROR;
}

/* A variable's Switch's true output is the variable, as its Merge is. */
static Ref canon_loop(void *ctx, Ref r) {
  Loop *l = ctx;
  int v = var_of(l, l->sw, r.node);
  return v >= 0 && r.port == 1 ? (Ref){l->merge[v], 0} : r;
}

/* The one data reader of output `port` of node i that has kind k, or -1;
 * *count is how many there are. */
static int reader_of(const Fz *z, int i, int port, Kind k, int *count) {
  int found = -1;
  *count = 0;
  for (int u = z->ustart[i]; u < z->ustart[i + 1]; u++) {
    const Use *x = &z->use[u];
    if (z->in[x->user][x->slot].port == port && z->kind[x->user] == k && !z->gone[x->user]) {
      found = x->user;
      ++*count;
    }
  }
  return found;
}

/* Finds each variable's Merge, NextIteration and Switch, and the
 * LoopCond. */
static HloError *loop_structure(Loop *l) {
  Fz *z = l->z;
  const char *fname = z->frames[l->f].name;
  l->cond = -1;
  for (int v = 0; v < l->nv; v++) {
    int en = l->enter[v], cnt;
    l->merge[v] = l->sw[v] = l->next[v] = -1;
    const Tensorflow__AttrValue *c = attr(z->gd->node[en], "is_constant");
    if (c && c->value_case == TENSORFLOW__ATTR_VALUE__VALUE_B && c->b) continue;
    if (ndata(z, en) != 1)
      return hlo_error("node '%s' (%s) must have one input", name(z, en), op(z, en));
    int m = l->merge[v] = reader_of(z, en, 0, K_MERGE, &cnt);
    if (cnt != 1)
      return hlo_error("node '%s' (%s) of while loop '%s' feeds %d Merges, expected 1",
                       name(z, en), op(z, en), fname, cnt);
    int other = z->in[m][0].node == en ? 1 : 0;
    int nx = ndata(z, m) == 2 ? z->in[m][other].node : -1;
    if (nx < 0 || z->kind[nx] != K_NEXT || z->in[m][1 - other].node != en)
      return hlo_error("node '%s' (%s) of while loop '%s' must read its Enter '%s' and a "
                       "NextIteration", name(z, m), op(z, m), fname, name(z, en));
    l->next[v] = nx;
    int s = l->sw[v] = reader_of(z, m, 0, K_SWITCH, &cnt);
    if (cnt != 1 || z->in[s][0].node != m)
      return hlo_error("node '%s' (%s) of while loop '%s' feeds %d Switches, expected 1",
                       name(z, m), op(z, m), fname, cnt);
    int lc = z->in[s][1].node;
    if (lc < 0 || z->kind[lc] != K_LOOPCOND)
      return hlo_error("node '%s' (%s) of while loop '%s' does not switch on a LoopCond",
                       name(z, s), op(z, s), fname);
    if (l->cond >= 0 && l->cond != lc)
      return hlo_error("while loop '%s' has two LoopConds, '%s' and '%s'", fname,
                       name(z, l->cond), name(z, lc));
    l->cond = lc;
    if (ndata(z, nx) != 1 || z->in[nx][0].node < 0)
      return hlo_error("node '%s' (%s) must have one input", name(z, nx), op(z, nx));
  }
  if (l->cond < 0)
    return hlo_error("while loop '%s' has no loop variable (every Enter is constant)", fname);
  if (ndata(z, l->cond) != 1 || z->in[l->cond][0].node < 0)
    return hlo_error("node '%s' (%s) must have one input", name(z, l->cond), op(z, l->cond));
  /* Every Exit of the frame must leave through a variable's Switch. */
  for (int i = 0; i < z->n; i++) {
    if (z->gone[i] || z->frame[i] != l->f || z->kind[i] != K_EXIT) continue;
    Ref r = ndata(z, i) == 1 ? z->in[i][0] : (Ref){-1, 0};
    if (r.node < 0 || var_of(l, l->sw, r.node) < 0 || r.port != 0)
      return hlo_error("node '%s' (%s) of while loop '%s' does not read output 0 of a loop "
                       "variable's Switch", name(z, i), op(z, i), fname);
  }
  return NULL;
}

static HloError *convert_loop(Fz *z, int f) {
  Loop l = {z, f};
  int n = z->n;
  l.enter = hlo_xmalloc(sizeof(int) * ((size_t)n + 1));
  for (int i = 0; i < n; i++)
    if (!z->gone[i] && z->frame[i] == f && z->kind[i] == K_ENTER) l.enter[l.nv++] = i;
  l.merge = hlo_xmalloc(sizeof(int) * ((size_t)l.nv + 1));
  l.sw = hlo_xmalloc(sizeof(int) * ((size_t)l.nv + 1));
  l.next = hlo_xmalloc(sizeof(int) * ((size_t)l.nv + 1));
  HloError *e = loop_structure(&l);
  Body cb = {z, .canon = canon_loop, .ctx = &l}, bb = {z, .canon = canon_loop, .ctx = &l};
  Ref *res = hlo_xmalloc(sizeof(Ref) * ((size_t)l.nv + 1));
  Tensorflow__DataType *types = hlo_xmalloc(sizeof *types * ((size_t)l.nv + 1));
  /* Every variable is an argument of both functions, in order. */
  for (int v = 0; v < l.nv && !e; v++) {
    types[v] = attr_type(z->gd->node[l.enter[v]], "T");
    Ref r = l.merge[v] >= 0 ? (Ref){l.merge[v], 0} : (Ref){l.enter[v], 0};
    body_arg(&cb, r, types[v]);
    body_arg(&bb, r, types[v]);
  }
  if (!e) {
    cb.epoch = ++z->epoch;
    e = walk(&cb, z->in[l.cond][0], l.cond, classify_loop, &l);
  }
  if (!e) {
    l.in_body = true;
    bb.epoch = ++z->epoch;
    for (int v = 0; v < l.nv && !e; v++) {
      res[v] = l.next[v] >= 0 ? z->in[l.next[v]][0] : (Ref){l.enter[v], 0};
      if (l.next[v] >= 0) e = walk(&bb, res[v], l.next[v], classify_loop, &l);
    }
  }
  if (!e) {
    char *wname = node_name(z->gd, z->frames[f].name);
    char *cname = function_name(z->gd, z->frames[f].name, "cond");
    char *bname = function_name(z->gd, z->frames[f].name, "body");
    Ref cres = z->in[l.cond][0];
    Tensorflow__DataType bt = TENSORFLOW__DATA_TYPE__DT_BOOL;
    emit_function(&cb, cname, &cres, &bt, 1);
    emit_function(&bb, bname, res, types, l.nv);
    Tensorflow__NodeDef *d = node_new(wname, "While");
    for (int v = 0; v < l.nv; v++) PUSH(d->input, d->n_input, xstrdup(z->gd->node[l.enter[v]]->input[0]));
    add_types_attr(d, "T", types, l.nv);
    add_func_attr(d, "cond", cname);
    add_func_attr(d, "body", bname);
    const Tensorflow__AttrValue *pi = attr(z->gd->node[l.enter[0]], "parallel_iterations");
    add_int_attr(d, "parallel_iterations",
                 pi && pi->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I ? pi->i : 10);
    int parent = z->frames[f].parent;
    for (int i = 0; i < n; i++) {
      if (z->gone[i] || z->frame[i] != f) continue;
      if (z->kind[i] == K_EXIT) {
        int v = var_of(&l, l.sw, z->in[i][0].node);
        make_identity(z->gd->node[i], v ? xprintf("%s:%d", wname, v) : xstrdup(wname));
        z->frame[i] = parent;
      } else {
        z->gone[i] = true;
      }
    }
    PUSH(z->gd->node, z->gd->n_node, d);
    free(wname);
    free(cname);
    free(bname);
    index_build(z); /* grows frame[] for the While */
    z->frame[z->n - 1] = parent;
  }
  body_free(&cb);
  body_free(&bb);
  free(res);
  free(types);
  free(l.enter);
  free(l.merge);
  free(l.sw);
  free(l.next);
  return e;
}

/* Whether frame f must wait for other control flow to be converted first:
 * a frame nested in it, or a cond in its body (a Switch on no LoopCond, a
 * Merge of no Enter or NextIteration). */
static bool loop_waits(const Fz *z, int f, const bool *converted) {
  for (int g = 1; g < z->nframes; g++)
    if (z->frames[g].parent == f && !converted[g]) return true;
  for (int i = 0; i < z->n; i++) {
    if (z->gone[i] || z->frame[i] != f) continue;
    if (z->kind[i] == K_SWITCH && ndata(z, i) == 2 && z->in[i][1].node >= 0 &&
        z->kind[z->in[i][1].node] != K_LOOPCOND)
      return true;
    if (z->kind[i] == K_MERGE) {
      bool loop = false;
      for (int k = 0; k < ndata(z, i); k++) {
        int p = z->in[i][k].node;
        loop |= p >= 0 && (z->kind[p] == K_ENTER || z->kind[p] == K_NEXT);
      }
      if (!loop) return true;
    }
  }
  return false;
}

static void frames_free(Fz *z) {
  for (int f = 0; f < z->nframes; f++) free(z->frames[f].name);
  free(z->frames);
  z->frames = NULL;
  z->nframes = 0;
}

/* Converts the loops, innermost first; unless strict, a loop that still
 * holds a cond (or a loop that does) waits for the next conds stage.
 * *converted counts the Whiles. */
static HloError *loops(Fz *z, bool strict, int *converted) {
  index_build(z);
  frames_free(z);
  HloError *e = find_frames(z);
  int *order = hlo_xmalloc(sizeof(int) * ((size_t)z->nframes + 1)), nf = 0;
  for (int f = 1; f < z->nframes; f++) order[nf++] = f;
  /* Deepest first; frames of equal depth in the order found. */
  for (int a = 1; a < nf; a++)
    for (int b = a; b > 0 && z->frames[order[b]].depth > z->frames[order[b - 1]].depth; b--) {
      int t = order[b];
      order[b] = order[b - 1];
      order[b - 1] = t;
    }
  bool *done = hlo_xcalloc((size_t)z->nframes + 1, sizeof(bool));
  for (int k = 0; k < nf && !e; k++) {
    if (!strict && loop_waits(z, order[k], done)) continue;
    e = convert_loop(z, order[k]);
    if (!e) done[order[k]] = true, ++*converted;
  }
  free(done);
  free(order);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                     */
/* ------------------------------------------------------------------------ */

bool tf_has_v1_control_flow(const Tensorflow__GraphDef *gd) {
  for (size_t i = 0; i < gd->n_node; i++)
    if (kind_of(gd->node[i]->op) != K_OTHER) return true;
  return false;
}

HloError *tf_functionalize(Tensorflow__GraphDef *gd) {
  Fz z = {gd};
  HloError *e = NULL;
  /* Conds and loops nest both ways: each pass converts the conds, then the
   * loops, that hold no unconverted control flow of the other kind.  When
   * a pass converts nothing, a last strict pass reports what is left. */
  for (bool strict = false; !e;) {
    int converted = 0;
    for (bool done = false; !done && !e;) e = cond_round(&z, strict, &done, &converted);
    if (!e) sweep(&z);
    if (!e) e = loops(&z, strict, &converted);
    if (!e) sweep(&z);
    if (strict) break;
    strict = converted == 0;
  }
  index_free(&z);
  free(z.gone);
  free(z.frame);
  free(z.mark);
  frames_free(&z);
  if (e) e = hlo_error_wrap(e, "TensorFlow 1 control flow");
  return e;
}
