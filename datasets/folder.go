package datasets

import (
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // GIF decoder for LoadImageFolder
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FolderOptions says how LoadImageFolder reads a folder of images.
type FolderOptions struct {
	// Name names the data set (default: the folder's base name).
	Name string
	// Channels is 1 (grayscale) or 3 (RGB); 0 takes 1 when the first image
	// is a grayscale image (8 or 16 bits) and 3 otherwise. Images of the
	// other kind are converted.
	Channels int
	// ClassNames fixes the classes and their order, for instance to read a
	// test folder with the training folder's classes (its ClassNames): a
	// subfolder not listed is an error, a listed class may have no
	// subfolder. Empty: the subfolders' names, sorted.
	ClassNames []string
}

// imageExts are the file name extensions LoadImageFolder reads.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif"}

// LoadImageFolder reads a folder of class folders, root/<class>/<image>,
// into a Dataset in memory: one class per subfolder (classes numbered in
// the sorted order of their names, kept in ClassNames), every .png, .jpg,
// .jpeg or .gif file of a class folder one sample (in name order; other
// files, hidden files and deeper folders are ignored). The images must all
// have the size of the first one (they are not resized: an image of
// another size is an error naming it). Pixels are kept as bytes, 16-bit
// images reduced to 8 bits, transparency dropped; Mean and Std are left
// empty (values x/255): set them from ChannelStats of the training set,
// and give the test set the same ones.
func LoadImageFolder(root string, opt FolderOptions) (*Dataset, error) {
	if opt.Channels != 0 && opt.Channels != 1 && opt.Channels != 3 {
		return nil, fmt.Errorf("datasets: %s: %d channels, want 1 (grayscale), 3 (RGB) or 0 (as the first image)", root, opt.Channels)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	var found []string
	for _, e := range entries {
		if isDir(root, e) && !strings.HasPrefix(e.Name(), ".") {
			found = append(found, e.Name())
		}
	}
	classes := opt.ClassNames
	if len(classes) == 0 {
		classes = found // ReadDir sorts by name
		if len(classes) == 0 {
			return nil, fmt.Errorf("datasets: %s: no class folders (want root/<class>/<image>)", root)
		}
	} else {
		for _, f := range found {
			if !slices.Contains(classes, f) {
				return nil, fmt.Errorf("datasets: %s: folder %q is not one of the %d classes given (%s)", root, f, len(classes), strings.Join(classes, ", "))
			}
		}
	}
	if len(classes) > 256 {
		return nil, fmt.Errorf("datasets: %s: %d classes, at most 256", root, len(classes))
	}
	name := opt.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(root))
	}
	d := &Dataset{Name: name, C: opt.Channels, Classes: len(classes), ClassNames: slices.Clone(classes)}
	var firstPath string
	for label, class := range classes {
		if !slices.Contains(found, class) {
			continue // a class given, with no folder
		}
		dir := filepath.Join(root, class)
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		images := 0
		for _, f := range files {
			ext := strings.ToLower(filepath.Ext(f.Name()))
			if isDir(dir, f) || strings.HasPrefix(f.Name(), ".") || !slices.Contains(imageExts, ext) {
				continue
			}
			path := filepath.Join(dir, f.Name())
			img, err := decodeImage(path)
			if err != nil {
				return nil, err
			}
			b := img.Bounds()
			if firstPath == "" {
				firstPath, d.H, d.W = path, b.Dy(), b.Dx()
				if d.H == 0 || d.W == 0 {
					return nil, fmt.Errorf("datasets: %s: empty image (%d×%d)", path, d.W, d.H)
				}
				if d.C == 0 {
					d.C = 3
					if m := img.ColorModel(); m == color.GrayModel || m == color.Gray16Model {
						d.C = 1
					}
				}
			} else if b.Dx() != d.W || b.Dy() != d.H {
				return nil, fmt.Errorf("datasets: %s is %d×%d but %s, the first image, is %d×%d (the images are not resized: give them one size)",
					path, b.Dx(), b.Dy(), firstPath, d.W, d.H)
			}
			d.Pixels = appendPixels(d.Pixels, img, d.C)
			d.Labels = append(d.Labels, uint8(label))
			images++
		}
		if images == 0 && len(opt.ClassNames) == 0 {
			return nil, fmt.Errorf("datasets: %s: no .png, .jpg or .gif images in class folder %q (want root/<class>/<image>)", root, class)
		}
	}
	if firstPath == "" {
		return nil, fmt.Errorf("datasets: %s: no images in the class folders", root)
	}
	d.N = len(d.Labels)
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// isDir reports whether the entry e of dir is a directory, following a
// symbolic link.
func isDir(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.IsDir()
}

// decodeImage decodes the image file at path.
func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	return img, nil
}

// appendPixels appends img's pixels to pix as c planes (gray, or red,
// green and blue) of rows.
func appendPixels(pix []uint8, img image.Image, c int) []uint8 {
	b := img.Bounds()
	plane := b.Dx() * b.Dy()
	base := len(pix)
	pix = slices.Grow(pix, c*plane)[:base+c*plane]
	k := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			px := img.At(x, y)
			if c == 1 {
				pix[base+k] = color.GrayModel.Convert(px).(color.Gray).Y
			} else {
				n := color.NRGBAModel.Convert(px).(color.NRGBA)
				pix[base+k], pix[base+plane+k], pix[base+2*plane+k] = n.R, n.G, n.B
			}
			k++
		}
	}
	return pix
}
