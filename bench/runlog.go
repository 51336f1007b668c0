package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// RunsFile is the name of the log of finished runs, one JSON Line per
// run, in which sweeps of earlier versions recorded them. It is still read
// (LoadLines) but no longer written: finished runs are recorded one file
// each in RunsDir.
const RunsFile = "runs.jsonl"

// Line is the record of one finished run: a file of RunsDir, or a line of
// the legacy RunsFile.
type Line struct {
	ID       string        `json:"id"`
	Suite    string        `json:"suite"`
	Setting  string        `json:"setting"`
	Repeat   int           `json:"repeat"`
	Hash     string        `json:"config_hash"`
	BaseHash string        `json:"base_hash,omitempty"` // ConfigHash without the horizon
	Finished string        `json:"finished"`
	Record   *train.Record `json:"record"`
}

// ConfigHash fingerprints the parts of a run's configuration that change
// its result: not the thread count, the progress output, where the data
// comes from or where and how often checkpoints are written. A resumed
// sweep refuses to mix runs whose hashes differ.
//
// The hash is that of the configuration's JSON, with the data options
// written as they were when the first records were made, so that fields
// added to datasets.Options do not change the hashes of runs already
// recorded (a change of hash makes finished runs look like another
// configuration). For the same reason a field added to train.Config must
// be omitted from its JSON when zero (`json:",omitempty"`), zero meaning
// the behaviour from before; TestConfigHashStable pins known hashes.
func ConfigHash(c train.Config) string {
	c.Threads, c.Progress, c.Terminal, c.Data = 0, nil, false, datasets.Options{}
	c.CheckpointEvery, c.CheckpointPath = 0, ""
	js, _ := json.Marshal(c)
	if zero, err := json.Marshal(datasets.Options{}); err == nil {
		js = bytes.Replace(js, append([]byte(`"Data":`), zero...), []byte(`"Data":`+legacyDataJSON), 1)
	}
	h := sha256.Sum256(js)
	return hex.EncodeToString(h[:8])
}

// legacyDataJSON is the JSON of the zero datasets.Options when the hashes
// were first recorded.
const legacyDataJSON = `{"Dir":"","CacheDir":"","URL":"","Checksums":null,"NoDownload":false,"CacheOnly":false,"Client":null,"Log":null}`

// BaseHash is ConfigHash without the horizon (Iters): two runs with the
// same BaseHash and an absolute learning-rate schedule
// (Config.LRDecayEvery) follow the same trajectory, the shorter being a
// prefix of the longer.
func BaseHash(c train.Config) string {
	c.Iters = 0
	return ConfigHash(c)
}

// Latest keeps, for each run ID, the last line of lines (a run extended
// to a longer horizon is appended again), in order of first appearance.
func Latest(lines []Line) []Line {
	at := map[string]int{}
	var out []Line
	for _, l := range lines {
		if i, ok := at[l.ID]; ok {
			out[i] = l
			continue
		}
		at[l.ID] = len(out)
		out = append(out, l)
	}
	return out
}

// ReadRuns reads a legacy runs.jsonl file. A last line that is incomplete
// or not valid JSON (a crash in the middle of a write) is dropped and
// reported in warning; any other bad line is an error naming it. good is
// the length of the valid prefix of the file.
func ReadRuns(path string) (lines []Line, good int64, warning string, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, "", nil
	}
	if err != nil {
		return nil, 0, "", err
	}
	return parseRuns(path, data)
}

func parseRuns(path string, data []byte) (lines []Line, good int64, warning string, err error) {
	off := 0
	for n := 1; off < len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		last := end < 0
		if last {
			end = len(data) - off
		}
		raw := bytes.TrimSpace(data[off : off+end])
		if len(raw) > 0 {
			var l Line
			perr := json.Unmarshal(raw, &l)
			if perr == nil && (l.ID == "" || l.Record == nil) {
				perr = errors.New("missing id or record")
			}
			if perr != nil || last {
				// An unterminated last line may be a partial write even if
				// it happens to parse.
				if last || isFinalLine(data[off+end+1:]) {
					return lines, int64(off), fmt.Sprintf("%s:%d: ignoring an incomplete last line (an interrupted write); that run will be done again", path, n), nil
				}
				return nil, 0, "", fmt.Errorf("%s:%d: %v", path, n, perr)
			}
			lines = append(lines, l)
		}
		off += end + 1
	}
	return lines, int64(len(data)), "", nil
}

// isFinalLine reports whether rest holds nothing but white space.
func isFinalLine(rest []byte) bool { return len(bytes.TrimSpace(rest)) == 0 }
