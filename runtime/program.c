/*
 * program.c — running a compiled program through its generic descriptor
 * (hloc_program, declared in hloc_runtime.h and emitted by codegen/): the
 * pieces of the ABI that need code on the host side, the scratch arena and
 * the names of the cancellation points.
 */
#include <stdlib.h>

#include "hloc_runtime.h"

int hloc_program_run_cancellable(const hloc_program *p, void *const *buffers,
                                 const int32_t *cancel) {
  void *scratch = NULL;
  if (p->scratch_bytes > 0) {
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    size_t align = p->scratch_align > sizeof(void *) ? p->scratch_align
                                                     : sizeof(void *);
    size_t size = (p->scratch_bytes + align - 1) / align * align;
    scratch = aligned_alloc(align, size);
    if (!scratch) return -1;
  }
  int status = cancel ? p->run_cancellable(buffers, scratch, cancel) : p->run(buffers, scratch);
  free(scratch);
  return status;
}

int hloc_program_run(const hloc_program *p, void *const *buffers) {
  return hloc_program_run_cancellable(p, buffers, NULL);
}

const char *hloc_program_cancel_point(const hloc_program *p, int status) {
  return status > 0 && status <= p->num_cancel_points ? p->cancel_points[status - 1] : NULL;
}
