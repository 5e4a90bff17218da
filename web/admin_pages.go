package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Search has no index of its own: it walks the same cursor-paginated listing as GET /admin/users
// and keeps the accounts whose email or name contains the query. One page of results scans at
// most searchScanLimit accounts and offers to go on from where it stopped.
const (
	usersPageSize   = 50
	searchScanLimit = 2000
)

type usersData struct {
	Query      string
	Users      []*gatehouse.User
	NextCursor string
	Cursor     string
	Scanned    int
	Partial    bool // the scan stopped at its limit before the end of the list
}

func (s *server) listUsers(r *http.Request, query, cursor string) (*usersData, error) {
	ctx := r.Context()
	d := &usersData{Query: query, Cursor: cursor}
	if query == "" {
		page, err := s.Auth.ListUsers(ctx, cursor, usersPageSize)
		if err != nil {
			return nil, err
		}
		d.Users, d.NextCursor = page.Users, page.NextCursor
		return d, nil
	}
	needle := strings.ToLower(query)
	after := cursor
	for d.Scanned < searchScanLimit {
		page, err := s.Auth.ListUsers(ctx, after, gatehouse.MaxPageSize)
		if err != nil {
			return nil, err
		}
		for i, u := range page.Users {
			d.Scanned++
			if strings.Contains(u.Email, needle) || strings.Contains(strings.ToLower(u.Name), needle) {
				d.Users = append(d.Users, u)
				if len(d.Users) == usersPageSize {
					if i < len(page.Users)-1 || page.NextCursor != "" {
						d.NextCursor = u.ID
					}
					return d, nil
				}
			}
		}
		if page.NextCursor == "" {
			return d, nil
		}
		after = page.NextCursor
	}
	d.NextCursor, d.Partial = after, true
	return d, nil
}

func (s *server) usersPage(w http.ResponseWriter, r *http.Request, v *visit) {
	q := r.URL.Query()
	vw := &view{Title: "Users", Nav: "users", Form: map[string]string{"q": q.Get("q")}}
	d, err := s.listUsers(r, strings.TrimSpace(q.Get("q")), q.Get("cursor"))
	if err != nil {
		s.failForm(w, r, v, "users", s.emptyUsersView(vw, q.Get("q")), err)
		return
	}
	vw.Data = d
	s.render(w, r, v, http.StatusOK, "users", vw)
}

func (s *server) emptyUsersView(vw *view, query string) *view {
	vw.Data = &usersData{Query: query}
	return vw
}

var errSelfAdmin = &gatehouse.Error{Kind: gatehouse.KindConflict, Code: "own_account",
	Message: "You cannot disable your own account or remove your own admin role here: you would lock yourself out. Ask another admin."}

// usersAction is PATCH /admin/users/{id}, whose domain call also revokes every session of a
// disabled account. The dashboard adds one guard the API leaves to its callers: an admin cannot
// lock themselves out by a stray click.
func (s *server) usersAction(w http.ResponseWriter, r *http.Request, v *visit) {
	id := r.PostFormValue("id")
	var up gatehouse.AdminUserUpdate
	switch r.PostFormValue("action") {
	case "disable":
		f := false
		up.IsActive = &f
	case "enable":
		t := true
		up.IsActive = &t
	case "role":
		role := r.PostFormValue("role")
		up.Role = &role
	}
	var err error
	switch {
	case up.IsActive == nil && up.Role == nil:
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	case id == v.p.User.ID && ((up.IsActive != nil && !*up.IsActive) || (up.Role != nil && *up.Role != gatehouse.RoleAdmin)):
		err = errSelfAdmin
	default:
		_, err = s.Auth.UpdateUser(r.Context(), v.p, id, up)
	}
	query := strings.TrimSpace(r.PostFormValue("q"))
	cursor := r.PostFormValue("cursor")
	if err != nil {
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			err = gatehouse.Errorf(gatehouse.KindNotFound, "not_found", "That user does not exist.")
		}
		vw := &view{Title: "Users", Nav: "users", Form: map[string]string{"q": query}}
		d, lerr := s.listUsers(r, query, cursor)
		if lerr != nil {
			s.fail(w, r, v, lerr)
			return
		}
		vw.Data = d
		s.failForm(w, r, v, "users", vw, err)
		return
	}
	back := url.Values{"notice": {"user_updated"}}
	if query != "" {
		back.Set("q", query)
	}
	if cursor != "" {
		back.Set("cursor", cursor)
	}
	redirect(w, r, "/admin/users?"+back.Encode())
}
