// What the bench tools share: a monotonic clock, and a runner that times passes of
// work split over pthreads. Every thread waits at a barrier before and after each pass,
// so a pass lasts as long as its slowest thread; thread 0 times it and the best pass
// is returned, in seconds. Header-only, so each tool still builds from its one .c file.
#ifndef BENCH_THREADS_H
#define BENCH_THREADS_H
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

enum { BENCH_MAX_THREADS = 256 };

typedef struct {
    void *job;                 // this thread's share of the work
    void (*prepare)(void *);   // once, on the thread, before the passes (first touch); may be NULL
    void (*pass)(void *);      // one timed pass
    pthread_barrier_t *bar;
    int passes, id;
    double *best;
} bench_thread;

static inline void *bench_thread_main(void *arg) {
    bench_thread *t = arg;
    if (t->prepare) t->prepare(t->job);
    for (int p = 0; p < t->passes; p++) {
        pthread_barrier_wait(t->bar);
        const double t0 = bench_now();
        t->pass(t->job);
        pthread_barrier_wait(t->bar);
        const double dt = bench_now() - t0;
        if (t->id == 0 && dt < *t->best) *t->best = dt;
    }
    return NULL;
}

// Runs `passes` passes over threads jobs, jobs[k * job_size] being thread k's.
static inline double bench_best_pass(int threads, int passes, void *jobs, size_t job_size, void (*prepare)(void *),
                                     void (*pass)(void *)) {
    if (threads < 1 || threads > BENCH_MAX_THREADS) {
        fprintf(stderr, "bench: threads must be from 1 to %d\n", BENCH_MAX_THREADS);
        exit(2);
    }
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)threads);
    pthread_t tid[BENCH_MAX_THREADS];
    bench_thread ts[BENCH_MAX_THREADS];
    double best = 1e30;
    for (int k = 0; k < threads; k++) {
        ts[k] = (bench_thread){(char *)jobs + k * job_size, prepare, pass, &bar, passes, k, &best};
        if (pthread_create(&tid[k], NULL, bench_thread_main, &ts[k]) != 0) {
            fprintf(stderr, "bench: cannot start thread %d\n", k);
            exit(1);
        }
    }
    for (int k = 0; k < threads; k++) pthread_join(tid[k], NULL);
    pthread_barrier_destroy(&bar);
    return best;
}
#endif
