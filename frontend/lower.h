/*
 * lower.h — internal to frontend/: the lowering context and the helpers the
 * op lowerings share.  One table entry per TensorFlow op maps it to a
 * function that reads the node's inputs as HLO values, builds HLO in the
 * current computation with the hlo_build_* functions, and sets the node's
 * outputs.  The tables are split by family (lower_math.c, lower_array.c,
 * lower_nn.c, lower_scatter.c, lower_random.c, lower_quant.c,
 * lower_control.c, and the core ops in lower.c); lower.c merges them,
 * drives the walk over the graph in producer-first order, attaches the TF node name and op to every
 * instruction as metadata, and prefixes every error with the node.
 */
#ifndef HLOC_FRONTEND_LOWER_H
#define HLOC_FRONTEND_LOWER_H

#include "frontend.h"

typedef struct TfLower TfLower;

struct TfLower {
  HloModule *m;
  HloComputation *c;     /* the computation being built */
  const TfGraph *g;      /* the graph or function body being lowered */
  HloInstr **feeds;      /* per feed of g: its HLO value (a config
                          * variable's: its value after the assigns
                          * lowered so far) */
  HloInstr ***values;    /* per node id: its outputs (NULL until lowered) */
  int *nvalues;          /* per node id: outputs set so far */
  int *cap;              /* per node id: room in values[id] */
  const TfFeed **vars;   /* per feed of g: the config variable it is (the
                          * graph) or holds (a resource argument a call
                          * passed one to), which assigns may write;
                          * NULL for other feeds */
  TfLower *parent;       /* the enclosing lowering, for function bodies */
  const char *function;  /* the library function lowered here (NULL: the graph) */
  const char *scope;     /* "" or "FUNCTION/" prefixed to op_name metadata */
  bool free_consts;      /* each Const node's tensor bytes are freed once it
                          * is lowered (tf_import_consuming: the graph's
                          * own nodes, each lowered once) */
};

/* Constants the lowering computes itself at compile time (interpolation
 * matrices, gather indices, pooling divisors, a Range) are refused above
 * this many bytes: a few bytes of graph must not make gigabytes. */
#define TF_MAX_BUILT_CONSTANT_BYTES (INT64_C(1) << 26)

/* Lowers node n: reads its inputs with tf_input*, builds HLO in L->c and
 * sets every output the graph uses with tf_set_output.  Errors need not
 * name the node: the caller prefixes "node 'NAME' (OP): ". */
typedef HloError *(*TfLowerFn)(TfLower *L, const TfNode *n);

typedef struct TfOpLowering {
  const char *op;    /* the TensorFlow op type */
  TfLowerFn fn;
  const char *attrs; /* attributes honoured, for docs/ops.md */
  const char *notes; /* limits and remarks, for docs/ops.md */
} TfOpLowering;

/* The family tables, each ended by an entry with op == NULL. */
extern const TfOpLowering tf_lower_core[];
extern const TfOpLowering tf_lower_math[];
extern const TfOpLowering tf_lower_array[];
extern const TfOpLowering tf_lower_nn[];
extern const TfOpLowering tf_lower_scatter[];
extern const TfOpLowering tf_lower_random[];
extern const TfOpLowering tf_lower_quant[];
extern const TfOpLowering tf_lower_control[];

/* The lowering of `op`, or NULL. */
const TfOpLowering *tf_find_lowering(const char *op);

/* Lowers every live node of `body` into L->c (a fresh context is set up
 * from `parent` for the body of library function `function`; both NULL for
 * the graph), with feeds[i] the HLO value of the body's feed i; *results
 * receives one HLO value per fetch (malloc'd).  Assigns to a config
 * variable replace its feed's value as the walk goes (TfLower.feeds);
 * final_feeds (NULL: not wanted) receives the values the feeds end with.
 * vars[i] is the config variable feed i holds (NULL: none; vars NULL: the
 * graph's own config variables).  With free_consts the Const nodes' tensor
 * bytes are freed as they are lowered (TfLower.free_consts). */
HloError *tf_lower_graph(HloModule *m, HloComputation *c, const TfGraph *body,
                         HloInstr *const *feeds, TfLower *parent, const char *function,
                         const char *scope, HloInstr ***results, HloInstr **final_feeds,
                         const TfFeed *const *vars, bool free_consts);

/* Lowers a call of library function `fname` in place (inlined): its
 * arguments are n's inputs, its results n's outputs.  PartitionedCall and
 * direct calls (a node whose op is the function's name). */
HloError *tf_lower_function_call(TfLower *L, const TfNode *n, const char *fname);

/* --- reading inputs -------------------------------------------------------- */

