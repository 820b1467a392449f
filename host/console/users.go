package console

import (
	"net/http"
)

// usersView is the admin page of who may sign in: user accounts and API
// keys, by name and role. Neither passwords' hashes nor keys' secrets
// or hashes are ever in it.
type usersView struct {
	Users []userRow
	Keys  []keyRow
}

type userRow struct {
	Username, Role string
	CreatedAt      string
}

type keyRow struct {
	ID, Role, ChannelID, Name string
	CreatedAt                 string
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := c.cfg.Users.List(r.Context())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	keys, err := c.cfg.Store.Keys(r.Context())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	var v usersView
	for _, u := range list {
		v.Users = append(v.Users, userRow{Username: u.Username, Role: u.Role, CreatedAt: formatTime(u.CreatedAt)})
	}
	for _, k := range keys {
		v.Keys = append(v.Keys, keyRow{ID: k.ID, Role: k.Role, ChannelID: k.ChannelID, Name: k.Name, CreatedAt: formatTime(k.CreatedAt)})
	}
	c.render(w, r, s, http.StatusOK, "users", "Users and keys", v)
}
