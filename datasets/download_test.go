package datasets

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// fileServer serves files under prefix and counts the requests.
type fileServer struct {
	files    map[string][]byte
	requests atomic.Int32
	// shortBy makes responses announce more bytes than they send.
	shortBy int
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	b, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+s.shortBy))
	w.Write(b)
}

// noPartFiles fails if a temporary download file was left in dir.
func noPartFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".part") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func mnistServer(t *testing.T) (*fileServer, *httptest.Server, map[string]string) {
	files := mnistFiles(9, 4, 3, 3)
	fs := &fileServer{files: map[string][]byte{}}
	sums := map[string]string{}
	for name, b := range files {
		fs.files["/mnist/"+name] = b
		sums[name] = md5Hex(b)
	}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return fs, srv, sums
}

func TestDownloadMNIST(t *testing.T) {
	fs, srv, sums := mnistServer(t)
	root := t.TempDir()
	opt := Options{CacheOnly: true, CacheDir: root, URL: srv.URL + "/mnist/", Checksums: sums, Log: io.Discard}
	train, test, err := LoadMNISTWith(opt)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 9 || test.N != 4 || train.H != 3 {
		t.Fatalf("train %d test %d", train.N, test.N)
	}
	if got := fs.requests.Load(); got != 4 {
		t.Fatalf("%d requests, want 4", got)
	}
	if _, err := os.Stat(filepath.Join(root, "mnist", MNISTTrainImages+".gz")); err != nil {
		t.Fatal("download not in the cache:", err)
	}
	if _, _, err := LoadMNISTWith(opt); err != nil {
		t.Fatal(err)
	}
	if got := fs.requests.Load(); got != 4 {
		t.Fatalf("second load made %d more requests; want the cache to be used", got-4)
	}
	noPartFiles(t, root)
}

func TestDownloadMNISTChecksumMismatch(t *testing.T) {
	_, srv, sums := mnistServer(t)
	sums[MNISTTestImages+".gz"] = strings.Repeat("0", 32)
	root := t.TempDir()
	_, _, err := LoadMNISTWith(Options{CacheOnly: true, CacheDir: root, URL: srv.URL + "/mnist", Checksums: sums, Log: io.Discard})
	wantErr(t, err, MNISTTestImages+".gz", "does not match the expected 0000", "--data DIR")
	if _, err := os.Stat(filepath.Join(root, "mnist", MNISTTestImages+".gz")); err == nil {
		t.Fatal("a file failing its checksum was kept")
	}
	noPartFiles(t, root)
	// The published checksums apply by default, and the generated files
	// do not match them.
	_, _, err = LoadMNISTWith(Options{CacheOnly: true, CacheDir: t.TempDir(), URL: srv.URL + "/mnist", Log: io.Discard})
	wantErr(t, err, "f68b3c2dcbeaaa9fbdd348bbdeb94873")
}

func TestDownloadTruncated(t *testing.T) {
	fs, srv, sums := mnistServer(t)
	fs.shortBy = 50
	root := t.TempDir()
	_, _, err := LoadMNISTWith(Options{CacheOnly: true, CacheDir: root, URL: srv.URL + "/mnist/", Checksums: sums, Log: io.Discard})
	wantErr(t, err, MNISTTrainImages+".gz", "interrupted")
	if entries, _ := os.ReadDir(filepath.Join(root, "mnist")); len(entries) != 0 {
		t.Fatalf("partial download left %d entries", len(entries))
	}
}

func TestDownloadNotFound(t *testing.T) {
	_, srv, _ := mnistServer(t)
	_, _, err := LoadMNISTWith(Options{CacheOnly: true, CacheDir: t.TempDir(), URL: srv.URL + "/elsewhere/", Log: io.Discard})
	wantErr(t, err, "404", "/elsewhere/"+MNISTTrainImages)
}

func TestDownloadOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	root := t.TempDir()
	var log strings.Builder
	_, _, err := LoadMNISTWith(Options{CacheOnly: true, CacheDir: root, URL: url, Log: &log})
	wantErr(t, err, "download failed", "--data DIR", "$"+MNISTEnv, filepath.Join(root, "mnist"), MNISTTrainImages)
	if !strings.Contains(log.String(), "downloading") {
		t.Errorf("no progress message: %q", log.String())
	}
	_, _, err = LoadMNISTWith(Options{CacheOnly: true, CacheDir: root, NoDownload: true})
	wantErr(t, err, "downloading is disabled", "--data DIR")
	_, _, err = LoadCIFAR10With(Options{CacheOnly: true, CacheDir: root, URL: url + "/" + CIFAR10Archive, Log: io.Discard})
	wantErr(t, err, "download failed", "--data DIR", "$"+CIFAR10Env, CIFAR10Archive, CIFAR10DirName)
}

func cifarArchive(t *testing.T, extra map[string][]byte) []byte {
	files := map[string][]byte{}
	order := []string{CIFAR10DirName + "/"}
	for name, b := range cifarFiles(2, 2) {
		files[CIFAR10DirName+"/"+name] = b
	}
	for _, f := range append(append([]string(nil), CIFAR10TrainFiles...), CIFAR10TestFile) {
		order = append(order, CIFAR10DirName+"/"+f)
	}
	for name, b := range extra {
		files[name] = b
		order = append(order, name)
	}
	return tarGz(t, files, order)
}

func TestDownloadCIFAR10(t *testing.T) {
	archive := cifarArchive(t, map[string][]byte{
		"../evil.bin":                        []byte("escape"),
		CIFAR10DirName + "/readme.html":      []byte("<html>"),
		CIFAR10DirName + "/batches.meta.txt": []byte("airplane\n"),
	})
	fs := &fileServer{files: map[string][]byte{"/data/" + CIFAR10Archive: archive}}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	base := t.TempDir()
	root := filepath.Join(base, "cache")
	opt := Options{CacheOnly: true, CacheDir: root, URL: srv.URL + "/data/" + CIFAR10Archive,
		Checksums: map[string]string{CIFAR10Archive: md5Hex(archive)}, Log: io.Discard}
	train, test, err := LoadCIFAR10With(opt)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 10 || test.N != 2 {
		t.Fatalf("train %d test %d", train.N, test.N)
	}
	if _, err := os.Stat(filepath.Join(root, CIFAR10Archive)); err == nil {
		t.Error("archive kept after extraction")
	}
	for _, p := range []string{filepath.Join(base, "evil.bin"), filepath.Join(root, "evil.bin"), filepath.Join(root, CIFAR10DirName, "readme.html")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("unexpected file extracted: %s", p)
		}
	}
	if _, _, err := LoadCIFAR10With(opt); err != nil || fs.requests.Load() != 1 {
		t.Fatalf("second load: %v, %d requests", err, fs.requests.Load())
	}
	noPartFiles(t, root)
}

func TestDownloadCIFAR10Bad(t *testing.T) {
	archive := cifarArchive(t, nil)
	fs := &fileServer{files: map[string][]byte{"/" + CIFAR10Archive: archive}}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	// Default: the published MD5 of the real archive applies.
	root := t.TempDir()
	_, _, err := LoadCIFAR10With(Options{CacheOnly: true, CacheDir: root, URL: srv.URL + "/" + CIFAR10Archive, Log: io.Discard})
	wantErr(t, err, "c32a1d4ab5d03f1284b67883e8d87530", "--data DIR")
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Fatalf("failed download left %d entries in the cache", len(entries))
	}
	// An archive without the test batch.
	files := map[string][]byte{"x/data_batch_1.bin": cifarRecords(0, 1)}
	short := tarGz(t, files, []string{"x/data_batch_1.bin"})
	fs.files["/short.tar.gz"] = short
	_, _, err = LoadCIFAR10With(Options{CacheOnly: true, CacheDir: t.TempDir(), URL: srv.URL + "/short.tar.gz",
		Checksums: map[string]string{}, Log: io.Discard})
	wantErr(t, err, "archive lacks", "test_batch.bin")
	// A truncated archive that still passes (disabled) verification.
	fs.files["/cut.tar.gz"] = archive[:len(archive)/2]
	_, _, err = LoadCIFAR10With(Options{CacheOnly: true, CacheDir: t.TempDir(), URL: srv.URL + "/cut.tar.gz",
		Checksums: map[string]string{}, Log: io.Discard})
	wantErr(t, err, CIFAR10Archive, "truncated")
	noPartFiles(t, root)
}
