package datasets

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestReadCIFAR10Good(t *testing.T) {
	raw := cifarRecords(3, 4)
	for _, data := range [][]byte{raw, gzipBytes(raw)} {
		pix, lab, err := ReadCIFAR10(bytes.NewReader(data), "batch.bin")
		if err != nil {
			t.Fatal(err)
		}
		if len(lab) != 4 || len(pix) != 4*CIFAR10PixelBytes {
			t.Fatalf("got %d labels, %d pixel bytes", len(lab), len(pix))
		}
		for i := 0; i < 4; i++ {
			if lab[i] != labelAt(3, i) || pix[i*CIFAR10PixelBytes+1025] != pixelAt(3, i, 1025) {
				t.Fatalf("record %d differs", i)
			}
		}
	}
}

func TestReadCIFAR10Dir(t *testing.T) {
	dir := t.TempDir()
	files := cifarFiles(3, 3)
	for name, b := range files { // store alternate files gzipped
		if name == CIFAR10TrainFiles[1] || name == CIFAR10TestFile {
			delete(files, name)
			files[name+".gz"] = gzipBytes(b)
		}
	}
	writeFiles(t, dir, files)
	train, test, err := ReadCIFAR10Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 15 || test.N != 3 || train.C != 3 || train.H != 32 || train.W != 32 || train.Classes != 10 {
		t.Fatalf("train N=%d test N=%d shape %d×%d×%d", train.N, test.N, train.C, train.H, train.W)
	}
	// Sample 7 is record 1 of data_batch_3 (split 2); check each plane.
	s := train.Sample(7)
	for _, j := range []int{0, 1024, 2048, 3071} {
		if s[j] != pixelAt(2, 1, j) {
			t.Fatalf("pixel %d of sample 7 = %d, want %d", j, s[j], pixelAt(2, 1, j))
		}
	}
	if train.Labels[7] != labelAt(2, 1) {
		t.Fatal("label of sample 7")
	}
	if len(train.Mean) != 3 || train.Mean[2] != CIFAR10Mean[2] || train.Std[0] != CIFAR10Std[0] {
		t.Fatalf("normalisation %v %v", train.Mean, train.Std)
	}
	if cap(train.Pixels) != len(train.Pixels) {
		t.Errorf("pixels preallocated with cap %d for len %d", cap(train.Pixels), len(train.Pixels))
	}
}

func TestReadCIFAR10Corrupt(t *testing.T) {
	good := cifarRecords(0, 3)
	badLabel := append([]byte(nil), good...)
	badLabel[2*CIFAR10RecordSize] = 12
	zipped := gzipBytes(good)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no records"},
		{"short", good[:len(good)-1], "size 9218 is not a multiple of the 3073-byte record"},
		{"long", append(append([]byte(nil), good...), 1, 2), "size 9221 is not a multiple of the 3073-byte record"},
		{"label", badLabel, "record 2 has label 12"},
		{"truncated gzip", zipped[:len(zipped)-10], "truncated gzip stream"},
		{"gzip garbage", append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{0xAA}, 40)...), "corrupt gzip stream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "cifar/" + tc.name + ".bin"
			_, _, err := ReadCIFAR10(bytes.NewReader(tc.data), name)
			wantErr(t, err, name, tc.want)
		})
	}
	dir := t.TempDir()
	files := cifarFiles(2, 2)
	files[CIFAR10TrainFiles[3]] = files[CIFAR10TrainFiles[3]][:100]
	writeFiles(t, dir, files)
	_, _, err := ReadCIFAR10Dir(dir)
	wantErr(t, err, filepath.Join(dir, CIFAR10TrainFiles[3]), "not a multiple")
	os.Remove(filepath.Join(dir, CIFAR10TrainFiles[2]))
	_, _, err = ReadCIFAR10Dir(dir)
	wantErr(t, err, dir, "missing "+CIFAR10TrainFiles[2])
	_, _, err = ReadCIFAR10File(filepath.Join(dir, "absent.bin"))
	wantErr(t, err, "absent.bin")
}

