package bolt

// The buckets of the catalog's data (catalog items, sources and stock,
// routing groups, shipping mappings, settings) and their fixed keys.
var (
	bucketCatalog         = []byte("catalog")           // sku -> item JSON
	bucketSources         = []byte("sources")           // id -> source JSON
	bucketStock           = []byte("stock")             // sku \x00 source -> available (8 bytes) + updated unix nanos (8 bytes)
	bucketStockBySource   = []byte("stock_by_source")   // source \x00 sku -> nil
	bucketRoutingGroups   = []byte("routing_groups")    // id -> group JSON
	bucketRoutingChannels = []byte("routing_channels")  // channel id -> group id
	bucketShipping        = []byte("shipping_mappings") // channel id -> mappings JSON
	bucketSettings        = []byte("settings")          // "settings" -> JSON; "default_group" -> group id
)

var (
	keySettings     = []byte("settings")
	keyDefaultGroup = []byte("default_group")
)
