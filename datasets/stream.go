package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Mode says how a loader holds a data set's samples.
type Mode int

const (
	// Memory reads every sample into memory when the data set is loaded.
	Memory Mode = iota
	// Stream keeps the samples on disk and reads each one when a batch
	// needs it (a positioned read of a few kilobytes into the iterator's
	// buffer); only the labels live in memory. Gzipped files are
	// decompressed once into the cache directory. The batches are bitwise
	// those of Memory.
	Stream
	// Auto picks each data set's default mode (see DefaultMode); when
	// streaming cannot be set up (no writable cache directory for a gzipped
	// file, say) it reads the data into memory instead.
	Auto
)

// Modes lists the names ParseMode accepts.
var Modes = []string{"memory", "stream", "auto"}

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case Memory:
		return "memory"
	case Stream:
		return "stream"
	case Auto:
		return "auto"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses a mode name (memory, stream or auto; case-insensitive).
func ParseMode(s string) (Mode, error) {
	for i, n := range Modes {
		if strings.EqualFold(s, n) {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("datasets: unknown data mode %q (valid: %s)", s, strings.Join(Modes, ", "))
}

// DefaultMode returns the mode Auto stands for with the data set called
// name: Stream wherever reading the samples per batch costs at most 5 % in
// training step time, which bench/RESULTS.md ("Process memory (peak RSS)")
// measured for both MNIST and CIFAR-10.
func DefaultMode(name string) Mode {
	return Stream
}

// resolve returns the mode the options ask for with the data set name.
func (o *Options) resolve(name string) Mode {
	if o.Mode == Auto {
		return DefaultMode(name)
	}
	return o.Mode
}

// segment is a run of samples stored at a fixed stride in one file.
type segment struct {
	f      *os.File
	path   string
	first  int   // index in the store of the segment's first sample
	n      int   // samples in the segment
	off    int64 // byte offset of the first sample's pixels
	stride int64 // bytes from one sample's pixels to the next
}

// store is where a streamed data set's pixels live: runs of fixed-size
// samples in files opened read-only.
type store struct {
	segs []segment
	n    int // samples in all segments
	size int // bytes per sample
}

// readAt reads sample i of the store into dst[:size] and returns that
// slice. It does not allocate.
func (s *store) readAt(dst []uint8, i int) ([]uint8, error) {
	lo, hi := 0, len(s.segs)
	for hi-lo > 1 { // the last segment whose first sample is ≤ i
		mid := (lo + hi) / 2
		if s.segs[mid].first <= i {
			lo = mid
		} else {
			hi = mid
		}
	}
	g := &s.segs[lo]
	dst = dst[:s.size]
	if _, err := g.f.ReadAt(dst, g.off+int64(i-g.first)*g.stride); err != nil {
		return nil, fmt.Errorf("datasets: %s: reading sample %d: %w", g.path, i-g.first, err)
	}
	return dst, nil
}

// close closes the store's files.
func (s *store) close() error {
	var errs []error
	for _, g := range s.segs {
		if err := g.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Streamed reports whether d's samples are read from disk (Stream mode)
// rather than held in Pixels.
func (d *Dataset) Streamed() bool { return d.src != nil }

// Mode returns Stream for a streamed data set and Memory otherwise.
func (d *Dataset) Mode() Mode {
	if d.Streamed() {
		return Stream
	}
	return Memory
}

// Close releases the files of a streamed data set (and of every slice of
// it: they share the files); the data set cannot be read afterwards. It
// does nothing for a data set held in memory.
func (d *Dataset) Close() error {
	if d.src == nil {
		return nil
	}
	return d.src.close()
}

// sample returns the bytes of sample i: a sub-slice of Pixels in memory,
// else the sample read into buf (SampleSize bytes). A read failure of a
// streamed file (one that was checked when it was opened) panics with a
// message naming the file: it is the machine failing, not bad data.
func (d *Dataset) sample(buf []uint8, i int) []uint8 {
	if d.src == nil {
		return d.Sample(i)
	}
	b, err := d.src.readAt(buf, d.base+i)
	if err != nil {
		panic(err.Error())
	}
	return b
}

// rawPath returns a path of the uncompressed content of the file at path:
// path itself when it is not gzipped, else a copy decompressed once into
// <cache root>/stream, named after the file, its size and its modification
// time, so that a changed file is decompressed again.
func rawPath(path string, opt *Options) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	var magic [2]byte
	if n, _ := io.ReadFull(f, magic[:]); n < 2 || magic != gzipMagic {
		return path, nil
	}
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("datasets: %w", err)
	}
	root, err := opt.cacheRoot()
	if err != nil {
		return "", fmt.Errorf("datasets: %s is gzipped and streaming needs a cache directory to decompress it into: %v", path, err)
	}
	abs, _ := filepath.Abs(path)
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano())
	dir := filepath.Join(root, "stream")
	out := filepath.Join(dir, fmt.Sprintf("%s-%016x", strings.TrimSuffix(filepath.Base(path), ".gz"), h.Sum64()))
	if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() {
		return out, nil // written whole by an earlier run (renamed into place)
	}
	cacheErr := func(err error) error {
		return fmt.Errorf("datasets: decompressing %s into the cache for streaming: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", cacheErr(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", cacheErr(err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return "", cacheErr(err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		tmp.Close()
		return "", gzipError(path, err)
	}
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if _, err := io.Copy(bw, zr); err != nil {
		tmp.Close()
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", cacheErr(err)
		}
		return "", gzipError(path, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return "", cacheErr(err)
	}
	if err := tmp.Close(); err != nil {
		return "", cacheErr(err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", cacheErr(err)
	}
	return out, nil
}

// openRaw opens the uncompressed content of the file at path read-only
// and returns it with its size and the path it was opened from.
func openRaw(path string, opt *Options) (*os.File, int64, string, error) {
	rp, err := rawPath(path, opt)
	if err != nil {
		return nil, 0, "", err
	}
	f, err := os.Open(rp)
	if err != nil {
		return nil, 0, "", fmt.Errorf("datasets: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, "", fmt.Errorf("datasets: %w", err)
	}
	return f, st.Size(), rp, nil
}

// OpenCIFAR10Files opens the batch files at paths (raw or gzipped) as one
// streamed Dataset called name, with the CIFAR-10 normalisation. Only the
// labels are read into memory; a file that is not a whole number of
// records or holds a label above 9 gives an error.
func OpenCIFAR10Files(name string, opt Options, paths ...string) (*Dataset, error) {
	st := &store{size: CIFAR10PixelBytes}
	var labels []uint8
	fail := func(err error) (*Dataset, error) {
		st.close()
		return nil, err
	}
	for _, p := range paths {
		f, size, rp, err := openRaw(p, &opt)
		if err != nil {
			return fail(err)
		}
		st.segs = append(st.segs, segment{f: f, path: rp, first: st.n, off: 1, stride: CIFAR10RecordSize})
		if size == 0 {
			return fail(fmt.Errorf("datasets: %s: no records (empty file)", p))
		}
		if size%CIFAR10RecordSize != 0 {
			return fail(fmt.Errorf("datasets: %s: size %d is not a multiple of the %d-byte record (record %d is truncated)",
				p, size, CIFAR10RecordSize, size/CIFAR10RecordSize))
		}
		n := int(size / CIFAR10RecordSize)
		// One sequential pass collects the labels (the pixels stay in the
		// page cache, not in the process).
		br := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 64<<10)
		rec := make([]byte, CIFAR10RecordSize)
		for i := 0; i < n; i++ {
			if _, err := io.ReadFull(br, rec); err != nil {
				return fail(fmt.Errorf("datasets: %s: read error: %w", rp, err))
			}
			if rec[0] > 9 {
				return fail(fmt.Errorf("datasets: %s: record %d has label %d (want 0..9)", p, i, rec[0]))
			}
			labels = append(labels, rec[0])
		}
		st.segs[len(st.segs)-1].n = n
		st.n += n
	}
	d := &Dataset{
		Name: name, N: st.n, C: 3, H: CIFAR10Side, W: CIFAR10Side, Classes: 10,
		Labels:     labels,
		Mean:       append([]float32(nil), CIFAR10Mean[:]...),
		Std:        append([]float32(nil), CIFAR10Std[:]...),
		ClassNames: append([]string(nil), CIFAR10Classes...),
		src:        st,
	}
	if err := d.Validate(); err != nil {
		return fail(err)
	}
	return d, nil
}

// OpenCIFAR10Dir opens the CIFAR-10 training and test sets of dir as
// streamed data sets (see OpenCIFAR10Files); gzipped batches are
// decompressed once into opt's cache directory.
func OpenCIFAR10Dir(dir string, opt Options) (train, test *Dataset, err error) {
	paths, tp, err := cifar10Paths(dir)
	if err != nil {
		return nil, nil, err
	}
	if train, err = OpenCIFAR10Files("cifar10-train", opt, paths...); err != nil {
		return nil, nil, err
	}
	if test, err = OpenCIFAR10Files("cifar10-test", opt, tp); err != nil {
		train.Close()
		return nil, nil, err
	}
	var counts []int
	for _, d := range []*Dataset{train, test} {
		for _, sg := range d.src.segs {
			counts = append(counts, sg.n)
		}
	}
	if err := checkCIFAR10Counts(append(append([]string(nil), paths...), tp), counts); err != nil {
		train.Close()
		test.Close()
		return nil, nil, err
	}
	return train, test, nil
}

// openIDXImages opens an IDX image file for streaming: it checks the
// header and that the file holds exactly the declared pixels.
func openIDXImages(path string, opt *Options) (st *store, n, rows, cols int, err error) {
	f, size, rp, err := openRaw(path, opt)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	var hdr [16]byte
	got, _ := f.ReadAt(hdr[:], 0)
	if m := binary.BigEndian.Uint32(hdr[:4]); got >= 4 && m != IDXImagesMagic {
		f.Close()
		return nil, 0, 0, 0, fmt.Errorf("datasets: %s: bad IDX magic number 0x%08x for an image file (want 0x%08x)", path, m, IDXImagesMagic)
	}
	if got < len(hdr) {
		f.Close()
		return nil, 0, 0, 0, fmt.Errorf("datasets: %s: truncated IDX header (%d of 16 bytes)", path, got)
	}
	dims := [3]uint64{}
	for i := range dims {
		dims[i] = uint64(binary.BigEndian.Uint32(hdr[4+4*i:]))
	}
	if dims[0] == 0 || dims[1] == 0 || dims[2] == 0 {
		f.Close()
		return nil, 0, 0, 0, fmt.Errorf("datasets: %s: IDX image file has an empty dimension %v", path, dims)
	}
	if want := 16 + dims[0]*dims[1]*dims[2]; uint64(size) != want {
		f.Close()
		return nil, 0, 0, 0, fmt.Errorf("datasets: %s: IDX dimensions %v declare %d bytes of data, file holds %d",
			path, dims, want-16, size-16)
	}
	n, rows, cols = int(dims[0]), int(dims[1]), int(dims[2])
	st = &store{n: n, size: rows * cols,
		segs: []segment{{f: f, path: rp, n: n, off: 16, stride: int64(rows * cols)}}}
	return st, n, rows, cols, nil
}

// OpenMNISTDir opens the MNIST training and test sets of dir as streamed
// data sets: the images stay on disk (gzipped ones decompressed once into
// opt's cache directory), the labels are read into memory.
func OpenMNISTDir(dir string, opt Options) (train, test *Dataset, err error) {
	train, err = openMNISTSplit(dir, &opt, "mnist-train", MNISTTrainImages, MNISTTrainLabels)
	if err != nil {
		return nil, nil, err
	}
	test, err = openMNISTSplit(dir, &opt, "mnist-test", MNISTTestImages, MNISTTestLabels)
	if err != nil {
		train.Close()
		return nil, nil, err
	}
	if test.H != train.H || test.W != train.W {
		train.Close()
		test.Close()
		return nil, nil, fmt.Errorf("datasets: %s: test images are %d×%d but training images are %d×%d",
			dir, test.H, test.W, train.H, train.W)
	}
	return train, test, nil
}

// openMNISTSplit opens one images/labels pair as a streamed Dataset.
func openMNISTSplit(dir string, opt *Options, name, images, labels string) (*Dataset, error) {
	ip, lp, err := mnistPaths(dir, images, labels)
	if err != nil {
		return nil, err
	}
	st, n, rows, cols, err := openIDXImages(ip, opt)
	if err != nil {
		return nil, err
	}
	d, err := newMNISTDataset(name, ip, lp, nil, n, rows, cols)
	if err != nil {
		st.close()
		return nil, err
	}
	d.src = st
	if err := d.Validate(); err != nil {
		st.close()
		return nil, err
	}
	return d, nil
}
