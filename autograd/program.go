// Package autograd is reverse-mode automatic differentiation of scalar programs
// lowered to SSA-SA form, with path-sampled gradient estimators (RAD, SPAD)
// that sample either one path per parameter or one branch per tupling node.
//
// A Program is built from Go (Param, Const, Add, Mul, Cos, ...) and compiled
// into a flat instruction list in static single assignment and single access
// form: every slot is written once and read at most once, and a value read k
// times is first copied by a tupling instruction into k slots. In that form the
// gradient of a parameter is the sum of the contributions of the paths from the
// parameter to the output, a path choosing one copy at each tupling node it
// meets (Eq. 1, 2 and 7 of Peseux et al., "Selective Path Automatic
// Differentiation", IEEE Access 2023). Compiled enumerates those paths,
// Workspace evaluates, differentiates and computes single-path contributions
// without allocating, and Sampler turns them into the baseline, RAD and SPAD
// gradient estimators, in the per-path reading (one path per parameter) or
// the per-node reading (one branch per tupling node in the reverse pass, the
// wording of the paper's optimisation experiments).
package autograd

import "fmt"

// Op is the operation of a program node or of a compiled instruction.
type Op uint8

// The operations. OpTuple only appears in compiled programs.
const (
	OpConst  Op = iota // constant C
	OpParam            // parameter number K
	OpAdd              // A + B
	OpSub              // A - B
	OpMul              // A * B
	OpDiv              // A / B
	OpNeg              // -A
	OpSquare           // A * A
	OpPowi             // A to the integer power K
	OpExp              // e to the A
	OpLog              // natural logarithm of A
	OpSqrt             // square root of A
	OpSin              // sine of A
	OpCos              // cosine of A
	OpTuple            // copies A into the K slots Out, Out+1, ..., Out+K-1
	OpAbs              // absolute value of A
)

var opNames = [...]string{"const", "param", "add", "sub", "mul", "div", "neg",
	"square", "powi", "exp", "log", "sqrt", "sin", "cos", "tuple", "abs"}

// String returns the lower-case name of the operation.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Arity returns the number of operands the operation reads.
func (o Op) Arity() int {
	switch o {
	case OpConst, OpParam:
		return 0
	case OpAdd, OpSub, OpMul, OpDiv:
		return 2
	default:
		return 1
	}
}

// Value is a handle on a node of a Program: the index of the node in the order
// it was created. It is only meaningful for the Program that returned it.
type Value int32

type node struct {
	op   Op
	a, b Value
	k    int
	c    float64
}

// Program is a scalar (float64) program under construction. Each method
// appends a node and returns its Value; reusing a Value is how a program reads
// a value several times. The zero Program is empty and ready to use.
type Program struct {
	nodes  []node
	params []string
}

// NumParams returns the number of parameters declared so far.
func (p *Program) NumParams() int { return len(p.params) }

// ParamName returns the name given to parameter i.
func (p *Program) ParamName(i int) string { return p.params[i] }

func (p *Program) push(n node) Value {
	for i := 0; i < n.op.Arity(); i++ {
		v := n.a
		if i == 1 {
			v = n.b
		}
		if v < 0 || int(v) >= len(p.nodes) {
			panic(fmt.Sprintf("autograd: %v reads value %d, not a value of this program", n.op, v))
		}
	}
	p.nodes = append(p.nodes, n)
	return Value(len(p.nodes) - 1)
}

// Const returns the constant c.
func (p *Program) Const(c float64) Value { return p.push(node{op: OpConst, c: c}) }

// Param declares a new parameter called name and returns it. Parameters are
// numbered from 0 in the order they are declared.
func (p *Program) Param(name string) Value {
	p.params = append(p.params, name)
	return p.push(node{op: OpParam, k: len(p.params) - 1})
}

// Add returns a + b.
func (p *Program) Add(a, b Value) Value { return p.push(node{op: OpAdd, a: a, b: b}) }

// Sub returns a - b.
func (p *Program) Sub(a, b Value) Value { return p.push(node{op: OpSub, a: a, b: b}) }

// Mul returns a * b.
func (p *Program) Mul(a, b Value) Value { return p.push(node{op: OpMul, a: a, b: b}) }

