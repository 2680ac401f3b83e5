"""numpy: import numpy plus a small computation.

With BENCH_SMAPS_OUT set, it copies /proc/self/smaps_rollup there at the end (the benchmark's
way to read this process's PSS just before it exits); the timed runs leave it unset.
"""

import os

import numpy as np


def main():
    a = np.arange(100_000, dtype=np.float64)
    m = np.sin(a[:40_000]).reshape(200, 200)
    total = float(np.sqrt(a).sum() + (m @ m.T).trace())
    print(f"{total:.6f}")
    out = os.environ.get("BENCH_SMAPS_OUT")
    if out:
        with open("/proc/self/smaps_rollup") as src, open(out, "w") as dst:
            dst.write(src.read())


if __name__ == "__main__":
    main()
