package datasets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR-10 binary format: each record is one label byte followed by the
// 32×32 red, green and blue planes.
const (
	CIFAR10Side       = 32
	CIFAR10PixelBytes = 3 * CIFAR10Side * CIFAR10Side
	CIFAR10RecordSize = 1 + CIFAR10PixelBytes
)

// CIFAR10Env is the environment variable naming a directory of CIFAR-10
// binary batches.
const CIFAR10Env = "SPAD_CIFAR10_DIR"

// CIFAR10URL is the official archive of the binary version, and
// CIFAR10Archive its file name.
const (
	CIFAR10URL     = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	CIFAR10Archive = "cifar-10-binary.tar.gz"
	CIFAR10DirName = "cifar-10-batches-bin"
	cifar10MD5     = "c32a1d4ab5d03f1284b67883e8d87530"
)

// CIFAR10TrainFiles and CIFAR10TestFile are the batch files of the binary
// version (each may also be present gzipped, with a .gz suffix).
var (
	CIFAR10TrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	CIFAR10TestFile   = "test_batch.bin"
)

// CIFAR10Mean and CIFAR10Std are the fixed per-channel normalisation
// constants (R, G, B) used for both splits: the mean and standard deviation
// of the 50,000 training images' pixels scaled to [0,1]. They are standard
// constants rather than statistics recomputed at load time, so that a subset
// or a resumed run normalises identically; ChannelStats reproduces them.
var (
	CIFAR10Mean = [3]float32{0.4914, 0.4822, 0.4465}
	CIFAR10Std  = [3]float32{0.2470, 0.2435, 0.2616}
)

// CIFAR10Classes are the class names, by label.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// CIFAR10BatchRecords is the number of records in each of the official
// set's six batch files.
const CIFAR10BatchRecords = 10000

// ReadCIFAR10 reads the records of one CIFAR-10 binary batch from r, raw or
// gzipped, returning the pixels (3×32×32 bytes per record, R, G, B planes)
// and the labels. name identifies the file in error messages. A size that is
// not a whole number of records, a label above 9, an empty file or a corrupt
// gzip stream give an error, never a panic.
func ReadCIFAR10(r io.Reader, name string) (pixels, labels []uint8, err error) {
	return readCIFAR10Into(r, name, nil, nil)
}

// readCIFAR10Into appends the records of one batch to pixels and labels.
func readCIFAR10Into(r io.Reader, name string, pixels, labels []uint8) ([]uint8, []uint8, error) {
	p, err := newPayloadReader(r, name)
	if err != nil {
		return nil, nil, err
	}
	var lab [1]byte
	records := 0
	for {
		n, err := p.fill(lab[:])
		if n == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if lab[0] > 9 {
			return nil, nil, fmt.Errorf("datasets: %s: record %d has label %d (want 0..9)", name, records, lab[0])
		}
		at := len(pixels)
		pixels = append(pixels, make([]uint8, CIFAR10PixelBytes)...)
		if n, err := p.fill(pixels[at:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil, fmt.Errorf("datasets: %s: size %d is not a multiple of the %d-byte record (record %d is truncated)",
					name, records*CIFAR10RecordSize+1+n, CIFAR10RecordSize, records)
			}
			return nil, nil, err
		}
		labels = append(labels, lab[0])
		records++
	}
	if records == 0 {
		return nil, nil, fmt.Errorf("datasets: %s: no records (empty file)", name)
	}
	return pixels, labels, nil
}

// ReadCIFAR10File is ReadCIFAR10 on the file at path.
func ReadCIFAR10File(path string) (pixels, labels []uint8, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	return ReadCIFAR10(f, path)
}

// ReadCIFAR10Files reads and concatenates the batch files at paths into one
// Dataset called name, with the CIFAR-10 normalisation.
func ReadCIFAR10Files(name string, paths ...string) (*Dataset, error) {
	d, _, err := readCIFAR10Files(name, paths...)
	return d, err
}

