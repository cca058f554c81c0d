/*
 * frontend.h — reading TensorFlow graphs: the one public header of
 * frontend/.
 *
 * A model arrives as a frozen GraphDef (binary .pb or text .pbtxt) plus a
 * tfcompile config (tensorflow.tf2xla.Config, usually text) naming the feeds,
 * with their static shapes, and the fetches.  This half of the frontend reads
 * both into protobuf-c messages (generated at build time from the project's
 * own .proto files in frontend/proto/, whose names and field numbers are
 * TensorFlow's) and builds a TfGraph: a view that resolves every input edge
 * to (producer node, output index), cuts the graph at the feeds, keeps only
 * what the fetches need, orders it producers-first and validates it, so that
 * the lowering to HLO is a single loop over `g->order`.
 *
 * The view also covers function bodies (the branches and loop bodies of
 * functional control flow): tf_graph_function() opens one as a TfGraph whose
 * feeds are the function's arguments and whose fetches are its results.
 *
 * Errors are values: each function that can fail returns an HloError * (NULL
 * on success) whose message names the file:line:col, the byte offset, the
 * node and attribute, or the field at fault.
 *
 * The files of frontend/:
 *   proto/         TensorFlow's GraphDef, NodeDef, AttrValue, TensorProto,
 *                  FunctionDef, tf2xla Config … as .proto files (our
 *                  text, TensorFlow's names and field numbers)
 *   wire.c         binary protobuf: a descriptor-driven validating scan that
 *                  pinpoints malformed input, then protobuf-c's unpack; file
 *                  loading and text/binary detection
 *   pbtext.c       protobuf text format, for any message, driven by
 *                  protobuf-c's descriptors
 *   graph.c        TfGraph: node table, input edges, feeds and fetches,
 *                  pruning, topological order, validation, function bodies
 *   functionalize.c  TensorFlow 1 control flow (Switch, Merge, Enter, Exit,
 *                  NextIteration, LoopCond) rewritten as While and If with
 *                  new library functions, before the view is built
 *   attr.c         node attribute accessors, DataType <-> HloType
 *   tensor.c       TensorProto -> HloLiteral, TensorShapeProto -> HloShape
 *   bundle.c       checkpoints (TensorBundle: PREFIX.index and its data
 *                  files), as TF2 checkpoints and SavedModel variables/
 *                  hold them: validated at open, tensors read as literals
 *                  (partitioned variables assembled from their slices)
 *   savedmodel.c   SavedModel directories: meta graph and signature
 *                  selection, the signature as feeds and fetches, the
 *                  object graph that names each captured variable's
 *                  checkpoint key
 *   variables.c    variables (VarHandleOp, VariableV2) bound to their
 *                  values in a checkpoint (a partitioned variable's parts
 *                  to its slices)
 */
#ifndef HLOC_FRONTEND_H
#define HLOC_FRONTEND_H

#include <protobuf-c/protobuf-c.h>

#include "graph.pb-c.h"
#include "saved_model.pb-c.h"
#include "tf2xla.pb-c.h"

#include "hlo.h"

/* ------------------------------------------------------------------------ */
/* Protobuf messages, binary and text (wire.c, pbtext.c)                    */
/* ------------------------------------------------------------------------ */

/* Parses the binary wire format.  Malformed input is reported with the byte
 * offset, the field and the message type, e.g. "model.pb: malformed protobuf
 * at byte 1234: field 2 of tensorflow.NodeDef has wire type 5, expected 2".
 * Nesting deeper than 100 messages is rejected.  `filename` is used in
 * messages only.  Free *out with protobuf_c_message_free_unpacked(*out,
 * NULL) (or the generated __free_unpacked). */
HloError *tf_proto_parse_binary(const ProtobufCMessageDescriptor *desc,
                                const void *data, size_t len,
                                const char *filename, ProtobufCMessage **out);

/* Parses the protobuf text format ("name: value", "name { … }", lists in
 * […], # comments) into the same message a binary parse gives.  Errors read
 * "FILE:LINE:COL: unknown field 'foo' in tensorflow.NodeDef". */
