package datasets

import (
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writeImage encodes img at path in the format of its extension.
func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch filepath.Ext(path) {
	case ".png":
		err = png.Encode(f, img)
	case ".jpg":
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 100})
	case ".gif":
		err = gif.Encode(f, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// rgbImage is a w×h image whose pixel (x, y) is (k+x, k+10y, k+50).
func rgbImage(w, h, k int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(k + x), uint8(k + 10*y), uint8(k + 50), 255})
		}
	}
	return img
}

func grayImage(w, h, k int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(k + 3*i)
	}
	return img
}

func TestLoadImageFolder(t *testing.T) {
	root := t.TempDir()
	writeImage(t, filepath.Join(root, "cat", "b.png"), rgbImage(4, 3, 20))
	writeImage(t, filepath.Join(root, "cat", "a.png"), rgbImage(4, 3, 10))
	writeImage(t, filepath.Join(root, "ant", "x.png"), rgbImage(4, 3, 90))
	writeImage(t, filepath.Join(root, "ant", "y.jpg"), rgbImage(4, 3, 60))
	writeImage(t, filepath.Join(root, "ant", "z.gif"), grayImage(4, 3, 5))
	os.WriteFile(filepath.Join(root, "ant", "notes.txt"), []byte("ignored"), 0o644)
	os.WriteFile(filepath.Join(root, "README"), []byte("ignored"), 0o644)
	os.MkdirAll(filepath.Join(root, "cat", "deeper"), 0o755)
	d, err := LoadImageFolder(root, FolderOptions{Name: "pets"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "pets" || d.N != 5 || d.C != 3 || d.H != 3 || d.W != 4 || d.Classes != 2 ||
		!slices.Equal(d.ClassNames, []string{"ant", "cat"}) || !slices.Equal(d.Labels, []uint8{0, 0, 0, 1, 1}) {
		t.Fatalf("%+v", d.Info())
	}
	// Samples in class then name order; PNG is lossless: planes of red,
	// green, blue.
	a := d.Sample(3)
	if a[0] != 10 || a[1] != 11 || a[4] != 10 || a[12+4] != 20 || a[24] != 60 {
		t.Fatalf("cat/a.png read as %v", a)
	}
	if b := d.Sample(4); b[0] != 20 {
		t.Fatalf("cat/b.png read as %v", b[:4])
	}
	// JPEG at quality 100 stays within a few levels.
	if y := d.Sample(1); absDiff(y[0], 60) > 4 || absDiff(y[12+8], 80) > 4 {
		t.Fatalf("ant/y.jpg read as %v", y)
	}
	// A GIF of gray levels gives three equal planes (up to the palette).
	if g := d.Sample(2); g[0] != g[12] || g[0] != g[24] || absDiff(g[5], 20) > 8 {
		t.Fatalf("ant/z.gif read as %v", g)
	}
	mean, std := d.ChannelStats()
	if len(mean) != 3 || !(std[0] > 0) {
		t.Fatalf("stats %v %v", mean, std)
	}

	// Grayscale: chosen by the first image, or asked for.
	gray := t.TempDir()
	writeImage(t, filepath.Join(gray, "0", "a.png"), grayImage(5, 2, 1))
	writeImage(t, filepath.Join(gray, "1", "a.png"), rgbImage(5, 2, 30))
	g, err := LoadImageFolder(gray, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g.C != 1 || g.Name != filepath.Base(gray) || !slices.Equal(g.Sample(0), grayImage(5, 2, 1).Pix) {
		t.Fatalf("gray folder: %+v %v", g.Info(), g.Sample(0))
	}
	want := color.GrayModel.Convert(color.NRGBA{30, 30, 80, 255}).(color.Gray).Y
	if g.Sample(1)[0] != want {
		t.Fatalf("RGB image in a gray set: %d, want %d", g.Sample(1)[0], want)
	}
	rgb, err := LoadImageFolder(gray, FolderOptions{Channels: 3})
	if err != nil || rgb.C != 3 || rgb.Sample(0)[10] != 1 {
		t.Fatalf("Channels 3: %v %+v", err, rgb)
	}

	// A test folder read with the training classes: a class may be absent.
	test := t.TempDir()
	writeImage(t, filepath.Join(test, "cat", "q.png"), rgbImage(4, 3, 0))
	te, err := LoadImageFolder(test, FolderOptions{ClassNames: d.ClassNames})
	if err != nil || te.N != 1 || te.Labels[0] != 1 || te.Classes != 2 {
		t.Fatalf("test folder: %v %+v", err, te)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestLoadImageFolderErrors(t *testing.T) {
	mk := func(files map[string]image.Image) string {
		root := t.TempDir()
		for p, img := range files {
			writeImage(t, filepath.Join(root, p), img)
		}
		return root
	}
	root := mk(map[string]image.Image{"a/1.png": rgbImage(4, 3, 0), "b/2.png": rgbImage(3, 4, 0)})
	_, err := LoadImageFolder(root, FolderOptions{})
	wantErr(t, err, filepath.Join(root, "b", "2.png")+" is 3×4 but "+filepath.Join(root, "a", "1.png")+", the first image, is 4×3")

	_, err = LoadImageFolder(t.TempDir(), FolderOptions{})
	wantErr(t, err, "no class folders (want root/<class>/<image>)")

	root = mk(map[string]image.Image{"a/1.png": rgbImage(2, 2, 0)})
	os.MkdirAll(filepath.Join(root, "empty"), 0o755)
	_, err = LoadImageFolder(root, FolderOptions{})
	wantErr(t, err, `no .png, .jpg or .gif images in class folder "empty"`)

	_, err = LoadImageFolder(root, FolderOptions{ClassNames: []string{"a", "b"}})
	wantErr(t, err, `folder "empty" is not one of the 2 classes given (a, b)`)

	_, err = LoadImageFolder(root, FolderOptions{Channels: 2})
	wantErr(t, err, "2 channels, want 1 (grayscale), 3 (RGB) or 0")

	bad := filepath.Join(root, "a", "broken.png")
	os.WriteFile(bad, []byte("not a png"), 0o644)
	_, err = LoadImageFolder(root, FolderOptions{ClassNames: []string{"a", "empty"}})
	wantErr(t, err, bad)

	_, err = LoadImageFolder(filepath.Join(root, "missing"), FolderOptions{})
	wantErr(t, err, "missing")
}