// Div returns a / b.
func (p *Program) Div(a, b Value) Value { return p.push(node{op: OpDiv, a: a, b: b}) }

// Neg returns -a.
func (p *Program) Neg(a Value) Value { return p.push(node{op: OpNeg, a: a}) }

// Square returns a², reading a once.
func (p *Program) Square(a Value) Value { return p.push(node{op: OpSquare, a: a}) }

// Pow returns a to the integer power n (n may be zero or negative), reading a
// once.
func (p *Program) Pow(a Value, n int) Value { return p.push(node{op: OpPowi, a: a, k: n}) }

// Exp returns e to the a.
func (p *Program) Exp(a Value) Value { return p.push(node{op: OpExp, a: a}) }

// Log returns the natural logarithm of a.
func (p *Program) Log(a Value) Value { return p.push(node{op: OpLog, a: a}) }

// Sqrt returns the square root of a.
func (p *Program) Sqrt(a Value) Value { return p.push(node{op: OpSqrt, a: a}) }

// Sin returns the sine of a.
func (p *Program) Sin(a Value) Value { return p.push(node{op: OpSin, a: a}) }

// Cos returns the cosine of a.
func (p *Program) Cos(a Value) Value { return p.push(node{op: OpCos, a: a}) }

// Abs returns |a|. Its derivative is taken as sign(a), 0 at a = 0.
func (p *Program) Abs(a Value) Value { return p.push(node{op: OpAbs, a: a}) }

// powi returns x to the integer power n by repeated squaring.
func powi(x float64, n int) float64 {
	if n < 0 {
		return 1 / powi(x, -n)
	}
	r := 1.0
	for n > 0 {
		if n&1 == 1 {
			r *= x
		}
		x *= x
		n >>= 1
	}
	return r
}

// Instr is one instruction of a compiled program. Out is the slot it writes
// (for OpTuple the first of K consecutive slots), A and B the slots it reads
// (-1 when unused). K is the parameter number of OpParam, the exponent of
// OpPowi and the number of copies of OpTuple; C is the value of OpConst.
type Instr struct {
	Op   Op
	Out  int32
	A, B int32
	K    int32
	C    float64
}

// Compiled is a program in SSA-SA form together with the paths of each
// parameter. It is immutable and safe to share between goroutines; the
// buffers of an evaluation live in a Workspace.
type Compiled struct {
	instrs    []Instr
	nslots    int
	out       int32   // output slot
	nodeSlot  []int32 // builder node -> slot holding its value, -1 if dead
	paramSlot []int32 // parameter -> slot, -1 if the output does not depend on it
	names     []string

	// Paths. Parameter p owns paths pathOff[p] .. pathOff[p+1]-1. Path i
	// multiplies the edge weights edges[edgeOff[i]:edgeOff[i+1]] (indices
	// into a Workspace's weight array, two per instruction) and takes the
	// tupling choices choices[choiceOff[i]:choiceOff[i+1]].
	pathOff   []int32
	edgeOff   []int32
	edges     []int32
	choiceOff []int32
	choices   []Choice

	// Tupling nodes on a parameter's paths (the input of the tuple depends
	// on a parameter), in instruction order; tupleOf maps an instruction
	// to its index in tuples, -1 for other instructions and for tuples of
	// values no parameter reaches.
	tuples  []int32
	tupleOf []int32
}

// Choice is the branch taken by a path at a tupling instruction: instruction
// number Instr, copy number Copy (from 0, in the program order of the reads).
type Choice struct {
	Instr, Copy int32
}

// MaxPaths bounds the total number of paths Compile enumerates. The number of
// paths can grow exponentially with nested reuse; programs above the bound are
// rejected.
const MaxPaths = 1 << 20

