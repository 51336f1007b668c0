# Times one Adam training step of SmallConvNet (batch 150, CIFAR-shaped
# input) and SmallFCNet (batch 150, 784 inputs) with PyTorch on the CPU.
# usage: torch_step.py <model: conv|fc> <threads> [steps]
import sys, time, torch, torch.nn as nn
model, threads = sys.argv[1], int(sys.argv[2])
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 40
torch.set_num_threads(threads)
torch.manual_seed(1)
if model == 'conv':
    net = nn.Sequential(
        nn.Conv2d(3, 16, 5, 1, 2), nn.ReLU(),
        nn.Conv2d(16, 32, 5, 1, 2), nn.ReLU(), nn.AvgPool2d(2, 2),
        nn.Conv2d(32, 32, 5, 1, 2), nn.ReLU(),
        nn.Conv2d(32, 32, 5, 1, 2), nn.ReLU(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(2048, 10))
    x = torch.randn(150, 3, 32, 32)
else:
    net = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 300), nn.ReLU(),
                        nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 10))
    x = torch.randn(150, 784)
y = torch.randint(0, 10, (150,))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
lossf = nn.CrossEntropyLoss()
def step():
    opt.zero_grad(set_to_none=False)
    loss = lossf(net(x), y)
    loss.backward()
    opt.step()
for _ in range(5):
    step()
ts, cs = [], []
for _ in range(steps):
    t, c = time.perf_counter(), time.process_time(); step()
    ts.append(time.perf_counter() - t); cs.append(time.process_time() - c)
ts.sort(); cs.sort()
print('torch %s model=%s threads=%d steps=%d best %.3f ms median %.3f ms; CPU time per step median %.3f ms' % (
    torch.__version__, model, threads, steps, ts[0] * 1e3, ts[len(ts) // 2] * 1e3, cs[len(cs) // 2] * 1e3))
