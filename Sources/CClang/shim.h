// The libclang C API as Debian's libclang-dev installs it. Package.swift puts
// /usr/lib/llvm-<N>/include on the include path; nothing else lives here.
#include <clang-c/Index.h>
#include <clang-c/CXCompilationDatabase.h>
