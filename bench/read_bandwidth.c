// Read-only bandwidth over a file mapped as the engine maps a model (PROT_READ,
// MAP_PRIVATE, page cache warm): N pthreads each sum their own contiguous slice.
// Prints the best of several passes in bytes/s. It sets the ceiling for a decode
// step, which only reads its weights: the STREAM triad also writes, so a read stream
// can outrun it.
//   cc -O3 -pthread bench/read_bandwidth.c -o read_bandwidth
//   ./read_bandwidth FILE THREADS
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct { const uint64_t *p; size_t words; pthread_barrier_t *bar; int passes; double *best; int id; uint64_t sum; } job_t;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *work(void *arg) {
    job_t *j = arg;
    for (int pass = 0; pass < j->passes; pass++) {
        pthread_barrier_wait(j->bar);
        double t0 = now();
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i + 4 <= j->words; i += 4) {
            s0 += j->p[i];
            s1 += j->p[i + 1];
            s2 += j->p[i + 2];
            s3 += j->p[i + 3];
        }
        j->sum += s0 ^ s1 ^ s2 ^ s3;
        pthread_barrier_wait(j->bar);
        double dt = now() - t0;
        if (j->id == 0 && dt < *j->best) *j->best = dt;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    if (argc != 3 || threads < 1 || threads > 256) { fprintf(stderr, "usage: read_bandwidth FILE THREADS\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[1]); return 1; }
    size_t words = (size_t)st.st_size / 8 / threads / 4 * 4;
    if (words == 0) { fprintf(stderr, "read_bandwidth: %s is too small\n", argv[1]); return 1; }
    const uint64_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) { perror("mmap"); return 1; }
    // Fault every page in first, so the passes time reads, not page faults.
    volatile uint64_t touch = 0;
    for (size_t i = 0; i < (size_t)st.st_size / 8; i += 512) touch += map[i];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, threads);
    pthread_t tid[256];
    job_t jobs[256];
    double best = 1e30;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job_t){map + words * t, words, &bar, 3, &best, t, 0};
        pthread_create(&tid[t], NULL, work, &jobs[t]);
    }
    uint64_t check = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        check ^= jobs[t].sum;
    }
    printf("%.0f %llu\n", 8.0 * words * threads / best, (unsigned long long)(check & 0xFFFF));
    return 0;
}
