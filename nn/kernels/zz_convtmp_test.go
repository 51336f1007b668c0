package kernels

import (
	"fmt"
	"math"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func zzThreadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestZZCPUEff measures single-thread GFLOP per CPU-second.
func TestZZCPUEff(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	SetThreads(1)
	defer SetThreads(0)
	chunk := 10
	for _, direct := range []bool{true} {
		convDirect = direct
		for _, l := range smallConvNet {
			b := newConvLayerBuffers(l.s, chunk)
			for _, pass := range []string{"fwd", "bwd-data", "bwd-filter"} {
				b.run(l.s, chunk, pass)
				c0, w0 := zzThreadCPU(), time.Now()
				reps := 2
				for r := 0; r < reps; r++ {
					b.run(l.s, chunk, pass)
				}
				cpu, wall := zzThreadCPU()-c0, time.Since(w0)
				fl := float64(l.s.ForwardFLOPs(convBenchBatch)) * float64(reps)
				fmt.Printf("direct=%v %s/%s: %.1f GFLOP/cpu-s  (wall %.1f)\n", direct, l.name, pass, fl/cpu.Seconds()/1e9, fl/wall.Seconds()/1e9)
			}
		}
	}
	convDirect = true
}

func TestZZFwdBlock(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	SetThreads(1)
	defer SetThreads(0)
	chunk := 16
	blks := []int{2, 4, 8, 16, 1 << 20}
	for _, l := range smallConvNet[1:3] {
		b := newConvLayerBuffers(l.s, chunk)
		for _, pass := range []string{"fwd", "bwd-data"} {
			best := map[int]float64{}
			for r := 0; r < 5; r++ {
				for _, blk := range blks {
					convFwdBlock = blk
					c0 := zzThreadCPU()
					b.run(l.s, chunk, pass)
					cpu := zzThreadCPU() - c0
					best[blk] = max(best[blk], float64(l.s.ForwardFLOPs(convBenchBatch))/cpu.Seconds()/1e9)
				}
			}
			for _, blk := range blks {
				fmt.Printf("block=%d %s/%s: %.1f GFLOP/cpu-s\n", blk, l.name, pass, best[blk])
			}
		}
	}
	convFwdBlock = 8
}

func TestZZTileSpeed(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rows := 400
	w := make([]float32, 6*rows)
	offs := make([]float32, rows)
	for p := range offs {
		offs[p] = math.Float32frombits(uint32((p/25)*36*36 + (p%25/5)*36 + p%5))
	}
	x := make([]float32, 16*36*36+64)
	bias := make([]float32, 6)
	y := make([]float32, 6*1024+64)
	for _, mode := range []string{"real", "zero-offs", "aligned"} {
		for p := range offs {
			switch mode {
			case "real":
				offs[p] = math.Float32frombits(uint32((p/25)*36*36 + (p%25/5)*36 + p%5))
			case "zero-offs":
				offs[p] = 0
			case "aligned":
				offs[p] = math.Float32frombits(uint32(p * 16 % 4096))
			}
		}
		for _, mr := range []int{4} {
			n := 20000
			c0 := zzThreadCPU()
			for i := 0; i < n; i++ {
				convFwdTile(rows, w, offs, x, 16*(i%2), 16*(i%2)+8, 16*(i%2)+16, bias, y, 0, 8, 16, 1024)
			}
			cpu := zzThreadCPU() - c0
			fmt.Printf("%s fwd tile mr=%d: %.1f GFLOP/cpu-s\n", mode, mr, float64(n)*float64(rows)*float64(mr)*24*2/cpu.Seconds()/1e9)
		}
	}
	{
		dy := make([]float32, 4*1024+64)
		out := make([]float32, 12)
		n := 200000
		c0 := zzThreadCPU()
		for i := 0; i < n; i++ {
			convFilterTile(1, x, 0, 0, 1, 2, dy, 1024, 256, 8, 4, 36, out)
		}
		cpu := zzThreadCPU() - c0
		fmt.Printf("filter tile: %.1f GFLOP/cpu-s\n", float64(n)*12*256*2/cpu.Seconds()/1e9)
	}
}

func zzProcCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(0, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZStepCPU(t *testing.T) {
	for _, chunk := range []int{8, 16, 30, 50, 150} {
		bufs := make([]*convLayerBuffers, len(smallConvNet))
		for i, l := range smallConvNet {
			bufs[i] = newConvLayerBuffers(l.s, chunk)
		}
		step := func() {
			for i, l := range smallConvNet {
				bufs[i].run(l.s, chunk, "fwd")
			}
			for i := len(smallConvNet) - 1; i >= 0; i-- {
				l := smallConvNet[i]
				bufs[i].run(l.s, chunk, "bwd-filter")
				if l.needData {
					bufs[i].run(l.s, chunk, "bwd-data")
				}
			}
		}
		step()
		best := time.Hour
		bestWall := time.Hour
		for r := 0; r < 4; r++ {
			c0, w0 := zzProcCPU(), time.Now()
			step()
			best = min(best, zzProcCPU()-c0)
			bestWall = min(bestWall, time.Since(w0))
		}
		fmt.Printf("chunk %d: step %.1f cpu-ms (=> %.1f ms on 2 free cores), wall %.1f ms\n", chunk, best.Seconds()*1e3, best.Seconds()*1e3/2, bestWall.Seconds()*1e3)
	}
}

func TestZZGroupAB(t *testing.T) {
	chunk := 16
	bufs := make([]*convLayerBuffers, len(smallConvNet))
	old := ConvDirectGroup
	ConvDirectGroup = 16
	for i, l := range smallConvNet {
		bufs[i] = newConvLayerBuffers(l.s, chunk)
	}
	step := func() {
		for i, l := range smallConvNet {
			bufs[i].run(l.s, chunk, "fwd")
		}
		for i := len(smallConvNet) - 1; i >= 0; i-- {
			l := smallConvNet[i]
			bufs[i].run(l.s, chunk, "bwd-filter")
			if l.needData {
				bufs[i].run(l.s, chunk, "bwd-data")
			}
		}
	}
	groups := []int{2, 4, 8, 16}
	best := map[int]time.Duration{}
	for r := 0; r < 5; r++ {
		for _, g := range groups {
			ConvDirectGroup = g
			c0 := zzProcCPU()
			step()
			d := zzProcCPU() - c0
			if b, ok := best[g]; !ok || d < b {
				best[g] = d
			}
		}
	}
	for _, g := range groups {
		fmt.Printf("group %d: %.1f cpu-ms\n", g, best[g].Seconds()*1e3)
	}
	ConvDirectGroup = old
}

func TestZZFilterAB(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	SetThreads(1)
	defer SetThreads(0)
	chunk := 16
	vals := []int{1 << 20, 256, 1024, 2048}
	for _, l := range smallConvNet {
		b := newConvLayerBuffers(l.s, chunk)
		best := map[int]float64{}
		for r := 0; r < 3; r++ {
			for _, v := range vals {
				convFilterPositions = v
				c0 := zzThreadCPU()
				b.run(l.s, chunk, "bwd-filter")
				cpu := zzThreadCPU() - c0
				best[v] = max(best[v], float64(l.s.ForwardFLOPs(convBenchBatch))/cpu.Seconds()/1e9)
			}
		}
		for _, v := range vals {
			fmt.Printf("%s filterPositions=%d: %.1f GFLOP/cpu-s\n", l.name, v, best[v])
		}
	}
	convFilterPositions = 1024
}
