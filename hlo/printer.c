/* printer.c — being written. */
#include "hlo.h"
