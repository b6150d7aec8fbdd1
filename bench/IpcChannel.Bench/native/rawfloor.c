/*
 * rawfloor: the OS floor for IpcChannel's cross-process benchmarks.
 *
 * The same protocols as the .NET raw baseline, in C, with fork() instead of a second runtime:
 *   pingpong SIZE WARMUP ITERS CHILDCPU  round trip of SIZE bytes: SOCK_SEQPACKET datagrams up to 64 KiB,
 *                                        a SOCK_STREAM socketpair above (read/write until SIZE bytes moved).
 *                                        Prints one line per measured round trip: nanoseconds.
 *   rate SIZE BATCHES COUNT CHILDCPU     one-way: the parent sends COUNT datagrams of SIZE bytes, the child
 *                                        reads them all and answers one byte. One warm-up batch, then BATCHES
 *                                        measured ones; prints one line per batch: nanoseconds for COUNT.
 *   fds NFDS WARMUP ITERS CHILDCPU       round trip of an 8-byte datagram carrying NFDS descriptors
 *                                        (SCM_RIGHTS); each side closes what it sent (a move, as IpcChannel
 *                                        does). Prints nanoseconds per round trip.
 *   create WARMUP ITERS                  socketpair(SOCK_SEQPACKET) then two closes, in one process. Prints
 *                                        one line: mean nanoseconds.
 *   memcpy SIZE WARMUP ITERS             memcpy of SIZE bytes between two warm buffers; mean nanoseconds.
 *   large STRATEGY SIZE WARMUP ITERS CHILDCPU
 *                                        round trip of a large message by another strategy (information for
 *                                        src/, not a floor): "seqfrag" = SEQPACKET fragments of 212960 bytes
 *                                        (Rust ipc-channel's way); "stream4m" = SOCK_STREAM with 4 MiB
 *                                        SO_SNDBUF/SO_RCVBUF; "seqfrag4m" = SEQPACKET fragments of 1 MiB with
 *                                        4 MiB buffers; "memfd" = a new sealed memfd per message, pwrite then
 *                                        pread (IpcChannel's current body path); "memfdpool" = one memfd per
 *                                        direction reused (pwrite, send its fd, pread), the floor of a pooled
 *                                        memfd design. Prints nanoseconds per round trip.
 *
 * CHILDCPU: -1 leaves the child on the parent's CPU mask (inherited), otherwise the child pins itself to that
 * CPU. The parent never changes its own mask: the caller starts this program with the mask it wants.
 * Built by the harness at run time: gcc -O2 -o rawfloor rawfloor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEQPACKET_LIMIT (64 * 1024)
#define MAX_FDS 253

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        die("sched_setaffinity");
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        if (r == 0) {
            fprintf(stderr, "unexpected end of stream\n");
            exit(2);
        }
        p += r;
        n -= (size_t)r;
    }
}

/* One message: a datagram (SEQPACKET) or SIZE bytes of a stream. */
static void send_msg(int fd, const char *buf, size_t size, int stream)
{
    if (stream) {
        write_all(fd, buf, size);
        return;
    }
    for (;;) {
        ssize_t w = send(fd, buf, size, 0);
        if (w >= 0)
            return;
        if (errno != EINTR)
            die("send");
    }
}

static void recv_msg(int fd, char *buf, size_t size, int stream)
{
    if (stream) {
        read_all(fd, buf, size);
        return;
    }
    for (;;) {
        ssize_t r = recv(fd, buf, size, 0);
        if (r == (ssize_t)size)
            return;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("recv");
        fprintf(stderr, "short datagram: %zd of %zu\n", r, size);
        exit(2);
    }
}


static pid_t spawn_child(int childcpu)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        pin(childcpu);
    return pid;
}

static void reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child failed\n");
        exit(2);
    }
}

static int pingpong(size_t size, long warmup, long iters, int childcpu)
{
    int stream = size > SEQPACKET_LIMIT;
    int sv[2];
    if (socketpair(AF_UNIX, (stream ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair");
    char *buf = malloc(size ? size : 1);
    if (!buf)
        die("malloc");
    memset(buf, 0x5a, size);
    long total = warmup + iters;
    pid_t pid = spawn_child(childcpu);
    if (pid == 0) {
        close(sv[0]);
        for (long i = 0; i < total; i++) {
            recv_msg(sv[1], buf, size, stream);
            send_msg(sv[1], buf, size, stream);
        }
        _exit(0);
    }
    close(sv[1]);
    uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)(iters ? iters : 1));
    for (long i = 0; i < total; i++) {
        uint64_t t0 = now_ns();
        send_msg(sv[0], buf, size, stream);
        recv_msg(sv[0], buf, size, stream);
        uint64_t t1 = now_ns();
        if (i >= warmup)
            samples[i - warmup] = t1 - t0;
    }
    reap(pid);
    for (long i = 0; i < iters; i++)
        printf("%llu\n", (unsigned long long)samples[i]);
    return 0;
}

static int rate(size_t size, long batches, long count, int childcpu)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair");
    char buf[SEQPACKET_LIMIT];
    memset(buf, 0x5a, sizeof buf);
    long rounds = batches + 1;
    pid_t pid = spawn_child(childcpu);
    if (pid == 0) {
        close(sv[0]);
        for (long b = 0; b < rounds; b++) {
            for (long i = 0; i < count; i++)
                recv_msg(sv[1], buf, size, 0);
            send_msg(sv[1], buf, 1, 0);
        }
        _exit(0);
    }
    close(sv[1]);
    for (long b = 0; b < rounds; b++) {
        uint64_t t0 = now_ns();
        for (long i = 0; i < count; i++)
            send_msg(sv[0], buf, size, 0);
        recv_msg(sv[0], buf, 1, 0);
        uint64_t t1 = now_ns();
        if (b > 0)
            printf("%llu\n", (unsigned long long)(t1 - t0));
    }
    reap(pid);
    return 0;
}

