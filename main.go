// Command ogive keeps encrypted backups in Amazon S3 Glacier Deep Archive.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/awnumar/memguard"

	"github.com/ogive-project/ogive/cmd"
)

func main() {
	// Interrupts cancel the context so transfers stop cleanly and leave
	// resumable state; a second interrupt kills the process the usual way.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Main(ctx, cmd.SystemFactory())
	stop()
	// SafeExit purges every enclave and locked buffer before exiting.
	memguard.SafeExit(code)
}
