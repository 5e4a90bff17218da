package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Session swap by magic link: an attacker asks for a sign-in email to their own address and
// sends its link to the victim ("Sign in to see the shared document"). The link's page only said
// "Sign in": one click signed the victim's browser out of their own account and into the
// attacker's, where what the victim then enters (an API key's use, a connected app, a profile)
// goes to the attacker. The page must say which account the link signs in to, and warn when the
// browser is signed in to another one; a dead link says so on GET already.
func TestWebEmailSignInLinkNamesTheAccount(t *testing.T) {
	s, mail := startMailServer(t)
	victim := s.register(t)
	attacker := s.register(t)

	b := s.webClient(t)
	expectStatus(t, b.submit("/email-sign-in", url.Values{"email": {victim.Email}}), http.StatusOK)
	code, _, _ := signInMail(t, mail, victim.Email)
	expectRedirect(t, b.submit("/email-sign-in/code", url.Values{"email": {victim.Email}, "code": {code}}), "/account")

	expectStatus(t, s.emailStart(t, attacker.Email), http.StatusAccepted)
	_, link, token := signInMail(t, mail, attacker.Email)
	path := strings.TrimPrefix(link, testAppURL)

	// Signed out (a mail scanner, or the owner on another device): the address, and the button.
	expectPage(t, s.webClient(t).get(path), http.StatusOK, attacker.Email, `action="/email-sign-in/link"`)
	// Signed in to another account: the page names both.
	expectPage(t, b.get(path), http.StatusOK, attacker.Email, "signed in as <strong>"+victim.Email, `action="/email-sign-in/link"`)

	// Looking did not spend the link; a dead one says so without a form.
	expectStatus(t, s.emailLink(t, token), http.StatusOK)
	r := s.webClient(t).get(path)
	expectPage(t, r, http.StatusUnauthorized, "This link does not work")
	if strings.Contains(string(r.Body), `action="/email-sign-in/link"`) {
		t.Fatal("a dead link's page still has the sign-in form")
	}
}
