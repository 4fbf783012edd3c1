// The one translation unit nvcc compiles into kernels.fatbin (scripts/build-kernels.sh): a single
// -fatbin compile needs no device linking, and every kernel lands in one module for cuModuleLoadData.
#include "gemm.cu"
#include "norms.cu"
#include "elementwise.cu"
#include "attention.cu"
