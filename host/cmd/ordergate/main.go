// Command ordergate is the order-import host: `ordergate serve` runs it.
package main

import (
	"context"
	"os"

	"github.com/ordergate/ordergate/host/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:]))
}
