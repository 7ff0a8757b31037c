/*
 * LD_PRELOAD shim for linux.uml on hosts whose XSAVE area is larger than the one UML was
 * built for (AVX-512, AMX). Debian's UML kernels (6.1, and 6.12 in trixie) save a guest
 * task's FPU state with PTRACE_GETREGSET(NT_X86_XSTATE) into a fixed ~1 KB buffer and put it
 * back with PTRACE_SETREGSET. The host kernel accepts a SETREGSET only with its full XSAVE
 * size (EFAULT otherwise): init dies at once with "ptrace set fp regs failed, errno = 14".
 *
 * The shim gives the kernel full-size buffers and UML its own size:
 *  - GETREGSET: read the full state into a side buffer kept per UML buffer address (UML
 *    keeps one buffer per guest task), hand UML the prefix it asked for.
 *  - SETREGSET: if the side buffer of that address holds the state UML last read there
 *    (same prefix), write it whole: the task gets every register back, AVX-512 and AMX
 *    included. Otherwise (a new task, a state UML rewrote, e.g. for a signal) write UML's
 *    prefix with the components beyond it marked as in their init state.
 * Where UML's buffer is already the host's size, every call passes straight through.
 * Everything else is the plain ptrace syscall, as glibc's wrapper makes it.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#define XSTATE_BV_OFFSET 512 /* the XSAVE header follows the 512-byte legacy area */
#define SLOTS 4096           /* guest tasks whose full state is kept */
#define MAX_XSTATE (64 * 1024)

struct slot {
	const void *key; /* UML's buffer */
	size_t prefix;   /* bytes of it that matched the saved state */
	unsigned char *full;
};

static struct slot slots[SLOTS];
static size_t host_size; /* the host kernel's XSAVE size; 0 until known */

static long raw_ptrace(long request, pid_t pid, void *addr, void *data)
{
	return syscall(SYS_ptrace, request, pid, addr, data);
}

static size_t xstate_size(pid_t pid)
{
	static unsigned char probe[MAX_XSTATE];
	struct iovec iov = { probe, sizeof(probe) };

	if (host_size == 0 && raw_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) == 0)
		host_size = iov.iov_len;
	return host_size;
}

static struct slot *slot_for(const void *key, int create)
{
	size_t start = ((uintptr_t)key >> 4) % SLOTS;

	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[(start + i) % SLOTS];
		if (s->key == key)
			return s;
		if (s->key == NULL) {
			if (!create)
				return NULL;
			void *full = mmap(NULL, host_size, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (full == MAP_FAILED)
				return NULL;
			s->key = key;
			s->full = full;
			s->prefix = 0;
			return s;
		}
	}
	return NULL;
}

/* Keep only the state components that lie wholly inside the first `len` bytes. */
static void init_components_beyond(unsigned char *buf, size_t len)
{
	uint64_t bv;
	unsigned int eax, ebx, ecx, edx;

	memcpy(&bv, buf + XSTATE_BV_OFFSET, sizeof(bv));
	for (unsigned int i = 2; i < 64; i++) {
		if (!(bv & (1ULL << i)))
			continue;
		__cpuid_count(0xd, i, eax, ebx, ecx, edx);
		if ((size_t)ebx + eax > len)
			bv &= ~(1ULL << i);
	}
	memcpy(buf + XSTATE_BV_OFFSET, &bv, sizeof(bv));
}

static long get_xstate(pid_t pid, struct iovec *iov)
{
	struct slot *s = slot_for(iov->iov_base, 1);

	if (s == NULL)
		return raw_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, iov);
	struct iovec full = { s->full, host_size };
	long rc = raw_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &full);
	if (rc != 0)
		return rc;
	size_t n = iov->iov_len < full.iov_len ? iov->iov_len : full.iov_len;
	memcpy(iov->iov_base, s->full, n);
	iov->iov_len = n;
	s->prefix = n;
	return 0;
}

static long set_xstate(pid_t pid, const struct iovec *iov)
{
	static unsigned char staged[MAX_XSTATE];
	struct slot *s = slot_for(iov->iov_base, 0);
	size_t n = iov->iov_len;

	if (s != NULL && s->prefix == n && memcmp(s->full, iov->iov_base, n) == 0) {
		struct iovec full = { s->full, host_size };
		return raw_ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &full);
	}
	memset(staged, 0, host_size);
	memcpy(staged, iov->iov_base, n);
	init_components_beyond(staged, n);
	struct iovec full = { staged, host_size };
	return raw_ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &full);
}

long ptrace(enum __ptrace_request request, ...)
{
	va_list ap;
	va_start(ap, request);
	pid_t pid = va_arg(ap, pid_t);
	void *addr = va_arg(ap, void *);
	void *data = va_arg(ap, void *);
	va_end(ap);

	if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) &&
	    (uintptr_t)addr == NT_X86_XSTATE && data != NULL) {
		struct iovec *iov = data;
		size_t size = xstate_size(pid);
		if (size > 0 && size <= MAX_XSTATE && iov->iov_len < size)
			return request == PTRACE_GETREGSET ? get_xstate(pid, iov)
							   : set_xstate(pid, iov);
	}
	if (request == PTRACE_PEEKTEXT || request == PTRACE_PEEKDATA ||
	    request == PTRACE_PEEKUSER) {
		/* glibc's wrapper: the word comes back as the return value. */
		long word;
		long rc = raw_ptrace(request, pid, addr, &word);
		if (rc < 0)
			return rc;
		errno = 0;
		return word;
	}
	return raw_ptrace(request, pid, addr, data);
}
