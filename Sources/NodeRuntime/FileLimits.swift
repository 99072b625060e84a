#if canImport(Glibc)
    import Glibc
#endif

/// The process's limit of open files.
enum FileLimits {
    /// Raises the soft limit of open files to the hard limit and returns it: every HTTP and peer
    /// connection and every SQLite file holds one, and the API's connection bound is set below it.
    static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, UInt(Int32.max)))
    }
}
