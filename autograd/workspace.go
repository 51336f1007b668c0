package autograd

import "math"

// Workspace holds the flat buffers of one evaluation of a Compiled program:
// slot values, the edge weights of the linearized computational graph (the
// local partial derivatives, two per instruction) and slot adjoints. Its
// methods do not allocate. A Workspace is not safe for concurrent use; give
// each goroutine its own.
type Workspace struct {
	c   *Compiled
	val []float64
	w   []float64
	adj []float64
}

// NewWorkspace returns a Workspace for c.
func (c *Compiled) NewWorkspace() *Workspace {
	return &Workspace{
		c:   c,
		val: make([]float64, c.nslots),
		w:   make([]float64, 2*len(c.instrs)),
		adj: make([]float64, c.nslots),
	}
}

// Compiled returns the program the workspace evaluates.
func (ws *Workspace) Compiled() *Compiled { return ws.c }

// Eval returns the program's output at params (one value per parameter).
func (ws *Workspace) Eval(params []float64) float64 {
	val := ws.val
	for _, in := range ws.c.instrs {
		var v float64
		switch in.Op {
		case OpConst:
			v = in.C
		case OpParam:
			v = params[in.K]
		case OpAdd:
			v = val[in.A] + val[in.B]
		case OpSub:
			v = val[in.A] - val[in.B]
		case OpMul:
			v = val[in.A] * val[in.B]
		case OpDiv:
			v = val[in.A] / val[in.B]
		case OpNeg:
			v = -val[in.A]
		case OpSquare:
			v = val[in.A] * val[in.A]
		case OpPowi:
			v = powi(val[in.A], int(in.K))
		case OpExp:
			v = math.Exp(val[in.A])
		case OpLog:
			v = math.Log(val[in.A])
		case OpSqrt:
			v = math.Sqrt(val[in.A])
		case OpSin:
			v = math.Sin(val[in.A])
		case OpCos:
			v = math.Cos(val[in.A])
		case OpAbs:
			v = math.Abs(val[in.A])
		case OpTuple:
			x := val[in.A]
			cp := val[in.Out : in.Out+in.K]
			for k := range cp {
				cp[k] = x
			}
			continue
		}
		val[in.Out] = v
	}
	return val[ws.c.out]
}

// Linearize evaluates the program at params like Eval and also records the
// weight of every edge of the linearized computational graph: for
// instruction j, the partial derivative of its output with respect to its
// operand A and B. Gradient and PathGrad read these weights.
func (ws *Workspace) Linearize(params []float64) float64 {
	val, w := ws.val, ws.w
	for j, in := range ws.c.instrs {
		var v, da, db float64
		switch in.Op {
		case OpConst:
			v = in.C
		case OpParam:
			v = params[in.K]
		case OpAdd:
			v, da, db = val[in.A]+val[in.B], 1, 1
		case OpSub:
			v, da, db = val[in.A]-val[in.B], 1, -1
		case OpMul:
			a, b := val[in.A], val[in.B]
			v, da, db = a*b, b, a
		case OpDiv:
			a, b := val[in.A], val[in.B]
			v = a / b
			r := 1 / b
			da, db = r, -v*r
		case OpNeg:
			v, da = -val[in.A], -1
		case OpSquare:
			a := val[in.A]
			v, da = a*a, 2*a
		case OpPowi:
			a, n := val[in.A], int(in.K)
			if n == 0 {
				v, da = 1, 0
			} else {
				t := powi(a, n-1)
				v, da = powi(a, n), float64(n)*t
			}
		case OpExp:
			v = math.Exp(val[in.A])
			da = v
		case OpLog:
			a := val[in.A]
			v, da = math.Log(a), 1/a
		case OpSqrt:
			v = math.Sqrt(val[in.A])
			da = 0.5 / v
		case OpSin:
			s, c := math.Sincos(val[in.A])
			v, da = s, c
		case OpCos:
			s, c := math.Sincos(val[in.A])
			v, da = c, -s
		case OpAbs:
			a := val[in.A]
			v = math.Abs(a)
			switch {
			case a > 0:
				da = 1
			case a < 0:
				da = -1
			}
		case OpTuple:
			x := val[in.A]
			cp := val[in.Out : in.Out+in.K]
			for k := range cp {
				cp[k] = x
			}
			w[2*j], w[2*j+1] = 1, 0
			continue
		}
		val[in.Out] = v
		w[2*j], w[2*j+1] = da, db
	}
	return val[ws.c.out]
}

