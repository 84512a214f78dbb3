// CKernels: the few hot dot products, in C with per-function ISA attributes.
// Knows nothing about models. Pointers and counts only: no allocation, no threads.
#ifndef LAMBDA_LLM_CKERNELS_H
#define LAMBDA_LLM_CKERNELS_H
#include <stddef.h>
#include <stdint.h>
#endif
