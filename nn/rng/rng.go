// Package rng is the framework's counter-based random number generator: every
// draw is a pure function of a key (seed, stream, draw number) and a counter,
// so any random matrix can be regenerated from its key instead of stored,
// runs replay exactly, and a generator's whole state is two words.
//
// The generator is Philox4x32-10 (Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC 2011), keyed by a 64-bit key derived from the seed,
// stream and draw.
package rng

import "math"

const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Key identifies one independent random sequence: a seed, a stream (for
// example a layer index) and a draw number (for example an iteration or a
// candidate index).
type Key struct {
	Seed, Stream, Draw uint64
}

// mix64 is a bijective 64-bit finaliser (MurmurHash3's fmix64).
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// philoxKey folds the three words of k into Philox's 64-bit key.
func (k Key) philoxKey() uint64 {
	h := mix64(k.Seed + 0x9E3779B97F4A7C15)
	h = mix64(h ^ (k.Stream + 0x632BE59BD9B4E019))
	h = mix64(h ^ (k.Draw + 0x85157AF5D0E3A3C1))
	return h
}

// philox computes one Philox4x32-10 block for counter ctr (the upper 64
// counter bits are 0) under key key.
func philox(key, ctr uint64) (uint32, uint32, uint32, uint32) {
	c0, c1, c2, c3 := uint32(ctr), uint32(ctr>>32), uint32(0), uint32(0)
	k0, k1 := uint32(key), uint32(key>>32)
	for r := 0; r < 10; r++ {
		p0 := uint64(philoxM0) * uint64(c0)
		p1 := uint64(philoxM1) * uint64(c2)
		c0, c1, c2, c3 = uint32(p1>>32)^c1^k0, uint32(p1), uint32(p0>>32)^c3^k1, uint32(p0)
		k0 += philoxW0
		k1 += philoxW1
	}
	return c0, c1, c2, c3
}

// Source is a sequential generator over the sequence of a Key. Its state is
// the key and a block counter, both exported through State/SetState so that a
// checkpoint restores it exactly. The zero Source is not useful: use New.
type Source struct {
	key  uint64
	ctr  uint64 // next Philox block
	buf  [4]uint32
	have int // unread words left in buf (taken from the end)
}

// New returns a Source positioned at the start of k's sequence.
func New(k Key) *Source {
	return &Source{key: k.philoxKey()}
}

// Reset repositions s at the start of k's sequence without allocating.
func (s *Source) Reset(k Key) {
	*s = Source{key: k.philoxKey()}
}

// State returns the generator's state: its Philox key, its block counter and
// the number of words still buffered from the last block.
func (s *Source) State() (key, ctr uint64, have int) { return s.key, s.ctr, s.have }

// SetState restores a state returned by State.
func (s *Source) SetState(key, ctr uint64, have int) {
	s.key, s.ctr, s.have = key, ctr, 0
	if have > 0 && have <= 4 && ctr > 0 {
		s.buf[0], s.buf[1], s.buf[2], s.buf[3] = philox(key, ctr-1)
		s.have = have
	}
}

// Uint32 returns the next 32 random bits.
func (s *Source) Uint32() uint32 {
	if s.have == 0 {
		s.buf[0], s.buf[1], s.buf[2], s.buf[3] = philox(s.key, s.ctr)
		s.ctr++
		s.have = 4
	}
	s.have--
	return s.buf[3-s.have]
}

// Uint64 returns the next 64 random bits.
func (s *Source) Uint64() uint64 {
	return uint64(s.Uint32())<<32 | uint64(s.Uint32())
}

// Float64 returns a uniform number in [0, 1) with 53 random bits.
func (s *Source) Float64() float64 {
	return float64(s.Uint64()>>11) * (1.0 / (1 << 53))
}

// Float32 returns a uniform number in [0, 1) with 24 random bits.
func (s *Source) Float32() float32 {
	return float32(s.Uint32()>>8) * (1.0 / (1 << 24))
}

// Intn returns a uniform integer in [0, n) without modulo bias. n must be > 0.
func (s *Source) Intn(n int) int {
	if n <= 0 {
		panic("rng: Intn with n <= 0")
	}
	if uint64(n) <= math.MaxUint32 {
		// Lemire's nearly divisionless method.
		bound := uint32(n)
		x := s.Uint32()
		m := uint64(x) * uint64(bound)
		if l := uint32(m); l < bound {
			t := -bound % bound
			for l < t {
				x = s.Uint32()
				m = uint64(x) * uint64(bound)
				l = uint32(m)
			}
		}
		return int(m >> 32)
	}
	max := uint64(math.MaxUint64 - math.MaxUint64%uint64(n))
	for {
		v := s.Uint64()
		if v < max {
			return int(v % uint64(n))
		}
	}
}

// NormFloat64 returns a standard normal number (Box-Muller; one of the pair
// is discarded so that the state stays a pure counter).
func (s *Source) NormFloat64() float64 {
	u1 := s.Float64()
	for u1 == 0 {
		u1 = s.Float64()
	}
	u2 := s.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Shuffle permutes p uniformly (Fisher-Yates).
func (s *Source) Shuffle(p []int32) {
	for i := len(p) - 1; i > 0; i-- {
		j := s.Intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}

// Block returns the four 32-bit words of block ctr of k's sequence. It is the
// random-access form of the generator: Block(k, i) equals words 4i..4i+3 of
// New(k).
func Block(k Key, ctr uint64) (uint32, uint32, uint32, uint32) {
	return philox(k.philoxKey(), ctr)
}

// Hash returns the 64-bit Philox key that k folds into. With BlockAt it
// gives random access to k's sequence without re-deriving the key per block.
func (k Key) Hash() uint64 { return k.philoxKey() }

// BlockAt returns block ctr of the sequence whose Hash is h: BlockAt(k.Hash(),
// i) equals Block(k, i).
func BlockAt(h, ctr uint64) (uint32, uint32, uint32, uint32) { return philox(h, ctr) }
