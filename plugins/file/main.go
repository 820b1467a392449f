// Command ordergate-connector-file is the file-drop connector: the host
// runs it to import orders from JSON, NDJSON and CSV files dropped in a
// folder. See README.md beside it.
package main

import "github.com/ordergate/ordergate/sdk/plugin"

func main() { plugin.Serve(New()) }
