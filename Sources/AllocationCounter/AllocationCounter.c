// See include/AllocationCounter.h. Linux/glibc only: elsewhere the counter is not built in and
// allocation_counter_end() returns -1.
//
// While a thread counts, its allocations come from a private bump arena, each exactly as big as
// asked (malloc_usable_size says so too): the Swift runtime sizes an array's capacity by the
// block it got, and glibc's blocks differ with the heap's history (other threads share it), which
// would make the counts differ by an allocation or two from run to run. Arena blocks are never
// reused (free ignores them); when the arena is full, allocations go to glibc again.
#include "AllocationCounter.h"
#if defined(__linux__)
#include <features.h>
#endif

#if defined(__linux__) && defined(__GLIBC__)
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread long allocations;

#define ARENA_SIZE ((size_t)1 << 31)
static char *arena;                 // mapped once, by the first begin
static uintptr_t next;              // the arena's free part starts here (shared: atomic)

static int in_arena(const void *p) { return arena && (const char *)p >= arena && (const char *)p < arena + ARENA_SIZE; }

// A block of the arena: its size in the 16 bytes before it.
static void *take(size_t n, size_t align) {
    if (align < 16) align = 16;
    uintptr_t old = __atomic_load_n(&next, __ATOMIC_RELAXED), p;
    do {
        if (!old) return NULL;
        p = (old + 16 + align - 1) & ~(uintptr_t)(align - 1);
        if (p + n > (uintptr_t)arena + ARENA_SIZE) return NULL;
    } while (!__atomic_compare_exchange_n(&next, &old, p + n, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    ((size_t *)p)[-1] = n;
    return (void *)p;
}

void *malloc(size_t n) {
    if (counting) { allocations++; void *p = take(n, 16); if (p) return p; }
    return __libc_malloc(n);
}
void *calloc(size_t k, size_t n) {
    if (counting) { allocations++; void *p = take(k * n, 16); if (p) { memset(p, 0, k * n); return p; } }
    return __libc_calloc(k, n);
}
void *realloc(void *q, size_t n) {
    if (counting) allocations++;
    if (in_arena(q) || (counting && q == NULL)) {
        void *p = counting ? take(n, 16) : NULL;
        if (!p) p = __libc_malloc(n);
        if (p && q) { size_t old = ((size_t *)q)[-1]; memcpy(p, q, old < n ? old : n); }
        return p;
    }
    return __libc_realloc(q, n);
}
void free(void *p) { if (!in_arena(p)) __libc_free(p); }
static void *aligned(size_t a, size_t n) {
    if (counting) { allocations++; void *p = take(n, a); if (p) return p; }
    return __libc_memalign(a, n);
}
void *memalign(size_t a, size_t n) { return aligned(a, n); }
void *aligned_alloc(size_t a, size_t n) { return aligned(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    void *p = aligned(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

size_t malloc_usable_size(void *p) {
    static size_t (*libc)(void *);
    if (in_arena(p)) return ((size_t *)p)[-1];
    if (!libc) libc = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    return libc ? libc(p) : 0;
}

void allocation_counter_begin(void) {
    if (!__atomic_load_n(&arena, __ATOMIC_ACQUIRE)) {
        void *a = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        char *none = NULL;
        if (a != MAP_FAILED) {
            if (__atomic_compare_exchange_n(&arena, &none, (char *)a, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                __atomic_store_n(&next, (uintptr_t)a, __ATOMIC_RELEASE);
            else munmap(a, ARENA_SIZE);
        }
    }
    allocations = 0;
    counting = 1;
}
long allocation_counter_end(void) { counting = 0; return allocations; }
#else
void allocation_counter_begin(void) {}
long allocation_counter_end(void) { return -1; }
#endif