// Compile lowers the program computing out to SSA-SA form. Only the nodes out
// depends on are kept. Every kept node read by more than one operand (a
// parameter, a constant or an intermediate alike; a node read twice by the
// same instruction, as in Mul(x, x), counts twice) is followed by one tupling
// instruction with one copy per read, and each read takes its own copy in
// program order. Nodes read once are read directly. It then enumerates the
// paths of every parameter and fails if there are more than MaxPaths.
func (p *Program) Compile(out Value) (*Compiled, error) {
	if out < 0 || int(out) >= len(p.nodes) {
		return nil, fmt.Errorf("autograd: output %d is not a value of this program", out)
	}
	n := len(p.nodes)
	live := make([]bool, n)
	live[out] = true
	reads := make([]int, n)
	for i := int(out); i >= 0; i-- {
		if !live[i] {
			continue
		}
		nd := p.nodes[i]
		ar := nd.op.Arity()
		if ar >= 1 {
			live[nd.a] = true
			reads[nd.a]++
		}
		if ar == 2 {
			live[nd.b] = true
			reads[nd.b]++
		}
	}
	c := &Compiled{
		nodeSlot:  make([]int32, n),
		paramSlot: make([]int32, len(p.params)),
		names:     append([]string(nil), p.params...),
	}
	for i := range c.paramSlot {
		c.paramSlot[i] = -1
	}
	nextCopy := make([]int32, n) // next unused copy slot of a tupled node
	slot := int32(0)
	take := func(v Value) int32 {
		s := nextCopy[v]
		if reads[v] > 1 {
			nextCopy[v]++
		}
		return s
	}
	for i := 0; i < n; i++ {
		if !live[i] {
			c.nodeSlot[i] = -1
			continue
		}
		nd := p.nodes[i]
		in := Instr{Op: nd.op, Out: slot, A: -1, B: -1, C: nd.c, K: int32(nd.k)}
		switch nd.op.Arity() {
		case 2:
			in.A = take(nd.a)
			in.B = take(nd.b)
		case 1:
			in.A = take(nd.a)
		}
		if nd.op == OpParam {
			c.paramSlot[nd.k] = slot
		}
		c.nodeSlot[i] = slot
		c.instrs = append(c.instrs, in)
		slot++
		if reads[i] > 1 {
			k := int32(reads[i])
			c.instrs = append(c.instrs, Instr{Op: OpTuple, Out: slot, A: slot - 1, B: -1, K: k})
			nextCopy[i] = slot
			slot += k
		} else {
			nextCopy[i] = slot - 1
		}
	}
	c.nslots = int(slot)
	c.out = c.nodeSlot[out]
	c.findTuples()
	if err := c.enumeratePaths(); err != nil {
		return nil, err
	}
	return c, nil
}

// findTuples records the tupling instructions whose input depends on a
// parameter: the tupling nodes a per-node estimator samples.
func (c *Compiled) findTuples() {
	dep := make([]bool, c.nslots)
	c.tupleOf = make([]int32, len(c.instrs))
	c.tuples = c.tuples[:0]
	for j, in := range c.instrs {
		c.tupleOf[j] = -1
		d := in.Op == OpParam
		if in.A >= 0 && dep[in.A] || in.B >= 0 && dep[in.B] {
			d = true
		}
		n := int32(1)
		if in.Op == OpTuple {
			n = in.K
			if d {
				c.tupleOf[j] = int32(len(c.tuples))
				c.tuples = append(c.tuples, int32(j))
			}
		}
		for s := in.Out; s < in.Out+n; s++ {
			dep[s] = d
		}
	}
}

// NumTuples returns the number of tupling nodes on the paths of the
// parameters: the nodes where a per-node estimator chooses a branch.
func (c *Compiled) NumTuples() int { return len(c.tuples) }

// TupleInstr returns the instruction number of tupling node t (0 ≤ t <
// NumTuples), in instruction order.
func (c *Compiled) TupleInstr(t int) int { return int(c.tuples[t]) }

// TupleBranches returns b, the number of branches (copies) of tupling node t.
func (c *Compiled) TupleBranches(t int) int { return int(c.instrs[c.tuples[t]].K) }

