#ifndef XC_SPAWN_H
#define XC_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` (NULL-terminated; argv[0] included) and this process's environment,
/// without a shell. The child's standard input is /dev/null, its standard output and error the
/// descriptor `output`; every other descriptor is closed in it (closefrom 3, so nothing opened
/// concurrently by another thread leaks into it); its signal mask is empty (a test runner or a
/// dispatch thread may have signals blocked); it leads a process group of its own.
/// Returns 0 and stores the child's pid in `pid`, or returns an errno value.
int xc_spawn(const char *path, char *const argv[], int output, pid_t *pid);

#endif