/* Fails unless n has between min and max data inputs (max < 0: no limit). */
HloError *tf_expect_inputs(const TfNode *n, int min, int max);
/* When n has an "N" attribute (ConcatV2, Pack, AddN: the length of its
 * list input), it must be `count`. */
HloError *tf_expect_n(const TfNode *n, int count);
/* The HLO value of data input i. */
HloError *tf_input(TfLower *L, const TfNode *n, int i, HloInstr **out);
/* Checks that n has exactly `count` data inputs and reads them all. */
HloError *tf_inputs(TfLower *L, const TfNode *n, int count, HloInstr **out);
/* The value of data input i as a constant, for inputs that steer shapes
 * (Reshape's shape, reduction axes, paddings …).  A Const, or any
 * computation that depends on no parameter (Shape -> StridedSlice -> Pack
 * chains), is folded by the evaluator; otherwise an error says the input
 * must be constant.  The literal lives in the module's arena. */
HloError *tf_input_literal(TfLower *L, const TfNode *n, int i,
                           HloLiteral **out);
/* Input i as a list of integers (a scalar gives one); *v is arena memory. */
HloError *tf_input_ints(TfLower *L, const TfNode *n, int i, int64_t **v,
                        int *count);

/* --- outputs --------------------------------------------------------------- */

void tf_set_output(TfLower *L, const TfNode *n, int k, HloInstr *v);

/* --- building ---------------------------------------------------------------- */

/* A scalar constant of type t. */
HloInstr *tf_scalar(TfLower *L, HloType t, double v);
/* Broadcasts x (whose dims must be numpy-broadcast-compatible with `dims`)
 * to dims. */
HloError *tf_broadcast_to(TfLower *L, HloInstr *x, int rank,
                          const int64_t *dims, HloInstr **out);
/* Numpy-style broadcasting of two operands to their common shape. */
HloError *tf_broadcast_pair(TfLower *L, HloInstr **a, HloInstr **b);
/* x converted to t (x itself when it already has type t). */
HloError *tf_convert(TfLower *L, HloInstr *x, HloType t, HloInstr **out);

/* Builders with a sticky error: each returns NULL and does nothing once
 * *e is set, and sets it on failure, so a lowering reads as straight-line
 * code with one check at the end (tf_finish). */
HloInstr *tf_unary(TfLower *L, HloOpcode op, HloInstr *x, HloError **e);
HloInstr *tf_binary(TfLower *L, HloOpcode op, HloInstr *a, HloInstr *b, HloError **e);
HloInstr *tf_compare(TfLower *L, HloCompareDir dir, HloInstr *a, HloInstr *b, HloError **e);
HloInstr *tf_select(TfLower *L, HloInstr *p, HloInstr *a, HloInstr *b, HloError **e);
/* x converted to t (tf_convert). */
HloInstr *tf_converted(TfLower *L, HloInstr *x, HloType t, HloError **e);
/* The constant v in the type and shape of `like`. */
HloInstr *tf_full(TfLower *L, HloInstr *like, double v, HloError **e);
/* Sets n's output 0 to y unless a step failed; returns *e. */
HloError *tf_finish(TfLower *L, const TfNode *n, HloInstr *y, HloError **e);

/* params p gathered along `axis` (negative: from the end) at `idx` (s32 or
 * s64), the first `batch` dimensions of both matched pairwise:
 * TensorFlow's GatherV2 with batch_dims.  The result's shape is
 * p[:axis] + idx[batch:] + p[axis+1:]. */
HloError *tf_gather(TfLower *L, HloInstr *p, HloInstr *idx, int64_t axis, int64_t batch,
                    HloInstr **out);

/* Normalises a possibly negative axis against rank; error when out of
 * range, naming `what` ("axis", "dim" …). */
HloError *tf_axis(int64_t axis, int rank, const char *what, int64_t *out);
/* The element type of n's attribute `name` as an HloType. */
HloError *tf_attr_hlo_type(const TfNode *n, const char *name, HloType *out);
/* Attributes with op defaults, which a NodeDef may leave out: `def` when
 * absent, else the value (an error when it holds another kind). */
HloError *tf_attr_int_or(const TfNode *n, const char *name, int64_t def, int64_t *out);
HloError *tf_attr_bool_or(const TfNode *n, const char *name, bool def, bool *out);
HloError *tf_attr_hlo_type_or(const TfNode *n, const char *name, HloType def, HloType *out);
/* A new computation of L's module (reducers with several results, loop
 * bodies …), placed before L->c so that callees precede their callers;
 * `name` is made a valid, unique HLO name. */
HloComputation *tf_computation_new(TfLower *L, const char *name);

#endif