HloError *tf_proto_parse_text(const ProtobufCMessageDescriptor *desc,
                              const char *text, size_t len,
                              const char *filename, ProtobufCMessage **out);

/* Either format: the extension of `filename` decides (.pbtxt .pbtext
 * .prototxt .textproto .txt: text; .pb .bin .binarypb: binary); otherwise
 * the content does (text has no control characters besides whitespace). */
HloError *tf_proto_parse(const ProtobufCMessageDescriptor *desc,
                         const void *data, size_t len, const char *filename,
                         ProtobufCMessage **out);
/* Reads a whole file into a malloc'd buffer (NUL-terminated, not counted
 * in *len); a file over `max` bytes is an error "PATH: larger than LIMIT". */
HloError *tf_file_read(const char *path, size_t max, const char *limit, char **data,
                       size_t *len);
/* Reads a whole file and parses it with tf_proto_parse. */
HloError *tf_proto_read_file(const ProtobufCMessageDescriptor *desc,
                             const char *path, ProtobufCMessage **out);

/* Typed conveniences; free with tensorflow__graph_def__free_unpacked(g,
 * NULL) and tensorflow__tf2xla__config__free_unpacked(c, NULL). */
HloError *tf_graphdef_read(const char *path, Tensorflow__GraphDef **out);
HloError *tf_config_read(const char *path, Tensorflow__Tf2xla__Config **out);

/* ------------------------------------------------------------------------ */
/* The graph view (graph.c)                                                 */
/* ------------------------------------------------------------------------ */

typedef struct TfGraph TfGraph;
typedef struct TfNode TfNode;

/* One data edge: the value a node reads. */
typedef struct TfInput {
  TfNode *node; /* the producer; NULL for a function argument */
  int index;    /* the producer's output index (flat, counted over all of
                 * its outputs, also in function bodies) */
  int feed;     /* >= 0: the edge reads feed `feed` of the graph instead of
                 * the producer (which may then be pruned); else -1 */
} TfInput;

struct TfNode {
  const char *name;               /* unique within the graph */
  const char *op;                 /* "Conv2D", "Const", a function name … */
  const Tensorflow__NodeDef *def; /* the node as read; attrs live here */
  TfGraph *graph;                 /* the graph holding the node */
  int id;                         /* position in the GraphDef / body */
  int ninputs;                    /* data inputs, in order */
  TfInput *inputs;
  int ncontrol;                   /* "^name" inputs: ordering only, they do
                                   * not make their producers live */
  TfNode **control;
  int noutputs;                   /* number of outputs where the op or the
                                   * attrs tell (a table of common ops,
                                   * list sizes such as Split's num_split,
                                   * callee signatures, "_output_shapes");
                                   * -1 when unknown */
  bool live;                      /* needed by a fetch: in `order` */
  const HloLiteral *value;        /* variables (VarHandleOp, VariableV2):
                                   * the value a checkpoint gave them
                                   * (variables.c), in the graph's arena;
                                   * NULL for every other node */
};

/* An argument of the computation: a config feed, or a function argument. */
typedef struct TfFeed {
  const char *name;           /* config name (default: the node name), or
                               * the argument name in a function body */
  TfNode *node;               /* the fed node; NULL for function arguments */
  int index;                  /* the fed output of `node`; for functions
                               * the argument's position */
  Tensorflow__DataType dtype; /* TensorFlow's element type */
  bool has_shape;             /* `shape` is known, static and of a type hloc
                               * computes with: always true for config
                               * feeds, from the "_output_shapes" arg
                               * attribute for function arguments */
  HloShape shape;
  bool variable;              /* a config variable: `node` is its VarHandleOp
                               * or VariableV2, the feed its value when the
                               * run starts;
                               * assigns replace it (the lowering follows
                               * them), and unless readonly its last value
                               * goes back to the caller */
  bool readonly;              /* a variable the config marks readonly:
                               * assigning it is an error */
} TfFeed;

/* A result of the computation: a config fetch, or a function result. */
typedef struct TfFetch {
  const char *name;  /* config name (default: the node name), or the output
                      * argument name of a function */
  TfInput value;     /* what is fetched; value.feed >= 0 when a fed tensor is
                      * fetched (or a function returns an argument) */
} TfFetch;