// Gradient runs the reverse sweep over the weights of the last Linearize and
// writes the full gradient of the output, one entry per parameter, into grad.
// In SSA-SA form every slot is read once, so every adjoint is assigned once;
// a tupling instruction sums the adjoints of its copies (Eq. 7).
func (ws *Workspace) Gradient(grad []float64) {
	c, adj, w := ws.c, ws.adj, ws.w
	adj[c.out] = 1
	for j := len(c.instrs) - 1; j >= 0; j-- {
		in := &c.instrs[j]
		switch in.Op {
		case OpTuple:
			adj[in.A] = sumAdj(adj[in.Out : in.Out+in.K])
		default:
			backLocal(adj, w, in, j)
		}
	}
	ws.readGrad(grad)
}

// BranchGradient runs the reverse sweep like Gradient, except that every
// tupling node t on the parameters' paths (see Compiled.NumTuples) passes on
// the adjoint of its copy branch[t] times scale[t] instead of the sum of its
// copies' adjoints: the gradient of one per-node selection of branches.
// Tuples of values no parameter depends on sum as in Gradient. branch and
// scale have one entry per tupling node. The mean of BranchGradient over
// all selections, each weighted by Π_t 1/b_t and with scale[t] = b_t, is the
// gradient.
func (ws *Workspace) BranchGradient(grad []float64, branch []int32, scale []float64) {
	c, adj, w := ws.c, ws.adj, ws.w
	adj[c.out] = 1
	for j := len(c.instrs) - 1; j >= 0; j-- {
		in := &c.instrs[j]
		switch in.Op {
		case OpTuple:
			if t := c.tupleOf[j]; t >= 0 {
				adj[in.A] = scale[t] * adj[in.Out+branch[t]]
				continue
			}
			adj[in.A] = sumAdj(adj[in.Out : in.Out+in.K])
		default:
			backLocal(adj, w, in, j)
		}
	}
	ws.readGrad(grad)
}

// backLocal passes the adjoint of instruction j, in, which is not a tuple,
// to its operands through its local partials w[2j] and w[2j+1]: the step of
// the reverse sweeps at every instruction but a tupling node (constants and
// parameters pass nothing on).
func backLocal(adj, w []float64, in *Instr, j int) {
	switch in.Op {
	case OpConst, OpParam:
	case OpAdd, OpSub, OpMul, OpDiv:
		g := adj[in.Out]
		adj[in.A] = g * w[2*j]
		adj[in.B] = g * w[2*j+1]
	default:
		adj[in.A] = adj[in.Out] * w[2*j]
	}
}

// sumAdj is the adjoint of a tupled value: the sum, in order, of the
// adjoints of its copies.
func sumAdj(copies []float64) float64 {
	s := 0.0
	for _, a := range copies {
		s += a
	}
	return s
}

func (ws *Workspace) readGrad(grad []float64) {
	for p, s := range ws.c.paramSlot {
		if s >= 0 {
			grad[p] = ws.adj[s]
		} else {
			grad[p] = 0
		}
	}
}

// PathGrad returns g_{p,i}, the contribution of path i of parameter p to the
// gradient at the point of the last Linearize: the product of the edge
// weights along the path (tupling edges weigh 1). The sum over i of
// PathGrad(p, i) is the gradient with respect to parameter p.
func (ws *Workspace) PathGrad(p, i int) float64 {
	c := ws.c
	j := c.pathOff[p] + int32(i)
	g := 1.0
	for _, e := range c.edges[c.edgeOff[j]:c.edgeOff[j+1]] {
		g *= ws.w[e]
	}
	return g
}

// Value returns the value of slot s at the last Eval or Linearize.
func (ws *Workspace) Value(s int) float64 { return ws.val[s] }