// readCIFAR10Files is ReadCIFAR10Files that also returns each file's
// record count.
func readCIFAR10Files(name string, paths ...string) (*Dataset, []int, error) {
	size := 0
	for _, p := range paths {
		size += sizeHint(p)
	}
	pixels := make([]uint8, 0, size/CIFAR10RecordSize*CIFAR10PixelBytes)
	labels := make([]uint8, 0, size/CIFAR10RecordSize)
	counts := make([]int, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: %w", err)
		}
		before := len(labels)
		pixels, labels, err = readCIFAR10Into(f, p, pixels, labels)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		counts = append(counts, len(labels)-before)
	}
	d := &Dataset{
		Name: name, N: len(labels), C: 3, H: CIFAR10Side, W: CIFAR10Side, Classes: 10,
		Pixels: pixels, Labels: labels,
		Mean:       append([]float32(nil), CIFAR10Mean[:]...),
		Std:        append([]float32(nil), CIFAR10Std[:]...),
		ClassNames: append([]string(nil), CIFAR10Classes...),
	}
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	return d, counts, nil
}

// sizeHint estimates the decompressed size of the file at path: its size
// when raw, the length recorded in the gzip trailer when gzipped (capped, as
// it is only a hint for preallocation).
func sizeHint(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || magic != gzipMagic {
		return int(min(st.Size(), 1<<30))
	}
	var tail [4]byte
	if st.Size() < 18 {
		return 0
	}
	if _, err := f.ReadAt(tail[:], st.Size()-4); err != nil {
		return 0
	}
	// Deflate expands at most about 1032-fold, which bounds a bogus trailer.
	return int(min(int64(binary.LittleEndian.Uint32(tail[:])), 1032*st.Size(), 1<<30))
}

// hasCIFAR10 reports whether dir holds all six batch files.
func hasCIFAR10(dir string) bool {
	for _, f := range CIFAR10TrainFiles {
		if findFile(dir, f) == "" {
			return false
		}
	}
	return findFile(dir, CIFAR10TestFile) != ""
}