/* sendmsg of an 8-byte datagram with n descriptors, then close them (they moved). */
static void send_fds(int sock, int *fds, int n)
{
    char payload[8] = {0};
    struct iovec iov = {payload, sizeof payload};
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (n > 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
    }
    for (;;) {
        if (sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0)
            break;
        if (errno != EINTR)
            die("sendmsg");
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static void recv_fds(int sock, int *fds, int n)
{
    char payload[8];
    struct iovec iov = {payload, sizeof payload};
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    for (;;) {
        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) >= 0)
            break;
        if (errno != EINTR)
            die("recvmsg");
    }
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds + got, CMSG_DATA(c), sizeof(int) * (size_t)k);
            got += k;
        }
    }
    if (got != n) {
        fprintf(stderr, "received %d descriptors, expected %d\n", got, n);
        exit(2);
    }
}

static int fdpass(int n, long warmup, long iters, int childcpu)
{
    if (n > MAX_FDS)
        n = MAX_FDS;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair");
    int fds[MAX_FDS], peers[MAX_FDS];
    for (int i = 0; i < n; i++) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            die("socketpair");
        fds[i] = pair[0];
        peers[i] = pair[1];
    }
    long total = warmup + iters;
    pid_t pid = spawn_child(childcpu);
    if (pid == 0) {
        close(sv[0]);
        for (int i = 0; i < n; i++) {
            close(fds[i]);
            close(peers[i]);
        }
        int got[MAX_FDS];
        for (long i = 0; i < total; i++) {
            recv_fds(sv[1], got, n);
            send_fds(sv[1], got, n);
        }
        _exit(0);
    }
    close(sv[1]);
    uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)(iters ? iters : 1));
    for (long i = 0; i < total; i++) {
        uint64_t t0 = now_ns();
        send_fds(sv[0], fds, n);
        recv_fds(sv[0], fds, n);
        uint64_t t1 = now_ns();
        if (i >= warmup)
            samples[i - warmup] = t1 - t0;
    }
    reap(pid);
    for (long i = 0; i < iters; i++)
        printf("%llu\n", (unsigned long long)samples[i]);
    return 0;
}

static int create(long warmup, long iters)
{
    uint64_t t0 = 0;
    for (long i = 0; i < warmup + iters; i++) {
        if (i == warmup)
            t0 = now_ns();
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
            die("socketpair");
        close(sv[0]);
        close(sv[1]);
    }
    uint64_t t1 = now_ns();
    printf("%.1f\n", (double)(t1 - t0) / (double)iters);
    return 0;
}

static int copy(size_t size, long warmup, long iters)
{
    char *a = malloc(size), *b = malloc(size);
    if (!a || !b)
        die("malloc");
    memset(a, 1, size);
    memset(b, 2, size);
    uint64_t t0 = 0;
    for (long i = 0; i < warmup + iters; i++) {
        if (i == warmup)
            t0 = now_ns();
        memcpy(b, a, size);
        __asm__ volatile("" : : "r"(b) : "memory");
    }
    uint64_t t1 = now_ns();
    printf("%.1f\n", (double)(t1 - t0) / (double)iters);
    return 0;
}

/* ------------------------------------------------------------------ large-message strategies */

enum strategy { SEQFRAG, STREAM4M, SEQFRAG4M, MEMFD, MEMFDPOOL };

static void set_buffers(int fd, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0)
        die("setsockopt");
}

static void pwrite_all(int fd, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, p + done, n - done, (off_t)done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("pwrite");
        }
        done += (size_t)w;
    }
}

static void pread_all(int fd, char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, n - done, (off_t)done);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            die("pread");
        }
        done += (size_t)r;
    }
}

