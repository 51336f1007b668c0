package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes builds an IDX file of unsigned bytes.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

// gzipBytes compresses b.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func md5Hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

// pixelAt is the generated value of byte j of sample i in split s.
func pixelAt(s, i, j int) byte { return byte(i*31 + j*7 + s*101) }

// labelAt is the generated label of sample i in split s.
func labelAt(s, i int) byte { return byte((i*3 + s) % 10) }

// genImages and genLabels make the content of a generated MNIST split.
func genImages(s, n, rows, cols int) []byte {
	data := make([]byte, n*rows*cols)
	for i := 0; i < n; i++ {
		for j := 0; j < rows*cols; j++ {
			data[i*rows*cols+j] = pixelAt(s, i, j)
		}
	}
	return idxBytes(IDXImagesMagic, []int{n, rows, cols}, data)
}

func genLabels(s, n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = labelAt(s, i)
	}
	return idxBytes(IDXLabelsMagic, []int{n}, data)
}

// mnistFiles returns the four generated MNIST files, gzipped, by name.
func mnistFiles(nTrain, nTest, rows, cols int) map[string][]byte {
	return map[string][]byte{
		MNISTTrainImages + ".gz": gzipBytes(genImages(0, nTrain, rows, cols)),
		MNISTTrainLabels + ".gz": gzipBytes(genLabels(0, nTrain)),
		MNISTTestImages + ".gz":  gzipBytes(genImages(1, nTest, rows, cols)),
		MNISTTestLabels + ".gz":  gzipBytes(genLabels(1, nTest)),
	}
}

// writeFiles writes files into dir, gunzipping those listed in raw.
func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeMNIST writes a generated MNIST directory; odd files are stored raw.
func writeMNIST(t testing.TB, dir string, nTrain, nTest, rows, cols int) {
	t.Helper()
	writeFiles(t, dir, map[string][]byte{
		MNISTTrainImages + ".gz": gzipBytes(genImages(0, nTrain, rows, cols)),
		MNISTTrainLabels:         genLabels(0, nTrain),
		MNISTTestImages:          genImages(1, nTest, rows, cols),
		MNISTTestLabels + ".gz":  gzipBytes(genLabels(1, nTest)),
	})
}

// cifarRecords makes n CIFAR-10 records of split s.
func cifarRecords(s, n int) []byte {
	b := make([]byte, 0, n*CIFAR10RecordSize)
	for i := 0; i < n; i++ {
		b = append(b, labelAt(s, i))
		for j := 0; j < CIFAR10PixelBytes; j++ {
			b = append(b, pixelAt(s, i, j))
		}
	}
	return b
}

// cifarFiles returns generated batch files: training file k holds
// perFile records of split k, the test file testN records of split 9.
func cifarFiles(perFile, testN int) map[string][]byte {
	files := map[string][]byte{CIFAR10TestFile: cifarRecords(9, testN)}
	for k, f := range CIFAR10TrainFiles {
		files[f] = cifarRecords(k, perFile)
	}
	return files
}

// tarGz builds a gzipped tar archive of files (entry name → content).
func tarGz(t testing.TB, files map[string][]byte, order []string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, name := range order {
		typ := byte(tar.TypeReg)
		if strings.HasSuffix(name, "/") {
			typ = tar.TypeDir
		}
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: typ}
		if typ == tar.TypeDir {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write(files[name])
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return b.Bytes()
}

// wantErr fails unless err is non-nil and its message contains every part.
func wantErr(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// clearEnv unsets the directory variables for the test.
func clearEnv(t *testing.T) {
	t.Setenv(MNISTEnv, "")
	t.Setenv(CIFAR10Env, "")
}
