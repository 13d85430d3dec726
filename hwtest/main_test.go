//go:build hwtest

package hwtest

import (
	"fmt"
	"os"
	"testing"
)

// TestMain refuses to run outside the VM: the tests load kernel modules,
// plug USB gadgets and expect a machine with nothing else on its
// sequencer.
func TestMain(m *testing.M) {
	if os.Getenv("JAMBRIDGE_HWTEST") != "vm" {
		fmt.Println("hwtest: these tests run inside the VM that `make test-hw` boots, not on this machine")
		os.Exit(2)
	}
	os.Exit(m.Run())
}