struct TfGraph {
  int nnodes;        /* every node of the GraphDef (or body), in order */
  TfNode *nodes;
  int norder;        /* the live nodes, each after the producers of its data
                      * inputs: lower them in this order */
  TfNode **order;
  int nfeeds;        /* in config (or signature) order; the config's
                      * variables follow its feeds, in config order */
  TfFeed *feeds;
  int nfetches;      /* in config (or signature) order */
  TfFetch *fetches;
  const Tensorflow__GraphDef *def;        /* the whole GraphDef */
  const Tensorflow__FunctionDef *function; /* function bodies: the function;
                                            * NULL for the main graph */
  HloArena *arena;                        /* the view's storage (node
                                           * arrays, attr string copies) */
  struct TfGraphPriv *priv;               /* name table, owned messages */
};

/* Builds the view of a GraphDef for a config: resolves inputs, applies the
 * feeds (a fed tensor is read from the feed, and its producer is not walked
 * through that edge), prunes to what the fetches need along data edges
 * (and, in a graph with config variables, control edges to variable reads,
 * assigns and NoOps: side effects on the variables run when a fetch
 * depends on them), orders the live nodes and validates.  Config variables
 * become feeds of their VarHandleOp or VariableV2, after the config's
 * feeds.  Errors,
 * each naming the node:
 * duplicate or empty node names, inputs naming missing nodes or malformed
 * ("a:x"), output indices out of range where the op tells its output count,
 * a fetch or feed naming a missing node, a feed no fetch needs ("feed 'x' is
 * not used by any fetch"), a feed shape with an open dimension or unknown
 * rank or disagreeing with its Placeholder, a feed type unsupported or
 * unknown, a config variable whose node is missing or no variable or
 * whose type or shape differ from the node's, a cycle (naming the nodes
 * on it), a Placeholder the fetches need that no feed gives.  cfg may be
 * NULL: then there are no feeds or fetches and nothing is live (for tools
 * that list nodes or open functions).  Takes ownership of gd and cfg, also
 * on error. */
HloError *tf_graph_new(Tensorflow__GraphDef *gd,
                       Tensorflow__Tf2xla__Config *cfg, TfGraph **out);
/* True when gd holds TensorFlow 1 control flow ops (Switch, Merge, Enter,
 * Exit, NextIteration, LoopCond or their Ref forms). */
bool tf_has_v1_control_flow(const Tensorflow__GraphDef *gd);
/* Rewrites them in place as functional While and If nodes whose cond,
 * body and branches are new functions of gd's library (functionalize.c);
 * Merges and Exits stay as Identity nodes of the same names; conds and
 * loops may nest either way.  tf_graph_new calls it.  Structures that are no loop or cond are errors naming the
 * nodes, e.g. a Merge whose inputs come from different predicates or an
 * Exit no Enter leads to. */
HloError *tf_functionalize(Tensorflow__GraphDef *gd);

/* Reads both files and calls tf_graph_new. */
HloError *tf_graph_load(const char *graph_path, const char *config_path,
                        TfGraph **out);
/* Frees the view and, for a main graph, the GraphDef and config.  Views of
 * function bodies borrow the main graph's GraphDef: free them first. */
void tf_graph_free(TfGraph *g);

/* The node named `name`, or NULL. */
TfNode *tf_graph_node(const TfGraph *g, const char *name);
/* The function of the GraphDef's library named `name`, or NULL. */
const Tensorflow__FunctionDef *tf_graph_find_function(const TfGraph *g,
                                                      const char *name);
/* A view of the body of library function `name` (a While's cond/body, an
 * If's branch, a call): feeds are its arguments (by position), fetches its
 * results ("ret", in signature order), inputs "node:out_arg:K" resolved to
 * flat output indices; pruned, ordered and validated like a graph, except
 * that arguments may go unused (a loop condition often ignores most). */
HloError *tf_graph_function(const TfGraph *g, const char *name,
                            TfGraph **out);

/* An error prefixed with "node 'NAME' (OP): ", and "function 'F': " for
 * nodes of function bodies: the way the lowering reports problems. */
