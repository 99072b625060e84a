// XiangChain contract SDK: the little that must be C (the toolchain's clang compiles it).
//
// First, what Swift cannot name: the linker's __heap_base (the first byte after the stack and
// static data), so that the bump allocator starts there instead of growing memory on its first
// allocation.
extern unsigned char __heap_base;

unsigned long xc_heap_base(void) { return (unsigned long)&__heap_base; }

// The Embedded Swift runtime calls free(); Swift may not define a symbol of that name itself, so
// it is forwarded here to the bump allocator in XCSupport.swift.
void _xc_free(void *pointer);

void free(void *pointer) { _xc_free(pointer); }
