package host

import "context"

// The actor of a use case is the API key it is done with, carried in the
// context: the API puts the caller's key there, and the services check
// it. Work the host does by itself runs as System.

type actorKey struct{}

// System is the actor of the host's own work (a timer, an inventory
// re-evaluation) and of the command line working on a stopped host's
// data: it may do everything.
var System = &APIKey{ID: "system", Role: RoleAdmin, Name: "the host itself"}

// WithActor returns ctx carrying the actor k.
func WithActor(ctx context.Context, k *APIKey) context.Context {
	return context.WithValue(ctx, actorKey{}, k)
}

// ActorOf returns the actor ctx carries, or nil.
func ActorOf(ctx context.Context) *APIKey {
	k, _ := ctx.Value(actorKey{}).(*APIKey)
	return k
}

// Authorize returns the actor of ctx when it may do what a route of role
// may (APIKey.MayUse): EUNAUTHORIZED without one, EFORBIDDEN when its role
// may not.
func Authorize(ctx context.Context, role string) (*APIKey, error) {
	k := ActorOf(ctx)
	switch {
	case k == nil:
		return nil, Errorf(EUNAUTHORIZED, "no API key: the request is not authenticated")
	case !k.MayUse(role):
		needs := "an admin key"
		if role == RoleOperator {
			needs = "an operator or admin key"
		}
		return nil, Errorf(EFORBIDDEN, "a %s key may not do this; it needs %s", k.Role, needs)
	}
	return k, nil
}