// A directory whose batches do not all hold the same number of records
// (a batch cut to whole records, as a 9,000-record file among 10,000-record
// ones) is refused, naming the odd batch, in memory and streamed.
func TestCIFAR10BatchCutShort(t *testing.T) {
	dir := t.TempDir()
	files := cifarFiles(4, 4)
	files[CIFAR10TrainFiles[2]] = files[CIFAR10TrainFiles[2]][:3*CIFAR10RecordSize]
	writeFiles(t, dir, files)
	_, _, err := ReadCIFAR10Dir(dir)
	wantErr(t, err, filepath.Join(dir, CIFAR10TrainFiles[2]), "3 records where the other batches of the set hold 4")
	_, _, err = OpenCIFAR10Dir(dir, Options{CacheDir: t.TempDir()})
	wantErr(t, err, filepath.Join(dir, CIFAR10TrainFiles[2]), "3 records where the other batches of the set hold 4")
	files = cifarFiles(4, 2)
	writeFiles(t, dir, files)
	_, _, err = ReadCIFAR10Dir(dir)
	wantErr(t, err, CIFAR10TestFile, "2 records where the other batches of the set hold 4")
}

func TestResolveCIFAR10Order(t *testing.T) {
	clearEnv(t)
	a, b := t.TempDir(), t.TempDir()
	writeFiles(t, a, cifarFiles(1, 1))
	writeFiles(t, b, cifarFiles(2, 2))
	t.Setenv(CIFAR10Env, a)
	if d, err := ResolveCIFAR10(Options{}); err != nil || d != a {
		t.Fatalf("env: %q %v", d, err)
	}
	train, _, err := LoadCIFAR10(b)
	if err != nil || train.N != 10 {
		t.Fatalf("explicit dir must win: %v", err)
	}
	empty := t.TempDir()
	_, err = ResolveCIFAR10(Options{Dir: empty})
	wantErr(t, err, empty, "--data", "data_batch_1.bin")
	t.Setenv(CIFAR10Env, empty)
	_, err = ResolveCIFAR10(Options{})
	wantErr(t, err, empty, "$"+CIFAR10Env)
	t.Setenv(CIFAR10Env, "")
	root := t.TempDir()
	writeFiles(t, filepath.Join(root, CIFAR10DirName), cifarFiles(3, 3))
	if d, err := ResolveCIFAR10(Options{CacheOnly: true, CacheDir: root, NoDownload: true}); err != nil || d != filepath.Join(root, CIFAR10DirName) {
		t.Fatalf("cache: %q %v", d, err)
	}
	// The shared directory is found by walking up from the working directory.
	top := t.TempDir()
	writeFiles(t, filepath.Join(top, "shared", "data", CIFAR10DirName), cifarFiles(2, 2))
	deep := filepath.Join(top, "main", "pkg")
	os.MkdirAll(deep, 0o755)
	t.Chdir(deep)
	if d, err := ResolveCIFAR10(Options{NoDownload: true}); err != nil || d != filepath.Join(top, "shared", "data", CIFAR10DirName) {
		t.Fatalf("shared: %q %v", d, err)
	}
}

// realCIFAR returns the directory of the real CIFAR-10 batches, or skips.
func realCIFAR(t *testing.T) string {
	clearEnv(t)
	dir, err := ResolveCIFAR10(Options{NoDownload: true, CacheDir: t.TempDir()})
	if err != nil {
		t.Skipf("real CIFAR-10 not available: %v", err)
	}
	return dir
}

func TestRealCIFAR10TestBatch(t *testing.T) {
	dir := realCIFAR(t)
	path := findFile(dir, CIFAR10TestFile)
	pix, lab, err := ReadCIFAR10File(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lab) != 10000 || len(pix) != 10000*CIFAR10PixelBytes {
		t.Fatalf("%s: %d records", path, len(lab))
	}
	counts := make([]int, 10)
	for _, l := range lab {
		counts[l]++
	}
	for c, n := range counts {
		if n != 1000 {
			t.Fatalf("class %d has %d test images, want 1000", c, n)
		}
	}
}

func TestRealCIFAR10Train(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 150 MB")
	}
	dir := realCIFAR(t)
	train, test, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 50000 || test.N != 10000 {
		t.Fatalf("train %d, test %d", train.N, test.N)
	}
	for c, n := range train.ClassCounts() {
		if n != 5000 {
			t.Fatalf("class %d has %d training images", c, n)
		}
	}
	mean, std := train.ChannelStats()
	for c := 0; c < 3; c++ {
		if math.Abs(float64(mean[c]-CIFAR10Mean[c])) > 1e-3 || math.Abs(float64(std[c]-CIFAR10Std[c])) > 1e-3 {
			t.Errorf("channel %d: mean %v std %v, constants %v %v", c, mean[c], std[c], CIFAR10Mean[c], CIFAR10Std[c])
		}
	}
}
