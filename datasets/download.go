package datasets

import (
	"archive/tar"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// downloadFile fetches url into dst atomically: the body goes to a temporary
// file beside dst, its length is checked against the announced one and its
// MD5 against wantMD5 (when not empty), and only then is it renamed to dst.
// On failure nothing is left at dst.
func downloadFile(opt *Options, url, dst, wantMD5 string) error {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".*.part")
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	fmt.Fprintf(opt.log(), "datasets: downloading %s to %s\n", url, dst)
	resp, err := opt.client().Get(url)
	if err != nil {
		return fmt.Errorf("datasets: download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("datasets: download %s: HTTP status %s", url, resp.Status)
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if err != nil {
		return fmt.Errorf("datasets: download %s: interrupted after %d bytes: %w", url, n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("datasets: download %s: got %d bytes, server announced %d", url, n, resp.ContentLength)
	}
	if got := hex.EncodeToString(h.Sum(nil)); wantMD5 != "" && !strings.EqualFold(got, wantMD5) {
		return fmt.Errorf("datasets: download %s: MD5 %s does not match the expected %s", url, got, wantMD5)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	ok = true
	fmt.Fprintf(opt.log(), "datasets: downloaded %s (%.1f MiB)\n", dst, float64(n)/(1<<20))
	return nil
}

// extractTarGz extracts from the gzipped tar archive at src the regular
// files whose base name is in want, into dir. Entries are written under
// their base name only, so no entry can escape dir, and each file is written
// to a temporary name and renamed when complete. It returns the names
// extracted.
func extractTarGz(src, dir string, want map[string]bool) (map[string]bool, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, gzipError(src, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	tr := tar.NewReader(zr)
	got := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return got, fmt.Errorf("datasets: %s: truncated archive: %w", src, err)
			}
			return got, fmt.Errorf("datasets: %s: corrupt archive: %w", src, err)
		}
		base := path.Base(strings.ReplaceAll(hdr.Name, `\`, "/"))
		if hdr.Typeflag != tar.TypeReg || !want[base] {
			continue
		}
		if err := writeAtomic(filepath.Join(dir, base), tr); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return got, fmt.Errorf("datasets: %s: truncated archive while extracting %s: %w", src, hdr.Name, err)
			}
			return got, fmt.Errorf("datasets: %s: extracting %s: %w", src, hdr.Name, err)
		}
		got[base] = true
	}
}

// writeAtomic copies r to a temporary file beside dst and renames it to dst.
func writeAtomic(dst string, r io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.part")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