static void large_send(enum strategy s, int sock, const char *buf, size_t size, int pooled)
{
    switch (s) {
    case SEQFRAG:
    case SEQFRAG4M: {
        size_t frag = s == SEQFRAG ? 212960 : 1 << 20;
        for (size_t off = 0; off < size; off += frag)
            send_msg(sock, buf + off, size - off < frag ? size - off : frag, 0);
        break;
    }
    case STREAM4M:
        write_all(sock, buf, size);
        break;
    case MEMFD: {
        int fd = memfd_create("large", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
            die("memfd");
        pwrite_all(fd, buf, size);
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
            die("seal");
        send_fds(sock, &fd, 1); /* closes fd */
        break;
    }
    case MEMFDPOOL: {
        pwrite_all(pooled, buf, size);
        int dup_fd = dup(pooled);
        send_fds(sock, &dup_fd, 1);
        break;
    }
    }
}

static void large_recv(enum strategy s, int sock, char *buf, size_t size)
{
    switch (s) {
    case SEQFRAG:
    case SEQFRAG4M: {
        size_t frag = s == SEQFRAG ? 212960 : 1 << 20;
        for (size_t off = 0; off < size; off += frag)
            recv_msg(sock, buf + off, size - off < frag ? size - off : frag, 0);
        break;
    }
    case STREAM4M:
        read_all(sock, buf, size);
        break;
    case MEMFD:
    case MEMFDPOOL: {
        int fd;
        recv_fds(sock, &fd, 1);
        if (s == MEMFD) {
            int seals = fcntl(fd, F_GET_SEALS);
            off_t end = lseek(fd, 0, SEEK_END);
            if (seals < 0 || end != (off_t)size)
                die("memfd check");
        }
        pread_all(fd, buf, size);
        close(fd);
        break;
    }
    }
}

static int large(const char *name, size_t size, long warmup, long iters, int childcpu)
{
    enum strategy s;
    if (!strcmp(name, "seqfrag"))
        s = SEQFRAG;
    else if (!strcmp(name, "stream4m"))
        s = STREAM4M;
    else if (!strcmp(name, "seqfrag4m"))
        s = SEQFRAG4M;
    else if (!strcmp(name, "memfd"))
        s = MEMFD;
    else if (!strcmp(name, "memfdpool"))
        s = MEMFDPOOL;
    else {
        fprintf(stderr, "unknown strategy %s\n", name);
        return 2;
    }
    int sv[2];
    if (socketpair(AF_UNIX, (s == STREAM4M ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair");
    if (s == STREAM4M || s == SEQFRAG4M) {
        set_buffers(sv[0], 4 << 20);
        set_buffers(sv[1], 4 << 20);
    }
    char *buf = malloc(size);
    if (!buf)
        die("malloc");
    memset(buf, 0x5a, size);
    long total = warmup + iters;
    pid_t pid = spawn_child(childcpu);
    if (pid == 0) {
        close(sv[0]);
        int pool = -1;
        if (s == MEMFDPOOL && ((pool = memfd_create("pool", MFD_CLOEXEC)) < 0 || ftruncate(pool, (off_t)size) != 0))
            die("memfd");
        for (long i = 0; i < total; i++) {
            large_recv(s, sv[1], buf, size);
            large_send(s, sv[1], buf, size, pool);
        }
        _exit(0);
    }
    close(sv[1]);
    int pool = -1;
    if (s == MEMFDPOOL && ((pool = memfd_create("pool", MFD_CLOEXEC)) < 0 || ftruncate(pool, (off_t)size) != 0))
        die("memfd");
    uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)(iters ? iters : 1));
    for (long i = 0; i < total; i++) {
        uint64_t t0 = now_ns();
        large_send(s, sv[0], buf, size, pool);
        large_recv(s, sv[0], buf, size);
        uint64_t t1 = now_ns();
        if (i >= warmup)
            samples[i - warmup] = t1 - t0;
    }
    reap(pid);
    for (long i = 0; i < iters; i++)
        printf("%llu\n", (unsigned long long)samples[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rawfloor pingpong|rate|fds|create|memcpy ...\n");
        return 2;
    }
    const char *mode = argv[1];
    if (!strcmp(mode, "pingpong") && argc == 6)
        return pingpong((size_t)atol(argv[2]), atol(argv[3]), atol(argv[4]), atoi(argv[5]));
    if (!strcmp(mode, "rate") && argc == 6)
        return rate((size_t)atol(argv[2]), atol(argv[3]), atol(argv[4]), atoi(argv[5]));
    if (!strcmp(mode, "fds") && argc == 6)
        return fdpass(atoi(argv[2]), atol(argv[3]), atol(argv[4]), atoi(argv[5]));
    if (!strcmp(mode, "create") && argc == 4)
        return create(atol(argv[2]), atol(argv[3]));
    if (!strcmp(mode, "large") && argc == 7)
        return large(argv[2], (size_t)atol(argv[3]), atol(argv[4]), atol(argv[5]), atoi(argv[6]));
    if (!strcmp(mode, "memcpy") && argc == 5)
        return copy((size_t)atol(argv[2]), atol(argv[3]), atol(argv[4]));
    fprintf(stderr, "bad arguments\n");
    return 2;
}
