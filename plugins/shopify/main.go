// Command ordergate-connector-shopify imports orders from a Shopify store
// through the GraphQL Admin API. See README.md beside it.
package main

import "github.com/ordergate/ordergate/sdk/plugin"

func main() { plugin.Serve(New()) }
