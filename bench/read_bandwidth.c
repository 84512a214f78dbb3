// Read-only bandwidth over a file mapped as the engine maps a model (PROT_READ,
// MAP_PRIVATE, page cache warm): N pthreads each sum their own contiguous slice.
// Prints the best of several passes in bytes/s. It sets the ceiling for a decode
// step, which only reads its weights: the STREAM triad also writes, so a read stream
// can outrun it.
//   cc -O3 -pthread bench/read_bandwidth.c -o read_bandwidth
//   ./read_bandwidth FILE THREADS
#include "bench_threads.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct { const uint64_t *p; size_t words; uint64_t sum; } job_t;

static void read_slice(void *arg) {
    job_t *j = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= j->words; i += 4) {
        s0 += j->p[i];
        s1 += j->p[i + 1];
        s2 += j->p[i + 2];
        s3 += j->p[i + 3];
    }
    j->sum += s0 ^ s1 ^ s2 ^ s3;
}

int main(int argc, char **argv) {
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    if (argc != 3 || threads < 1 || threads > BENCH_MAX_THREADS) { fprintf(stderr, "usage: read_bandwidth FILE THREADS\n"); return 2; }
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
    job_t *jobs = calloc(threads, sizeof *jobs);
    if (!jobs) { fprintf(stderr, "read_bandwidth: out of memory\n"); return 1; }
    for (int t = 0; t < threads; t++) jobs[t] = (job_t){map + words * t, words, 0};
    const double best = bench_best_pass(threads, 3, jobs, sizeof *jobs, NULL, read_slice);
    uint64_t check = 0;
    for (int t = 0; t < threads; t++) check ^= jobs[t].sum;
    printf("%.0f %llu\n", 8.0 * words * threads / best, (unsigned long long)(check & 0xFFFF));
    return 0;
}
