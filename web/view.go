package web

import (
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string // the navigation entry to mark as current
	Wide    bool   // a reading page: signed out, it gets the wide column rather than the form's
	Focus   bool   // a page of a flow (the consent page): no navigation, even when signed in
	Notice  string // a confirmation, shown as a status message
	Error   string // a problem with the whole form
	Fields  map[string]string
	Form    map[string]string // values to put back in the form after an error
	Data    any
	Product string
	Origin  string // the public URL, for examples that name the server
	User    *gatehouse.User
	IsAdmin bool
	// ImpersonatedBy names the admin when the session is an impersonation: every page shows it.
	ImpersonatedBy string
	// CanImpersonate: the users page offers to impersonate.
	CanImpersonate bool
	CSRF           string
	// Switcher is the layout's organization switcher; nil hides it.
	Switcher *orgSwitcher
	// Path is the page's path, where the switcher comes back to.
	Path string
	// MinPassword is the password policy's minimum length, for hints and the minlength attribute.
	MinPassword int
	// Reauth, with Error, is the sign-in page that refreshes the session's sign-in and comes
	// back here (a change that needs a recent sign-in, 403 reauthentication_required).
	Reauth string
}

// FieldErrors lists the field errors in form order for the summary at the top of the page.
func (v *view) FieldErrors() []gatehouse.FieldError {
	var out []gatehouse.FieldError
	for _, name := range fieldOrder {
		if msg, ok := v.Fields[name]; ok {
			out = append(out, gatehouse.FieldError{Field: name, Message: msg})
		}
	}
	var others []string
	for name := range v.Fields {
		if !slices.Contains(fieldOrder, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	for _, name := range others {
		out = append(out, gatehouse.FieldError{Field: name, Message: v.Fields[name]})
	}
	return out
}

// fieldOrder is the order in which fields appear on the dashboard's forms.
var fieldOrder = []string{"name", "email", "avatar_url", "password", "code", "renew_code", "current_password", "new_password", "confirm_password", "scopes", "expires_in_days", "role", "redirect_uris", "uri", "slug", "permissions", "amount", "description", "domain", "org_id"}

// field describes one input for the "field" partial.
type field struct {
	Name, Label, Type, Autocomplete, Value, Error, Hint string
	MinLength                                           int
	Optional                                            bool
}

// Input builds a field of the form, filled with the value the visitor sent and its error.
func (v *view) Input(name, label, typ, autocomplete string) field {
	f := field{Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Error: v.Fields[name]}
	if typ != "password" {
		f.Value = v.Form[name]
	}
	return f
}

// NewPassword is a password input that states and enforces the policy's minimum length.
func (v *view) NewPassword(name, label string) field {
	f := v.Input(name, label, "password", "new-password")
	f.MinLength = v.MinPassword
	f.Hint = "At least " + countNoun(int64(v.MinPassword), "character") + ". A long phrase is easier to remember and harder to guess."
	return f
}

// DescribedBy names the hint and the error that a screen reader reads with the input.
func (f field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, "f-"+f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, "f-"+f.Name+"-error")
	}
	return strings.Join(ids, " ")
}

// WithHint adds a hint under the label.
func (f field) WithHint(h string) field { f.Hint = h; return f }

// AsOptional drops the required attribute.
func (f field) AsOptional() field { f.Optional = true; return f }
