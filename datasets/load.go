package datasets

import (
	"fmt"
	"strings"
)

// Names lists the data sets Load knows.
var Names = []string{"mnist", "cifar10"}

// Load loads the training and test sets of the data set called name
// ("mnist" or "cifar10", case-insensitive; "cifar-10" is accepted) as
// directed by opt.
func Load(name string, opt Options) (train, test *Dataset, err error) {
	switch strings.ToLower(name) {
	case "mnist":
		return LoadMNISTWith(opt)
	case "cifar10", "cifar-10":
		return LoadCIFAR10With(opt)
	}
	return nil, nil, fmt.Errorf("datasets: unknown data set %q (known: %s)", name, strings.Join(Names, ", "))
}
