package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// explain turns a domain error into the status and the words a person should see. Internal
// errors are logged with their cause and shown only as "something went wrong".
func (s *server) explain(r *http.Request, w http.ResponseWriter, err error) (int, string, *gatehouse.Error) {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || ge.Kind == gatehouse.KindInternal {
		s.Log.ErrorContext(r.Context(), "dashboard: internal error", "path", r.URL.Path, "error", err)
		return http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment.", nil
	}
	if ge.Err != nil && (ge.Kind == gatehouse.KindUnavailable || ge.Kind == gatehouse.KindBadGateway) {
		s.Log.WarnContext(r.Context(), "dashboard: dependency failed", "path", r.URL.Path, "error", ge.Err)
	}
	msg := ge.Message
	if ge.RetryAfter > 0 {
		httpkit.SetRetryAfter(w.Header(), ge.RetryAfter)
		if ge.Kind == gatehouse.KindRateLimited {
			if msg == gatehouse.ErrRateLimited(0).Message {
				msg = "Too many attempts."
			}
			msg += " Try again " + inAbout(ge.RetryAfter) + "."
		}
	}
	return httpkit.StatusOf(ge.Kind), msg, ge
}

// fail shows an error on a page of its own.
func (s *server) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	status, msg, _ := s.explain(r, w, err)
	title := http.StatusText(status)
	switch status {
	case http.StatusForbidden:
		title = "Not allowed"
	case http.StatusServiceUnavailable:
		title = "Temporarily unavailable"
	case http.StatusTooManyRequests:
		title = "Slow down"
	}
	s.errorPage(w, r, v, status, title, msg)
}

// failForm shows the form of page name again, with each field error next to its field and any
// other problem above the form.
func (s *server) failForm(w http.ResponseWriter, r *http.Request, v *visit, name string, vw *view, err error) {
	status, msg, ge := s.explain(r, w, err)
	if ge != nil && len(ge.Fields) > 0 {
		if vw.Fields == nil {
			vw.Fields = map[string]string{}
		}
		for _, f := range ge.Fields {
			vw.Fields[f.Field] = f.Message
		}
	} else {
		vw.Error = msg
	}
	if errors.Is(err, gatehouse.ErrReauthenticationRequired) {
		vw.Error = "This change needs a recent sign-in: you signed in more than 10 minutes ago. Sign in again (with your second factor, if you have one), then retry."
		vw.Reauth = "/login?prompt=login&next=" + url.QueryEscape(r.URL.Path)
	}
	s.render(w, r, v, status, name, vw)
}

// inAbout says how long to wait, in words.
func inAbout(d time.Duration) string {
	switch {
	case d <= time.Minute:
		return "in a minute"
	case d < time.Hour:
		return "in about " + countNoun(int64((d+time.Minute-1)/time.Minute), "minute")
	default:
		return "in about " + countNoun(int64((d+time.Hour-1)/time.Hour), "hour")
	}
}

// invalid is a validation failure of the dashboard's own form fields (a confirmation that does
// not match), shaped like the domain's so it renders the same way.
func invalid(field, message string) error {
	return gatehouse.Invalid(gatehouse.FieldError{Field: field, Message: message})
}
