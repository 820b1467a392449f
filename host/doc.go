// Package host holds the domain of the ordergate daemon: the types the host
// keeps beside the canonical order (channels, API keys, order records), the
// interfaces its parts are served through, and the error type every part
// returns. Each outside dependency lives in a sub-package of its own:
// host/bolt (the bbolt store), host/policy (the OPA engine), host/api (the
// gin HTTP API); host/orders ties them together into the import workflow.
package host
