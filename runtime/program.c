/*
 * program.c — running a compiled program through its generic descriptor
 * (hloc_program, declared in hloc_runtime.h and emitted by codegen/): the
 * one piece of the ABI that needs code on the host side, the scratch arena.
 */
#include <stdlib.h>

#include "hloc_runtime.h"

int hloc_program_run(const hloc_program *p, void *const *buffers) {
  void *scratch = NULL;
  if (p->scratch_bytes > 0) {
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    size_t align = p->scratch_align > sizeof(void *) ? p->scratch_align
                                                     : sizeof(void *);
    size_t size = (p->scratch_bytes + align - 1) / align * align;
    scratch = aligned_alloc(align, size);
    if (!scratch) return -1;
  }
  int status = p->run(buffers, scratch);
  free(scratch);
  return status;
}
