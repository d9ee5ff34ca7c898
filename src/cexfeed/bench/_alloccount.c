/* Counts allocator calls of the Python object and mem domains while enabled.
 *
 * Loaded with ctypes by bench/alloc.py, which compiles it on first use. alloc_start() wraps
 * the current PYMEM_DOMAIN_OBJ and PYMEM_DOMAIN_MEM allocators (tracemalloc hooks the same
 * way); every malloc/calloc/realloc call adds one block and its requested size; frees are
 * passed through uncounted. alloc_stop() restores the wrapped allocators. Call both with the
 * GIL held (ctypes.PyDLL). */
#include <Python.h>

static PyMemAllocatorEx orig_obj, orig_mem;
static unsigned long long blocks, nbytes;
static int active;

static void *count_malloc(void *ctx, size_t size) {
    PyMemAllocatorEx *a = (PyMemAllocatorEx *)ctx;
    blocks++;
    nbytes += size;
    return a->malloc(a->ctx, size);
}

static void *count_calloc(void *ctx, size_t nelem, size_t elsize) {
    PyMemAllocatorEx *a = (PyMemAllocatorEx *)ctx;
    blocks++;
    nbytes += nelem * elsize;
    return a->calloc(a->ctx, nelem, elsize);
}

static void *count_realloc(void *ctx, void *ptr, size_t size) {
    PyMemAllocatorEx *a = (PyMemAllocatorEx *)ctx;
    blocks++;
    nbytes += size;
    return a->realloc(a->ctx, ptr, size);
}

static void count_free(void *ctx, void *ptr) {
    PyMemAllocatorEx *a = (PyMemAllocatorEx *)ctx;
    a->free(a->ctx, ptr);
}

void alloc_start(void) {
    if (active) return;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &orig_obj);
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &orig_mem);
    PyMemAllocatorEx obj = {&orig_obj, count_malloc, count_calloc, count_realloc, count_free};
    PyMemAllocatorEx mem = {&orig_mem, count_malloc, count_calloc, count_realloc, count_free};
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &obj);
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &mem);
    active = 1;
}

void alloc_stop(void) {
    if (!active) return;
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &orig_obj);
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &orig_mem);
    active = 0;
}

unsigned long long alloc_blocks(void) { return blocks; }
unsigned long long alloc_bytes(void) { return nbytes; }
