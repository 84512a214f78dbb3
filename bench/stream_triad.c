// STREAM-style triad (a[i] = b[i] + s*c[i]) over arrays far larger than any cache,
// split across N pthreads, each first-touching its own slice. Prints the best
// bandwidth in bytes/s over several passes, counting 24 bytes per element as STREAM
// does (no write-allocate traffic). bench/compare divides the weight bytes a decode
// step reads by this to get the memory roofline for the same thread count.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct { double *a, *b, *c; size_t lo, hi; pthread_barrier_t *bar; int passes; double *best; int id; } job_t;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *work(void *p) {
    job_t *j = p;
    for (size_t i = j->lo; i < j->hi; i++) { j->a[i] = 0; j->b[i] = 1.0 + i % 7; j->c[i] = 2.0 + i % 5; }
    for (int pass = 0; pass < j->passes; pass++) {
        pthread_barrier_wait(j->bar);
        double t0 = now();
        for (size_t i = j->lo; i < j->hi; i++) j->a[i] = j->b[i] + 3.0 * j->c[i];
        pthread_barrier_wait(j->bar);
        double dt = now() - t0;
        if (j->id == 0 && dt < *j->best) *j->best = dt;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : (size_t)1 << 25;  // 3 x 256 MiB
    int passes = 10;
    if (threads < 1 || threads > 256 || n < 1024) { fprintf(stderr, "usage: stream_triad THREADS [ELEMENTS]\n"); return 2; }
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (!a || !b || !c) { fprintf(stderr, "stream_triad: out of memory\n"); return 1; }
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, threads);
    pthread_t tid[256];
    job_t jobs[256];
    double best = 1e30;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job_t){a, b, c, n * t / threads, n * (t + 1) / threads, &bar, passes, &best, t};
        pthread_create(&tid[t], NULL, work, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double check = 0;
    for (size_t i = 0; i < n; i += 4096) check += a[i];
    printf("%.0f %g\n", 24.0 * n / best, check);
    return 0;
}
