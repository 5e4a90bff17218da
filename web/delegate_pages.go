package web

import (
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// The delegation page: a signed-in user lets an agent (an OAuth client registered for token
// exchange) act for them on one resource, with the scopes shown. The agent then exchanges the
// user's token with its own as actor_token (RFC 8693); Gatehouse refuses an agent the user never
// allowed. The page is the consent page's kind: the same decision=allow|deny buttons, a CSRF
// token, never framed, and the request checked again from scratch on the post. There is no
// redirect: an agent has no page to go back to, so the user lands on Connected apps, where the
// delegation is listed and can be withdrawn.

// delegatePath is the delegation page.
const delegatePath = "/oauth2/delegate"

// delegateParams are the request's parameters; the form carries them back.
var delegateParams = []string{"client_id", "resource", "scope"}

func readDelegationRequest(q url.Values) gatehouse.DelegationRequest {
	_, scope := q["scope"]
	return gatehouse.DelegationRequest{ClientID: q.Get("client_id"), Resource: q.Get("resource"), Scope: q.Get("scope"), ScopeOmitted: !scope}
}

type delegateData struct {
	ClientName, ClientID, ClientHost string
	Scopes                           []gatehouse.ScopeInfo
	ResourceName, ResourceURI        string
	Existing                         []string // the scopes already allowed
	Hidden                           []hiddenField
}

// delegate is GET /oauth2/delegate.
func (s *server) delegate(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	q := r.URL.Query()
	if s.duplicated(w, r, v, q) {
		return
	}
	d, ok := s.checkDelegation(w, r, v, q)
	if !ok {
		return
	}
	data := delegateData{ClientName: d.Client.Name, ClientID: d.Client.ID, ClientHost: d.Client.Host(), Scopes: d.Scopes,
		ResourceName: d.Resource.Name, ResourceURI: d.Resource.URI}
	if d.Existing != nil {
		data.Existing = d.Existing.Scopes
	}
	for _, name := range delegateParams {
		if vals, ok := q[name]; ok {
			data.Hidden = append(data.Hidden, hiddenField{Name: name, Value: vals[0]})
		}
	}
	s.render(w, r, v, http.StatusOK, "delegate", &view{Title: "Let " + d.Client.Name + " act for you?", Focus: true, Wide: true, Data: data})
}

// delegateDecision is POST /oauth2/delegate: the page wrapper has checked CSRF and the session.
func (s *server) delegateDecision(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	q := url.Values{}
	for _, name := range delegateParams {
		if vals, ok := r.PostForm[name]; ok {
			q[name] = vals
		}
	}
	if s.duplicated(w, r, v, q) {
		return
	}
	d, ok := s.checkDelegation(w, r, v, q)
	if !ok {
		return
	}
	switch r.PostFormValue("decision") {
	case "allow":
		if _, err := s.AuthServer.AllowDelegation(r.Context(), v.p, d); err != nil {
			if gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized {
				redirect(w, r, "/login?next="+url.QueryEscape(delegatePath+"?"+q.Encode()))
				return
			}
			s.fail(w, r, v, err)
			return
		}
		redirect(w, r, "/account/apps?notice=delegation_allowed")
	case "deny":
		s.AuthServer.DenyDelegation(r.Context(), v.p, d)
		redirect(w, r, "/account/apps?notice=delegation_denied")
	default:
		s.authorizeErrorPage(w, r, v, http.StatusBadRequest, "Choose allow or deny on the page.")
	}
}

// duplicated answers a request that repeats a parameter, which could show one value and record
// another.
func (s *server) duplicated(w http.ResponseWriter, r *http.Request, v *visit, q url.Values) bool {
	for _, name := range delegateParams {
		if len(q[name]) > 1 {
			s.authorizeErrorPage(w, r, v, http.StatusBadRequest, "The parameter "+name+" appears more than once.")
			return true
		}
	}
	return false
}

// checkDelegation runs the domain's checks; a refused request gets an error page without a form.
func (s *server) checkDelegation(w http.ResponseWriter, r *http.Request, v *visit, q url.Values) (*gatehouse.Delegation, bool) {
	d, err := s.AuthServer.CheckDelegation(r.Context(), v.p, readDelegationRequest(q))
	if err != nil {
		if e, ok := err.(*gatehouse.Error); ok && gatehouse.IsOAuthErrorCode(e.Code) {
			s.authorizeErrorPage(w, r, v, http.StatusBadRequest, e.Message)
			return nil, false
		}
		s.fail(w, r, v, err)
		return nil, false
	}
	return d, true
}
