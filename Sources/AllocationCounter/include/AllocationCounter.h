// Measurement support (`faultline-bench --allocations`, not the shipped `faultline`): counts the
// heap allocations the calling thread makes between allocation_counter_begin() and
// allocation_counter_end(). A binary that links this in has its definitions of malloc & co
// instead of the C library's, for the whole process (the Swift runtime allocates through them);
// each forwards to glibc's own (__libc_malloc, ...).
#ifndef FAULTLINE_ALLOCATION_COUNTER_H
#define FAULTLINE_ALLOCATION_COUNTER_H

void allocation_counter_begin(void);
/// The allocations (malloc, calloc, realloc, aligned allocations) since the matching begin.
long allocation_counter_end(void);

#endif
