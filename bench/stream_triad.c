// STREAM-style triad (a[i] = b[i] + s*c[i]) over arrays far larger than any cache,
// split across N pthreads, each first-touching its own slice. Prints the best
// bandwidth in bytes/s over several passes, counting 24 bytes per element as STREAM
// does (no write-allocate traffic). bench/compare divides the weight bytes a decode
// step reads by this to get the memory roofline for the same thread count.
#include "bench_threads.h"

typedef struct { double *a, *b, *c; size_t lo, hi; } job_t;

static void first_touch(void *p) {
    job_t *j = p;
    for (size_t i = j->lo; i < j->hi; i++) { j->a[i] = 0; j->b[i] = 1.0 + i % 7; j->c[i] = 2.0 + i % 5; }
}

static void triad(void *p) {
    job_t *j = p;
    for (size_t i = j->lo; i < j->hi; i++) j->a[i] = j->b[i] + 3.0 * j->c[i];
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : (size_t)1 << 25;  // 3 x 256 MiB
    if (threads < 1 || threads > BENCH_MAX_THREADS || n < 1024) {
        fprintf(stderr, "usage: stream_triad THREADS [ELEMENTS]\n");
        return 2;
    }
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    job_t *jobs = malloc(threads * sizeof *jobs);
    if (!a || !b || !c || !jobs) { fprintf(stderr, "stream_triad: out of memory\n"); return 1; }
    for (int t = 0; t < threads; t++) jobs[t] = (job_t){a, b, c, n * t / threads, n * (t + 1) / threads};
    const double best = bench_best_pass(threads, 10, jobs, sizeof *jobs, first_touch, triad);
    double check = 0;
    for (size_t i = 0; i < n; i += 4096) check += a[i];
    printf("%.0f %g\n", 24.0 * n / best, check);
    return 0;
}
