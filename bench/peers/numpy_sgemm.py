# SGEMM 1024^3 NN timing with numpy (float32), best-of and median GFLOP/s.
import os, time, sys, numpy as np
n = 1024
rng = np.random.default_rng(7)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
c = np.empty((n, n), dtype=np.float32)
for _ in range(5):
    np.matmul(a, b, out=c)
libs = [l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l]
print('blas libs:', sorted(set(libs)))
ts = []
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 30):
    t = time.perf_counter(); np.matmul(a, b, out=c); ts.append(time.perf_counter() - t)
ts.sort()
f = 2 * n**3 / 1e9
print('threads=%s best %.1f GFLOP/s median %.1f GFLOP/s' % (os.environ.get('OPENBLAS_NUM_THREADS'), f / ts[0], f / ts[len(ts)//2]))