// enumeratePaths lists, for each parameter, every path from its slot to the
// output slot in depth-first order (copy 0 first at each tupling node).
func (c *Compiled) enumeratePaths() error {
	// reader[s] = instruction reading slot s, operand[s] = 0 for A, 1 for B.
	reader := make([]int32, c.nslots)
	operand := make([]int8, c.nslots)
	for i := range reader {
		reader[i] = -1
	}
	for i, in := range c.instrs {
		if in.A >= 0 {
			reader[in.A], operand[in.A] = int32(i), 0
		}
		if in.B >= 0 {
			reader[in.B], operand[in.B] = int32(i), 1
		}
	}
	c.pathOff = append(c.pathOff[:0], 0)
	c.edgeOff = append(c.edgeOff[:0], 0)
	c.choiceOff = append(c.choiceOff[:0], 0)
	var edges []int32
	var choices []Choice
	var walk func(s int32) error
	walk = func(s int32) error {
		if s == c.out {
			if len(c.edgeOff) > MaxPaths {
				return fmt.Errorf("autograd: more than %d paths", MaxPaths)
			}
			c.edges = append(c.edges, edges...)
			c.choices = append(c.choices, choices...)
			c.edgeOff = append(c.edgeOff, int32(len(c.edges)))
			c.choiceOff = append(c.choiceOff, int32(len(c.choices)))
			return nil
		}
		r := reader[s]
		if r < 0 {
			return nil // cannot happen after dead-code elimination
		}
		in := c.instrs[r]
		if in.Op == OpTuple {
			for k := int32(0); k < in.K; k++ {
				choices = append(choices, Choice{Instr: r, Copy: k})
				if err := walk(in.Out + k); err != nil {
					return err
				}
				choices = choices[:len(choices)-1]
			}
			return nil
		}
		edges = append(edges, 2*r+int32(operand[s]))
		err := walk(in.Out)
		edges = edges[:len(edges)-1]
		return err
	}
	for _, s := range c.paramSlot {
		if s >= 0 {
			if err := walk(s); err != nil {
				return err
			}
		}
		c.pathOff = append(c.pathOff, int32(len(c.edgeOff)-1))
	}
	return nil
}

// Instrs returns the SSA-SA instruction list. The slice must not be modified.
func (c *Compiled) Instrs() []Instr { return c.instrs }

// NumSlots returns the number of value slots of the compiled program.
func (c *Compiled) NumSlots() int { return c.nslots }

// NumParams returns the number of parameters.
func (c *Compiled) NumParams() int { return len(c.paramSlot) }

// ParamName returns the name of parameter i.
func (c *Compiled) ParamName(i int) string { return c.names[i] }

// ParamSlot returns the slot of parameter p, or -1 if the output does not
// depend on it.
func (c *Compiled) ParamSlot(p int) int { return int(c.paramSlot[p]) }

// OutSlot returns the slot holding the program's output.
func (c *Compiled) OutSlot() int { return int(c.out) }

// Slot returns the slot holding the value of builder node v (the slot written
// by its instruction, before any tupling), or -1 if the output does not
// depend on v.
func (c *Compiled) Slot(v Value) int { return int(c.nodeSlot[v]) }

// NumPaths returns N, the number of paths from parameter p to the output.
func (c *Compiled) NumPaths(p int) int { return int(c.pathOff[p+1] - c.pathOff[p]) }

// PathChoices returns the tupling choices of path i of parameter p, in the
// order the path meets the tupling instructions. The slice must not be
// modified.
func (c *Compiled) PathChoices(p, i int) []Choice {
	j := c.pathOff[p] + int32(i)
	return c.choices[c.choiceOff[j]:c.choiceOff[j+1]]
}

// String renders the SSA-SA program, one instruction a line, in the style of
// the paper's Figure 5.
func (c *Compiled) String() string {
	s := ""
	for _, in := range c.instrs {
		switch in.Op {
		case OpConst:
			s += fmt.Sprintf("v%d <- %g\n", in.Out, in.C)
		case OpParam:
			s += fmt.Sprintf("v%d <- Param_%d (%s)\n", in.Out, in.K, c.names[in.K])
		case OpTuple:
			for k := int32(0); k < in.K; k++ {
				if k > 0 {
					s += ", "
				}
				s += fmt.Sprintf("v%d", in.Out+k)
			}
			s += fmt.Sprintf(" <- v%d\n", in.A)
		case OpPowi:
			s += fmt.Sprintf("v%d <- powi v%d %d\n", in.Out, in.A, in.K)
		default:
			if in.Op.Arity() == 2 {
				s += fmt.Sprintf("v%d <- %v v%d v%d\n", in.Out, in.Op, in.A, in.B)
			} else {
				s += fmt.Sprintf("v%d <- %v v%d\n", in.Out, in.Op, in.A)
			}
		}
	}
	return s + fmt.Sprintf("return v%d\n", c.out)
}
