package api

import (
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/rulestats"
	"github.com/ordergate/ordergate/sdk"
)

// route declares one API route: how it is served and how it is documented.
type route struct {
	method  string
	path    string // OpenAPI form: /api/v1/orders/{id}
	summary string
	role    string // "" (public), host.RoleReseller (order-side keys), host.RoleOperator (operations staff and admins), host.RoleAdmin or host.RoleMetrics
	// query declares every query parameter the route takes; checkQuery
	// refuses any other (query.go).
	query []param
	// header documents request headers the handler reads (and checks).
	header  []param
	request any // body type, or nil
	// optionalBody: the body may be left out.
	optionalBody bool
	// consumes lists the request media types when the body is not JSON
	// alone; the handler answers any other with 415.
	consumes []string
	// responses by status; the body type, or nil for none.
	responses map[int]any
	// problems are the problem+json statuses the handler can give beyond
	// those the route's properties imply (problemStatuses).
	problems []int
	handler  gin.HandlerFunc
}

func (s *Server) routes() []route {
	orderResp := map[int]any{200: sdk.Order{}, 201: sdk.Order{}}
	one := func(v any) map[int]any { return map[int]any{200: v} }
	return []route{
		{method: "GET", path: "/healthz", summary: "Liveness: the process serves HTTP.", responses: one(Health{}), handler: s.healthz},
		{method: "GET", path: "/readyz", summary: "Readiness: a policy revision is loaded and the store answers.",
			responses: map[int]any{200: Health{}, 503: Health{}}, handler: s.readyz},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics (text exposition format): HTTP requests, decisions, holds, held orders, imports, the alert outbox, store commits. docs/metrics.md lists them.",
			role: host.RoleMetrics, responses: one(nil), handler: s.metrics},
		{method: "GET", path: "/openapi.json", summary: "This API's OpenAPI 3.1 document.", role: host.RoleReseller, responses: one(nil), handler: s.openAPI},

		{method: "POST", path: "/api/v1/orders", summary: "Import one order. 201 when created, 200 when the channel's external id (or the Idempotency-Key) was already imported.",
			role: host.RoleReseller, header: []param{idempotencyKey}, request: sdk.Order{}, responses: orderResp, problems: []int{403, 409}, handler: s.postOrder},
		{method: "POST", path: "/api/v1/orders:batch", summary: "Import up to 1,000 orders with one result per order.",
			role: host.RoleReseller, request: BatchRequest{}, responses: one(BatchResponse{}), handler: s.postBatch},
		{method: "GET", path: "/api/v1/orders", summary: "List orders, newest first, with filters and cursor pagination.", role: host.RoleReseller,
			query:     append(orderQuery(), sortParam, viewParam, orderCursorParam, limitParam(50, 500)),
			responses: one(OrderList{}), problems: []int{403}, handler: s.listOrders},
		{method: "POST", path: "/api/v1/orders:reevaluate", summary: "Re-evaluate every order the filter selects (status defaults to on_hold), e.g. after fixing a hold's cause.",
			role: host.RoleOperator, query: reevaluateQuery(), responses: one(orders.Summary{}), handler: s.reevaluateMatching},
		{method: "POST", path: "/api/v1/orders:release", summary: "Release (approve) every order on hold that the ids or the filters select (status defaults to on_hold), at most 1,000, each in its own transaction with the note on its timeline; dry_run=true reports what would change.",
			role: host.RoleOperator, query: bulkQuery(), request: BulkRequest{}, responses: one(orders.BulkResult{}), handler: s.bulkRelease},
		{method: "POST", path: "/api/v1/orders:cancel", summary: "Cancel (by hand, final) every order the ids or the filters select (status defaults to on_hold), at most 1,000, each in its own transaction with the note on its timeline; dry_run=true reports what would change.",
			role: host.RoleOperator, query: bulkQuery(), request: BulkRequest{}, responses: one(orders.BulkResult{}), handler: s.bulkCancel},
		{method: "GET", path: "/api/v1/orders/summary", summary: "The hold queue at a glance: the orders the filters select (status defaults to on_hold) counted by hold reason, channel and age (<1h, 1h-24h, 1d-7d, >7d since held), and the order held longest per reason.",
			role: host.RoleOperator, query: reevaluateQuery(), responses: one(orders.QueueSummary{}), handler: s.summarizeOrders},
		{method: "GET", path: "/api/v1/orders/{id}", summary: "One order with its timeline.", role: host.RoleReseller, responses: one(sdk.Order{}), handler: s.getOrder},
		{method: "POST", path: "/api/v1/orders/{id}/release", summary: "Approve an order on hold: it becomes open.", role: host.RoleOperator,
			request: ReleaseRequest{}, optionalBody: true, responses: one(sdk.Order{}), problems: []int{409}, handler: s.releaseOrder},
		{method: "POST", path: "/api/v1/orders/{id}/cancel", summary: "Cancel an order by hand (final).", role: host.RoleOperator,
			request: CancelRequest{}, optionalBody: true, responses: one(sdk.Order{}), problems: []int{409}, handler: s.cancelOrder},
		{method: "PATCH", path: "/api/v1/orders/{id}", summary: "Edit an order by hand: add or remove tags, set note, shipping_method or custom_fields.<key>. Kept across re-evaluations; a field edit re-evaluates the order.",
			role: host.RoleOperator, request: EditRequest{}, responses: one(sdk.Order{}), problems: []int{409}, handler: s.editOrder},
		{method: "POST", path: "/api/v1/orders/{id}/reevaluate", summary: "Run the live policies again on the order as received.", role: host.RoleOperator,
			responses: one(sdk.Order{}), problems: []int{409}, handler: s.reevaluateOrder},

		{method: "GET", path: "/api/v1/events", summary: "The change feed: order and operational events in commit order, after a cursor; an event committed late is never behind a cursor given out. A reseller key reads its channel's order events.",
			role: host.RoleReseller, query: eventQuery(), responses: one(EventList{}), problems: []int{410}, handler: s.listEvents},

		{method: "GET", path: "/api/v1/catalog", summary: "List catalog items by SKU.", role: host.RoleOperator,
			query: []param{cursorParam, limitParam(100, 1000)}, responses: one(CatalogList{}), handler: s.listCatalog},
		{method: "POST", path: "/api/v1/catalog", summary: "Create or replace catalog items (up to 10,000 per request); managed defaults to true.", role: host.RoleAdmin,
			request: host.CatalogRequest{}, responses: one(CatalogList{}), handler: s.putCatalog},
		{method: "GET", path: "/api/v1/catalog/{sku}", summary: "One catalog item (escape / in a SKU as %2F).", role: host.RoleOperator, responses: one(host.CatalogItem{}), handler: s.getCatalogItem},
		{method: "DELETE", path: "/api/v1/catalog/{sku}", summary: "Remove a catalog item.", role: host.RoleAdmin, responses: map[int]any{204: nil}, handler: s.deleteCatalogItem},

		{method: "GET", path: "/api/v1/sources", summary: "List sources.", role: host.RoleOperator, responses: one(SourceList{}), handler: s.listSources},
		{method: "POST", path: "/api/v1/sources", summary: "Create a source (a warehouse or supplier); enabled defaults to true.", role: host.RoleAdmin,
			request: host.SourceRequest{}, responses: map[int]any{201: host.Source{}}, problems: []int{409}, handler: s.createSource},
		{method: "GET", path: "/api/v1/sources/{id}", summary: "One source.", role: host.RoleOperator, responses: one(host.Source{}), handler: s.getSource},
		{method: "PATCH", path: "/api/v1/sources/{id}", summary: "Rename, enable or disable a source.", role: host.RoleAdmin,
			request: host.SourcePatch{}, responses: one(host.Source{}), handler: s.patchSource},
		{method: "DELETE", path: "/api/v1/sources/{id}", summary: "Delete a source and its stock; refused while a routing group lists it.", role: host.RoleAdmin,
			responses: map[int]any{204: nil}, problems: []int{409}, handler: s.deleteSource},

		{method: "POST", path: "/api/v1/inventory", summary: "Upload stock levels as CSV (text/csv: source_id,sku,available) or JSON ({\"levels\": [...]}); applied atomically, a bad row rejects the file. Held orders with a changed SKU are re-evaluated.",
			role: host.RoleOperator, query: []param{
				enumParam("mode", "merge: the levels listed only; replace: the other levels of the named sources become 0.", string(host.InventoryMerge), string(host.InventoryReplace)).withDefault(string(host.InventoryMerge)),
				{name: "source_id", desc: "The source of every row, when the file has no source_id column.", example: "austin", valid: host.ValidID, mustBe: "a source id: 1-64 lower-case letters, digits, '_' or '-'"},
			},
			request: InventoryJSON{}, consumes: []string{"text/csv", "application/json"}, responses: one(InventoryResponse{}), handler: s.uploadInventory},
		{method: "GET", path: "/api/v1/inventory", summary: "Stock levels of one source or of one SKU.", role: host.RoleOperator,
			query: []param{textParam("source_id", "The stock of this source (give source_id, sku or both).", "austin"), textParam("sku", "The stock of this SKU.", "V789"),
				cursorParam, limitParam(100, 1000)},
			responses: one(InventoryList{}), handler: s.listInventory},

		{method: "GET", path: "/api/v1/routing-groups", summary: "List routing groups.", role: host.RoleOperator, responses: one(RoutingGroupList{}), handler: s.listRoutingGroups},
		{method: "POST", path: "/api/v1/routing-groups", summary: "Create a routing group: ordered sources, each enabled or not, and the channels it serves.", role: host.RoleAdmin,
			request: host.RoutingGroupRequest{}, responses: map[int]any{201: host.RoutingGroup{}}, problems: []int{409}, handler: s.createRoutingGroup},
		{method: "GET", path: "/api/v1/routing-groups/{id}", summary: "One routing group.", role: host.RoleOperator, responses: one(host.RoutingGroup{}), handler: s.getRoutingGroup},
		{method: "PUT", path: "/api/v1/routing-groups/{id}", summary: "Replace a routing group.", role: host.RoleAdmin,
			request: host.RoutingGroupRequest{}, responses: one(host.RoutingGroup{}), handler: s.putRoutingGroup},
		{method: "PATCH", path: "/api/v1/routing-groups/{id}", summary: "Change a routing group: name, sources, channels or default; fields left out stay, a list given replaces the group's.", role: host.RoleAdmin,
			request: host.RoutingGroupPatch{}, responses: one(host.RoutingGroup{}), handler: s.patchRoutingGroup},
		{method: "DELETE", path: "/api/v1/routing-groups/{id}", summary: "Delete a routing group.", role: host.RoleAdmin, responses: map[int]any{204: nil}, handler: s.deleteRoutingGroup},

		{method: "GET", path: "/api/v1/channels/{id}/shipping-mappings", summary: "A channel's shipping method to shipping policy mappings.", role: host.RoleOperator,
			responses: one(host.ShippingMappings{}), handler: s.getShippingMappings},
		{method: "PUT", path: "/api/v1/channels/{id}/shipping-mappings", summary: "Replace a channel's shipping mappings.", role: host.RoleAdmin,
			request: ShippingMappingsRequest{}, responses: one(host.ShippingMappings{}), handler: s.putShippingMappings},

		{method: "GET", path: "/api/v1/settings", summary: "Duplicate protection and automatic re-evaluation settings.", role: host.RoleAdmin, responses: one(host.Settings{}), handler: s.getSettings},
		{method: "PATCH", path: "/api/v1/settings", summary: "Change settings; fields left out stay as they are.", role: host.RoleAdmin,
			request: host.SettingsPatch{}, responses: one(host.Settings{}), handler: s.patchSettings},

		{method: "GET", path: "/api/v1/alert-destinations", summary: "List alert destinations (secrets redacted).", role: host.RoleAdmin, responses: one(DestinationList{}), handler: s.listDestinations},
		{method: "POST", path: "/api/v1/alert-destinations", summary: "Create an alert destination that rules address with \"to\": webhook (signed, secret required), slack or log.", role: host.RoleAdmin,
			request: host.DestinationRequest{}, responses: map[int]any{201: host.Destination{}}, problems: []int{409}, handler: s.createDestination},
		{method: "GET", path: "/api/v1/alert-destinations/{name}", summary: "One alert destination.", role: host.RoleAdmin, responses: one(host.Destination{}), handler: s.getDestination},
		{method: "PATCH", path: "/api/v1/alert-destinations/{name}", summary: "Change an alert destination; the secret is write-only.", role: host.RoleAdmin,
			request: host.DestinationPatch{}, responses: one(host.Destination{}), handler: s.patchDestination},
		{method: "DELETE", path: "/api/v1/alert-destinations/{name}", summary: "Delete an alert destination.", role: host.RoleAdmin, responses: map[int]any{204: nil}, handler: s.deleteDestination},
		{method: "POST", path: "/api/v1/alert-destinations/{name}/test", summary: "Send a signed test alert to the destination now and say what happened (status code, error); nothing is queued.", role: host.RoleAdmin,
			responses: one(alerts.TestResult{}), handler: s.testDestination},
		{method: "GET", path: "/api/v1/alerts", summary: "Alert deliveries, newest first, with filters and cursor pagination.", role: host.RoleOperator,
			query:     append(slices.Clone(alertQuery), alertCursor, limitParam(100, 1000)),
			responses: one(AlertList{}), handler: s.listAlerts},
		{method: "POST", path: "/api/v1/alerts:redeliver", summary: "Queue again every alert the filter selects (status defaults to failed: the dead letters); answers how many were queued.", role: host.RoleOperator,
			query: redeliverQuery, responses: map[int]any{202: RedeliverResult{}}, handler: s.redeliverAlerts},
		{method: "GET", path: "/api/v1/alerts/{id}", summary: "One alert delivery.", role: host.RoleOperator, responses: one(host.Delivery{}), handler: s.getAlert},
		{method: "POST", path: "/api/v1/alerts/{id}/redeliver", summary: "Queue a failed or delivered alert again.", role: host.RoleOperator,
			responses: map[int]any{202: host.Delivery{}}, problems: []int{409}, handler: s.redeliverAlert},

		{method: "GET", path: "/api/v1/workflow", summary: "The policy revision in force, its modules and the last reload error.", role: host.RoleOperator,
			responses: one(policy.Status{}), handler: s.getWorkflow},
		{method: "GET", path: "/api/v1/status", summary: "This host: its id, version, policy revision, start and the store it serves (a DSN without its password).",
			role: host.RoleOperator, responses: one(Status{}), handler: s.status},
		{method: "GET", path: "/api/v1/hosts", summary: "The live hosts serving this store (heartbeat within the lease TTL), with the channel leases each holds.",
			role: host.RoleAdmin, responses: one(HostList{}), handler: s.listHosts},
		{method: "GET", path: "/api/v1/backup", summary: "A consistent copy of the bbolt database file, taken while the host serves (ordergate backup); 501 on PostgreSQL, backed up by the database's own tools.",
			role: host.RoleAdmin, responses: one(nil), handler: s.backup},
		{method: "POST", path: "/api/v1/workflow/reload", summary: "Load the policy directory again; a revision that fails to compile or test is refused.", role: host.RoleAdmin,
			responses: one(policy.Status{}), handler: s.reloadWorkflow},
		{method: "POST", path: "/api/v1/workflow/evaluate", summary: "Dry run: the decision the live policies make for an order; nothing is stored.", role: host.RoleOperator,
			request: EvaluateRequest{}, responses: one(EvaluateResponse{}), handler: s.evaluateWorkflow},
		{method: "POST", path: "/api/v1/workflow/backtest", summary: "Backtest a candidate revision (its files, or the id of the revision serving) on stored orders, on the facts each was decided with or on today's: a job whose result says what would change against the decisions on record. Read-only: nothing is stored or sent.",
			role: host.RoleAdmin, request: BacktestRequest{}, responses: map[int]any{202: BacktestStarted{}}, problems: []int{503}, handler: s.startBacktest},
		{method: "GET", path: "/api/v1/workflow/backtests/{id}", summary: "A backtest job: its progress and, once succeeded, its result (jobs live in the memory of the host that runs them).",
			role: host.RoleAdmin, responses: one(backtest.Job{}), handler: s.getBacktest},
		{method: "GET", path: "/api/v1/workflow/rules", summary: "Every output rule of the revision in force with its hits over the last hour, day and 30 days (this revision and all), its last hit, and whether it is idle (no hit in 30 days).",
			role: host.RoleOperator, responses: one(rulestats.Table{}), handler: s.ruleStats},
		{method: "GET", path: "/api/v1/workflow/revisions", summary: "The revisions this host loaded or refused since it started, newest first: files' digests, tests, the canary replay's summary and status.",
			role: host.RoleOperator, responses: one(RevisionList{}), handler: s.listRevisions},

		{method: "POST", path: "/api/v1/channels", summary: "Create a channel (b2b: orders posted to the API; b2c: imported by a connector, with its config and poll interval). Secret config values are never returned.", role: host.RoleAdmin,
			request: host.ChannelRequest{}, responses: map[int]any{201: ChannelView{}}, problems: []int{409, 503}, handler: s.createChannel},
		{method: "GET", path: "/api/v1/channels", summary: "List channels with the state of their imports.", role: host.RoleOperator, responses: one(ChannelList{}), handler: s.listChannels},
		{method: "GET", path: "/api/v1/channels/{id}", summary: "One channel with the state of its imports.", role: host.RoleOperator, responses: one(ChannelView{}), handler: s.getChannel},
		{method: "PATCH", path: "/api/v1/channels/{id}", summary: "Change a channel: name, connector, config (\"(secret)\" keeps a stored secret), poll_interval, enabled.", role: host.RoleAdmin,
			request: host.ChannelPatch{}, responses: one(ChannelView{}), problems: []int{503}, handler: s.patchChannel},
		{method: "DELETE", path: "/api/v1/channels/{id}", summary: "Delete a channel's configuration, cursor and runs; its orders stay.", role: host.RoleAdmin,
			responses: map[int]any{204: nil}, problems: []int{409}, handler: s.deleteChannel},
		{method: "POST", path: "/api/v1/channels/{id}/test", summary: "Run the connector's connection test with the channel's config; says what failed and why.", role: host.RoleAdmin,
			responses: one(ConnectionTest{}), problems: []int{503}, handler: s.testChannel},
		{method: "POST", path: "/api/v1/channels/{id}/import", summary: "Start an import of the channel now; 409 while one runs.", role: host.RoleOperator,
			responses: map[int]any{202: host.Run{}}, problems: []int{409, 503}, handler: s.importChannel},
		{method: "GET", path: "/api/v1/channels/{id}/runs", summary: "The channel's import runs, newest first.", role: host.RoleOperator,
			query: []param{limitParam(50, host.MaxRunsKept)}, responses: one(RunList{}), handler: s.listRuns},
		{method: "GET", path: "/api/v1/connectors", summary: "The installed connectors and the configuration each takes.", role: host.RoleAdmin,
			responses: one(ConnectorList{}), handler: s.listConnectors},

		{method: "POST", path: "/api/v1/keys", summary: "Create an API key; its secret is shown in this response only.", role: host.RoleAdmin,
			request: KeyRequest{}, responses: map[int]any{201: KeyCreated{}}, handler: s.createKey},
		{method: "GET", path: "/api/v1/keys", summary: "List API keys (never their secrets).", role: host.RoleAdmin, responses: one(KeyList{}), handler: s.listKeys},
		{method: "DELETE", path: "/api/v1/keys/{id}", summary: "Revoke an API key; it stops working at once.", role: host.RoleAdmin, responses: map[int]any{204: nil}, handler: s.deleteKey},
	}
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// ginPath turns an OpenAPI path into gin's form: {id} becomes :id and a
// literal colon (as in /orders:batch) is escaped.
func ginPath(p string) string {
	p = strings.ReplaceAll(p, ":", `\:`)
	return pathParam.ReplaceAllString(p, ":$1")
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status   string `json:"status"`
	Version  string `json:"version,omitempty"`
	Revision string `json:"revision,omitempty"`
	Error    string `json:"error,omitempty"`
}

func (s *Server) healthz(c *gin.Context) {
	respond(c, http.StatusOK, Health{Status: "ok", Version: s.cfg.Version})
}

func (s *Server) readyz(c *gin.Context) {
	if err := s.readyErr(c.Request.Context()); err != nil {
		respond(c, http.StatusServiceUnavailable, Health{Status: "unavailable", Error: err.Error()})
		return
	}
	respond(c, http.StatusOK, Health{Status: "ready", Revision: s.cfg.Engine.Revision().ID})
}

func (s *Server) metrics(c *gin.Context) {
	s.cfg.Metrics.Handler().ServeHTTP(c.Writer, c.Request)
}

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", s.openapi)
}
