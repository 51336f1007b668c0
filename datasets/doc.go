// Package datasets loads the training data sets (MNIST, CIFAR-10) compactly as
// bytes and turns them into normalised float32 batches with seeded, resumable shuffling.
//
// A Dataset keeps its images as uint8 (one byte per pixel and channel, samples
// laid out C×H×W) and its labels as uint8, so that the memory a training run
// reports is not dominated by the data; the per-channel normalisation
// (x/255 − mean)/std is applied only when a batch is produced, into a buffer
// the caller owns.
//
// Data directories are found in this order: an explicit directory (the
// --data flag), an environment variable (SPAD_MNIST_DIR, SPAD_CIFAR10_DIR),
// copies already on the machine (the GoMNIST module in the Go module cache for
// MNIST, shared/data/cifar-10-batches-bin in a parent directory for CIFAR-10),
// the user cache directory, and, as a last resort, a download into that cache.
//
// A data set is held in memory (Mode Memory) or streamed (Mode Stream,
// Options.Mode): then only its labels are in memory, each sample is read
// from its file when a batch needs it (a positioned read into the
// iterator's buffer, so the pixels live in the operating system's page
// cache, not in the process), and gzipped files are decompressed once into
// <cache>/stream. The order of the samples depends only on the seed, so
// both modes yield bitwise the same batches. Auto (cmd/train's default)
// streams: it costs well under 5 % of a training step.
//
// Any labelled sample set can be trained on through the Source interface
// (a name, size, per-sample shape and number of classes; the label of
// sample i; sample i written as float32 into the caller's buffer), which a
// Dataset implements and the iterators and train.Runner take. Floats holds
// float32 samples in memory (FromFloats, or ReadCSV / LoadCSV from a table
// with a label column); LoadImageFolder reads root/<class>/<image> folders
// of PNG, JPEG or GIF images into a Dataset.
//
// All randomness (shuffling, bootstrap resampling) comes from the
// counter-based generator of package nn/rng, so a run replays exactly and a
// batch iterator restored from a checkpoint yields the same batches.
package datasets
