/*
 * rt_internal.h — what the runtime's files share and its users do not see:
 * the one way a runtime function reports an error into the caller's
 * buffer.  Not installed; hloc_runtime.h is the runtime's public header.
 */
#ifndef HLOC_RUNTIME_RT_INTERNAL_H
#define HLOC_RUNTIME_RT_INTERNAL_H

#include <stddef.h>

/* Formats the message into err (errlen bytes; err may be NULL) and
 * returns -1, the runtime's failure status. */
int rt_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
