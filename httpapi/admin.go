package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse"
)

func (a *api) handleListUsers() http.Handler {
	type response struct {
		Items      []userJSON `json:"items"`
		NextCursor *string    `json:"next_cursor"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 50
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > gatehouse.MaxPageSize {
				writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "limit", Message: "limit must be a whole number from 1 to 200."}))
				return
			}
			limit = n
		}
		page, err := a.Auth.ListUsers(r.Context(), q.Get("cursor"), limit)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := response{Items: make([]userJSON, 0, len(page.Users))}
		for _, u := range page.Users {
			out.Items = append(out.Items, userView(u))
		}
		if page.NextCursor != "" {
			out.NextCursor = &page.NextCursor
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleUpdateUser() http.Handler {
	type request struct {
		Role     *string `json:"role"`
		IsActive *bool   `json:"is_active"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		u, err := a.Auth.UpdateUser(r.Context(), principalFrom(r.Context()), r.PathValue("id"), gatehouse.AdminUserUpdate{Role: in.Role, IsActive: in.IsActive})
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, userView(u))
	})
}

// adminOrgJSON is an organization in the admins' list.
type adminOrgJSON struct {
	orgJSON
	Members int `json:"members"`
}

// handleAdminListOrgs lists every organization, newest first (at most 500), with member counts.
func (a *api) handleAdminListOrgs() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		list, err := orgs.AdminListOrgs(r.Context())
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]adminOrgJSON, 0, len(list))
		for _, o := range list {
			out = append(out, adminOrgJSON{orgJSON: orgView(&o.Org, "", nil), Members: o.Members})
		}
		respond(w, http.StatusOK, out)
	})
}
