"""Peak resident memory of this process, for the benchmark peers.

`VmHWM` from /proc/self/status: the high-water mark of this process's own
memory, which starts afresh at exec. (`getrusage`'s `ru_maxrss` does not: a
peer started by a large `entropo` process would report the parent's size.)

>>> peak_rss_bytes() > 0
True
"""


def peak_rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None
