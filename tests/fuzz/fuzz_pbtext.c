/*
 * fuzz_pbtext.c — libFuzzer harness for the protobuf text-format reader
 * (frontend/pbtext.c): each input is read as a GraphDef and as a tfcompile
 * Config.  What it accepts must pack with protobuf-c and read back through
 * the binary path (wire.c) unchanged — the text reader writes wire format
 * itself, so this checks that what it writes is well-formed.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_as(const ProtobufCMessageDescriptor *desc,
                    const uint8_t *data, size_t size) {
  ProtobufCMessage *m;
  HloError *e =
      tf_proto_parse_text(desc, (const char *)data, size, "fuzz.pbtxt", &m);
  if (e) {
    hlo_error_free(e);
    return;
  }
  size_t len = protobuf_c_message_get_packed_size(m);
  uint8_t *a = malloc(len + 1);
  protobuf_c_message_pack(m, a);
  ProtobufCMessage *back;
  e = tf_proto_parse_binary(desc, a, len, "packed.pb", &back);
  if (e) abort();
  uint8_t *b = malloc(len + 1);
  if (protobuf_c_message_get_packed_size(back) != len ||
      protobuf_c_message_pack(back, b) != len || memcmp(a, b, len))
    abort();
  free(a);
  free(b);
  protobuf_c_message_free_unpacked(back, NULL);
  protobuf_c_message_free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  read_as(&tensorflow__graph_def__descriptor, data, size);
  read_as(&tensorflow__tf2xla__config__descriptor, data, size);
  return 0;
}
