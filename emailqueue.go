package gatehouse

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// A queued message is rendered at once, inside the transaction that creates its token, so that the
// email exists if and only if the token does. Its link, though, is rendered around a random marker
// instead of the token: the token itself is sealed (SecretSealer) beside the message and put in
// place of the marker only at send time, and the sealed copy is erased once the message is sent or
// given up. The database never holds a usable link in plain text.

// markerBytes makes the marker unguessable, so that nothing a user typed can contain it.
const markerBytes = 16

// queueEmail renders an email of kind for data.Email and writes it to the outbox in tx. token,
// when not empty, is the secret the email's link carries; data.Link is the link with "{token}"
// where it goes, and data.ExpiresIn how long it works. AppURL is filled in here.
func (s *AuthService) queueEmail(ctx context.Context, tx StoreTx, kind EmailKind, data EmailData, token string, now time.Time) error {
	return s.queueEmailSecrets(ctx, tx, kind, data, emailSecrets{Token: token}, now)
}

// emailSecrets are the secrets an email carries: Token in its link, and Code (a one-time code,
// in data.Code) for the kinds that show one. Each is rendered as a marker and sealed.
type emailSecrets struct {
	Token, Code string
}

// queueEmailSecrets is queueEmail for an email that may carry a code beside its link.
func (s *AuthService) queueEmailSecrets(ctx context.Context, tx StoreTx, kind EmailKind, data EmailData, secrets emailSecrets, now time.Time) error {
	e := s.email
	if !kind.HasLink() {
		// Notices follow changes that whoever holds the account can repeat at will (a password
		// changed back and forth); an address must not be flooded with them. Past the per-address
		// limit the change still happens, without its notice.
		ok, err := s.limiter.TakeInTx(ctx, tx, s.rules.NoticeEmail, hashedSubject(data.Email))
		if err != nil || !ok {
			if err == nil {
				s.log.InfoContext(ctx, "security notice not sent: the per-address limit is reached", "kind", kind)
			}
			return err
		}
	}
	id := NewID()
	to, linkTTL := data.Email, data.ExpiresIn
	data.AppURL = e.cfg.AppURL
	// pairs are the markers and the secrets that replace them at send time.
	var pairs []string
	if secrets.Token != "" {
		marker := newMarker()
		data.Link = strings.Replace(data.Link, "{token}", marker, 1)
		pairs = append(pairs, marker, secrets.Token)
	}
	if secrets.Code != "" {
		marker := newMarker()
		data.Code = marker
		pairs = append(pairs, marker, secrets.Code)
	}
	content, err := e.renderer.Render(kind, data)
	if err != nil {
		return err
	}
	m := &OutboxMessage{
		ID:            id,
		Kind:          kind,
		To:            to,
		Subject:       content.Subject,
		Text:          content.Text,
		HTML:          content.HTML,
		NextAttemptAt: now,
		CreatedAt:     now,
	}
	if len(pairs) > 0 {
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(content.Text, pairs[i]) {
				return errors.New("email template " + string(kind) + " lost its link or code")
			}
			// A subject is not sealed: a secret there would be stored in plain text.
			if strings.Contains(content.Subject, pairs[i]) {
				return errors.New("email template " + string(kind) + " shows a secret in its subject")
			}
		}
		sealed, err := e.sealer.Seal(sealPayload(pairs...), []byte(id))
		if err != nil {
			return err
		}
		expires := now.Add(linkTTL)
		m.Secret, m.KeyID, m.ExpiresAt = sealed, e.sealer.KeyID(), &expires
	}
	return tx.EnqueueEmail(ctx, m)
}

func newMarker() string { return "gh" + hex.EncodeToString(RandomBytes(markerBytes)) }

// sealPayload is what a message's sealed secret holds: markers, each followed by the secret that
// replaces it, one per line (a link's token, and a code for the kinds that carry one).
func sealPayload(pairs ...string) []byte { return []byte(strings.Join(pairs, "\n")) }

// openPayload reads a sealed payload back into marker, secret pairs.
func openPayload(b []byte) (pairs []string, ok bool) {
	pairs = strings.Split(string(b), "\n")
	if len(pairs) == 0 || len(pairs)%2 != 0 {
		return nil, false
	}
	for _, p := range pairs {
		if p == "" {
			return nil, false
		}
	}
	return pairs, true
}

// newEmailToken creates and stores a token of purpose for u's current address.
func (s *AuthService) newEmailToken(ctx context.Context, tx StoreTx, u *User, purpose EmailPurpose, ttl time.Duration,
	resend bool, now time.Time) (string, error) {
	token := RandomToken(emailTokenBytes)
	err := tx.CreateEmailToken(ctx, &EmailToken{
		Hash:      HashToken(token),
		Purpose:   purpose,
		UserID:    u.ID,
		Email:     u.Email,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
		Resend:    resend,
	})
	return token, err
}

// validEmailTokenShape rejects what cannot be a token before it reaches the database.
func validEmailTokenShape(token string) bool {
	return token != "" && len(token) <= maxEmailTokenLength
}