// ReadCIFAR10Dir reads the CIFAR-10 training set (data_batch_1..5.bin) and
// test set (test_batch.bin) from dir, each file raw or gzipped. It does not
// search elsewhere. The six batches must hold the same number of records
// (10,000 each in the official set): a batch cut short is named.
func ReadCIFAR10Dir(dir string) (train, test *Dataset, err error) {
	paths, tp, err := cifar10Paths(dir)
	if err != nil {
		return nil, nil, err
	}
	train, counts, err := readCIFAR10Files("cifar10-train", paths...)
	if err != nil {
		return nil, nil, err
	}
	test, tc, err := readCIFAR10Files("cifar10-test", tp)
	if err != nil {
		return nil, nil, err
	}
	if err := checkCIFAR10Counts(append(append([]string(nil), paths...), tp), append(counts, tc...)); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// checkCIFAR10Counts requires the batches of a CIFAR-10 directory to hold
// the same number of records, as the official set does (10,000 each), and
// names the first batch that differs from the majority.
func checkCIFAR10Counts(paths []string, counts []int) error {
	votes := map[int]int{}
	for _, n := range counts {
		votes[n]++
	}
	common := counts[0]
	for n, v := range votes {
		if v > votes[common] || (v == votes[common] && n > common) {
			common = n
		}
	}
	for i, n := range counts {
		if n != common {
			return fmt.Errorf("datasets: %s: %d records where the other batches of the set hold %d (the official batches hold %d each): a cut or foreign file?",
				paths[i], n, common, CIFAR10BatchRecords)
		}
	}
	return nil
}

// cifar10Paths finds the training and test batch files in dir.
func cifar10Paths(dir string) (train []string, test string, err error) {
	for _, f := range CIFAR10TrainFiles {
		p := findFile(dir, f)
		if p == "" {
			return nil, "", fmt.Errorf("datasets: %s: missing %s[.gz]", dir, f)
		}
		train = append(train, p)
	}
	test = findFile(dir, CIFAR10TestFile)
	if test == "" {
		return nil, "", fmt.Errorf("datasets: %s: missing %s[.gz]", dir, CIFAR10TestFile)
	}
	return train, test, nil
}

// LoadCIFAR10 loads CIFAR-10 from dir when it is not empty, else from the
// first place that has it (see ResolveCIFAR10), downloading it if need be.
func LoadCIFAR10(dir string) (train, test *Dataset, err error) {
	return LoadCIFAR10With(Options{Dir: dir})
}

// LoadCIFAR10With loads CIFAR-10 from the directory ResolveCIFAR10(opt)
// picks, into memory or streamed as opt.Mode says.
func LoadCIFAR10With(opt Options) (train, test *Dataset, err error) {
	dir, err := ResolveCIFAR10(opt)
	if err != nil {
		return nil, nil, err
	}
	switch opt.resolve("cifar10") {
	case Stream:
		if opt.Mode == Auto {
			if train, test, err = OpenCIFAR10Dir(dir, opt); err == nil {
				return train, test, nil
			}
			break // no usable cache directory, say: read into memory
		}
		return OpenCIFAR10Dir(dir, opt)
	}
	return ReadCIFAR10Dir(dir)
}

// ResolveCIFAR10 returns the directory CIFAR-10 is read from, trying in
// order: opt.Dir (used alone when set), $SPAD_CIFAR10_DIR,
// shared/data/cifar-10-batches-bin in the working directory or any parent
// (so ../shared/data/... of a checkout is found from the repository root and
// from package directories), <CacheDir>/cifar-10-batches-bin, and finally a
// download of the official archive (MD5-checked) extracted into that cache.
// The error, when nothing works, says where to get the data.
func ResolveCIFAR10(opt Options) (string, error) {
	const want = "data_batch_1.bin … data_batch_5.bin and test_batch.bin (raw or .gz)"
	if opt.Dir != "" {
		if hasCIFAR10(opt.Dir) {
			return opt.Dir, nil
		}
		return "", fmt.Errorf("datasets: CIFAR-10 not found in %s (given by --data): it must hold %s", opt.Dir, want)
	}
	var searched []string
	if !opt.CacheOnly {
		if env := os.Getenv(CIFAR10Env); env != "" {
			if hasCIFAR10(env) {
				return env, nil
			}
			return "", fmt.Errorf("datasets: CIFAR-10 not found in %s (given by $%s): it must hold %s", env, CIFAR10Env, want)
		}
		for _, d := range sharedDataDirs(CIFAR10DirName) {
			if hasCIFAR10(d) {
				return d, nil
			}
		}
		searched = append(searched, "shared/data/"+CIFAR10DirName+" in the working directory and its parents")
	}
	url := opt.URL
	if url == "" {
		url = CIFAR10URL
	}
	help := fmt.Sprintf("get %s (the binary version), extract it and pass --data DIR pointing at its %s folder (or set $%s)",
		url, CIFAR10DirName, CIFAR10Env)
	root, err := opt.cacheRoot()
	if err != nil {
		return "", fmt.Errorf("datasets: CIFAR-10 not found and no cache directory (%v); %s", err, help)
	}
	cache := filepath.Join(root, CIFAR10DirName)
	if hasCIFAR10(cache) {
		return cache, nil
	}
	searched = append(searched, cache)
	help += ", or extract it into " + root
	if opt.NoDownload {
		return "", fmt.Errorf("datasets: CIFAR-10 not found (searched %s) and downloading is disabled; %s",
			strings.Join(searched, ", "), help)
	}
	if err := downloadCIFAR10(&opt, url, root, cache); err != nil {
		return "", fmt.Errorf("datasets: CIFAR-10 not found (searched %s) and the download failed: %w; without network access, %s",
			strings.Join(searched, ", "), err, help)
	}
	return cache, nil
}

// downloadCIFAR10 fetches the archive into root, checks it, extracts the
// batch files into a temporary directory and moves them into dir, then
// removes the archive. On failure neither the archive nor partial files
// are left behind.
func downloadCIFAR10(opt *Options, url, root, dir string) error {
	archive := filepath.Join(root, CIFAR10Archive)
	if err := downloadFile(opt, url, archive, opt.checksum(CIFAR10Archive, map[string]string{CIFAR10Archive: cifar10MD5})); err != nil {
		return err
	}
	defer os.Remove(archive)
	tmp, err := os.MkdirTemp(root, "."+CIFAR10DirName+".*.tmp")
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer os.RemoveAll(tmp)
	want := map[string]bool{CIFAR10TestFile: true, "batches.meta.txt": true}
	for _, f := range CIFAR10TrainFiles {
		want[f] = true
	}
	got, err := extractTarGz(archive, tmp, want)
	if err != nil {
		return err
	}
	var missing []string
	for _, f := range append(append([]string(nil), CIFAR10TrainFiles...), CIFAR10TestFile) {
		if !got[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("datasets: %s: archive lacks %s", url, strings.Join(missing, ", "))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	for f := range got {
		if err := os.Rename(filepath.Join(tmp, f), filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
	}
	return nil
}
