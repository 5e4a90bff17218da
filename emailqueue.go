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
	var marker string
	if token != "" {
		marker = "gh" + hex.EncodeToString(RandomBytes(markerBytes))
		data.Link = strings.Replace(data.Link, "{token}", marker, 1)
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
	if token != "" {
		if !strings.Contains(content.Text, marker) {
			return errors.New("email template " + string(kind) + " lost the link")
		}
		sealed, err := e.sealer.Seal(sealPayload(marker, token), []byte(id))
		if err != nil {
			return err
		}
		expires := now.Add(linkTTL)
		m.Secret, m.KeyID, m.ExpiresAt = sealed, e.sealer.KeyID(), &expires
	}
	return tx.EnqueueEmail(ctx, m)
}

// sealPayload is what a message's sealed secret holds: the marker and the token that replaces it.
func sealPayload(marker, token string) []byte { return []byte(marker + "\n" + token) }

func openPayload(b []byte) (marker, token string, ok bool) {
	marker, token, ok = strings.Cut(string(b), "\n")
	return marker, token, ok && marker != "" && token != ""
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
