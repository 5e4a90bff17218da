package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// The verification pages of device authorization (RFC 8628 §3.3): the user, signed in, enters
// the code a device shows, sees what the device asks for and approves or denies it. The rules
// (which code, which client, the grant, the API key) are the AuthorizationServer's.
//
//	GET  /device[?user_code=]         the form to enter the code (prefilled from the link)
//	POST /device                      checks the code, then 303 to the approval page
//	GET  /device/approve?user_code=   what the device asks for, with Allow and Deny
//	POST /device/approve              the decision, then 303 to /device/done
//	GET  /device/done?result=         "go back to your device"
//
// Every look-up of a user code (each of the first four) counts against the address
// (device_code_ip) and the signed-in user (device_code_user) unless the code is right, so the
// short code cannot be guessed by trying.

const devicePath = "/device"

type deviceFormData struct {
	UserCode string
}

// deviceApproveData is what the approval page shows.
type deviceApproveData struct {
	UserCode                         string
	ClientName, ClientID, ClientHost string
	Kind                             string
	RequesterIP                      string
	RequestedAt                      time.Time
	Scopes                           []gatehouse.ScopeInfo
	ResourceName, ResourceURI        string
	KeyName                          string
	KeyScopes                        []string
	KeyDays                          int
	KeyExpires                       time.Time
}

// SelfRegistered: the client registered itself; nothing it says about itself was checked.
func (d deviceApproveData) SelfRegistered() bool { return d.Kind == gatehouse.ClientDynamic }

// Metadata: the client_id is the URL of its metadata document, so its host is who it is.
func (d deviceApproveData) Metadata() bool { return d.Kind == gatehouse.ClientMetadata }

// deviceForm is GET /device.
func (s *server) deviceForm(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	code := r.URL.Query().Get("user_code")
	if len(code) > 20 {
		code = ""
	}
	s.render(w, r, v, http.StatusOK, "device", &view{Title: "Connect a device", Focus: true, Data: deviceFormData{UserCode: code}})
}

// deviceLookup is POST /device: a right code leads to its approval page (post/redirect/get).
func (s *server) deviceLookup(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	code := r.PostFormValue("user_code")
	var a *gatehouse.DeviceApproval
	err := s.guessed(r.Context(), v, func() (err error) {
		a, err = s.AuthServer.DeviceRequest(r.Context(), v.p, code)
		return err
	})
	if err != nil {
		s.deviceFailed(w, r, v, code, err)
		return
	}
	redirect(w, r, devicePath+"/approve?"+url.Values{"user_code": {a.UserCode}}.Encode())
}

// deviceApprovePage is GET /device/approve: what the device asks for.
func (s *server) deviceApprovePage(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	code := r.URL.Query().Get("user_code")
	if code == "" {
		redirect(w, r, devicePath)
		return
	}
	var a *gatehouse.DeviceApproval
	err := s.guessed(r.Context(), v, func() (err error) {
		a, err = s.AuthServer.DeviceRequest(r.Context(), v.p, code)
		return err
	})
	if err != nil {
		s.deviceFailed(w, r, v, code, err)
		return
	}
	d := deviceApproveData{UserCode: a.UserCode, ClientName: a.Client.Name, ClientID: a.Client.ID, ClientHost: a.Client.Host(),
		Kind: a.Client.Kind, RequesterIP: a.RequesterIP, RequestedAt: a.RequestedAt, Scopes: a.Scopes,
		ResourceName: a.Resource.Name, ResourceURI: a.Resource.URI, KeyName: a.KeyName, KeyScopes: a.KeyScopes, KeyDays: a.KeyDays}
	if a.KeyName != "" {
		d.KeyExpires = time.Now().Add(time.Duration(a.KeyDays) * 24 * time.Hour)
	}
	s.render(w, r, v, http.StatusOK, "device_approve", &view{Title: "Allow " + a.Client.Name + "?", Focus: true, Wide: true, Data: d})
}

// deviceDecision is POST /device/approve: allow or deny, then post/redirect/get.
func (s *server) deviceDecision(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	code := r.PostFormValue("user_code")
	decision := r.PostFormValue("decision")
	if decision != "allow" && decision != "deny" {
		s.deviceFailed(w, r, v, code, gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_decision", "Choose allow or deny."))
		return
	}
	err := s.guessed(r.Context(), v, func() error {
		var err error
		if decision == "allow" {
			_, err = s.AuthServer.ApproveDevice(r.Context(), v.p, code)
		} else {
			_, err = s.AuthServer.DenyDevice(r.Context(), v.p, code)
		}
		return err
	})
	if err != nil {
		if gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized {
			// The session ended meanwhile: sign in again, then enter the code again.
			redirect(w, r, "/login?next="+url.QueryEscape(devicePath+"?"+url.Values{"user_code": {code}}.Encode()))
			return
		}
		s.deviceFailed(w, r, v, code, err)
		return
	}
	result := "approved"
	if decision == "deny" {
		result = "denied"
	}
	redirect(w, r, devicePath+"/done?result="+result)
}

// deviceDone is GET /device/done.
func (s *server) deviceDone(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	approved := r.URL.Query().Get("result") == "approved"
	s.render(w, r, v, http.StatusOK, "device_done", &view{Title: "Connect a device", Focus: true, Data: struct{ Approved bool }{approved}})
}

// guessed runs a look-up of a user code counted against the caller's address and account; a
// right code (or a failure on our side) gives the attempt back: only wrong codes are guesses.
func (s *server) guessed(ctx context.Context, v *visit, lookup func() error) error {
	lim := s.Limits.Limiter
	ip, err := lim.Take(ctx, s.Limits.DeviceCodeIP, httpkit.RateSubject(v.client.IP))
	if err != nil {
		return err
	}
	user, err := lim.Take(ctx, s.Limits.DeviceCodeUser, "user:"+v.p.User.ID)
	if err != nil {
		lim.Refund(ctx, ip)
		return err
	}
	err = lookup()
	if !errors.Is(err, gatehouse.ErrBadUserCode) {
		lim.Refund(ctx, ip)
		lim.Refund(ctx, user)
	}
	return err
}

// deviceFailed shows the code form again with what went wrong: a wrong code next to the field
// (and nothing else about it), a rate limit or another problem above the form.
func (s *server) deviceFailed(w http.ResponseWriter, r *http.Request, v *visit, code string, err error) {
	if len(code) > 20 {
		code = ""
	}
	vw := &view{Title: "Connect a device", Focus: true, Data: deviceFormData{UserCode: code}}
	if errors.Is(err, gatehouse.ErrBadUserCode) {
		vw.Fields = map[string]string{"user_code": gatehouse.ErrBadUserCode.Message}
		s.render(w, r, v, http.StatusBadRequest, "device", vw)
		return
	}
	s.failForm(w, r, v, "device", vw, err)
}