HloError *tf_node_error(const TfNode *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------ */
/* SavedModels and checkpoints (savedmodel.c, variables.c)                  */
/* ------------------------------------------------------------------------ */

/* A static shape for a model input whose saved shape has dimensions fixed
 * only at run time ("--input-shape NAME=1,224,224,3"). */
typedef struct TfInputShape {
  const char *name;            /* the signature's input key */
  int rank;
  int64_t dims[HLO_MAX_RANK];
} TfInputShape;

/* How a SavedModel becomes a graph.  Zero-initialised: the "serve" meta
 * graph, its "serving_default" signature, saved shapes only. */
typedef struct TfSavedModelOptions {
  const char *tags;      /* the meta graph's tag set, comma-separated; it
                          * must equal the saved set (NULL: "serve") */
  const char *signature; /* signature key (NULL: "serving_default") */
  const TfInputShape *input_shapes;
  int ninput_shapes;
} TfSavedModelOptions;

/* True when `path` is a directory holding saved_model.pb or
 * saved_model.pbtxt. */
bool tf_is_saved_model(const char *path);

/* Reads DIR/saved_model.pb (or .pbtxt).  Free with
 * tensorflow__saved_model__free_unpacked(*out, NULL). */
HloError *tf_saved_model_read(const char *dir, Tensorflow__SavedModel **out);

/* The meta graph whose tag set equals `tags` (comma-separated; NULL:
 * "serve"); an error lists the tag sets there are.  `dir` names the model
 * in messages. */
HloError *tf_saved_model_meta_graph(const Tensorflow__SavedModel *sm, const char *dir,
                                    const char *tags, Tensorflow__MetaGraphDef **out);

/* The signature `key` (NULL: "serving_default"); an error lists the keys
 * there are.  *out points into mg. */
HloError *tf_saved_model_signature(const Tensorflow__MetaGraphDef *mg, const char *dir,
                                   const char *key, const Tensorflow__SignatureDef **out);

/* The tfcompile config a signature stands for: its inputs as feeds (with
 * the shapes o gives, else the saved ones) and its outputs as fetches,
 * named by their keys, in key order.  Saved shapes that leave dimensions
 * to run time are errors unless open_ok (a config template: such shapes
 * are kept, -1 and all; an unknown rank gives no shape).  Free with
 * tensorflow__tf2xla__config__free_unpacked(*out, NULL). */
HloError *tf_saved_model_config(const Tensorflow__SignatureDef *sig,
                                const TfSavedModelOptions *o, bool open_ok,
                                Tensorflow__Tf2xla__Config **out);

/* A SavedModel directory as a graph view: the selected signature's inputs
 * become the feeds and its outputs the fetches, both named by the
 * signature's keys and taken in key order; every live variable is bound to
 * its value in DIR/variables (through the object graph for TensorFlow 2
 * models, see variables.c).  With config_path, that tfcompile config names
 * the feeds and fetches instead of the signature.  Errors name the
 * directory and what is missing: the tag set, the signature, an input's
 * static shape (naming its saved shape), a variable's value. */
HloError *tf_saved_model_load(const char *dir, const char *config_path,
                              const TfSavedModelOptions *o, TfGraph **out);

/* The TensorFlow 2 checkpoint keys of the variables a SavedModel's graph g
 * captures: for every call in g (StatefulPartitionedCall,
 * PartitionedCall) of a concrete function with bound inputs, its trailing
 * inputs are the captured variables; the object graph of the meta graph
 * and the checkpoint's own (the serialized TrackableObjectGraph
 * `trackable`, `len` bytes; NULL: none) give each its key.  *keys is one
 * entry per node of g (NULL: no key), arena memory. */
HloError *tf_saved_model_variable_keys(const TfGraph *g, const Tensorflow__MetaGraphDef *mg,
                                       const uint8_t *trackable, size_t len, HloArena *arena,
                                       const char ***keys);

/* VarHandleOp, VariableV2, VariableV1, Variable: the ops whose value a
 * checkpoint gives. */
bool tf_is_variable_op(const char *op);

/* Binds every live variable of g (VarHandleOp, VariableV2, VariableV1,
 * Variable) to its value in the checkpoint PREFIX (PREFIX.index and its
 * data shards): the key is keys[node id] where keys and that entry are
 * non-NULL, else the node's name, else its shared_name; a node NAME/part_K
 * that none names takes slice K (in the order of their starts) of the
 * partitioned variable NAME.  The value's type and shape must match the
 * node's dtype and shape attributes.  Errors name the node, the checkpoint
 * and the keys tried. */
HloError *tf_graph_bind_checkpoint(TfGraph *g, const char *prefix, const char *const *keys);
/* The same with the checkpoint already open (bundle.c); `prefix` names it
 * in messages. */
struct TfBundle;
HloError *tf_graph_bind_bundle(TfGraph *g, struct TfBundle *b, const char *prefix,
                               const char *const *keys);

/* ------------------------------------------------------------------------ */
/* Attributes and types (attr.c)                                            */
/* ------------------------------------------------------------------------ */

/* The attribute, or NULL when the node has none of that name (then the op's
 * default applies; the accessors below report it as missing). */
const Tensorflow__AttrValue *tf_attr_find(const TfNode *n, const char *name);

/* Each returns an error naming the node and the attribute when it is missing
 * or holds another kind of value.  Pointers point into the GraphDef and live
 * as long as the graph. */
HloError *tf_attr_type(const TfNode *n, const char *name,
                       Tensorflow__DataType *out);
HloError *tf_attr_int(const TfNode *n, const char *name, int64_t *out);
HloError *tf_attr_float(const TfNode *n, const char *name, float *out);
HloError *tf_attr_bool(const TfNode *n, const char *name, bool *out);
/* A NUL-terminated copy held by the graph (strings with NUL bytes are an
 * error: use tf_attr_find for binary data). */
HloError *tf_attr_string(const TfNode *n, const char *name, const char **out);
/* Lists: an absent list value (attr "list {}") is an empty list. */
HloError *tf_attr_int_list(const TfNode *n, const char *name,
                           const int64_t **out, int *count);
HloError *tf_attr_float_list(const TfNode *n, const char *name,
                             const float **out, int *count);
HloError *tf_attr_type_list(const TfNode *n, const char *name,
                            const Tensorflow__DataType **out, int *count);
HloError *tf_attr_shape(const TfNode *n, const char *name,
                        const Tensorflow__TensorShapeProto **out);
HloError *tf_attr_tensor(const TfNode *n, const char *name,
                         const Tensorflow__TensorProto **out);
HloError *tf_attr_func(const TfNode *n, const char *name,
                       const Tensorflow__NameAttrList **out);

/* "DT_FLOAT", "DT_HALF_REF", …; "DT_<number>" for values outside the enum
 * (a static string for those in it, else one of a few rotating buffers). */
const char *tf_type_name(Tensorflow__DataType t);
/* DT_FLOAT->f32, DT_HALF->f16, DT_BFLOAT16->bf16, DT_DOUBLE->f64,
 * DT_INT8/16/32/64->s8…s64, DT_UINT8/16/32/64->u8…u64, DT_BOOL->pred; a _REF
 * type maps as its base.  Others (DT_STRING, DT_COMPLEX64, DT_RESOURCE,
 * DT_VARIANT, quantized, float8, int4 …): an error naming the type. */
HloError *tf_type_to_hlo(Tensorflow__DataType t, HloType *out);
/* The inverse for array types; DT_INVALID for tuple and token. */
Tensorflow__DataType tf_type_from_hlo(HloType t);

/* ------------------------------------------------------------------------ */
/* Tensors and shapes (tensor.c)                                            */
/* ------------------------------------------------------------------------ */

/* A static shape of element type `type`: errors for unknown rank, negative
 * (open) dimensions, rank above HLO_MAX_RANK and element counts overflowing
 * int64.  NULL `s` is a scalar. */
/* A saved shape as TensorFlow's tools print it: "(-1, 224, 224, 3)", "()"
 * for a scalar, "(unknown rank)" for an unknown rank or no shape (NULL). */
void tf_shape_print(HloStr *out, const Tensorflow__TensorShapeProto *s);

HloError *tf_shape_to_hlo(const Tensorflow__TensorShapeProto *s, HloType type,
                          HloShape *out);

/* The shape of a TensorProto's value, checked as tf_tensor_to_literal does
 * (dtype supported, dims >= 0, at most 2^31 elements) without decoding it. */
HloError *tf_tensor_shape(const Tensorflow__TensorProto *t, HloShape *out);

/* Decodes a TensorProto: tensor_content (raw little-endian elements, whose
 * size must match the shape) or the typed field for its dtype (float_val,
 * double_val, int_val for 8/16/32-bit integers, int64_val, uint32_val,
 * uint64_val, bool_val, half_val holding f16/bf16 bit patterns), where fewer
 * values than elements repeat the last one and none means zeros.  Errors
 * name the field: unsupported dtype (string_val tensors are not
 * computable), bad dims, size mismatches, more values than elements.  The
 * literal is allocated in `arena`, or on the heap (hlo_literal_free) when
 * arena is NULL. */
HloError *tf_tensor_to_literal(const Tensorflow__TensorProto *t,
                               HloArena *arena, HloLiteral **out);

/* For a TensorProto compressed by that rule (no tensor_content, fewer
 * values than elements): *values = the values given, as a 1-D literal (one
 * zero when none are), so a caller can build the tensor without decoding
 * all of it; the tensor is those values, then the last repeated.  *values
 * is NULL for a tensor not compressed. */
HloError *tf_tensor_repeated(const Tensorflow__TensorProto *t, HloArena *arena,
                             HloLiteral **values);

/* The "value" attr of a Const node, checked against its "dtype" attr. */
HloError *tf_node_tensor(const TfNode *n, const Tensorflow__TensorProto **out);
/* The value of a Const node, as tf_tensor_to_literal; errors name the node. */
HloError *tf_node_const(const TfNode *n, HloArena *arena, HloLiteral **out);

/* ------------------------------------------------------------------------ */
/* Checkpoints (bundle.c)                                                   */
/* ------------------------------------------------------------------------ */

typedef struct TfBundle TfBundle;

/* Where one slice of a partitioned variable lies in the whole tensor: per
 * dimension, the first index and the extent (the whole dimension where
 * `full` has bit d set: the slice's proto gives no length). */
typedef struct TfBundleSlice {
  int64_t start[HLO_MAX_RANK];
  int64_t length[HLO_MAX_RANK];
  uint32_t full;
} TfBundleSlice;

/* One tensor of a checkpoint, as its index describes it. */
typedef struct TfBundleEntry {
  const char *key;            /* the checkpoint key, NUL-terminated */
  size_t key_len;             /* its length: the keys of a partitioned
                               * variable's slices hold NUL bytes */
  Tensorflow__DataType dtype;
  int rank;                   /* -1 if the shape is unknown */
  int64_t dims[HLO_MAX_RANK];
  int shard;                  /* data file index */
  uint64_t offset, size;      /* byte range in the shard */
  uint32_t crc32c;            /* as stored (masked, see tf_crc32c_mask) */
  bool sliced;                /* a partitioned variable: the tensor is
                               * assembled from its slices, each stored
                               * under a key of its own */
  int nslices;                /* sliced: the slices, checked to lie inside
                               * the shape, sorted by their starts */
  const TfBundleSlice *slices;
} TfBundleEntry;

/* Opens PREFIX.index, validates the whole table (every block CRC, every key
 * order, every entry: dtype, shape, shard < num_shards, offset+size without
 * overflow, a partitioned variable's slices inside its known shape) and checks that every data shard exists and is large enough for
 * its entries.  Errors name the file and what is wrong, e.g.
 * "ckpt/variables.index: block at byte 1234: CRC32C mismatch" or
 * "ckpt/variables.data-00000-of-00001: entry
 * 'dense/kernel/.ATTRIBUTES/VARIABLE_VALUE' reads bytes 0..4096 past the end
 * of the file (2048 bytes)".  Data files are read when a tensor is. */
HloError *tf_bundle_open(const char *prefix, TfBundle **out);
/* The same from memory (for fuzzing and tests): the index, and the
 * `nshards` data files the header must name.  `name` stands for the prefix
 * in messages.  The index is not needed after the call; the shards are
 * read in place and must outlive the bundle. */
HloError *tf_bundle_open_memory(const char *name, const void *index,
                                size_t index_len, int nshards,
                                const void *const *shards,
                                const size_t *shard_lens, TfBundle **out);
void tf_bundle_free(TfBundle *b);
/* The entries without the header, sorted by key (bytewise). */
int tf_bundle_size(const TfBundle *b);
const TfBundleEntry *tf_bundle_entry(const TfBundle *b, int i);
/* The entry of `key`, or NULL if absent. */
const TfBundleEntry *tf_bundle_find(const TfBundle *b, const char *key);
/* Reads a numeric tensor (any dtype tf_type_to_hlo accepts) into a literal
 * of its shape, checking that size == elements*element size and the CRC32C
 * of the bytes.  A partitioned variable is assembled from its slices
 * (tf_bundle_slice_entry), which must cover it exactly once.  Literal in
 * `arena` (or heap when NULL, as tf_tensor_to_literal). */
HloError *tf_bundle_read(TfBundle *b, const TfBundleEntry *e, HloArena *arena,
                         HloLiteral **out);
/* The entry holding slice s of partitioned entry e (its key is TensorFlow's
 * encoding of e's key and the slice), checked to be an unpartitioned
 * tensor of e's dtype and the slice's shape.  Errors name e's key and the
 * slice as TensorFlow prints it ("0,2:-"). */
HloError *tf_bundle_slice_entry(const TfBundle *b, const TfBundleEntry *e,
                                int s, const TfBundleEntry **out);
/* Reads a scalar DT_STRING entry (e.g. "_CHECKPOINTABLE_OBJECT_GRAPH", a
 * serialized TrackableObjectGraph), checking both of its checksums:
 * *data and *len point into memory owned by `arena` (not NULL). */
HloError *tf_bundle_read_string(TfBundle *b, const TfBundleEntry *e,
                                HloArena *arena, const uint8_t **data,
                                size_t *len);

/* CRC32C (Castagnoli) of n bytes, continuing `crc` (0 to start), and the
 * masked form TensorFlow stores (a CRC of data holding CRCs is weak). */
uint32_t tf_crc32c_extend(uint32_t crc, const void *data, size_t n);
uint32_t tf_crc32c_mask(uint32_t crc);

/* ------------------------------------------------------------------------ */
/* Lowering to HLO (lower*.c)                                               */
/* ------------------------------------------------------------------------ */

/* Lowers the live part of g into a new HLO module named `name`: the feeds
 * become the entry's parameters in config order (named after the feeds),
 * the fetches its result (a tuple when there are several, in config order).
 * Each read-write config variable adds one more result after the fetches,
 * its value when the run ends, and a module alias (HloModule.alias) that
 * writes it back into the variable's parameter.  Reads of a variable see
 * the assigns (AssignVariableOp, AssignAddVariableOp, AssignSubVariableOp,
 * and for reference variables Assign, AssignAdd, AssignSub) lowered before
 * them, in the order the graph's edges give.
 * Every instruction carries the TF node name and op as metadata.  Before
 * lowering anything, every op without a lowering is reported at once (op
 * type, count, node names).  The module is verified; it does not point into
 * g, which may be freed afterwards. */
HloError *tf_import(const TfGraph *g, const char *name, HloModule **out);
/* tf_import for a caller that frees g next: each Const node's tensor bytes
 * are freed as soon as its constant is made, so that a frozen graph's
 * weights are not held twice (the graph's, the module's) until the end.
 * Afterwards g may only be freed (tf_graph_free). */
HloError *tf_import_consuming(TfGraph *g, const char *name, HloModule **out);

/* The supported ops, in alphabetical order: *n entries of op name,
 * attributes honoured and notes.  For `hloc ops` and docs/ops.md. */
typedef struct TfOpInfo {
  const char *op, *attrs, *notes;
} TfOpInfo;
const TfOpInfo *tf_supported_ops(int *n);

#endif /* HLOC_FRONTEND_H */
